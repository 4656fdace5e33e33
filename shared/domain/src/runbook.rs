//! Runbooks: how a category's resolution does its work. A category resolves
//! (asks for approval or acts) only through a runbook:
//!
//! * [`RunbookKind::ReplyOnly`]: the answer is the work (how-to questions,
//!   self-service instructions); its reply must not claim work nobody did
//!   ([`claims_work_done`]);
//! * the `graph-*` runbooks: one Microsoft 365 change through Graph in the
//!   ticket company's own tenant, for the ticket's contact (reset the
//!   password, revoke sign-in sessions, require MFA re-registration, assign a
//!   licence by SKU part number, add to a group); the customer reply is
//!   written from the verified result. A password reset shows the temporary
//!   password once to the approving technician, so it always needs a human
//!   ([`RunbookKind::needs_human`]);
//! * [`RunbookKind::Webhook`]: a signed JSON job to an MSP's own automation
//!   (an RMM job, a Rewst / n8n / Power Automate flow), which answers done,
//!   refused, or accepted with a signed callback later.
//!
//! A configured runbook with its parameter (the SKU, the group, the webhook)
//! is a [`Runbook`]. What a run did is a [`RunbookOutcome`]: the plan as a
//! sentence, the status, the before/after state read from the provider, and why.

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
    /// Sign the contact out everywhere (`revokeSignInSessions`).
    GraphRevokeSessions,
    /// Remove the contact's registered MFA methods so they register again at the next sign-in.
    GraphResetMfa,
    /// Assign a licence by SKU part number (parameter `sku`).
    GraphAssignLicense,
    /// Add the contact to a group, by display name or mail (parameter `group`).
    GraphAddGroupMember,
    /// Remove a licence by SKU part number (parameter `sku`).
    GraphRemoveLicense,
    /// Remove the contact from a group (parameter `group`).
    GraphRemoveGroupMember,
    /// Turn a disabled account's sign-in back on (`accountEnabled`).
    GraphEnableSignIn,
    /// A signed JSON job to a configured webhook (parameter `webhook`: its name in `[webhooks]`).
    Webhook,
}

impl RunbookKind {
    pub const ALL: [RunbookKind; 10] = [
        RunbookKind::ReplyOnly,
        RunbookKind::GraphResetPassword,
        RunbookKind::GraphRevokeSessions,
        RunbookKind::GraphResetMfa,
        RunbookKind::GraphAssignLicense,
        RunbookKind::GraphAddGroupMember,
        RunbookKind::GraphRemoveLicense,
        RunbookKind::GraphRemoveGroupMember,
        RunbookKind::GraphEnableSignIn,
        RunbookKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunbookKind::ReplyOnly => "reply-only",
            RunbookKind::GraphResetPassword => "graph-reset-password",
            RunbookKind::GraphRevokeSessions => "graph-revoke-sessions",
            RunbookKind::GraphResetMfa => "graph-reset-mfa",
            RunbookKind::GraphAssignLicense => "graph-assign-license",
            RunbookKind::GraphAddGroupMember => "graph-add-group-member",
            RunbookKind::GraphRemoveLicense => "graph-remove-license",
            RunbookKind::GraphRemoveGroupMember => "graph-remove-group-member",
            RunbookKind::GraphEnableSignIn => "graph-enable-sign-in",
            RunbookKind::Webhook => "webhook",
        }
    }

    /// The provider, as `GET /api/decisions` names it.
    pub fn provider(self) -> &'static str {
        match self {
            RunbookKind::ReplyOnly => "reply-only",
            RunbookKind::Webhook => "webhook",
            _ => "graph",
        }
    }

    /// The configuration key of the runbook's parameter, if it takes one.
    pub fn parameter(self) -> Option<&'static str> {
        match self {
            RunbookKind::GraphAssignLicense | RunbookKind::GraphRemoveLicense => Some("sku"),
            RunbookKind::GraphAddGroupMember | RunbookKind::GraphRemoveGroupMember => Some("group"),
            RunbookKind::Webhook => Some("webhook"),
            _ => None,
        }
    }

    /// A runbook a human must approve whatever the phase: never autonomous.
    pub fn needs_human(self) -> bool {
        self.why_human().is_some()
    }

    /// Why this runbook always needs a human, if it does.
    pub fn why_human(self) -> Option<&'static str> {
        match self {
            RunbookKind::GraphResetPassword => Some("hands a temporary password to the approving technician"),
            RunbookKind::GraphEnableSignIn => Some("turns a disabled account back on, which may be a leaver's"),
            _ => None,
        }
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

/// A configured runbook: its kind and, for those that take one, its
/// parameter (the SKU part number, the group's mail address, the webhook's
/// name). Built only by [`Runbook::new`], so a parameter is present exactly
/// when the kind takes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runbook {
    kind: RunbookKind,
    parameter: Option<String>,
}

impl Runbook {
    /// Errors (in words): a missing or empty parameter the kind needs, or one it does not take.
    pub fn new(kind: RunbookKind, parameter: Option<String>) -> Result<Runbook, String> {
        let parameter = parameter.map(|p| p.trim().to_string());
        match (kind.parameter(), parameter) {
            (None, None) => Ok(Runbook { kind, parameter: None }),
            (None, Some(_)) => Err(format!("{kind} takes no parameter")),
            (Some(key), None) => Err(format!("{kind} needs `{key}`")),
            (Some(key), Some(p)) if p.is_empty() => Err(format!("{kind} needs a non-empty `{key}`")),
            (Some(_), Some(p)) => Ok(Runbook { kind, parameter: Some(p) }),
        }
    }

    /// A runbook that takes no parameter.
    pub fn plain(kind: RunbookKind) -> Option<Runbook> {
        Runbook::new(kind, None).ok()
    }

    pub fn kind(&self) -> RunbookKind {
        self.kind
    }

    /// The SKU part number, group address or webhook name (per [`RunbookKind::parameter`]).
    pub fn parameter(&self) -> Option<&str> {
        self.parameter.as_deref()
    }
}

impl fmt::Display for Runbook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.parameter, self.kind.parameter()) {
            (Some(p), Some(key)) => write!(f, "{} ({key} {p})", self.kind),
            _ => write!(f, "{}", self.kind),
        }
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
        for k in RunbookKind::ALL {
            assert_eq!(k.as_str().parse::<RunbookKind>(), Ok(k));
        }
    }

    #[test]
    fn a_runbook_has_its_parameter_exactly_when_its_kind_takes_one() {
        let sku = Runbook::new(RunbookKind::GraphAssignLicense, Some(" SPE_E3 ".into())).unwrap();
        assert_eq!((sku.kind(), sku.parameter()), (RunbookKind::GraphAssignLicense, Some("SPE_E3")));
        assert_eq!(sku.to_string(), "graph-assign-license (sku SPE_E3)");
        assert_eq!(
            Runbook::new(RunbookKind::GraphAssignLicense, None).unwrap_err(),
            "graph-assign-license needs `sku`"
        );
        assert!(Runbook::new(RunbookKind::Webhook, Some("  ".into())).unwrap_err().contains("non-empty `webhook`"));
        assert_eq!(
            Runbook::new(RunbookKind::ReplyOnly, Some("x".into())).unwrap_err(),
            "reply-only takes no parameter"
        );
        assert_eq!(Runbook::plain(RunbookKind::GraphRevokeSessions).unwrap().parameter(), None);
        assert!(Runbook::plain(RunbookKind::GraphAddGroupMember).is_none());
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
