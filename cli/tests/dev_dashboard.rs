//! The README's run command, end to end: `atpilot dev` starts everything,
//! decisions appear, and the dashboard works in headless Chromium (the page
//! loads, shows the agreement table, and a phase change made in the page
//! takes effect).

mod dev_process;

use atpilot_e2e::browser::Browser;
use dev_process::{Dev, start_dev_at};
use std::process::Command;
use std::time::{Duration, Instant};

fn start_dev() -> (Dev, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (dev, base) = start_dev_at(dir.path());
    (dev, base, dir)
}

async fn decisions(base: &str) -> Vec<serde_json::Value> {
    reqwest::get(format!("{base}/api/decisions")).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_runs_every_flow_and_the_dashboard_changes_phases() {
    // On a state directory that does not exist yet, as a new user's first run.
    let dir = tempfile::tempdir().unwrap();
    let (_dev, base) = start_dev_at(&dir.path().join("state"));
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);
    // Decisions flow in from the feeder through the sandbox's webhook.
    let started = Instant::now();
    let mut seen = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        seen = decisions(&base).await;
        let actions: Vec<&str> = seen.iter().filter_map(|d| d["action"].as_str()).collect();
        if ["log-only", "internal-note", "request-approval", "autonomous"].iter().all(|a| actions.contains(a)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let actions: Vec<&str> = seen.iter().filter_map(|d| d["action"].as_str()).collect();
    for a in ["log-only", "internal-note", "request-approval", "autonomous"] {
        assert!(actions.contains(&a), "no {a} decision within a minute: {actions:?}");
    }
    // Newest first, with reasons.
    let times: Vec<&str> = seen.iter().filter_map(|d| d["decided_at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first: {times:?}");
    assert!(seen.iter().all(|d| !d["reasons"].as_array().unwrap().is_empty()));

    let Some(browser) = Browser::start().await else { return };
    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.title().await, "Dashboard · atpilot");
    assert!(browser.count("#agreement-table tr").await >= 2, "agreement table rendered");
    assert!(browser.count("#decisions-table tr").await >= 4, "decisions listed");
    assert_eq!(browser.text("tr[data-category=vpn] td.phase").await, "shadow");
    browser.click("tr[data-category=vpn] select[name=phase] option[value=internal-notes]").await;
    browser.click("tr[data-category=vpn] button").await;
    assert!(browser.text("#notice").await.contains("vpn is now in the internal-notes phase"));
    assert_eq!(browser.text("tr[data-category=vpn] td.phase").await, "internal-notes");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    browser.screenshot(&shot).await;
    eprintln!("dashboard screenshot: {}", shot.display());
    // The change takes effect: new VPN tickets (the sandbox's category, as the model trained at start predicts it) now get an internal note.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = decisions(&base).await;
        if d.iter().any(|x| x["category"] == "vpn" && x["action"] == "internal-note") {
            break;
        }
        assert!(Instant::now() < deadline, "no vpn ticket was decided under the new phase");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn refuses_a_public_address_without_a_password() {
    let out = Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .args(["dev", "--listen", "0.0.0.0:0"])
        .env_remove("ATPILOT_DASHBOARD_PASSWORD")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ATPILOT_DASHBOARD_PASSWORD"));
}

fn atpilot(args: &[&str], state: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .args(args)
        .arg("--state")
        .arg(state)
        .env("USER", "carol")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_reaches_a_running_dev() {
    let (dev, base, dir) = start_dev();
    // dev.json: the URL and a token only this user can read.
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(dir.path().join("dev.json")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let o = atpilot(&["kill-switch", "on"], dir.path());
    let (out, err) = (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned());
    assert!(o.status.success(), "{err}");
    assert!(out.starts_with("kill switch ON") && out.contains(&base), "{out}");
    // The running agent reads it: the dashboard shows it stopped, with who flipped it.
    let page = reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("stopped: it writes nothing to Autotask"), "dashboard does not show the switch on");
    assert!(
        page.contains("carol") && page.contains("atpilot kill-switch (through atpilot dev)"),
        "no history on the dashboard"
    );
    // Without the token, or with a wrong one, the API changes nothing.
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{base}/api/kill-switch"))
        .header("x-atpilot-dev-token", "wrong")
        .json(&serde_json::json!({"on": false, "by": "mallory"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Who may call is checked before the body: a wrong token with a malformed body is still a 401.
    let r = c
        .post(format!("{base}/api/kill-switch"))
        .header("x-atpilot-dev-token", "wrong")
        .json(&serde_json::json!({"on": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let o = atpilot(&["kill-switch", "off"], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !reqwest::get(format!("{base}/")).await.unwrap().text().await.unwrap().contains("stopped: it writes nothing")
    );
    // Phases cannot go through dev: the command says exactly where to go instead.
    let o = atpilot(&["phase", "set", "network", "internal-notes"], dir.path());
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("use its dashboard at {base}/")),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // dev gone but its store still locked by a stuck process is not claimed: once it is gone the store opens directly.
    drop(dev);
    let o = atpilot(&["kill-switch", "on"], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "kill switch ON: the agent writes nothing to Autotask");
}
