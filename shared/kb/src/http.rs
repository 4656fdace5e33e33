//! One request with the service's retry rules: 429 and 502/503/504 are
//! retried after the [`Pace`]'s delay, a bounded number of times and never
//! after a wait longer than the caller allows (a Lambda function has a
//! timeout; the queue redelivers the work instead); 401/403 are
//! [`KbError::Unauthorized`]; other failures carry the service's own message.

use crate::KbError;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How a service's rate limit is waited out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// The limit's window resets on multiples of this since the epoch (Hudu:
    /// 5 minutes, so a short sleep fails again): wait for the next boundary.
    Window(Duration),
    /// Exponential backoff from this delay (IT Glue documents no `Retry-After`).
    Backoff(Duration),
}

impl Pace {
    fn delay(self, attempt: u32) -> Duration {
        match self {
            Pace::Window(w) => {
                let w_ms = w.as_millis().max(1);
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
                // To the next boundary, plus a hundredth of the window for clock skew.
                let wait = w_ms - now % w_ms + w_ms / 100;
                Duration::from_millis(u64::try_from(wait).unwrap_or(u64::MAX))
            }
            Pace::Backoff(base) => base.saturating_mul(1 << attempt.saturating_sub(1).min(10)),
        }
    }
}

/// The service's message in an error body: IT Glue's `errors[].title/detail`
/// (`detail` a string or an array), Hudu's `error`, else the text itself (cut).
pub(crate) fn message(body: &str) -> String {
    let cut = |s: &str| s.chars().take(300).collect::<String>();
    let Ok(v) = serde_json::from_str::<Value>(body) else { return cut(body.trim()) };
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| {
                let detail = match &e["detail"] {
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                let title = e["title"].as_str().unwrap_or_default();
                if detail.is_empty() { title.to_string() } else { format!("{title}: {detail}") }
            })
            .collect();
        return cut(&parts.join(" | "));
    }
    match v.get("error").and_then(Value::as_str) {
        Some(e) => cut(e),
        None => cut(body.trim()),
    }
}

/// Whether a request may be sent again after a server error (502/503/504):
/// a read may; a creation may not, since the service may have done it (429
/// is retried either way: nothing was done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    Read,
    Write,
}

/// Sends the request `build` makes, retrying as the module says; the 2xx body.
pub(crate) async fn send(
    kb: &'static str,
    what: &str,
    (pace, max_attempts, max_wait): (Pace, u32, Duration),
    repeat: Repeat,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<String, KbError> {
    let max_attempts = max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let res = build().send().await.map_err(|source| KbError::Transport { kb, what: what.to_string(), source })?;
        let status = res.status().as_u16();
        let body = res.text().await.map_err(|source| KbError::Transport { kb, what: what.to_string(), source })?;
        match status {
            200..=299 => return Ok(body),
            401 | 403 => return Err(KbError::Unauthorized { kb, status }),
            429 | 502 | 503 | 504 if attempt < max_attempts && (status == 429 || repeat == Repeat::Read) => {
                let delay = pace.delay(attempt);
                if delay > max_wait {
                    // Longer than a function may wait: the queue brings the work back later.
                    return Err(KbError::RateLimited { kb, what: what.to_string(), attempts: attempt });
                }
                tracing::warn!(kb, what, status, attempt, delay_ms = delay.as_millis() as u64, "retrying");
                tokio::time::sleep(delay).await;
            }
            429 => return Err(KbError::RateLimited { kb, what: what.to_string(), attempts: attempt }),
            _ => return Err(KbError::Api { kb, status, what: what.to_string(), message: message(&body) }),
        }
    }
}

/// One service's API: its base URL, key header and retry rules, and the
/// JSON requests both adapters make over it.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    kb: &'static str,
    http: reqwest::Client,
    base: String,
    key: String,
    retry: (Pace, u32, Duration),
}

impl Api {
    /// `retry`: the pace, attempts per request and the longest single wait.
    pub(crate) fn new(kb: &'static str, base: &str, key: &str, retry: (Pace, u32, Duration)) -> Self {
        let base = base.trim_end_matches('/').to_string();
        Api { kb, http: reqwest::Client::new(), base, key: key.to_string(), retry }
    }

    /// `GET {base}{path}?query` as JSON.
    pub(crate) async fn get(&self, what: &str, path: &str, query: &[(&str, String)]) -> Result<Value, KbError> {
        let url = format!("{}{path}", self.base);
        let body = send(self.kb, what, self.retry, Repeat::Read, || {
            self.http.get(&url).header("x-api-key", &self.key).query(query)
        })
        .await?;
        json(self.kb, what, &body)
    }

    /// `POST {base}{path}` with `body` as `content_type`, its answer as JSON (a write: not
    /// repeated after a server error).
    pub(crate) async fn post(
        &self,
        what: &str,
        path: &str,
        body: &Value,
        content_type: &str,
    ) -> Result<Value, KbError> {
        let (url, text) = (format!("{}{path}", self.base), body.to_string());
        let answer = send(self.kb, what, self.retry, Repeat::Write, || {
            self.http.post(&url).header("x-api-key", &self.key).header("content-type", content_type).body(text.clone())
        })
        .await?;
        json(self.kb, what, &answer)
    }
}

/// Parses a JSON body.
pub(crate) fn json(kb: &'static str, what: &str, body: &str) -> Result<Value, KbError> {
    serde_json::from_str(body).map_err(|e| KbError::Decode { kb, what: what.to_string(), detail: e.to_string() })
}

/// The usual "not this shape" error.
pub(crate) fn shape(kb: &'static str, what: &str, detail: &str) -> KbError {
    KbError::Decode { kb, what: what.to_string(), detail: detail.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_both_services_read_as_their_message() {
        let itg = r#"{"errors":[{"status":422,"title":"Unprocessable Entity","detail":["can't be blank"]}]}"#;
        assert_eq!(message(itg), "Unprocessable Entity: can't be blank");
        let itg = r#"{"errors":[{"status":400,"title":"Bad Request","detail":"param is missing"}]}"#;
        assert_eq!(message(itg), "Bad Request: param is missing");
        assert_eq!(message(r#"{"success":false,"error":"Record not found"}"#), "Record not found");
        assert_eq!(message("Retry later\n"), "Retry later");
    }

    #[test]
    fn a_window_waits_for_its_next_boundary_and_backoff_doubles() {
        let w = Pace::Window(Duration::from_secs(300)).delay(1);
        assert!(w > Duration::ZERO && w <= Duration::from_secs(303), "{w:?}");
        let b = Pace::Backoff(Duration::from_millis(100));
        assert_eq!((b.delay(1), b.delay(3)), (Duration::from_millis(100), Duration::from_millis(400)));
    }
}
