//! Adapters behind the ports: Autotask over its REST API, and the notifier
//! (the notifier port itself, the local outbox, and the MIME message SES sends).

pub mod autotask_rest;
pub mod notify;
