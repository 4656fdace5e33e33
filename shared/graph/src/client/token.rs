//! Client-credentials tokens per tenant (reference §1): `POST
//! {login}/{tenant}/oauth2/v2.0/token` with `client_id`, `scope`,
//! `grant_type=client_credentials` and the secret (form field or Basic) or a
//! certificate assertion. Cached per tenant until `refresh_margin` before
//! `expires_in` runs out; one fetch at a time per tenant. Errors are mapped
//! from the AADSTS body ([`TokenError::from_aad`]).

use super::Client;
use crate::credential::{Credential, SecretPlacement};
use crate::error::{AadError, GraphError, TokenError};
use crate::ids::{AccessToken, TenantId};
use crate::retry::{is_retryable, parse_retry_after};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(super) type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

#[derive(Debug, Clone)]
pub(super) struct Cached {
    token: AccessToken,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// A number per the doc; some endpoints send it as a string.
    expires_in: serde_json::Value,
}

impl Client {
    /// A valid token for `tenant`, from the cache or freshly fetched.
    pub(super) async fn token(&self, tenant: &TenantId) -> Result<AccessToken, GraphError> {
        let slot = self.slot(tenant);
        let mut guard = slot.lock().await;
        let now = self.inner.cfg.clock.now();
        let margin = chrono::Duration::from_std(self.inner.cfg.refresh_margin).unwrap_or_default();
        if let Some(c) = guard.as_ref().filter(|c| c.expires_at - margin > now) {
            return Ok(c.token.clone());
        }
        let cached =
            self.fetch_token(tenant).await.map_err(|source| GraphError::Token { tenant: tenant.clone(), source })?;
        let token = cached.token.clone();
        *guard = Some(cached);
        Ok(token)
    }

    /// Forgets `tenant`'s token (after a 401, or after consent or roles changed:
    /// tokens cached before a change lack it, reference §1 "Entra roles for the SP").
    pub async fn invalidate_token(&self, tenant: &TenantId) {
        let slot = self.slot(tenant);
        *slot.lock().await = None;
    }

    fn slot(&self, tenant: &TenantId) -> Slot {
        let mut map = match self.inner.tokens.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(tenant.clone()).or_default().clone()
    }

    /// The token endpoint of `tenant` (also the assertion's `aud`).
    pub fn token_url(&self, tenant: &TenantId) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.inner.cfg.login_base.as_str().trim_end_matches('/'), tenant)
    }

    async fn fetch_token(&self, tenant: &TenantId) -> Result<Cached, TokenError> {
        let cfg = &self.inner.cfg;
        let url = self.token_url(tenant);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now = cfg.clock.now();
            let req = self.token_request(&url, now)?;
            self.inner.token_requests.fetch_add(1, Ordering::Relaxed);
            let resp = req.send().await.map_err(|source| TokenError::Transport { source })?;
            let status = resp.status().as_u16();
            let retry_after =
                resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
            let body = resp.bytes().await.map_err(|source| TokenError::Transport { source })?;
            if is_retryable(status) {
                if attempt < cfg.retry.max_attempts.max(1) {
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                    cfg.sleeper.sleep(cfg.retry.delay(attempt, retry_after)).await;
                    continue;
                }
                return Err(TokenError::Unavailable { status, attempts: attempt });
            }
            if !(200..300).contains(&status) {
                return Err(TokenError::from_aad(tenant, AadError::parse(status, &body)));
            }
            let t: TokenResponse = serde_json::from_slice(&body).map_err(|source| TokenError::Decode { source })?;
            let secs = match &t.expires_in {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            }
            .unwrap_or(3599);
            tracing::debug!(%tenant, expires_in = secs, "graph token issued");
            return Ok(Cached {
                token: AccessToken::new(t.access_token),
                expires_at: now + chrono::Duration::seconds(secs),
            });
        }
    }

    fn token_request(&self, url: &str, now: DateTime<Utc>) -> Result<reqwest::RequestBuilder, TokenError> {
        let cfg = &self.inner.cfg;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("client_id", cfg.client_id.as_str())
            .append_pair("scope", &cfg.scope)
            .append_pair("grant_type", "client_credentials");
        let mut basic = None;
        match &cfg.credential {
            Credential::Secret { secret, placement: SecretPlacement::Form } => {
                form.append_pair("client_secret", secret.secret());
            }
            Credential::Secret { secret, placement: SecretPlacement::Basic } => {
                let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", enc(cfg.client_id.as_str()), enc(secret.secret()));
                basic = Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)));
            }
            Credential::Certificate(cert) => {
                let jwt = cert
                    .assertion(cfg.client_id.as_str(), url, now, uuid::Uuid::new_v4())
                    .map_err(|source| TokenError::Assertion { source })?;
                form.append_pair("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                    .append_pair("client_assertion", &jwt);
            }
        }
        let mut req =
            self.inner.http.post(url).header("content-type", "application/x-www-form-urlencoded").body(form.finish());
        if let Some(b) = basic {
            req = req.header("authorization", b);
        }
        Ok(req)
    }
}
