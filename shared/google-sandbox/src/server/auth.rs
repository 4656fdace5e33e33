//! API authorisation (reference §5): a bearer token the sandbox issued and
//! that has not expired (else 401 `authError`); the call's scope among the
//! token's (else 403 `insufficientPermissions` "Request had insufficient
//! authentication scopes."); the impersonated admin a super admin of its
//! customer (else 403 `forbidden` "Not Authorized to access this
//! resource/api"); and every user or group named inside that customer (a key
//! of another customer → 403 `forbidden`, an unknown one → 404 `notFound`).

use super::{Issued, Shared, google_error, google_error_status, lock, not_authorized, not_found};
use crate::Knobs;
use crate::world::World;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Map, Value};

/// One authenticated API request; `segs` are the path segments after the API's base, decoded.
pub(crate) struct Ctx<'a> {
    pub sh: &'a Shared,
    pub method: &'a Method,
    pub segs: &'a [String],
    pub body: &'a [u8],
    pub issued: Issued,
    pub knobs: Knobs,
}

/// The token the `Authorization: Bearer` header names (expired or not).
pub(crate) fn bearer(sh: &Shared, headers: &HeaderMap) -> Option<Issued> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    lock(&sh.tokens).get(token.trim()).cloned()
}

fn unauthenticated() -> Response {
    google_error_status(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "UNAUTHENTICATED",
    )
}

/// The request's context, or 401 without a valid bearer token.
pub(crate) fn authenticate<'a>(
    sh: &'a Shared,
    method: &'a Method,
    headers: &HeaderMap,
    segs: &'a [String],
    body: &'a [u8],
) -> Result<Ctx<'a>, Response> {
    let issued = bearer(sh, headers).filter(|i| i.expires_at > Utc::now()).ok_or_else(unauthenticated)?;
    let knobs = lock(&sh.knobs).clone();
    Ok(Ctx { sh, method, segs, body, issued, knobs })
}

impl Ctx<'_> {
    /// The token holds one of `accepted` (scope URLs) and its admin is a super admin.
    pub fn require(&self, accepted: &[&str]) -> Result<(), Response> {
        if !self.issued.scopes.iter().any(|s| accepted.contains(&s.as_str())) {
            return Err(google_error_status(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
                "PERMISSION_DENIED",
            ));
        }
        let w = lock(&self.sh.world);
        let admin = w.find_user(&self.issued.subject).map(|(c, u)| &w.customers[c].users[u]);
        if admin.is_some_and(|u| u.is_admin && !u.suspended) { Ok(()) } else { Err(not_authorized()) }
    }

    /// Runs `f` on the world with the index of the token's customer.
    pub fn world<T>(&self, f: impl FnOnce(&mut World, usize) -> Result<T, Response>) -> Result<T, Response> {
        let mut w = lock(&self.sh.world);
        let ci = w.customer(&self.issued.customer).ok_or_else(not_authorized)?;
        f(&mut w, ci)
    }

    /// The JSON object body, or 400.
    pub fn json_body(&self) -> Result<Map<String, Value>, Response> {
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(google_error(400, "parseError", "Invalid JSON payload received.")),
        }
    }
}

/// A user of customer `ci` by e-mail or id: 403 if it belongs to another customer,
/// 404 "Resource Not Found: {what}" if unknown.
pub(crate) fn user_of(w: &World, ci: usize, key: &str, what: &str) -> Result<usize, Response> {
    match w.find_user(key) {
        Some((c, u)) if c == ci => Ok(u),
        Some(_) => Err(not_authorized()),
        None => Err(not_found(what)),
    }
}

/// A group of customer `ci` by e-mail or id (as [`user_of`]).
pub(crate) fn group_of(w: &World, ci: usize, key: &str) -> Result<usize, Response> {
    match w.find_group(key) {
        Some((c, g)) if c == ci => Ok(g),
        Some(_) => Err(not_authorized()),
        None => Err(not_found("groupKey")),
    }
}
