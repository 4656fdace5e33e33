//! The HTTP client: zone discovery, auth headers, budget, per-endpoint
//! concurrency, retries, paging and picklists.

use crate::entities::{Entity, FieldInfo, PicklistValue, ThresholdInformation, ZoneInformation};
use crate::error::{Error, Result, parse_error_body};
use crate::query::{Filter, Query};
use futures::{Stream, StreamExt, TryStreamExt};
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// API credentials. `Debug` redacts the secret and the integration code.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
    pub integration_code: String,
    /// Makes writes appear as this resource (`ImpersonationResourceId`).
    pub impersonation_resource_id: Option<i64>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("integration_code", &"<redacted>")
            .field("impersonation_resource_id", &self.impersonation_resource_id)
            .finish()
    }
}

/// Where the zone's REST root comes from.
#[derive(Debug, Clone)]
pub enum ZoneSource {
    /// `GET {bootstrap}/atservicesrest/v1.0/zoneInformation?user=`; cached.
    Discover { bootstrap_url: String },
    /// A known zone root, e.g. `https://webservices5.autotask.net/atservicesrest/`.
    Fixed { rest_url: String },
}

impl ZoneSource {
    /// The zone of a URL given by a user: the global bootstrap host
    /// (webservices2), or any URL that is not a REST root (`…/atservicesrest`),
    /// is discovered from the API user; a zone's REST root is used as it is.
    pub fn for_url(url: &str) -> ZoneSource {
        let discover = url.contains("webservices2.autotask.net") || !url.to_ascii_lowercase().contains("atservicesrest");
        if discover { ZoneSource::Discover { bootstrap_url: url.to_string() } } else { ZoneSource::Fixed { rest_url: url.to_string() } }
    }
}

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
        Self { max_attempts: 6, base_delay: Duration::from_millis(250), max_delay: Duration::from_secs(20), max_retry_after: Duration::from_secs(300) }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingMode {
    /// Follow `nextPageUrl` (falls back to the id cursor if it fails).
    NextPageUrl,
    /// Always loop with `id gt <last id>`.
    IdCursor,
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub credentials: Credentials,
    pub zone: ZoneSource,
    /// This client's share of the tenant's hourly limit (0 < share <= 1).
    pub budget_share: f64,
    /// Assumed tenant limit until ThresholdInformation says otherwise.
    pub assumed_hourly_limit: u32,
    /// How often ThresholdInformation is read (it counts against the limit too); None = never.
    pub threshold_refresh: Option<Duration>,
    /// Concurrent requests per endpoint (Autotask allows 3).
    pub max_concurrency_per_endpoint: usize,
    pub retry: RetryPolicy,
    pub request_timeout: Duration,
    pub picklist_ttl: Duration,
    pub zone_ttl: Duration,
    pub paging: PagingMode,
}

impl ClientConfig {
    pub fn new(credentials: Credentials, zone: ZoneSource) -> Self {
        Self {
            credentials,
            zone,
            budget_share: 0.5,
            assumed_hourly_limit: 10_000,
            threshold_refresh: Some(Duration::from_secs(15 * 60)),
            max_concurrency_per_endpoint: 3,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            picklist_ttl: Duration::from_secs(3600),
            zone_ttl: Duration::from_secs(24 * 3600),
            paging: PagingMode::NextPageUrl,
        }
    }
}

/// Counters for observability and benches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent to the zone (retries included; zone discovery excluded).
    pub requests: u64,
    pub retries: u64,
    pub picklist_cache_hits: u64,
    pub picklist_cache_misses: u64,
    pub threshold_reads: u64,
}

struct Budget {
    sent: VecDeque<Instant>,
    tenant_limit: u32,
    /// Tenant-wide usage from the last ThresholdInformation read, and when.
    reported: Option<(Instant, u32)>,
    sent_since_report: u32,
}

/// A page of raw items.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_page_url: Option<String>,
}

/// A picklist (labels ↔ values).
#[derive(Debug, Clone, Default)]
pub struct Picklist {
    pub values: Vec<PicklistValue>,
}

impl Picklist {
    pub fn label_of(&self, value: impl ToString) -> Option<&str> {
        let v = value.to_string();
        self.values.iter().find(|p| p.value == v).map(|p| p.label.as_str())
    }
    /// The value of a label (case-insensitive), parsed as an integer when numeric.
    pub fn value_of(&self, label: &str) -> Option<&str> {
        self.values.iter().find(|p| p.label.eq_ignore_ascii_case(label)).map(|p| p.value.as_str())
    }
    pub fn id_of(&self, label: &str) -> Option<i64> {
        self.value_of(label).and_then(|v| v.parse().ok())
    }
    pub fn active(&self) -> impl Iterator<Item = &PicklistValue> {
        self.values.iter().filter(|p| p.is_active)
    }
}

