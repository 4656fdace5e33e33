//! `GET /api/decisions`: newest first, `limit` and `day` to page through
//! more than the default, `Atpilot-Truncated: true` when older ones exist
//! beyond the limit, and a JSON error saying what is accepted.

use atpilot_e2e::Stack;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

async fn get(s: &Stack, path: &str) -> (u16, Option<String>, Value) {
    let web = atpilot_web::Web::new(s.local.deps.state.clone(), s.local.deps.config.clone(), None);
    let req = axum::http::Request::get(path).header("host", "127.0.0.1").body(axum::body::Body::empty()).unwrap();
    let r = atpilot_web::dashboard_routes(Arc::new(web)).oneshot(req).await.unwrap();
    let status = r.status().as_u16();
    let cut = r.headers().get("atpilot-truncated").map(|v| v.to_str().unwrap().to_string());
    let body = axum::body::to_bytes(r.into_body(), 1 << 24).await.unwrap();
    (status, cut, serde_json::from_slice(&body).unwrap())
}

fn tickets(v: &Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|d| d["ticket_id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_page_by_limit_and_day_and_say_when_cut() {
    let s = Stack::start().await;
    let mut made = vec![];
    let (contract, company) = s.contract_of_type(atpilot_autotask_sandbox::tenant::CT_RECURRING);
    for title in ["Password reset", "Printer offline", "MFA enrollment"] {
        let t = s.create_ticket(company, Some(contract), title, "please help", json!({}));
        let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
        assert_eq!(s.deliver(&body, &sig).await, 202);
        assert!(s.local.settle(40).await.failures.is_empty());
        made.push(t);
    }
    let (status, cut, all) = get(&s, "/api/decisions").await;
    assert_eq!((status, cut.as_deref()), (200, None), "{all}");
    let listed = tickets(&all);
    assert_eq!(listed.len(), 3, "{all}");
    assert_eq!(listed, made.iter().rev().copied().collect::<Vec<_>>(), "newest first");

    let (status, cut, two) = get(&s, "/api/decisions?limit=2").await;
    assert_eq!((status, cut.as_deref()), (200, Some("true")), "older ones exist");
    assert_eq!(tickets(&two), listed[..2]);
    let (_, cut, three) = get(&s, "/api/decisions?limit=3").await;
    assert_eq!((cut, tickets(&three)), (None, listed.clone()), "exactly all: not cut");

    // By day: every decision of that UTC day (read from the decisions, not the clock).
    let day = all[0]["decided_at"].as_str().unwrap()[..10].to_string();
    let same_day: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["decided_at"].as_str().unwrap().starts_with(&day))
        .map(|d| d["ticket_id"].as_i64().unwrap())
        .collect();
    let (status, cut, by_day) = get(&s, &format!("/api/decisions?day={day}")).await;
    assert_eq!((status, cut, tickets(&by_day)), (200, None, same_day));
    let (_, _, none) = get(&s, "/api/decisions?day=2001-01-01").await;
    assert_eq!(none, json!([]));

    for (path, says) in [
        ("/api/decisions?limit=0", "from 1 to 1000"),
        ("/api/decisions?limit=ten", "from 1 to 1000"),
        ("/api/decisions?day=2026-02-30", "YYYY-MM-DD"),
        ("/api/decisions?page=2", "unknown parameter \"page\""),
    ] {
        let (status, _, body) = get(&s, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body["error"].as_str().unwrap().contains(says), "{path}: {body}");
    }
}
