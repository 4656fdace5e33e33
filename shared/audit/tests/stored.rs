//! The on-demand audit (the audit Lambda's handler): it runs against the
//! tenant, stores the report, and refuses bad requests before any API call.

use atpilot_audit::{AuditRequest, AuditRunError, run_and_store};
use atpilot_autotask::{Client, ClientConfig, Credentials, ZoneSource};
use atpilot_autotask_sandbox::{DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USER, Sandbox, SandboxConfig};
use atpilot_store::State;
use atpilot_store::embedded::EmbeddedStateStore;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_stores_the_report_for_the_dashboard() {
    let sb =
        Sandbox::start(SandboxConfig { tickets: 600, seed: 1, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let creds = Credentials {
        username: DEFAULT_USER.into(),
        secret: DEFAULT_SECRET.into(),
        integration_code: DEFAULT_INTEGRATION_CODE.into(),
        impersonation_resource_id: None,
    };
    let client = Client::new(ClientConfig::new(creds, ZoneSource::Fixed { rest_url: sb.rest_url() })).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = State::new(Arc::new(EmbeddedStateStore::open(dir.path()).unwrap()));
    let now = chrono::Utc::now();

    // Bad requests: refused with the reason, no API request, nothing stored.
    let bad: AuditRequest = serde_json::from_value(serde_json::json!({"since": "ninety days"})).unwrap();
    let err = run_and_store(&client, &state, &bad, now).await.unwrap_err();
    assert!(matches!(err, AuditRunError::Request(_)), "{err}");
    let greedy: AuditRequest = serde_json::from_value(serde_json::json!({"history_sample": 1_000_000})).unwrap();
    assert!(run_and_store(&client, &state, &greedy, now).await.unwrap_err().to_string().contains("atpilot audit"));
    assert_eq!(client.stats().requests, 0);
    assert_eq!(state.latest_report("audit").await.unwrap(), None);

    // An EventBridge scheduled event deserializes to the default request.
    let scheduled: AuditRequest = serde_json::from_value(
        serde_json::json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
    )
    .unwrap();
    let stored =
        run_and_store(&client, &state, &AuditRequest { history_sample: Some(100), ..scheduled }, now).await.unwrap();
    let latest = state.latest_report("audit").await.unwrap().unwrap();
    assert_eq!(latest, stored);
    assert!(
        latest.html.starts_with("<!doctype html>") || latest.html.starts_with("<!DOCTYPE html>"),
        "{}",
        &latest.html[..80]
    );
    let tickets = latest.json["tickets"].as_u64().unwrap();
    assert!(tickets > 0 && latest.summary.starts_with(&format!("{tickets} tickets since ")), "{}", latest.summary);
    assert_eq!(latest.json["api_requests"].as_u64().unwrap(), client.stats().requests);
    assert!(!latest.json["queues"].as_array().unwrap().is_empty());
}

#[test]
fn the_sample_events_are_audit_requests() {
    let read =
        |name: &str| std::fs::read_to_string(format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let invoke: AuditRequest = serde_json::from_str(&read("audit-invoke.json")).unwrap();
    assert_eq!(
        (invoke.since.as_deref(), invoke.history_sample, invoke.model_sample),
        (Some("90d"), Some(500), Some(3000))
    );
    let scheduled: AuditRequest = serde_json::from_str(&read("audit-schedule.json")).unwrap();
    assert_eq!((scheduled.since, scheduled.history_sample, scheduled.model_sample), (None, None, None));
}
