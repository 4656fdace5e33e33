//! The HTTP front: routing, auth, limits, fault injection, CRUD with the real
//! API's validation, and webhook dispatch.

use crate::filter::{self, Query};
use crate::schema::{EntityDef, Ty, definitions};
use crate::store::{Row, Table};
use crate::tenant::{self, API_RESOURCE_ID, Ctx, TenantFacts, ts};
use crate::webhook::{self, DeliveryRecord, Payload};
use crate::{Knobs, RecordedRequest, SandboxConfig};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub struct Shared {
    pub cfg: SandboxConfig,
    pub base_url: String,
    pub defs: BTreeMap<String, EntityDef>,
    pub db: Mutex<BTreeMap<String, Table>>,
    pub knobs: Mutex<Knobs>,
    pub log: Mutex<Vec<RecordedRequest>>,
    pub hits: Mutex<VecDeque<Instant>>,
    threads: Mutex<HashMap<String, usize>>,
    rng: Mutex<rand::rngs::StdRng>,
    pub deliveries: Mutex<Vec<DeliveryRecord>>,
    workers: Mutex<HashMap<i64, mpsc::UnboundedSender<Event>>>,
    pub facts: TenantFacts,
    pub ctx: Arc<Ctx>,
    http: reqwest::Client,
    me: std::sync::OnceLock<std::sync::Weak<Shared>>,
}

#[derive(Debug, Clone)]
struct Event {
    action: &'static str,
    ticket_id: i64,
    fields: Map<String, Value>,
    person: Option<i64>,
}

type Reply = (StatusCode, Value);

fn err(status: StatusCode, msg: impl Into<String>) -> Reply {
    (status, json!({ "errors": [msg.into()] }))
}
fn bad(msg: impl Into<String>) -> Reply {
    err(StatusCode::INTERNAL_SERVER_ERROR, msg)
}

impl Shared {
    pub fn new(cfg: SandboxConfig, base_url: String) -> Arc<Shared> {
        let mut defs = definitions();
        let anchor = cfg.anchor.unwrap_or_else(|| Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc());
        let (tables, facts, ctx) = tenant::build_with(cfg.seed, cfg.tickets, anchor, &cfg.user, &mut defs, cfg.time_entries_per_ticket);
        let s = Arc::new(Shared {
            knobs: Mutex::new(cfg.knobs.clone()),
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(cfg.seed ^ 0x5EED)),
            cfg,
            base_url,
            defs,
            db: Mutex::new(tables),
            log: Mutex::new(vec![]),
            hits: Mutex::new(VecDeque::new()),
            threads: Mutex::new(HashMap::new()),
            deliveries: Mutex::new(vec![]),
            workers: Mutex::new(HashMap::new()),
            facts,
            ctx,
            http: reqwest::Client::builder().build().expect("http client"),
            me: std::sync::OnceLock::new(),
        });
        let _ = s.me.set(Arc::downgrade(&s));
        s
    }

    fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.rng.lock().unwrap().random::<f64>() < p
    }

    /// Resolves an entity by collection name, or a child by (parent, segment).
    fn resolve(&self, segs: &[String]) -> Option<(&EntityDef, Option<i64>)> {
        if segs.len() >= 3 {
            if let Ok(pid) = segs[1].parse::<i64>() {
                let d = self.defs.values().find(|d| {
                    d.parent.as_ref().is_some_and(|(p, c, _)| p.eq_ignore_ascii_case(&segs[0]) && c.eq_ignore_ascii_case(&segs[2]))
                })?;
                return Some((d, Some(pid)));
            }
        }
        self.defs.get(&segs.first()?.to_ascii_lowercase()).map(|d| (d, None))
    }

    pub fn human_ticket_update(&self, id: i64, fields: Map<String, Value>, person: i64) -> bool {
        let mut db = self.db.lock().unwrap();
        let t = db.get_mut("tickets").unwrap();
        let Some(mut row) = t.get(id) else { return false };
        let mut changed = vec![];
        for (k, v) in fields {
            if row.get(&k) != Some(&v) {
                changed.push(k.clone());
            }
            row.insert(k, v);
        }
        row.insert("lastActivityDate".into(), Value::from(ts(Utc::now())));
        t.insert(id, row.clone());
        drop(db);
        self.fire("Update", id, &row, &changed, Some(person));
        true
    }

    pub fn human_ticket_create(&self, fields: Map<String, Value>, person: i64) -> i64 {
        let mut db = self.db.lock().unwrap();
        let t = db.get_mut("tickets").unwrap();
        let id = t.next_id();
        let mut row = fields;
        row.entry("createDate").or_insert(Value::from(ts(Utc::now())));
        // Autotask stamps activity on creation too (the reconciler relies on it).
        row.entry("lastActivityDate").or_insert(Value::from(ts(Utc::now())));
        row.entry("ticketNumber").or_insert(Value::from(format!("T{}.{:04}", Utc::now().format("%Y%m%d"), id % 10_000)));
        t.insert(id, row.clone());
        drop(db);
        self.fire("Create", id, &row, &[], Some(person));
        id
    }

    /// Queues webhook callouts for a ticket change.
    fn fire(self: &Shared, action: &'static str, ticket_id: i64, row: &Row, changed: &[String], person: Option<i64>) {
        let db = self.db.lock().unwrap();
        let hooks = &db["ticketwebhooks"];
        let fields_t = &db["ticketwebhookfields"];
        let excl_t = &db["ticketwebhookexcludedresources"];
        let field_names: HashMap<String, String> = self.defs["ticketwebhookfields"]
            .field("fieldID")
            .and_then(|f| f.picklist.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.value, p.label))
            .collect();
        let mut out = vec![];
        hooks.scan(i64::MIN, i64::MAX, |hid, h| {
            let b = |k: &str| h.get(k).and_then(Value::as_bool).unwrap_or(false);
            if !b("isActive") {
                return true;
            }
            let subscribed_to = if action == "Create" { b("isSubscribedToCreateEvents") } else { b("isSubscribedToUpdateEvents") };
            if !subscribed_to {
                return true;
            }
            let mut excluded = false;
            excl_t.scan(i64::MIN, i64::MAX, |_, e| {
                if e.get("webhookID").and_then(Value::as_i64) == Some(hid) && person.is_some() && e.get("resourceID").and_then(Value::as_i64) == person {
                    excluded = true;
                }
                true
            });
            if excluded {
                return true;
            }
            let mut subscribed = vec![];
            let mut always = vec![];
            fields_t.scan(i64::MIN, i64::MAX, |_, f| {
                if f.get("webhookID").and_then(Value::as_i64) == Some(hid) {
                    let fid = f.get("fieldID").map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                    if let Some(name) = fid.and_then(|x| field_names.get(&x).cloned()) {
                        if f.get("isSubscribedField").and_then(Value::as_bool).unwrap_or(false) {
                            subscribed.push(name.clone());
                        }
                        if f.get("isDisplayAlwaysField").and_then(Value::as_bool).unwrap_or(false) {
                            always.push(name);
                        }
                    }
                }
                true
            });
            let hit: Vec<String> = if action == "Create" {
                subscribed.clone()
            } else {
                subscribed.iter().filter(|s| changed.iter().any(|c| c.eq_ignore_ascii_case(s))).cloned().collect()
            };
            if action == "Update" && hit.is_empty() {
                return true;
            }
            let mut fields = Map::new();
            for name in hit.iter().chain(always.iter()) {
                fields.insert(name.clone(), row.get(name).cloned().unwrap_or(Value::Null));
            }
            out.push((hid, Event { action, ticket_id, fields, person }));
            true
        });
        drop(db);
        for (hid, ev) in out {
            self.enqueue(hid, ev);
        }
    }

    fn enqueue(&self, hid: i64, ev: Event) {
        let mut w = self.workers.lock().unwrap();
        let tx = w.entry(hid).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            // The worker holds only a weak link so a dropped sandbox stops delivering.
            let me = self.self_weak();
            tokio::spawn(deliver_loop(me, hid, rx));
            tx
        });
        let _ = tx.send(ev);
    }

    fn self_weak(&self) -> std::sync::Weak<Shared> {
        self.me.get().cloned().unwrap_or_default()
    }
}

