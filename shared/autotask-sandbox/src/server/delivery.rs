//! Webhook delivery: which hooks a ticket change fires, one worker per hook
//! delivering in order, signed (`X-Hook-Signature`), retried, and the hook
//! deactivated (with a call to its deactivation URL) after repeated failures.

use super::{Event, Shared};
use crate::store::Row;
use crate::tenant::ts;
use crate::webhook::{self, DeliveryRecord, Payload};
use chrono::Utc;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

impl Shared {
    /// Queues webhook callouts for a ticket change.
    pub(super) fn fire(
        self: &Shared,
        action: &'static str,
        ticket_id: i64,
        row: &Row,
        changed: &[String],
        person: Option<i64>,
    ) {
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
            let subscribed_to =
                if action == "Create" { b("isSubscribedToCreateEvents") } else { b("isSubscribedToUpdateEvents") };
            if !subscribed_to {
                return true;
            }
            let mut excluded = false;
            excl_t.scan(i64::MIN, i64::MAX, |_, e| {
                if e.get("webhookID").and_then(Value::as_i64) == Some(hid)
                    && person.is_some()
                    && e.get("resourceID").and_then(Value::as_i64) == person
                {
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
                    let body = Payload {
                        action: "Deactivated",
                        guid: &guid,
                        entity_type: "Ticket",
                        id: hid,
                        fields: &Map::new(),
                        event_time: &now,
                        sequence_number: seq,
                        person_id: None,
                    }
                    .to_bytes();
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

async fn post_signed(
    me: &std::sync::Weak<Shared>,
    url: &str,
    body: &[u8],
    sig: &str,
    timeout: Duration,
) -> Result<u16, String> {
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
