//! The audit function's real binary, run the way Lambda runs it (a local
//! Runtime API), against the seeded Autotask sandbox as the tenant, with its
//! credentials in Secrets Manager and its table in DynamoDB (moto): an
//! on-demand invocation stores the report, the dashboard's /audit page shows
//! it, and a bad request fails with its reason and stores nothing new.

use atpilot_autotask_sandbox::{DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USER, Sandbox, SandboxConfig};
use atpilot_e2e::lambda;
use serde_json::json;
use std::sync::Arc;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_writes_the_report_the_dashboard_shows() {
    let Some(aws) = lambda::emulator().await else { return };
    let sb =
        Sandbox::start(SandboxConfig { tickets: 600, seed: 1, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let (state, table) = lambda::table(&aws, "atpilot-audit-bin").await;
    let creds =
        json!({"username": DEFAULT_USER, "secret": DEFAULT_SECRET, "integration_code": DEFAULT_INTEGRATION_CODE})
            .to_string();
    let arn = lambda::secret(&aws, &format!("atpilot/autotask-{table}"), &creds).await;
    let config = atpilot_config::EXAMPLE.replace("url = \"sandbox\"", &format!("url = \"{}\"", sb.rest_url()));
    let env = lambda::function_env(&config, &table, &[("AUTOTASK_CREDENTIALS_SECRET_ARN", arn)]);

    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/audit-invoke.json")).unwrap(),
    )
    .unwrap();
    let mut small = sample.clone();
    small["history_sample"] = json!(120);
    let out = lambda::invoke(env!("CARGO_BIN_EXE_audit"), &env, vec![small, json!({"since": "soon"})]).await;

    let ok = out[0].as_ref().unwrap_or_else(|e| panic!("the audit failed: {e}"));
    let summary = ok["summary"].as_str().unwrap();
    assert!(summary.contains(" tickets since ") && summary.ends_with(" API requests"), "{summary}");
    assert_eq!(ok["dashboard_page"], "/audit");
    let err = out[1].as_ref().expect_err("a bad request fails");
    assert!(err["errorMessage"].as_str().unwrap_or_default().contains("bad audit request"), "{err}");

    let report = state.latest_report("audit").await.unwrap().expect("the report is in the table");
    assert_eq!(report.summary, summary, "the bad request stored nothing newer");
    assert!(report.json["tickets"].as_u64().unwrap() > 0);
    assert!(report.json["api_requests"].as_u64().unwrap() > 0);

    // The dashboard (the same router the dashboard function serves) shows it.
    let web =
        Arc::new(atpilot_web::Web::new(state, Arc::new(atpilot_config::Config::parse(&config, "test").unwrap()), None));
    let res = atpilot_web::dashboard_routes(web)
        .oneshot(
            axum::http::Request::get("/audit")
                .header("host", "127.0.0.1:8080")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 22).await.unwrap().to_vec()).unwrap();
    assert_eq!(html, report.html);
    assert!(html.contains("<svg"), "the report has its charts");
}
