//! Training: featurise, prune rare features, train a linear model by averaged SGD with
//! seeded shuffles (or, with `Solver::DualCd`, by exact dual coordinate descent),
//! calibrate on a held-out fold, quantise.
//!
//! Beside the final model (trained on every example), one model per calibration fold
//! is trained without that fold and scores it; those held-out scores fit the
//! temperature and the isotonic map the final model gets. Large sets hold out one
//! share; small ones are cross-fitted (every example is held out once). The models
//! train on two threads when `threads >= 2`; each is deterministic, so the artifact
//! is too.

use crate::calibrate::{fit_temperature, softmax_t, Isotonic};
use crate::features::{idf_value, Counts, FeatureConfig, SparseVec};
use crate::rng::Rng;
use crate::model::{prefetch, PREFETCH_AHEAD};
use crate::{Model, ModelError};
use serde::{Deserialize, Serialize};
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
    /// Cross-fitted calibration for small training sets: with fewer than
    /// `cross_fit_below` trusted examples they are split into this many folds, a
    /// model is trained without each fold and scores it, so that every trusted
    /// example gets a held-out score to calibrate on rather than a held-out share
    /// too small for the isotonic map (measured on 1,000 tickets: expected
    /// calibration error 0.047 → 0.022). Larger sets, or fewer than 2 folds: one
    /// held-out share of `calibration_fraction` (as good there, at half the cost).
    #[serde(default)]
    pub calibration_folds: u32,
    /// Cross-fit below this many trusted examples (see `calibration_folds`).
    #[serde(default)]
    pub cross_fit_below: usize,
    /// Minimum examples per isotonic block.
    pub isotonic_min_block: usize,
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
            calibration_folds: 4,
            cross_fit_below: 3000,
            isotonic_min_block: 40,
            seed: 42,
            threads: 2,
        }
    }
}

