//! QueryModel parsing and filter evaluation, with the real API's validation
//! errors (unknown fields, non-queryable fields, 500-OR limit, one UDF per query,
//! MaxRecords 1..500, boolean values).

use crate::schema::{EntityDef, Ty};
use crate::store::Row;
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct Filter {
    pub op: String,
    pub field: String,
    pub udf: bool,
    pub value: Value,
    pub items: Vec<Filter>,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub filter: Vec<Filter>,
    pub include_fields: Vec<String>,
    pub max_records: usize,
}

/// Gets a key case-insensitively (the server binds QueryModel properties that way).
fn get_ci<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn parse_filter(v: &Value) -> Result<Filter, String> {
    let obj = v.as_object().ok_or("Invalid query syntax: a filter must be an object.")?;
    let op = get_ci(obj, "op").and_then(Value::as_str).ok_or("Invalid query syntax: missing 'op'.")?.to_string();
    let field = get_ci(obj, "field").and_then(Value::as_str).unwrap_or("").to_string();
    let udf = get_ci(obj, "udf").and_then(Value::as_bool).unwrap_or(false);
    let value = get_ci(obj, "value").cloned().unwrap_or(Value::Null);
    let items = match get_ci(obj, "items") {
        Some(Value::Array(a)) => a.iter().map(parse_filter).collect::<Result<_, _>>()?,
        _ => vec![],
    };
    Ok(Filter { op: op.to_ascii_lowercase(), field, udf, value, items })
}

pub fn parse_query(v: &Value) -> Result<Query, String> {
    let empty = serde_json::Map::new();
    let obj = match v {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => return Err("Invalid query syntax: the query must be a JSON object.".into()),
    };
    let filter = match get_ci(obj, "filter") {
        Some(Value::Array(a)) => a.iter().map(parse_filter).collect::<Result<_, _>>()?,
        Some(Value::Null) | None => vec![],
        Some(_) => return Err("Invalid query syntax: 'filter' must be an array.".into()),
    };
    let include_fields = match get_ci(obj, "includeFields") {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => vec![],
    };
    let max_records = match get_ci(obj, "maxRecords") {
        None | Some(Value::Null) => 500,
        Some(v) => {
            let n = v.as_i64().ok_or("maxCountOfRecordsToReturn must be between 1 and 500")?;
            if !(1..=500).contains(&n) {
                return Err("maxCountOfRecordsToReturn must be between 1 and 500".into());
            }
            n as usize
        }
    };
    Ok(Query { filter, include_fields, max_records })
}

const OPS: &[&str] = &[
    "eq",
    "noteq",
    "gt",
    "gte",
    "lt",
    "lte",
    "beginswith",
    "endswith",
    "contains",
    "exist",
    "notexist",
    "in",
    "notin",
    "and",
    "or",
];

/// Validates the filter tree against the entity. With `lenient`, a filter
/// with an unknown operator is dropped (matches every row) instead of
/// refused, as reported from live tenants.
pub fn validate(def: &EntityDef, filters: &[Filter], lenient: bool) -> Result<(), String> {
    let mut ors = 0usize;
    let mut udfs = std::collections::BTreeSet::new();
    for f in filters {
        validate_one(def, f, &mut ors, &mut udfs, lenient)?;
    }
    if ors > 500 {
        return Err("Invalid query syntax. Queries are limited to 500 or fewer 'OR' conditions.".into());
    }
    if udfs.len() > 1 {
        return Err("You can only query by one user-defined field at a time.".into());
    }
    Ok(())
}

fn validate_one(
    def: &EntityDef,
    f: &Filter,
    ors: &mut usize,
    udfs: &mut std::collections::BTreeSet<String>,
    lenient: bool,
) -> Result<(), String> {
    if lenient && !OPS.contains(&f.op.as_str()) {
        return Ok(()); // dropped: it matches every row (see `matches`)
    }
    if !OPS.contains(&f.op.as_str()) {
        return Err(format!("Invalid query syntax: unknown operator '{}'.", f.op));
    }
    if f.op == "and" || f.op == "or" {
        if f.items.is_empty() {
            return Err(format!("Invalid query syntax: '{}' requires items.", f.op));
        }
        if f.op == "or" {
            *ors += f.items.len();
        }
        for i in &f.items {
            validate_one(def, i, ors, udfs, lenient)?;
        }
        return Ok(());
    }
    if f.udf {
        if def.udf(&f.field).is_none() {
            return Err(format!("Unable to find {} in the {} Entity.", f.field, def.name));
        }
        udfs.insert(f.field.to_ascii_lowercase());
    } else {
        let fd =
            def.field(&f.field).ok_or_else(|| format!("Unable to find {} in the {} Entity.", f.field, def.name))?;
        if !fd.queryable {
            return Err(format!("The field {} cannot be queried.", fd.name));
        }
        if fd.ty == Ty::Boolean && !matches!(f.op.as_str(), "exist" | "notexist") && !f.value.is_boolean() {
            return Err(format!("Invalid value for boolean field {}: use true or false.", fd.name));
        }
    }
    match f.op.as_str() {
        "in" | "notin" => {
            let arr = f
                .value
                .as_array()
                .ok_or_else(|| format!("Invalid query syntax: '{}' requires an array value.", f.op))?;
            if f.op == "in" {
                *ors += arr.len();
            }
        }
        "exist" | "notexist" => {}
        _ if f.value.is_null() => return Err(format!("Invalid query syntax: a value is required for '{}'.", f.field)),
        _ => {}
    }
    Ok(())
}

