//! The HTTP side: one fallback handler that records every request (method,
//! path, customer, status; never a body, so never a password or an
//! assertion), injects throttling into API calls, and dispatches to the token
//! endpoint ([`token`]), the Directory API ([`directory`]) or the Licensing
//! API ([`licensing`]).
//!
//! Handlers return `Result<Response, Response>`: a refusal *is* the HTTP
//! answer, built once per request, so its size does not matter here.
#![allow(clippy::result_large_err)]

mod auth;
mod directory;
mod licensing;
mod token;

use crate::seed::{Seed, build};
use crate::world::World;
use crate::{Knobs, RecordedRequest};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// An access token the sandbox issued.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    /// The customer id of the impersonated admin.
    pub customer: String,
    /// The impersonated admin (the JWT `sub`).
    pub subject: String,
    /// The scope URLs granted.
    pub scopes: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

pub(crate) struct Shared {
    pub base: String,
    pub world: Mutex<World>,
    pub tokens: Mutex<HashMap<String, Issued>>,
    pub knobs: Mutex<Knobs>,
    pub log: Mutex<Vec<RecordedRequest>>,
    pub seq: AtomicU64,
}

/// Locks, recovering from a poisoned lock (a panicking test must not wedge the rest).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(seed: Seed, base: String) -> Arc<Self> {
        let customers = seed.customers.iter().enumerate().map(|(i, c)| build(c, i)).collect();
        Arc::new(Self {
            base,
            world: Mutex::new(World { customers }),
            tokens: Mutex::default(),
            knobs: Mutex::new(Knobs::default()),
            log: Mutex::default(),
            seq: AtomicU64::new(0),
        })
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

/// What a handler answers: the response and the customer it acted in.
pub(crate) struct Answer {
    pub resp: Response,
    pub customer: Option<String>,
}

const DIRECTORY: [&str; 3] = ["admin", "directory", "v1"];
const LICENSING: [&str; 3] = ["apps", "licensing", "v1"];

async fn handle(State(sh): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let raw_path = uri.path().to_string();
    let raw_query = uri.query().unwrap_or_default().to_string();
    let segs: Vec<String> = raw_path.split('/').filter(|s| !s.is_empty()).map(pct_decode).collect();
    let under = |base: &[&str; 3]| segs.len() > 3 && segs.iter().zip(base.iter()).all(|(a, b)| a == b);
    let (is_dir, is_lic) = (under(&DIRECTORY), under(&LICENSING));
    let mut throttled = false;
    let ans = if segs == ["token"] && method == Method::POST {
        token::handle(&sh, &body)
    } else if is_dir || is_lic {
        match take_throttle(&sh) {
            Some(resp) => {
                throttled = true;
                Answer { resp, customer: auth::bearer(&sh, &headers).map(|i| i.customer) }
            }
            None => {
                let ctx = auth::authenticate(&sh, &method, &headers, &segs[3..], &body);
                match ctx {
                    Ok(c) => {
                        let resp = if is_dir { directory::dispatch(&c) } else { licensing::dispatch(&c) };
                        Answer { resp: resp.unwrap_or_else(|e| e), customer: Some(c.issued.customer.clone()) }
                    }
                    Err(resp) => Answer { resp, customer: None },
                }
            }
        }
    } else {
        Answer { resp: google_error(404, "notFound", "Not Found"), customer: None }
    };
    let status = ans.resp.status().as_u16();
    let rec = RecordedRequest {
        seq: sh.seq.fetch_add(1, Ordering::Relaxed),
        method: method.to_string(),
        path: raw_path,
        query: (!raw_query.is_empty()).then_some(raw_query),
        customer: ans.customer,
        status,
        throttled,
    };
    tracing::debug!(method = %rec.method, path = %rec.path, status, "google sandbox");
    lock(&sh.log).push(rec);
    ans.resp
}

/// The injected throttling answer, if one is due (reference §5 "Errors and quotas").
fn take_throttle(sh: &Shared) -> Option<Response> {
    let mut k = lock(&sh.knobs);
    if k.throttle_next == 0 {
        return None;
    }
    k.throttle_next -= 1;
    let message = match k.throttle_reason.as_str() {
        "userRateLimitExceeded" => "User Rate Limit Exceeded",
        "rateLimitExceeded" => "Rate Limit Exceeded",
        "quotaExceeded" => "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'.",
        _ => "The service is currently unavailable.",
    };
    let mut resp = google_error(k.throttle_status, &k.throttle_reason, message);
    if let Some(ra) = k.retry_after_secs.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        resp.headers_mut().insert("retry-after", ra);
    }
    Some(resp)
}

/// A JSON response.
pub(crate) fn json_resp(status: u16, v: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [("content-type", "application/json; charset=UTF-8")], v.to_string()).into_response()
}

/// Google's error body (reference §5): `{"error":{"code","message","errors":[{"message","domain":"global","reason"}]}}`.
pub(crate) fn google_error(status: u16, reason: &str, message: &str) -> Response {
    json_resp(
        status,
        json!({"error": {"code": status, "message": message,
               "errors": [{"message": message, "domain": "global", "reason": reason}]}}),
    )
}

/// The same with the newer `"status"` member (`PERMISSION_DENIED`, `UNAUTHENTICATED`).
pub(crate) fn google_error_status(status: u16, reason: &str, message: &str, status_text: &str) -> Response {
    json_resp(
        status,
        json!({"error": {"code": status, "message": message,
               "errors": [{"message": message, "domain": "global", "reason": reason}], "status": status_text}}),
    )
}

/// 403 "Not Authorized to access this resource/api" (reason `forbidden`).
pub(crate) fn not_authorized() -> Response {
    google_error(403, "forbidden", "Not Authorized to access this resource/api")
}

/// 404 "Resource Not Found: {what}" (reason `notFound`).
pub(crate) fn not_found(what: &str) -> Response {
    google_error(404, "notFound", &format!("Resource Not Found: {what}"))
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Percent-decodes a path segment (`+` stays `+`; invalid UTF-8 replaced).
pub(crate) fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
