//! Why an approval decision was refused: each refusal maps to an HTTP
//! status and a page that says nothing was done.

use crate::error::HandlerError;
use crate::ports::PortError;
use atpilot_store::records::ApprovalRecord;

/// Why a decision was refused. Each maps to an HTTP status and a page.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApprovalError {
    #[error("this link is not valid: it was altered or was not issued by atpilot")]
    Forged,
    /// A link to a request without its token (`?t=…`), e.g. cut off by a
    /// mail scanner that rewrites links.
    #[error(
        "this link carries no approval token: open it exactly as you received it, from the e-mail or the Teams card (a mail scanner that rewrites links may have cut it short); nothing was changed"
    )]
    NoToken,
    #[error("this link expired on {0} UTC; the request was not carried out")]
    Expired(String),
    #[error("{0} is not an approver of this category; ask the service manager to add you")]
    NotAnApprover(String),
    #[error(
        "{0} may not decide this status update: it goes to the ticket's assigned technician (or [status_updates] approvers)"
    )]
    NotTheTechnician(String),
    /// A link that names only the request, opened without a signed-in person.
    #[error(
        "this link opens the request for a signed-in approver: sign in with your work account and open it again; nothing was changed"
    )]
    SignInRequired,
    /// A POST whose form was not rendered for the current sign-in session.
    #[error(
        "this form was not opened in your current sign-in session (it expired, or you signed in again): reload the page and decide again; nothing was changed"
    )]
    StaleSession,
    #[error("there is no such approval request")]
    Unknown,
    #[error("this request was already {state} by {by} at {at} UTC: a request is decided only once")]
    AlreadyDecided { state: &'static str, by: String, at: String },
    #[error("not carried out: the ticket changed since the request ({0}); atpilot will not act on stale data")]
    Stale(String),
    #[error("{0}")]
    Invalid(String),
    /// The form as sent cannot be decided (a text too long or empty, no
    /// decision): the page is shown again with what the approver typed.
    #[error("{0}")]
    Form(String),
    #[error("temporarily unavailable, nothing was changed; try again in a minute ({0})")]
    Unavailable(String),
    /// Approved and recorded, but carrying it out stopped midway: the
    /// scheduled sweep finishes it (never the approver's second click).
    #[error(
        "approved, but carrying it out was interrupted ({0}); atpilot finishes it on its next scheduled sweep (within about 10 minutes), and this page then shows the result; there is nothing more to click"
    )]
    Interrupted(String),
    /// A status update approved and recorded, its posting stopped midway: the next scan finishes it.
    #[error(
        "approved, but posting it was interrupted ({0}); atpilot finishes it on its next status-update scan (within the hour, every 5 minutes under atpilot dev), and this page then shows the result; there is nothing more to click"
    )]
    UpdateInterrupted(String),
    #[error(
        "the kill switch is on: atpilot writes nothing, so nothing was decided and the request stays pending; decide again once the switch is off"
    )]
    KillSwitch,
}

impl ApprovalError {
    pub fn status(&self) -> u16 {
        match self {
            ApprovalError::Forged
            | ApprovalError::NoToken
            | ApprovalError::NotAnApprover(_)
            | ApprovalError::NotTheTechnician(_)
            | ApprovalError::StaleSession => 403,
            ApprovalError::SignInRequired => 401,
            ApprovalError::Expired(_) => 410,
            ApprovalError::Unknown => 404,
            ApprovalError::AlreadyDecided { .. } | ApprovalError::Stale(_) | ApprovalError::KillSwitch => 409,
            ApprovalError::Invalid(_) | ApprovalError::Form(_) => 400,
            ApprovalError::Unavailable(_) => 503,
            ApprovalError::Interrupted(_) | ApprovalError::UpdateInterrupted(_) => 202,
        }
    }
}

impl From<atpilot_store::StoreError> for ApprovalError {
    fn from(e: atpilot_store::StoreError) -> Self {
        ApprovalError::Unavailable(format!("state store: {e}"))
    }
}
impl From<PortError> for ApprovalError {
    fn from(e: PortError) -> Self {
        ApprovalError::Unavailable(format!("Autotask: {e}"))
    }
}
impl From<HandlerError> for ApprovalError {
    fn from(e: HandlerError) -> Self {
        ApprovalError::Unavailable(e.to_string())
    }
}

/// The refusal for a request already decided: by whom and when.
pub(crate) fn already(a: &ApprovalRecord) -> ApprovalError {
    ApprovalError::AlreadyDecided {
        state: a.state.as_str(),
        by: a.decided_by.clone().unwrap_or_else(|| "atpilot".into()),
        at: a.decided_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
    }
}