async fn deliver_loop(me: std::sync::Weak<Shared>, hid: i64, mut rx: mpsc::UnboundedReceiver<Event>) {
    let mut seq: u64 = 0;
    let mut consecutive: u32 = 0;
    while let Some(ev) = rx.recv().await {
        let Some(s) = me.upgrade() else { return };
        let hook = { s.db.lock().unwrap()["ticketwebhooks"].get(hid) };
        let Some(hook) = hook else { continue };
        if !hook.get("isActive").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        let url = hook.get("webhookUrl").and_then(Value::as_str).unwrap_or("").to_string();
        let secret = hook.get("secretKey").and_then(Value::as_str).unwrap_or("").to_string();
        let guid = hook.get("webhookGUID").and_then(Value::as_str).unwrap_or("").to_string();
        seq += 1;
        let now = ts(Utc::now());
        let body = Payload {
            action: ev.action,
            guid: &guid,
            entity_type: "Ticket",
            id: ev.ticket_id,
            fields: &ev.fields,
            event_time: &now,
            sequence_number: seq,
            person_id: ev.person,
        }
        .to_bytes();
        let sig = webhook::signature(&secret, &body);
        let k = s.knobs.lock().unwrap().clone();
        let drop_it = {
            let mut kn = s.knobs.lock().unwrap();
            if kn.drop_webhooks_next > 0 {
                kn.drop_webhooks_next -= 1;
                true
            } else {
                false
            }
        } || s.chance(k.webhook_drop_rate);
        let rec = |attempt: u32, status: Option<u16>, error: Option<String>, dropped: bool| DeliveryRecord {
            webhook_id: hid,
            ticket_id: ev.ticket_id,
            action: ev.action.to_string(),
            sequence_number: seq,
            attempt,
            url: url.clone(),
            status,
            error,
            body: body.clone(),
            signature: sig.clone(),
            dropped,
        };
        if drop_it {
            s.deliveries.lock().unwrap().push(rec(0, None, Some("dropped by fault injection".into()), true));
            continue;
        }
        drop(s);
        for attempt in 1..=k.webhook_max_attempts.max(1) {
            let res = post_signed(&me, &url, &body, &sig, k.webhook_timeout).await;
            let Some(s) = me.upgrade() else { return };
            let (ok, status, error) = match res {
                Ok(st) => ((200..300).contains(&st), Some(st), None),
                Err(e) => (false, None, Some(e)),
            };
            s.deliveries.lock().unwrap().push(rec(attempt, status, error, false));
            if ok {
                consecutive = 0;
                break;
            }
            consecutive += 1;
            if consecutive >= k.webhook_disable_after {
                // Disable the webhook and tell its deactivation URL.
                let deact = {
                    let mut db = s.db.lock().unwrap();
                    let t = db.get_mut("ticketwebhooks").unwrap();
                    t.get(hid).map(|mut h| {
                        h.insert("isActive".into(), Value::Bool(false));
                        let d = h.get("deactivationUrl").and_then(Value::as_str).unwrap_or("").to_string();
                        t.insert(hid, h);
                        d
                    })
                };
                drop(s);
                if let Some(deact) = deact {
                    let now = ts(Utc::now());
                    let body = Payload { action: "Deactivated", guid: &guid, entity_type: "Ticket", id: hid, fields: &Map::new(), event_time: &now, sequence_number: seq, person_id: None }.to_bytes();
                    let sig = webhook::signature(&secret, &body);
                    let _ = post_signed(&me, &deact, &body, &sig, k.webhook_timeout).await;
                }
                return;
            }
            drop(s);
            if attempt < k.webhook_max_attempts {
                tokio::time::sleep(k.webhook_retry_delay).await;
            }
        }
    }
}

