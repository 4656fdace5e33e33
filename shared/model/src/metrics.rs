//! Evaluation figures: accuracy, macro-F1, coverage at a precision target and expected
//! calibration error.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Share of tickets whose confidence clears the threshold at which 95% are right.
    pub coverage_at_95: f64,
    /// That confidence threshold (1.0 when no threshold reaches 95%).
    pub threshold_at_95: f64,
    /// Share of tickets whose confidence clears the threshold at which 98% are right.
    pub coverage_at_98: f64,
    /// That confidence threshold (1.0 when no threshold reaches 98%).
    pub threshold_at_98: f64,
    /// Expected calibration error over 15 equal-width bins of the confidence.
    pub ece: f64,
    /// How many different confidences the predictions carry (ties shrink coverage:
    /// tied tickets are taken or left together).
    pub distinct_confidences: usize,
    /// Per predicted label, what the agent could act on at 95% and 98% precision.
    pub per_label: Vec<LabelCoverage>,
}

/// What an autonomy threshold for one label would let the agent act on: among the
/// tickets predicted as `label`, the share (and count) whose confidence clears the
/// threshold at which 95% (98%) of them are right, with that threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelCoverage {
    pub label: String,
    /// Tickets predicted as this label.
    pub predicted: usize,
    /// Of those, how many were right.
    pub right: usize,
    pub coverage_at_95: f64,
    /// The confidence threshold (1.0 when none reaches 95%: never act alone).
    pub threshold_at_95: f64,
    pub coverage_at_98: f64,
    pub threshold_at_98: f64,
}

/// [`LabelCoverage`] for every predicted label, most predicted first (then by name).
pub fn per_label_coverage(predicted: &[String], correct: &[bool], confidence: &[f64]) -> Vec<LabelCoverage> {
    let mut by_label: BTreeMap<&str, (Vec<f64>, Vec<bool>)> = BTreeMap::new();
    for ((p, &ok), &c) in predicted.iter().zip(correct).zip(confidence) {
        let e = by_label.entry(p.as_str()).or_default();
        e.0.push(c);
        e.1.push(ok);
    }
    let mut rows: Vec<LabelCoverage> = by_label
        .into_iter()
        .map(|(label, (conf, ok))| {
            let (c95, t95) = coverage_at_precision(&conf, &ok, 0.95);
            let (c98, t98) = coverage_at_precision(&conf, &ok, 0.98);
            LabelCoverage {
                label: label.to_string(),
                predicted: conf.len(),
                right: ok.iter().filter(|&&r| r).count(),
                coverage_at_95: c95,
                threshold_at_95: t95,
                coverage_at_98: c98,
                threshold_at_98: t98,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.predicted.cmp(&a.predicted).then_with(|| a.label.cmp(&b.label)));
    rows
}

/// Macro-averaged F1 over every label that is true or predicted at least once.
pub fn macro_f1(truth: &[&str], pred: &[&str]) -> f64 {
    let mut stats: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new(); // tp, fp, fn
    for (&t, &p) in truth.iter().zip(pred) {
        if t == p {
            stats.entry(t).or_default().0 += 1.0;
        } else {
            stats.entry(p).or_default().1 += 1.0;
            stats.entry(t).or_default().2 += 1.0;
        }
    }
    if stats.is_empty() {
        return 0.0;
    }
    let sum: f64 =
        stats.values().map(|&(tp, fp, fnn)| if tp == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fnn) }).sum();
    sum / stats.len() as f64
}

/// Largest share of examples, taken by decreasing confidence (ties together), whose
/// precision is at least `target`; with the confidence threshold that achieves it.
pub fn coverage_at_precision(conf: &[f64], correct: &[bool], target: f64) -> (f64, f64) {
    let n = conf.len();
    if n == 0 {
        return (0.0, 1.0);
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| conf[b].total_cmp(&conf[a]));
    let (mut right, mut best, mut thr) = (0usize, 0usize, 1.0f64);
    let mut i = 0;
    while i < n {
        let c = conf[order[i]];
        while i < n && conf[order[i]] == c {
            right += correct[order[i]] as usize;
            i += 1;
        }
        if right as f64 >= target * i as f64 {
            best = i;
            thr = c;
        }
    }
    (best as f64 / n as f64, thr)
}

