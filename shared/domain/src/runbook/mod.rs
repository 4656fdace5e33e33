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
//! * the `google-*` runbooks: the same account actions in the company's
//!   Google Workspace (Admin SDK, domain-wide delegation). Each directory
//!   runbook has a twin in the other directory ([`RunbookKind::in_directory`]):
//!   when a company has both, the requester's e-mail domain chooses, so one
//!   category serves Microsoft 365 and Google Workspace users alike;
//! * [`RunbookKind::Webhook`]: a signed JSON job to an MSP's own automation
//!   (an RMM job, a Rewst / n8n / Power Automate flow), which answers done,
//!   refused, or accepted with a signed callback later.
//!
//! A configured runbook with its parameter (the SKU, the group, the webhook)
//! is a [`Runbook`]. What a run did is a [`RunbookOutcome`]: the plan as a
//! sentence, the status, the before/after state read from the provider, and why.

mod claims;
mod outcome;

pub use claims::claims_work_done;
pub use outcome::{RunbookOutcome, RunbookStatus};

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
    /// Reset the contact's Google Workspace password, requiring a new one at the next sign-in.
    GoogleResetPassword,
    /// Sign the contact out of every Google session (`users.signOut`).
    GoogleSignOut,
    /// Turn off 2-Step Verification so the contact enrols again (`twoStepVerification.turnOff`).
    #[serde(rename = "google-reset-2sv")]
    GoogleReset2sv,
    /// Assign a Google licence (parameter `sku`: `productId/skuId`).
    GoogleAssignLicense,
    /// Add the contact to a Google group (parameter `group`: the group's address).
    GoogleAddGroupMember,
    /// Remove a Google licence (parameter `sku`: `productId/skuId`).
    GoogleRemoveLicense,
    /// Remove the contact from a Google group (parameter `group`).
    GoogleRemoveGroupMember,
    /// Unsuspend a suspended Google account.
    GoogleUnsuspend,
    /// A signed JSON job to a configured webhook (parameter `webhook`: its name in `[webhooks]`).
    Webhook,
}