async fn post_signed(me: &std::sync::Weak<Shared>, url: &str, body: &[u8], sig: &str, timeout: Duration) -> Result<u16, String> {
    let Some(s) = me.upgrade() else { return Err("sandbox stopped".into()) };
    let req = s
        .http
        .post(url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("X-Hook-Signature", sig)
        .body(body.to_vec())
        .timeout(timeout);
    drop(s);
    match req.send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => Err(e.to_string()),
    }
}

use chrono::Utc;

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

fn query_param(uri: &Uri, name: &str) -> Option<String> {
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
    let mut resp = (status, axum::Json(value)).into_response();
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

type Routed = (StatusCode, Value, Vec<(&'static str, String)>);

async fn route(s: &Arc<Shared>, method: &Method, uri: &Uri, headers: &HeaderMap, body: Option<Value>, body_empty: bool, rec: &mut RecordedRequest) -> Routed {
    let path = uri.path();
    let Some(rest) = strip_prefix_ci(path, "/atservicesrest/") else {
        return (StatusCode::NOT_FOUND, json!({"errors": ["Not found"]}), vec![]);
    };
    let rest = rest.trim_end_matches('/');
    if rest.eq_ignore_ascii_case("versioninformation") {
        return (StatusCode::OK, json!({"apiVersions": ["1.0"]}), vec![]);
    }
    let Some(rest) = strip_prefix_ci(rest, "v1.0/") else {
        return (StatusCode::NOT_FOUND, json!({"errors": ["Not found"]}), vec![]);
    };
    let segs: Vec<String> = rest.split('/').filter(|x| !x.is_empty()).map(String::from).collect();
    if segs.is_empty() {
        return (StatusCode::NOT_FOUND, json!({"errors": ["Not found"]}), vec![]);
    }
    // Zone discovery: unauthenticated, not counted, not thread-limited.
    if segs[0].eq_ignore_ascii_case("zoneinformation") {
        let user = query_param(uri, "user").unwrap_or_default();
        if !user.eq_ignore_ascii_case(&s.cfg.user) {
            let (st, v) = bad(format!("Zone information could not be determined for user '{user}'."));
            return (st, v, vec![]);
        }
        return (
            StatusCode::OK,
            json!({"zoneName": "Sandbox", "url": format!("{}/atservicesrest/", s.base_url), "webUrl": format!("{}/", s.base_url), "ci": 0}),
            vec![],
        );
    }
    // Authentication (odd codes: unknown user 500, wrong secret 401, wrong integration code 500).
    let user = header(headers, "UserName");
    let secret = header(headers, "Secret");
    let code = header(headers, "ApiIntegrationCode");
    let (Some(user), Some(secret), Some(code)) = (user, secret, code) else {
        return (StatusCode::UNAUTHORIZED, json!({"errors": ["Missing authentication headers (ApiIntegrationCode, UserName, Secret)."]}), vec![]);
    };
    if !user.eq_ignore_ascii_case(&s.cfg.user) {
        let (st, v) = bad("Unable to find user: the user name is not a valid API user.");
        return (st, v, vec![]);
    }
    if secret != s.cfg.secret {
        return (StatusCode::UNAUTHORIZED, json!({"errors": ["Authorization has been denied for this request."]}), vec![]);
    }
    if code != s.cfg.integration_code {
        let (st, v) = bad("The integration code provided is not valid.");
        return (st, v, vec![]);
    }
    let knobs = s.knobs.lock().unwrap().clone();
    // Hourly threshold.
    let usage = {
        let mut hits = s.hits.lock().unwrap();
        let now = Instant::now();
        while hits.front().is_some_and(|t| now.duration_since(*t) >= knobs.window) {
            hits.pop_front();
        }
        if hits.len() as u32 >= knobs.hourly_limit {
            let wait = hits.front().map(|t| knobs.window.saturating_sub(now.duration_since(*t))).unwrap_or_default();
            rec.rejected = true;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"errors": [format!("API request threshold of {} requests per {} minutes exceeded.", knobs.hourly_limit, knobs.window.as_secs() / 60)]}),
                vec![("Retry-After", wait.as_secs().max(1).to_string())],
            );
        }
        hits.push_back(now);
        hits.len() as f64 / knobs.hourly_limit.max(1) as f64
    };
    // Fault injection.
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
            return (StatusCode::TOO_MANY_REQUESTS, json!({"errors": ["Rate limit exceeded (injected)."]}), vec![("Retry-After", retry_after.to_string())]);
        }
        Some((false, _, d)) => {
            rec.rejected = true;
            tokio::time::sleep(d).await;
            return (StatusCode::GATEWAY_TIMEOUT, json!({"errors": ["The request timed out (injected)."]}), vec![]);
        }
        None => {}
    }
    if s.chance(knobs.error_rate) {
        rec.rejected = true;
        return (StatusCode::SERVICE_UNAVAILABLE, json!({"errors": ["The service is temporarily unavailable (injected)."]}), vec![]);
    }
    // Thread limit per (integration code, endpoint).
    let endpoint = match s.resolve(&segs) {
        Some((d, _)) => d.name.to_ascii_lowercase(),
        None => segs[0].to_ascii_lowercase(),
    };
    rec.endpoint = Some(endpoint.clone());
    let key = format!("{}|{}", code.to_ascii_lowercase(), endpoint);
    let _guard = {
        let mut t = s.threads.lock().unwrap();
        let n = t.entry(key.clone()).or_insert(0);
        if *n >= knobs.thread_limit {
            rec.rejected = true;
            return (
                StatusCode::from_u16(knobs.thread_limit_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                json!({"errors": [format!("Itgenatr005: The thread threshold of {} concurrent requests for this integration and the {} endpoint has been exceeded. Please try again later.", knobs.thread_limit, endpoint)]}),
                vec![],
            );
        }
        *n += 1;
        ThreadGuard { s, key }
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
        let ok = s.db.lock().unwrap()["resources"].get(imp).is_some_and(|r| r.get("isActive").and_then(Value::as_bool).unwrap_or(false));
        if !ok {
            let (st, v) = bad(format!("Impersonation of resource {imp} is not allowed: the resource does not exist or is inactive."));
            return (st, v, vec![]);
        }
    }
    let person = impersonation.unwrap_or(API_RESOURCE_ID);
    let (st, v) = dispatch(s, method, uri, &segs, body, body_empty, person, impersonation.is_some(), &knobs);
    (st, v, vec![])
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) { Some(&s[prefix.len()..]) } else { None }
}

