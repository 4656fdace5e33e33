//! atpilot's application layer. Each function's handler is an ordinary async
//! function over ports (state, queues, Autotask, classifier), so the Lambda
//! binaries only wire adapters, and the local runner and the tests call the
//! same code.

pub mod alerts;
pub mod approval;
pub mod approval_status;
pub mod classifier;
pub mod classify;
pub mod config_check;
pub mod dashboard;
pub mod deps;
pub mod intake;
pub mod llm_classifier;
pub mod messages;
pub mod model_classifier;
pub mod notify;
pub mod ports;
pub mod rest;
pub mod setup;
pub mod time_entry;

pub use deps::Deps;
pub use ports::{Autotask, Classifier, PortError, TicketClassifier};
