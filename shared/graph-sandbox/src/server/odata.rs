//! The OData subset atpilot sends (reference §2 "Paging and queries"):
//! `$filter` with `eq`, `ne`, `any(x:x eq …)`, `startsWith`, `endsWith`,
//! `or`/`and`; `$select`; `$top` (1–999); `$count`; paging by an opaque
//! `$skiptoken` in `@odata.nextLink` (the original query kept); and the
//! advanced-query rule (`ConsistencyLevel: eventual` + `$count=true`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    Eq(String, Value),
    Ne(String, Value),
    Any(String, String),
    StartsWith(String, String),
    EndsWith(String, String),
}

/// Disjunction of conjunctions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter(pub Vec<Vec<Term>>);

/// Splits `s` on `sep` outside quotes and parentheses.
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let (mut out, mut depth, mut quoted, mut start) = (vec![], 0i32, false, 0usize);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ => {}
        }
        if !quoted && depth == 0 && s[i..].len() >= sep.len() && s.is_char_boundary(i) && s[i..].starts_with(sep) {
            out.push(&s[start..i]);
            i += sep.len();
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

fn literal(s: &str) -> Result<Value, String> {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        return Ok(Value::String(s[1..s.len() - 1].replace("''", "'")));
    }
    match s {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        _ => Err(format!("Invalid filter clause: unsupported literal {s}")),
    }
}

fn call_args(s: &str, name: &str) -> Option<(String, String)> {
    let inner = s.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')?;
    let (p, l) = inner.split_once(',')?;
    Some((p.trim().to_string(), literal(l).ok()?.as_str()?.to_string()))
}

fn term(s: &str) -> Result<Term, String> {
    let s = s.trim();
    if let Some((p, l)) = call_args(s, "startsWith") {
        return Ok(Term::StartsWith(p, l));
    }
    if let Some((p, l)) = call_args(s, "endsWith") {
        return Ok(Term::EndsWith(p, l));
    }
    if let Some((prop, rest)) = s.split_once("/any(") {
        let body = rest.strip_suffix(')').ok_or("Invalid filter clause")?;
        let (var, cond) = body.split_once(':').ok_or("Invalid filter clause")?;
        let parts = split_top(cond, " eq ");
        if parts.len() != 2 || parts[0].trim() != var.trim() {
            return Err("Invalid filter clause".into());
        }
        let lit = literal(parts[1])?;
        return Ok(Term::Any(prop.trim().to_string(), lit.as_str().unwrap_or_default().to_string()));
    }
    for (op, ne) in [(" eq ", false), (" ne ", true)] {
        let parts = split_top(s, op);
        if parts.len() == 2 {
            let (p, v) = (parts[0].trim().to_string(), literal(parts[1])?);
            return Ok(if ne { Term::Ne(p, v) } else { Term::Eq(p, v) });
        }
    }
    Err(format!("Invalid filter clause: {s}"))
}

pub(crate) fn parse_filter(s: &str) -> Result<Filter, String> {
    let mut ors = vec![];
    for part in split_top(s.trim(), " or ") {
        let ands: Result<Vec<Term>, String> = split_top(part, " and ").into_iter().map(term).collect();
        ors.push(ands?);
    }
    Ok(Filter(ors))
}

impl Filter {
    /// The operator that makes this an advanced query, if any.
    pub fn advanced_operator(&self, any_is_advanced: bool) -> Option<&'static str> {
        self.0.iter().flatten().find_map(|t| match t {
            Term::EndsWith(..) => Some("endsWith"),
            Term::Ne(..) => Some("ne"),
            Term::Any(..) if any_is_advanced => Some("any"),
            _ => None,
        })
    }

    pub fn matches(&self, obj: &Map<String, Value>) -> bool {
        self.0.iter().any(|ands| ands.iter().all(|t| term_matches(t, obj)))
    }
}

fn get_ci<'a>(obj: &'a Map<String, Value>, prop: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(prop)).map(|(_, v)| v)
}

fn eq_ci(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

fn term_matches(t: &Term, obj: &Map<String, Value>) -> bool {
    let s = |p: &str| get_ci(obj, p).and_then(Value::as_str).map(str::to_ascii_lowercase);
    match t {
        Term::Eq(p, v) => get_ci(obj, p).is_some_and(|x| eq_ci(x, v)) || (v.is_null() && get_ci(obj, p).is_none()),
        Term::Ne(p, v) => !get_ci(obj, p).is_some_and(|x| eq_ci(x, v)),
        Term::Any(p, v) => get_ci(obj, p)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(v)))),
        Term::StartsWith(p, v) => s(p).is_some_and(|x| x.starts_with(&v.to_ascii_lowercase())),
        Term::EndsWith(p, v) => s(p).is_some_and(|x| x.ends_with(&v.to_ascii_lowercase())),
    }
}

