//! `atpilot config check` and the start-up check, with the real binary:
//! "valid" is said only of what was looked up in the target; a configuration
//! the sandbox contradicts is refused with every finding named (key, value,
//! what the sandbox has instead, the fix), and `atpilot dev` does not start.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../atpilot.example.toml")
}

fn atpilot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atpilot")).args(args).output().expect("atpilot runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The example, with `replace` → `by` applied (each must be there).
fn example_with(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut s = std::fs::read_to_string(example()).unwrap();
    for (a, b) in edits {
        assert!(s.contains(a), "the example has no {a:?}");
        s = s.replacen(a, b, 1);
    }
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p
}

/// The line of the finding for `key = value`.
fn finding<'a>(out: &'a str, key: &str, value: &str) -> &'a str {
    let head = format!("ERROR {key} = {value}:");
    out.lines().find(|l| l.starts_with(&head)).unwrap_or_else(|| panic!("no {head:?} finding in:\n{out}"))
}

#[test]
fn example_configuration_passes_against_the_sandbox() {
    let o = atpilot(&["config", "check", example().to_str().unwrap(), "--against", "sandbox"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("valid against the embedded seeded sandbox"), "{out}");
    for key in ["agent.resource_id = 5", "agent.role_id = 8", "billing_codes.default = 1", "statuses.complete = 5"] {
        assert!(out.lines().any(|l| l.starts_with(&format!("ok    {key}:"))), "{key} not checked:\n{out}");
    }
    assert!(!out.contains("ERROR") && !out.contains("WARN"), "{out}");
    // The note values it will write, with the tenant's labels.
    assert!(
        out.contains(
            "ok    autotask.note_publish_internal = 2: internal notes are written as publish \"Internal Users\""
        ),
        "{out}"
    );
    assert!(
        out.contains("ok    autotask.note_publish_customer = 1: the customer reply as publish \"All Autotask Users\""),
        "{out}"
    );
}

#[test]
fn config_check_offline_says_ids_were_not_verified() {
    let p = example();
    let o = atpilot(&["config", "check", p.to_str().unwrap()]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("ids were not verified against a tenant (use --against sandbox|URL)"), "{out}");
    assert!(!out.contains(&format!("{}: valid", p.display())), "offline is not \"valid\": {out}");
}

#[test]
fn config_check_against_sandbox_names_key_value_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    // A resource the sandbox does not have, a billing code it does not have, a status not in its picklist.
    let bad = example_with(
        dir.path(),
        "bad.toml",
        &[
            ("resource_id = 5\n", "resource_id = 29682885\n"),
            ("default = 1\n", "default = 29682801\n"),
            ("disengage = [7, 11, 12, 13]", "disengage = [7, 9, 12]"),
        ],
    );
    let o = atpilot(&["config", "check", bad.to_str().unwrap(), "--against", "sandbox"]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(!out.contains("valid against"), "{out}");
    let res = finding(&out, "agent.resource_id", "29682885");
    assert!(
        res.contains("no such resource")
            && res.contains("The target has: active licensed resources: ")
            && res.contains("5 atpilot Agent")
            && res.contains("Fix: "),
        "{res}"
    );
    let code = finding(&out, "billing_codes.default", "29682801");
    assert!(code.contains("The target has: active work types: 1 Remote Support") && code.contains("Fix: "), "{code}");
    let status = finding(&out, "statuses.disengage", "9");
    assert!(
        status.contains("status picklist") && status.contains("7 Waiting Customer") && status.contains("Fix: "),
        "{status}"
    );
    // Every finding is printed, not just the first; the valid ones too.
    assert!(out.contains("ok    statuses.disengage = 7:"), "{out}");

    // A role the resource does not hold (Dispatcher, 6, exists; the agent resource 5 lacks it).
    let role = example_with(dir.path(), "role.toml", &[("role_id = 8\n", "role_id = 6\n")]);
    let o = atpilot(&["config", "check", role.to_str().unwrap(), "--against", "sandbox"]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    let f = finding(&out, "agent.role_id", "6");
    assert!(
        f.contains("not a role resource 5 holds")
            && f.contains("The target has: roles resource 5 holds: 8 AI Service Agent")
            && f.contains("Fix: "),
        "{f}"
    );
}

/// Runs `atpilot dev` with `config`; returns (its first stdout line, all stderr, whether it exited by itself and failed).
fn dev(config: &Path) -> (String, String, Option<bool>) {
    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .args(["dev", "--listen", "127.0.0.1:0", "--tickets-per-minute", "0", "--sandbox-tickets", "50", "--config"])
        .arg(config)
        .arg("--state")
        .arg(state.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("atpilot dev runs");
    let stdout = child.stdout.take().unwrap();
    let first = std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        line
    });
    let started = Instant::now();
    let mut exited = None;
    while started.elapsed() < Duration::from_secs(90) {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(!status.success());
            break;
        }
        if first.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (first.join().unwrap(), err, exited)
}

#[test]
fn dev_refuses_a_configuration_the_sandbox_contradicts() {
    let dir = tempfile::tempdir().unwrap();
    let bad = example_with(
        dir.path(),
        "bad.toml",
        &[("resource_id = 5\n", "resource_id = 29682885\n"), ("default = 1\n", "default = 29682801\n")],
    );
    let (line, err, failed) = dev(&bad);
    assert_eq!(failed, Some(true), "dev did not refuse (first line {line:?}); stderr:\n{err}");
    assert!(!line.starts_with("dashboard on"), "{line}");
    for head in ["ERROR agent.resource_id = 29682885:", "ERROR billing_codes.default = 29682801:"] {
        assert!(err.contains(head), "{head} not printed:\n{err}");
    }
    assert!(err.contains("atpilot did not start"), "{err}");
}

#[test]
fn dev_starts_with_the_example_configuration() {
    let (line, err, exited) = dev(&example());
    assert!(line.starts_with("dashboard on http://"), "first line {line:?} (exited: {exited:?}); stderr:\n{err}");
    // The example's approvals.base_url is 127.0.0.1:8080; this process listens elsewhere, and the links follow it.
    let here = line.trim().trim_start_matches("dashboard on ").trim_end_matches('/').to_string();
    assert!(!here.ends_with(":8080"), "{here}");
    assert!(err.contains(&format!("approval links point at {here}/approvals/ (this process)")), "{err}");
}

#[test]
fn config_check_names_the_companies_without_a_microsoft_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let p = example_with(
        dir.path(),
        "graph.toml",
        &[
            ("runbook = \"reply-only\"", "runbook = \"graph-reset-password\""),
            (
                "[approvals]",
                "[microsoft]\nclient_id = \"a7f1c0de-0000-4000-8000-000000000001\"\n[microsoft.tenants]\n999999 = \"c0000000-0000-4000-8000-000000000001\"\n\n[approvals]",
            ),
        ],
    );
    let o = atpilot(&["config", "check", p.to_str().unwrap(), "--against", "sandbox"]);
    let out = text(&o);
    let line =
        out.lines().find(|l| l.starts_with("WARN  microsoft.tenants = 1 mapped:")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("active companies have neither a Microsoft 365 tenant nor a Google Workspace customer, so their password-reset tickets are refused"), "{line}");
}

