//! Training: featurise, prune rare features, train a linear model by averaged SGD with
//! seeded shuffles (or, with `Solver::DualCd`, by exact dual coordinate descent),
//! calibrate on held-out predictions, quantise.
//!
//! Beside the final model (trained on every example), one model per calibration fold
//! is trained without that fold and scores it; those held-out scores fit the
//! temperature and the confidence map ([`crate::calibrate::Logistic`]) the final
//! model gets. Sets of fewer than `cross_fit_below` trusted examples are cross-fitted
//! (every example is held out once); larger ones hold out one share. The models
//! train on two threads when `threads >= 2`; each is deterministic, so the artifact
//! is too.
//!
//! * this room: the configuration, the report and the steps of
//!   [`train_weighted`] (inputs, labels, the fit of every job, calibration);
//! * `rows`: document frequencies, pruning, idf and the vectors over rows;
//! * `folds`: the calibration folds and the jobs fitted without each;
//! * `sgd`: averaged SGD; `dual_cd`: the exact dual coordinate descent;
//! * `parallel`: featurising and the jobs on one or two threads, in order.

mod dual_cd;
mod folds;
mod parallel;
mod rows;
mod sgd;

use crate::calibrate::{Logistic, Penalties, fit_temperature};
use crate::features::FeatureConfig;
use crate::rank::evidence;
use crate::{Model, ModelError};
use dual_cd::DualCd;
use folds::{calibration_folds, fold_jobs};
use parallel::{featurize_all, map_jobs};
use rows::{FeatureRows, prune_features, row_vectors};
use serde::{Deserialize, Serialize};
use sgd::{Sgd, Weights};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// Multinomial logistic regression.
    Softmax,
    /// Multi-class hinge (Crammer–Singer style): an averaged large-margin perceptron.
    Hinge,
}

/// How the linear model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Solver {
    /// Averaged SGD for `epochs` passes at `learning_rate` (the default: on the
    /// benchmark's 5-fold CV it was both more accurate and faster than the exact solver).
    Sgd,
    /// Exact: dual coordinate descent for one-vs-rest L2-loss SVMs (liblinear `-s 1`),
    /// at most `epochs` passes; `Loss::Softmax` still trains by SGD.
    DualCd,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    pub loss: Loss,
    pub solver: Solver,
    /// SGD: passes over the data; dual coordinate descent: at most this many passes.
    pub epochs: u32,
    /// Dual coordinate descent: cost of a margin violation (inverse regularisation).
    pub c: f32,
    /// Dual coordinate descent: stop once every projected gradient is below this.
    pub tol: f32,
    pub learning_rate: f32,
    /// A feature bucket must occur in this many training texts to get weights.
    pub min_df: u32,
    /// Share of trusted examples held out to calibrate when calibration is not
    /// cross-fitted (see `calibration_folds`); 0 disables calibration either way.
    pub calibration_fraction: f32,
    /// Cross-fitted calibration: with fewer than `cross_fit_below` trusted
    /// examples they are split into this many folds, a model is trained without
    /// each fold and scores it, so that every trusted example gets a held-out
    /// score to calibrate on rather than a held-out share (measured on 1,000
    /// tickets: expected calibration error 0.047 → 0.022; on assignment-groups'
    /// 5,000 the per-label offsets need the whole set). Larger sets, or fewer than
    /// 2 folds: one held-out share of `calibration_fraction` (thousands of
    /// examples, enough, at a fraction of the cost).
    #[serde(default)]
    pub calibration_folds: u32,
    /// Cross-fit below this many trusted examples (see `calibration_folds`).
    #[serde(default)]
    pub cross_fit_below: usize,
    /// Learn the confidence from how far the runner-up trails and the predicted
    /// label as well as the top probability (see [`crate::rank`]); false: from
    /// the top probability only.
    #[serde(default = "yes")]
    pub choose_ranking: bool,
    /// The L2 penalties of the confidence map (see [`Penalties`]).
    #[serde(default = "default_penalties")]
    pub confidence_penalties: Penalties,
    pub seed: u64,
    /// Worker threads (1 or 2); the result does not depend on it.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            loss: Loss::Hinge,
            solver: Solver::Sgd,
            epochs: 8,
            c: 1.0,
            tol: 0.1,
            learning_rate: 0.2,
            min_df: 2,
            calibration_fraction: 0.15,
            calibration_folds: 5,
            cross_fit_below: 50_000,
            choose_ranking: true,
            confidence_penalties: default_penalties(),
            seed: 42,
            threads: 2,
        }
    }
}

fn yes() -> bool {
    true
}

/// Measured on `scripts/bench-model --folds 5` (assignment-groups, 56 labels,
/// about 5,000 held-out tickets per model): a label penalty of 20 to 100
/// pseudo-observations covers 0.32–0.33 of tickets at 95% precision against
/// 0.29 without label offsets.
fn default_penalties() -> Penalties {
    Penalties { evidence: 5.0, label: 50.0 }
}

