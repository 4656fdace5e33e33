//! Issue 23: `atpilot model eval` reports, per predicted label, what an autonomy
//! threshold would let the agent act on at 95% and 98% precision, and predictions
//! carry confidences that only tie where their ranking scores do.

use std::path::Path;
use std::process::{Command, Output};

fn atpilot_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atpilot")).current_dir(dir).args(args).output().unwrap()
}

/// Tickets of four labels whose words overlap, with one label in ten flipped, so
/// that confidences spread and no label is right every time.
fn tickets(path: &Path, n: usize, seed: u64) {
    let words = [
        ("password-reset", ["password", "locked", "reset", "login", "account"]),
        ("printer", ["printer", "toner", "jam", "print", "paper"]),
        ("network", ["wifi", "vpn", "network", "slow", "connect"]),
        ("email", ["outlook", "mailbox", "email", "calendar", "login"]),
    ];
    let mut x = seed;
    let mut next = |m: u64| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let mut s = String::from("id,title,description,label\n");
    for i in 0..n {
        let l = next(4) as usize;
        let mut text: Vec<&str> = (0..4).map(|_| words[l].1[next(5) as usize]).collect();
        // a word of another label in half the tickets
        if next(2) == 0 {
            text.push(words[next(4) as usize].1[next(5) as usize]);
        }
        let label = if next(10) == 0 { words[next(4) as usize].0 } else { words[l].0 };
        s.push_str(&format!("{i},ticket,{},{label}\n", text.join(" ")));
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn eval_reports_per_label_coverage_with_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    tickets(&dir.path().join("train.csv"), 1500, 1);
    tickets(&dir.path().join("test.csv"), 800, 2);
    let o = atpilot_in(dir.path(), &["model", "train", "--input", "train.csv", "--output", "m.atm"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "confidence from the top probability, how far the runner-up trails and the label's held-out record"
        ),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = atpilot_in(dir.path(), &["model", "eval", "--model", "m.atm", "--input", "test.csv"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("coverage at 95% precision") && out.contains("coverage at 98% precision"), "{out}");
    assert!(out.contains("per predicted label"), "{out}");
    for l in ["password-reset", "printer", "network", "email"] {
        assert!(out.lines().any(|line| line.starts_with(l)), "{l} missing: {out}");
    }

    let o = atpilot_in(dir.path(), &["model", "eval", "--model", "m.atm", "--input", "test.csv", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["per_label"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{v}");
    let predicted: u64 = rows.iter().map(|r| r["predicted"].as_u64().unwrap()).sum();
    assert_eq!(predicted, 800);
    for r in rows {
        let (c95, t95) = (r["coverage_at_95"].as_f64().unwrap(), r["threshold_at_95"].as_f64().unwrap());
        let (c98, t98) = (r["coverage_at_98"].as_f64().unwrap(), r["threshold_at_98"].as_f64().unwrap());
        // A stricter precision never covers more, and needs at least the same confidence.
        assert!(c98 <= c95 && t98 >= t95, "{r}");
        assert!(c95 > 0.0, "each label acts on some of its tickets at 95%: {r}");
    }

    // Predictions: the confidence at full precision; ties only where the text (so the score) repeats.
    let o =
        atpilot_in(dir.path(), &["model", "predict", "--model", "m.atm", "--input", "test.csv", "--output", "p.csv"]);
    assert!(o.status.success());
    let mut texts = std::collections::BTreeSet::new();
    let mut r = csv::Reader::from_path(dir.path().join("test.csv")).unwrap();
    for row in r.records() {
        texts.insert(row.unwrap()[2].to_string());
    }
    let mut confs = std::collections::BTreeSet::new();
    let mut r = csv::Reader::from_path(dir.path().join("p.csv")).unwrap();
    for row in r.records() {
        confs.insert(row.unwrap()[2].parse::<f64>().unwrap().to_bits());
    }
    assert_eq!(v["distinct_confidences"].as_u64().unwrap() as usize, confs.len());
    assert!(confs.len() <= texts.len());
    assert!(confs.len() * 100 >= texts.len() * 99, "{} confidences for {} distinct texts", confs.len(), texts.len());
}
