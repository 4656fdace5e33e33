//! Approval links: tokens signed with HMAC-SHA256, expiring, bound to one
//! approver (`v1.<claims>.<signature>`, URL-safe), and the links built from them.

use super::error::ApprovalError;
use crate::deps::Deps;
use atpilot_store::records::ApprovalRecord;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const TOKEN_VERSION: &str = "v1";

/// What a token says: which request, which approver, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The approval request.
    pub a: String,
    /// The approver the link was sent to.
    pub e: String,
    /// Expiry, epoch seconds.
    pub x: i64,
}

fn mac(key: &[u8], data: &str) -> Hmac<Sha256> {
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data.as_bytes());
    m
}

/// `v1.<claims>.<signature>`, URL-safe.
pub fn sign_token(key: &[u8], claims: &Claims) -> String {
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{TOKEN_VERSION}.{payload}");
    let sig = B64.encode(mac(key, &signed).finalize().into_bytes());
    format!("{signed}.{sig}")
}

/// Checks the signature (constant time), then the expiry.
pub(crate) fn verify_token(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, ApprovalError> {
    let mut parts = token.trim().split('.');
    let (Some(v), Some(payload), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ApprovalError::Forged);
    };
    if v != TOKEN_VERSION {
        return Err(ApprovalError::Forged);
    }
    let sig = B64.decode(sig).map_err(|_| ApprovalError::Forged)?;
    mac(key, &format!("{v}.{payload}")).verify_slice(&sig).map_err(|_| ApprovalError::Forged)?;
    let claims: Claims =
        B64.decode(payload).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(ApprovalError::Forged)?;
    if claims.x <= now.timestamp() {
        let at =
            Utc.timestamp_opt(claims.x, 0).single().map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
        return Err(ApprovalError::Expired(at));
    }
    Ok(claims)
}

/// The links of one approver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub approve: String,
    pub reject: String,
    pub open: String,
}

/// The approve, reject and open links of one approver for one request.
pub fn links(deps: &Deps, approval: &ApprovalRecord, approver: &str) -> Links {
    let token = sign_token(
        deps.approval_key.expose(),
        &Claims { a: approval.id.clone(), e: approver.to_string(), x: approval.expires_at.timestamp() },
    );
    let base = deps.config.approvals.base_url.trim_end_matches('/');
    let page = format!("{base}/{}?t={token}", approval.id);
    Links { approve: format!("{page}&intent=approve"), reject: format!("{page}&intent=reject"), open: page }
}
