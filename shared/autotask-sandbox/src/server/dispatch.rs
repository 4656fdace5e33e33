//! Dispatch: which operation a path and method name (threshold and version
//! information, collection writes, queries and their next pages, entity
//! information, one item by id) once the front has admitted the request.

use super::front::query_param;
use super::query::{count_query, run_query};
use super::write::{WriteKind, write};
use super::{Reply, Shared, bad, err};
use crate::Knobs;
use crate::filter::{self, Query};
use crate::schema::EntityDef;
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};
use std::sync::Arc;

#[allow(clippy::too_many_arguments)]
pub(super) fn dispatch(
    s: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    segs: &[String],
    body: Option<Value>,
    body_empty: bool,
    person: i64,
    impersonating: bool,
    knobs: &Knobs,
) -> Reply {
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
            return (
                StatusCode::OK,
                json!({"majorVersion": 2026, "minorVersion": 1, "build": 0, "customerType": "Sandbox"}),
            );
        }
        _ => {}
    }
    let Some((def, parent_id)) = s.resolve(segs) else {
        return err(
            StatusCode::NOT_FOUND,
            format!("No HTTP resource was found that matches the request URI '{}'.", uri.path()),
        );
    };
    let r = Req { s, def, parent_id, method, uri, knobs };
    // Segments after the entity (and, for children, after parent/id/child).
    let tail: Vec<&str> = if parent_id.is_some() { ls[3..].to_vec() } else { ls[1..].to_vec() };
    match tail.as_slice() {
        [] => r.collection(body, person, impersonating),
        ["query"] | ["query", "count"] => r.query(body, body_empty, tail.len() == 2),
        ["query", "next"] => r.query_next(body),
        ["entityinformation"] if *method == Method::GET => (StatusCode::OK, def.info_json(&knobs.denied_access)),
        ["entityinformation", "fields"] if *method == Method::GET => (StatusCode::OK, def.fields_json()),
        ["entityinformation", "userdefinedfields"] if *method == Method::GET => (StatusCode::OK, def.udfs_json()),
        [id] => r.item(id),
        _ => err(
            StatusCode::NOT_FOUND,
            format!("No HTTP resource was found that matches the request URI '{}'.", uri.path()),
        ),
    }
}

/// A request on one entity (through its parent when `parent_id` is set).
struct Req<'a> {
    s: &'a Arc<Shared>,
    def: &'a EntityDef,
    parent_id: Option<i64>,
    method: &'a Method,
    uri: &'a Uri,
    knobs: &'a Knobs,
}

impl Req<'_> {
    fn not_allowed(&self) -> Reply {
        err(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("The requested resource does not support http method '{}'.", self.method),
        )
    }

    /// A child's queries are limited to its parent.
    fn parent_filter(&self, q: &mut Query) {
        if let (Some(pid), Some((_, _, pf))) = (self.parent_id, self.def.parent.as_ref()) {
            q.filter.push(filter::Filter {
                op: "eq".into(),
                field: pf.clone(),
                udf: false,
                value: Value::from(pid),
                items: vec![],
            });
        }
    }

    /// The collection: GET (children only), POST creates, PATCH / PUT update.
    fn collection(&self, body: Option<Value>, person: i64, impersonating: bool) -> Reply {
        let (s, def, parent_id, knobs) = (self.s, self.def, self.parent_id, self.knobs);
        match *self.method {
            Method::GET if parent_id.is_some() => {
                let mut q = Query { filter: vec![], include_fields: vec![], max_records: 500 };
                self.parent_filter(&mut q);
                run_query(s, def, q, None, knobs)
            }
            Method::POST => {
                if def.write_via_parent_only && parent_id.is_none() || !def.can_create {
                    return self.not_allowed();
                }
                write(s, def, WriteKind::Create, parent_id, body, person, impersonating, knobs)
            }
            Method::PATCH | Method::PUT => {
                if def.write_via_parent_only && parent_id.is_none() || !def.can_update {
                    return self.not_allowed();
                }
                let k = if *self.method == Method::PATCH { WriteKind::Patch } else { WriteKind::Put };
                write(s, def, k, parent_id, body, person, impersonating, knobs)
            }
            _ => self.not_allowed(),
        }
    }

    /// `query` (GET with `search=`, or POST) and `query/count`.
    fn query(&self, body: Option<Value>, body_empty: bool, count: bool) -> Reply {
        let qv = if *self.method == Method::GET {
            match query_param(self.uri, "search") {
                Some(sq) => match serde_json::from_str::<Value>(&sq) {
                    Ok(v) => v,
                    Err(e) => return bad(format!("Invalid query syntax: {e}")),
                },
                None => Value::Null,
            }
        } else if *self.method == Method::POST {
            if body.is_none() && !body_empty {
                return bad("Invalid query syntax: the body is not valid JSON.");
            }
            body.unwrap_or(Value::Null)
        } else {
            return self.not_allowed();
        };
        let mut q = match filter::parse_query(&qv) {
            Ok(q) => q,
            Err(e) => return bad(e),
        };
        self.parent_filter(&mut q);
        if count {
            count_query(self.s, self.def, q, self.knobs)
        } else {
            run_query(self.s, self.def, q, None, self.knobs)
        }
    }

    /// `query/next`: the page after the paging token's last id.
    fn query_next(&self, body: Option<Value>) -> Reply {
        if !matches!(*self.method, Method::GET | Method::POST) {
            return self.not_allowed();
        }
        if let Some(st) = self.knobs.next_page_url_status {
            return err(
                StatusCode::from_u16(st).unwrap_or(StatusCode::NOT_FOUND),
                "The requested page is not available (injected).",
            );
        }
        let paging: Value =
            query_param(self.uri, "paging").and_then(|p| serde_json::from_str(&p).ok()).unwrap_or(Value::Null);
        let Some(last) = paging.get("lastId").and_then(Value::as_i64) else {
            return bad("Invalid paging token.");
        };
        let qv = match query_param(self.uri, "search").and_then(|sq| serde_json::from_str::<Value>(&sq).ok()) {
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
        run_query(self.s, self.def, q, Some(last), self.knobs)
    }

    /// One item: GET (`{"item": null}` when missing, or 404) and DELETE.
    fn item(&self, id: &str) -> Reply {
        let (def, parent_id) = (self.def, self.parent_id);
        let Ok(id) = id.parse::<i64>() else {
            return err(
                StatusCode::NOT_FOUND,
                format!("No HTTP resource was found that matches the request URI '{}'.", self.uri.path()),
            );
        };
        match *self.method {
            Method::GET => {
                let row = self.s.db.lock().unwrap()[&def.name.to_ascii_lowercase()].get(id);
                let row = row.filter(|r| match (parent_id, def.parent.as_ref()) {
                    (Some(pid), Some((_, _, pf))) => r.get(pf).and_then(Value::as_i64) == Some(pid),
                    _ => true,
                });
                match row {
                    Some(r) => (StatusCode::OK, json!({"item": r})),
                    None if self.knobs.missing_item_404 => err(StatusCode::NOT_FOUND, "No matching records found."),
                    None => (StatusCode::OK, json!({"item": null})),
                }
            }
            Method::DELETE => {
                if !def.can_delete {
                    return self.not_allowed();
                }
                let mut db = self.s.db.lock().unwrap();
                let t = db.get_mut(&def.name.to_ascii_lowercase()).unwrap();
                if t.delete(id) {
                    (StatusCode::OK, json!({"itemId": id}))
                } else {
                    err(StatusCode::NOT_FOUND, "No matching records found.")
                }
            }
            _ => self.not_allowed(),
        }
    }
}
