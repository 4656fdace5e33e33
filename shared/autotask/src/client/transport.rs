//! Transport: every request goes through here. Zone discovery (cached), auth
//! headers, the request budget (a share of the tenant's hourly limit, with
//! ThresholdInformation read sparingly), at most N concurrent requests per
//! endpoint, and retries with backoff on 429 / `Retry-After` / thread limit /
//! retryable 5xx (never on validation errors, never a create that may have applied).

use super::{Client, ZoneSource};
use crate::entities::{ThresholdInformation, ZoneInformation};
use crate::error::{Error, Result, parse_error_body};
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub(super) struct Budget {
    pub(super) sent: VecDeque<Instant>,
    pub(super) tenant_limit: u32,
    /// Tenant-wide usage from the last ThresholdInformation read, and when.
    pub(super) reported: Option<(Instant, u32)>,
    pub(super) sent_since_report: u32,
}

/// Retries: attempts, exponential backoff with jitter, and the cap on a server's `Retry-After`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Cap on a server's `Retry-After`.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter in [d/2, d].
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let d = exp.min(self.max_delay);
        let f: f64 = rand::rng().random_range(0.5..=1.0);
        d.mul_f64(f)
    }
}

/// The thread-limit key of a path: the entity endpoint (`Tickets/1/Notes` → `TicketNotes`).
pub fn endpoint_key(path: &str) -> String {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let segs: Vec<&str> = match segs.first() {
        Some(s) if s.eq_ignore_ascii_case("v1.0") => segs[1..].to_vec(),
        _ => segs,
    };
    match segs.as_slice() {
        [parent, id, child, ..] if id.parse::<i64>().is_ok() => {
            let known = [
                ("tickets", "notes", "ticketnotes"),
                ("contracts", "blocks", "contractblocks"),
                ("contracts", "blockhourfactors", "contractblockhourfactors"),
                ("contracts", "ticketpurchases", "contractticketpurchases"),
                ("contracts", "services", "contractservices"),
                ("companies", "contacts", "contacts"),
                ("resources", "roles", "resourceroles"),
                ("ticketwebhooks", "fields", "ticketwebhookfields"),
                ("ticketwebhooks", "excludedresources", "ticketwebhookexcludedresources"),
            ];
            let (p, c) = (parent.to_ascii_lowercase(), child.to_ascii_lowercase());
            known
                .iter()
                .find(|(a, b, _)| *a == p && *b == c)
                .map(|(_, _, k)| k.to_string())
                .unwrap_or(format!("{p}/{c}"))
        }
        [first, ..] => first.to_ascii_lowercase(),
        [] => String::new(),
    }
}

fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let d = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(d.to_std().unwrap_or(Duration::ZERO))
}

/// Autotask answers a security-level refusal with HTTP 500 and a sentence,
/// not 403 (field reports; the wording is not documented, so several are
/// accepted): "does not have permission", "insufficient permissions",
/// "not authorized", "access denied", "security level".
fn is_permission_message(lower: &str) -> bool {
    ["permission", "not authorized", "unauthorized to", "access denied", "security level", "no access to"]
        .iter()
        .any(|p| lower.contains(p))
}

/// Classifies a non-2xx response.
fn classify(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &[u8]) -> Error {
    let (messages, error_id) = parse_error_body(body);
    let code = status.as_u16();
    let all = messages.join(" ").to_ascii_lowercase();
    if all.contains("itgenatr005") || all.contains("thread threshold") {
        return Error::ThreadLimit { status: code, messages };
    }
    match code {
        429 => Error::RateLimited { retry_after: retry_after(headers), messages },
        401 => Error::Auth { status: code, messages },
        403 => Error::Forbidden { status: code, messages },
        404 => Error::NotFound { status: code, messages },
        405 => Error::MethodNotAllowed { status: code, messages },
        500 if messages.is_empty() => Error::Server { status: code, messages },
        500 => {
            let unknown_user = all
                .match_indices("unable to find user")
                .any(|(i, m)| !all[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()));
            if all.contains("integration code") || unknown_user || all.contains("not a valid api user") {
                Error::Auth { status: code, messages }
            } else if all.contains("threshold") && all.contains("exceeded") {
                Error::RateLimited { retry_after: retry_after(headers), messages }
            } else if is_permission_message(&all) {
                Error::Forbidden { status: code, messages }
            } else {
                Error::Validation { status: code, messages, error_id }
            }
        }
        502..=504 => Error::Server { status: code, messages },
        c if c >= 500 => Error::Server { status: code, messages },
        _ => Error::Validation { status: code, messages, error_id },
    }
}

