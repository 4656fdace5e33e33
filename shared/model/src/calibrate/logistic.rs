//! The confidence of a prediction: a logistic model of "this prediction is right"
//! over its [`Evidence`] (the log-odds of the top probability and of the margin over
//! the runner-up, the runner-up's log probability) plus an offset per predicted
//! label, shrunk towards 0 so that a label with few held-out tickets keeps close to
//! the others. Fitted by Newton's method on held-out predictions (penalised
//! log-likelihood, convex); the confidence is strictly increasing in the fitted
//! log-odds, so two tickets share a confidence only when their log-odds tie.

use crate::rank::Evidence;
use serde::{Deserialize, Serialize};

/// Log-odds of being right, computed in f64:
/// `weights · (top_logit, margin_logit, runner_up_ln) + intercept + label_offsets[label]`. Stored as f32 so that the
/// artifact's JSON header reads back to exactly the same values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub weights: [f32; 3],
    pub intercept: f32,
    /// One per label, in the model's label order.
    pub label_offsets: Vec<f32>,
}

/// L2 penalties on the mean log-loss: `evidence` on the three weights and the
/// intercept, `label` on each label offset (larger keeps labels closer together).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Penalties {
    pub evidence: f64,
    pub label: f64,
}

/// Fewer held-out predictions than this fit no confidence map.
pub const MIN_EXAMPLES: usize = 40;

/// Beyond ±`SQUASH_AT` log-odds the confidence approaches 0 or 1 hyperbolically
/// rather than exponentially, so that f64 still tells the most confident tickets
/// apart (σ(10) = 0.99995: beyond it no held-out set of tickets can tell more).
const SQUASH_AT: f64 = 10.0;

impl Logistic {
    /// Fit on held-out predictions' `evidence` and whether each was `correct`,
    /// for `k` labels. `None` below [`MIN_EXAMPLES`] or when `k` does not cover a
    /// label in `evidence`. `use_rest` false learns from the top probability only.
    pub fn fit(evidence: &[Evidence], correct: &[bool], k: usize, pen: Penalties, use_rest: bool) -> Option<Self> {
        if evidence.len() < MIN_EXAMPLES || evidence.len() != correct.len() || evidence.iter().any(|e| e.label >= k) {
            return None;
        }
        let mut fit = Fit::new(evidence, correct, k, pen, use_rest);
        let mut loss = fit.loss();
        for _ in 0..100 {
            let step = fit.newton_step();
            let mut scale = 1.0;
            // backtracking: the full step unless it raises the loss
            let accepted = loop {
                fit.shift(&step, scale);
                let l = fit.loss();
                if l <= loss + 1e-15 {
                    loss = l;
                    break true;
                }
                fit.shift(&step, -scale);
                scale /= 2.0;
                if scale < 1e-6 {
                    break false;
                }
            };
            let size = step.0.iter().chain(&step.1).fold(0.0f64, |m, v| m.max(v.abs())) * scale;
            if !accepted || size < 1e-10 {
                break;
            }
        }
        Some(fit.into_logistic())
    }

    /// The log-odds that a prediction with this evidence is right.
    pub fn log_odds(&self, e: &Evidence) -> f64 {
        let x = [e.top_logit, e.margin_logit, e.runner_up_ln];
        let offset = self.label_offsets.get(e.label).copied().unwrap_or(0.0) as f64;
        self.weights.iter().zip(x).map(|(&w, v)| w as f64 * v).sum::<f64>() + self.intercept as f64 + offset
    }

    /// The calibrated confidence of `log_odds`: σ within ±[`SQUASH_AT`], then a
    /// hyperbolic approach to 0 or 1; strictly increasing, always inside (0, 1).
    pub fn confidence(log_odds: f64) -> f64 {
        let sigma = |z: f64| 1.0 / (1.0 + (-z).exp());
        let tail = sigma(-SQUASH_AT);
        if log_odds.is_nan() {
            0.0
        } else if log_odds > SQUASH_AT {
            1.0 - tail / (1.0 + (log_odds - SQUASH_AT))
        } else if log_odds < -SQUASH_AT {
            tail / (1.0 + (-SQUASH_AT - log_odds))
        } else {
            sigma(log_odds)
        }
    }
}

/// Newton's method state: dense parameters u = (3 weights, intercept), label
/// offsets v. The Hessian's label block is diagonal (each example has one
/// label), so a step solves a 4×4 system (the Schur complement) and then the
/// labels one by one.
struct Fit<'a> {
    x: Vec<[f64; 4]>,
    label: Vec<usize>,
    y: &'a [bool],
    u: [f64; 4],
    v: Vec<f64>,
    pen: Penalties,
}

