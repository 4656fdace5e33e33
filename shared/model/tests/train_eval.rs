//! End-to-end: train on a generated ticket set, check accuracy, calibration,
//! reproducibility and the artifact round trip.

use atpilot_model::data::{Columns, load_csv};
use atpilot_model::metrics::evaluate;
use atpilot_model::{Model, ModelError, TrainConfig};

/// Tiny LCG so the data set is the same everywhere.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.next() % v.len()]
    }
}

const TOPICS: &[(&str, &[&str])] = &[
    ("password-reset", &["password", "expired", "reset", "locked", "login", "sign-in", "credentials", "account"]),
    ("printer", &["printer", "toner", "paper", "jam", "print", "queue", "spooler", "scanner"]),
    ("licence", &["licence", "office", "365", "subscription", "activate", "visio", "assign", "seat"]),
    ("network", &["vpn", "wifi", "network", "dns", "latency", "switch", "firewall", "internet"]),
];
const COMMON: &[&str] =
    &["please", "help", "user", "today", "urgent", "hi", "thanks", "cannot", "since", "morning", "team", "issue"];

fn generate(n: usize, seed: u64, noise: f64) -> (Vec<String>, Vec<String>) {
    let mut r = Lcg(seed);
    let (mut texts, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let t = r.next() % TOPICS.len();
        let (label, words) = TOPICS[t];
        let mut text = Vec::new();
        for _ in 0..(2 + r.next() % 3) {
            text.push(r.pick(words));
        }
        // a word from another topic now and then
        if r.next() % 3 == 0 {
            let other = r.next() % TOPICS.len();
            text.push(r.pick(TOPICS[other].1));
        }
        for _ in 0..(3 + r.next() % 5) {
            text.push(r.pick(COMMON));
        }
        // shuffle words
        for i in (1..text.len()).rev() {
            let j = r.next() % (i + 1);
            text.swap(i, j);
        }
        let flip = (r.next() % 1000) as f64 / 1000.0 < noise;
        let other = r.next() % TOPICS.len();
        let label = if flip { TOPICS[other].0 } else { label };
        texts.push(text.join(" "));
        labels.push(label.to_string());
    }
    (texts, labels)
}

/// The model's metrics on held-out texts and labels.
fn metrics_on(m: &Model, texts: &[String], labels: &[String]) -> atpilot_model::metrics::Metrics {
    let preds = m.predict_batch(texts);
    let p: Vec<String> = preds.iter().map(|p| p.label.clone()).collect();
    let c: Vec<f64> = preds.iter().map(|p| p.confidence).collect();
    evaluate(labels, &p, &c)
}

fn small_config(seed: u64) -> TrainConfig {
    let mut c = TrainConfig { seed, ..TrainConfig::default() };
    c.features.bits = 16;
    c
}

#[test]
fn learns_well_above_chance_and_is_calibrated() {
    let (tx, ty) = generate(1500, 1, 0.1);
    let (vx, vy) = generate(1000, 2, 0.1);
    let (model, report) = atpilot_model::train(&tx, &ty, &small_config(42), &|_| {}).unwrap();
    assert_eq!(report.labels, 4);
    assert!(report.calibration_examples > 100);
    let preds = model.predict_batch(&vx);
    let p: Vec<String> = preds.iter().map(|p| p.label.clone()).collect();
    let c: Vec<f64> = preds.iter().map(|p| p.confidence).collect();
    let m = evaluate(&vy, &p, &c);
    // chance is 0.25; 10% label noise caps accuracy near 0.925
    assert!(m.accuracy > 0.8, "accuracy {}", m.accuracy);
    assert!(c.iter().all(|c| (0.0..=1.0).contains(c)));
    let mean_conf = c.iter().sum::<f64>() / c.len() as f64;
    assert!((mean_conf - m.accuracy).abs() < 0.06, "mean confidence {mean_conf} vs accuracy {}", m.accuracy);
    assert!(m.ece < 0.08, "ece {}", m.ece);
    for pr in &preds {
        let s: f32 = pr.probabilities.iter().sum();
        assert!((s - 1.0).abs() < 1e-3);
    }
    // Calibration keeps the ranking: tickets whose ranking scores differ never
    // share a confidence, and a higher score never gets a lower one.
    let mut by_rank: Vec<(f64, f64)> = preds.iter().map(|p| (p.rank.logit, p.confidence)).collect();
    by_rank.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bad: Vec<_> = by_rank.windows(2).filter(|w| w[1].0 > w[0].0 && w[0].1 >= w[1].1).collect();
    assert!(
        bad.is_empty(),
        "{} pairs of different ranking scores with one confidence (or out of order): {:?}",
        bad.len(),
        &bad[..bad.len().min(8)]
    );
    let distinct_scores: std::collections::BTreeSet<u64> = by_rank.iter().map(|r| r.0.to_bits()).collect();
    assert_eq!(m.distinct_confidences, distinct_scores.len());
}