impl RunbookKind {
    pub const ALL: [RunbookKind; 18] = [
        RunbookKind::ReplyOnly,
        RunbookKind::GraphResetPassword,
        RunbookKind::GraphRevokeSessions,
        RunbookKind::GraphResetMfa,
        RunbookKind::GraphAssignLicense,
        RunbookKind::GraphAddGroupMember,
        RunbookKind::GraphRemoveLicense,
        RunbookKind::GraphRemoveGroupMember,
        RunbookKind::GraphEnableSignIn,
        RunbookKind::GoogleResetPassword,
        RunbookKind::GoogleSignOut,
        RunbookKind::GoogleReset2sv,
        RunbookKind::GoogleAssignLicense,
        RunbookKind::GoogleAddGroupMember,
        RunbookKind::GoogleRemoveLicense,
        RunbookKind::GoogleRemoveGroupMember,
        RunbookKind::GoogleUnsuspend,
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
            RunbookKind::GoogleResetPassword => "google-reset-password",
            RunbookKind::GoogleSignOut => "google-sign-out",
            RunbookKind::GoogleReset2sv => "google-reset-2sv",
            RunbookKind::GoogleAssignLicense => "google-assign-license",
            RunbookKind::GoogleAddGroupMember => "google-add-group-member",
            RunbookKind::GoogleRemoveLicense => "google-remove-license",
            RunbookKind::GoogleRemoveGroupMember => "google-remove-group-member",
            RunbookKind::GoogleUnsuspend => "google-unsuspend",
            RunbookKind::Webhook => "webhook",
        }
    }

    /// The provider, as `GET /api/decisions` names it.
    pub fn provider(self) -> &'static str {
        match (self, self.directory()) {
            (RunbookKind::ReplyOnly, _) => "reply-only",
            (_, Some((d, _))) => d.provider(),
            _ => "webhook",
        }
    }

    /// The directory and the account action, for the runbooks that change a
    /// directory account (every `graph-*` and `google-*` runbook).
    pub fn directory(self) -> Option<(Directory, DirectoryAction)> {
        use DirectoryAction as A;
        use RunbookKind as K;
        let (d, a) = match self {
            K::ReplyOnly | K::Webhook => return None,
            K::GraphResetPassword => (Directory::Microsoft, A::ResetPassword),
            K::GraphRevokeSessions => (Directory::Microsoft, A::SignOut),
            K::GraphResetMfa => (Directory::Microsoft, A::ResetMfa),
            K::GraphAssignLicense => (Directory::Microsoft, A::AssignLicense),
            K::GraphAddGroupMember => (Directory::Microsoft, A::AddGroupMember),
            K::GraphRemoveLicense => (Directory::Microsoft, A::RemoveLicense),
            K::GraphRemoveGroupMember => (Directory::Microsoft, A::RemoveGroupMember),
            K::GraphEnableSignIn => (Directory::Microsoft, A::EnableSignIn),
            K::GoogleResetPassword => (Directory::Google, A::ResetPassword),
            K::GoogleSignOut => (Directory::Google, A::SignOut),
            K::GoogleReset2sv => (Directory::Google, A::ResetMfa),
            K::GoogleAssignLicense => (Directory::Google, A::AssignLicense),
            K::GoogleAddGroupMember => (Directory::Google, A::AddGroupMember),
            K::GoogleRemoveLicense => (Directory::Google, A::RemoveLicense),
            K::GoogleRemoveGroupMember => (Directory::Google, A::RemoveGroupMember),
            K::GoogleUnsuspend => (Directory::Google, A::EnableSignIn),
        };
        Some((d, a))
    }

    /// The runbook doing the same account action in `directory` (its twin), if this is a directory runbook.
    pub fn in_directory(self, directory: Directory) -> Option<RunbookKind> {
        let (_, action) = self.directory()?;
        RunbookKind::ALL.into_iter().find(|k| k.directory() == Some((directory, action)))
    }

    /// The configuration key of the runbook's parameter, if it takes one.
    pub fn parameter(self) -> Option<&'static str> {
        match self {
            RunbookKind::Webhook => Some("webhook"),
            _ => match self.directory() {
                Some((_, DirectoryAction::AssignLicense | DirectoryAction::RemoveLicense)) => Some("sku"),
                Some((_, DirectoryAction::AddGroupMember | DirectoryAction::RemoveGroupMember)) => Some("group"),
                _ => None,
            },
        }
    }

    /// A runbook a human must approve whatever the phase: never autonomous.
    pub fn needs_human(self) -> bool {
        self.why_human().is_some()
    }

    /// Why this runbook always needs a human, if it does.
    pub fn why_human(self) -> Option<&'static str> {
        match self.directory() {
            Some((_, DirectoryAction::ResetPassword)) => Some("hands a temporary password to the approving technician"),
            Some((Directory::Microsoft, DirectoryAction::EnableSignIn)) => {
                Some("turns a disabled account back on, which may be a leaver's")
            }
            Some((Directory::Google, DirectoryAction::EnableSignIn)) => {
                Some("unsuspends an account, which may be a leaver's")
            }
            // Graph shows `isAssignableToRole` and atpilot refuses such groups; Google shows no such flag.
            Some((Directory::Google, DirectoryAction::AddGroupMember)) => Some(
                "may grant admin rights: a Google group can hold admin roles, which the Directory API does not show",
            ),
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

/// A directory atpilot changes accounts in: the customer's Microsoft 365
/// tenant (Graph) or Google Workspace (Admin SDK). A company may have either
/// or both; the requester's e-mail domain chooses (`[google.customers]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Directory {
    Microsoft,
    Google,
}

impl Directory {
    /// The provider name runbook outcomes carry ("graph" or "google").
    pub fn provider(self) -> &'static str {
        match self {
            Directory::Microsoft => "graph",
            Directory::Google => "google",
        }
    }

    /// The product's name, for messages ("Microsoft 365", "Google Workspace").
    pub fn product(self) -> &'static str {
        match self {
            Directory::Microsoft => "Microsoft 365",
            Directory::Google => "Google Workspace",
        }
    }
}

