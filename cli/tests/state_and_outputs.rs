//! Issue 15: commands that act on state refuse a store that does not exist,
//! say in one sentence what is missing for DynamoDB, apply the dashboard's
//! phase rule, keep the kill switch's history; commands that write files
//! never overwrite their input or a file they did not write.

use std::path::Path;
use std::process::{Command, Output};

fn atpilot_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atpilot")).current_dir(dir).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An embedded store as `atpilot dev` leaves it.
fn existing_store(dir: &Path) {
    drop(atpilot_store::embedded::EmbeddedStateStore::open(dir).unwrap());
}

#[test]
fn kill_switch_on_a_missing_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["kill-switch", "on", "--state", "stat"][..],
        &["phase", "set", "network", "shadow", "--state", "stat"],
        &["phase", "list", "--state", "stat"],
    ] {
        let o = atpilot_in(dir.path(), args);
        assert!(!o.status.success(), "{args:?}: {}", stdout(&o));
        assert!(!stdout(&o).contains("ON"), "{args:?}");
        let e = stderr(&o);
        assert!(
            e.contains("no atpilot state at stat") && e.contains("`atpilot dev` uses") && e.contains(".state"),
            "{args:?}: {e}"
        );
        assert!(!dir.path().join("stat").exists(), "{args:?} created a store");
    }
}

#[test]
fn kill_switch_is_kept_with_who_and_when_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    existing_store(&dir.path().join(".state"));
    let o = Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .current_dir(dir.path())
        .args(["kill-switch", "on"])
        .env("USER", "alice")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("kill switch ON"), "{}", stdout(&o));
    let o = atpilot_in(dir.path(), &["phase", "list"]);
    let out = stdout(&o);
    assert!(out.contains("kill switch: ON"), "{out}");
    assert!(out.lines().any(|l| l.contains(" on ") && l.contains("by alice (atpilot kill-switch)")), "{out}");
    // On again: still on, and said so; no second flip in the history.
    let o = atpilot_in(dir.path(), &["kill-switch", "on"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).trim_end().ends_with("(it already was; nothing recorded)"), "{}", stdout(&o));
    let out = stdout(&atpilot_in(dir.path(), &["phase", "list"]));
    assert_eq!(out.lines().filter(|l| l.contains("(atpilot kill-switch)")).count(), 1, "{out}");
}

#[test]
fn kill_switch_without_aws_credentials_says_what_is_missing() {
    let home = tempfile::tempdir().unwrap();
    let run = |region: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_atpilot"));
        c.args(["kill-switch", "on", "--dynamodb-table", "atpilot-state"])
            .current_dir(home.path())
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        if let Some(r) = region {
            c.env("AWS_REGION", r);
        }
        c.output().unwrap()
    };
    let o = run(Some("eu-west-1"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "one sentence: {e}");
    assert!(e.contains("no AWS credentials were found") && e.contains("AWS_ACCESS_KEY_ID"), "{e}");
    let o = run(None);
    let e = stderr(&o);
    assert!(!o.status.success());
    assert_eq!(e.trim_end().lines().count(), 1, "one sentence: {e}");
    assert!(e.contains("no AWS region is set"), "{e}");
}

