//! Tuning harness: `cargo run --release -p atpilot-model --example tune -- TRAIN.csv TEST.csv [key=value…]`
//! keys: epochs, lr, loss (hinge|softmax), bits, cw (char weight), min_df, cmin, cmax, words, seed, threads, cal,
//! folds, cfb (cross-fit below), lpen (label penalty), rank (1: learn from the runner-up and the label too), digits, c, punct, tol, solver
use atpilot_model::data::{Columns, load_csv};
use atpilot_model::metrics::evaluate;
use atpilot_model::train::Loss;
use atpilot_model::{Model, TrainConfig};
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cols =
        Columns { text: vec!["title".into(), "description".into()], label: Some("label".into()), id: "id".into() };
    let tr = load_csv(Path::new(&args[1]), &cols).unwrap();
    let te = load_csv(Path::new(&args[2]), &cols).unwrap();
    let mut cfg = TrainConfig::default();
    for kv in &args[3..] {
        let (k, v) = kv.split_once('=').unwrap();
        match k {
            "epochs" => cfg.epochs = v.parse().unwrap(),
            "lr" => cfg.learning_rate = v.parse().unwrap(),
            "loss" => cfg.loss = if v == "softmax" { Loss::Softmax } else { Loss::Hinge },
            "bits" => cfg.features.bits = v.parse().unwrap(),
            "cw" => cfg.features.char_weight = v.parse().unwrap(),
            "min_df" => cfg.min_df = v.parse().unwrap(),
            "cmin" => cfg.features.char_min = v.parse().unwrap(),
            "cmax" => cfg.features.char_max = v.parse().unwrap(),
            "words" => cfg.features.word_ngrams = v.parse().unwrap(),
            "seed" => cfg.seed = v.parse().unwrap(),
            "threads" => cfg.threads = v.parse().unwrap(),
            "cal" => cfg.calibration_fraction = v.parse().unwrap(),
            "folds" => cfg.calibration_folds = v.parse().unwrap(),
            "cfb" => cfg.cross_fit_below = v.parse().unwrap(),
            "lpen" => cfg.confidence_penalties.label = v.parse().unwrap(),
            "rank" => cfg.choose_ranking = v == "1",
            "digits" => cfg.features.fold_digits = v == "1",
            "c" => cfg.c = v.parse().unwrap(),
            "punct" => cfg.features.keep_punct = v == "1",
            "tol" => cfg.tol = v.parse().unwrap(),
            "solver" => {
                cfg.solver =
                    if v == "sgd" { atpilot_model::train::Solver::Sgd } else { atpilot_model::train::Solver::DualCd }
            }
            _ => panic!("unknown key {k}"),
        }
    }
    if std::env::var_os("TUNE_FEAT").is_some() {
        let t = Instant::now();
        let mut n = 0usize;
        for x in &tr.texts {
            n += atpilot_model::features::normalize(x, true, 6000).len();
        }
        eprintln!("normalize {:?} {n}", t.elapsed());
        let t = Instant::now();
        for x in &tr.texts {
            n += cfg.features.counts(x).chars.len();
        }
        eprintln!("counts {:?} {n}", t.elapsed());
    }
    let t = Instant::now();
    let (m, rep) = atpilot_model::train(&tr.texts, tr.labels.as_ref().unwrap(), &cfg, &|_| {}).unwrap();
    let train_s = t.elapsed().as_secs_f64();
    let bytes = m.to_bytes();
    let t = Instant::now();
    let m2 = Model::from_bytes(&bytes).unwrap();
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(m, m2);
    let t = Instant::now();
    let preds = m2.predict_batch(&te.texts);
    let pred_ms = t.elapsed().as_secs_f64() * 1e3;
    let p: Vec<String> = preds.iter().map(|p| p.label.clone()).collect();
    let c: Vec<f64> = preds.iter().map(|p| p.confidence).collect();
    let mt = evaluate(te.labels.as_ref().unwrap(), &p, &c);
    {
        let correct: Vec<bool> = te.labels.as_ref().unwrap().iter().zip(&p).map(|(a, b)| a == b).collect();
        let mut mg = Vec::new();
        let mut raw = Vec::new();
        for t in &te.texts {
            let mut sc = m2.scores(t);
            let pr = m2.predict(t);
            raw.push(pr.probabilities.iter().cloned().fold(0.0f32, f32::max) as f64);
            sc.sort_by(|a, b| b.total_cmp(a));
            mg.push((sc[0] - sc[1]) as f64);
        }
        let (cm, _) = atpilot_model::metrics::coverage_at_precision(&mg, &correct, 0.95);
        let (cr, _) = atpilot_model::metrics::coverage_at_precision(&raw, &correct, 0.95);
        eprintln!("cov margin {cm:.4} rawp {cr:.4}");
    }
    if let Some(path) = std::env::var_os("TUNE_DUMP") {
        let mut out = String::new();
        for ((t, pp), cc) in te.labels.as_ref().unwrap().iter().zip(&p).zip(&c) {
            out.push_str(&format!("{},{}\n", cc, (t == pp) as u8));
        }
        std::fs::write(path, out).unwrap();
    }
    eprintln!("mean conf {:.4}", c.iter().sum::<f64>() / c.len() as f64);
    println!(
        "acc {:.4} f1 {:.4} cov95 {:.4} ece {:.4} | train {:.2}s load {:.1}ms pred {:.0}ms/{} size {:.1}MB rows {} T {:.3} calacc {:.3} feat {:.2}s fit {:.2}s",
        mt.accuracy,
        mt.macro_f1,
        mt.coverage_at_95,
        mt.ece,
        train_s,
        load_ms,
        pred_ms,
        te.len(),
        bytes.len() as f64 / 1e6,
        rep.feature_rows,
        rep.temperature,
        rep.calibration_accuracy,
        rep.featurize_seconds,
        rep.fit_seconds
    );
}

#[allow(dead_code)]
fn _unused() {}