/// Keeps the `$select`ed properties (case-insensitive), else the default set;
/// `@odata.type` always stays.
pub(crate) fn select(obj: &Map<String, Value>, sel: Option<&str>, default: &[&str]) -> Value {
    let wanted: Vec<String> = match sel {
        Some(s) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        None => default.iter().map(|s| s.to_string()).collect(),
    };
    let mut out = Map::new();
    if let Some(t) = obj.get("@odata.type") {
        out.insert("@odata.type".into(), t.clone());
    }
    for w in wanted {
        if let Some((k, v)) = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(&w)) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// One page of `items` starting at the `$skiptoken` offset, with
/// `@odata.nextLink` = `{base}{path}?{original query}&$skiptoken=…` when more remain.
pub(crate) fn page(
    items: Vec<Value>,
    size: usize,
    base: &str,
    path: &str,
    raw_query: &str,
    count: bool,
) -> Result<Value, String> {
    let pairs: Vec<&str> = raw_query.split('&').filter(|p| !p.is_empty()).collect();
    let skip_val = pairs.iter().find_map(|p| p.strip_prefix("$skiptoken=").or_else(|| p.strip_prefix("%24skiptoken=")));
    let offset = match skip_val {
        Some(v) => decode_skiptoken(v).ok_or("Invalid skip token.")?,
        None => 0,
    };
    let total = items.len();
    let size = size.max(1);
    let value: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let mut out = json!({"@odata.context": format!("{base}/v1.0/$metadata"), "value": value});
    if count {
        out["@odata.count"] = json!(total);
    }
    if offset + size < total {
        let kept: Vec<&str> =
            pairs.into_iter().filter(|p| !p.starts_with("$skiptoken=") && !p.starts_with("%24skiptoken=")).collect();
        let token = URL_SAFE_NO_PAD.encode(format!("sbx-offset:{}", offset + size));
        let mut q = kept.join("&");
        if !q.is_empty() {
            q.push('&');
        }
        out["@odata.nextLink"] = json!(format!("{base}{path}?{q}$skiptoken={token}"));
    }
    Ok(out)
}

fn decode_skiptoken(v: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(v).ok()?;
    String::from_utf8(raw).ok()?.strip_prefix("sbx-offset:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Map<String, Value> {
        json!({"userPrincipalName": "Ann.O'Neil@c1.example", "mail": null,
               "proxyAddresses": ["SMTP:ann@c1.example"]})
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn the_address_filter_matches_upn_and_proxy_addresses() {
        let f = parse_filter(
            "userPrincipalName eq 'ann.o''neil@c1.example' or mail eq 'x' or proxyAddresses/any(x:x eq 'SMTP:zzz')",
        )
        .expect("parse");
        assert!(f.matches(&user()));
        let f = parse_filter("proxyAddresses/any(x:x eq 'smtp:ANN@c1.example')").expect("parse");
        assert!(f.matches(&user()));
        assert_eq!(f.advanced_operator(false), None);
        assert_eq!(f.advanced_operator(true), Some("any"));
        let f = parse_filter("endsWith(userPrincipalName,'@c1.example')").expect("parse");
        assert!(f.matches(&user()));
        assert_eq!(f.advanced_operator(false), Some("endsWith"));
        assert!(parse_filter("foo gt 3").is_err());
    }

    #[test]
    fn pages_carry_the_original_query() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let p = page(items.clone(), 2, "http://h", "/v1.0/users", "$select=id", false).expect("page");
        let next = p["@odata.nextLink"].as_str().expect("next").to_string();
        assert!(next.starts_with("http://h/v1.0/users?$select=id&$skiptoken="));
        let q = next.split_once('?').map(|x| x.1).unwrap_or_default();
        let p2 = page(items.clone(), 2, "http://h", "/v1.0/users", q, false).expect("page");
        assert_eq!(p2["value"], json!([2, 3]));
        assert!(page(items, 2, "http://h", "/v1.0/users", "$skiptoken=bad", false).is_err());
    }
}