#[test]
fn small_sets_calibrate_on_every_example_large_ones_on_a_held_out_share() {
    let (tx, ty) = generate(1200, 11, 0.15);
    let (vx, vy) = generate(2000, 12, 0.15);
    let ece = |m: &Model| metrics_on(m, &vx, &vy).ece;
    // under `cross_fit_below` every example gets a held-out score from a model
    // trained without it
    let (crossed, r) = atpilot_model::train(&tx, &ty, &small_config(3), &|_| {}).unwrap();
    assert_eq!(r.calibration_examples, 1200);
    // above it, one held-out share
    let share_cfg = TrainConfig { cross_fit_below: 1000, ..small_config(3) };
    let (share, r) = atpilot_model::train(&tx, &ty, &share_cfg, &|_| {}).unwrap();
    assert_eq!(r.calibration_examples, 180);
    // the final model is the same either way; only its calibration differs
    assert_eq!(crossed.scores("printer toner jam"), share.scores("printer toner jam"));
    assert!(ece(&crossed) < 0.05, "cross-fitted ece {}", ece(&crossed));
    assert!(ece(&crossed) <= ece(&share), "cross-fitted {} vs held-out share {}", ece(&crossed), ece(&share));
    // down-weighted (re-routed) tickets are trained on but never calibrated on
    let w: Vec<f32> = (0..1200).map(|i| if i % 4 == 0 { 0.25 } else { 1.0 }).collect();
    let (_, r) = atpilot_model::train_weighted(&tx, &ty, Some(&w), &small_config(3), &|_| {}).unwrap();
    assert_eq!(r.calibration_examples, 900);
}

#[test]
fn same_data_and_seed_give_the_same_bytes() {
    let (tx, ty) = generate(800, 3, 0.05);
    let a = atpilot_model::train(&tx, &ty, &small_config(7), &|_| {}).unwrap().0.to_bytes();
    let b = atpilot_model::train(&tx, &ty, &small_config(7), &|_| {}).unwrap().0.to_bytes();
    assert_eq!(a, b);
    let one_thread = TrainConfig { threads: 1, ..small_config(7) };
    let c = atpilot_model::train(&tx, &ty, &one_thread, &|_| {}).unwrap().0.to_bytes();
    assert_eq!(a, c, "the thread count must not change the artifact");
    let d = atpilot_model::train(&tx, &ty, &small_config(8), &|_| {}).unwrap().0.to_bytes();
    assert_ne!(a, d);
}