#[allow(clippy::too_many_arguments)]
fn dispatch(s: &Arc<Shared>, method: &Method, uri: &Uri, segs: &[String], body: Option<Value>, body_empty: bool, person: i64, impersonating: bool, knobs: &Knobs) -> Reply {
    let l: Vec<String> = segs.iter().map(|x| x.to_ascii_lowercase()).collect();
    let ls: Vec<&str> = l.iter().map(String::as_str).collect();
    match ls.as_slice() {
        ["thresholdinformation"] if method == Method::GET => {
            let used = s.hits.lock().unwrap().len();
            return (
                StatusCode::OK,
                json!({"externalRequestThreshold": knobs.hourly_limit, "requestThresholdTimeframe": knobs.window.as_secs() / 60, "currentTimeframeRequestCount": used}),
            );
        }
        ["version"] if method == Method::GET => {
            return (StatusCode::OK, json!({"majorVersion": 2026, "minorVersion": 1, "build": 0, "customerType": "Sandbox"}));
        }
        _ => {}
    }
    let Some((def, parent_id)) = s.resolve(segs) else {
        return err(StatusCode::NOT_FOUND, format!("No HTTP resource was found that matches the request URI '{}'.", uri.path()));
    };
    // Segments after the entity (and, for children, after parent/id/child).
    let tail: Vec<&str> = if parent_id.is_some() { ls[3..].to_vec() } else { ls[1..].to_vec() };
    let not_allowed = || err(StatusCode::METHOD_NOT_ALLOWED, format!("The requested resource does not support http method '{method}'."));
    let parent_filter = |q: &mut Query| {
        if let (Some(pid), Some((_, _, pf))) = (parent_id, def.parent.as_ref()) {
            q.filter.push(filter::Filter { op: "eq".into(), field: pf.clone(), udf: false, value: Value::from(pid), items: vec![] });
        }
    };
    match tail.as_slice() {
        [] => match *method {
            Method::GET if parent_id.is_some() => {
                let mut q = Query { filter: vec![], include_fields: vec![], max_records: 500 };
                parent_filter(&mut q);
                run_query(s, def, q, None, knobs)
            }
            Method::POST => {
                if def.write_via_parent_only && parent_id.is_none() || !def.can_create {
                    return not_allowed();
                }
                write(s, def, WriteKind::Create, parent_id, body, person, impersonating, knobs)
            }
            Method::PATCH | Method::PUT => {
                if def.write_via_parent_only && parent_id.is_none() || !def.can_update {
                    return not_allowed();
                }
                let k = if *method == Method::PATCH { WriteKind::Patch } else { WriteKind::Put };
                write(s, def, k, parent_id, body, person, impersonating, knobs)
            }
            _ => not_allowed(),
        },
        ["query"] | ["query", "count"] => {
            let qv = if *method == Method::GET {
                match query_param(uri, "search") {
                    Some(sq) => match serde_json::from_str::<Value>(&sq) {
                        Ok(v) => v,
                        Err(e) => return bad(format!("Invalid query syntax: {e}")),
                    },
                    None => Value::Null,
                }
            } else if *method == Method::POST {
                if body.is_none() && !body_empty {
                    return bad("Invalid query syntax: the body is not valid JSON.");
                }
                body.unwrap_or(Value::Null)
            } else {
                return not_allowed();
            };
            let mut q = match filter::parse_query(&qv) {
                Ok(q) => q,
                Err(e) => return bad(e),
            };
            parent_filter(&mut q);
            if tail.len() == 2 {
                count_query(s, def, q, knobs)
            } else {
                run_query(s, def, q, None, knobs)
            }
        }
        ["query", "next"] => {
            if !matches!(*method, Method::GET | Method::POST) {
                return not_allowed();
            }
            if let Some(st) = knobs.next_page_url_status {
                return err(StatusCode::from_u16(st).unwrap_or(StatusCode::NOT_FOUND), "The requested page is not available (injected).");
            }
            let paging: Value = query_param(uri, "paging").and_then(|p| serde_json::from_str(&p).ok()).unwrap_or(Value::Null);
            let Some(last) = paging.get("lastId").and_then(Value::as_i64) else {
                return bad("Invalid paging token.");
            };
            let qv = match query_param(uri, "search").and_then(|sq| serde_json::from_str::<Value>(&sq).ok()) {
                Some(v) => v,
                None => body.unwrap_or(Value::Null),
            };
            let mut q = match filter::parse_query(&qv) {
                Ok(q) => q,
                Err(e) => return bad(e),
            };
            if let Some(ps) = paging.get("pageSize").and_then(Value::as_u64) {
                q.max_records = ps.clamp(1, 500) as usize;
            }
            run_query(s, def, q, Some(last), knobs)
        }
        ["entityinformation"] if *method == Method::GET => (StatusCode::OK, def.info_json()),
        ["entityinformation", "fields"] if *method == Method::GET => (StatusCode::OK, def.fields_json()),
        ["entityinformation", "userdefinedfields"] if *method == Method::GET => (StatusCode::OK, def.udfs_json()),
        [id] => {
            let Ok(id) = id.parse::<i64>() else {
                return err(StatusCode::NOT_FOUND, format!("No HTTP resource was found that matches the request URI '{}'.", uri.path()));
            };
            match *method {
                Method::GET => {
                    let row = s.db.lock().unwrap()[&def.name.to_ascii_lowercase()].get(id);
                    let row = row.filter(|r| match (parent_id, def.parent.as_ref()) {
                        (Some(pid), Some((_, _, pf))) => r.get(pf).and_then(Value::as_i64) == Some(pid),
                        _ => true,
                    });
                    match row {
                        Some(r) => (StatusCode::OK, json!({"item": r})),
                        None if knobs.missing_item_404 => err(StatusCode::NOT_FOUND, "No matching records found."),
                        None => (StatusCode::OK, json!({"item": null})),
                    }
                }
                Method::DELETE => {
                    if !def.can_delete {
                        return not_allowed();
                    }
                    let mut db = s.db.lock().unwrap();
                    let t = db.get_mut(&def.name.to_ascii_lowercase()).unwrap();
                    if t.delete(id) { (StatusCode::OK, json!({"itemId": id})) } else { err(StatusCode::NOT_FOUND, "No matching records found.") }
                }
                _ => not_allowed(),
            }
        }
        _ => err(StatusCode::NOT_FOUND, format!("No HTTP resource was found that matches the request URI '{}'.", uri.path())),
    }
}

