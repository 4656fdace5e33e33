//! Sending one Graph request (reference §2): a bearer token per tenant, 429 /
//! 503 / 504 retried within the budget (`Retry-After` honoured, decimal
//! seconds rounded up, else exponential backoff), a 401 drops the cached token
//! and retries once, and `@odata.nextLink` paging followed verbatim (only to
//! the configured Graph host: the token never leaves it). A network failure is
//! retried for GETs only: a write whose answer was lost may have been applied,
//! so the caller (the runbook's verify step) reads the state back instead.

use super::Client;
use crate::error::{ApiError, GraphError, Needs, map_api_error};
use crate::ids::TenantId;
use crate::retry::{is_retryable, parse_retry_after};
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::sync::atomic::Ordering;
use url::Url;

/// Upper bound of pages followed in one listing.
pub(crate) const MAX_PAGES: usize = 1_000;

/// One request to send.
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub body: Option<serde_json::Value>,
    /// Adds `ConsistencyLevel: eventual` (advanced queries, reference §2).
    pub eventual: bool,
}

impl Req {
    pub fn get(url: Url) -> Self {
        Self { method: Method::GET, url, body: None, eventual: false }
    }
    pub fn with(method: Method, url: Url, body: Option<serde_json::Value>) -> Self {
        Self { method, url, body, eventual: false }
    }
}

/// A final answer (not retried any more): its status and body.
pub(crate) struct Resp {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn api_error(&self) -> ApiError {
        ApiError::parse(self.status, &self.body)
    }
    pub fn json<T: DeserializeOwned>(&self, context: &str) -> Result<T, GraphError> {
        serde_json::from_slice(&self.body).map_err(|source| GraphError::Decode { context: context.to_string(), source })
    }
}

impl Client {
    /// Sends `req` for `tenant`, retrying as the module says. Returns any
    /// answer that is not retried (2xx or an error status); only the retry
    /// budget running out, a token failure or the network are errors here.
    pub(crate) async fn send(&self, tenant: &TenantId, req: &Req) -> Result<Resp, GraphError> {
        let cfg = &self.inner.cfg;
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.token(tenant).await?;
            let mut b = self.inner.http.request(req.method.clone(), req.url.clone()).bearer_auth(token.secret());
            if req.eventual {
                b = b.header("ConsistencyLevel", "eventual");
            }
            b = match &req.body {
                Some(body) => b.json(body),
                None if req.method != Method::GET && req.method != Method::DELETE => b.header("content-length", "0"),
                None => b,
            };
            self.inner.graph_requests.fetch_add(1, Ordering::Relaxed);
            let context = || format!("{} {}", req.method, req.url.path());
            let resp = match b.send().await {
                Ok(r) => r,
                Err(source) if req.method == Method::GET && attempt < cfg.retry.max_attempts => {
                    tracing::debug!(error = %source, "graph GET failed, retrying");
                    cfg.sleeper.sleep(cfg.retry.delay(attempt, None)).await;
                    continue;
                }
                Err(source) => return Err(GraphError::Transport { context: context(), source }),
            };
            let status = resp.status().as_u16();
            let retry_after =
                resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
            let body = resp.bytes().await.map_err(|source| GraphError::Transport { context: context(), source })?;
            if is_retryable(status) {
                if attempt < cfg.retry.max_attempts.max(1) {
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(status, ?retry_after, attempt, "graph throttled, retrying");
                    cfg.sleeper.sleep(cfg.retry.delay(attempt, retry_after)).await;
                    continue;
                }
                return Err(GraphError::Throttled { status, attempts: attempt, retry_after });
            }
            if status == 401 && !refreshed {
                refreshed = true;
                attempt -= 1;
                self.invalidate_token(tenant).await;
                continue;
            }
            return Ok(Resp { status, body: body.to_vec() });
        }
    }

    /// Sends `req` and maps any error status with [`map_api_error`].
    pub(crate) async fn send_ok(
        &self,
        tenant: &TenantId,
        req: &Req,
        needs: &Needs,
        what: &str,
    ) -> Result<Resp, GraphError> {
        let r = self.send(tenant, req).await?;
        if r.ok() { Ok(r) } else { Err(map_api_error(tenant, needs, what, r.api_error())) }
    }

    /// Every item of a collection, following `@odata.nextLink` verbatim.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        tenant: &TenantId,
        first: Req,
        needs: &Needs,
        what: &str,
    ) -> Result<Vec<T>, GraphError> {
        #[derive(serde::Deserialize)]
        struct Page<T> {
            #[serde(default = "Vec::new")]
            value: Vec<T>,
            #[serde(rename = "@odata.nextLink")]
            next: Option<String>,
        }
        let mut out = Vec::new();
        let mut req = first;
        for _ in 0..MAX_PAGES {
            let page: Page<T> = self.send_ok(tenant, &req, needs, what).await?.json(what)?;
            out.extend(page.value);
            let Some(link) = page.next else { return Ok(out) };
            req.url = self.same_host(&link)?;
        }
        Ok(out)
    }

    /// `link` parsed, if it points at the configured Graph host.
    fn same_host(&self, link: &str) -> Result<Url, GraphError> {
        let base = &self.inner.cfg.graph_base;
        let foreign =
            || GraphError::ForeignNextLink { link: link.to_string(), expected: base.origin().ascii_serialization() };
        let url = Url::parse(link).map_err(|_| foreign())?;
        if url.origin() == base.origin() { Ok(url) } else { Err(foreign()) }
    }
}
