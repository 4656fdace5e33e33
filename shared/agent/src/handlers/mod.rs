//! The function handlers: one ordinary async function per function (intake,
//! reconciler, classify, approval, time entry) over the ports in
//! [`Deps`](crate::deps::Deps), so the Lambda binaries only wire adapters and
//! the local runner and the tests call the same code. [`resolution`] is the
//! step the autonomous and the approved path share; [`delivery`] is how
//! a queued message reaches its handler (and becomes a dead letter).

pub mod approval;
pub mod classify;
pub mod delivery;
pub mod intake;
pub mod kb_draft;
pub mod reconciler;
pub(crate) mod reply_path;
pub mod resolution;
pub mod routing_seen;
pub mod runbook_callback;
pub(crate) mod runbook_step;
pub mod ses_events;
pub mod status_updates;
pub mod time_entry;
