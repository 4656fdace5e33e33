//! Typed errors. Every API error carries Autotask's own messages.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// `MaxRecords` must be 1..=500 (checked before sending).
    #[error("MaxRecords must be between 1 and 500, got {0}")]
    MaxRecords(u32),
    /// A query the client refuses to send (e.g. more than 500 OR conditions that cannot be split).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// Autotask rejected the data (usually an HTTP 500 with an `errors` array). Not retried.
    #[error("Autotask rejected the request ({status}): {}", messages.join("; "))]
    Validation { status: u16, messages: Vec<String>, error_id: Option<i64> },
    /// Wrong secret (401), or an unknown user / integration code (which Autotask reports as 500).
    #[error("Autotask authentication failed ({status}): {}", messages.join("; "))]
    Auth { status: u16, messages: Vec<String> },
    #[error("Autotask denied access ({status}): {}", messages.join("; "))]
    Forbidden { status: u16, messages: Vec<String> },
    #[error("not found ({status}): {}", messages.join("; "))]
    NotFound { status: u16, messages: Vec<String> },
    /// HTTP 405: usually PATCH/PUT sent to an item URL instead of the collection.
    #[error("method not allowed ({status}): {}", messages.join("; "))]
    MethodNotAllowed { status: u16, messages: Vec<String> },
    /// 429 or threshold exceeded, after the retries ran out.
    #[error("rate limited by Autotask (retry after {retry_after:?}): {}", messages.join("; "))]
    RateLimited { retry_after: Option<Duration>, messages: Vec<String> },
    /// `Itgenatr005` thread-limit rejections, after the retries ran out.
    #[error("Autotask thread limit exceeded (Itgenatr005): {}", messages.join("; "))]
    ThreadLimit { status: u16, messages: Vec<String> },
    /// A retryable server error (5xx without a validation message), after the retries ran out.
    #[error("Autotask server error ({status}): {}", messages.join("; "))]
    Server { status: u16, messages: Vec<String> },
    /// The client's own hourly budget (its share of the tenant's limit) is used up;
    /// `retry_after`: when its sliding hour frees the next request (an estimate
    /// when the tenant-wide figure ran out).
    #[error(
        "request budget exhausted: {used} of {allowed} requests in the current hour (tenant limit {tenant_limit}); the next frees in {} s",
        retry_after.as_secs()
    )]
    BudgetExhausted { used: u32, allowed: u32, tenant_limit: u32, retry_after: Duration },
    #[error("transport error: {0}")]
    Transport(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("cannot decode Autotask's response: {0}")]
    Decode(String),
    #[error("zone discovery failed: {0}")]
    Zone(String),
    #[error("configuration error: {0}")]
    Config(String),
}

impl Error {
    /// Autotask's messages, when the error came from Autotask.
    pub fn messages(&self) -> &[String] {
        match self {
            Error::Validation { messages, .. }
            | Error::Auth { messages, .. }
            | Error::Forbidden { messages, .. }
            | Error::NotFound { messages, .. }
            | Error::MethodNotAllowed { messages, .. }
            | Error::RateLimited { messages, .. }
            | Error::ThreadLimit { messages, .. }
            | Error::Server { messages, .. } => messages,
            _ => &[],
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::ThreadLimit { .. }
                | Error::Server { .. }
                | Error::Transport(_)
                | Error::Timeout(_)
        )
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Parses Autotask's error body: `{"errors": ["..."] , "errorId": N}`; elements
/// may also be objects with `message`. Falls back to the raw text.
pub fn parse_error_body(body: &[u8]) -> (Vec<String>, Option<i64>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        let text = String::from_utf8_lossy(body).trim().chars().take(500).collect::<String>();
        return (if text.is_empty() { vec![] } else { vec![text] }, None);
    };
    let get = |k: &str| {
        v.as_object().and_then(|o| o.iter().find(|(kk, _)| kk.eq_ignore_ascii_case(k)).map(|(_, x)| x.clone()))
    };
    let mut msgs = vec![];
    if let Some(serde_json::Value::Array(a)) = get("errors") {
        for e in a {
            match e {
                serde_json::Value::String(s) => msgs.push(s),
                serde_json::Value::Object(o) => {
                    let m = o
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("message"))
                        .and_then(|(_, x)| x.as_str())
                        .unwrap_or("");
                    let f = o.iter().find(|(k, _)| k.eq_ignore_ascii_case("field")).and_then(|(_, x)| x.as_str());
                    msgs.push(match f {
                        Some(f) => format!("{f}: {m}"),
                        None => m.to_string(),
                    });
                }
                other => msgs.push(other.to_string()),
            }
        }
    } else if let Some(m) = get("message").and_then(|m| m.as_str().map(String::from)) {
        msgs.push(m);
    }
    let id = get("errorId").and_then(|x| x.as_i64());
    (msgs, id)
}
