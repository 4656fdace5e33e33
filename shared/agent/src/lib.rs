//! atpilot's application layer. Each function's handler is an ordinary async
//! function over ports (state, queues, Autotask, classifier), so the Lambda
//! binaries only wire adapters, and the local runner and the tests call the
//! same code.
//!
//! Rooms: [`handlers`] (one per function, and the shared resolution step),
//! [`adapters`] (Autotask REST, notifications), [`classifiers`], [`html`]
//! (escaping, the dashboard and approval pages), and at the top the ports,
//! the wiring ([`Deps`]), the queue messages, the handlers' error, alerts,
//! `atpilot setup` and its configuration check.

pub mod adapters;
pub(crate) mod alerts;
pub mod classifiers;
pub mod config_check;
pub mod deps;
pub mod error;
pub mod handlers;
pub mod html;
pub mod kb;
pub mod messages;
pub mod ports;
pub mod setup;
pub mod status_update;

pub use deps::Deps;
pub use error::{ErrorKind, HandlerError};
pub use ports::{Autotask, Classifier, PortError, TicketClassifier};
