//! `atpilot model …`: owned by the model work (issue 4).
//!
//! ```text
//! atpilot model train   --input FILE.csv --text-columns title,description --label-column label --output MODEL
//! atpilot model predict --model MODEL --input FILE.csv --text-columns title,description --output PRED.csv
//! atpilot model eval    --model MODEL --input FILE.csv --text-columns title,description --label-column label
//! atpilot model train   --from-autotask --since 180d --label queue|priority|issue-type|sub-issue-type|category --output MODEL
//!                       (--autotask-url URL | --sandbox) [--rerouted drop|downweight|keep] [--rerouted-weight 0.25]
//! ```
//!
//! From Autotask, the labels are the dispatchers' final decisions (the
//! ticket's current queue, priority, … as `Label (value)`; the category is the
//! sub-issue type's label, else the issue type's). Tickets re-routed by hand
//! within an hour of creation (found from TicketHistory, as the routing audit
//! finds them) are reported and, by default, down-weighted.

use crate::CliResult;
use crate::output::{self, Kind};
use atpilot_model::data::{Columns, Table, load_csv};
use atpilot_model::metrics::evaluate;
use atpilot_model::train::Loss;
use atpilot_model::{Model, ModelError, Progress, TrainConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Train a classifier from a CSV export of ticket history, or straight from Autotask (--from-autotask).
    Train(TrainArgs),
    /// Predict a label and a calibrated confidence for every row of a CSV file.
    Predict(PredictArgs),
    /// Evaluate a model on labelled tickets: accuracy, macro-F1, coverage at 95% precision, ECE.
    Eval(EvalArgs),
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// CSV file with a header line.
    #[arg(long, required_unless_present = "from_autotask", conflicts_with = "from_autotask")]
    input: Option<PathBuf>,
    /// Columns joined into the ticket text, comma-separated.
    #[arg(long, default_value = "title,description")]
    text_columns: String,
    /// Column holding the label to learn (the dispatchers' final decision).
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Where to write the model artifact (never the input; an existing file only if it is an atpilot model, or with --force).
    #[arg(long)]
    output: PathBuf,
    /// Replace an existing --output file even if it is not an atpilot model.
    #[arg(long)]
    force: bool,
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
    #[command(flatten)]
    autotask: FromAutotaskArgs,
}