/// Whether an error may be retried for this request. A POST that creates is
/// retried only when Autotask certainly did not apply it.
fn may_retry(e: &Error, creates: bool) -> bool {
    match e {
        Error::RateLimited { .. } | Error::ThreadLimit { .. } => true,
        Error::Server { status, .. } => !creates || *status == 503,
        Error::Transport(msg) => !creates || msg.starts_with("connect"),
        Error::Timeout(_) => !creates,
        _ => false,
    }
}

impl Client {
    /// The zone's REST root (with a trailing slash), discovered once and cached.
    pub async fn zone_url(&self) -> Result<String> {
        let ttl = self.inner.cfg.zone_ttl;
        if let Some((u, at)) = self.inner.zone.lock().unwrap().clone() {
            if at.elapsed() < ttl {
                return Ok(u);
            }
        }
        let _g = self.inner.zone_lock.lock().await;
        if let Some((u, at)) = self.inner.zone.lock().unwrap().clone() {
            if at.elapsed() < ttl {
                return Ok(u);
            }
        }
        let url = match &self.inner.cfg.zone {
            ZoneSource::Fixed { rest_url } => rest_url.clone(),
            ZoneSource::Discover { bootstrap_url } => self.discover(bootstrap_url).await?.url,
        };
        let url = if url.ends_with('/') { url } else { format!("{url}/") };
        *self.inner.zone.lock().unwrap() = Some((url.clone(), Instant::now()));
        Ok(url)
    }

