//! Writes: create, patch and put with the real API's validation (field
//! types, required fields, picklists and their parents, references), the
//! stamps Autotask sets, and webhook callouts for ticket changes.

use super::rules::entity_rules;
use super::{Reply, Shared, bad};
use crate::Knobs;
use crate::schema::{EntityDef, Ty};
use crate::store::{Row, Table};
use crate::tenant::{API_RESOURCE_ID, ts};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum WriteKind {
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
        Ty::Integer | Ty::Long => {
            v.as_i64().is_some()
                || v.as_f64().is_some_and(|x| x.fract() == 0.0)
                || v.as_str().is_some_and(|s| s.trim().parse::<i64>().is_ok())
        }
        Ty::Double => v.is_number() || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok()),
        Ty::Boolean => v.is_boolean(),
        Ty::String => v.is_string() || v.is_number(),
        Ty::DateTime => v.as_str().is_some_and(|s| {
            chrono::DateTime::parse_from_rfc3339(s).is_ok()
                || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
                || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        }),
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
        Value::Number(n) => n
            .as_f64()
            .map(|x| if x.fract() == 0.0 { (x as i64).to_string() } else { x.to_string() })
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Normalizes numeric values to the field's type (e.g. "5" → 5).
fn normalize(f: &crate::schema::FieldDef, v: Value) -> Value {
    match (f.ty, &v) {
        (Ty::Integer | Ty::Long, Value::String(s)) => s.trim().parse::<i64>().map(Value::from).unwrap_or(v),
        (Ty::Integer | Ty::Long, Value::Number(n)) if n.as_i64().is_none() => {
            n.as_f64().map(|x| Value::from(x as i64)).unwrap_or(v)
        }
        (Ty::Double, Value::String(s)) => s.trim().parse::<f64>().map(Value::from).unwrap_or(v),
        // Autotask stores and returns every date-time in UTC (TicketsEntity.htm).
        (Ty::DateTime, Value::String(_)) => crate::filter::as_date(&v).map(|d| Value::from(ts(d))).unwrap_or(v),
        _ => v,
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn write(
    s: &Arc<Shared>,
    def: &EntityDef,
    kind: WriteKind,
    parent_id: Option<i64>,
    body: Option<Value>,
    person: i64,
    impersonating: bool,
    knobs: &Knobs,
) -> Reply {
    let Some(Value::Object(body)) = body else {
        return bad("The request body is missing or is not a JSON object.");
    };
    if let Some(message) = knobs.refuse_writes.get(&def.name) {
        return bad(message.clone());
    }
    let right = if matches!(kind, WriteKind::Create) { "create" } else { "update" };
    if knobs.denied_access.contains(&(def.name.clone(), right.to_string())) {
        return bad(format!("User does not have permission to {right} {}.", def.name));
    }
    let ename = def.name.to_ascii_lowercase();
    let mut db = s.db.lock().unwrap();
    let Body { mut given, udfs, id } = match read_body(def, body, knobs) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    if let (Some(pid), Some((_, _, pf))) = (parent_id, def.parent.as_ref()) {
        given.insert(pf.clone(), Value::from(pid));
    }
    let old = match kind {
        WriteKind::Create => None,
        _ => {
            let Some(id) = id else { return bad("The id is required in the body of an update.") };
            match db[&ename].get(id) {
                Some(r) => Some(r),
                None => {
                    return bad(format!(
                        "Unable to find the {} with id {id}: no matching records found.",
                        crate::schema::singular(&def.name)
                    ));
                }
            }
        }
    };
    let mut row = merge_row(def, kind, old.as_ref(), &given, udfs);
    // Generic checks: required, picklists, references.
    if let Err(e) = check_fields(&db, def, kind, &row, &given) {
        return bad(e);
    }
    // Entity rules.
    if let Err(e) = entity_rules(&db, def, kind, &mut row, old.as_ref(), &given, person, knobs) {
        return bad(e);
    }
    let id = store(&mut db, def, kind, id, &mut row, person, impersonating);
    if ename == "ticketnotes" && kind == WriteKind::Create && knobs.notes_stamp_customer_visible {
        stamp_customer_visible(&mut db, &row);
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

/// A write's body with its keys in the entity's spelling.
struct Body {
    given: Map<String, Value>,
    udfs: Option<Vec<Value>>,
    id: Option<i64>,
}

/// Normalizes keys to the entity's spelling, checks UDF names and field
/// types, and drops read-only fields (unknown ones too, unless a knob rejects them).
fn read_body(def: &EntityDef, body: Map<String, Value>, knobs: &Knobs) -> Result<Body, String> {
    let mut given = Map::new();
    let mut udfs: Option<Vec<Value>> = None;
    let mut id: Option<i64> = None;
    for (k, v) in body {
        if k.eq_ignore_ascii_case("id") {
            id = v.as_i64();
            continue;
        }
        if k.eq_ignore_ascii_case("userDefinedFields") {
            let Value::Array(a) = v else { return Err("userDefinedFields must be an array of {name, value}.".into()) };
            for u in &a {
                let name = u.get("name").and_then(Value::as_str).unwrap_or("");
                if def.udf(name).is_none() {
                    return Err(format!("Unable to find {name} in the {} Entity's user-defined fields.", def.name));
                }
            }
            udfs = Some(a);
            continue;
        }
        let Some(f) = def.field(&k) else {
            if knobs.reject_unknown_fields {
                return Err(format!("Unable to find {k} in the {} Entity.", def.name));
            }
            continue;
        };
        if f.read_only {
            continue;
        }
        check_type(f, &v)?;
        given.insert(f.name.clone(), normalize(f, v));
    }
    Ok(Body { given, udfs, id })
}

/// The row after the write: PATCH keeps the old values, PUT nulls the
/// writable fields not sent; then the given fields and the UDFs.
fn merge_row(
    def: &EntityDef,
    kind: WriteKind,
    old: Option<&Row>,
    given: &Map<String, Value>,
    udfs: Option<Vec<Value>>,
) -> Row {
    let mut row = match (&kind, old) {
        (WriteKind::Patch, Some(o)) => o.clone(),
        (WriteKind::Put, Some(o)) => {
            // PUT: writable fields not sent become null.
            let mut r = o.clone();
            for f in &def.fields {
                if !f.read_only
                    && f.name != "userDefinedFields"
                    && !given.contains_key(&f.name)
                    && def.parent.as_ref().is_none_or(|(_, _, pf)| pf != &f.name)
                {
                    r.insert(f.name.clone(), Value::Null);
                }
            }
            r
        }
        _ => Map::new(),
    };
    for (k, v) in given {
        row.insert(k.clone(), v.clone());
    }
    if let Some(new_udfs) = udfs {
        let mut cur: Vec<Value> = row.get("userDefinedFields").and_then(Value::as_array).cloned().unwrap_or_default();
        for u in new_udfs {
            let name = u.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let val = u.get("value").cloned().unwrap_or(Value::Null);
            if let Some(e) = cur
                .iter_mut()
                .find(|e| e.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&name)))
            {
                e["value"] = val;
            } else {
                cur.push(json!({"name": name, "value": val}));
            }
        }
        row.insert("userDefinedFields".into(), Value::Array(cur));
    } else if kind == WriteKind::Create && !def.udfs.is_empty() {
        row.insert(
            "userDefinedFields".into(),
            Value::Array(def.udfs.iter().map(|u| json!({"name": u.name, "value": null})).collect()),
        );
    }
    row
}

/// Generic checks: required fields, picklist values (and their parent
/// values), and references to existing, active rows.
fn check_fields(
    db: &BTreeMap<String, Table>,
    def: &EntityDef,
    kind: WriteKind,
    row: &Row,
    given: &Map<String, Value>,
) -> Result<(), String> {
    for f in &def.fields {
        let v = row.get(&f.name).cloned().unwrap_or(Value::Null);
        if f.required && !f.read_only && v.is_null() && kind != WriteKind::Patch {
            return Err(format!("{} is required.", f.name));
        }
        if f.required && v.is_null() && kind == WriteKind::Patch && given.contains_key(&f.name) {
            return Err(format!("{} is required and cannot be set to null.", f.name));
        }
        if v.is_null() || !given.contains_key(&f.name) {
            continue;
        }
        if let Some(pl) = f.picklist.as_ref().filter(|p| !p.is_empty()) {
            let sv = pick_str(&v);
            let Some(entry) = pl.iter().find(|p| p.value == sv) else {
                return Err(format!("Value {sv} is not a valid picklist value for field {}.", f.name));
            };
            if let (Some(pf), Some(parent)) = (f.picklist_parent.as_ref(), entry.parent_value.as_ref()) {
                let pv = row.get(pf).map(pick_str).unwrap_or_default();
                if &pv != parent {
                    return Err(format!("Value {sv} of field {} does not belong to {pf} {pv}.", f.name));
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
                return Err(format!(
                    "Reference value on field: {} of type: {} does not exist or is invalid.",
                    f.name,
                    f.reference.as_deref().unwrap_or("")
                ));
            }
        }
    }
    Ok(())
}

/// Stamps the row (creator, dates, modifier), stores it and returns its id; a
/// webhook is ready once a subscribed field exists.
fn store(
    db: &mut BTreeMap<String, Table>,
    def: &EntityDef,
    kind: WriteKind,
    id: Option<i64>,
    row: &mut Row,
    person: i64,
    impersonating: bool,
) -> i64 {
    let ename = def.name.to_ascii_lowercase();
    let now = ts(Utc::now());
    let t = db.get_mut(&ename).unwrap();
    let id = match kind {
        WriteKind::Create => {
            let id = t.next_id();
            for (k, v) in created_fields(def, id, person, impersonating, &now) {
                row.entry(k).or_insert(v);
            }
            // A read returns every declared field: those the create did not send are null.
            for f in &def.fields {
                let empty = if f.name == "userDefinedFields" { Value::Array(vec![]) } else { Value::Null };
                row.entry(f.name.clone()).or_insert(empty);
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
    id
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
        v.push(("ticketNumber".into(), Value::from(super::ticket_number(id))));
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
        v.push(("lastActivityPersonType".into(), Value::from(1)));
    }
    if impersonating && def.field("impersonatorUpdaterResourceID").is_some() {
        v.push(("impersonatorUpdaterResourceID".into(), Value::from(API_RESOURCE_ID)));
    }
    v
}

/// [U] A customer-visible note (`publish` 1, All Autotask Users) stamps its
/// ticket's `lastCustomerVisibleActivityDateTime` (knob
/// `notes_stamp_customer_visible`; kb-and-messaging.md §5 leaves it open).
fn stamp_customer_visible(db: &mut BTreeMap<String, Table>, note: &Row) {
    if note.get("publish").and_then(Value::as_i64) != Some(1) {
        return;
    }
    let (Some(ticket), Some(at)) = (note.get("ticketID").and_then(Value::as_i64), note.get("createDateTime").cloned())
    else {
        return;
    };
    let Some(tickets) = db.get_mut("tickets") else { return };
    if let Some(mut t) = tickets.get(ticket) {
        t.insert("lastCustomerVisibleActivityDateTime".into(), at);
        tickets.insert(ticket, t);
    }
}
