//! A local Autotask PSA REST API sandbox.
//!
//! It serves the subset of the API atpilot uses under `/atservicesrest/` (path
//! case-insensitive) with the real shapes (`{items, pageDetails}`, `{item}`,
//! `{itemId}`, `{errors: [...]}`), the real status codes (validation errors are
//! 500s, a bad password is 401, an unknown user 500), picklists served from
//! `entityInformation/fields`, every filter operator, 500-record pages in
//! ascending id order, the hourly request limit with `ThresholdInformation`,
//! the 3-thread limit per endpoint (`Itgenatr005`), webhook registration and
//! signed delivery, fault injection knobs, and a deterministic seeded tenant.
//!
//! Every request is recorded so tests can assert exactly which writes happened.
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
//! let sb = Sandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{}", sb.base_url());
//! assert!(sb.writes().is_empty());
//! # Ok(()) }
//! ```

pub mod filter;
pub mod schema;
pub mod served;
mod server;
pub mod store;
pub mod tenant;
pub mod webhook;

use crate::served::Served;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use tenant::{TenantFacts, TicketFacts};
pub use webhook::DeliveryRecord;

/// Defaults of the CLI and of [`SandboxConfig::default`].
pub const DEFAULT_USER: &str = "api@sandbox.local";
pub const DEFAULT_SECRET: &str = "sandbox-secret";
pub const DEFAULT_INTEGRATION_CODE: &str = "SANDBOX";

/// Behaviour knobs, changeable while the sandbox runs ([`Sandbox::set_knobs`]).
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Requests allowed per `window` (Autotask: 10,000 per rolling hour).
    pub hourly_limit: u32,
    pub window: Duration,
    /// Concurrent requests per (integration code, endpoint) (Autotask: 3).
    pub thread_limit: usize,
    /// Status of a thread-limit rejection; the body always carries `Itgenatr005`
    /// ([U]: it may arrive with a non-429 status).
    pub thread_limit_status: u16,
    /// Added to every request (while it holds its thread slot).
    pub base_latency: Duration,
    /// Add 0.5 s past 50% and 1 s past 75% of the hourly limit ([U] latency figures).
    pub threshold_latency: bool,
    /// Fraction of requests answered with a retryable 503.
    pub error_rate: f64,
    /// The next N requests are answered 429 with `Retry-After`.
    pub burst_429: u32,
    pub retry_after_secs: u64,
    /// The next N requests hang for `timeout_delay`, then get a 504 (nothing is applied).
    pub timeout_next: u32,
    pub timeout_delay: Duration,
    /// The next N webhook callouts are silently dropped (never sent).
    pub drop_webhooks_next: u32,
    /// Fraction of webhook callouts silently dropped.
    pub webhook_drop_rate: f64,
    pub webhook_timeout: Duration,
    pub webhook_retry_delay: Duration,
    pub webhook_max_attempts: u32,
    pub webhook_disable_after: u32,
    /// Tenant setting "Allow users to modify Role" for ticket time.
    pub allow_role_override: bool,
    /// Tenant rounding of ticket time, in minutes ([U]: None keeps hours as sent).
    pub time_rounding_minutes: Option<u32>,
    /// [U] A GET for a missing id: false → 200 `{"item": null}`, true → 404.
    pub missing_item_404: bool,
    /// [U] TicketHistory accepts only a single `ticketID eq` filter.
    pub strict_ticket_history: bool,
    /// Unknown property names in write bodies are errors.
    pub reject_unknown_fields: bool,
    /// [U] Make `query/next` fail with this status (e.g. 405 or 404, as some
    /// clients report), so the id-cursor fallback can be exercised.
    pub next_page_url_status: Option<u16>,
    /// Write U+E000 in any text as the JSON escape of a lone surrogate
    /// (`\ud800`), as a tenant whose ticket text holds one answers; JSON
    /// allows the escape, strict decoders refuse the whole body.
    pub lone_surrogate_escapes: bool,
    /// A ticket whose stored description is longer than this (characters;
    /// tickets made in the UI or by e-mail may be) cannot be updated through
    /// the API at all, whatever the fields sent: 500 "String value exceeds
    /// maximum length (field:description)" (field reports; `None`: no limit).
    pub ticket_description_limit: Option<usize>,
    /// Writes (create, update) to these entities are refused as invalid: a
    /// 500 with this message, as a tenant's validation or workflow rule answers.
    pub refuse_writes: std::collections::BTreeMap<String, String>,
    /// The API user's security level lacks these rights: (entity collection
    /// name, "create" | "update"). `entityInformation` says
    /// `userAccessForCreate`/`Update` "None", and such a write gets a 500
    /// "User does not have permission to …" (Autotask's refusals are 500s
    /// with a sentence; the exact wording is not documented).
    pub denied_access: std::collections::BTreeSet<(String, String)>,
    /// Production-lenient queries: a filter with an unknown operator is
    /// dropped (it matches every row) instead of refused with a 500, as
    /// reported from live tenants. A client must not rely on either.
    pub lenient_unknown_operators: bool,
    /// [U] Filters on these fields (case-insensitive) are silently ignored,
    /// as field reports describe a clause Autotask dropped: the query returns
    /// rows the clause would have excluded. A client must check every row.
    pub ignored_filter_fields: std::collections::BTreeSet<String>,
    /// [U] Whether a customer-visible note created through the API stamps its
    /// ticket's `lastCustomerVisibleActivityDateTime` (kb-and-messaging.md
    /// §5: untested). Default true; a client must work either way.
    pub notes_stamp_customer_visible: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            hourly_limit: 10_000,
            window: Duration::from_secs(3600),
            thread_limit: 3,
            thread_limit_status: 500,
            base_latency: Duration::ZERO,
            threshold_latency: false,
            error_rate: 0.0,
            burst_429: 0,
            retry_after_secs: 1,
            timeout_next: 0,
            timeout_delay: Duration::from_secs(15),
            drop_webhooks_next: 0,
            webhook_drop_rate: 0.0,
            webhook_timeout: Duration::from_secs(10),
            webhook_retry_delay: Duration::from_secs(30),
            webhook_max_attempts: 5,
            webhook_disable_after: 25,
            allow_role_override: false,
            time_rounding_minutes: None,
            missing_item_404: false,
            strict_ticket_history: true,
            reject_unknown_fields: true,
            next_page_url_status: None,
            lone_surrogate_escapes: false,
            ticket_description_limit: Some(8000),
            refuse_writes: Default::default(),
            denied_access: Default::default(),
            lenient_unknown_operators: false,
            ignored_filter_fields: Default::default(),
            notes_stamp_customer_visible: true,
        }
    }
}