#[test]
fn artifact_round_trip_and_corruption() {
    let (tx, ty) = generate(600, 4, 0.0);
    let (model, _) = atpilot_model::train(&tx, &ty, &small_config(1), &|_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bin");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.predict("printer toner jam"), model.predict("printer toner jam"));
    assert_eq!(loaded.predict("printer toner jam").label, "printer");

    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let e = Model::load(&path).unwrap_err();
    assert!(matches!(e, ModelError::BadArtifact { .. }), "{e}");
    std::fs::write(&path, &bytes[..100]).unwrap();
    assert!(Model::load(&path).unwrap_err().to_string().contains("m.bin"));
    std::fs::write(&path, b"").unwrap();
    assert!(Model::load(&path).is_err());
    assert!(matches!(Model::load(&dir.path().join("missing")), Err(ModelError::Io { .. })));
}

#[test]
fn training_rejects_bad_input() {
    let texts = vec!["a".to_string(), "b".to_string()];
    let e = atpilot_model::train(&texts, &["x".into(), "x".into()], &TrainConfig::default(), &|_| {}).unwrap_err();
    assert!(matches!(e, ModelError::TooFewLabels { found: 1 }));
    let e = atpilot_model::train(&texts, &["x".into()], &TrainConfig::default(), &|_| {}).unwrap_err();
    assert!(matches!(e, ModelError::Invalid(_)));
    let mut bad = TrainConfig::default();
    bad.features.bits = 40;
    assert!(atpilot_model::train(&texts, &["x".into(), "y".into()], &bad, &|_| {}).is_err());
}

#[test]
fn trains_from_csv_with_any_column_names() {
    let (tx, ty) = generate(300, 5, 0.0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(["TicketNumber", "Queue", "Subject", "Body"]).unwrap();
    for (i, (t, l)) in tx.iter().zip(&ty).enumerate() {
        let (a, b) = t.split_at(t.len() / 2);
        w.write_record([format!("T{i}").as_str(), l, a, b]).unwrap();
    }
    w.flush().unwrap();
    let cols =
        Columns { text: vec!["Subject".into(), "Body".into()], label: Some("Queue".into()), id: "TicketNumber".into() };
    let table = load_csv(&path, &cols).unwrap();
    assert_eq!(table.ids[0], "T0");
    let (model, _) =
        atpilot_model::train(&table.texts, table.labels.as_ref().unwrap(), &small_config(3), &|_| {}).unwrap();
    assert_eq!(model.labels().len(), 4);
}

/// Down-weighted examples pull the model less: "printer" tickets are labelled
/// `printer` 6 times (trusted) and `network` 18 times (re-routed by hand,
/// weight 0.25). Unweighted, the noisy majority wins; weighted, the trusted
/// label does. Unit weights give the unweighted bytes, and weights are reproducible.
#[test]
fn example_weights_change_what_is_learned() {
    let (mut tx, mut ty) = generate(400, 11, 0.0);
    let mut w = vec![1.0f32; tx.len()];
    for i in 0..24 {
        tx.push(format!("bubblejet streak {i}"));
        let trusted = i % 4 == 0;
        ty.push(if trusted { "printer" } else { "network" }.to_string());
        w.push(if trusted { 1.0 } else { 0.25 });
    }
    let cfg = small_config(3);
    let (plain, _) = atpilot_model::train(&tx, &ty, &cfg, &|_| {}).unwrap();
    let (weighted, _) = atpilot_model::train_weighted(&tx, &ty, Some(&w), &cfg, &|_| {}).unwrap();
    assert_eq!(plain.predict("bubblejet streak").label, "network");
    assert_eq!(weighted.predict("bubblejet streak").label, "printer");
    assert_ne!(plain.to_bytes(), weighted.to_bytes());
    let again = atpilot_model::train_weighted(&tx, &ty, Some(&w), &cfg, &|_| {}).unwrap().0;
    assert_eq!(weighted.to_bytes(), again.to_bytes(), "same data, weights and seed: same bytes");
    let ones = vec![1.0f32; tx.len()];
    let unit = atpilot_model::train_weighted(&tx, &ty, Some(&ones), &cfg, &|_| {}).unwrap().0;
    assert_eq!(unit.to_bytes(), plain.to_bytes(), "unit weights train exactly as no weights");
    // weight 0 leaves the examples out entirely
    let mut drop = w.clone();
    drop.iter_mut().filter(|x| **x < 1.0).for_each(|x| *x = 0.0);
    let (dropped, _) = atpilot_model::train_weighted(&tx, &ty, Some(&drop), &cfg, &|_| {}).unwrap();
    assert_eq!(dropped.predict("bubblejet streak").label, "printer");
    // bad weights are refused
    let mut bad = w.clone();
    bad[0] = f32::NAN;
    assert!(atpilot_model::train_weighted(&tx, &ty, Some(&bad), &cfg, &|_| {}).is_err());
    assert!(atpilot_model::train_weighted(&tx, &ty, Some(&w[1..]), &cfg, &|_| {}).is_err());
}

/// The exact solver (dual coordinate descent) learns as well, and its artifact does not
/// depend on the thread count either (classes are independent problems).
#[test]
fn dual_coordinate_descent_learns_and_is_reproducible() {
    let (tx, ty) = generate(1500, 21, 0.05);
    let (vx, vy) = generate(500, 22, 0.05);
    let cfg = TrainConfig { solver: atpilot_model::train::Solver::DualCd, epochs: 50, ..small_config(5) };
    let (model, _) = atpilot_model::train(&tx, &ty, &cfg, &|_| {}).unwrap();
    assert!(metrics_on(&model, &vx, &vy).accuracy > 0.8);
    let one = atpilot_model::train(&tx, &ty, &TrainConfig { threads: 1, ..cfg.clone() }, &|_| {}).unwrap().0;
    assert_eq!(model.to_bytes(), one.to_bytes());
}

#[test]
fn evidence_names_the_topic_words_and_the_runner_up() {
    let (tx, ty) = generate(1500, 1, 0.05);
    let (model, _) = atpilot_model::train(&tx, &ty, &small_config(42), &|_| {}).unwrap();
    let text = "Hi team, my VPN drops and the wifi is down since this morning; also the printer";
    let e = model.evidence(text, 3);
    let labels = model.labels();
    assert_eq!(labels[e.index], "network", "{e:?}");
    let words: Vec<&str> = e.words.iter().map(|(w, _)| w.as_str()).collect();
    assert!(words.contains(&"vpn") && words.contains(&"wifi"), "{words:?}");
    assert!(!words.contains(&"printer"), "a word that weighs for another label: {words:?}");
    assert!(e.words.windows(2).all(|w| w[0].1 >= w[1].1), "largest first: {e:?}");
    let (second, p) = e.runner_up.unwrap();
    assert_eq!(labels[second], "printer", "{e:?}");
    assert!(p > 0.0 && p < 0.5, "{p}");
    // Hostile text: only lower-case letters and digits, never markup.
    let e = model.evidence("<a href=\"x\">VPN</a> **wifi**", 5);
    assert!(e.words.iter().all(|(w, _)| w.chars().all(char::is_alphanumeric)), "{e:?}");
}