/// What training reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// `done` of `total` texts featurised.
    Featurize {
        done: usize,
        total: usize,
    },
    /// One epoch of the final model finished.
    Epoch {
        done: u32,
        total: u32,
    },
    Calibrate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    pub examples: usize,
    pub labels: usize,
    pub feature_rows: usize,
    pub calibration_examples: usize,
    pub temperature: f32,
    /// Accuracy of the fit-part model on the calibration fold.
    pub calibration_accuracy: f32,
    /// Label counts, in label order.
    pub label_counts: Vec<(String, usize)>,
    /// Wall time spent reading features and fitting (informative only).
    pub featurize_seconds: f64,
    pub fit_seconds: f64,
}

/// Train on `texts` with `labels` (same length).
pub fn train(
    texts: &[String],
    labels: &[String],
    cfg: &TrainConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(Model, TrainReport), ModelError> {
    train_weighted(texts, labels, None, cfg, progress)
}

/// [`train`] with a weight per example (same length as `texts`): each SGD
/// update of an example is scaled by its weight (a weighted loss), so a
/// ticket with weight 0.25 pulls the model a quarter as hard as one with
/// weight 1. Weights must be finite and ≥ 0; a weight of 0 leaves the
/// example out of the fit. Only examples with weight ≥ 1 go into the
/// calibration fold (confidence is calibrated against trusted labels).
/// `None`, or all weights 1, trains exactly as [`train`] does (same bytes).
pub fn train_weighted(
    texts: &[String],
    labels: &[String],
    weights: Option<&[f32]>,
    cfg: &TrainConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(Model, TrainReport), ModelError> {
    let weights = check_inputs(texts, labels, weights, cfg)?;
    let LabelIndex { counts: counts_by_label, list: label_list, y } = index_labels(labels)?;
    let k = label_list.len();
    let n = texts.len();

    let t0 = std::time::Instant::now();
    // 1. hashed counts, in parallel chunks (order-preserving)
    let counts = featurize_all(&cfg.features, texts, cfg.threads, progress);

    // 2. document frequencies, pruning, idf
    let rows = prune_features(&counts, n, cfg);
    let r = rows.buckets.len();

    // 3. weighted vectors over rows (features without a row are dropped after normalising)
    let xs = row_vectors(&counts, &rows, cfg);
    drop(counts);
    let FeatureRows { buckets, row_idf, .. } = rows;
    let featurize_seconds = t0.elapsed().as_secs_f64();

    // 4. calibration folds, and the jobs: job 0 fits every example (the model
    //    kept); job 1 + f fits all but fold f
    let (order, folds) = calibration_folds(n, weights, cfg);
    let jobs = fold_jobs(n, &order, &folds);

    // 5. fit the jobs; a fold's model only scores its fold and is dropped
    let mk = |w: &Weights| {
        Model::from_float(
            label_list.clone(),
            cfg.features.clone(),
            n,
            cfg.seed,
            buckets.clone(),
            row_idf.clone(),
            &w.w,
            w.b.clone(),
        )
    };
    let sgd = Sgd { k, rows: r, loss: cfg.loss, epochs: cfg.epochs, lr: cfg.learning_rate, seed: cfg.seed, weights };
    let cd = DualCd {
        k,
        rows: r,
        c: cfg.c,
        bias: 1.0,
        max_passes: cfg.epochs,
        tol: cfg.tol,
        seed: cfg.seed,
        weights,
        threads: cfg.threads,
    };
    let exact = cfg.solver == Solver::DualCd && cfg.loss == Loss::Hinge;
    let xsq: Vec<f32> = if exact {
        xs.iter().map(|x| x.val.iter().map(|v| v * v).sum::<f32>() + cd.bias * cd.bias).collect()
    } else {
        Vec::new()
    };
    let epoch_cb = |e: u32| progress(Progress::Epoch { done: e, total: cfg.epochs });
    let quiet = |_: u32| {};
    let fit = |j: usize| -> Weights {
        let cb: &(dyn Fn(u32) + Sync) = if j == 0 { &epoch_cb } else { &quiet };
        if exact {
            let mut st = cd.new_states(n);
            cd.run(&xs, &xsq, &y, &jobs[j], &mut st, cb);
            cd.weights(&st)
        } else {
            sgd.run(&xs, &y, &jobs[j], cb)
        }
    };
    let held_out_scores = |f: usize, w: &Weights| -> Vec<f32> {
        let m = mk(w);
        let mut out = Vec::with_capacity(folds[f].len() * k);
        let mut s = Vec::new();
        for &i in &folds[f] {
            m.scores_rows(&xs[i], &mut s);
            out.extend_from_slice(&s);
        }
        out
    };
    // job 0 keeps its weights; a fold's job keeps only its held-out scores
    let threads = if exact { 1 } else { cfg.threads };
    let mut done = map_jobs(jobs.len(), threads, |j| {
        let w = fit(j);
        if j == 0 { (Some(w), Vec::new()) } else { (None, held_out_scores(j - 1, &w)) }
    });
    let fold_scores: Vec<Vec<f32>> = done.iter_mut().skip(1).map(|d| std::mem::take(&mut d.1)).collect();
    let full = done.swap_remove(0).0.expect("job 0 is the full model");
    progress(Progress::Calibrate);
    let fit_seconds = t0.elapsed().as_secs_f64() - featurize_seconds;

    // 6. calibrate the final model on the held-out scores
    let mut model = mk(&full).in_bucket_order();
    let (temperature, cal_acc, n_cal) = calibrate(&mut model, &folds, &fold_scores, &y, k, cfg);
    let report = TrainReport {
        examples: n,
        labels: k,
        feature_rows: r,
        calibration_examples: n_cal,
        temperature,
        calibration_accuracy: cal_acc,
        label_counts: counts_by_label.iter().map(|(l, &c)| (l.to_string(), c)).collect(),
        featurize_seconds,
        fit_seconds,
    };
    Ok((model, report))
}

/// Checks the inputs and the configuration; returns the weights that matter
/// (`None` when every weight is 1).
fn check_inputs<'w>(
    texts: &[String],
    labels: &[String],
    weights: Option<&'w [f32]>,
    cfg: &TrainConfig,
) -> Result<Option<&'w [f32]>, ModelError> {
    cfg.features.validate().map_err(ModelError::Invalid)?;
    if texts.len() != labels.len() {
        return Err(ModelError::Invalid(format!("{} texts but {} labels", texts.len(), labels.len())));
    }
    if let Some(w) = weights {
        if w.len() != texts.len() {
            return Err(ModelError::Invalid(format!("{} texts but {} weights", texts.len(), w.len())));
        }
        if let Some(i) = w.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(ModelError::Invalid(format!(
                "example {} has weight {}: weights must be finite and >= 0",
                i + 1,
                w[i]
            )));
        }
    }
    // Unit weights are no weights: the same arithmetic, the same bytes.
    let weights = weights.filter(|w| w.iter().any(|x| *x != 1.0));
    if !cfg.confidence_penalties.is_valid() {
        return Err(ModelError::Invalid(format!(
            "confidence penalties {:?}: each must be finite and > 0",
            cfg.confidence_penalties
        )));
    }
    if !(0.0..0.9).contains(&cfg.calibration_fraction)
        || cfg.epochs == 0
        || cfg.learning_rate.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
    {
        return Err(ModelError::Invalid("calibration_fraction in 0..0.9, epochs > 0, learning_rate > 0".into()));
    }
    Ok(weights)
}