fn scan_ranges(t: &Table, def: &EntityDef, q: &Query, after: Option<i64>) -> Vec<(i64, i64)> {
    let (mut lo, hi) = filter::id_bounds(&q.filter);
    if let Some(a) = after {
        lo = lo.max(a.saturating_add(1));
    }
    if let (Some(pf), Some(idx)) = (t.parent_field.as_ref(), t.parent_index.as_ref()) {
        if let Some(pid) = filter::top_level_eq(&q.filter, pf) {
            let tail_lo = lo.max(t.generated_hi() + 1);
            let mut v = vec![];
            if let Some((a, b)) = idx(pid) {
                v.push((lo.max(a), hi.min(b)));
            }
            v.push((tail_lo, hi));
            let _ = def;
            return v;
        }
    }
    vec![(lo, hi)]
}

fn check_query(def: &EntityDef, q: &Query, knobs: &Knobs) -> Result<(), String> {
    filter::validate(def, &q.filter)?;
    for f in &q.include_fields {
        if def.field(f).is_none() {
            return Err(format!("Unable to find {f} in the {} Entity.", def.name));
        }
    }
    if def.name == "TicketHistory" && knobs.strict_ticket_history {
        let ok = q.filter.len() == 1 && q.filter[0].op == "eq" && q.filter[0].field.eq_ignore_ascii_case("ticketID");
        if !ok {
            return Err("TicketHistory can only be queried with a single filter: ticketID equals a value.".into());
        }
    }
    Ok(())
}

fn run_query(s: &Shared, def: &EntityDef, q: Query, after: Option<i64>, knobs: &Knobs) -> Reply {
    if let Err(e) = check_query(def, &q, knobs) {
        return bad(e);
    }
    let db = s.db.lock().unwrap();
    let t = &db[&def.name.to_ascii_lowercase()];
    let mut items = vec![];
    let mut more = false;
    let mut last_id = after.unwrap_or(0);
    for (lo, hi) in scan_ranges(t, def, &q, after) {
        if more {
            break;
        }
        t.scan(lo, hi, |id, row| {
            if filter::matches_all(row, &q.filter) {
                if items.len() == q.max_records {
                    more = true;
                    return false;
                }
                last_id = id;
                items.push(Value::Object(filter::project(row, &q.include_fields)));
            }
            true
        });
    }
    drop(db);
    let next = if more {
        let search = json!({
            "filter": q.filter.iter().map(filter_json).collect::<Vec<_>>(),
            "IncludeFields": q.include_fields,
            "MaxRecords": q.max_records,
        });
        let paging = json!({"pageSize": q.max_records, "lastId": last_id});
        let enc = |v: &Value| url::form_urlencoded::byte_serialize(v.to_string().as_bytes()).collect::<String>();
        Value::from(format!("{}/atservicesrest/V1.0/{}/query/next?paging={}&search={}", s.base_url, def.name, enc(&paging), enc(&search)))
    } else {
        Value::Null
    };
    let count = items.len();
    (StatusCode::OK, json!({"items": items, "pageDetails": {"count": count, "requestCount": q.max_records, "prevPageUrl": null, "nextPageUrl": next}}))
}

fn filter_json(f: &filter::Filter) -> Value {
    let mut m = Map::new();
    m.insert("op".into(), Value::from(f.op.clone()));
    if !f.field.is_empty() {
        m.insert("field".into(), Value::from(f.field.clone()));
    }
    if f.udf {
        m.insert("udf".into(), Value::Bool(true));
    }
    if !f.value.is_null() {
        m.insert("value".into(), f.value.clone());
    }
    if !f.items.is_empty() {
        m.insert("items".into(), Value::Array(f.items.iter().map(filter_json).collect()));
    }
    Value::Object(m)
}

fn count_query(s: &Shared, def: &EntityDef, q: Query, knobs: &Knobs) -> Reply {
    if let Err(e) = check_query(def, &q, knobs) {
        return bad(e);
    }
    let db = s.db.lock().unwrap();
    let t = &db[&def.name.to_ascii_lowercase()];
    let mut n = 0u64;
    for (lo, hi) in scan_ranges(t, def, &q, None) {
        t.scan(lo, hi, |_, row| {
            if filter::matches_all(row, &q.filter) {
                n += 1;
            }
            true
        });
    }
    (StatusCode::OK, json!({"queryCount": n}))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Create,
    Patch,
    Put,
}