impl<'a> Fit<'a> {
    fn new(evidence: &[Evidence], y: &'a [bool], k: usize, pen: Penalties, use_rest: bool) -> Self {
        let keep = if use_rest { 1.0 } else { 0.0 };
        let x = evidence.iter().map(|e| [e.top_logit, keep * e.margin_logit, keep * e.runner_up_ln, 1.0]).collect();
        let label = evidence.iter().map(|e| if use_rest { e.label } else { usize::MAX }).collect();
        Self { x, label, y, u: [0.0; 4], v: vec![0.0; k], pen }
    }

    fn z(&self, i: usize) -> f64 {
        let x = &self.x[i];
        let off = self.v.get(self.label[i]).copied().unwrap_or(0.0);
        x.iter().zip(&self.u).map(|(a, b)| a * b).sum::<f64>() + off
    }

    /// Mean log-loss plus the penalties.
    fn loss(&self) -> f64 {
        let n = self.x.len() as f64;
        let data: f64 = (0..self.x.len())
            .map(|i| {
                let z = self.z(i);
                // −ln σ(±z), stably
                let m = if self.y[i] { -z } else { z };
                if m > 0.0 { m + (-m).exp().ln_1p() } else { m.exp().ln_1p() }
            })
            .sum();
        data / n
            + 0.5 * self.pen.evidence * self.u.iter().map(|a| a * a).sum::<f64>()
            + 0.5 * self.pen.label * self.v.iter().map(|a| a * a).sum::<f64>()
    }

    /// The Newton step (to subtract) for (u, v).
    fn newton_step(&self) -> ([f64; 4], Vec<f64>) {
        let n = self.x.len() as f64;
        let k = self.v.len();
        let (mut h_uu, mut g_u) = ([[0.0f64; 4]; 4], [0.0f64; 4]);
        let (mut h_uv, mut d, mut g_v) = (vec![[0.0f64; 4]; k], vec![0.0f64; k], vec![0.0f64; k]);
        for (i, x) in self.x.iter().enumerate() {
            let p = 1.0 / (1.0 + (-self.z(i)).exp());
            let (r, s) = ((p - self.y[i] as u8 as f64) / n, p * (1.0 - p) / n);
            for a in 0..4 {
                g_u[a] += r * x[a];
                for b in 0..4 {
                    h_uu[a][b] += s * x[a] * x[b];
                }
            }
            if let Some(l) = (self.label[i] < k).then_some(self.label[i]) {
                g_v[l] += r;
                d[l] += s;
                (0..4).for_each(|a| h_uv[l][a] += s * x[a]);
            }
        }
        for a in 0..4 {
            g_u[a] += self.pen.evidence * self.u[a];
            h_uu[a][a] += self.pen.evidence;
        }
        for l in 0..k {
            g_v[l] += self.pen.label * self.v[l];
            d[l] += self.pen.label;
        }
        // Schur complement: (H_uu − H_uv D⁻¹ H_vu) du = g_u − H_uv D⁻¹ g_v
        let (mut schur, mut rhs) = (h_uu, g_u);
        for l in 0..k {
            for a in 0..4 {
                rhs[a] -= h_uv[l][a] * g_v[l] / d[l];
                for b in 0..4 {
                    schur[a][b] -= h_uv[l][a] * h_uv[l][b] / d[l];
                }
            }
        }
        let du = solve4(schur, rhs);
        let dv = (0..k).map(|l| (g_v[l] - (0..4).map(|a| h_uv[l][a] * du[a]).sum::<f64>()) / d[l]).collect();
        (du, dv)
    }

    fn shift(&mut self, step: &([f64; 4], Vec<f64>), scale: f64) {
        self.u.iter_mut().zip(&step.0).for_each(|(a, s)| *a -= scale * s);
        self.v.iter_mut().zip(&step.1).for_each(|(a, s)| *a -= scale * s);
    }

    fn into_logistic(self) -> Logistic {
        let f = |v: f64| v as f32;
        Logistic {
            weights: [f(self.u[0]), f(self.u[1]), f(self.u[2])],
            intercept: f(self.u[3]),
            label_offsets: self.v.into_iter().map(f).collect(),
        }
    }
}

