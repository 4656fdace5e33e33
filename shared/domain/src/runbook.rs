//! Runbooks: how a category's resolution does its work. A category resolves
//! (asks for approval or acts) only through a runbook:
//!
//! * [`RunbookKind::ReplyOnly`]: the answer is the work (how-to questions,
//!   self-service instructions); its reply must not claim work nobody did
//!   ([`claims_work_done`]);
//! * [`RunbookKind::GraphResetPassword`]: a Microsoft 365 password reset
//!   through Graph in the ticket company's own tenant, for the ticket's
//!   contact; the customer reply is written from the verified result, and the
//!   temporary password is shown once to the approving technician, so it
//!   always needs a human ([`RunbookKind::needs_human`]).
//!
//! What a run did is a [`RunbookOutcome`]: the plan as a sentence, the
//! status, the before/after state read from the provider, and why.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The runbook a category resolves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunbookKind {
    /// The reply is the work: nothing is changed anywhere but the ticket.
    ReplyOnly,
    /// Reset the ticket contact's Microsoft 365 password (Graph), requiring a
    /// new one at the next sign-in.
    GraphResetPassword,
}

impl RunbookKind {
    pub const ALL: [RunbookKind; 2] = [RunbookKind::ReplyOnly, RunbookKind::GraphResetPassword];

    pub fn as_str(self) -> &'static str {
        match self {
            RunbookKind::ReplyOnly => "reply-only",
            RunbookKind::GraphResetPassword => "graph-reset-password",
        }
    }

    /// The provider, as `GET /api/decisions` names it.
    pub fn provider(self) -> &'static str {
        match self {
            RunbookKind::ReplyOnly => "reply-only",
            RunbookKind::GraphResetPassword => "graph",
        }
    }

    /// A runbook whose result a human must carry (a temporary password shown
    /// once to the approver): never autonomous.
    pub fn needs_human(self) -> bool {
        matches!(self, RunbookKind::GraphResetPassword)
    }

    /// Whether the customer reply is the drafted one (else atpilot writes it from the verified result).
    pub fn replies_with_draft(self) -> bool {
        matches!(self, RunbookKind::ReplyOnly)
    }
}

impl fmt::Display for RunbookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunbookKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RunbookKind::ALL.into_iter().find(|k| k.as_str() == s.trim()).ok_or_else(|| {
            let known: Vec<&str> = RunbookKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("{s:?} is not a runbook; one of: {}", known.join(", "))
        })
    }
}

/// Where a runbook run stands (`GET /api/decisions`' `runbook.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunbookStatus {
    /// Planned, not started (or started and cut short: see the reason).
    Planned,
    /// The provider accepted the change; not read back yet.
    Executed,
    /// The change was read back from the provider.
    Verified,
    /// The provider refused or failed; nothing (more) is done.
    Failed,
    /// atpilot refused before acting (wrong tenant, an administrator, a synced user…).
    Refused,
}

/// What one runbook run did, as stored with the decision and shown on the
/// dashboard. Never holds a secret (a temporary password goes to the
/// approver's page only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookOutcome {
    /// "graph", "google", "webhook" or "reply-only".
    pub provider: String,
    /// The runbook, e.g. "graph-reset-password".
    pub action: String,
    /// The plan as a sentence ("Reset the password of j.doe@contoso.example in …").
    pub plan: String,
    pub status: RunbookStatus,
    /// What the provider showed before and after (non-secret fields only).
    #[serde(default)]
    pub before: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub after: std::collections::BTreeMap<String, String>,
    /// Why it failed or was refused, and what a human must do.
    #[serde(default)]
    pub reason: Option<String>,
}

impl RunbookOutcome {
    /// A run of `kind` that stopped (refused, failed, or cut short) with `reason`, nothing read back.
    pub fn stopped(
        kind: RunbookKind,
        plan: impl Into<String>,
        status: RunbookStatus,
        reason: impl Into<String>,
    ) -> Self {
        RunbookOutcome {
            provider: kind.provider().into(),
            action: kind.as_str().into(),
            plan: plan.into(),
            status,
            before: Default::default(),
            after: Default::default(),
            reason: Some(reason.into()),
        }
    }

    pub fn verified(&self) -> bool {
        self.status == RunbookStatus::Verified
    }
}

/// Phrases by which a reply says work was already done on the requester's
/// account. A reply-only resolution changes nothing, so such a reply would
/// be false.
const DONE: &[&str] = &[
    "we have reset",
    "we've reset",
    "we reset",
    "i have reset",
    "i've reset",
    "has been reset",
    "was reset",
    "have been reset",
    "we have assigned",
    "we've assigned",
    "has been assigned",
    "was assigned",
    "we have added",
    "we've added",
    "has been added",
    "was added",
    "we have granted",
    "has been granted",
    "we have enabled",
    "has been enabled",
    "is now enabled",
    "we have unlocked",
    "has been unlocked",
    "we have started",
    "we have enrolled",
    "has been enrolled",
    "we have removed",
    "has been removed",
    "we have created",
    "has been created",
    "we have fixed",
    "has been fixed",
    "we have installed",
    "has been installed",
    "we have changed",
    "has been changed",
    "we have set up",
    "has been set up",
    "we have disabled",
    "has been disabled",
    "we have revoked",
    "has been revoked",
];

/// The phrase by which `reply` claims work already done, if any (case and
/// spacing ignored).
pub fn claims_work_done(reply: &str) -> Option<&'static str> {
    let text = reply.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    DONE.iter().find(|p| text.contains(*p)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runbooks_parse_by_name() {
        assert_eq!("reply-only".parse::<RunbookKind>(), Ok(RunbookKind::ReplyOnly));
        assert_eq!("graph-reset-password".parse::<RunbookKind>(), Ok(RunbookKind::GraphResetPassword));
        assert!("graph".parse::<RunbookKind>().unwrap_err().contains("one of: reply-only, graph-reset-password"));
        assert!(RunbookKind::GraphResetPassword.needs_human() && !RunbookKind::ReplyOnly.needs_human());
    }

    #[test]
    fn replies_claiming_done_work_are_caught() {
        assert_eq!(claims_work_done("Hello,\n\nWe have  reset your password."), Some("we have reset"));
        assert_eq!(claims_work_done("Your licence has been ASSIGNED"), Some("has been assigned"));
        assert_eq!(
            claims_work_done("To reset your password yourself, choose Forgot my password on the sign-in page."),
            None
        );
    }
}