/// Training straight from the tenant's ticket history.
#[derive(clap::Args)]
pub struct FromAutotaskArgs {
    /// Read the labelled tickets from Autotask instead of a CSV file.
    #[arg(long, requires = "label")]
    from_autotask: bool,
    /// With --from-autotask: tickets created since then: 180d, 26w, 48h, or a date (2024-01-31).
    #[arg(long, default_value = "180d", requires = "from_autotask")]
    since: String,
    /// With --from-autotask: the decision to learn.
    #[arg(long, value_parser = ["queue", "priority", "issue-type", "sub-issue-type", "category"], requires = "from_autotask")]
    label: Option<String>,
    /// A real tenant: its REST root, or the global URL (https://webservices2.autotask.net) to discover the zone.
    /// Credentials: AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE.
    #[arg(long, conflicts_with = "sandbox", requires = "from_autotask")]
    autotask_url: Option<String>,
    /// Train from an embedded, seeded sandbox tenant (with planted hand re-routes).
    #[arg(long, requires = "from_autotask")]
    sandbox: bool,
    /// Seeded sandbox size.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=250_000))]
    sandbox_tickets: u64,
    /// Tickets re-routed by hand within an hour of creation: leave them out, down-weight them, or keep them.
    #[arg(long, default_value = "downweight", value_parser = ["drop", "downweight", "keep"])]
    rerouted: String,
    /// Weight of a re-routed ticket with --rerouted downweight (0..1).
    #[arg(long, default_value_t = atpilot_audit::training::DEFAULT_REROUTED_WEIGHT)]
    rerouted_weight: f32,
    /// Tickets whose TicketHistory is read to find re-routes (one API request each); beyond it, a deterministic sample.
    /// The default keeps the whole pull within --budget-share 0.5 of a 10,000-an-hour tenant.
    #[arg(long, default_value_t = 4_000)]
    history_limit: usize,
    /// This command's share of the tenant's hourly API limit.
    #[arg(long, default_value_t = 0.5)]
    budget_share: f64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    /// The model artifact (`.atm`) written by `model train`.
    #[arg(long)]
    model: PathBuf,
    /// CSV of tickets to classify (a header row; the text columns below).
    #[arg(long)]
    input: PathBuf,
    /// Input columns joined as the ticket's text, comma-separated.
    #[arg(long, default_value = "title,description")]
    text_columns: String,
    /// Column copied to the `id` column of the output (line numbers when absent).
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Output CSV: id,predicted,confidence (never an input; an existing file only if it is such a CSV, or with --force).
    #[arg(long)]
    output: PathBuf,
    /// Replace an existing --output file even if it is not an atpilot predictions file.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The model artifact (`.atm`) written by `model train`.
    #[arg(long)]
    model: PathBuf,
    /// CSV of labelled tickets the model was not trained on (a header row; text and label columns).
    #[arg(long)]
    input: PathBuf,
    /// Input columns joined as the ticket's text, comma-separated.
    #[arg(long, default_value = "title,description")]
    text_columns: String,
    /// Input column holding the true label.
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Print the figures as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn run(c: Command) -> CliResult {
    if let Command::Train(a) = c {
        return if a.autotask.from_autotask {
            train_from_autotask(a).await
        } else {
            tokio::task::spawn_blocking(move || train(a)).await?
        };
    }
    tokio::task::spawn_blocking(move || match c {
        Command::Train(a) => train(a),
        Command::Predict(a) => predict(a),
        Command::Eval(a) => eval(a),
    })
    .await?
}

fn read(input: &Path, text_columns: &str, label: Option<&str>, id: &str) -> Result<Table, ModelError> {
    let cols =
        Columns { text: Columns::parse_list(text_columns), label: label.map(str::to_string), id: id.to_string() };
    load_csv(input, &cols)
}

fn train(a: TrainArgs) -> CliResult {
    let start = Instant::now();
    let input = a.input.as_deref().ok_or("--input FILE.csv (or --from-autotask) is required")?;
    // Refuse before the work, not after: the output may not be the training data or a foreign file.
    output::check(&a.output, &[input], Kind::Model, &[], a.force)?;
    let table = read(input, &a.text_columns, Some(&a.label_column), "id")?;
    let labels = table.labels.clone().unwrap_or_default();
    fit(&a, &table.texts, &labels, None, start)
}

/// Trains on texts and labels (and per-example weights) with the flags' settings and writes the artifact.
fn fit(a: &TrainArgs, texts: &[String], labels: &[String], weights: Option<&[f32]>, start: Instant) -> CliResult {
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

    let bar = if texts.len() >= 2000 {
        let b = indicatif::ProgressBar::new(texts.len() as u64);
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
    let (model, report) = atpilot_model::train_weighted(texts, labels, weights, &cfg, &on_progress)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let bytes = model.to_bytes();
    output::write(&a.output, &a.input.iter().map(PathBuf::as_path).collect::<Vec<_>>(), Kind::Model, &bytes, a.force)?;
    eprintln!(
        "trained on {} tickets ({} labels, {} feature rows, calibrated on {} held-out: accuracy {:.3}, temperature {:.3}, confidence from {}) in {:.2} s; wrote {} ({:.1} MB)",
        report.examples,
        report.labels,
        report.feature_rows,
        report.calibration_examples,
        report.calibration_accuracy,
        report.temperature,
        model.confidence_basis(),
        start.elapsed().as_secs_f64(),
        a.output.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

async fn train_from_autotask(a: TrainArgs) -> CliResult {
    use atpilot_audit::training::{LabelKind, ReroutePolicy, TrainingOptions, collect_training};
    let start = Instant::now();
    output::check(&a.output, &[], Kind::Model, &[], a.force)?;
    let f = &a.autotask;
    let label: LabelKind = f
        .label
        .as_deref()
        .ok_or("--from-autotask needs --label queue|priority|issue-type|sub-issue-type|category")?
        .parse()?;
    if f.autotask_url.is_none() && !f.sandbox {
        return Err("--from-autotask: say where Autotask is: --autotask-url URL (credentials in AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE) or --sandbox".into());
    }
    if !(f.budget_share > 0.0 && f.budget_share <= 1.0) {
        return Err("--budget-share must be in (0, 1]".into());
    }
    let policy = match f.rerouted.as_str() {
        "drop" => ReroutePolicy::Drop,
        "keep" => ReroutePolicy::Keep,
        _ if !(f.rerouted_weight > 0.0 && f.rerouted_weight <= 1.0) => {
            return Err(format!(
                "--rerouted-weight {}: use a weight in (0, 1] (or --rerouted drop)",
                f.rerouted_weight
            )
            .into());
        }
        _ => ReroutePolicy::Downweight(f.rerouted_weight),
    };
    let now = chrono::Utc::now();
    let since = atpilot_audit::parse_since(&f.since, now)?;
    if since >= now {
        return Err(format!("--since {:?} is in the future: use a period like 180d or a past date", f.since).into());
    }
    let sandbox = atpilot_autotask_sandbox::SandboxConfig { tickets: f.sandbox_tickets, ..Default::default() };
    let (client, _sandbox) = crate::cmd::tenant::connect(f.autotask_url.as_deref(), sandbox, f.budget_share).await?;
    let (bar, on_progress) = crate::cmd::tenant::progress_bar(f.quiet);
    let mut opts = TrainingOptions::new(since, now, label);
    opts.history_limit = f.history_limit;
    let set = collect_training(&client, &opts, &on_progress).await.map_err(|e| explain(e, f.autotask_url.is_some()))?;
    bar.finish_and_clear();
    let day = since.format("%Y-%m-%d");
    if set.is_empty() {
        return Err(format!(
            "no tickets to learn from: {} tickets created since {day}, {} without a {}, {} less than an hour old (routing not final yet); try a longer --since",
            set.tickets_read,
            set.unlabelled,
            label.as_str(),
            set.too_recent
        )
        .into());
    }
    eprintln!(
        "read {} tickets created since {day} with {} API requests in {:.1} s: {} labelled by {} ({} without one, {} less than an hour old)",
        set.tickets_read,
        set.api_requests,
        start.elapsed().as_secs_f64(),
        set.len(),
        label.as_str(),
        set.unlabelled,
        set.too_recent
    );
    let rr = set.reroutes.len();
    let what = match policy {
        ReroutePolicy::Drop => "left out (--rerouted drop)".to_string(),
        ReroutePolicy::Downweight(w) => format!("down-weighted to {w} (--rerouted-weight)"),
        ReroutePolicy::Keep => "kept at full weight (--rerouted keep)".to_string(),
    };
    eprintln!(
        "re-routed by hand within an hour of creation: {rr} of {} tickets whose history was read ({:.1}%), {what}",
        set.history_checked,
        100.0 * rr as f64 / set.history_checked.max(1) as f64
    );
    if set.history_checked < set.len() {
        eprintln!(
            "  history read for {} of {} tickets (--history-limit): the other {} could not be checked for re-routes",
            set.history_checked,
            set.len(),
            set.len() - set.history_checked
        );
    }
    for r in set.reroutes.iter().take(5) {
        eprintln!("  {} {:?}: {} \u{2192} {}", r.number, r.title, r.from, r.to);
    }
    if !set.left_out.is_empty() {
        let n: usize = set.left_out.iter().map(|l| l.tickets).sum();
        eprintln!(
            "left out of training: {n} labelled tickets (only tickets worked to completion, with an active label, in a worked queue that is not a triage queue, are learned from):"
        );
        for l in &set.left_out {
            eprintln!("  {:<40} {:>6}  {}", l.label, l.tickets, l.why);
        }
    }
    let (texts, labels, weights) = set.apply(policy);
    tokio::task::spawn_blocking(move || fit(&a, &texts, &labels, weights.as_deref(), start)).await?
}

/// Autotask errors with what to do about them.
fn explain(e: atpilot_audit::collect::CollectError, remote: bool) -> String {
    let atpilot_audit::collect::CollectError::Api { source, .. } = &e;
    let hint = match source {
        atpilot_autotask::Error::Auth { .. } if remote => {
            ": check AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE (an API-only user with its tracking identifier)"
        }
        atpilot_autotask::Error::Forbidden { .. } => {
            ": the API user's security level must allow reading tickets and their history"
        }
        atpilot_autotask::Error::BudgetExhausted { .. } => {
            ": lower --history-limit, raise --budget-share, or shorten --since"
        }
        _ => "",
    };
    format!("{e}{hint}")
}

fn load_model(path: &Path) -> Result<(Model, f64), ModelError> {
    let t = Instant::now();
    let m = Model::load(path)?;
    Ok((m, t.elapsed().as_secs_f64() * 1000.0))
}

fn predict(a: PredictArgs) -> CliResult {
    output::check(&a.output, &[&a.input, &a.model], Kind::Predictions, &[], a.force)?;
    let (model, load_ms) = load_model(&a.model)?;
    let table = read(&a.input, &a.text_columns, None, &a.id_column)?;
    let t = Instant::now();
    let preds = model.predict_batch(&table.texts);
    let predict_ms = t.elapsed().as_secs_f64() * 1000.0;
    let out_err = |e: csv::Error| format!("{}: {e}", a.output.display());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "predicted", "confidence"]).map_err(out_err)?;
    for (id, p) in table.ids.iter().zip(&preds) {
        w.write_record([id.as_str(), p.label.as_str(), &p.confidence.to_string()]).map_err(out_err)?;
    }
    let bytes = w.into_inner().map_err(|e| format!("{}: {e}", a.output.display()))?;
    output::write(&a.output, &[&a.input, &a.model], Kind::Predictions, &bytes, a.force)?;
    eprintln!(
        "loaded model in {load_ms:.1} ms; predicted {} tickets in {predict_ms:.1} ms (one core); wrote {}",
        preds.len(),
        a.output.display()
    );
    Ok(())
}

/// Per predicted label: what an autonomy threshold would let the agent act on at
/// 95% and 98% precision ("never" when no threshold reaches it).
fn print_per_label(rows: &[atpilot_model::metrics::LabelCoverage]) {
    let at = |c: f64, t: f64| {
        // Rounded up: a threshold copied from here never lets in a ticket below the measured one.
        if c > 0.0 {
            format!("{:>6.1}% >= {:.4}", c * 100.0, (t * 1e4).ceil() / 1e4)
        } else {
            format!("{:>18}", "never")
        }
    };
    let width = rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(5).clamp(5, 40);
    println!();
    println!("per predicted label: share it could act on, and the confidence threshold that keeps it right");
    println!(
        "{:<width$}  {:>9}  {:>6}  {:>18}  {:>18}",
        "label", "predicted", "right", "at 95% precision", "at 98% precision"
    );
    for r in rows {
        let label: String = r.label.chars().map(|c| if c.is_control() { '?' } else { c }).take(width).collect();
        let few = if r.predicted < FEW_TICKETS { "  *" } else { "" };
        println!(
            "{label:<width$}  {:>9}  {:>6}  {}  {}{few}",
            r.predicted,
            r.right,
            at(r.coverage_at_95, r.threshold_at_95),
            at(r.coverage_at_98, r.threshold_at_98)
        );
    }
    if rows.iter().any(|r| r.predicted < FEW_TICKETS) {
        println!(
            "* fewer than {FEW_TICKETS} tickets predicted with this label: too few to set a threshold from (one wrong ticket moves it a lot)"
        );
    }
}

/// Below this many predicted tickets a label's threshold is marked as not to be relied on.
const FEW_TICKETS: usize = 20;

fn eval(a: EvalArgs) -> CliResult {
    let (model, load_ms) = load_model(&a.model)?;
    let table = read(&a.input, &a.text_columns, Some(&a.label_column), "id")?;
    let truth = table.labels.clone().unwrap_or_default();
    let t = Instant::now();
    let preds = model.predict_batch(&table.texts);
    let predict_ms = t.elapsed().as_secs_f64() * 1000.0;
    let predicted: Vec<String> = preds.iter().map(|p| p.label.clone()).collect();
    let conf: Vec<f64> = preds.iter().map(|p| p.confidence).collect();
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
    println!("coverage at 98% precision        {:.4}  (confidence >= {:.4})", m.coverage_at_98, m.threshold_at_98);
    println!("expected calibration error (ECE) {:.4}", m.ece);
    println!(
        "distinct confidences             {} of {} (confidence from {})",
        m.distinct_confidences,
        m.n,
        model.confidence_basis()
    );
    print_per_label(&m.per_label);
    if unknown > 0 {
        println!("note: {unknown} tickets carry labels the model never saw (counted as wrong)");
    }
    eprintln!("loaded model in {load_ms:.1} ms; predicted {} tickets in {predict_ms:.1} ms", m.n);
    Ok(())
}
