//! Approval links. Two kinds of signed, expiring token (HMAC-SHA256,
//! URL-safe, `<kind>.<claims>.<signature>`, the kind under the signature so
//! one can never pass for the other):
//!
//! * `v1`: bound to one approver (`?t=`), for deployments without sign-in:
//!   holding the e-mail sent to that approver is what lets them decide.
//! * `r1`: a reference to the request only (`?r=`), for deployments with
//!   sign-in: the link opens the page, and who decides is the signed-in person.

use super::error::ApprovalError;
use crate::deps::Deps;
use atpilot_store::records::ApprovalRecord;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const TOKEN_VERSION: &str = "v1";
const REFERENCE_VERSION: &str = "r1";

/// What an approver token says: which request, which approver, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The approval request.
    pub a: String,
    /// The approver the link was sent to.
    pub e: String,
    /// Expiry, epoch seconds.
    pub x: i64,
}

/// What a reference says: which request, until when (no person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Reference {
    a: String,
    x: i64,
}

fn mac(key: &[u8], data: &str) -> Hmac<Sha256> {
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data.as_bytes());
    m
}

fn seal<T: Serialize>(key: &[u8], kind: &str, claims: &T) -> String {
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{kind}.{payload}");
    let sig = B64.encode(mac(key, &signed).finalize().into_bytes());
    format!("{signed}.{sig}")
}

/// Checks the kind and the signature (constant time); the claims, unchecked for expiry.
fn open<T: DeserializeOwned>(key: &[u8], kind: &str, token: &str) -> Result<T, ApprovalError> {
    let mut parts = token.trim().split('.');
    let (Some(v), Some(payload), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ApprovalError::Forged);
    };
    if v != kind {
        return Err(ApprovalError::Forged);
    }
    let sig = B64.decode(sig).map_err(|_| ApprovalError::Forged)?;
    mac(key, &format!("{v}.{payload}")).verify_slice(&sig).map_err(|_| ApprovalError::Forged)?;
    B64.decode(payload).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(ApprovalError::Forged)
}

/// `Expired` once `expires_at` (epoch seconds) has passed.
pub(crate) fn check_expiry(expires_at: i64, now: DateTime<Utc>) -> Result<(), ApprovalError> {
    if expires_at > now.timestamp() {
        return Ok(());
    }
    let at = Utc.timestamp_opt(expires_at, 0).single().map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    Err(ApprovalError::Expired(at.unwrap_or_default()))
}

/// `v1.<claims>.<signature>`, URL-safe.
pub fn sign_token(key: &[u8], claims: &Claims) -> String {
    seal(key, TOKEN_VERSION, claims)
}

/// Checks an approver token's signature (constant time), then its expiry.
pub(crate) fn verify_token(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, ApprovalError> {
    let claims: Claims = open(key, TOKEN_VERSION, token)?;
    check_expiry(claims.x, now)?;
    Ok(claims)
}

/// Checks a reference's signature, then its expiry: the request it names.
pub(crate) fn verify_reference(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<String, ApprovalError> {
    let r: Reference = open(key, REFERENCE_VERSION, token)?;
    check_expiry(r.x, now)?;
    Ok(r.a)
}

/// The links of one approver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    pub approve: String,
    pub reject: String,
    pub open: String,
}

fn page_url(deps: &Deps, id: &str) -> String {
    format!("{}/{id}", deps.config.approvals.base_url.trim_end_matches('/'))
}

/// The approve, reject and open links of one approver for one request.
pub fn links(deps: &Deps, approval: &ApprovalRecord, approver: &str) -> Links {
    links_to(deps, &approval.id, approval.expires_at, approver)
}

/// The approve, reject and open links of one approver for the request `id`
/// (an approval or a status update), valid until `expires_at`.
pub(crate) fn links_to(deps: &Deps, id: &str, expires_at: DateTime<Utc>, approver: &str) -> Links {
    let token = sign_token(
        deps.approval_key.expose(),
        &Claims { a: id.to_string(), e: approver.to_string(), x: expires_at.timestamp() },
    );
    let page = format!("{}?t={token}", page_url(deps, id));
    Links { approve: format!("{page}&intent=approve"), reject: format!("{page}&intent=reject"), open: page }
}

/// The one Review link of a request, for every approver (deployments with
/// sign-in): `{approvals.base_url}/{id}?r=<reference>`.
pub fn review_link(deps: &Deps, approval: &ApprovalRecord) -> String {
    review_link_to(deps, &approval.id, approval.expires_at)
}

/// [`review_link`] for the request `id`, valid until `expires_at`.
pub(crate) fn review_link_to(deps: &Deps, id: &str, expires_at: DateTime<Utc>) -> String {
    let r = seal(
        deps.approval_key.expose(),
        REFERENCE_VERSION,
        &Reference { a: id.to_string(), x: expires_at.timestamp() },
    );
    format!("{}?r={r}", page_url(deps, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a key of thirty-two bytes or more!!";

    #[test]
    fn a_reference_and_an_approver_token_never_pass_for_each_other() {
        let now = Utc::now();
        let x = now.timestamp() + 3600;
        let token = sign_token(KEY, &Claims { a: "req-1".into(), e: "ann@msp.example".into(), x });
        let reference = seal(KEY, REFERENCE_VERSION, &Reference { a: "req-1".into(), x });
        assert_eq!(verify_reference(KEY, &reference, now), Ok("req-1".into()));
        assert_eq!(verify_token(KEY, &token, now).map(|c| c.e), Ok("ann@msp.example".into()));
        assert_eq!(verify_token(KEY, &reference, now), Err(ApprovalError::Forged));
        assert_eq!(verify_reference(KEY, &token, now), Err(ApprovalError::Forged));
        // The kind is under the signature: relabelling one as the other breaks it.
        let relabelled = reference.replacen(REFERENCE_VERSION, TOKEN_VERSION, 1);
        assert_eq!(verify_token(KEY, &relabelled, now), Err(ApprovalError::Forged));
        assert_eq!(verify_reference(b"another key entirely, also long", &reference, now), Err(ApprovalError::Forged));
    }

    #[test]
    fn an_expired_reference_says_when_it_expired() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let reference = seal(KEY, REFERENCE_VERSION, &Reference { a: "req-1".into(), x: now.timestamp() - 60 });
        assert_eq!(verify_reference(KEY, &reference, now), Err(ApprovalError::Expired("2026-11-30 11:59".into())));
    }
}
