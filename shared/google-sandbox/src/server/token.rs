//! `POST /token` (reference §5 "Service-account token", "Token errors"): the
//! form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`;
//! the JWT must be RS256 signed by the TEST-ONLY service-account key (a `kid`,
//! if sent, must be its id), `iss` the service account, `aud` this token URL
//! (or Google's), `exp - iat` ≤ 3600 with now in `[iat - 300, exp]`, `sub` a
//! user of a customer, and every requested scope delegated by that customer.
//! Answers `{"access_token","expires_in","token_type":"Bearer"}` or Google's
//! OAuth error body `{"error","error_description"}`.

use super::{Answer, Issued, Shared, json_resp, lock};
use crate::keys::TEST_ONLY_PUBLIC_KEY_PEM;
use crate::seed::{PRIVATE_KEY_ID, SERVICE_ACCOUNT_EMAIL};
use axum::response::Response;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde_json::{Value, json};
use std::collections::HashMap;

pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google's own token URL, accepted as `aud` besides the sandbox's.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
pub const BAD_SIGNATURE: &str = "Invalid JWT Signature.";
pub const UNKNOWN_SUBJECT: &str = "Invalid email or User ID";
pub const NOT_DELEGATED: &str = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";

/// Google's OAuth error body.
fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_resp(status, json!({"error": error, "error_description": description}))
}

type Refusal = (Response, Option<String>);

pub(crate) fn handle(sh: &Shared, body: &[u8]) -> Answer {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    match issue(sh, &form) {
        Ok((v, customer)) => Answer { resp: json_resp(200, v), customer: Some(customer) },
        Err((resp, customer)) => Answer { resp, customer },
    }
}

fn issue(sh: &Shared, form: &HashMap<String, String>) -> Result<(Value, String), Refusal> {
    let refuse = |status: u16, error: &str, text: &str| (oauth_error(status, error, text), None);
    let grant = form.get("grant_type").map(String::as_str).unwrap_or_default();
    if grant != JWT_BEARER_GRANT {
        return Err(refuse(400, "unsupported_grant_type", &format!("Invalid grant_type: {grant}")));
    }
    let jwt = form
        .get("assertion")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| refuse(400, "invalid_request", "Missing required parameter: assertion"))?;
    let claims = verified_claims(jwt).ok_or_else(|| refuse(400, "invalid_grant", BAD_SIGNATURE))?;
    let s = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    if s("iss") != SERVICE_ACCOUNT_EMAIL {
        return Err(refuse(401, "invalid_client", "The OAuth client was not found."));
    }
    let token_url = format!("{}/token", sh.base);
    let aud = s("aud");
    if aud != token_url && aud != GOOGLE_TOKEN_URL {
        return Err(refuse(400, "invalid_grant", "Invalid JWT: Failed audience check."));
    }
    let (iat, exp) = (claims.get("iat").and_then(Value::as_i64), claims.get("exp").and_then(Value::as_i64));
    let now = Utc::now().timestamp();
    let timely = matches!((iat, exp), (Some(i), Some(e)) if e > i && e - i <= 3600 && now >= i - 300 && now <= e);
    if !timely {
        return Err(refuse(400, "invalid_grant", SHORT_LIVED));
    }
    let scopes: Vec<String> = s("scope").split_whitespace().map(str::to_string).collect();
    if scopes.is_empty() {
        return Err(refuse(400, "invalid_scope", "Empty or missing scope not allowed."));
    }
    let subject = s("sub");
    let (customer, delegated) = {
        let w = lock(&sh.world);
        let (ci, _) = w.find_user(&subject).ok_or_else(|| refuse(400, "invalid_grant", UNKNOWN_SUBJECT))?;
        let c = &w.customers[ci];
        (c.customer_id.clone(), c.delegated_scopes.clone())
    };
    if !scopes.iter().all(|s| delegated.contains(s)) {
        return Err((oauth_error(401, "unauthorized_client", NOT_DELEGATED), Some(customer)));
    }
    let lifetime = lock(&sh.knobs).token_lifetime_secs;
    let mut raw = [0u8; 24];
    rand::rng().fill_bytes(&mut raw);
    let token = format!("ya29.sbx-{}", raw.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let expires_at = Utc::now() + chrono::Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::MAX / 2));
    let issued = Issued { customer: customer.clone(), subject: subject.to_ascii_lowercase(), scopes, expires_at };
    lock(&sh.tokens).insert(token.clone(), issued);
    Ok((json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}), customer))
}

/// The claims of an RS256 JWT signed by the TEST-ONLY service-account key
/// (and naming its `kid`, if any); `None` for anything else.
fn verified_claims(jwt: &str) -> Option<serde_json::Map<String, Value>> {
    let header = jsonwebtoken::decode_header(jwt).ok()?;
    if header.alg != Algorithm::RS256 || header.kid.as_deref().is_some_and(|k| k != PRIVATE_KEY_ID) {
        return None;
    }
    let key = DecodingKey::from_rsa_pem(TEST_ONLY_PUBLIC_KEY_PEM.as_bytes()).ok()?;
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Map<String, Value>>(jwt, &key, &v).ok().map(|d| d.claims)
}
