//! The HTTP side: one fallback handler that records every request (method,
//! path, tenant, status; never a body, so never a password or secret),
//! injects throttling, and dispatches to the token endpoint ([`token`]) or
//! to Graph ([`graph`]).
//!
//! Handlers return `Result<Response, Response>`: a refusal *is* the HTTP
//! answer, built once per request, so its size does not matter here.
#![allow(clippy::result_large_err)]

mod directory;
mod graph;
mod odata;
mod token;
mod users;

use crate::seed::Seed;
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

/// A token the sandbox issued.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub tenant: String,
    pub expires_at: DateTime<Utc>,
}

pub(crate) struct Shared {
    pub base: String,
    pub app: Seed,
    pub world: Mutex<World>,
    pub tokens: Mutex<HashMap<String, Issued>>,
    pub knobs: Mutex<Knobs>,
    pub log: Mutex<Vec<RecordedRequest>>,
    pub seq: AtomicU64,
    pub token_requests: AtomicU64,
}

/// Locks, recovering from a poisoned lock (a panicking test must not wedge the rest).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(mut seed: Seed, base: String) -> Arc<Self> {
        let mut world = World::default();
        for t in std::mem::take(&mut seed.tenants) {
            world.tenants.insert(t.id.to_ascii_lowercase(), t);
        }
        Arc::new(Self {
            base,
            app: seed,
            world: Mutex::new(world),
            tokens: Mutex::default(),
            knobs: Mutex::new(Knobs::default()),
            log: Mutex::default(),
            seq: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
        })
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

/// What a dispatcher answers: the response and the tenant it acted in.
pub(crate) struct Answer {
    pub resp: Response,
    pub tenant: Option<String>,
}

impl Answer {
    pub fn new(resp: Response, tenant: Option<String>) -> Self {
        Self { resp, tenant }
    }
}

async fn handle(State(sh): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let raw_path = uri.path().to_string();
    let raw_query = uri.query().unwrap_or_default().to_string();
    let segs: Vec<String> = raw_path.split('/').filter(|s| !s.is_empty()).map(pct_decode).collect();
    let is_token = segs.len() == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token";
    let is_graph = segs.first().map(String::as_str) == Some("v1.0");
    let throttled = if is_graph || is_token { take_throttle(&sh, is_token) } else { None };
    let ans = if let Some(resp) = throttled {
        Answer::new(resp, None)
    } else if is_token && method == Method::POST {
        token::handle(&sh, &segs[0], &headers, &body)
    } else if is_graph {
        let req =
            graph::Req { method: &method, segs: &segs[1..], raw_query: &raw_query, headers: &headers, body: &body };
        graph::dispatch(&sh, &req)
    } else {
        Answer::new(graph_error(StatusCode::NOT_FOUND, "NotFound", "Unknown path."), None)
    };
    let status = ans.resp.status().as_u16();
    let rec = RecordedRequest {
        seq: sh.seq.fetch_add(1, Ordering::Relaxed),
        method: method.to_string(),
        path: raw_path,
        query: (!raw_query.is_empty()).then_some(raw_query),
        tenant: ans.tenant,
        status,
        throttled: (status == 429 || status == 503 || status == 504) && (is_graph || is_token),
        consistency_eventual: headers.get("consistencylevel").and_then(|v| v.to_str().ok()) == Some("eventual"),
    };
    tracing::debug!(method = %rec.method, path = %rec.path, status, "graph sandbox");
    lock(&sh.log).push(rec);
    ans.resp
}

/// The injected throttling answer, if one is due.
fn take_throttle(sh: &Shared, is_token: bool) -> Option<Response> {
    let mut k = lock(&sh.knobs);
    if is_token && !k.throttle_token_endpoint {
        return None;
    }
    if k.throttle_next == 0 {
        return None;
    }
    k.throttle_next -= 1;
    let status = StatusCode::from_u16(k.throttle_status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let (code, msg) = if status == StatusCode::TOO_MANY_REQUESTS {
        ("TooManyRequests", "Too many requests.")
    } else {
        ("serviceNotAvailable", "The service is temporarily unavailable.")
    };
    let mut resp = graph_error(status, code, msg);
    if let Some(ra) = k.retry_after.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
        resp.headers_mut().insert("retry-after", ra);
    }
    Some(resp)
}

/// A JSON response.
pub(crate) fn json_resp(status: StatusCode, v: Value) -> Response {
    (status, [("content-type", "application/json")], v.to_string()).into_response()
}

/// Graph's error body (reference §2): `{"error":{"code","message","innerError":{…}}}`.
pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let id = uuid::Uuid::new_v4().to_string();
    json_resp(
        status,
        json!({"error": {"code": code, "message": message,
               "innerError": {"date": now, "request-id": id, "client-request-id": id}}}),
    )
}

/// 403 as Graph sends it for a missing permission or role.
pub(crate) fn denied() -> Response {
    graph_error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// 404 `Request_ResourceNotFound` ([U] text, reference §2).
pub(crate) fn not_found(id: &str) -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    )
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Percent-decodes a path segment (`+` stays `+`; invalid UTF-8 replaced).
pub(crate) fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
