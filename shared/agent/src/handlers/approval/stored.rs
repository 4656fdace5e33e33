//! The stored request a link names (once its token and the person deciding
//! check out), and the decision behind it.

use super::error::ApprovalError;
use super::token::{Claims, check_expiry, verify_reference, verify_token};
use crate::deps::Deps;
use atpilot_store::records::{ApprovalRecord, ApprovalState, DecisionRecord};
use chrono::{DateTime, Utc};

/// How a request was reached: the link's tokens (empty when absent) and the
/// person signed in with the MSP's OpenID provider, if any.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Access<'a> {
    /// `t`: a token bound to one approver.
    pub token: &'a str,
    /// `r`: a reference to the request only.
    pub reference: &'a str,
    pub signed_in: Option<&'a str>,
}

/// The request and who decides it. With sign-in, the signed-in person (an
/// approver of the category or an admin); any token present must still be
/// valid for this request. Without sign-in, the approver the `t` token names.
pub(crate) async fn load(
    deps: &Deps,
    id: &str,
    access: Access<'_>,
    now: DateTime<Utc>,
) -> Result<(String, ApprovalRecord), ApprovalError> {
    let claims = verify_access(deps, id, access, now)?;
    let approval = deps.state.approval(id).await?.ok_or(ApprovalError::Unknown)?;
    let signed_in_ok = |who: &str| deps.config.is_approver(&approval.category, who) || deps.config.signin.is_admin(who);
    let link_ok = |who: &str| deps.config.is_approver(&approval.category, who);
    let decider = decider(deps, access, claims, signed_in_ok, link_ok, ApprovalError::NotAnApprover)?;
    if approval.state == ApprovalState::Pending {
        check_expiry(approval.expires_at.timestamp(), now)?;
    }
    Ok((decider, approval))
}

/// Checks the link's tokens for the request `id` (signature, expiry, that
/// they name `id`): the approver-bound claims, if the link carried them.
pub(crate) fn verify_access(
    deps: &Deps,
    id: &str,
    access: Access<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Claims>, ApprovalError> {
    let key = deps.approval_key.expose();
    let claims = match access.token {
        "" => None,
        t => Some(verify_token(key, t, now)?).filter(|c| c.a == id).map(Some).ok_or(ApprovalError::Forged)?,
    };
    if !access.reference.is_empty() && verify_reference(key, access.reference, now)? != id {
        return Err(ApprovalError::Forged);
    }
    Ok(claims)
}

/// Who decides: the signed-in person if `signed_in_ok` admits them, else the
/// person the link's claims name if `link_ok` admits them (never with sign-in
/// on); `refuse` words a refusal of a named person.
pub(crate) fn decider(
    deps: &Deps,
    access: Access<'_>,
    claims: Option<Claims>,
    signed_in_ok: impl Fn(&str) -> bool,
    link_ok: impl Fn(&str) -> bool,
    refuse: impl Fn(String) -> ApprovalError,
) -> Result<String, ApprovalError> {
    match (access.signed_in, claims) {
        (Some(who), _) if signed_in_ok(who) => Ok(who.to_string()),
        (Some(who), _) => Err(refuse(format!("{who} (signed in)"))),
        // With sign-in on, a link alone never decides, whatever it carries.
        (None, Some(_)) if deps.signin => Err(ApprovalError::SignInRequired),
        (None, Some(c)) if link_ok(&c.e) => Ok(c.e),
        (None, Some(c)) => Err(refuse(c.e)),
        // A Review link (or a deployment with sign-in) needs a signed-in person.
        (None, None) if deps.signin || !access.reference.is_empty() => Err(ApprovalError::SignInRequired),
        (None, None) => Err(ApprovalError::NoToken),
    }
}

/// The stored decision behind a request.
pub(crate) async fn decision_of(deps: &Deps, a: &ApprovalRecord) -> Result<DecisionRecord, ApprovalError> {
    deps.state
        .ticket_decisions(a.ticket_id)
        .await?
        .into_iter()
        .find(|d| d.event_key == a.decision_event_key)
        .ok_or_else(|| ApprovalError::Invalid("the decision behind this request is missing".into()))
}
