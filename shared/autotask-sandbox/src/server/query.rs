//! Queries: validation against the entity, scans in ascending id order (by
//! parent index where a child table has one), 500-record pages with a
//! `nextPageUrl` carrying the paging token, and counts.

use super::{Reply, Shared, bad};
use crate::Knobs;
use crate::filter::{self, Query};
use crate::schema::EntityDef;
use crate::store::Table;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

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
    filter::validate(def, &q.filter, knobs.lenient_unknown_operators)?;
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

pub(super) fn run_query(s: &Shared, def: &EntityDef, mut q: Query, after: Option<i64>, knobs: &Knobs) -> Reply {
    if let Err(e) = check_query(def, &q, knobs) {
        return bad(e);
    }
    q.filter = filter::without_fields(q.filter, &knobs.ignored_filter_fields);
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
        Value::from(format!(
            "{}/atservicesrest/V1.0/{}/query/next?paging={}&search={}",
            s.base_url,
            def.name,
            enc(&paging),
            enc(&search)
        ))
    } else {
        Value::Null
    };
    let count = items.len();
    (
        StatusCode::OK,
        json!({"items": items, "pageDetails": {"count": count, "requestCount": q.max_records, "prevPageUrl": null, "nextPageUrl": next}}),
    )
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

pub(super) fn count_query(s: &Shared, def: &EntityDef, mut q: Query, knobs: &Knobs) -> Reply {
    if let Err(e) = check_query(def, &q, knobs) {
        return bad(e);
    }
    q.filter = filter::without_fields(q.filter, &knobs.ignored_filter_fields);
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

trait GenHi {
    fn generated_hi(&self) -> i64;
}
impl GenHi for Table {
    fn generated_hi(&self) -> i64 {
        self.gen_range().1
    }
}
