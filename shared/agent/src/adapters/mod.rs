//! Adapters behind the ports: Autotask over its REST API, the runbooks over
//! Microsoft Graph, Google Workspace and signed webhooks (and `runbooks`, which routes each
//! runbook to its provider), and the notifier (the notifier port itself, the
//! local outbox, and the MIME message SES sends).

pub mod autotask_rest;
mod directory;
pub mod google;
pub mod graph;
pub mod kb;
pub mod notify;
pub mod runbooks;
pub mod webhook;