fn ref_table(r: &str) -> Option<&'static str> {
    Some(match r {
        "Company" => "companies",
        "Contact" => "contacts",
        "Contract" => "contracts",
        "Resource" => "resources",
        "Role" => "roles",
        "BillingCode" => "billingcodes",
        "Ticket" => "tickets",
        "TicketWebhook" => "ticketwebhooks",
        _ => return None,
    })
}

/// Checks a value against a field's type, with the real API's messages.
fn check_type(f: &crate::schema::FieldDef, v: &Value) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    let ok = match f.ty {
        Ty::Integer | Ty::Long => v.as_i64().is_some() || v.as_f64().is_some_and(|x| x.fract() == 0.0) || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok()),
        Ty::Double => v.is_number() || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok()),
        Ty::Boolean => v.is_boolean(),
        Ty::String => v.is_string() || v.is_number(),
        Ty::DateTime => v.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok() || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
    };
    if ok {
        return Ok(());
    }
    let shown = v.to_string();
    let first = shown.chars().next().unwrap_or('?');
    Err(format!("Unexpected character encountered while parsing value: {first}. Path '{}'.", f.name))
}

fn pick_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(|x| if x.fract() == 0.0 { (x as i64).to_string() } else { x.to_string() }).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Normalizes numeric values to the field's type (e.g. "5" → 5).
fn normalize(f: &crate::schema::FieldDef, v: Value) -> Value {
    match (f.ty, &v) {
        (Ty::Integer | Ty::Long, Value::String(s)) => s.trim().parse::<i64>().map(Value::from).unwrap_or(v),
        (Ty::Integer | Ty::Long, Value::Number(n)) if n.as_i64().is_none() => n.as_f64().map(|x| Value::from(x as i64)).unwrap_or(v),
        (Ty::Double, Value::String(s)) => s.trim().parse::<f64>().map(Value::from).unwrap_or(v),
        _ => v,
    }
}

#[allow(clippy::too_many_arguments)]
fn write(s: &Arc<Shared>, def: &EntityDef, kind: WriteKind, parent_id: Option<i64>, body: Option<Value>, person: i64, impersonating: bool, knobs: &Knobs) -> Reply {
    let Some(Value::Object(body)) = body else {
        return bad("The request body is missing or is not a JSON object.");
    };
    let ename = def.name.to_ascii_lowercase();
    let mut db = s.db.lock().unwrap();
    // Normalize keys to the entity's spelling.
    let mut given = Map::new();
    let mut udfs: Option<Vec<Value>> = None;
    let mut id: Option<i64> = None;
    for (k, v) in body {
        if k.eq_ignore_ascii_case("id") {
            id = v.as_i64();
            continue;
        }
        if k.eq_ignore_ascii_case("userDefinedFields") {
            let Value::Array(a) = v else { return bad("userDefinedFields must be an array of {name, value}.") };
            for u in &a {
                let name = u.get("name").and_then(Value::as_str).unwrap_or("");
                if def.udf(name).is_none() {
                    return bad(format!("Unable to find {name} in the {} Entity's user-defined fields.", def.name));
                }
            }
            udfs = Some(a);
            continue;
        }
        let Some(f) = def.field(&k) else {
            if knobs.reject_unknown_fields {
                return bad(format!("Unable to find {k} in the {} Entity.", def.name));
            }
            continue;
        };
        if f.read_only {
            continue;
        }
        if let Err(e) = check_type(f, &v) {
            return bad(e);
        }
        given.insert(f.name.clone(), normalize(f, v));
    }
    if let (Some(pid), Some((_, _, pf))) = (parent_id, def.parent.as_ref()) {
        given.insert(pf.clone(), Value::from(pid));
    }
    let old = match kind {
        WriteKind::Create => None,
        _ => {
            let Some(id) = id else { return bad("The id is required in the body of an update.") };
            match db[&ename].get(id) {
                Some(r) => Some(r),
                None => return bad(format!("Unable to find the {} with id {id}: no matching records found.", crate::schema::singular(&def.name))),
            }
        }
    };
    let mut row = match (&kind, &old) {
        (WriteKind::Patch, Some(o)) => o.clone(),
        (WriteKind::Put, Some(o)) => {
            // PUT: writable fields not sent become null.
            let mut r = o.clone();
            for f in &def.fields {
                if !f.read_only && f.name != "userDefinedFields" && !given.contains_key(&f.name) && def.parent.as_ref().is_none_or(|(_, _, pf)| pf != &f.name) {
                    r.insert(f.name.clone(), Value::Null);
                }
            }
            r
        }
        _ => Map::new(),
    };
    for (k, v) in &given {
        row.insert(k.clone(), v.clone());
    }
    if let Some(new_udfs) = udfs {
        let mut cur: Vec<Value> = row.get("userDefinedFields").and_then(Value::as_array).cloned().unwrap_or_default();
        for u in new_udfs {
            let name = u.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let val = u.get("value").cloned().unwrap_or(Value::Null);
            if let Some(e) = cur.iter_mut().find(|e| e.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&name))) {
                e["value"] = val;
            } else {
                cur.push(json!({"name": name, "value": val}));
            }
        }
        row.insert("userDefinedFields".into(), Value::Array(cur));
    } else if kind == WriteKind::Create && !def.udfs.is_empty() {
        row.insert("userDefinedFields".into(), Value::Array(def.udfs.iter().map(|u| json!({"name": u.name, "value": null})).collect()));
    }
    // Generic checks: required, picklists, references.
    for f in &def.fields {
        let v = row.get(&f.name).cloned().unwrap_or(Value::Null);
        if f.required && !f.read_only && v.is_null() && kind != WriteKind::Patch {
            return bad(format!("{} is required.", f.name));
        }
        if f.required && v.is_null() && kind == WriteKind::Patch && given.contains_key(&f.name) {
            return bad(format!("{} is required and cannot be set to null.", f.name));
        }
        if v.is_null() || !given.contains_key(&f.name) {
            continue;
        }
        if let Some(pl) = f.picklist.as_ref().filter(|p| !p.is_empty()) {
            let sv = pick_str(&v);
            let Some(entry) = pl.iter().find(|p| p.value == sv) else {
                return bad(format!("Value {sv} is not a valid picklist value for field {}.", f.name));
            };
            if let (Some(pf), Some(parent)) = (f.picklist_parent.as_ref(), entry.parent_value.as_ref()) {
                let pv = row.get(pf).map(pick_str).unwrap_or_default();
                if &pv != parent {
                    return bad(format!("Value {sv} of field {} does not belong to {pf} {pv}.", f.name));
                }
            }
        }
        if let Some(tname) = f.reference.as_deref().and_then(ref_table) {
            let rid = v.as_i64().unwrap_or(-1);
            let exists = db.get(tname).and_then(|t| t.get(rid));
            let active = exists.as_ref().is_some_and(|r| match r.get("isActive") {
                Some(Value::Bool(b)) => *b,
                Some(Value::Number(n)) => n.as_i64() != Some(0),
                _ => true,
            });
            if !active {
                return bad(format!("Reference value on field: {} of type: {} does not exist or is invalid.", f.name, f.reference.as_deref().unwrap_or("")));
            }
        }
    }
    // Entity rules.
    if let Err(e) = entity_rules(&db, def, kind, &mut row, old.as_ref(), &given, person, knobs) {
        return bad(e);
    }
    let now = ts(Utc::now());
    let t = db.get_mut(&ename).unwrap();
    let id = match kind {
        WriteKind::Create => {
            let id = t.next_id();
            for (k, v) in created_fields(def, id, person, impersonating, &now) {
                row.entry(k).or_insert(v);
            }
            id
        }
        _ => id.unwrap(),
    };
    for (k, v) in updated_fields(def, person, impersonating, &now) {
        row.insert(k, v);
    }
    t.insert(id, row.clone());
    // Webhook isReady once a subscribed field exists.
    if ename == "ticketwebhookfields" && row.get("isSubscribedField").and_then(Value::as_bool) == Some(true) {
        if let Some(hid) = row.get("webhookID").and_then(Value::as_i64) {
            let hooks = db.get_mut("ticketwebhooks").unwrap();
            if let Some(mut h) = hooks.get(hid) {
                h.insert("isReady".into(), Value::Bool(true));
                hooks.insert(hid, h);
            }
        }
    }
    drop(db);
    if ename == "tickets" {
        let changed: Vec<String> = match &old {
            None => vec![],
            Some(o) => row.iter().filter(|(k, v)| o.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect(),
        };
        let action = if kind == WriteKind::Create { "Create" } else { "Update" };
        s.fire(action, id, &row, &changed, Some(person));
    }
    (StatusCode::OK, json!({"itemId": id}))
}

