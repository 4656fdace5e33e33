//! Approvals: a request goes to the category's approvers in Teams (an
//! Adaptive Card) and/or e-mail (SES); each link opens a confirmation page
//! that never changes anything (link scanners and previews fetch links);
//! only the POST from that page decides. Tokens are signed (HMAC-SHA256),
//! expiring, bound to one approver, and single-use through the conditional
//! pending → approved / rejected / expired transition.
//!
//! Rooms: [`token`] signs and checks the links, [`request`] sends the
//! request, [`decide`] carries out the POST and the sweep, [`http`] serves
//! the pages (their markup is in [`crate::html::approval`]).

pub mod decide;
pub mod http;
pub mod request;
pub mod token;

pub use crate::html::Page;
pub use decide::{Decided, DecisionForm, SweepReport, decide_request, sweep};
pub use http::{confirm_page, handle_http, time_entry_outcome};
pub use request::{CARD_VERSION, RequestView, email, send_request, teams_card};
pub use token::{Claims, Links, links, sign_token, verify_token};

use crate::deps::Deps;
use crate::error::HandlerError;
use crate::ports::PortError;
use atpilot_store::records::{ApprovalRecord, DecisionRecord};
use chrono::{DateTime, Utc};

/// Why a decision was refused. Each maps to an HTTP status and a page.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApprovalError {
    #[error("this link is not valid: it was altered or was not issued by atpilot")]
    Forged,
    #[error("this link expired on {0} UTC; the request was not carried out")]
    Expired(String),
    #[error("{0} is not an approver of this category; ask the service manager to add you")]
    NotAnApprover(String),
    #[error("there is no such approval request")]
    Unknown,
    #[error("this request was already {state} by {by} at {at} UTC: a link works once")]
    AlreadyDecided { state: &'static str, by: String, at: String },
    #[error("not carried out: the ticket changed since the request ({0}); atpilot will not act on stale data")]
    Stale(String),
    #[error("{0}")]
    Invalid(String),
    #[error("temporarily unavailable, nothing was changed; try again in a minute ({0})")]
    Unavailable(String),
    #[error("the kill switch is on: atpilot writes nothing, so nothing was decided and the request stays pending; decide again once the switch is off")]
    KillSwitch,
}

impl ApprovalError {
    pub fn status(&self) -> u16 {
        match self {
            ApprovalError::Forged | ApprovalError::NotAnApprover(_) => 403,
            ApprovalError::Expired(_) => 410,
            ApprovalError::Unknown => 404,
            ApprovalError::AlreadyDecided { .. } | ApprovalError::Stale(_) | ApprovalError::KillSwitch => 409,
            ApprovalError::Invalid(_) => 400,
            ApprovalError::Unavailable(_) => 503,
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

/// The request a token names, once the token and its approver check out.
async fn load(deps: &Deps, id: &str, token: &str, now: DateTime<Utc>) -> Result<(Claims, ApprovalRecord), ApprovalError> {
    let claims = verify_token(deps.approval_key.expose(), token, now)?;
    if claims.a != id {
        return Err(ApprovalError::Forged);
    }
    let approval = deps.state.approval(id).await?.ok_or(ApprovalError::Unknown)?;
    if !deps.config.approvers(&approval.category).iter().any(|a| a.eq_ignore_ascii_case(&claims.e)) {
        return Err(ApprovalError::NotAnApprover(claims.e));
    }
    Ok((claims, approval))
}

/// The refusal for a request already decided: by whom and when.
pub(crate) fn already(a: &ApprovalRecord) -> ApprovalError {
    ApprovalError::AlreadyDecided {
        state: a.state.as_str(),
        by: a.decided_by.clone().unwrap_or_else(|| "atpilot".into()),
        at: a.decided_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
    }
}

/// The stored decision behind a request.
async fn decision_of(deps: &Deps, a: &ApprovalRecord) -> Result<DecisionRecord, ApprovalError> {
    deps.state
        .ticket_decisions(a.ticket_id)
        .await?
        .into_iter()
        .find(|d| d.event_key == a.decision_event_key)
        .ok_or_else(|| ApprovalError::Invalid("the decision behind this request is missing".into()))
}

