//! The HTTP front: every request passes routing, zone discovery, auth, the
//! hourly threshold, fault injection and the thread limit per (integration
//! code, endpoint) before [`dispatch`](super::dispatch); each is recorded.

use super::dispatch::dispatch;
use super::{Shared, bad};
use crate::tenant::API_RESOURCE_ID;
use crate::{Knobs, RecordedRequest};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let s = shared.clone();
        async move { handle(s, method, uri, headers, body).await }
    })
}

struct ThreadGuard<'a> {
    s: &'a Shared,
    key: String,
}
impl Drop for ThreadGuard<'_> {
    fn drop(&mut self) {
        let mut t = self.s.threads.lock().unwrap();
        if let Some(n) = t.get_mut(&self.key) {
            *n = n.saturating_sub(1);
        }
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let q = uri.query()?;
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.into_owned())
}

async fn handle(s: Arc<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let lower = path.to_ascii_lowercase();
    let body_json: Option<Value> = if body.is_empty() { None } else { serde_json::from_slice(&body).ok() };
    let is_query = lower.contains("/query");
    let is_write = matches!(method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE) && !is_query;
    let impersonation = header(&headers, "ImpersonationResourceId").and_then(|v| v.trim().parse::<i64>().ok());
    let mut rec = RecordedRequest {
        seq: 0,
        method: method.to_string(),
        path: path.clone(),
        query: uri.query().map(String::from),
        endpoint: None,
        body: body_json.clone(),
        status: 0,
        is_write,
        impersonation,
        rejected: false,
    };
    let (status, value, extra) = route(&s, &method, &uri, &headers, body_json, body.is_empty(), &mut rec).await;
    rec.status = status.as_u16();
    {
        let mut log = s.log.lock().unwrap();
        rec.seq = log.len() as u64 + 1;
        log.push(rec);
    }
    let lone_surrogates = s.knobs.lock().unwrap().lone_surrogate_escapes;
    let mut resp = match lone_surrogates {
        // serde_json writes U+E000 as itself (UTF-8), so it is found only inside strings.
        true => (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            value.to_string().replace('\u{E000}', "\\ud800"),
        )
            .into_response(),
        false => (status, axum::Json(value)).into_response(),
    };
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

type Routed = (StatusCode, Value, Vec<(&'static str, String)>);

async fn route(
    s: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Option<Value>,
    body_empty: bool,
    rec: &mut RecordedRequest,
) -> Routed {
    let segs = match api_segments(uri) {
        Ok(segs) => segs,
        Err(r) => return r,
    };
    // Zone discovery: unauthenticated, not counted, not thread-limited.
    if segs[0].eq_ignore_ascii_case("zoneinformation") {
        return zone_information(s, uri);
    }
    let code = match authenticate(s, headers) {
        Ok(code) => code,
        Err(r) => return r,
    };
    let knobs = s.knobs.lock().unwrap().clone();
    let usage = match hourly_threshold(s, &knobs, rec) {
        Ok(usage) => usage,
        Err(r) => return r,
    };
    if let Some(r) = inject_fault(s, &knobs, rec).await {
        return r;
    }
    let _guard = match take_thread(s, &segs, code, &knobs, rec) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let mut delay = knobs.base_latency;
    if knobs.threshold_latency {
        if usage >= 0.75 {
            delay += Duration::from_millis(1000);
        } else if usage >= 0.5 {
            delay += Duration::from_millis(500);
        }
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let impersonation = rec.impersonation;
    if let Some(imp) = impersonation {
        let ok = s.db.lock().unwrap()["resources"]
            .get(imp)
            .is_some_and(|r| r.get("isActive").and_then(Value::as_bool).unwrap_or(false));
        if !ok {
            let (st, v) = bad(format!(
                "Impersonation of resource {imp} is not allowed: the resource does not exist or is inactive."
            ));
            return (st, v, vec![]);
        }
    }
    let person = impersonation.unwrap_or(API_RESOURCE_ID);
    let (st, v) = dispatch(s, method, uri, &segs, body, body_empty, person, impersonation.is_some(), &knobs);
    (st, v, vec![])
}

/// The path segments after `/atservicesrest/v1.0/` (`versionInformation` is
/// answered here).
fn api_segments(uri: &Uri) -> Result<Vec<String>, Routed> {
    let path = uri.path();
    let Some(rest) = strip_prefix_ci(path, "/atservicesrest/") else {
        return Err((StatusCode::NOT_FOUND, json!({"errors": ["Not found"]}), vec![]));
    };
    let rest = rest.trim_end_matches('/');
    if rest.eq_ignore_ascii_case("versioninformation") {
        return Err((StatusCode::OK, json!({"apiVersions": ["1.0"]}), vec![]));
    }
    let Some(rest) = strip_prefix_ci(rest, "v1.0/") else {
        return Err((StatusCode::NOT_FOUND, json!({"errors": ["Not found"]}), vec![]));
    };
    let segs: Vec<String> = rest.split('/').filter(|x| !x.is_empty()).map(String::from).collect();
    if segs.is_empty() {
        return Err((StatusCode::NOT_FOUND, json!({"errors": ["Not found"]}), vec![]));
    }
    Ok(segs)
}

/// `zoneInformation?user=`: the sandbox's own URL for its user.
fn zone_information(s: &Shared, uri: &Uri) -> Routed {
    let user = query_param(uri, "user").unwrap_or_default();
    if !user.eq_ignore_ascii_case(&s.cfg.user) {
        let (st, v) = bad(format!("Zone information could not be determined for user '{user}'."));
        return (st, v, vec![]);
    }
    (
        StatusCode::OK,
        json!({"zoneName": "Sandbox", "url": format!("{}/atservicesrest/", s.base_url), "webUrl": format!("{}/", s.base_url), "ci": 0}),
        vec![],
    )
}

/// Authentication (odd codes: unknown user 500, wrong secret 401, wrong
/// integration code 500); returns the integration code.
fn authenticate<'h>(s: &Shared, headers: &'h HeaderMap) -> Result<&'h str, Routed> {
    let user = header(headers, "UserName");
    let secret = header(headers, "Secret");
    let code = header(headers, "ApiIntegrationCode");
    let (Some(user), Some(secret), Some(code)) = (user, secret, code) else {
        return Err((
            StatusCode::UNAUTHORIZED,
            json!({"errors": ["Missing authentication headers (ApiIntegrationCode, UserName, Secret)."]}),
            vec![],
        ));
    };
    if !user.eq_ignore_ascii_case(&s.cfg.user) {
        let (st, v) = bad("Unable to find user: the user name is not a valid API user.");
        return Err((st, v, vec![]));
    }
    if secret != s.cfg.secret {
        return Err((
            StatusCode::UNAUTHORIZED,
            json!({"errors": ["Authorization has been denied for this request."]}),
            vec![],
        ));
    }
    if code != s.cfg.integration_code {
        let (st, v) = bad("The integration code provided is not valid.");
        return Err((st, v, vec![]));
    }
    Ok(code)
}

/// The hourly threshold: counts the request, or refuses it with a
/// `Retry-After`; returns the share of the limit used.
fn hourly_threshold(s: &Shared, knobs: &Knobs, rec: &mut RecordedRequest) -> Result<f64, Routed> {
    let mut hits = s.hits.lock().unwrap();
    let now = Instant::now();
    while hits.front().is_some_and(|t| now.duration_since(*t) >= knobs.window) {
        hits.pop_front();
    }
    if hits.len() as u32 >= knobs.hourly_limit {
        let wait = hits.front().map(|t| knobs.window.saturating_sub(now.duration_since(*t))).unwrap_or_default();
        rec.rejected = true;
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            json!({"errors": [format!("API request threshold of {} requests per {} minutes exceeded.", knobs.hourly_limit, knobs.window.as_secs() / 60)]}),
            vec![("Retry-After", wait.as_secs().max(1).to_string())],
        ));
    }
    hits.push_back(now);
    Ok(hits.len() as f64 / knobs.hourly_limit.max(1) as f64)
}