/// What training reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// `done` of `total` texts featurised.
    Featurize { done: usize, total: usize },
    /// One epoch of the final model finished.
    Epoch { done: u32, total: u32 },
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
    cfg.features.validate().map_err(ModelError::Invalid)?;
    if texts.len() != labels.len() {
        return Err(ModelError::Invalid(format!("{} texts but {} labels", texts.len(), labels.len())));
    }
    if let Some(w) = weights {
        if w.len() != texts.len() {
            return Err(ModelError::Invalid(format!("{} texts but {} weights", texts.len(), w.len())));
        }
        if let Some(i) = w.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(ModelError::Invalid(format!("example {} has weight {}: weights must be finite and >= 0", i + 1, w[i])));
        }
    }
    // Unit weights are no weights: the same arithmetic, the same bytes.
    let weights = weights.filter(|w| w.iter().any(|x| *x != 1.0));
    if !(0.0..0.9).contains(&cfg.calibration_fraction) || cfg.epochs == 0 || !(cfg.learning_rate > 0.0) {
        return Err(ModelError::Invalid("calibration_fraction in 0..0.9, epochs > 0, learning_rate > 0".into()));
    }
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
    let k = label_list.len();
    let n = texts.len();

    let t0 = std::time::Instant::now();
    // 1. hashed counts, in parallel chunks (order-preserving)
    let counts = featurize_all(&cfg.features, texts, cfg.threads, progress);

    // 2. document frequencies, pruning, idf
    let dim = cfg.features.dim();
    let mut df = vec![0u32; dim];
    for c in &counts {
        for &(i, _) in c.words.iter().chain(&c.chars) {
            df[i as usize] += 1;
        }
    }
    let default_idf = idf_value(n, 0);
    let mut idf = vec![default_idf; dim];
    let mut kept: Vec<u32> = Vec::new();
    for (b, &d) in df.iter().enumerate() {
        if d >= cfg.min_df.max(1) {
            idf[b] = idf_value(n, d);
            kept.push(b as u32);
        }
    }
    // Rows are numbered most frequent first while training, so that the weights
    // most examples touch sit together in cache (the fit mostly waits on memory:
    // this and the prefetch below cut its time by about a fifth); the artifact
    // stores them in bucket order (`in_bucket_order`).
    kept.sort_by_key(|&b| (std::cmp::Reverse(df[b as usize]), b));
    drop(df);
    let mut row_of = vec![u32::MAX; dim];
    for (row, &b) in kept.iter().enumerate() {
        row_of[b as usize] = row as u32;
    }
    let row_idf: Vec<f32> = kept.iter().map(|&b| idf[b as usize]).collect();
    let buckets = kept;
    let r = buckets.len();

    // 3. weighted vectors over rows (features without a row are dropped after normalising)
    let xs: Vec<SparseVec> = map_halves(&counts, cfg.threads, |part| {
        let mut scratch = SparseVec::default();
        part.iter()
            .map(|c| {
                cfg.features.weigh(c, &idf, &mut scratch);
                let keep = scratch.idx.iter().filter(|&&i| row_of[i as usize] != u32::MAX).count();
                let mut out = SparseVec { idx: Vec::with_capacity(keep), val: Vec::with_capacity(keep) };
                for (&i, &x) in scratch.idx.iter().zip(&scratch.val) {
                    let row = row_of[i as usize];
                    if row != u32::MAX {
                        out.idx.push(row);
                        out.val.push(x);
                    }
                }
                out
            })
            .collect()
    });
    drop(counts);
    let featurize_seconds = t0.elapsed().as_secs_f64();

    // 4. calibration folds. Cross-fitted (fewer trusted examples than
    //    `cross_fit_below`): every trusted example (weight >= 1: confidence is
    //    calibrated against trusted labels) falls in one of `calibration_folds`
    //    folds, scored by a model trained without that fold. Otherwise one fold:
    //    the first `calibration_fraction` of trusted examples in a seeded order.
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(cfg.seed ^ 0xCA11_B4A7).shuffle(&mut order);
    let trusted = |i: usize| weights.is_none_or(|w| w[i] >= 1.0);
    let mut folds: Vec<Vec<usize>> = Vec::new();
    if n >= 100 && cfg.calibration_fraction > 0.0 {
        let n_trusted = (0..n).filter(|&i| trusted(i)).count();
        if cfg.calibration_folds >= 2 && n_trusted < cfg.cross_fit_below {
            let kf = cfg.calibration_folds as usize;
            folds = vec![Vec::new(); kf];
            for (j, i) in order.iter().copied().filter(|&i| trusted(i)).enumerate() {
                folds[j % kf].push(i);
            }
        } else {
            let n_cal = (n as f32 * cfg.calibration_fraction) as usize;
            folds.push(order.iter().copied().filter(|&i| trusted(i)).take(n_cal).collect());
        }
        folds.retain(|f| !f.is_empty());
    }
    let mut fold_of = vec![usize::MAX; n];
    for (f, members) in folds.iter().enumerate() {
        for &i in members {
            fold_of[i] = f;
        }
    }
    // job 0 fits every example (the model kept); job 1 + f fits all but fold f
    let mut jobs: Vec<Vec<usize>> = vec![(0..n).collect()];
    for f in 0..folds.len() {
        jobs.push(order.iter().copied().filter(|&i| fold_of[i] != f).collect());
    }

    // 5. fit the jobs; a fold's model only scores its fold and is dropped
    let mk = |w: &Weights| {
        Model::from_float(label_list.clone(), cfg.features.clone(), n, cfg.seed, buckets.clone(), row_idf.clone(), &w.w, w.b.clone())
    };
    let sgd = Sgd { k, rows: r, loss: cfg.loss, epochs: cfg.epochs, lr: cfg.learning_rate, seed: cfg.seed, weights };
    let cd = DualCd { k, rows: r, c: cfg.c, bias: 1.0, max_passes: cfg.epochs, tol: cfg.tol, seed: cfg.seed, weights, threads: cfg.threads };
    let exact = cfg.solver == Solver::DualCd && cfg.loss == Loss::Hinge;
    let xsq: Vec<f32> = if exact { xs.iter().map(|x| x.val.iter().map(|v| v * v).sum::<f32>() + cd.bias * cd.bias).collect() } else { Vec::new() };
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

    let mut model = mk(&full).in_bucket_order();
    let (mut temperature, mut cal_acc) = (1.0f32, f32::NAN);
    let mut isotonic = Isotonic::identity();
    let yc: Vec<u16> = folds.iter().flatten().map(|&i| y[i]).collect();
    let n_cal = yc.len();
    if n_cal > 0 {
        let scores: Vec<f32> = fold_scores.concat();
        temperature = fit_temperature(&scores, k, &yc);
        let mut p = Vec::new();
        let mut conf = Vec::with_capacity(n_cal);
        let mut correct = Vec::with_capacity(n_cal);
        for (j, &yi) in yc.iter().enumerate() {
            softmax_t(&scores[j * k..(j + 1) * k], temperature, &mut p);
            let best = argmax(&p);
            conf.push(p[best]);
            correct.push(best == yi as usize);
        }
        cal_acc = correct.iter().filter(|&&c| c).count() as f32 / n_cal as f32;
        isotonic = Isotonic::fit(&conf, &correct, cfg.isotonic_min_block);
    }
    model.set_calibration(temperature, isotonic);
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