/// A tenant-specific picklist: (entity, field, [(value, label, active)]).
pub type PicklistOverride = (String, String, Vec<(i64, String, bool)>);

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub seed: u64,
    pub tickets: u64,
    pub user: String,
    pub secret: String,
    pub integration_code: String,
    /// The tenant's "now": ticket history ends here. Default: today 00:00 UTC.
    pub anchor: Option<DateTime<Utc>>,
    pub knobs: Knobs,
    /// Time entries per ticket. `None`: 0 to 2 per assigned ticket (about 1.3
    /// on average). `Some(k)`: exactly k per ticket (the dispatcher logs them
    /// on unassigned tickets), e.g. 250,000 tickets x 4 = 1,000,000 entries
    /// for the weekly-metrics bench. Still generated lazily.
    pub time_entries_per_ticket: Option<u32>,
    /// Tenant-specific picklists: (entity, field, [(value, label, active)])
    /// replacing the seeded ones, e.g. a TicketNotes `publish` of 1 / 2
    /// (inactive) / 4 "Internal & Co-Managed".
    pub picklists: Vec<PicklistOverride>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            tickets: 2_000,
            user: DEFAULT_USER.into(),
            secret: DEFAULT_SECRET.into(),
            integration_code: DEFAULT_INTEGRATION_CODE.into(),
            anchor: None,
            knobs: Knobs::default(),
            picklists: Vec::new(),
            time_entries_per_ticket: None,
        }
    }
}

/// One recorded HTTP request.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub seq: u64,
    pub method: String,
    /// Path as sent (original case), without the query string.
    pub path: String,
    pub query: Option<String>,
    /// Lower-case endpoint key (entity collection), when resolved.
    pub endpoint: Option<String>,
    pub body: Option<Value>,
    pub status: u16,
    /// POST/PUT/PATCH/DELETE that is not a query (whatever its outcome).
    pub is_write: bool,
    pub impersonation: Option<i64>,
    /// `Itgenatr005` or 429 rejection, injected fault, etc.
    pub rejected: bool,
}

/// A running sandbox.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    served: Served,
}

