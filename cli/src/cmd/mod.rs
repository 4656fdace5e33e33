//! One module per command group.
pub mod audit;
pub mod config;
pub mod dashboard;
pub mod dev;
pub mod feeder;
pub mod model;
pub mod phase;
pub mod report;
pub mod sandbox;
pub mod setup;
pub mod tenant;