    /// `zoneInformation?user=`: unauthenticated, not thread-limited, not counted.
    pub async fn discover(&self, bootstrap_url: &str) -> Result<ZoneInformation> {
        let base = bootstrap_url.trim_end_matches('/');
        let base = if base.to_ascii_lowercase().ends_with("/atservicesrest") {
            base.to_string()
        } else {
            format!("{base}/atservicesrest")
        };
        let mut url =
            url::Url::parse(&format!("{base}/v1.0/zoneInformation")).map_err(|e| Error::Zone(e.to_string()))?;
        url.query_pairs_mut().append_pair("user", &self.inner.cfg.credentials.username);
        let resp = self.inner.http.get(url).send().await.map_err(|e| Error::Zone(e.to_string()))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| Error::Zone(e.to_string()))?;
        if !status.is_success() {
            let (m, _) = parse_error_body(&body);
            return Err(Error::Zone(format!("HTTP {}: {}", status.as_u16(), m.join("; "))));
        }
        serde_json::from_slice(&body).map_err(|e| Error::Zone(format!("bad zoneInformation: {e}")))
    }

    fn semaphore(&self, key: &str) -> Arc<Semaphore> {
        self.inner
            .semaphores
            .lock()
            .unwrap()
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.inner.cfg.max_concurrency_per_endpoint)))
            .clone()
    }

    /// Takes one request from the budget, or refuses.
    fn spend(&self) -> Result<()> {
        let mut b = self.inner.budget.lock().unwrap();
        let now = Instant::now();
        while b.sent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(3600)) {
            b.sent.pop_front();
        }
        let allowed = ((b.tenant_limit as f64) * self.inner.cfg.budget_share).floor().max(1.0) as u32;
        let used = b.sent.len() as u32;
        if used >= allowed {
            // The oldest request of the sliding hour leaves it first.
            let oldest = b.sent.front().copied().unwrap_or(now);
            let retry_after = Duration::from_secs(3600).saturating_sub(now.duration_since(oldest));
            return Err(Error::BudgetExhausted { used, allowed, tenant_limit: b.tenant_limit, retry_after });
        }
        if let Some((at, reported)) = b.reported {
            if reported + b.sent_since_report >= b.tenant_limit {
                // Tenant-wide: every request the reading counted has left the hour an hour after it.
                let retry_after = Duration::from_secs(3600).saturating_sub(now.duration_since(at));
                return Err(Error::BudgetExhausted {
                    used: reported + b.sent_since_report,
                    allowed,
                    tenant_limit: b.tenant_limit,
                    retry_after,
                });
            }
        }
        b.sent.push_back(now);
        b.sent_since_report += 1;
        Ok(())
    }

    /// Reads ThresholdInformation at most every `threshold_refresh`.
    async fn maybe_refresh_threshold(&self) -> Result<()> {
        let Some(every) = self.inner.cfg.threshold_refresh else { return Ok(()) };
        let due = |c: &Client| c.inner.budget.lock().unwrap().reported.is_none_or(|(at, _)| at.elapsed() >= every);
        if !due(self) {
            return Ok(());
        }
        let _g = self.inner.threshold_lock.lock().await;
        if !due(self) {
            return Ok(());
        }
        let t = self.threshold_information().await?;
        let mut b = self.inner.budget.lock().unwrap();
        if t.external_request_threshold > 0 {
            b.tenant_limit = t.external_request_threshold;
        }
        b.reported = Some((Instant::now(), t.current_timeframe_request_count));
        b.sent_since_report = 0;
        Ok(())
    }

    /// `GET /V1.0/ThresholdInformation` (counts against the limit).
    pub async fn threshold_information(&self) -> Result<ThresholdInformation> {
        self.inner.stats.lock().unwrap().threshold_reads += 1;
        let v = self.send_raw(Method::GET, "ThresholdInformation", None, None).await?;
        serde_json::from_value(v).map_err(|e| Error::Decode(e.to_string()))
    }

    /// Sends one API request (path relative to `/V1.0/`, or an absolute URL
    /// on the zone host) with budget, concurrency limit and retries.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: Option<&[(&str, String)]>,
        body: Option<&Value>,
    ) -> Result<Value> {
        self.maybe_refresh_threshold().await?;
        self.send_raw(method, path, query, body).await
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        query: Option<&[(&str, String)]>,
        body: Option<&Value>,
    ) -> Result<Value> {
        let zone = self.zone_url().await?;
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{zone}v1.0/{}", path.trim_start_matches('/'))
        };
        let url_path = url::Url::parse(&url).map(|u| u.path().to_string()).unwrap_or_default();
        let key = endpoint_key(
            url_path.trim_start_matches('/').trim_start_matches(|c: char| c != '/').trim_start_matches('/'),
        );
        let sem = self.semaphore(&key);
        let creates = method == Method::POST && !url_path.to_ascii_lowercase().contains("/query");
        let policy = &self.inner.cfg.retry;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result = {
                let _permit = sem.acquire().await.map_err(|_| Error::Config("semaphore closed".into()))?;
                self.spend()?;
                self.inner.stats.lock().unwrap().requests += 1;
                self.once(&method, &url, query, body).await
            };
            match result {
                Ok(v) => return Ok(v),
                Err(e) if attempt < policy.max_attempts && may_retry(&e, creates) => {
                    let wait = match &e {
                        Error::RateLimited { retry_after: Some(d), .. } => {
                            (*d).min(policy.max_retry_after) + policy.backoff(1) / 4
                        }
                        _ => policy.backoff(attempt),
                    };
                    tracing::warn!(%method, endpoint = %key, attempt, ?wait, error = %e, "autotask request failed, retrying");
                    self.inner.stats.lock().unwrap().retries += 1;
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn once(
        &self,
        method: &Method,
        url: &str,
        query: Option<&[(&str, String)]>,
        body: Option<&Value>,
    ) -> Result<Value> {
        let c = &self.inner.cfg.credentials;
        let mut rb = self
            .inner
            .http
            .request(method.clone(), url)
            .header("ApiIntegrationCode", &c.integration_code)
            .header("UserName", &c.username)
            .header("Secret", &c.secret)
            .header("Accept", "application/json");
        if let Some(id) = c.impersonation_resource_id {
            rb = rb.header("ImpersonationResourceId", id.to_string());
        }
        if let Some(q) = query {
            rb = rb.query(q);
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(b).map_err(|e| Error::Decode(e.to_string()))?);
        }
        let resp = rb.send().await.map_err(|e| {
            if e.is_timeout() {
                Error::Timeout(e.to_string())
            } else if e.is_connect() {
                Error::Transport(format!("connect: {e}"))
            } else {
                Error::Transport(e.to_string())
            }
        })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| {
            if e.is_timeout() { Error::Timeout(e.to_string()) } else { Error::Transport(e.to_string()) }
        })?;
        if !status.is_success() {
            return Err(classify(status, &headers, &bytes));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        // Some errors arrive with a 200 and an `errors` array.
        let v: Value = crate::json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))?;
        if let Some(errs) = v.get("errors").and_then(Value::as_array).filter(|a| !a.is_empty()) {
            if v.get("item").is_none() && v.get("items").is_none() && v.get("itemId").is_none() {
                let _ = errs;
                return Err(classify(StatusCode::INTERNAL_SERVER_ERROR, &headers, &bytes));
            }
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keys() {
        assert_eq!(endpoint_key("v1.0/Tickets/query"), "tickets");
        assert_eq!(
            endpoint_key("/atservicesrest/v1.0/Tickets/12/Notes".trim_start_matches("/atservicesrest/")),
            "ticketnotes"
        );
        assert_eq!(endpoint_key("TicketNotes/query"), "ticketnotes");
        assert_eq!(endpoint_key("TicketWebhooks/3/Fields"), "ticketwebhookfields");
    }

    #[test]
    fn classifies_errors() {
        let h = reqwest::header::HeaderMap::new();
        let e =
            classify(StatusCode::INTERNAL_SERVER_ERROR, &h, br#"{"errors":["hoursWorked must be greater than 0"]}"#);
        assert!(matches!(e, Error::Validation { .. }) && !may_retry(&e, false));
        let e = classify(
            StatusCode::INTERNAL_SERVER_ERROR,
            &h,
            br#"{"errors":["Itgenatr005: thread threshold exceeded"]}"#,
        );
        assert!(matches!(e, Error::ThreadLimit { .. }) && may_retry(&e, true));
        let e = classify(
            StatusCode::INTERNAL_SERVER_ERROR,
            &h,
            br#"{"errors":["Unable to find userDefinedFields in the X Entity."]}"#,
        );
        assert!(matches!(e, Error::Validation { .. }));
        for text in [
            "User does not have permission to create TicketNotes.",
            "Insufficient permissions: your security level does not allow editing Tickets",
            "The logged in Resource is not authorized to add Time Entries",
        ] {
            let body = serde_json::json!({ "errors": [text] }).to_string();
            let e = classify(StatusCode::INTERNAL_SERVER_ERROR, &h, body.as_bytes());
            assert!(matches!(e, Error::Forbidden { status: 500, .. }) && !may_retry(&e, false), "{text}: {e:?}");
        }
        let e = classify(StatusCode::UNAUTHORIZED, &h, br#"{"errors":["denied"]}"#);
        assert!(matches!(e, Error::Auth { .. }));
        let e = classify(
            StatusCode::INTERNAL_SERVER_ERROR,
            &h,
            br#"{"errors":["The integration code provided is not valid."]}"#,
        );
        assert!(matches!(e, Error::Auth { .. }));
        let e = classify(StatusCode::GATEWAY_TIMEOUT, &h, b"");
        assert!(may_retry(&e, false) && !may_retry(&e, true));
        let e = classify(StatusCode::TOO_MANY_REQUESTS, &h, b"{}");
        assert!(may_retry(&e, true));
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let p = RetryPolicy::default();
        for a in 1..8 {
            let d = p.backoff(a);
            let cap = p.base_delay.saturating_mul(1 << (a - 1)).min(p.max_delay);
            assert!(d <= cap && d >= cap / 2, "{a}: {d:?}");
        }
    }
}