/// Expected calibration error with `bins` equal-width bins.
pub fn ece(conf: &[f64], correct: &[bool], bins: usize) -> f64 {
    let n = conf.len();
    if n == 0 {
        return 0.0;
    }
    let mut acc = vec![(0.0f64, 0.0f64, 0usize); bins];
    for (&c, &ok) in conf.iter().zip(correct) {
        let b = ((c * bins as f64) as usize).min(bins - 1);
        acc[b].0 += c;
        acc[b].1 += ok as u8 as f64;
        acc[b].2 += 1;
    }
    acc.iter().filter(|b| b.2 > 0).map(|&(sc, sy, _)| (sc - sy).abs() / n as f64).sum()
}

/// All figures for predictions `(label, confidence)` against the truth.
pub fn evaluate(truth: &[String], predicted: &[String], confidence: &[f64]) -> Metrics {
    let n = truth.len();
    let correct: Vec<bool> = truth.iter().zip(predicted).map(|(t, p)| t == p).collect();
    let t: Vec<&str> = truth.iter().map(String::as_str).collect();
    let p: Vec<&str> = predicted.iter().map(String::as_str).collect();
    let (cov, thr) = coverage_at_precision(confidence, &correct, 0.95);
    let (cov98, thr98) = coverage_at_precision(confidence, &correct, 0.98);
    let distinct: std::collections::BTreeSet<u64> = confidence.iter().map(|c| c.to_bits()).collect();
    Metrics {
        n,
        accuracy: if n == 0 { 0.0 } else { correct.iter().filter(|&&c| c).count() as f64 / n as f64 },
        macro_f1: macro_f1(&t, &p),
        coverage_at_95: cov,
        threshold_at_95: thr,
        coverage_at_98: cov98,
        threshold_at_98: thr98,
        ece: ece(confidence, &correct, 15),
        distinct_confidences: distinct.len(),
        per_label: per_label_coverage(predicted, &correct, confidence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_matches_hand_computation() {
        // A: tp1 fp1 fn1 → 0.5; B: tp1 fp0 fn1 → 2/3; C: tp0 fp1 → 0
        let t = ["A", "A", "B", "B"];
        let p = ["A", "B", "B", "C"];
        let f = macro_f1(&t, &p);
        // A: tp1, fp0 (nothing predicted A wrongly), fn1 → 2/3; B: tp1 fp1 fn1 → 0.5; C: 0
        assert!((f - (2.0 / 3.0 + 0.5 + 0.0) / 3.0).abs() < 1e-9, "{f}");
    }

    #[test]
    fn per_label_coverage_sets_each_label_its_own_threshold() {
        // A: right down to 0.6 then wrong; B: wrong at its top, so it never reaches 95%.
        let predicted: Vec<String> = ["A", "A", "A", "A", "B", "B"].iter().map(|s| s.to_string()).collect();
        let correct = [true, true, true, false, false, true];
        let conf = [0.9, 0.8, 0.6, 0.5, 0.99, 0.7];
        let rows = per_label_coverage(&predicted, &correct, &conf);
        assert_eq!(rows[0].label, "A");
        assert_eq!((rows[0].predicted, rows[0].right), (4, 3));
        assert_eq!(rows[0].coverage_at_95, 0.75);
        assert!((rows[0].threshold_at_95 - 0.6).abs() < 1e-6);
        assert_eq!((rows[1].label.as_str(), rows[1].coverage_at_98, rows[1].threshold_at_98), ("B", 0.0, 1.0));
        let m = evaluate(&["A", "A", "A", "B", "B", "B"].map(String::from), &predicted, &conf);
        assert_eq!(m.distinct_confidences, 6);
        assert_eq!(m.per_label.len(), 2);
    }

    #[test]
    fn coverage_takes_ties_together() {
        let conf = [0.99, 0.98, 0.9, 0.9, 0.5];
        let correct = [true, true, true, false, true];
        let (c, thr) = coverage_at_precision(&conf, &correct, 0.95);
        assert_eq!(c, 0.4);
        assert!((thr - 0.98).abs() < 1e-6);
        let (c, _) = coverage_at_precision(&conf, &correct, 0.75);
        assert_eq!(c, 1.0);
    }

    #[test]
    fn ece_of_perfect_calibration_is_small() {
        let conf = vec![0.8f64; 10];
        let correct: Vec<bool> = (0..10).map(|i| i < 8).collect();
        assert!(ece(&conf, &correct, 15) < 1e-6);
        let correct: Vec<bool> = vec![true; 10];
        assert!((ece(&conf, &correct, 15) - 0.2).abs() < 1e-6);
    }
}