/// Fault injection: a burst of 429s, timeouts, or random 503s.
async fn inject_fault(s: &Shared, knobs: &Knobs, rec: &mut RecordedRequest) -> Option<Routed> {
    let fault = {
        let mut k = s.knobs.lock().unwrap();
        if k.burst_429 > 0 {
            k.burst_429 -= 1;
            Some((true, k.retry_after_secs, Duration::ZERO))
        } else if k.timeout_next > 0 {
            k.timeout_next -= 1;
            Some((false, 0, k.timeout_delay))
        } else {
            None
        }
    };
    match fault {
        Some((true, retry_after, _)) => {
            rec.rejected = true;
            return Some((
                StatusCode::TOO_MANY_REQUESTS,
                json!({"errors": ["Rate limit exceeded (injected)."]}),
                vec![("Retry-After", retry_after.to_string())],
            ));
        }
        Some((false, _, d)) => {
            rec.rejected = true;
            tokio::time::sleep(d).await;
            return Some((
                StatusCode::GATEWAY_TIMEOUT,
                json!({"errors": ["The request timed out (injected)."]}),
                vec![],
            ));
        }
        None => {}
    }
    if s.chance(knobs.error_rate) {
        rec.rejected = true;
        return Some((
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"errors": ["The service is temporarily unavailable (injected)."]}),
            vec![],
        ));
    }
    None
}

/// The thread limit per (integration code, endpoint): a slot held until the
/// guard drops, or `Itgenatr005`.
fn take_thread<'a>(
    s: &'a Shared,
    segs: &[String],
    code: &str,
    knobs: &Knobs,
    rec: &mut RecordedRequest,
) -> Result<ThreadGuard<'a>, Routed> {
    let endpoint = match s.resolve(segs) {
        Some((d, _)) => d.name.to_ascii_lowercase(),
        None => segs[0].to_ascii_lowercase(),
    };
    rec.endpoint = Some(endpoint.clone());
    let key = format!("{}|{}", code.to_ascii_lowercase(), endpoint);
    let mut t = s.threads.lock().unwrap();
    let n = t.entry(key.clone()).or_insert(0);
    if *n >= knobs.thread_limit {
        rec.rejected = true;
        return Err((
            StatusCode::from_u16(knobs.thread_limit_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({"errors": [format!("Itgenatr005: The thread threshold of {} concurrent requests for this integration and the {} endpoint has been exceeded. Please try again later.", knobs.thread_limit, endpoint)]}),
            vec![],
        ));
    }
    *n += 1;
    Ok(ThreadGuard { s, key })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}