fn created_fields(def: &EntityDef, id: i64, person: i64, impersonating: bool, now: &str) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = vec![];
    let has = |n: &str| def.field(n).is_some();
    for f in ["createDate", "createDateTime"] {
        if has(f) {
            v.push((f.into(), Value::from(now)));
        }
    }
    if has("creatorResourceID") {
        v.push(("creatorResourceID".into(), Value::from(person)));
    }
    if has("creatorUserID") {
        v.push(("creatorUserID".into(), Value::from(person)));
    }
    if impersonating && has("impersonatorCreatorResourceID") {
        v.push(("impersonatorCreatorResourceID".into(), Value::from(API_RESOURCE_ID)));
    }
    if def.name == "Tickets" {
        v.push(("ticketNumber".into(), Value::from(format!("T{}.{:04}", Utc::now().format("%Y%m%d"), id % 10_000))));
        v.push(("creatorType".into(), Value::from(1)));
    }
    if def.name == "TicketWebhooks" {
        v.push(("webhookGUID".into(), Value::from(uuid::Uuid::new_v4().to_string())));
        v.push(("isReady".into(), Value::Bool(false)));
    }
    v
}

fn updated_fields(def: &EntityDef, person: i64, impersonating: bool, now: &str) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = vec![];
    for f in ["lastActivityDate", "lastTrackedModificationDateTime", "lastModifiedDateTime", "lastModifiedDate"] {
        if def.field(f).is_some() {
            v.push((f.into(), Value::from(now)));
        }
    }
    if def.field("lastModifiedUserID").is_some() {
        v.push(("lastModifiedUserID".into(), Value::from(person)));
    }
    if def.name == "Tickets" {
        v.push(("lastActivityResourceID".into(), Value::from(person)));
    }
    if impersonating && def.field("impersonatorUpdaterResourceID").is_some() {
        v.push(("impersonatorUpdaterResourceID".into(), Value::from(API_RESOURCE_ID)));
    }
    v
}

fn resource_has_role(db: &BTreeMap<String, Table>, resource: i64, role: i64) -> bool {
    let mut found = false;
    db["resourceroles"].scan(i64::MIN, i64::MAX, |_, r| {
        if r.get("resourceID").and_then(Value::as_i64) == Some(resource)
            && r.get("roleID").and_then(Value::as_i64) == Some(role)
            && r.get("isActive").and_then(Value::as_bool).unwrap_or(true)
        {
            found = true;
            return false;
        }
        true
    });
    found
}