#[test]
fn phase_set_refuses_unknown_and_unsafe_categories() {
    let dir = tempfile::tempdir().unwrap();
    existing_store(&dir.path().join(".state"));
    let o = atpilot_in(dir.path(), &["phase", "set", "pasword-reset", "autonomous"]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(stderr(&o).contains("did you mean password-reset?"), "{}", stderr(&o));
    let o = atpilot_in(dir.path(), &["phase", "set", "hardware", "autonomous"]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(stderr(&o).contains("hardware is not on the safe list"), "{}", stderr(&o));
    let o = atpilot_in(dir.path(), &["phase", "list"]);
    assert!(stdout(&o).contains("no phase set at run time"), "nothing was changed: {}", stdout(&o));
    let o = atpilot_in(dir.path(), &["phase", "set", "hardware", "internal-notes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "hardware is now in the internal-notes phase");
    // A configuration file decides which categories exist and which are safe.
    std::fs::write(dir.path().join("atpilot.toml"), atpilot_config::EXAMPLE).unwrap();
    let o = atpilot_in(dir.path(), &["phase", "set", "password-rest", "shadow", "--config", "atpilot.toml"]);
    assert!(stderr(&o).contains("did you mean password-reset?"), "{}", stderr(&o));
}

/// A small labelled ticket export.
fn tickets_csv(path: &Path) -> Vec<u8> {
    let mut s = String::from("id,title,description,label\n");
    for i in 0..120 {
        let (t, d, l) = match i % 3 {
            0 => ("Password reset", "I forgot my password and I am locked out", "password-reset"),
            1 => ("VPN drops", "The VPN keeps disconnecting from home", "network"),
            _ => ("Printer jam", "The printer on floor two jams on every page", "hardware"),
        };
        s.push_str(&format!("{i},{t} {i},{d} ({i}),{l}\n"));
    }
    std::fs::write(path, &s).unwrap();
    s.into_bytes()
}

#[test]
fn model_train_refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tickets.csv");
    let original = tickets_csv(&csv);
    let args = |out: &str| ["model", "train", "--input", "tickets.csv", "--output", out].map(String::from).to_vec();
    let run =
        |a: Vec<String>| Command::new(env!("CARGO_BIN_EXE_atpilot")).current_dir(dir.path()).args(a).output().unwrap();
    let o = run(args("./tickets.csv"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("it is also an input"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&csv).unwrap(), original, "the export is untouched");
    // Another file that is not a model: kept unless --force.
    std::fs::write(dir.path().join("notes.txt"), "my notes").unwrap();
    let o = run(args("notes.txt"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is not an atpilot model") && stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "my notes");
    // A model is written, and replaced by the next training.
    for _ in 0..2 {
        let o = run(args("model.atm"));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let mut forced = args("notes.txt");
    forced.push("--force".into());
    assert!(run(forced).status.success());
    assert!(std::fs::read(dir.path().join("notes.txt")).unwrap().starts_with(b"ATPILOT-MODEL"));
}

#[test]
fn model_predict_refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tickets.csv");
    let original = tickets_csv(&csv);
    let run = |a: &[&str]| atpilot_in(dir.path(), a);
    assert!(run(&["model", "train", "--input", "tickets.csv", "--output", "model.atm"]).status.success());
    let model = std::fs::read(dir.path().join("model.atm")).unwrap();
    for out in ["tickets.csv", "model.atm"] {
        let o = run(&["model", "predict", "--model", "model.atm", "--input", "tickets.csv", "--output", out]);
        assert!(!o.status.success(), "{out}");
        assert!(stderr(&o).contains("it is also an input"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&csv).unwrap(), original);
    assert_eq!(std::fs::read(dir.path().join("model.atm")).unwrap(), model);
    let o = run(&["model", "predict", "--model", "model.atm", "--input", "tickets.csv", "--output", "pred.csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        run(&["model", "predict", "--model", "model.atm", "--input", "tickets.csv", "--output", "pred.csv"])
            .status
            .success(),
        "its own output is replaced"
    );
    std::fs::write(dir.path().join("other.csv"), "a,b\n1,2\n").unwrap();
    let o = run(&["model", "predict", "--model", "model.atm", "--input", "tickets.csv", "--output", "other.csv"]);
    assert!(!o.status.success() && stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.path().join("other.csv")).unwrap(), "a,b\n1,2\n");
}

#[test]
fn audit_refuses_to_overwrite_a_file_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.md"), "my notes").unwrap();
    let audit = |out: &str, extra: &[&str]| {
        let mut a = vec![
            "audit",
            "--sandbox",
            "--sandbox-tickets",
            "200",
            "--history-sample",
            "20",
            "--model-sample",
            "100",
            "--quiet",
            "--output",
            out,
        ];
        a.extend(extra);
        atpilot_in(dir.path(), &a)
    };
    let o = audit("notes.md", &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is not an atpilot audit report") && stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.md")).unwrap(), "my notes");
    // Its own reports (any format) are replaced.
    for out in ["audit.md", "audit.html", "audit.json", "audit.csv"] {
        for _ in 0..2 {
            let o = audit(out, &[]);
            assert!(o.status.success(), "{out}: {}", stderr(&o));
        }
    }
    assert!(audit("notes.md", &["--force"]).status.success());
}

#[test]
fn report_weekly_writes_into_its_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let weekly = |extra: &[&str]| {
        let mut a = vec!["report", "weekly", "--sandbox", "--sandbox-tickets", "300", "--state", "state", "--dry-run"];
        a.extend(extra);
        atpilot_in(dir.path(), &a)
    };
    let o = weekly(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!dir.path().join("report.html").exists(), "nothing in the working directory");
    let reports = dir.path().join("atpilot-reports");
    let files: Vec<String> =
        std::fs::read_dir(&reports).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let html = files
        .iter()
        .find(|f| f.starts_with("weekly-") && f.ends_with(".html"))
        .unwrap_or_else(|| panic!("no HTML in {files:?}"));
    assert!(files.iter().any(|f| f.ends_with(".csv")), "{files:?}");
    assert!(stdout(&o).contains(&format!("atpilot-reports/{html}")), "{}", stdout(&o));
    // Run again: its own files are replaced; a foreign file in their place is kept.
    assert!(weekly(&[]).status.success());
    std::fs::write(reports.join(html), "someone else's page").unwrap();
    let o = weekly(&[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is not an atpilot weekly report file"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(reports.join(html)).unwrap(), "someone else's page");
    assert!(weekly(&["--force"]).status.success());
}