struct Inner {
    cfg: ClientConfig,
    http: reqwest::Client,
    zone: Mutex<Option<(String, Instant)>>,
    zone_lock: tokio::sync::Mutex<()>,
    semaphores: Mutex<HashMap<String, Arc<Semaphore>>>,
    budget: Mutex<Budget>,
    threshold_lock: tokio::sync::Mutex<()>,
    fields: tokio::sync::Mutex<HashMap<String, (Instant, Arc<Vec<FieldInfo>>)>>,
    stats: Mutex<ClientStats>,
}

/// The Autotask REST client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("credentials", &self.inner.cfg.credentials).field("zone", &self.inner.cfg.zone).finish()
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
            known.iter().find(|(a, b, _)| *a == p && *b == c).map(|(_, _, k)| k.to_string()).unwrap_or(format!("{p}/{c}"))
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
            let unknown_user = all.match_indices("unable to find user").any(|(i, m)| !all[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()));
            if all.contains("integration code") || unknown_user || all.contains("not a valid api user") {
                Error::Auth { status: code, messages }
            } else if all.contains("threshold") && all.contains("exceeded") {
                Error::RateLimited { retry_after: retry_after(headers), messages }
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
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        if !(cfg.budget_share > 0.0 && cfg.budget_share <= 1.0) {
            return Err(Error::Config(format!("budget_share must be in (0, 1], got {}", cfg.budget_share)));
        }
        if cfg.max_concurrency_per_endpoint == 0 {
            return Err(Error::Config("max_concurrency_per_endpoint must be at least 1".into()));
        }
        let http = reqwest::Client::builder().timeout(cfg.request_timeout).build().map_err(|e| Error::Config(e.to_string()))?;
        let tenant_limit = cfg.assumed_hourly_limit;
        Ok(Client {
            inner: Arc::new(Inner {
                cfg,
                http,
                zone: Mutex::new(None),
                zone_lock: tokio::sync::Mutex::new(()),
                semaphores: Mutex::new(HashMap::new()),
                budget: Mutex::new(Budget { sent: VecDeque::new(), tenant_limit, reported: None, sent_since_report: 0 }),
                threshold_lock: tokio::sync::Mutex::new(()),
                fields: tokio::sync::Mutex::new(HashMap::new()),
                stats: Mutex::new(ClientStats::default()),
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }
    pub fn stats(&self) -> ClientStats {
        *self.inner.stats.lock().unwrap()
    }

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
        let base = if base.to_ascii_lowercase().ends_with("/atservicesrest") { base.to_string() } else { format!("{base}/atservicesrest") };
        let mut url = url::Url::parse(&format!("{base}/v1.0/zoneInformation")).map_err(|e| Error::Zone(e.to_string()))?;
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
            return Err(Error::BudgetExhausted { used, allowed, tenant_limit: b.tenant_limit });
        }
        if let Some((_, reported)) = b.reported {
            if reported + b.sent_since_report >= b.tenant_limit {
                return Err(Error::BudgetExhausted { used: reported + b.sent_since_report, allowed, tenant_limit: b.tenant_limit });
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
    pub async fn request(&self, method: Method, path: &str, query: Option<&[(&str, String)]>, body: Option<&Value>) -> Result<Value> {
        self.maybe_refresh_threshold().await?;
        self.send_raw(method, path, query, body).await
    }

    async fn send_raw(&self, method: Method, path: &str, query: Option<&[(&str, String)]>, body: Option<&Value>) -> Result<Value> {
        let zone = self.zone_url().await?;
        let url = if path.starts_with("http://") || path.starts_with("https://") { path.to_string() } else { format!("{zone}v1.0/{}", path.trim_start_matches('/')) };
        let url_path = url::Url::parse(&url).map(|u| u.path().to_string()).unwrap_or_default();
        let key = endpoint_key(url_path.trim_start_matches('/').trim_start_matches(|c: char| c != '/').trim_start_matches('/'));
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
                        Error::RateLimited { retry_after: Some(d), .. } => (*d).min(policy.max_retry_after) + policy.backoff(1) / 4,
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

    async fn once(&self, method: &Method, url: &str, query: Option<&[(&str, String)]>, body: Option<&Value>) -> Result<Value> {
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
            rb = rb.header("Content-Type", "application/json").body(serde_json::to_vec(b).map_err(|e| Error::Decode(e.to_string()))?);
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
        let bytes = resp.bytes().await.map_err(|e| if e.is_timeout() { Error::Timeout(e.to_string()) } else { Error::Transport(e.to_string()) })?;
        if !status.is_success() {
            return Err(classify(status, &headers, &bytes));
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        // Some errors arrive with a 200 and an `errors` array.
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string()))?;
        if let Some(errs) = v.get("errors").and_then(Value::as_array).filter(|a| !a.is_empty()) {
            if v.get("item").is_none() && v.get("items").is_none() && v.get("itemId").is_none() {
                let _ = errs;
                return Err(classify(StatusCode::INTERNAL_SERVER_ERROR, &headers, &bytes));
            }
        }
        Ok(v)
    }

    // ---------- queries ----------

    /// One page of a query (`POST {entity}/query`).
    pub async fn query_page(&self, entity_path: &str, q: &Query) -> Result<Page> {
        let body = serde_json::to_value(q).map_err(|e| Error::Decode(e.to_string()))?;
        let v = self.request(Method::POST, &format!("{entity_path}/query"), None, Some(&body)).await?;
        page_of(v)
    }

    /// The next page: POST to `nextPageUrl` with the same body.
    async fn follow(&self, next: &str, q: &Query) -> Result<Page> {
        let zone = self.zone_url().await?;
        let same_origin = match (url::Url::parse(next), url::Url::parse(&zone)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        };
        if !same_origin {
            // Never send credentials to another host.
            return Err(Error::NotFound { status: 0, messages: vec![format!("nextPageUrl {next} is not on the zone host")] });
        }
        let body = serde_json::to_value(q).map_err(|e| Error::Decode(e.to_string()))?;
        page_of(self.request(Method::POST, next, None, Some(&body)).await?)
    }

    /// Streams raw items of a query with bounded memory (one page at a time).
    /// `in` lists over 500 are split into several queries.
    pub fn stream_values(&self, entity_path: &str, q: Query) -> impl Stream<Item = Result<Value>> + Send + 'static {
        let client = self.clone();
        let path = entity_path.to_string();
        let parts = q.split();
        let parts: Vec<Result<Query>> = match parts {
            Ok(p) => p.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(parts)
            .map(move |part| {
                let client = client.clone();
                let path = path.clone();
                match part {
                    Ok(q) => client.pages(path, q).map_ok(|items| futures::stream::iter(items.into_iter().map(Ok))).try_flatten().boxed(),
                    Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
                }
            })
            .flatten()
    }

    fn pages(&self, path: String, q: Query) -> impl Stream<Item = Result<Vec<Value>>> + Send + 'static {
        enum St {
            Start,
            Next(String, i64),
            Cursor(i64),
            Done,
        }
        let client = self.clone();
        let mode = self.inner.cfg.paging;
        let page_size = q.max_records.unwrap_or(crate::query::MAX_RECORDS) as usize;
        futures::stream::try_unfold(St::Start, move |st| {
            let client = client.clone();
            let path = path.clone();
            let q = q.clone();
            async move {
                let page = match st {
                    St::Done => return Ok(None),
                    St::Start => client.query_page(&path, &q).await?,
                    St::Next(url, last) => match client.follow(&url, &q).await {
                        Ok(p) => p,
                        Err(Error::NotFound { .. } | Error::MethodNotAllowed { .. }) => {
                            tracing::info!(entity = %path, "nextPageUrl failed; falling back to the id cursor");
                            client.query_page(&path, &cursor(&q, last)).await?
                        }
                        Err(e) => return Err(e),
                    },
                    St::Cursor(last) => client.query_page(&path, &cursor(&q, last)).await?,
                };
                let last = page.items.iter().filter_map(|i| i.get("id").and_then(Value::as_i64)).max();
                let next = match (mode, page.next_page_url.clone(), last) {
                    (_, _, None) => St::Done,
                    (PagingMode::NextPageUrl, Some(u), Some(l)) => St::Next(u, l),
                    (PagingMode::NextPageUrl, None, _) => St::Done,
                    (PagingMode::IdCursor, _, Some(l)) if page.items.len() >= page_size || page.next_page_url.is_some() => St::Cursor(l),
                    (PagingMode::IdCursor, _, _) => St::Done,
                };
                if page.items.is_empty() {
                    return Ok(None);
                }
                Ok(Some((page.items, next)))
            }
        })
    }

    /// Streams typed entities.
    pub fn stream<E: Entity>(&self, q: Query) -> impl Stream<Item = Result<E>> + Send + 'static {
        self.stream_values(E::PATH, q).and_then(|v| async move { serde_json::from_value::<E>(v).map_err(|e| Error::Decode(e.to_string())) })
    }

    /// Collects every match (for small result sets; use [`Client::stream`] for large ones).
    pub async fn query<E: Entity>(&self, q: Query) -> Result<Vec<E>> {
        self.stream::<E>(q).try_collect().await
    }

    /// `POST {entity}/query/count` (summed over split parts).
    pub async fn count<E: Entity>(&self, q: &Query) -> Result<u64> {
        self.count_path(E::PATH, q).await
    }

    pub async fn count_path(&self, entity_path: &str, q: &Query) -> Result<u64> {
        let mut total = 0;
        for part in q.split()? {
            let body = serde_json::to_value(&part).map_err(|e| Error::Decode(e.to_string()))?;
            let v = self.request(Method::POST, &format!("{entity_path}/query/count"), None, Some(&body)).await?;
            total += v.get("queryCount").and_then(Value::as_u64).ok_or_else(|| Error::Decode("no queryCount".into()))?;
        }
        Ok(total)
    }

    /// `GET {entity}/{id}`; `None` when Autotask answers `{"item": null}` (or 404).
    pub async fn get<E: Entity>(&self, id: i64) -> Result<Option<E>> {
        match self.request(Method::GET, &format!("{}/{id}", E::PATH), None, None).await {
            Ok(v) => match v.get("item") {
                None | Some(Value::Null) => Ok(None),
                Some(item) => serde_json::from_value(item.clone()).map(Some).map_err(|e| Error::Decode(e.to_string())),
            },
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn collection_path<E: Entity>(parent_id: Option<i64>) -> Result<String> {
        match (E::PARENT, parent_id) {
            (Some((p, c)), Some(pid)) => Ok(format!("{p}/{pid}/{c}")),
            (Some((p, _)), None) => Err(Error::Config(format!("{} is written through {p}/{{id}}: give the parent id", E::PATH))),
            (None, _) => Ok(E::PATH.to_string()),
        }
    }

    async fn write<B: Serialize + ?Sized>(&self, method: Method, path: &str, body: &B) -> Result<i64> {
        let body = serde_json::to_value(body).map_err(|e| Error::Decode(e.to_string()))?;
        let v = self.request(method, path, None, Some(&body)).await?;
        v.get("itemId").and_then(Value::as_i64).ok_or_else(|| Error::Decode(format!("no itemId in {v}")))
    }

    /// Creates an entity at its collection (`POST /Tickets`, `POST /TimeEntries`, …).
    pub async fn create<E: Entity>(&self, e: &E) -> Result<i64> {
        self.write(Method::POST, &Self::collection_path::<E>(None)?, e).await
    }
    /// Creates a child entity through its parent (`POST /Tickets/{id}/Notes`, …).
    pub async fn create_child<E: Entity>(&self, parent_id: i64, e: &E) -> Result<i64> {
        self.write(Method::POST, &Self::collection_path::<E>(Some(parent_id))?, e).await
    }
    /// PATCH to the collection URL with `id` in the body: only set fields change.
    pub async fn patch<E: Entity>(&self, p: &E::Patch) -> Result<i64> {
        self.write(Method::PATCH, &Self::collection_path::<E>(None)?, p).await
    }
    pub async fn patch_child<E: Entity>(&self, parent_id: i64, p: &E::Patch) -> Result<i64> {
        self.write(Method::PATCH, &Self::collection_path::<E>(Some(parent_id))?, p).await
    }
    /// PUT to the collection URL: Autotask nulls every writable field not sent.
    pub async fn put<E: Entity>(&self, e: &E) -> Result<i64> {
        if e.id().is_none() {
            return Err(Error::Config("PUT needs the id in the body".into()));
        }
        self.write(Method::PUT, &Self::collection_path::<E>(None)?, e).await
    }
    pub async fn delete<E: Entity>(&self, id: i64) -> Result<()> {
        self.request(Method::DELETE, &format!("{}/{id}", E::PATH), None, None).await.map(|_| ())
    }
    pub async fn delete_child<E: Entity>(&self, parent_id: i64, id: i64) -> Result<()> {
        self.request(Method::DELETE, &format!("{}/{id}", Self::collection_path::<E>(Some(parent_id))?), None, None).await.map(|_| ())
    }

    // ---------- metadata ----------

    /// `entityInformation/fields`, cached for `picklist_ttl` (single-flight, so a
    /// cold cache never bursts into the thread limit).
    pub async fn fields(&self, entity_path: &str) -> Result<Arc<Vec<FieldInfo>>> {
        let key = entity_path.to_ascii_lowercase();
        let mut cache = self.inner.fields.lock().await;
        if let Some((at, f)) = cache.get(&key) {
            if at.elapsed() < self.inner.cfg.picklist_ttl {
                self.inner.stats.lock().unwrap().picklist_cache_hits += 1;
                return Ok(f.clone());
            }
        }
        self.inner.stats.lock().unwrap().picklist_cache_misses += 1;
        let v = self.request(Method::GET, &format!("{entity_path}/entityInformation/fields"), None, None).await?;
        let fields: Vec<FieldInfo> = serde_json::from_value(v.get("fields").cloned().unwrap_or(json!([]))).map_err(|e| Error::Decode(e.to_string()))?;
        let f = Arc::new(fields);
        cache.insert(key, (Instant::now(), f.clone()));
        Ok(f)
    }

    /// A picklist (queues, statuses, priorities, issue types, contract types, …).
    pub async fn picklist(&self, entity_path: &str, field: &str) -> Result<Picklist> {
        let fields = self.fields(entity_path).await?;
        let f = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(field))
            .ok_or_else(|| Error::Config(format!("{entity_path} has no field {field}")))?;
        Ok(Picklist { values: f.picklist_values.clone() })
    }

    /// Drops cached metadata (e.g. after a tenant admin changed a picklist).
    pub async fn invalidate_fields(&self) {
        self.inner.fields.lock().await.clear();
    }

    /// `GET {entity}/entityInformation/userDefinedFields`.
    pub async fn udf_definitions(&self, entity_path: &str) -> Result<Vec<FieldInfo>> {
        let v = self.request(Method::GET, &format!("{entity_path}/entityInformation/userDefinedFields"), None, None).await?;
        serde_json::from_value(v.get("fields").cloned().unwrap_or(json!([]))).map_err(|e| Error::Decode(e.to_string()))
    }

    // ---------- webhooks ----------

    /// Registers a ticket webhook: create it, add fields one at a time (parallel
    /// field POSTs trip the thread limit), add excluded resources. Field names
    /// are resolved through the `fieldID` picklist of `TicketWebhookFields`.
    pub async fn register_ticket_webhook(&self, reg: &TicketWebhookRegistration) -> Result<i64> {
        use crate::entities::{TicketWebhook, TicketWebhookExcludedResource, TicketWebhookField};
        let ids = self.picklist("TicketWebhookFields", "fieldID").await?;
        let resolve = |name: &str| -> Result<i64> {
            ids.values
                .iter()
                .find(|p| p.label.eq_ignore_ascii_case(name))
                .and_then(|p| p.value.parse().ok())
                .ok_or_else(|| Error::Config(format!("ticket field {name} cannot be used in a webhook")))
        };
        let mut fields = vec![];
        for f in &reg.subscribed_fields {
            fields.push((resolve(f)?, true, reg.display_always_fields.iter().any(|d| d.eq_ignore_ascii_case(f))));
        }
        for f in &reg.display_always_fields {
            if !reg.subscribed_fields.iter().any(|s| s.eq_ignore_ascii_case(f)) {
                fields.push((resolve(f)?, false, true));
            }
        }
        if !fields.iter().any(|f| f.1) {
            return Err(Error::Config("a webhook needs at least one subscribed field".into()));
        }
        let hook = TicketWebhook {
            name: Some(reg.name.clone()),
            webhook_url: Some(reg.webhook_url.clone()),
            deactivation_url: Some(reg.deactivation_url.clone()),
            secret_key: Some(reg.secret_key.clone()),
            notification_email_address: reg.notification_email_address.clone(),
            is_active: Some(true),
            is_subscribed_to_create_events: Some(reg.on_create),
            is_subscribed_to_update_events: Some(reg.on_update),
            is_subscribed_to_delete_events: Some(false),
            send_threshold_exceeded_notification: Some(true),
            ..Default::default()
        };
        let id = self.create(&hook).await?;
        for (field_id, sub, always) in fields {
            let f = TicketWebhookField { field_id: Some(field_id), is_subscribed_field: Some(sub), is_display_always_field: Some(always), ..Default::default() };
            self.create_child(id, &f).await?;
        }
        for r in &reg.excluded_resources {
            self.create_child(id, &TicketWebhookExcludedResource { resource_id: Some(*r), ..Default::default() }).await?;
        }
        Ok(id)
    }
}

/// What [`Client::register_ticket_webhook`] needs.
#[derive(Clone)]
pub struct TicketWebhookRegistration {
    pub name: String,
    pub webhook_url: String,
    pub deactivation_url: String,
    pub secret_key: String,
    pub notification_email_address: Option<String>,
    pub on_create: bool,
    pub on_update: bool,
    pub subscribed_fields: Vec<String>,
    pub display_always_fields: Vec<String>,
    /// E.g. the agent's own resource (loop guard at the source).
    pub excluded_resources: Vec<i64>,
}

impl fmt::Debug for TicketWebhookRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketWebhookRegistration")
            .field("name", &self.name)
            .field("webhook_url", &self.webhook_url)
            .field("secret_key", &"<redacted>")
            .field("subscribed_fields", &self.subscribed_fields)
            .field("excluded_resources", &self.excluded_resources)
            .finish()
    }
}

fn cursor(q: &Query, last: i64) -> Query {
    let mut q = q.clone();
    q.filter.push(Filter::gt("id", last));
    q
}

fn page_of(v: Value) -> Result<Page> {
    let items = match v.get("items") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Null) | None => vec![],
        Some(_) => return Err(Error::Decode("items is not an array".into())),
    };
    let next = v.get("pageDetails").and_then(|p| p.get("nextPageUrl")).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    Ok(Page { items, next_page_url: next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_for_url() {
        assert!(matches!(ZoneSource::for_url("https://webservices2.autotask.net/atservicesrest"), ZoneSource::Discover { .. }));
        assert!(matches!(ZoneSource::for_url("https://webservices5.autotask.net"), ZoneSource::Discover { .. }));
        assert!(matches!(ZoneSource::for_url("https://webservices5.autotask.net/ATServicesRest/"), ZoneSource::Fixed { .. }));
    }

    #[test]
    fn endpoint_keys() {
        assert_eq!(endpoint_key("v1.0/Tickets/query"), "tickets");
        assert_eq!(endpoint_key("/atservicesrest/v1.0/Tickets/12/Notes".trim_start_matches("/atservicesrest/")), "ticketnotes");
        assert_eq!(endpoint_key("TicketNotes/query"), "ticketnotes");
        assert_eq!(endpoint_key("TicketWebhooks/3/Fields"), "ticketwebhookfields");
    }

    #[test]
    fn credentials_are_redacted() {
        let c = Credentials { username: "u@x".into(), secret: "hunter2".into(), integration_code: "CODE123".into(), impersonation_resource_id: None };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && !s.contains("CODE123"), "{s}");
        let client = Client::new(ClientConfig::new(c, ZoneSource::Fixed { rest_url: "http://127.0.0.1:1/atservicesrest/".into() })).unwrap();
        let s = format!("{client:?}");
        assert!(!s.contains("hunter2") && !s.contains("CODE123"), "{s}");
    }

    #[test]
    fn classifies_errors() {
        let h = reqwest::header::HeaderMap::new();
        let e = classify(StatusCode::INTERNAL_SERVER_ERROR, &h, br#"{"errors":["hoursWorked must be greater than 0"]}"#);
        assert!(matches!(e, Error::Validation { .. }) && !may_retry(&e, false));
        let e = classify(StatusCode::INTERNAL_SERVER_ERROR, &h, br#"{"errors":["Itgenatr005: thread threshold exceeded"]}"#);
        assert!(matches!(e, Error::ThreadLimit { .. }) && may_retry(&e, true));
        let e = classify(StatusCode::INTERNAL_SERVER_ERROR, &h, br#"{"errors":["Unable to find userDefinedFields in the X Entity."]}"#);
        assert!(matches!(e, Error::Validation { .. }));
        let e = classify(StatusCode::UNAUTHORIZED, &h, br#"{"errors":["denied"]}"#);
        assert!(matches!(e, Error::Auth { .. }));
        let e = classify(StatusCode::INTERNAL_SERVER_ERROR, &h, br#"{"errors":["The integration code provided is not valid."]}"#);
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
