//! The stored request a link names (once its token and approver check out),
//! and the decision behind it.

use super::error::ApprovalError;
use super::token::{Claims, verify_token};
use crate::deps::Deps;
use atpilot_store::records::{ApprovalRecord, DecisionRecord};
use chrono::{DateTime, Utc};

/// The request a token names, once the token and its approver check out.
pub(crate) async fn load(
    deps: &Deps,
    id: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(Claims, ApprovalRecord), ApprovalError> {
    let claims = verify_token(deps.approval_key.expose(), token, now)?;
    if claims.a != id {
        return Err(ApprovalError::Forged);
    }
    let approval = deps.state.approval(id).await?.ok_or(ApprovalError::Unknown)?;
    if !deps.config.is_approver(&approval.category, &claims.e) {
        return Err(ApprovalError::NotAnApprover(claims.e));
    }
    Ok((claims, approval))
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
