//! Conformance: throttling and retries on the sandbox. The client's sleeper is
//! a `RecordingSleeper` (scale 0): each delay is recorded, none is slept.

mod common;

use atpilot_graph::{GraphError, TemporaryPassword};
use common::*;
use std::time::Duration;

#[tokio::test]
async fn a_429_with_decimal_retry_after_waits_3s_and_applies_the_write_once() {
    let e = env().await;
    let (upn, id) = e.contact(0);
    e.client.get_user(&e.tenant, &upn).await.expect("warm the token");
    e.sb.set_knobs(|k| {
        k.throttle_next = 1;
        k.throttle_status = 429;
        k.retry_after = Some("2.542".into());
    });
    let pw = TemporaryPassword::generate();
    e.client.reset_password(&e.tenant, &id, &pw, true).await.expect("reset after 429");
    assert_eq!(e.sleeper.delays(), vec![Duration::from_secs(3)], "2.542 s rounds up to 3 s");
    assert_eq!(e.sb.user(e.tenant.as_str(), &upn).map(|s| s.password_changes), Some(1));
    let patches: Vec<u16> = e.sb.requests().iter().filter(|r| r.method == "PATCH").map(|r| r.status).collect();
    assert_eq!(patches, vec![429, 204]);
    assert_eq!(e.client.stats().retries, 1);
}

#[tokio::test]
async fn a_503_or_504_then_success_is_retried_with_backoff_when_no_retry_after() {
    let e = env().await;
    let (_, id) = e.contact(1);
    e.client.get_user(&e.tenant, id.as_str()).await.expect("warm");
    for status in [503, 504] {
        e.sb.set_knobs(|k| {
            k.throttle_next = 2;
            k.throttle_status = status;
            k.retry_after = None;
        });
        e.client.revoke_sign_in_sessions(&e.tenant, &id).await.expect("revoke after 5xx");
    }
    assert_eq!(
        e.sleeper.delays(),
        vec![Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(e.sb.user(e.tenant.as_str(), id.as_str()).map(|s| s.revocations), Some(2));
}

#[tokio::test]
async fn throttling_beyond_the_budget_is_a_typed_error_and_nothing_is_applied() {
    let e = env().await;
    let (upn, id) = e.contact(0);
    e.client.get_user(&e.tenant, &upn).await.expect("warm");
    e.sb.set_knobs(|k| {
        k.throttle_next = 10;
        k.retry_after = Some("2.542".into());
    });
    let pw = TemporaryPassword::generate();
    let err = e.client.reset_password(&e.tenant, &id, &pw, true).await.expect_err("throttled");
    assert!(
        matches!(err, GraphError::Throttled { status: 429, attempts: 4, retry_after: Some(d) } if d == Duration::from_secs(3)),
        "{err:?}"
    );
    assert!(!err.to_string().contains(pw.expose()));
    assert_eq!(e.sleeper.delays().len(), 3);
    assert_eq!(e.sb.user(e.tenant.as_str(), &upn).map(|s| s.password_changes), Some(0));
}

#[tokio::test]
async fn a_throttled_token_endpoint_is_retried_too() {
    let e = env().await;
    e.sb.set_knobs(|k| {
        k.throttle_token_endpoint = true;
        k.throttle_next = 1;
        k.retry_after = Some("0.5".into());
    });
    e.client.get_user(&e.tenant, "admin@c1.example").await.expect("user");
    assert_eq!(e.sleeper.delays(), vec![Duration::from_secs(1)]);
    assert_eq!(e.client.stats().token_requests, 2);
    let token_statuses: Vec<u16> = e.sb.requests().iter().filter(|r| r.is_token()).map(|r| r.status).collect();
    assert_eq!(token_statuses, vec![429, 200]);
}

#[tokio::test]
async fn a_real_sleeper_honours_retry_after_when_scaled() {
    // The production sleeper waits the full delay; scaled to 1/100 here it
    // must still wait at least 30 ms for Retry-After 2.542 (3 s).
    let sb = sandbox().await;
    let (client, _, _) = client_with(&sb, atpilot_graph::Credential::secret(atpilot_graph_sandbox::CLIENT_SECRET));
    let mut cfg = client.config().clone();
    let scaled = atpilot_graph::RecordingSleeper::new(0.01);
    cfg.sleeper = std::sync::Arc::new(scaled.clone());
    let client = atpilot_graph::Client::new(cfg).expect("client");
    client.get_user(&t1(), "admin@c1.example").await.expect("warm");
    sb.set_knobs(|k| {
        k.throttle_next = 1;
        k.retry_after = Some("2.542".into());
    });
    let started = std::time::Instant::now();
    client.get_user(&t1(), "admin@c1.example").await.expect("user");
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(scaled.delays(), vec![Duration::from_secs(3)]);
}

#[tokio::test]
async fn no_log_line_or_error_carries_a_temporary_password() {
    let e = env().await;
    let mut errors = Vec::new();
    let mut passwords = Vec::new();
    for who in ["admin", "synced.user", "helpdesk.lead", "nobody"] {
        let pw = TemporaryPassword::generate();
        let id = if who == "nobody" { atpilot_graph::UserId::new("nobody") } else { e.uid(who) };
        if let Err(err) = e.client.reset_password(&e.tenant, &id, &pw, true).await {
            errors.push(format!("{err} {err:?}"));
        }
        passwords.push(pw);
    }
    assert_eq!(errors.len(), 3, "admin, synced and unknown users are refused");
    let lines: Vec<String> = e.sb.requests().iter().map(|r| format!("{} {:?}", r.line(), r)).collect();
    for pw in &passwords {
        assert!(!format!("{pw} {pw:?}").contains(pw.expose()));
        for text in errors.iter().chain(&lines) {
            assert!(!text.contains(pw.expose()), "password leaked into: {text}");
        }
    }
}
