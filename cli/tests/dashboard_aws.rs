//! `atpilot dashboard` on a deployed table (DynamoDB through the emulator):
//! it shows the run-time phases and its kill switch writes the table.

use atpilot_store::State;
use atpilot_store::dynamo::DynamoStateStore;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_reads_and_changes_the_deployed_table() {
    if std::env::var("AWS_ENDPOINT_URL").is_err() && std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err() {
        assert!(std::env::var("ATPILOT_REQUIRE_AWS").as_deref() != Ok("1"), "run scripts/test: it starts the emulator");
        eprintln!("SKIPPED: no AWS emulator (run scripts/test)");
        return;
    }
    let table = format!("atpilot-dash-{}", std::process::id());
    let store = DynamoStateStore::from_env(table.clone()).await;
    store.create_table().await.unwrap();
    let state = State::new(Arc::new(store));
    state
        .set_phase(&atpilot_store::records::PhaseRecord {
            category: "password-reset".parse().unwrap(),
            phase: atpilot_domain::Phase::Autonomous,
            changed_at: chrono::Utc::now(),
            changed_by: "weekly-metrics".into(),
            reason: "approval rate 95% over 30 days".into(),
        })
        .await
        .unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../atpilot.example.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .args(["dashboard", "--dynamodb-table", &table, "--config", example, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("dashboard on http://"), "{line}");
    // "dashboard on http://127.0.0.1:PORT/ (table …)": the port the system picked.
    let base = line.split_whitespace().nth(2).unwrap().trim_end_matches('/').to_string();
    let page = reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("set by weekly-metrics"), "the run-time phase is shown");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = client
        .post(format!("{base}/kill-switch"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("setting=on&csrf={}", form_token(&page)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(state.settings().await.unwrap().kill_switch, "the kill switch reached the table");
    let _ = child.kill();
    let _ = child.wait();
    // A wrong table is a clear error, not a blank page.
    let out = Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .args([
            "dashboard",
            "--dynamodb-table",
            "atpilot-no-such-table",
            "--config",
            example,
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read table atpilot-no-such-table"));
}

/// The token the dashboard's forms carry (`<input type="hidden" name="csrf" value="…">`).
fn form_token(page: &str) -> String {
    let needle = "name=\"csrf\" value=\"";
    let at = page.find(needle).expect("the page's forms carry a token") + needle.len();
    page[at..].split('"').next().unwrap().to_string()
}