impl Sandbox {
    /// Binds `addr` (port 0 for an ephemeral port) and serves in the background.
    pub async fn start(cfg: SandboxConfig, addr: SocketAddr) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Self::from_listener(cfg, listener)
    }

    pub fn from_listener(cfg: SandboxConfig, listener: tokio::net::TcpListener) -> std::io::Result<Sandbox> {
        let addr = listener.local_addr()?;
        let shared = server::Shared::new(cfg, format!("http://{addr}"));
        let app = server::router(shared.clone());
        let served = Served::spawn(listener, app);
        Ok(Sandbox { addr, shared, served })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://ADDR`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The zone URL clients should use: `http://ADDR/atservicesrest/`.
    pub fn rest_url(&self) -> String {
        format!("http://{}/atservicesrest/", self.addr)
    }
    pub fn config(&self) -> &SandboxConfig {
        &self.shared.cfg
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.lock().unwrap().clone()
    }
    /// Every write attempt (POST/PUT/PATCH/DELETE other than queries), whatever its status.
    pub fn writes(&self) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.is_write).collect()
    }
    /// Writes the sandbox applied (2xx).
    pub fn applied_writes(&self) -> Vec<RecordedRequest> {
        self.writes().into_iter().filter(|r| (200..300).contains(&r.status)).collect()
    }
    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap().clear();
    }
    pub fn request_count(&self) -> usize {
        self.shared.log.lock().unwrap().len()
    }

    pub fn knobs(&self) -> Knobs {
        self.shared.knobs.lock().unwrap().clone()
    }
    pub fn set_knobs(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.shared.knobs.lock().unwrap());
    }
    /// Forgets the hourly usage (as if an hour had passed).
    pub fn reset_usage(&self) {
        self.shared.hits.lock().unwrap().clear();
    }

    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.shared.deliveries.lock().unwrap().clone()
    }

    pub fn facts(&self) -> TenantFacts {
        self.shared.facts.clone()
    }
    /// The generated facts of a seeded ticket (initial queue, re-routing, …).
    pub fn ticket_facts(&self, ticket_id: i64) -> Option<TicketFacts> {
        self.shared.ctx.ticket_idx(ticket_id).map(|i| self.shared.ctx.facts(i))
    }

    /// Reads a row directly (no request recorded). `entity` is the collection name.
    pub fn row(&self, entity: &str, id: i64) -> Option<Map<String, Value>> {
        self.shared.db.lock().unwrap().get(&entity.to_ascii_lowercase()).and_then(|t| t.get(id))
    }

    /// New rows of `entity` (e.g. "Tickets") get ids from `floor` on: a local
    /// run on a state that outlived an earlier sandbox never reuses the ids
    /// that sandbox handed out. `false` when there is no such entity.
    pub fn continue_ids_from(&self, entity: &str, floor: i64) -> bool {
        let mut db = self.shared.db.lock().unwrap();
        match db.get_mut(&entity.to_ascii_lowercase()) {
            Some(t) => {
                t.continue_ids_from(floor);
                true
            }
            None => false,
        }
    }

    /// Every entity's new rows (notes, time entries, tickets…) get ids
    /// `runs_before × per_run` past the ids it was seeded with: a local run on
    /// a state that outlived `runs_before` earlier sandboxes, each handing out
    /// fewer than `per_run` new ids of an entity, never reuses one of theirs.
    pub fn continue_ids_past_runs(&self, runs_before: i64, per_run: i64) {
        let mut db = self.shared.db.lock().unwrap();
        for t in db.values_mut() {
            let floor = t.max_id().saturating_add(1).saturating_add(runs_before.saturating_mul(per_run));
            t.continue_ids_from(floor);
        }
    }

    /// Adds a row to `entity` as an administrator would in the UI (no
    /// validation, no webhook, no request recorded); returns its id.
    pub fn insert_row(&self, entity: &str, fields: Map<String, Value>) -> Option<i64> {
        let mut db = self.shared.db.lock().unwrap();
        let t = db.get_mut(&entity.to_ascii_lowercase())?;
        let id = t.next_id();
        t.insert(id, fields);
        Some(id)
    }

    /// The rows of `entity` whose `field` is `value`, lowest id first (no request recorded).
    pub fn rows_where(&self, entity: &str, field: &str, value: i64) -> Vec<Map<String, Value>> {
        self.ids_and_rows_where(entity, field, value).into_iter().map(|(_, row)| row).collect()
    }

    fn ids_and_rows_where(&self, entity: &str, field: &str, value: i64) -> Vec<(i64, Map<String, Value>)> {
        let db = self.shared.db.lock().unwrap();
        let mut out = Vec::new();
        if let Some(t) = db.get(&entity.to_ascii_lowercase()) {
            t.scan(i64::MIN, i64::MAX, |id, row| {
                if row.get(field).and_then(Value::as_i64) == Some(value) {
                    out.push((id, row.clone()));
                }
                true
            });
        }
        out
    }

    /// The ids of a company's active contacts, lowest first (no request recorded).
    pub fn contacts_of(&self, company_id: i64) -> Vec<i64> {
        self.ids_and_rows_where("Contacts", "companyID", company_id)
            .into_iter()
            .filter(|(_, row)| row.get("isActive").and_then(Value::as_i64) != Some(0))
            .map(|(id, _)| id)
            .collect()
    }

    /// A change made by a person in the Autotask UI (not through the API):
    /// applied without validation, and webhooks fire with `PersonID = person`.
    pub fn simulate_ticket_update(&self, ticket_id: i64, fields: Map<String, Value>, person: i64) -> bool {
        self.shared.human_ticket_update(ticket_id, fields, person)
    }
    /// A ticket created by a person or an e-mail parser; webhooks fire.
    pub fn simulate_ticket_create(&self, fields: Map<String, Value>, person: i64) -> i64 {
        self.shared.human_ticket_create(fields, person)
    }

    /// Stops serving.
    pub async fn shutdown(self) {
        self.served.shutdown().await;
    }
}

/// Serves until the process ends (the `atpilot sandbox` command). `ready` is
/// called once the listener is bound, with the bound address.
pub async fn serve_forever(
    cfg: SandboxConfig,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let shared = server::Shared::new(cfg, format!("http://{bound}"));
    let app = server::router(shared);
    ready(bound);
    axum::serve(listener, app).await
}
