//! `atpilot model …`: owned by the model work (issue 4).
//!
//! ```text
//! atpilot model train   --input FILE.csv --text-columns title,description --label-column label --output MODEL
//! atpilot model predict --model MODEL --input FILE.csv --text-columns title,description --output PRED.csv
//! atpilot model eval    --model MODEL --input FILE.csv --text-columns title,description --label-column label
//! ```

use crate::CliResult;
use atpilot_model::data::{load_csv, Columns, Table};
use atpilot_model::metrics::evaluate;
use atpilot_model::train::Loss;
use atpilot_model::{Model, ModelError, Progress, TrainConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Train a classifier from a CSV export of ticket history.
    Train(TrainArgs),
    /// Predict a label and a calibrated confidence for every row of a CSV file.
    Predict(PredictArgs),
    /// Evaluate a model on labelled tickets: accuracy, macro-F1, coverage at 95% precision, ECE.
    Eval(EvalArgs),
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// CSV file with a header line.
    #[arg(long)]
    input: PathBuf,
    /// Columns joined into the ticket text, comma-separated.
    #[arg(long, default_value = "title,description")]
    text_columns: String,
    /// Column holding the label to learn (the dispatchers' final decision).
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Where to write the model artifact.
    #[arg(long)]
    output: PathBuf,
    /// Seed of every shuffle: same data and seed give the same artifact bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Passes over the data.
    #[arg(long)]
    epochs: Option<u32>,
    /// hinge (large-margin, default) or softmax (logistic).
    #[arg(long)]
    loss: Option<String>,
    /// Hash space of 2^bits feature buckets.
    #[arg(long)]
    bits: Option<u32>,
    /// Initial SGD step size.
    #[arg(long)]
    learning_rate: Option<f32>,
    /// Share of the character n-gram block in the feature vector (0..1).
    #[arg(long)]
    char_weight: Option<f32>,
    /// Minimum number of texts a feature must occur in.
    #[arg(long)]
    min_df: Option<u32>,
    /// Worker threads (1 or 2); the artifact does not depend on it.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    input: PathBuf,
    #[arg(long, default_value = "title,description")]
    text_columns: String,
    /// Column copied to the `id` column of the output (line numbers when absent).
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Output CSV: id,predicted,confidence.
    #[arg(long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    input: PathBuf,
    #[arg(long, default_value = "title,description")]
    text_columns: String,
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Print the figures as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn run(c: Command) -> CliResult {
    tokio::task::spawn_blocking(move || match c {
        Command::Train(a) => train(a),
        Command::Predict(a) => predict(a),
        Command::Eval(a) => eval(a),
    })
    .await?
}

fn read(input: &Path, text_columns: &str, label: Option<&str>, id: &str) -> Result<Table, ModelError> {
    let cols = Columns {
        text: Columns::parse_list(text_columns),
        label: label.map(str::to_string),
        id: id.to_string(),
    };
    load_csv(input, &cols)
}

fn train(a: TrainArgs) -> CliResult {
    let start = Instant::now();
    let table = read(&a.input, &a.text_columns, Some(&a.label_column), "id")?;
    let labels = table.labels.clone().unwrap_or_default();
    let mut cfg = TrainConfig { seed: a.seed, threads: a.threads.clamp(1, 2), ..TrainConfig::default() };
    if let Some(e) = a.epochs {
        cfg.epochs = e;
    }
    if let Some(l) = a.loss.as_deref() {
        cfg.loss = match l {
            "hinge" => Loss::Hinge,
            "softmax" => Loss::Softmax,
            other => return Err(format!("--loss {other:?}: use hinge or softmax").into()),
        };
    }
    if let Some(b) = a.bits {
        cfg.features.bits = b;
    }
    if let Some(l) = a.learning_rate {
        cfg.learning_rate = l;
    }
    if let Some(w) = a.char_weight {
        cfg.features.char_weight = w;
    }
    if let Some(m) = a.min_df {
        cfg.min_df = m;
    }

    let bar = if table.len() >= 2000 {
        let b = indicatif::ProgressBar::new(table.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg:<22} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b.set_message("reading features");
        Some(b)
    } else {
        None
    };
    let on_progress = |p: Progress| {
        let Some(b) = &bar else { return };
        match p {
            Progress::Featurize { done, total } => {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
            Progress::Epoch { done, total } => {
                b.set_message("training");
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
            Progress::Calibrate => b.set_message("calibrating"),
        }
    };
    let (model, report) = atpilot_model::train(&table.texts, &labels, &cfg, &on_progress)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let bytes = model.to_bytes();
    std::fs::write(&a.output, &bytes).map_err(|e| ModelError::Io { path: a.output.clone(), source: e })?;
    eprintln!(
        "trained on {} tickets ({} labels, {} feature rows, calibrated on {} held-out: accuracy {:.3}, temperature {:.3}) in {:.2} s; wrote {} ({:.1} MB)",
        report.examples,
        report.labels,
        report.feature_rows,
        report.calibration_examples,
        report.calibration_accuracy,
        report.temperature,
        start.elapsed().as_secs_f64(),
        a.output.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

fn load_model(path: &Path) -> Result<(Model, f64), ModelError> {
    let t = Instant::now();
    let m = Model::load(path)?;
    Ok((m, t.elapsed().as_secs_f64() * 1000.0))
}

fn predict(a: PredictArgs) -> CliResult {
    let (model, load_ms) = load_model(&a.model)?;
    let table = read(&a.input, &a.text_columns, None, &a.id_column)?;
    let t = Instant::now();
    let preds = model.predict_batch(&table.texts);
    let predict_ms = t.elapsed().as_secs_f64() * 1000.0;
    let out_err = |e: csv::Error| format!("{}: {e}", a.output.display());
    let mut w = csv::Writer::from_path(&a.output).map_err(out_err)?;
    w.write_record(["id", "predicted", "confidence"]).map_err(out_err)?;
    for (id, p) in table.ids.iter().zip(&preds) {
        w.write_record([id.as_str(), p.label.as_str(), &format!("{:.4}", p.confidence)]).map_err(out_err)?;
    }
    w.flush().map_err(|e| format!("{}: {e}", a.output.display()))?;
    eprintln!(
        "loaded model in {load_ms:.1} ms; predicted {} tickets in {predict_ms:.1} ms (one core); wrote {}",
        preds.len(),
        a.output.display()
    );
    Ok(())
}

fn eval(a: EvalArgs) -> CliResult {
    let (model, load_ms) = load_model(&a.model)?;
    let table = read(&a.input, &a.text_columns, Some(&a.label_column), "id")?;
    let truth = table.labels.clone().unwrap_or_default();
    let t = Instant::now();
    let preds = model.predict_batch(&table.texts);
    let predict_ms = t.elapsed().as_secs_f64() * 1000.0;
    let predicted: Vec<String> = preds.iter().map(|p| p.label.clone()).collect();
    let conf: Vec<f32> = preds.iter().map(|p| p.confidence).collect();
    let m = evaluate(&truth, &predicted, &conf);
    let unknown = truth.iter().filter(|l| !model.labels().contains(l)).count();
    if a.json {
        let mut v = serde_json::to_value(&m)?;
        v["load_ms"] = load_ms.into();
        v["predict_ms"] = predict_ms.into();
        v["unknown_labels"] = unknown.into();
        println!("{v}");
        return Ok(());
    }
    println!("tickets                          {}", m.n);
    println!("accuracy                         {:.4}", m.accuracy);
    println!("macro-F1                         {:.4}", m.macro_f1);
    println!("coverage at 95% precision        {:.4}  (confidence >= {:.4})", m.coverage_at_95, m.threshold_at_95);
    println!("expected calibration error (ECE) {:.4}", m.ece);
    if unknown > 0 {
        println!("note: {unknown} tickets carry labels the model never saw (counted as wrong)");
    }
    eprintln!("loaded model in {load_ms:.1} ms; predicted {} tickets in {predict_ms:.1} ms", m.n);
    Ok(())
}
