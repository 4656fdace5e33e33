//! The confidence of a prediction: a logistic model of "this prediction is right"
//! over its [`Evidence`] (the top probability's log-odds, how far the runner-up
//! trails) plus an offset per predicted label, shrunk towards 0 so that a label
//! with few held-out tickets keeps close to the others. Fitted by Newton's method
//! on held-out predictions (penalised log-likelihood, convex). The confidence may
//! not fall as the top probability rises or as the runner-up trails further: a
//! fitted weight of the wrong sign drops that input (the close runner-up's first,
//! the top probability's last) and the fit is redone; with neither left, the labels' record alone is fitted and
//! the top probability keeps a token weight ([`TOKEN_WEIGHT`]) so that tickets
//! still rank by it. The confidence is strictly increasing in the fitted
//! log-odds (to f64's resolution), and two tickets share one only when their
//! log-odds tie.

use crate::rank::Evidence;
use serde::{Deserialize, Serialize};

/// Log-odds of being right, computed in f64: `weights · (top_logit,
/// runner_up_gap, max(runner_up_gap, CLOSE_KNOT)) + intercept + label_offsets[label]`
/// (the third input lets a close runner-up count more than a distant one: on
/// assignment-groups the least confident tickets were right less often than a
/// straight line in the gap said).
/// Stored as f32 so that the artifact's JSON header reads back to exactly the
/// same values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// ≥ 0 on `top_logit`, ≤ 0 on `runner_up_gap` and on its part above [`CLOSE_KNOT`].
    pub weights: [f32; 3],
    pub intercept: f32,
    /// One per label, in the model's label order.
    pub label_offsets: Vec<f32>,
}

/// L2 penalties, each as a number of pseudo-observations (added to the summed
/// log-loss, so their pull fades as held-out tickets accumulate): `evidence` on
/// the three weights and the intercept, `label` on each label offset (larger keeps
/// labels closer together). Both must be finite and > 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Penalties {
    pub evidence: f64,
    pub label: f64,
}

impl Penalties {
    pub fn is_valid(&self) -> bool {
        [self.evidence, self.label].iter().all(|p| p.is_finite() && *p > 0.0)
    }
}

/// Where the runner-up's gap (ln p2/p1) starts to count more: a runner-up
/// within a factor e of the top label.
pub const CLOSE_KNOT: f64 = -1.0;

/// Fewer held-out predictions than this fit no confidence map.
pub const MIN_EXAMPLES: usize = 40;

/// Beyond ±`SQUASH_AT` log-odds the confidence approaches 0 or 1 hyperbolically
/// rather than exponentially, so that f64 still tells the most confident tickets
/// apart (σ(10) = 0.99995: beyond it no held-out set of tickets can tell more).
const SQUASH_AT: f64 = 10.0;

/// The top probability's weight when the held-out tickets show no sensible
/// slope (see the module docs): it orders tickets by the top probability and
/// moves the log-odds by a few hundredths at most.
pub const TOKEN_WEIGHT: f32 = 1e-3;

/// The largest |weight| or |offset| an artifact may carry (a fitted one is a few
/// units; beyond this the log-odds of ordinary tickets would not be finite).
pub const MAX_COEFFICIENT: f32 = 1e6;

impl Logistic {
    /// Fit on held-out predictions' `evidence` and whether each was `correct`,
    /// for `k` labels. `None` below [`MIN_EXAMPLES`], when `k` does not cover a
    /// label in `evidence`, when the penalties are not valid, or when the fit is
    /// not finite or not of a size an artifact may carry. `use_rest` false:
    /// from the top probability only (no runner-up, no label offsets).
    pub fn fit(evidence: &[Evidence], correct: &[bool], k: usize, pen: Penalties, use_rest: bool) -> Option<Self> {
        if evidence.len() < MIN_EXAMPLES
            || evidence.len() != correct.len()
            || evidence.iter().any(|e| e.label >= k)
            || !pen.is_valid()
        {
            return None;
        }
        let mut inputs = [true, use_rest, use_rest];
        let fitted = loop {
            let fitted = Fit::new(evidence, correct, k, pen, inputs, use_rest).run();
            // a dropped input's weight is 0, never wrong
            let w = fitted.weights;
            let wrong = [w[0] < 0.0, w[1] > 0.0, w[2] > 0.0];
            if wrong == [false; 3] && w.iter().any(|w| *w != 0.0) {
                break fitted;
            }
            // one at a time, the close runner-up first, the top probability last
            let order = [2, 1, 0];
            let drop =
                order.into_iter().find(|&i| inputs[i] && wrong[i]).or_else(|| order.into_iter().find(|&i| inputs[i]));
            inputs[drop.unwrap_or(0)] = false;
            if inputs == [false; 3] {
                let mut labels_only = Fit::new(evidence, correct, k, pen, inputs, use_rest).run();
                labels_only.weights[0] = TOKEN_WEIGHT;
                break labels_only;
            }
        };
        // not finite (a NaN weight is never "wrong" above), or too large: no map
        fitted.is_valid(k).then_some(fitted)
    }