/// The account actions both directories offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectoryAction {
    ResetPassword,
    /// Graph `revokeSignInSessions`, Google `users.signOut`.
    SignOut,
    /// Graph: remove the MFA methods; Google: turn off 2-Step Verification.
    ResetMfa,
    AssignLicense,
    AddGroupMember,
    RemoveLicense,
    RemoveGroupMember,
    /// Graph `accountEnabled`, Google `suspended: false`.
    EnableSignIn,
}

/// A configured runbook: its kind and, for those that take one, its
/// parameter (the SKU part number, the group's mail address, the webhook's
/// name). Built only by [`Runbook::new`], so a parameter is present exactly
/// when the kind takes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runbook {
    kind: RunbookKind,
    parameter: Option<String>,
    /// A `graph-*` licence runbook's Google twin SKU (`productId/skuId`), for
    /// the company's Google Workspace users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    google_sku: Option<String>,
}

impl Runbook {
    /// Errors (in words): a missing or empty parameter the kind needs, or one it does not take.
    pub fn new(kind: RunbookKind, parameter: Option<String>) -> Result<Runbook, String> {
        let parameter = parameter.map(|p| p.trim().to_string());
        match (kind.parameter(), parameter) {
            (None, None) => Ok(Runbook { kind, parameter: None, google_sku: None }),
            (None, Some(_)) => Err(format!("{kind} takes no parameter")),
            (Some(key), None) => Err(format!("{kind} needs `{key}`")),
            (Some(key), Some(p)) if p.is_empty() => Err(format!("{kind} needs a non-empty `{key}`")),
            (Some(_), Some(p)) => Ok(Runbook { kind, parameter: Some(p), google_sku: None }),
        }
    }

    /// A runbook that takes no parameter.
    pub fn plain(kind: RunbookKind) -> Option<Runbook> {
        Runbook::new(kind, None).ok()
    }

    pub fn kind(&self) -> RunbookKind {
        self.kind
    }

    /// The same runbook with the Google SKU (`productId/skuId`) its Google
    /// twin uses. Errors (in words): not a `graph-*` licence runbook, or empty.
    pub fn with_google_sku(mut self, sku: String) -> Result<Runbook, String> {
        let licence = matches!(self.kind, RunbookKind::GraphAssignLicense | RunbookKind::GraphRemoveLicense);
        if !licence {
            return Err(format!(
                "{} takes no `google_sku` (only graph-assign-license and graph-remove-license do)",
                self.kind
            ));
        }
        let sku = sku.trim().to_string();
        if sku.is_empty() {
            return Err(format!("{} needs a non-empty `google_sku`", self.kind));
        }
        self.google_sku = Some(sku);
        Ok(self)
    }

    /// The Google twin's SKU, if set.
    pub fn google_sku(&self) -> Option<&str> {
        self.google_sku.as_deref()
    }

    /// This runbook as `directory` runs it: itself when it is that
    /// directory's, else its twin with the parameter that directory takes.
    /// Errors (in words, for the run's reason): not a directory runbook, or
    /// a licence runbook without the other directory's SKU.
    pub fn in_directory(&self, directory: Directory) -> Result<Runbook, String> {
        let Some((own, action)) = self.kind.directory() else {
            return Err(format!("{} does not change a directory account", self.kind));
        };
        if own == directory {
            return Ok(self.clone());
        }
        let twin = self.kind.in_directory(directory).ok_or_else(|| format!("{} has no twin", self.kind))?;
        let licence = matches!(action, DirectoryAction::AssignLicense | DirectoryAction::RemoveLicense);
        let parameter = match (licence, directory) {
            (false, _) => self.parameter.clone(),
            (true, Directory::Google) => Some(self.google_sku.clone().ok_or_else(|| {
                format!(
                    "the category's runbook {} names no Google SKU for Google Workspace users: set `google_sku` (productId/skuId) beside `sku`",
                    self.kind
                )
            })?),
            (true, Directory::Microsoft) => {
                return Err(format!(
                    "the category's runbook {} names no Microsoft SKU for Microsoft 365 users: use graph-{} with `sku` and `google_sku` to serve both",
                    self.kind,
                    self.kind.as_str().trim_start_matches("google-")
                ));
            }
        };
        Runbook::new(twin, parameter)
    }