/// Solves the symmetric positive definite 4×4 system `a x = b` (Gaussian
/// elimination with partial pivoting; a zero pivot gives 0 for that unknown).
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> [f64; 4] {
    for c in 0..4 {
        let p = (c..4).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        if a[c][c].abs() < 1e-300 {
            continue;
        }
        for r in c + 1..4 {
            let f = a[r][c] / a[c][c];
            let pivot = a[c];
            for (x, p) in a[r].iter_mut().zip(pivot).skip(c) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0f64; 4];
    for c in (0..4).rev() {
        if a[c][c].abs() < 1e-300 {
            continue;
        }
        x[c] = (b[c] - (c + 1..4).map(|j| a[c][j] * x[j]).sum::<f64>()) / a[c][c];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn ev(top: f64, label: usize) -> Evidence {
        Evidence { top_logit: top, margin_logit: top - 1.0, runner_up_ln: -2.0 - top / 2.0, label }
    }

    const PEN: Penalties = Penalties { evidence: 1e-3, label: 1e-2 };

    /// Predictions right with probability σ(1.5·top − 0.5), label 1 right 30
    /// points more often than label 0 at the same evidence.
    fn sample(n: usize, seed: u64) -> (Vec<Evidence>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (mut e, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let top = 4.0 * unit() - 2.0;
            let label = i % 2;
            let z = 1.5 * top - 0.5 + if label == 1 { 1.5 } else { 0.0 };
            e.push(ev(top, label));
            y.push(unit() < 1.0 / (1.0 + (-z).exp()));
        }
        (e, y)
    }

    #[test]
    fn recovers_how_evidence_and_label_predict_being_right() {
        let (e, y) = sample(20_000, 7);
        let l = Logistic::fit(&e, &y, 2, PEN, true).expect("fits");
        // the top logit's effect is spread over the three collinear inputs: compare predictions
        for (top, label) in [(-1.5, 0), (0.0, 0), (1.0, 1), (2.0, 1)] {
            let want = 1.5 * top - 0.5 + if label == 1 { 1.5 } else { 0.0 };
            let got = l.log_odds(&ev(top, label));
            assert!((got - want).abs() < 0.25, "top {top} label {label}: {got} vs {want} ({l:?})");
        }
        assert!(l.label_offsets[1] - l.label_offsets[0] > 1.2, "{l:?}");
    }

    #[test]
    fn a_label_with_few_examples_stays_near_the_others() {
        let (mut e, mut y) = sample(2_000, 3);
        // label 2: three predictions, all right, at low evidence
        for _ in 0..3 {
            e.push(ev(-1.0, 2));
            y.push(true);
        }
        let l = Logistic::fit(&e, &y, 3, PEN, true).expect("fits");
        assert!(l.label_offsets[2].abs() < 0.5, "{l:?}");
        // top probability only: no label offsets, no other weights
        let top_only = Logistic::fit(&e, &y, 3, PEN, false).expect("fits");
        assert_eq!(top_only.label_offsets, vec![0.0; 3]);
        assert_eq!((top_only.weights[1], top_only.weights[2]), (0.0, 0.0));
    }

    #[test]
    fn too_few_or_inconsistent_examples_fit_nothing() {
        let (e, y) = sample(MIN_EXAMPLES - 1, 1);
        assert_eq!(Logistic::fit(&e, &y, 2, PEN, true), None);
        let (e, y) = sample(100, 1);
        assert_eq!(Logistic::fit(&e, &y, 1, PEN, true), None, "a label outside k");
        assert_eq!(Logistic::fit(&e, &y[..99], 2, PEN, true), None);
        // all right: a finite map that says "very likely", not a certainty
        let l = Logistic::fit(&e, &[true; 100], 2, PEN, true).expect("fits");
        let c = Logistic::confidence(l.log_odds(&e[0]));
        assert!(c > 0.9 && c < 1.0, "{c}");
    }

    #[test]
    fn confidence_is_strictly_increasing_and_inside_the_open_interval() {
        let zs: Vec<f64> = (-4000..=4000).map(|i| i as f64 / 10.0).collect();
        let cs: Vec<f64> = zs.iter().map(|&z| Logistic::confidence(z)).collect();
        assert!(cs.windows(2).all(|w| w[0] < w[1]));
        assert!(cs.iter().all(|&c| c > 0.0 && c < 1.0));
        // continuous where σ hands over to the hyperbolic tails
        for at in [SQUASH_AT, -SQUASH_AT] {
            assert!((Logistic::confidence(at + 1e-9) - Logistic::confidence(at - 1e-9)).abs() < 1e-12);
        }
        assert!((Logistic::confidence(0.0) - 0.5).abs() < 1e-15);
    }
}