    /// The log-odds that a prediction with this evidence is right.
    pub fn log_odds(&self, e: &Evidence) -> f64 {
        let x = inputs(e);
        let offset = self.label_offsets.get(e.label).copied().unwrap_or(0.0) as f64;
        self.weights.iter().zip(x).map(|(&w, v)| w as f64 * v).sum::<f64>() + self.intercept as f64 + offset
    }

    /// The calibrated confidence of `log_odds`: σ within ±[`SQUASH_AT`], then a
    /// hyperbolic approach to 0 or 1; strictly increasing (to f64's resolution),
    /// always inside (0, 1); NaN gives the lowest confidence.
    pub fn confidence(log_odds: f64) -> f64 {
        let tail = sigmoid(-SQUASH_AT);
        let c = if log_odds.is_nan() {
            0.0
        } else if log_odds > SQUASH_AT {
            1.0 - tail / (1.0 + (log_odds - SQUASH_AT))
        } else if log_odds < -SQUASH_AT {
            tail / (1.0 + (-SQUASH_AT - log_odds))
        } else {
            sigmoid(log_odds)
        };
        c.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON)
    }

    /// Whether an artifact's map is usable: finite, of sensible sign and size,
    /// ranking by at least one input, one offset per label.
    pub fn is_valid(&self, k: usize) -> bool {
        let all = || self.weights.iter().chain(&self.label_offsets).chain([&self.intercept]);
        all().all(|v| v.is_finite() && v.abs() <= MAX_COEFFICIENT)
            && self.weights[0] >= 0.0
            && self.weights[1] <= 0.0
            && self.weights[2] <= 0.0
            && (self.weights[0] > 0.0 || self.weights[1] < 0.0 || self.weights[2] < 0.0)
            && self.label_offsets.len() == k
    }
}

/// The weighted inputs of a prediction's log-odds: the top log-odds, the
/// runner-up's gap, and the gap above [`CLOSE_KNOT`].
fn inputs(e: &Evidence) -> [f64; 3] {
    [e.top_logit, e.runner_up_gap, e.runner_up_gap.max(CLOSE_KNOT)]
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Newton's method state: dense parameters u = (3 weights, intercept), label
/// offsets v. The Hessian's label block is diagonal (each example has one
/// label), so a step solves a 4×4 system (the Schur complement) and then the
/// labels one by one.
struct Fit<'a> {
    x: Vec<[f64; D]>,
    label: Vec<usize>,
    y: &'a [bool],
    u: [f64; D],
    v: Vec<f64>,
    /// Penalties per example (the summed loss's penalties over n, as the loss is a mean).
    pen_u: f64,
    pen_v: f64,
}

impl<'a> Fit<'a> {
    fn new(evidence: &[Evidence], y: &'a [bool], k: usize, pen: Penalties, kept: [bool; 3], labels: bool) -> Self {
        let on = |i: usize, v: [f64; 3]| if kept[i] { v[i] } else { 0.0 };
        let x = evidence
            .iter()
            .map(|e| {
                let v = inputs(e);
                [on(0, v), on(1, v), on(2, v), 1.0]
            })
            .collect();
        let label = evidence.iter().map(|e| if labels { e.label } else { usize::MAX }).collect();
        let n = evidence.len() as f64;
        Self { x, label, y, u: [0.0; D], v: vec![0.0; k], pen_u: pen.evidence / n, pen_v: pen.label / n }
    }

