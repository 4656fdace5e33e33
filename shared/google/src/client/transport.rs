//! Sending one API call (reference §5 "Errors and quotas"): a bearer token of
//! the admin for the call's one scope; quota 403/429s and 429/5xx retried as
//! [`crate::retry`] says (every call of this client has an idempotent
//! effect, so writes are retried too, also after a network failure); a 401
//! drops the cached token and tries once more.

use super::Client;
use super::token::read;
use crate::error::{GoogleError, parse_api_error};
use crate::key::{Scope, Subject};
use crate::retry::is_retryable;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

/// One call to make.
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Option<serde_json::Value>,
    /// The one scope the call needs (and asks its token for).
    pub scope: Scope,
}

impl Call {
    pub fn new(method: Method, url: Url, scope: Scope) -> Self {
        Self { method, url, body: None, scope }
    }
    pub fn with_body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// A final answer (not retried any more).
pub(crate) struct Resp {
    pub status: u16,
    pub body: Vec<u8>,
    pub scope: Scope,
}

impl Resp {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The typed error of a non-2xx answer.
    pub fn error(&self) -> GoogleError {
        parse_api_error(self.status, &self.body, self.scope)
    }
    /// `self` if 2xx, else its typed error.
    pub fn require_ok(self) -> Result<Resp, GoogleError> {
        if self.ok() { Ok(self) } else { Err(self.error()) }
    }
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, GoogleError> {
        serde_json::from_slice(&self.body).map_err(|e| GoogleError::Decode(format!("{what}: {e}")))
    }
}

impl Client {
    /// Sends `call` as `admin`, retrying as the module says. Returns any answer
    /// that is not retried (2xx or an error status); only a token refusal, the
    /// retry budget running out or the network are errors here.
    pub(crate) async fn send(&self, admin: &Subject, call: &Call) -> Result<Resp, GoogleError> {
        let policy = &self.inner.cfg.retry;
        let max = policy.max_attempts.max(1);
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.token(admin, call.scope).await?;
            let mut b = self.inner.http.request(call.method.clone(), call.url.clone()).bearer_auth(token);
            b = match &call.body {
                Some(body) => b.json(body),
                None if call.method == Method::POST => b.header("content-length", "0"),
                None => b,
            };
            let (status, retry_after, body) = match read(b.send().await).await {
                Ok(r) => r,
                Err(e) if attempt < max => {
                    tracing::debug!(error = %e, attempt, "google call failed, retrying");
                    tokio::time::sleep(policy.delay(attempt, None)).await;
                    continue;
                }
                Err(e) => return Err(GoogleError::Http(format!("{} {}: {e}", call.method, call.url.path()))),
            };
            let resp = Resp { status, body, scope: call.scope };
            if resp.ok() {
                return Ok(resp);
            }
            let err = resp.error();
            if is_retryable(status, err.reason()) {
                if attempt < max {
                    tracing::debug!(status, reason = ?err.reason(), attempt, "google throttled, retrying");
                    tokio::time::sleep(policy.delay(attempt, retry_after)).await;
                    continue;
                }
                let reason = err.reason().map(str::to_string);
                return Err(GoogleError::RateLimited { attempts: attempt, status, reason });
            }
            if status == 401 && !refreshed {
                refreshed = true;
                attempt -= 1;
                self.invalidate(admin, call.scope).await;
                continue;
            }
            return Ok(resp);
        }
    }
}
