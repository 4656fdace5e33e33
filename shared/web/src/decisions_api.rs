//! `GET /api/decisions`: the decisions as a JSON array, newest first (each a
//! [`atpilot_agent::html::dashboard::DecisionView`]).
//!
//! - no parameters: the newest [`DEFAULT_LIMIT`];
//! - `limit=N` (1 to [`MAX_LIMIT`]): the newest N;
//! - `day=YYYY-MM-DD`: every decision made that UTC day (no limit).
//!
//! When more decisions exist than a limit let through, the answer carries
//! `Atpilot-Truncated: true` (ask by `day` for the rest). A bad parameter is a
//! 400 with `{"error": …}` saying what is accepted; an unreadable store a 503.

use crate::Web;
use atpilot_agent::html::dashboard;
use axum::extract::{Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::Arc;

/// Decisions listed when no `limit` is given.
pub const DEFAULT_LIMIT: usize = 500;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;
/// Set (to `true`) when older decisions exist beyond the limit.
pub const TRUNCATED: HeaderName = HeaderName::from_static("atpilot-truncated");

/// What the query asks for.
#[derive(Debug, PartialEq)]
enum Ask {
    Newest(usize),
    Day(NaiveDate),
}

fn parse(pairs: &[(String, String)]) -> Result<Ask, String> {
    let mut q: HashMap<String, String> = HashMap::new();
    for (k, v) in pairs {
        if q.insert(k.clone(), v.clone()).is_some() {
            return Err(format!("\"{}\" is given twice: give it once", shown(k)));
        }
    }
    if let Some(unknown) = q.keys().find(|k| !matches!(k.as_str(), "limit" | "day")) {
        return Err(format!("unknown parameter \"{}\": use limit=N or day=YYYY-MM-DD", shown(unknown)));
    }
    match (q.get("limit"), q.get("day")) {
        (Some(_), Some(_)) => Err("give limit or day, not both".into()),
        (None, None) => Ok(Ask::Newest(DEFAULT_LIMIT)),
        (Some(l), None) => match l.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Ask::Newest(n)),
            _ => Err(format!("limit \"{}\" is not a whole number from 1 to {MAX_LIMIT}", shown(l))),
        },
        (None, Some(d)) => NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map(Ask::Day)
            .map_err(|_| format!("day \"{}\" is not a date as YYYY-MM-DD (a UTC day)", shown(d))),
    }
}

/// A parameter as shown back: no control characters, at most 40 characters.
pub(crate) fn shown(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(40).collect()
}

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

pub async fn decisions(State(app): State<Arc<Web>>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let ask = match parse(&q) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let listed = match ask {
        // One more than asked tells whether the list is cut.
        Ask::Newest(n) => dashboard::decisions(&app.state, n + 1).await.map(|mut v| {
            let cut = v.len() > n;
            v.truncate(n);
            (v, cut)
        }),
        Ask::Day(day) => dashboard::decisions_on(&app.state, day).await.map(|v| (v, false)),
    };
    match listed {
        Ok((list, cut)) => {
            let mut r = axum::Json(list).into_response();
            if cut {
                r.headers_mut().insert(TRUNCATED, HeaderValue::from_static("true"));
            }
            r
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("the state store cannot be read: {e}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parameters_are_parsed_or_refused_with_what_is_accepted() {
        assert_eq!(parse(&q(&[])), Ok(Ask::Newest(500)));
        assert_eq!(parse(&q(&[("limit", "20")])), Ok(Ask::Newest(20)));
        assert_eq!(parse(&q(&[("limit", "1000")])), Ok(Ask::Newest(1000)));
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(parse(&q(&[("day", "2026-12-01")])), Ok(Ask::Day(day)));
        for (bad, says) in [
            (q(&[("limit", "0")]), "from 1 to 1000"),
            (q(&[("limit", "1001")]), "from 1 to 1000"),
            (q(&[("limit", "-3")]), "from 1 to 1000"),
            (q(&[("day", "2026-13-01")]), "YYYY-MM-DD"),
            (q(&[("day", "yesterday\r\n<b>")]), "\"yesterday<b>\""),
            (q(&[("limit", "2"), ("day", "2026-12-01")]), "not both"),
            (q(&[("before", "x")]), "unknown parameter \"before\""),
            (q(&[("limit", "2"), ("limit", "3")]), "\"limit\" is given twice"),
        ] {
            let e = parse(&bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
