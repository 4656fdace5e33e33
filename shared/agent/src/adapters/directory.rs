//! What the directory runbooks (Graph and Google Workspace) share: a run
//! that stopped, a finished run with its before/after state, and the frame
//! of the reply written from a verified result.

use crate::ports::RunbookRun;
use atpilot_domain::{RunbookKind, RunbookOutcome, RunbookStatus};
use std::collections::BTreeMap;

/// A run that stopped before or during the change.
pub(super) fn stopped(kind: RunbookKind, plan: &str, status: RunbookStatus, reason: String) -> RunbookRun {
    RunbookRun { outcome: RunbookOutcome::stopped(kind, plan, status, reason), reply: None, secret: None }
}

/// A finished run: what was read before and after, and the reply written from it.
pub(super) struct Done {
    pub status: RunbookStatus,
    pub before: BTreeMap<String, String>,
    pub after: BTreeMap<String, String>,
    pub reason: Option<String>,
    pub reply: String,
}

impl Done {
    /// The run; the reply goes with it only when the result was read back.
    pub fn into_run(self, kind: RunbookKind, plan: &str) -> RunbookRun {
        let verified = self.status == RunbookStatus::Verified;
        let outcome = RunbookOutcome {
            before: self.before,
            after: self.after,
            reason: self.reason,
            ..RunbookOutcome::new(kind, plan, self.status)
        };
        RunbookRun { outcome, reply: verified.then_some(self.reply), secret: None }
    }
}

/// The reply's frame around what was done.
pub(super) fn reply(body: &str) -> String {
    format!(
        "Hello,\n\n{body} If you did not ask for this, reply to this message straight away.\n\nKind regards,\nThe service desk"
    )
}
