//! `POST /{tenant}/oauth2/v2.0/token` (reference §1 "Client credentials"):
//! form fields `client_id`, `scope`, `grant_type=client_credentials`, and a
//! `client_secret` (form field or Basic auth) or a `client_assertion` JWT
//! verified against the configured certificate (`PS256` + `x5t#S256` and
//! `RS256` + `x5t`, each switchable; `aud`, `iss`, `sub`, `exp`, `nbf`
//! checked). Errors use the AADSTS body with `invalid_client` → 401 and the
//! others → 400. Tokens are opaque and bound to the tenant.

use super::{Answer, Issued, Shared, json_resp, lock};
use crate::world::Consent;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

const SCOPE: &str = "https://graph.microsoft.com/.default";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An AADSTS error answer.
pub(crate) fn aad_error(error: &str, code: u64, text: &str) -> axum::response::Response {
    let status = if error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    let trace = uuid::Uuid::new_v4().to_string();
    let corr = uuid::Uuid::new_v4().to_string();
    let ts = Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    json_resp(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"),
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

pub(crate) fn handle(sh: &Shared, tenant_key: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
    sh.token_requests.fetch_add(1, Ordering::Relaxed);
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let resolved = lock(&sh.world).resolve(tenant_key);
    let resp = match issue(sh, resolved.as_deref(), tenant_key, headers, &form) {
        Ok(v) => json_resp(StatusCode::OK, v),
        Err(r) => r,
    };
    Answer::new(resp, resolved)
}

type Refusal = axum::response::Response;

fn issue(
    sh: &Shared,
    tenant: Option<&str>,
    tenant_key: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<serde_json::Value, Refusal> {
    let knobs = lock(&sh.knobs).clone();
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if f("grant_type") != "client_credentials" {
        return Err(aad_error("unsupported_grant_type", 70003, "The app requested an unsupported grant type."));
    }
    let basic = basic_credentials(headers);
    let client_id = basic.as_ref().map(|b| b.0.clone()).unwrap_or_else(|| f("client_id").to_string());
    let client_id = client_id.as_str();
    if f("scope") != SCOPE {
        return Err(aad_error(
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' is not valid.",
        ));
    }
    let Some(tenant) = tenant else {
        return Err(if knobs.unknown_tenant_90002 {
            aad_error("invalid_request", 90002, &format!("Tenant '{tenant_key}' not found."))
        } else {
            not_in_tenant(&sh.app.client_id, tenant_key)
        });
    };
    if client_id != sh.app.client_id {
        return Err(not_in_tenant(client_id, tenant_key));
    }
    let token_url = format!("{}/{tenant_key}/oauth2/v2.0/token", sh.base);
    match (basic.clone().map(|b| b.1).or_else(|| form.get("client_secret").cloned()), form.get("client_assertion")) {
        (Some(secret), _) => check_secret(sh, &secret)?,
        (None, Some(jwt)) if f("client_assertion_type") == ASSERTION_TYPE => {
            check_assertion(sh, &knobs, jwt, &token_url)?
        }
        _ => {
            return Err(aad_error(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ));
        }
    }
    let consent = lock(&sh.world).tenants.get(tenant).map(|t| t.app.consent).unwrap_or(Consent::NotConsented);
    match consent {
        Consent::Granted => {}
        Consent::NotConsented => return Err(not_in_tenant(client_id, tenant_key)),
        Consent::AdminConsentRequired => {
            return Err(aad_error("invalid_client", 90094, "The grant requires admin permission."));
        }
        Consent::BlockedByConditionalAccess => {
            return Err(aad_error("invalid_grant", 53003, "Access has been blocked by Conditional Access policies."));
        }
    }
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = format!("sbx.{}", URL_SAFE_NO_PAD.encode(raw));
    let secs = knobs.token_lifetime_secs;
    let expires_at = Utc::now() + chrono::Duration::seconds(secs as i64);
    lock(&sh.tokens).insert(token.clone(), Issued { tenant: tenant.to_string(), expires_at });
    Ok(json!({"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token}))
}

fn not_in_tenant(client_id: &str, tenant: &str) -> Refusal {
    aad_error(
        "unauthorized_client",
        700016,
        &format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
        ),
    )
}

/// (client id, secret) from `Authorization: Basic`, form-url-decoded.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
    let raw = String::from_utf8(STANDARD.decode(v.trim()).ok()?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let dec = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((dec(id)?, dec(secret)?))
}

fn check_secret(sh: &Shared, secret: &str) -> Result<(), Refusal> {
    if secret == sh.app.secret {
        return Ok(());
    }
    if secret == sh.app.expired_secret {
        return Err(aad_error(
            "invalid_client",
            7000222,
            &format!("The provided client secret keys for app '{}' are expired.", sh.app.client_id),
        ));
    }
    Err(aad_error(
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
    ))
}

#[derive(serde::Deserialize)]
struct AssertionClaims {
    jti: Option<String>,
    nbf: i64,
    exp: i64,
}

/// Entra: `exp` no more than 5–10 minutes after `nbf` (reference §1); the sandbox allows 10.
const MAX_ASSERTION_LIFETIME_SECS: i64 = 600;

fn bad_assertion(text: &str) -> Refusal {
    aad_error("invalid_client", 700027, text)
}

/// Verifies the assertion's header style, thumbprint, signature and claims.
fn check_assertion(sh: &Shared, knobs: &crate::Knobs, jwt: &str, token_url: &str) -> Result<(), Refusal> {
    let cert = sh.app.certificate.as_ref().ok_or_else(|| bad_assertion("No certificate is registered for the app."))?;
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| bad_assertion("Client assertion is not a valid JWT."))?;
    let alg = match header.alg {
        Algorithm::PS256 if knobs.accept_ps256_x5t_s256 => {
            if header.x5t_s256.as_deref() != Some(cert.x5t_s256.as_str()) {
                return Err(bad_assertion(
                    "The certificate with x5t#S256 in the assertion is not registered for the app.",
                ));
            }
            Algorithm::PS256
        }
        Algorithm::RS256 if knobs.accept_rs256_x5t => {
            if header.x5t.as_deref() != Some(cert.x5t.as_str()) {
                return Err(bad_assertion("The certificate with x5t in the assertion is not registered for the app."));
            }
            Algorithm::RS256
        }
        other => {
            return Err(bad_assertion(&format!(
                "The assertion's alg {other:?} with its thumbprint header is not accepted."
            )));
        }
    };
    let key = DecodingKey::from_rsa_pem(cert.public_key_pem.as_bytes())
        .map_err(|_| bad_assertion("The registered certificate key cannot be read."))?;
    let mut v = Validation::new(alg);
    v.set_audience(&[token_url]);
    v.set_issuer(&[sh.app.client_id.as_str()]);
    v.sub = Some(sh.app.client_id.clone());
    v.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    v.validate_nbf = true;
    v.leeway = 60;
    match jsonwebtoken::decode::<AssertionClaims>(jwt, &key, &v) {
        Ok(data) if data.claims.exp - data.claims.nbf > MAX_ASSERTION_LIFETIME_SECS => {
            Err(aad_error("invalid_client", 700024, "Client assertion is not within its valid time range."))
        }
        Ok(data) if data.claims.jti.as_deref().is_some_and(|j| !j.is_empty()) => Ok(()),
        Ok(_) => Err(bad_assertion("The assertion has no jti claim.")),
        Err(e) => {
            use jsonwebtoken::errors::ErrorKind as K;
            Err(match e.kind() {
                K::ExpiredSignature | K::ImmatureSignature => {
                    aad_error("invalid_client", 700024, "Client assertion is not within its valid time range.")
                }
                K::InvalidAudience => {
                    aad_error("invalid_client", 700027, "The assertion audience is not the token endpoint.")
                }
                K::InvalidIssuer | K::InvalidSubject => aad_error(
                    "invalid_client",
                    700021,
                    "Client assertion application identifier doesn't match 'client_id' parameter.",
                ),
                _ => bad_assertion("Client assertion failed signature validation."),
            })
        }
    }
}
