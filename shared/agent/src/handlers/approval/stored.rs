//! The stored request a link names (once its token and the person deciding
//! check out), and the decision behind it.

use super::error::ApprovalError;
use super::token::{check_expiry, verify_reference, verify_token};
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
    let key = deps.approval_key.expose();
    let claims = match access.token {
        "" => None,
        t => {
            let c = verify_token(key, t, now)?;
            if c.a != id {
                return Err(ApprovalError::Forged);
            }
            Some(c)
        }
    };
    if !access.reference.is_empty() && verify_reference(key, access.reference, now)? != id {
        return Err(ApprovalError::Forged);
    }
    let approval = deps.state.approval(id).await?.ok_or(ApprovalError::Unknown)?;
    let decider = match (access.signed_in, claims) {
        (Some(who), _) => {
            if !deps.config.is_approver(&approval.category, who) && !deps.config.signin.is_admin(who) {
                return Err(ApprovalError::NotAnApprover(format!("{who} (signed in)")));
            }
            who.to_string()
        }
        // With sign-in on, a link alone never decides, whatever it carries.
        (None, Some(_)) if deps.signin => return Err(ApprovalError::SignInRequired),
        (None, Some(c)) if deps.config.is_approver(&approval.category, &c.e) => c.e,
        (None, Some(c)) => return Err(ApprovalError::NotAnApprover(c.e)),
        // A Review link (or a deployment with sign-in) needs a signed-in person.
        (None, None) if deps.signin || !access.reference.is_empty() => return Err(ApprovalError::SignInRequired),
        (None, None) => return Err(ApprovalError::Forged),
    };
    if approval.state == ApprovalState::Pending {
        check_expiry(approval.expires_at.timestamp(), now)?;
    }
    Ok((decider, approval))
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
