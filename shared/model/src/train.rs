//! Training: featurise, prune rare features, train a linear model by averaged SGD with
//! seeded shuffles, calibrate on a held-out fold, quantise.
//!
//! Two models train side by side (two threads when `threads >= 2`): one on the fit part
//! only, whose held-out scores fit the temperature and the isotonic map, and the final
//! one on every example, which gets that calibration. Each is deterministic, so the
//! artifact is too.

use crate::calibrate::{fit_temperature, softmax_t, Isotonic};
use crate::features::{idf_value, Counts, FeatureConfig, SparseVec};
use crate::rng::Rng;
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    pub loss: Loss,
    pub epochs: u32,
    pub learning_rate: f32,
    /// A feature bucket must occur in this many training texts to get weights.
    pub min_df: u32,
    /// Share of examples held out to calibrate (0 disables calibration).
    pub calibration_fraction: f32,
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
            epochs: 8,
            learning_rate: 0.2,
            min_df: 2,
            calibration_fraction: 0.15,
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
    let mut row_of = vec![u32::MAX; dim];
    let mut buckets = Vec::new();
    let mut row_idf = Vec::new();
    for (b, &d) in df.iter().enumerate() {
        if d >= cfg.min_df.max(1) {
            let f = idf_value(n, d);
            idf[b] = f;
            row_of[b] = buckets.len() as u32;
            buckets.push(b as u32);
            row_idf.push(f);
        }
    }
    drop(df);
    let r = buckets.len();

    // 3. weighted vectors over rows (features without a row are dropped after normalising)
    let mut scratch = SparseVec::default();
    let xs: Vec<SparseVec> = counts
        .iter()
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
        .collect();
    drop(counts);
    let featurize_seconds = t0.elapsed().as_secs_f64();

    // 4. split off the calibration fold
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(cfg.seed ^ 0xCA11_B4A7).shuffle(&mut order);
    let n_cal = if n >= 100 { (n as f32 * cfg.calibration_fraction) as usize } else { 0 };
    let (cal_idx, fit_idx): (Vec<usize>, Vec<usize>) = match weights {
        None => {
            let (c, f) = order.split_at(n_cal);
            (c.to_vec(), f.to_vec())
        }
        Some(w) => {
            // the first n_cal trusted examples of the shuffled order; the rest (in order) fit
            let mut cal = Vec::with_capacity(n_cal);
            let mut fit = Vec::with_capacity(n - n_cal.min(n));
            for &i in &order {
                if cal.len() < n_cal && w[i] >= 1.0 { cal.push(i) } else { fit.push(i) }
            }
            (cal, fit)
        }
    };
    let n_cal = cal_idx.len();
    let (cal_idx, fit_idx) = (&cal_idx[..], &fit_idx[..]);
    let all_idx: Vec<usize> = (0..n).collect();

    // 5. train the calibration model and the final model
    let sgd = Sgd { k, rows: r, loss: cfg.loss, epochs: cfg.epochs, lr: cfg.learning_rate, seed: cfg.seed, weights };
    let epoch_cb = |e: u32| progress(Progress::Epoch { done: e, total: cfg.epochs });
    let (full, cal_model) = if n_cal > 0 && cfg.threads >= 2 {
        std::thread::scope(|s| {
            let h = s.spawn(|| sgd.run(&xs, &y, fit_idx, &|_| {}));
            let full = sgd.run(&xs, &y, &all_idx, &epoch_cb);
            (full, Some(h.join().expect("training thread")))
        })
    } else {
        let full = sgd.run(&xs, &y, &all_idx, &epoch_cb);
        let cal = (n_cal > 0).then(|| sgd.run(&xs, &y, fit_idx, &|_| {}));
        (full, cal)
    };
    progress(Progress::Calibrate);
    let fit_seconds = t0.elapsed().as_secs_f64() - featurize_seconds;

    let mk = |w: &Weights| {
        Model::from_float(label_list.clone(), cfg.features.clone(), n, cfg.seed, buckets.clone(), row_idf.clone(), &w.w, w.b.clone())
    };
    let mut model = mk(&full);
    let (mut temperature, mut cal_acc) = (1.0f32, f32::NAN);
    let mut isotonic = Isotonic::identity();
    if let Some(cm) = cal_model {
        let cm = mk(&cm);
        let mut scores = Vec::with_capacity(n_cal * k);
        let mut s = Vec::new();
        let yc: Vec<u16> = cal_idx.iter().map(|&i| y[i]).collect();
        for &i in cal_idx {
            cm.scores_rows(&xs[i], &mut s);
            scores.extend_from_slice(&s);
        }
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
    let mut out: Vec<Counts> = Vec::with_capacity(total);
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
    if threads >= 2 && total >= 4000 {
        let mid = total / 2;
        let (a, b) = std::thread::scope(|s| {
            let h = s.spawn(|| work(&texts[mid..]));
            let a = work(&texts[..mid]);
            (a, h.join().expect("featurize thread"))
        });
        out.extend(a);
        out.extend(b);
    } else {
        out = work(texts);
    }
    progress(Progress::Featurize { done: total, total });
    out
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
                for (&f, &v) in x.idx.iter().zip(&x.val) {
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
        let k = self.labels.len();
        out.clear();
        out.extend_from_slice(&self.bias);
        for (&r, &v) in x.idx.iter().zip(&x.val) {
            let r = r as usize;
            let a = v * self.scales[r];
            for (o, &w) in out.iter_mut().zip(&self.weights[r * k..(r + 1) * k]) {
                *o += a * w as f32;
            }
        }
    }
}