    /// Newton's method with backtracking from 0 (stops at a non-finite step; the
    /// caller checks the result with [`Logistic::is_valid`]).
    fn run(mut self) -> Logistic {
        let mut loss = self.loss();
        for _ in 0..100 {
            let step = self.newton_step();
            if !step.0.iter().chain(&step.1).all(|s| s.is_finite()) {
                break;
            }
            let (u0, v0) = (self.u, self.v.clone());
            let mut scale = 1.0;
            let accepted = loop {
                self.u.iter_mut().zip(&u0).zip(&step.0).for_each(|((a, o), s)| *a = o - scale * s);
                self.v.iter_mut().zip(&v0).zip(&step.1).for_each(|((a, o), s)| *a = o - scale * s);
                let l = self.loss();
                if l <= loss {
                    loss = l;
                    break true;
                }
                scale /= 2.0;
                if scale < 1e-6 {
                    (self.u, self.v) = (u0, v0);
                    break false;
                }
            };
            let size = step.0.iter().chain(&step.1).fold(0.0f64, |m, v| m.max(v.abs())) * scale;
            if !accepted || size < 1e-10 {
                break;
            }
        }
        let f = |v: f64| v as f32;
        Logistic {
            weights: [f(self.u[0]), f(self.u[1]), f(self.u[2])],
            intercept: f(self.u[3]),
            label_offsets: self.v.into_iter().map(f).collect(),
        }
    }

    fn z(&self, i: usize) -> f64 {
        let x = &self.x[i];
        let off = self.v.get(self.label[i]).copied().unwrap_or(0.0);
        x.iter().zip(&self.u).map(|(a, b)| a * b).sum::<f64>() + off
    }

    /// Mean log-loss plus the penalties (NaN-free for finite parameters).
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
            + 0.5 * self.pen_u * self.u.iter().map(|a| a * a).sum::<f64>()
            + 0.5 * self.pen_v * self.v.iter().map(|a| a * a).sum::<f64>()
    }

    /// The Newton step (to subtract) for (u, v).
    fn newton_step(&self) -> ([f64; D], Vec<f64>) {
        let n = self.x.len() as f64;
        let k = self.v.len();
        let (mut h_uu, mut g_u) = ([[0.0f64; D]; D], [0.0f64; D]);
        let (mut h_uv, mut d, mut g_v) = (vec![[0.0f64; D]; k], vec![0.0f64; k], vec![0.0f64; k]);
        for (i, x) in self.x.iter().enumerate() {
            let p = sigmoid(self.z(i));
            let (r, s) = ((p - self.y[i] as u8 as f64) / n, p * (1.0 - p) / n);
            for a in 0..D {
                g_u[a] += r * x[a];
                for b in 0..D {
                    h_uu[a][b] += s * x[a] * x[b];
                }
            }
            if let Some(l) = (self.label[i] < k).then_some(self.label[i]) {
                g_v[l] += r;
                d[l] += s;
                (0..D).for_each(|a| h_uv[l][a] += s * x[a]);
            }
        }
        for a in 0..D {
            g_u[a] += self.pen_u * self.u[a];
            h_uu[a][a] += self.pen_u;
        }
        for l in 0..k {
            g_v[l] += self.pen_v * self.v[l];
            d[l] += self.pen_v;
        }
        // Schur complement: (H_uu − H_uv D⁻¹ H_vu) du = g_u − H_uv D⁻¹ g_v (d[l] ≥ pen_v > 0)
        let (mut schur, mut rhs) = (h_uu, g_u);
        for l in 0..k {
            for a in 0..D {
                rhs[a] -= h_uv[l][a] * g_v[l] / d[l];
                for b in 0..D {
                    schur[a][b] -= h_uv[l][a] * h_uv[l][b] / d[l];
                }
            }
        }
        let du = solve(schur, rhs);
        let dv = (0..k).map(|l| (g_v[l] - (0..D).map(|a| h_uv[l][a] * du[a]).sum::<f64>()) / d[l]).collect();
        (du, dv)
    }
}

/// The dense parameters: three weights and the intercept.
const D: usize = 4;