#[allow(clippy::too_many_arguments)]
fn entity_rules(db: &BTreeMap<String, Table>, def: &EntityDef, kind: WriteKind, row: &mut Row, old: Option<&Row>, given: &Map<String, Value>, person: i64, knobs: &Knobs) -> Result<(), String> {
    let geti = |r: &Row, k: &str| r.get(k).and_then(Value::as_i64);
    let _ = (old, person);
    match def.name.as_str() {
        "Tickets" => {
            let res = geti(row, "assignedResourceID");
            let role = geti(row, "assignedResourceRoleID");
            match (res, role) {
                (Some(_), None) | (None, Some(_)) => {
                    return Err("When assigning a Resource, you must assign both a assignedResourceID and assignedResourceRoleID.".into());
                }
                (Some(r), Some(ro)) if given.contains_key("assignedResourceID") || given.contains_key("assignedResourceRoleID") => {
                    if !resource_has_role(db, r, ro) {
                        return Err(format!("The resource {r} does not have the role {ro}: a resource must have a role to be assigned."));
                    }
                }
                _ => {}
            }
            if let (Some(c), Some(company)) = (geti(row, "contactID"), geti(row, "companyID")) {
                if given.contains_key("contactID") || given.contains_key("companyID") {
                    let cc = db["contacts"].get(c).and_then(|r| geti(&r, "companyID"));
                    if cc != Some(company) {
                        return Err("Reference value on field: contactID of type: Contact does not exist or is invalid.".into());
                    }
                }
            }
            if let Some(contract) = geti(row, "contractID").filter(|_| given.contains_key("contractID") || given.contains_key("companyID")) {
                let cc = db["contracts"].get(contract).and_then(|r| geti(&r, "companyID"));
                if cc != geti(row, "companyID") {
                    return Err("Reference value on field: contractID of type: Contract does not exist or is invalid.".into());
                }
            }
        }
        "TimeEntries" => {
            let hours = row.get("hoursWorked").and_then(Value::as_f64);
            match hours {
                Some(h) if h > 0.0 && h < 24.0 => {}
                Some(_) => return Err("hoursWorked must be greater than 0 and less than 24.".into()),
                None if kind == WriteKind::Patch => {}
                None => return Err("hoursWorked is required.".into()),
            }
            if let (Some(m), Some(h)) = (knobs.time_rounding_minutes, hours) {
                if m > 0 {
                    let step = m as f64 / 60.0;
                    let rounded = (h / step).ceil() * step;
                    row.insert("hoursWorked".into(), Value::from(rounded));
                }
            }
            if row.get("hoursToBill").is_none_or(Value::is_null) {
                if let Some(h) = row.get("hoursWorked").cloned() {
                    row.insert("hoursToBill".into(), h);
                }
            }
            let resource = geti(row, "resourceID").ok_or("resourceID is required.")?;
            let rrow = db["resources"].get(resource).ok_or("Reference value on field: resourceID of type: Resource does not exist or is invalid.")?;
            if geti(&rrow, "licenseType") == Some(7) {
                return Err("Time entries cannot be created for an API-only resource; use a licensed resource.".into());
            }
            if let Some(ticket) = geti(row, "ticketID") {
                let trow = db["tickets"].get(ticket).ok_or("Reference value on field: ticketID of type: Ticket does not exist or is invalid.")?;
                let role = geti(row, "roleID").ok_or("roleID is required for ticket time entries.")?;
                if !knobs.allow_role_override {
                    if let Some(tr) = geti(&trow, "assignedResourceRoleID") {
                        if tr != role && geti(&trow, "assignedResourceID") == Some(resource) {
                            return Err(format!("roleID {role} must match the ticket's assignedResourceRoleID {tr}."));
                        }
                    }
                }
                if !resource_has_role(db, resource, role) {
                    return Err(format!("The resource {resource} does not have the role {role}."));
                }
                if kind == WriteKind::Create && row.get("contractID").is_none_or(Value::is_null) {
                    if let Some(c) = trow.get("contractID").filter(|v| !v.is_null()) {
                        row.insert("contractID".into(), c.clone());
                    }
                }
                row.entry("timeEntryType").or_insert(Value::from(2));
            } else if geti(row, "taskID").is_none() {
                if let Some(r) = geti(&rrow, "defaultServiceDeskRoleID") {
                    row.insert("roleID".into(), Value::from(r));
                }
                row.entry("timeEntryType").or_insert(Value::from(11));
            }
        }
        "ContractBlocks" => {
            let c = geti(row, "contractID").and_then(|c| db["contracts"].get(c));
            if c.as_ref().and_then(|c| geti(c, "contractType")) != Some(tenant::CT_BLOCK_HOURS) {
                return Err("Blocks can only be added to Block Hours contracts.".into());
            }
            row.entry("hoursApproved").or_insert(Value::from(0.0));
        }
        "ContractTicketPurchases" => {
            row.entry("ticketsUsed").or_insert(Value::from(0.0));
        }
        "TicketWebhooks" => {
            for (f, max) in [("name", 50), ("webhookUrl", 500), ("deactivationUrl", 500), ("secretKey", 64), ("notificationEmailAddress", 150)] {
                if row.get(f).and_then(Value::as_str).is_some_and(|s| s.chars().count() > max) {
                    return Err(format!("{f} must be less than or equal to {max} characters"));
                }
            }
            for f in ["webhookUrl", "deactivationUrl"] {
                if row.get(f).and_then(Value::as_str).is_some_and(|u| url::Url::parse(u).is_err()) {
                    return Err(format!("{f} is not a valid URL."));
                }
            }
        }
        "TicketNotes" => {
            if row.get("title").is_none_or(Value::is_null) {
                row.insert("title".into(), Value::from(""));
            }
        }
        _ => {}
    }
    Ok(())
}

trait GenHi {
    fn generated_hi(&self) -> i64;
}
impl GenHi for Table {
    fn generated_hi(&self) -> i64 {
        self.gen_range().1
    }
}