fn argmax(v: &[f32]) -> usize {
    let mut b = 0;
    for i in 1..v.len() {
        if v[i] > v[b] {
            b = i;
        }
    }
    b
}

fn featurize_all(cfg: &FeatureConfig, texts: &[String], threads: usize, progress: &(dyn Fn(Progress) + Sync)) -> Vec<Counts> {
    let total = texts.len();
    let chunk = 2000;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let work = |part: &[String]| -> Vec<Counts> {
        let mut v = Vec::with_capacity(part.len());
        for (i, t) in part.iter().enumerate() {
            v.push(cfg.counts(t));
            if (i + 1) % chunk == 0 {
                let d = done.fetch_add(chunk, std::sync::atomic::Ordering::Relaxed) + chunk;
                progress(Progress::Featurize { done: d.min(total), total });
            }
        }
        v
    };
    let out = map_halves(texts, threads, work);
    progress(Progress::Featurize { done: total, total });
    out
}

/// `f(0)`, …, `f(n - 1)`, in order; with `threads >= 2` two workers take the jobs in
/// turn (each job is deterministic, so the result does not depend on which ran it).
fn map_jobs<U: Send>(n: usize, threads: usize, f: impl Fn(usize) -> U + Sync) -> Vec<U> {
    if threads < 2 || n < 2 {
        return (0..n).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<U>>> = (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let worker = || loop {
        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if j >= n {
            break;
        }
        let u = f(j);
        *slots[j].lock().expect("job slot") = Some(u);
    };
    std::thread::scope(|s| {
        s.spawn(worker);
        worker();
    });
    slots.into_iter().map(|m| m.into_inner().expect("job slot").expect("every job ran")).collect()
}

/// `f` over `items`, in order; on two threads (one half each) when `threads >= 2`
/// and there are enough items to be worth a thread.
fn map_halves<T: Sync, U: Send>(items: &[T], threads: usize, f: impl Fn(&[T]) -> Vec<U> + Sync) -> Vec<U> {
    if threads < 2 || items.len() < 4000 {
        return f(items);
    }
    let mid = items.len() / 2;
    let (mut a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| f(&items[mid..]));
        (f(&items[..mid]), h.join().expect("worker thread"))
    });
    a.extend(b);
    a
}

struct Weights {
    w: Vec<f32>,
    b: Vec<f32>,
}

struct Sgd<'a> {
    k: usize,
    rows: usize,
    loss: Loss,
    epochs: u32,
    lr: f32,
    seed: u64,
    /// Per-example step scale (see [`train_weighted`]).
    weights: Option<&'a [f32]>,
}