fn lookup<'a>(row: &'a Row, f: &Filter) -> Option<&'a Value> {
    if f.udf {
        row.get("userDefinedFields")?
            .as_array()?
            .iter()
            .find(|u| u.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&f.field)))
            .and_then(|u| u.get("value"))
    } else {
        row.iter().find(|(k, _)| k.eq_ignore_ascii_case(&f.field)).map(|(_, v)| v)
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        // A boolean sent as "true"/"false" against an integer field (Contacts.isActive) is 1/0.
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(1.0),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(0.0),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// A date-time as Autotask reads one: RFC 3339 with any offset (converted to
/// UTC), a bare date-time (UTC), or a bare date (its UTC midnight).
pub(crate) fn as_date(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = v.as_str()?;
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&chrono::Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc())
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    if let (Value::Bool(x), Value::Bool(y)) = (a, b) {
        return Some(x.cmp(y));
    }
    if a.is_number() || b.is_number() || a.is_boolean() || b.is_boolean() {
        if let (Some(x), Some(y)) = (as_f64(a), as_f64(b)) {
            return x.partial_cmp(&y);
        }
    }
    if let (Some(x), Some(y)) = (as_date(a), as_date(b)) {
        return Some(x.cmp(&y));
    }
    Some(text(a).cmp(&text(b)))
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    }
}

pub fn matches(row: &Row, f: &Filter) -> bool {
    match f.op.as_str() {
        "and" => return f.items.iter().all(|i| matches(row, i)),
        "or" => return f.items.iter().any(|i| matches(row, i)),
        _ => {}
    }
    let v = lookup(row, f);
    let val = v.unwrap_or(&Value::Null);
    match f.op.as_str() {
        "exist" => !is_empty(v),
        "notexist" => is_empty(v),
        "eq" => compare(val, &f.value) == Some(Ordering::Equal),
        "noteq" => compare(val, &f.value) != Some(Ordering::Equal),
        "gt" => compare(val, &f.value) == Some(Ordering::Greater),
        "gte" => matches!(compare(val, &f.value), Some(Ordering::Greater | Ordering::Equal)),
        "lt" => compare(val, &f.value) == Some(Ordering::Less),
        "lte" => matches!(compare(val, &f.value), Some(Ordering::Less | Ordering::Equal)),
        "beginswith" => !val.is_null() && text(val).starts_with(&text(&f.value)),
        "endswith" => !val.is_null() && text(val).ends_with(&text(&f.value)),
        "contains" => !val.is_null() && text(val).contains(&text(&f.value)),
        "in" => f.value.as_array().is_some_and(|a| a.iter().any(|x| compare(val, x) == Some(Ordering::Equal))),
        "notin" => !f.value.as_array().is_some_and(|a| a.iter().any(|x| compare(val, x) == Some(Ordering::Equal))),
        // Only reached in the lenient mode: an unknown operator is dropped.
        _ => true,
    }
}

/// `filters` without the conditions on `ignored` fields (the knob that
/// imitates a clause Autotask dropped); groups keep their other items.
pub fn without_fields(filters: Vec<Filter>, ignored: &std::collections::BTreeSet<String>) -> Vec<Filter> {
    if ignored.is_empty() {
        return filters;
    }
    filters
        .into_iter()
        .filter(|f| !ignored.iter().any(|i| i.eq_ignore_ascii_case(&f.field)) || !f.items.is_empty())
        .map(|mut f| {
            f.items = without_fields(std::mem::take(&mut f.items), ignored);
            f
        })
        .filter(|f| !(matches!(f.op.as_str(), "and" | "or") && f.items.is_empty()))
        .collect()
}

pub fn matches_all(row: &Row, filters: &[Filter]) -> bool {
    filters.iter().all(|f| matches(row, f))
}

/// Narrows the id range to scan from top-level (AND-ed) `id` conditions.
pub fn id_bounds(filters: &[Filter]) -> (i64, i64) {
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    for f in filters {
        if f.udf || !f.field.eq_ignore_ascii_case("id") {
            continue;
        }
        let Some(n) = as_f64(&f.value) else { continue };
        let n = n as i64;
        match f.op.as_str() {
            "eq" => {
                lo = lo.max(n);
                hi = hi.min(n);
            }
            "gt" => lo = lo.max(n.saturating_add(1)),
            "gte" => lo = lo.max(n),
            "lt" => hi = hi.min(n.saturating_sub(1)),
            "lte" => hi = hi.min(n),
            _ => {}
        }
    }
    (lo, hi)
}

/// A top-level `<field> eq N` condition, if any (used to jump to a parent's children).
pub fn top_level_eq(filters: &[Filter], field: &str) -> Option<i64> {
    filters
        .iter()
        .find(|f| !f.udf && f.op == "eq" && f.field.eq_ignore_ascii_case(field))
        .and_then(|f| as_f64(&f.value))
        .map(|n| n as i64)
}

/// Keeps only the requested fields (case-insensitive), in the entity's spelling.
pub fn project(row: &Row, include: &[String]) -> Row {
    if include.is_empty() {
        return row.clone();
    }
    row.iter()
        .filter(|(k, _)| include.iter().any(|i| i.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
