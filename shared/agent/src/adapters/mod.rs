//! Adapters behind the ports: Autotask over its REST API, the runbooks over
//! Microsoft Graph, and the notifier (the notifier port itself, the local
//! outbox, and the MIME message SES sends).

pub mod autotask_rest;
pub mod graph;
pub mod notify;