impl Sgd<'_> {
    /// SGD over the examples `idx` with a decaying step; returns the average of the
    /// weights at the end of each epoch (cheap Polyak averaging).
    fn run(&self, xs: &[SparseVec], y: &[u16], idx: &[usize], on_epoch: &dyn Fn(u32)) -> Weights {
        let k = self.k;
        let mut w = vec![0.0f32; self.rows * k];
        let mut avg = vec![0.0f32; self.rows * k];
        let mut b = vec![0.0f32; k];
        let mut avg_b = vec![0.0f32; k];
        let mut order = idx.to_vec();
        let mut rng = Rng::new(self.seed);
        let mut step: f32 = 0.0;
        let mut s = vec![0.0f32; k];
        let mut g = vec![0.0f32; k];
        let total_steps = (self.epochs as usize * order.len()).max(1) as f32;
        let bias_lr = 0.1f32;
        let mut snapshots = 0u32;
        for e in 0..self.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let x = &xs[i];
                let yi = y[i] as usize;
                let wi = self.weights.map_or(1.0, |w| w[i]);
                s.copy_from_slice(&b);
                for (j, (&f, &v)) in x.idx.iter().zip(&x.val).enumerate() {
                    if let Some(&ahead) = x.idx.get(j + PREFETCH_AHEAD) {
                        prefetch(&w[ahead as usize * k]);
                    }
                    let row = &w[f as usize * k..f as usize * k + k];
                    for (a, &ww) in s.iter_mut().zip(row) {
                        *a += v * ww;
                    }
                }
                // linearly decaying step size
                let lr = self.lr * (1.0 - 0.9 * step / total_steps);
                step += 1.0;
                if wi == 0.0 {
                    continue;
                }
                // the weighted loss: this example's gradient scaled by its weight
                let lr = lr * wi;
                match self.loss {
                    Loss::Softmax => {
                        let m = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let mut z = 0.0;
                        for (gi, &si) in g.iter_mut().zip(&s) {
                            *gi = (si - m).exp();
                            z += *gi;
                        }
                        let mut any = false;
                        for (j, gi) in g.iter_mut().enumerate() {
                            *gi /= z;
                            if j == yi {
                                *gi -= 1.0;
                            }
                            if gi.abs() < 1e-3 {
                                *gi = 0.0;
                            } else {
                                any = true;
                            }
                        }
                        if !any {
                            continue;
                        }
                        for (&f, &v) in x.idx.iter().zip(&x.val) {
                            let row = &mut w[f as usize * k..f as usize * k + k];
                            for (wj, &gj) in row.iter_mut().zip(&g) {
                                *wj -= lr * gj * v;
                            }
                        }
                        for (bj, &gj) in b.iter_mut().zip(&g) {
                            *bj -= bias_lr * lr * gj;
                        }
                    }
                    Loss::Hinge => {
                        let mut other = usize::MAX;
                        let mut best = f32::NEG_INFINITY;
                        for (j, &sj) in s.iter().enumerate() {
                            if j != yi && sj > best {
                                best = sj;
                                other = j;
                            }
                        }
                        if s[yi] - best >= 1.0 {
                            continue;
                        }
                        for (&f, &v) in x.idx.iter().zip(&x.val) {
                            let base = f as usize * k;
                            w[base + yi] += lr * v;
                            w[base + other] -= lr * v;
                        }
                        b[yi] += bias_lr * lr;
                        b[other] -= bias_lr * lr;
                    }
                }
            }
            // average the end-of-epoch weights of the later epochs
            if 2 * (e + 1) > self.epochs {
                for (a, &wi) in avg.iter_mut().zip(&w) {
                    *a += wi;
                }
                for (a, &bi) in avg_b.iter_mut().zip(&b) {
                    *a += bi;
                }
                snapshots += 1;
            }
            on_epoch(e + 1);
        }
        let inv = 1.0 / snapshots.max(1) as f32;
        avg.iter_mut().for_each(|a| *a *= inv);
        avg_b.iter_mut().for_each(|a| *a *= inv);
        drop(g);
        Weights { w: avg, b: avg_b }
    }
}

impl Model {
    /// Scores of a vector already expressed in row ids (training-time vectors).
    pub(crate) fn scores_rows(&self, x: &SparseVec, out: &mut Vec<f32>) {
        self.scores_of_rows(&x.idx, &x.val, out);
    }
}

/// Exact solver: dual coordinate descent for one-vs-rest L2-regularised L2-loss SVMs
/// (squared hinge), as liblinear's `-s 1` with its shrinking. A block of classes is
/// solved side by side, so that one pass reads each example once for all of them. The
/// bias is an extra constant feature (regularised like the others). Every class is its
/// own problem with its own stopping rule and sees the examples in the same seeded
/// order, so the result does not depend on how classes are grouped into threads.
struct DualCd<'a> {
    k: usize,
    rows: usize,
    /// Cost of a margin violation (per example: times its weight).
    c: f32,
    /// Value of the constant bias feature.
    bias: f32,
    max_passes: u32,
    /// A class stops once the spread of its projected gradients is below this.
    tol: f32,
    seed: u64,
    weights: Option<&'a [f32]>,
    threads: usize,
}