    /// The SKU part number, group address or webhook name (per [`RunbookKind::parameter`]).
    pub fn parameter(&self) -> Option<&str> {
        self.parameter.as_deref()
    }
}

impl fmt::Display for Runbook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.parameter, self.kind.parameter()) {
            (Some(p), Some(key)) => {
                write!(f, "{} ({key} {p}", self.kind)?;
                match &self.google_sku {
                    Some(g) => write!(f, ", google_sku {g})"),
                    None => f.write_str(")"),
                }
            }
            _ => write!(f, "{}", self.kind),
        }
    }
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
            // The configuration and the stored decisions spell it as serde does.
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.as_str()));
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
    fn each_directory_runbook_has_one_twin_in_the_other_directory() {
        for k in RunbookKind::ALL {
            match k.directory() {
                None => assert!(matches!(k, RunbookKind::ReplyOnly | RunbookKind::Webhook)),
                Some((d, a)) => {
                    let other = if d == Directory::Google { Directory::Microsoft } else { Directory::Google };
                    let twin = k.in_directory(other).expect("twin");
                    assert_eq!(twin.directory(), Some((other, a)));
                    assert_eq!(twin.in_directory(d), Some(k));
                    assert_eq!(twin.parameter(), k.parameter());
                    let google_add = |k: RunbookKind| k == RunbookKind::GoogleAddGroupMember;
                    if !google_add(k) && !google_add(twin) {
                        assert_eq!(twin.needs_human(), k.needs_human(), "{k}");
                    }
                    assert_eq!(k.provider(), d.provider());
                }
            }
        }
        assert_eq!(RunbookKind::GoogleSignOut.provider(), "google");
        assert!(RunbookKind::GoogleUnsuspend.needs_human() && !RunbookKind::GoogleSignOut.needs_human());
        assert!(RunbookKind::GoogleAddGroupMember.needs_human() && !RunbookKind::GraphAddGroupMember.needs_human());
        assert!(!RunbookKind::GoogleRemoveGroupMember.needs_human());
    }

    #[test]
    fn a_twin_takes_the_parameter_its_directory_needs() {
        let group = Runbook::new(RunbookKind::GraphAddGroupMember, Some("staff@c.example".into())).unwrap();
        let g = group.in_directory(Directory::Google).unwrap();
        assert_eq!((g.kind(), g.parameter()), (RunbookKind::GoogleAddGroupMember, Some("staff@c.example")));
        let sku = Runbook::new(RunbookKind::GraphAssignLicense, Some("SPE_E3".into())).unwrap();
        assert!(sku.in_directory(Directory::Google).unwrap_err().contains("set `google_sku`"));
        let both = sku.with_google_sku(" Google-Apps/1010020027 ".into()).unwrap();
        assert_eq!(both.to_string(), "graph-assign-license (sku SPE_E3, google_sku Google-Apps/1010020027)");
        let g = both.in_directory(Directory::Google).unwrap();
        assert_eq!((g.kind(), g.parameter()), (RunbookKind::GoogleAssignLicense, Some("Google-Apps/1010020027")));
        assert_eq!(both.in_directory(Directory::Microsoft).unwrap(), both);
        let google = Runbook::new(RunbookKind::GoogleAssignLicense, Some("Google-Apps/1010020027".into())).unwrap();
        assert!(google.in_directory(Directory::Microsoft).unwrap_err().contains("graph-assign-license"));
        assert!(Runbook::plain(RunbookKind::GoogleSignOut).unwrap().with_google_sku("x/y".into()).is_err());
        assert!(Runbook::plain(RunbookKind::ReplyOnly).unwrap().in_directory(Directory::Google).is_err());
    }
}
