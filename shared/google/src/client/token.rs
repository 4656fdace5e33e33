//! Service-account tokens with domain-wide delegation (reference §5
//! "Service-account token"): a JWT, header `{"alg":"RS256","typ":"JWT"}`
//! (+ `kid` = the key's `private_key_id`), claims `iss` = the service account,
//! `sub` = the impersonated admin, `scope` = the scope URLs space-separated,
//! `aud` = the token URL, `iat` = now, `exp` = `iat` + 3600, signed with the
//! key file's private key by `jsonwebtoken` (aws-lc-rs), posted as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…`.
//! The answer `{access_token, expires_in, token_type}` is cached per (admin,
//! scope set) until `refresh_margin` (60 s) before it expires; one fetch at a
//! time per key. 429 and 5xx are retried as [`crate::retry`] says; other
//! refusals become [`GoogleError::Token`].

use super::Client;
use crate::error::{GoogleError, parse_token_error};
use crate::key::{Scope, Subject};
use crate::retry::parse_retry_after;
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The JWT bearer grant (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Assertion lifetime: Google's maximum, 60 minutes.
pub const ASSERTION_LIFETIME_SECS: i64 = 3600;

pub(super) type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

pub(super) struct Cached {
    token: String,
    fresh_until: Instant,
}

impl fmt::Debug for Cached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached").field("token", &"<redacted>").field("fresh_until", &self.fresh_until).finish()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: String,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Seconds; a number per the reference, tolerated as a string.
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

impl Client {
    /// A valid access token of `admin` for `scope`, cached or freshly fetched.
    pub(super) async fn token(&self, admin: &Subject, scope: Scope) -> Result<String, GoogleError> {
        let slot = self.slot(admin, &[scope]);
        let mut guard = slot.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| c.fresh_until > Instant::now()) {
            return Ok(c.token.clone());
        }
        let cached = self.fetch_token(admin, &[scope]).await?;
        let token = cached.token.clone();
        *guard = Some(cached);
        Ok(token)
    }

    /// Forgets the cached token of `admin` for `scope` (after a 401).
    pub(super) async fn invalidate(&self, admin: &Subject, scope: Scope) {
        *self.slot(admin, &[scope]).lock().await = None;
    }

    fn slot(&self, admin: &Subject, scopes: &[Scope]) -> Slot {
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let key = (admin.as_str().to_ascii_lowercase(), scopes);
        let mut map = self.inner.tokens.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key).or_default().clone()
    }

    /// The signed assertion for `admin` and `scopes`, issued at `iat` (Unix seconds).
    pub(crate) fn assertion(&self, admin: &Subject, scopes: &[Scope], iat: i64) -> Result<String, GoogleError> {
        let cfg = &self.inner.cfg;
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.kid = cfg.key.private_key_id.clone();
        let claims = Claims {
            iss: &cfg.key.client_email,
            sub: admin.as_str(),
            scope: scopes.iter().map(Scope::as_url).collect::<Vec<_>>().join(" "),
            aud: cfg.token_url.as_str(),
            iat,
            exp: iat + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, cfg.key.encoding_key())
            .map_err(|e| GoogleError::Key(format!("cannot sign the JWT with the key file's private key: {e}")))
    }

    async fn fetch_token(&self, admin: &Subject, scopes: &[Scope]) -> Result<Cached, GoogleError> {
        let cfg = &self.inner.cfg;
        let max = cfg.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let jwt = self.assertion(admin, scopes, chrono::Utc::now().timestamp())?;
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", JWT_BEARER_GRANT)
                .append_pair("assertion", &jwt)
                .finish();
            let sent = self
                .inner
                .http
                .post(cfg.token_url.clone())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await;
            let (status, retry_after, body) = match read(sent).await {
                Ok(r) => r,
                Err(e) if attempt < max => {
                    tracing::debug!(error = %e, attempt, "google token request failed, retrying");
                    tokio::time::sleep(cfg.retry.delay(attempt, None)).await;
                    continue;
                }
                Err(e) => return Err(GoogleError::Http(format!("the token endpoint {}: {e}", cfg.token_url))),
            };
            if status == 429 || (500..600).contains(&status) {
                if attempt < max {
                    tracing::debug!(status, attempt, "google token endpoint unavailable, retrying");
                    tokio::time::sleep(cfg.retry.delay(attempt, retry_after)).await;
                    continue;
                }
                let reason = Some(parse_token_error(&body).0).filter(|e| !e.is_empty());
                return Err(GoogleError::RateLimited { attempts: attempt, status, reason });
            }
            if !(200..300).contains(&status) {
                let (error, description) = parse_token_error(&body);
                return Err(GoogleError::Token {
                    status,
                    error,
                    description,
                    scopes: scopes.to_vec(),
                    subject: admin.to_string(),
                    client_id: cfg.key.client_id.clone(),
                });
            }
            return self.cached(&body);
        }
    }

    fn cached(&self, body: &[u8]) -> Result<Cached, GoogleError> {
        let r: TokenResponse = serde_json::from_slice(body).map_err(|e| {
            GoogleError::Decode(format!("the token endpoint answered 200 without an access_token: {e}"))
        })?;
        let secs = match r.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .unwrap_or(3600)
        // Google issues tokens for an hour at most; a larger answer is not trusted.
        .min(3600);
        let life = Duration::from_secs(secs).saturating_sub(self.inner.cfg.refresh_margin);
        Ok(Cached { token: r.access_token, fresh_until: Instant::now() + life })
    }
}

/// (status, `Retry-After`, body) of a sent request, or the transport error.
pub(super) async fn read(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<(u16, Option<Duration>, Vec<u8>), reqwest::Error> {
    let resp = sent?;
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
    let body = resp.bytes().await?;
    Ok((status, retry_after, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GoogleConfig, ServiceAccountKey};
    use atpilot_google_sandbox::keys;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn the_assertion_has_google_header_and_claims() {
        let key = ServiceAccountKey::from_json(&keys::service_account_json(crate::DEFAULT_TOKEN_URL)).expect("key");
        let client = Client::new(GoogleConfig::new(key)).expect("client");
        let admin = Subject::new("admin@c1.example").expect("subject");
        let jwt = client.assertion(&admin, &[Scope::User, Scope::Licensing], 1_700_000_000).expect("signed");
        let header = jsonwebtoken::decode_header(&jwt).expect("header");
        assert_eq!((header.alg, header.typ.as_deref()), (Algorithm::RS256, Some("JWT")));
        assert_eq!(header.kid.as_deref(), Some(atpilot_google_sandbox::PRIVATE_KEY_ID));
        let dk = DecodingKey::from_rsa_pem(keys::TEST_ONLY_PUBLIC_KEY_PEM.as_bytes()).expect("public key");
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        v.set_audience(&[crate::DEFAULT_TOKEN_URL]);
        let c = jsonwebtoken::decode::<serde_json::Value>(&jwt, &dk, &v).expect("verifies").claims;
        assert_eq!(c["iss"], atpilot_google_sandbox::SERVICE_ACCOUNT_EMAIL);
        assert_eq!(c["sub"], "admin@c1.example");
        assert_eq!(
            c["scope"],
            "https://www.googleapis.com/auth/admin.directory.user https://www.googleapis.com/auth/apps.licensing"
        );
        assert_eq!(c["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!((c["iat"].as_i64(), c["exp"].as_i64()), (Some(1_700_000_000), Some(1_700_003_600)));
    }
}