/// Solves the symmetric positive definite N×N system `a x = b` (Gaussian
/// elimination with partial pivoting; a zero pivot gives 0 for that unknown).
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> [f64; N] {
    for c in 0..N {
        let p = (c..N).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        if a[c][c].abs() < 1e-300 {
            continue;
        }
        for r in c + 1..N {
            let f = a[r][c] / a[c][c];
            let pivot = a[c];
            for (x, p) in a[r].iter_mut().zip(pivot).skip(c) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0f64; N];
    for c in (0..N).rev() {
        if a[c][c].abs() < 1e-300 {
            continue;
        }
        x[c] = (b[c] - (c + 1..N).map(|j| a[c][j] * x[j]).sum::<f64>()) / a[c][c];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn ev(top: f64, gap: f64, label: usize) -> Evidence {
        Evidence { top_logit: top, runner_up_gap: gap, label }
    }

    const PEN: Penalties = Penalties { evidence: 5.0, label: 50.0 };

    /// Predictions right with probability σ(1.5·top − 0.5·gap − 0.5), label 1
    /// right more often than label 0 at the same evidence (+1.5 log-odds).
    fn sample(n: usize, seed: u64) -> (Vec<Evidence>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let (mut e, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let (top, gap) = (4.0 * unit() - 2.0, -3.0 * unit());
            let label = i % 2;
            let z = 1.5 * top - 0.5 * gap - 0.5 + if label == 1 { 1.5 } else { 0.0 };
            e.push(ev(top, gap, label));
            y.push(unit() < 1.0 / (1.0 + (-z).exp()));
        }
        (e, y)
    }

    #[test]
    fn recovers_how_evidence_and_label_predict_being_right() {
        let (e, y) = sample(20_000, 7);
        let l = Logistic::fit(&e, &y, 2, PEN, true).expect("fits");
        assert!((l.weights[0] - 1.5).abs() < 0.15 && (l.weights[1] + 0.5).abs() < 0.15, "{l:?}");
        assert!((l.label_offsets[1] - l.label_offsets[0] - 1.5).abs() < 0.25, "{l:?}");
        for (top, gap, label) in [(-1.5, -0.5, 0), (0.0, -2.0, 0), (1.0, -1.0, 1), (2.0, 0.0, 1)] {
            let want = 1.5 * top - 0.5 * gap - 0.5 + if label == 1 { 1.5 } else { 0.0 };
            let got = l.log_odds(&ev(top, gap, label));
            assert!((got - want).abs() < 0.3, "top {top} gap {gap} label {label}: {got} vs {want} ({l:?})");
        }
        assert!(l.is_valid(2));
    }

    #[test]
    fn a_close_runner_up_can_count_more_than_a_distant_one() {
        // right less often when the runner-up is within a factor e: a kink at the knot
        let (e, _) = sample(20_000, 11);
        let mut rng = Rng::new(12);
        let y: Vec<bool> = e
            .iter()
            .map(|x| {
                let z = 1.0 * x.top_logit - 0.3 * x.runner_up_gap - 2.0 * x.runner_up_gap.max(CLOSE_KNOT) - 1.0;
                ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < 1.0 / (1.0 + (-z).exp())
            })
            .collect();
        let l = Logistic::fit(&e, &y, 2, PEN, true).expect("fits");
        assert!((l.weights[2] + 2.0).abs() < 0.3 && (l.weights[1] + 0.3).abs() < 0.3, "{l:?}");
        // and the confidence still falls as the runner-up closes in, on both sides of the knot
        let c = |gap: f64| Logistic::confidence(l.log_odds(&ev(0.5, gap, 0)));
        assert!(c(-3.0) > c(-1.5) && c(-1.5) > c(-1.0) && c(-1.0) > c(-0.5) && c(-0.5) > c(0.0));
    }

    #[test]
    fn a_label_with_few_examples_stays_near_the_others_and_many_examples_are_heard() {
        let (mut e, mut y) = sample(2_000, 3);
        // label 2: three predictions, all right, at low evidence
        for _ in 0..3 {
            e.push(ev(-1.0, -0.2, 2));
            y.push(true);
        }
        let l = Logistic::fit(&e, &y, 3, PEN, true).expect("fits");
        assert!(l.label_offsets[2].abs() < 0.3, "{l:?}");
        // the same label difference with ten times the tickets is shrunk less
        let (e10, y10) = sample(20_000, 3);
        let l10 = Logistic::fit(&e10, &y10, 2, PEN, true).expect("fits");
        let (e1, y1) = sample(2_000, 3);
        let l1 = Logistic::fit(&e1, &y1, 2, PEN, true).expect("fits");
        let spread = |l: &Logistic| l.label_offsets[1] - l.label_offsets[0];
        assert!(spread(&l10) > spread(&l1), "{l10:?} vs {l1:?}");
        // top probability only: no label offsets, no runner-up weight
        let top_only = Logistic::fit(&e, &y, 3, PEN, false).expect("fits");
        assert_eq!(top_only.label_offsets, vec![0.0; 3]);
        assert_eq!((top_only.weights[1], top_only.weights[2]), (0.0, 0.0));
    }

    #[test]
    fn an_input_of_the_wrong_sign_is_dropped_and_with_none_left_there_is_no_map() {
        // right more often when the runner-up is close: a nonsense the map must not learn
        let (e, _) = sample(4_000, 5);
        let y: Vec<bool> = e.iter().map(|x| x.top_logit > 0.0 || x.runner_up_gap > -0.3).collect();
        let l = Logistic::fit(&e, &y, 2, PEN, true).expect("fits on the top probability");
        assert!(l.weights[0] > 0.0 && l.weights[1] == 0.0 && l.weights[2] == 0.0, "{l:?}");
        // right more often the lower the top probability and the closer the runner-up:
        // nothing sensible to rank by, so the labels' record with a token weight
        let y: Vec<bool> =
            e.iter().enumerate().map(|(i, x)| x.top_logit < 0.0 && (x.runner_up_gap > -1.5 || i % 2 == 1)).collect();
        let l = Logistic::fit(&e, &y, 2, PEN, true).expect("a map of the labels' record");
        assert_eq!(l.weights, [TOKEN_WEIGHT, 0.0, 0.0]);
        let rate = |label: usize| {
            let (n, r) = e
                .iter()
                .zip(&y)
                .filter(|(x, _)| x.label == label)
                .fold((0, 0), |(n, r), (_, &c)| (n + 1, r + c as usize));
            r as f64 / n as f64
        };
        for label in [0, 1] {
            let c = Logistic::confidence(l.log_odds(&ev(0.0, -1.0, label)));
            assert!((c - rate(label)).abs() < 0.03, "label {label}: {c} vs {}", rate(label));
        }
        assert!(l.is_valid(2));
    }

    #[test]
    fn an_artifact_map_of_wrong_sign_size_or_shape_is_not_valid() {
        let good = Logistic { weights: [0.5, -0.2, -0.1], intercept: 0.1, label_offsets: vec![0.0, 0.3] };
        assert!(good.is_valid(2));
        assert!(!good.is_valid(3), "one offset per label");
        for bad in
            [[-0.1, -0.2, 0.0], [0.5, 0.1, 0.0], [0.5, 0.0, 0.1], [0.0; 3], [f32::NAN, -0.2, 0.0], [2e6, -0.2, 0.0]]
        {
            assert!(!Logistic { weights: bad, ..good.clone() }.is_valid(2), "{bad:?}");
        }
        assert!(!Logistic { intercept: f32::INFINITY, ..good.clone() }.is_valid(2));
        assert!(!Logistic { label_offsets: vec![0.0, -3e6], ..good }.is_valid(2));
    }

    #[test]
    fn too_few_inconsistent_or_unpenalised_examples_fit_nothing() {
        let (e, y) = sample(MIN_EXAMPLES - 1, 1);
        assert_eq!(Logistic::fit(&e, &y, 2, PEN, true), None);
        let (e, y) = sample(100, 1);
        assert_eq!(Logistic::fit(&e, &y, 1, PEN, true), None, "a label outside k");
        assert_eq!(Logistic::fit(&e, &y[..99], 2, PEN, true), None);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Logistic::fit(&e, &y, 2, Penalties { label: bad, ..PEN }, true), None);
            assert_eq!(Logistic::fit(&e, &y, 2, Penalties { evidence: bad, ..PEN }, true), None);
        }
        // a label never predicted keeps an offset of 0
        let l = Logistic::fit(&e, &y, 5, PEN, true).expect("fits");
        assert_eq!(&l.label_offsets[2..], &[0.0; 3]);
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
        for z in [1e300, -1e300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            let c = Logistic::confidence(z);
            assert!(c > 0.0 && c < 1.0, "{z}: {c}");
        }
        // continuous where σ hands over to the hyperbolic tails
        for at in [SQUASH_AT, -SQUASH_AT] {
            assert!((Logistic::confidence(at + 1e-9) - Logistic::confidence(at - 1e-9)).abs() < 1e-12);
        }
        assert!((Logistic::confidence(0.0) - 0.5).abs() < 1e-15);
    }
}