#[test]
fn config_check_warns_of_graph_categories_google_users_could_not_use() {
    let dir = tempfile::tempdir().unwrap();
    let google = "[google]\n[google.customers.29683002]\ncustomer_id = \"C03az79cb\"\nadmin = \"admin@c2.example\"\ndomains = [\"c2.example\"]\n";
    let p = example_with(
        dir.path(),
        "both.toml",
        &[
            ("runbook = \"reply-only\"", "runbook = \"graph-assign-license\"\nsku = \"SPE_E3\""),
            (
                "[approvals]",
                &format!("[microsoft]\nclient_id = \"a7f1c0de-0000-4000-8000-000000000001\"\n{google}\n[approvals]"),
            ),
        ],
    );
    let o = atpilot(&["config", "check", p.to_str().unwrap()]);
    let out = text(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("WARN  categories.password-reset.google_sku = (none):"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("licence tickets of Google Workspace users are refused"), "{line}");
    // With the Google SKU named, no warning.
    let p = example_with(
        dir.path(),
        "both-ok.toml",
        &[
            (
                "runbook = \"reply-only\"",
                "runbook = \"graph-assign-license\"\nsku = \"SPE_E3\"\ngoogle_sku = \"Google-Apps/1010020027\"",
            ),
            (
                "[approvals]",
                &format!("[microsoft]\nclient_id = \"a7f1c0de-0000-4000-8000-000000000001\"\n{google}\n[approvals]"),
            ),
        ],
    );
    let out = text(&atpilot(&["config", "check", p.to_str().unwrap()]));
    assert!(!out.contains("google_sku"), "{out}");
}
