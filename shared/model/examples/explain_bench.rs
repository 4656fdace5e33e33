//! What the classification evidence costs: `cargo run --release -p atpilot-model
//! --example explain_bench -- TRAIN.csv [TICKETS]`. Trains on the first 80% of the
//! file, then over the next TICKETS tickets (default 500) times one prediction
//! (the baseline: what classify does anyway) and one prediction with its
//! evidence (`Model::evidence`, occlusion over at most 60 words), and prints
//! both per ticket (median and mean, one core) with their ratio.
use atpilot_model::TrainConfig;
use atpilot_model::data::{Columns, load_csv};
use std::path::Path;
use std::time::Instant;

fn per_ticket_us(texts: &[String], f: impl Fn(&str)) -> (f64, f64) {
    let mut us: Vec<f64> = texts
        .iter()
        .map(|t| {
            let start = Instant::now();
            f(t);
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    us.sort_by(f64::total_cmp);
    (us[us.len() / 2], us.iter().sum::<f64>() / us.len() as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: explain_bench TRAIN.csv [TICKETS]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(500);
    let cols =
        Columns { text: vec!["title".into(), "description".into()], label: Some("label".into()), id: "id".into() };
    let data = load_csv(Path::new(path), &cols).unwrap_or_else(|e| panic!("{path}: {e}"));
    let labels = data.labels.as_ref().expect("a label column");
    let cut = data.texts.len() * 4 / 5;
    let cfg = TrainConfig { threads: 1, ..TrainConfig::default() };
    let (model, _) = atpilot_model::train(&data.texts[..cut], &labels[..cut], &cfg, &|_| {}).expect("training");
    let texts = &data.texts[cut..(cut + n).min(data.texts.len())];
    assert!(!texts.is_empty(), "no tickets left to time");
    let (p50, mean) = per_ticket_us(texts, |t| {
        std::hint::black_box(model.predict(t));
    });
    let (e50, emean) = per_ticket_us(texts, |t| {
        std::hint::black_box(model.predict(t));
        std::hint::black_box(model.evidence(t, 5));
    });
    println!("{} tickets, one core", texts.len());
    println!("{:<28} {:>12} {:>12}", "", "median (µs)", "mean (µs)");
    println!("{:<28} {:>12.0} {:>12.0}", "predict (baseline)", p50, mean);
    println!("{:<28} {:>12.0} {:>12.0}", "predict + evidence", e50, emean);
    println!("evidence costs {:.1}× a prediction (mean)", emean / mean);
}
