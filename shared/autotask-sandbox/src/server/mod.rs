//! The sandbox's shared state and its HTTP server, by concern:
//!
//! * this room: the state behind every request ([`Shared`]: tables, knobs,
//!   request log, deliveries) and the human-side ticket changes;
//! * [`front`]: routing, auth, the hourly limit, fault injection and the
//!   per-endpoint thread limit, then the request log;
//! * [`dispatch`]: which entity operation a path and method name;
//! * [`query`]: queries, counts and paging (`nextPageUrl`);
//! * [`write`]: create / patch / put with the real API's validation;
//! * [`rules`]: the entity rules Autotask enforces on writes;
//! * [`delivery`]: webhook callouts, signed, retried and deactivated.

mod delivery;
mod dispatch;
mod front;
mod query;
mod rules;
mod write;

pub use front::router;

use crate::schema::{EntityDef, definitions};
use crate::store::Table;
use crate::tenant::{self, Ctx, TenantFacts, ts};
use crate::webhook::DeliveryRecord;
use crate::{Knobs, RecordedRequest, SandboxConfig};
use axum::http::StatusCode;
use chrono::Utc;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;
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
        let (tables, facts, ctx) =
            tenant::build_with(cfg.seed, cfg.tickets, anchor, &cfg.user, &mut defs, cfg.time_entries_per_ticket);
        for (entity, field, values) in &cfg.picklists {
            if let Some(def) = defs.get_mut(&entity.to_ascii_lowercase()) {
                let values = values
                    .iter()
                    .map(|(v, label, active)| crate::schema::PicklistValue {
                        is_active: *active,
                        ..crate::schema::PicklistValue::new(v, label.as_str())
                    })
                    .collect();
                def.set_picklist(field, values);
            }
        }
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
                    d.parent
                        .as_ref()
                        .is_some_and(|(p, c, _)| p.eq_ignore_ascii_case(&segs[0]) && c.eq_ignore_ascii_case(&segs[2]))
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
        // A change by hand is tracked like an API one: the reconciler relies on both stamps.
        let now = Value::from(ts(Utc::now()));
        row.insert("lastActivityDate".into(), now.clone());
        row.insert("lastTrackedModificationDateTime".into(), now);
        row.insert("lastActivityResourceID".into(), Value::from(person));
        row.insert("lastActivityPersonType".into(), Value::from(1));
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
        row.entry("ticketNumber").or_insert(Value::from(ticket_number(id)));
        t.insert(id, row.clone());
        drop(db);
        self.fire("Create", id, &row, &[], Some(person));
        id
    }

    fn self_weak(&self) -> std::sync::Weak<Shared> {
        self.me.get().cloned().unwrap_or_default()
    }
}

/// A new ticket's `ticketNumber`: `T<yyyymmdd>.<sequence>` as Autotask writes
/// it (`T20180116.0140`, `../shared/reference/autotask-api.md`), the sequence
/// from the id. Each block of a million ids (a later `atpilot dev` run on the
/// same state, see `Sandbox::continue_ids_past_runs`) adds 10,000 to it, so
/// a restarted sandbox does not hand out an earlier run's numbers again.
pub(crate) fn ticket_number(id: i64) -> String {
    format!("T{}.{:04}", Utc::now().format("%Y%m%d"), id % 10_000 + (id / 1_000_000) * 10_000)
}