/// The dual variables and the primal weights they imply (`w = Σ α y x`) of the
/// classes `lo..lo + k` (row-major `rows × k`).
#[derive(Clone)]
struct DualState {
    lo: usize,
    k: usize,
    alpha: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
}

impl DualCd<'_> {
    /// Fresh states, one per block of classes (one block per thread).
    fn new_states(&self, n: usize) -> Vec<DualState> {
        let blocks = if self.threads >= 2 && self.k >= 2 { 2 } else { 1 };
        let mut out = Vec::new();
        let mut lo = 0;
        for t in 0..blocks {
            let kk = (self.k - lo) / (blocks - t);
            out.push(DualState { lo, k: kk, alpha: vec![0.0; n * kk], w: vec![0.0; self.rows * kk], b: vec![0.0; kk] });
            lo += kk;
        }
        out
    }

    /// Solve over the examples `idx`, starting from the states (dual variables of
    /// examples outside `idx` are left as they are).
    fn run(&self, xs: &[SparseVec], xsq: &[f32], y: &[u16], idx: &[usize], states: &mut [DualState], on_pass: &(dyn Fn(u32) + Sync)) {
        let order: Vec<usize> = idx.iter().copied().filter(|&i| self.weights.is_none_or(|w| w[i] > 0.0)).collect();
        if states.len() == 1 {
            self.run_block(xs, xsq, y, &order, &mut states[0], on_pass);
        } else {
            std::thread::scope(|sc| {
                let (first, rest) = states.split_first_mut().expect("a block");
                let order = &order;
                let hs: Vec<_> = rest.iter_mut().map(|st| sc.spawn(move || self.run_block(xs, xsq, y, order, st, &|_| {}))).collect();
                self.run_block(xs, xsq, y, order, first, on_pass);
                for h in hs {
                    h.join().expect("training thread");
                }
            });
        }
    }

    fn run_block(&self, xs: &[SparseVec], xsq: &[f32], y: &[u16], order: &[usize], st: &mut DualState, on_pass: &dyn Fn(u32)) {
        let (k, lo) = (st.k, st.lo);
        if k == 0 {
            return;
        }
        let mut order = order.to_vec();
        let mut rng = Rng::new(self.seed ^ 0xD0A1_CD00);
        let n = xs.len();
        // active classes of each example: act[i*k .. i*k + n_act[i]]; a pair leaves when
        // its margin is comfortably met (shrinking) and comes back for a final check
        let mut act: Vec<u16> = Vec::with_capacity(n * k);
        for _ in 0..n {
            act.extend(0..k as u16);
        }
        let mut n_act: Vec<u16> = vec![k as u16; n];
        let mut pg_max_old = vec![f32::INFINITY; k];
        let mut pg_min_old = vec![f32::NEG_INFINITY; k];
        let mut pg_max = vec![0.0f32; k];
        let mut pg_min = vec![0.0f32; k];
        let mut shrunk = vec![false; k];
        let mut done = vec![false; k];
        // a class coming back from shrinking: re-add it to every example's list
        let mut readd: Vec<usize> = Vec::new();
        let mut s = vec![0.0f32; k];
        let mut upd: Vec<(usize, f32)> = Vec::with_capacity(k);
        for pass in 0..self.max_passes {
            rng.shuffle(&mut order);
            if !readd.is_empty() {
                for i in 0..n {
                    let list = &mut act[i * k..i * k + k];
                    let m = n_act[i] as usize;
                    let present: Vec<bool> = {
                        let mut p = vec![false; k];
                        for &j in &list[..m] {
                            p[j as usize] = true;
                        }
                        p
                    };
                    let mut m2 = m;
                    for &j in &readd {
                        if !present[j] {
                            list[m2] = j as u16;
                            m2 += 1;
                        }
                    }
                    n_act[i] = m2 as u16;
                }
                readd.clear();
            }
            pg_max.iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
            pg_min.iter_mut().for_each(|v| *v = f32::INFINITY);
            for &i in &order {
                let x = &xs[i];
                let yi = (y[i] as usize).wrapping_sub(lo);
                let ci = self.c * self.weights.map_or(1.0, |w| w[i]);
                let dii = 0.5 / ci;
                let qd = xsq[i] + dii;
                let list = &mut act[i * k..i * k + k];
                let mut m = n_act[i] as usize;
                if m == 0 {
                    continue;
                }
                if m == k {
                    for (sj, &bj) in s.iter_mut().zip(&st.b) {
                        *sj = bj * self.bias;
                    }
                    for (&f, &v) in x.idx.iter().zip(&x.val) {
                        let row = &st.w[f as usize * k..f as usize * k + k];
                        for (a, &ww) in s.iter_mut().zip(row) {
                            *a += v * ww;
                        }
                    }
                } else {
                    for &j in &list[..m] {
                        s[j as usize] = st.b[j as usize] * self.bias;
                    }
                    for (&f, &v) in x.idx.iter().zip(&x.val) {
                        let row = &st.w[f as usize * k..f as usize * k + k];
                        for &j in &list[..m] {
                            s[j as usize] += v * row[j as usize];
                        }
                    }
                }
                upd.clear();
                let alpha = &mut st.alpha[i * k..i * k + k];
                let mut t = 0;
                while t < m {
                    let j = list[t] as usize;
                    if done[j] {
                        m -= 1;
                        list.swap(t, m);
                        continue;
                    }
                    let yij = if j == yi { 1.0f32 } else { -1.0 };
                    let a = alpha[j];
                    let g = yij * s[j] - 1.0 + dii * a;
                    let mut pg = 0.0;
                    if a == 0.0 {
                        if g > pg_max_old[j] {
                            m -= 1;
                            list.swap(t, m);
                            shrunk[j] = true;
                            continue;
                        } else if g < 0.0 {
                            pg = g;
                        }
                    } else {
                        pg = g;
                    }
                    pg_max[j] = pg_max[j].max(pg);
                    pg_min[j] = pg_min[j].min(pg);
                    if pg != 0.0 {
                        let na = (a - g / qd).max(0.0);
                        if na != a {
                            upd.push((j, (na - a) * yij));
                            alpha[j] = na;
                        }
                    }
                    t += 1;
                }
                n_act[i] = m as u16;
                if upd.is_empty() {
                    continue;
                }
                for (&f, &v) in x.idx.iter().zip(&x.val) {
                    let row = &mut st.w[f as usize * k..f as usize * k + k];
                    for &(j, d) in &upd {
                        row[j] += d * v;
                    }
                }
                for &(j, d) in &upd {
                    st.b[j] += d * self.bias;
                }
            }
            on_pass(pass + 1);
            for j in 0..k {
                if done[j] {
                    continue;
                }
                if pg_max[j] - pg_min[j] <= self.tol || pg_max[j] < pg_min[j] {
                    if !shrunk[j] {
                        done[j] = true;
                        continue;
                    }
                    // converged on the active pairs: check every pair once more
                    shrunk[j] = false;
                    readd.push(j);
                    pg_max_old[j] = f32::INFINITY;
                    pg_min_old[j] = f32::NEG_INFINITY;
                    continue;
                }
                pg_max_old[j] = if pg_max[j] <= 0.0 { f32::INFINITY } else { pg_max[j] };
                pg_min_old[j] = if pg_min[j] >= 0.0 { f32::NEG_INFINITY } else { pg_min[j] };
            }
            if done.iter().all(|&d| d) {
                break;
            }
        }
    }

    /// The primal weights of all classes, row-major `rows × k`.
    fn weights(&self, states: &[DualState]) -> Weights {
        let k = self.k;
        let mut w = vec![0.0f32; self.rows * k];
        let mut b = vec![0.0f32; k];
        for st in states {
            for r in 0..self.rows {
                w[r * k + st.lo..r * k + st.lo + st.k].copy_from_slice(&st.w[r * st.k..(r + 1) * st.k]);
            }
            for j in 0..st.k {
                b[st.lo + j] = st.b[j] * self.bias;
            }
        }
        Weights { w, b }
    }
}
