//! What one runbook run did: its status, the before/after state read from the provider, and why.

use super::RunbookKind;
use serde::{Deserialize, Serialize};

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
    /// The provider accepted the job and will call back with the result
    /// (a webhook's accepted-pending answer); `status` is then `executed`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_callback: bool,
}

impl RunbookOutcome {
    /// A run of `kind` with `status`, nothing read back and no reason (yet).
    pub fn new(kind: RunbookKind, plan: impl Into<String>, status: RunbookStatus) -> Self {
        RunbookOutcome {
            provider: kind.provider().into(),
            action: kind.as_str().into(),
            plan: plan.into(),
            status,
            before: Default::default(),
            after: Default::default(),
            reason: None,
            awaiting_callback: false,
        }
    }

    /// A run of `kind` that stopped (refused, failed, or cut short) with `reason`, nothing read back.
    pub fn stopped(
        kind: RunbookKind,
        plan: impl Into<String>,
        status: RunbookStatus,
        reason: impl Into<String>,
    ) -> Self {
        RunbookOutcome { reason: Some(reason.into()), ..RunbookOutcome::new(kind, plan, status) }
    }

    pub fn verified(&self) -> bool {
        self.status == RunbookStatus::Verified
    }

    /// Accepted by the provider, whose signed callback has not come yet.
    pub fn pending(&self) -> bool {
        self.awaiting_callback && self.status == RunbookStatus::Executed
    }
}