/// The labels in sorted order with their counts, and each example's label index.
struct LabelIndex<'a> {
    counts: BTreeMap<&'a str, usize>,
    list: Vec<String>,
    y: Vec<u16>,
}

fn index_labels(labels: &[String]) -> Result<LabelIndex<'_>, ModelError> {
    let mut counts_by_label: BTreeMap<&str, usize> = BTreeMap::new();
    for l in labels {
        *counts_by_label.entry(l.as_str()).or_default() += 1;
    }
    if counts_by_label.len() < 2 {
        return Err(ModelError::TooFewLabels { found: counts_by_label.len() });
    }
    let label_list: Vec<String> = counts_by_label.keys().map(|s| s.to_string()).collect();
    let label_index: BTreeMap<&str, u16> = label_list.iter().enumerate().map(|(i, l)| (l.as_str(), i as u16)).collect();
    let y: Vec<u16> = labels.iter().map(|l| label_index[l.as_str()]).collect();
    Ok(LabelIndex { counts: counts_by_label, list: label_list, y })
}

/// Fits the temperature and the confidence map on the held-out scores of the
/// calibration folds and gives them to `model`; returns the temperature, the
/// accuracy on the folds and how many examples they hold.
fn calibrate(
    model: &mut Model,
    folds: &[Vec<usize>],
    fold_scores: &[Vec<f32>],
    y: &[u16],
    k: usize,
    cfg: &TrainConfig,
) -> (f32, f32, usize) {
    let yc: Vec<u16> = folds.iter().flatten().map(|&i| y[i]).collect();
    let n_cal = yc.len();
    if n_cal == 0 {
        model.set_calibration(1.0, None);
        return (1.0, f32::NAN, 0);
    }
    let scores: Vec<f32> = fold_scores.concat();
    let temperature = fit_temperature(&scores, k, &yc);
    let best: Vec<usize> = scores.chunks_exact(k).map(argmax).collect();
    let correct: Vec<bool> = best.iter().zip(&yc).map(|(&b, &yi)| b == yi as usize).collect();
    let cal_acc = correct.iter().filter(|&&c| c).count() as f32 / n_cal as f32;
    let ev: Vec<_> =
        best.iter().enumerate().map(|(j, &b)| evidence(&scores[j * k..(j + 1) * k], temperature, b)).collect();
    let logistic = Logistic::fit(&ev, &correct, k, cfg.confidence_penalties, cfg.choose_ranking);
    model.set_calibration(temperature, logistic);
    (temperature, cal_acc, n_cal)
}

fn argmax(v: &[f32]) -> usize {
    let mut b = 0;
    for i in 1..v.len() {
        if v[i] > v[b] {
            b = i;
        }
    }
    b
}
