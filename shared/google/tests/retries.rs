//! Retries: quota 403s, 429 and 503 are retried (attempts counted in the
//! sandbox's request log), a write too; exhaustion is `RateLimited`;
//! `Retry-After` is honoured (capped); other errors are not retried.

mod common;

use atpilot_google::{GoogleError, RetryPolicy};
use atpilot_google_sandbox::Knobs;
use common::env;
use std::time::{Duration, Instant};

fn throttle(n: u32, status: u16, reason: &str) -> Knobs {
    Knobs { throttle_next: n, throttle_status: status, throttle_reason: reason.into(), ..Knobs::default() }
}

#[tokio::test]
async fn user_rate_limit_403s_are_retried_until_success() {
    let e = env().await;
    e.sb.set_knobs(throttle(2, 403, "userRateLimitExceeded"));
    let u = e.client.get_user(&e.admin, "ann.archer@c1.example").await.expect("recovered");
    assert!(u.is_some());
    let gets = e.api_requests("/users/ann.archer@c1.example");
    let seen: Vec<(u16, bool)> = gets.iter().map(|r| (r.status, r.throttled)).collect();
    assert_eq!(seen, vec![(403, true), (403, true), (200, false)]);
    assert_eq!(e.token_requests().len(), 1, "the token is reused across attempts");
}

#[tokio::test]
async fn a_503_then_success_and_a_retried_write_applies_once() {
    let e = env().await;
    e.sb.set_knobs(throttle(1, 503, "backendError"));
    e.client.reset_password(&e.admin, "ann.archer@c1.example", "Correct-Horse-9").await.expect("recovered");
    let patches: Vec<u16> = e.api_requests("/users/ann.archer@c1.example").iter().map(|r| r.status).collect();
    assert_eq!(patches, vec![503, 200]);
    assert_eq!(e.sb.user("ann.archer@c1.example").expect("ann").password_set_count, 1);
    e.sb.set_knobs(throttle(1, 429, "rateLimitExceeded"));
    e.client.sign_out(&e.admin, "ann.archer@c1.example").await.expect("429 recovered");
    assert_eq!(e.sb.user("ann.archer@c1.example").expect("ann").sign_out_count, 1);
}

#[tokio::test]
async fn exhausted_retries_are_rate_limited_with_the_attempts() {
    let e = env().await;
    e.sb.set_knobs(throttle(10, 403, "quotaExceeded"));
    let err = e.client.get_user(&e.admin, "ann.archer@c1.example").await.expect_err("exhausted");
    match &err {
        GoogleError::RateLimited { attempts, status, reason } => {
            assert_eq!((*attempts, *status, reason.as_deref()), (4, 403, Some("quotaExceeded")));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(e.api_requests("/users/ann.archer@c1.example").len(), 4);
    assert!(err.to_string().contains("4 attempts"), "{err}");
    assert_eq!(e.sb.knobs().throttle_next, 6);
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_cap() {
    let sb = common::sandbox().await;
    let policy =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(300) };
    let client = common::client_with_key(&sb, &sb.service_account_json(), policy);
    let admin = common::subject("admin@c1.example");
    client.get_user(&admin, "admin@c1.example").await.expect("warm the token");
    sb.set_knobs(Knobs { retry_after_secs: Some(1), ..throttle(1, 429, "rateLimitExceeded") });
    let t = Instant::now();
    client.get_user(&admin, "ann.archer@c1.example").await.expect("recovered");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(290), "Retry-After (capped at 300 ms) was used: {waited:?}");
    assert!(waited < Duration::from_millis(1000), "the cap applies: {waited:?}");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let e = env().await;
    let err = e.client.get_user(&common::subject("helpdesk@c1.example"), "ann.archer@c1.example").await;
    assert_eq!(err.expect_err("forbidden").status(), Some(403));
    assert_eq!(e.api_requests("/users/ann.archer@c1.example").len(), 1);
}
