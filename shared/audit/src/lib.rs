//! `atpilot audit`: what the MSP's queues really are, before the agent learns
//! from them (issue 10).
//!
//! * [`collect`]: the thin I/O part. Streams the tickets since a cut-off with
//!   only the fields it needs, reads TicketHistory (one request per ticket)
//!   for a bounded deterministic sample, with that sample's notes and SLA
//!   results in `ticketID in` batches, and counts every request.
//! * [`analyze`]: pure functions over the collected rows: per-queue volume,
//!   backlog, first touch, monitoring, dumping-ground signs, re-routing within
//!   an hour, SLA linkage, UDFs, and plain-word recommendations.
//! * [`routing`]: content vs contract routing, cross-validated (atpilot's text
//!   classifier against a majority-queue-by-contract/company rule).
//! * [`training`]: labelled tickets for `atpilot model train --from-autotask`,
//!   with the tickets re-routed by hand within an hour flagged (same history
//!   reading and re-route rule as the audit).
//! * [`render`]: JSON (the exact object), Markdown, CSV, HTML with inline SVG.

pub mod analyze;
pub mod collect;
pub mod render;
pub mod routing;
pub mod rows;
pub mod stored;
pub mod training;
pub mod training_scope;

pub use analyze::{Audit, AuditConfig, QueueAudit, Reroute, UdfAudit, audit};
pub use collect::{CollectOptions, Progress, collect, parse_since, read_history};
pub use render::{Format, render};
pub use routing::RoutingSignal;
pub use rows::Collected;
pub use stored::{AuditRequest, AuditRunError, run_and_store};
