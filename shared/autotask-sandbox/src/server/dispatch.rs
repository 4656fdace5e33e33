//! Dispatch: which operation a path and method name (threshold and version
//! information, collection writes, queries and their next pages, entity
//! information, one item by id) once the front has admitted the request.

use super::query::{count_query, run_query};
use super::front::query_param;
use super::write::{WriteKind, write};
use super::{Reply, Shared, bad, err};
use crate::Knobs;
use crate::filter::{self, Query};
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};
use std::sync::Arc;

#[allow(clippy::too_many_arguments)]
pub(super) fn dispatch(s: &Arc<Shared>, method: &Method, uri: &Uri, segs: &[String], body: Option<Value>, body_empty: bool, person: i64, impersonating: bool, knobs: &Knobs) -> Reply {
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
