//! Proactive customer status updates on long-running tickets: a scheduled
//! [`scan`] finds open tickets the customer has heard nothing about for a
//! while and proposes one update each, drafted from the ticket's recent work
//! ([`crate::status_update`]); the assigned technician edits and approves it
//! on the approval pages ([`http`], [`decide`]); an approved update is
//! posted once as a customer-visible note with its time logged ([`post`]).
//! At most one is pending per ticket; customer-visible activity meanwhile
//! drops it. Configured by `[status_updates]`; absent, nothing is proposed.

pub(crate) mod decide;
pub(crate) mod http;
pub mod post;
pub(crate) mod request;
pub mod scan;

pub use decide::{MAX_TEXT_CHARS, UpdateDecided, decide_update};
pub use post::PostReport;
pub use scan::{QUIET_SUMMARY, QuietSummary, ScanReport, scan};
