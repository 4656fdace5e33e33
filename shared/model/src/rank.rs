//! What a prediction's confidence is computed from.
//!
//! Coverage at 95% precision (how many tickets the agent may act on while right 19
//! times in 20) depends only on how the confidence orders the predictions. The top
//! probability alone is not the best order: how far the runner-up trails tells
//! right from wrong as well (on service-topics better than the top probability),
//! and some labels are predicted more reliably than others at the same
//! probability. A prediction's [`Evidence`] therefore holds the log-odds of the
//! top probability, the log ratio of the runner-up's probability to the top one
//! and the predicted label; [`crate::calibrate::Logistic`] learns from held-out
//! predictions how they combine into the probability of being right. Every
//! quantity is computed from the raw scores in f64 log space without saturating,
//! so the most confident tickets keep their order where f32 probabilities would
//! round to 1.
//!
//! [`rank_score`] (p1 − w·p2) is what artifacts of formats 1 and 2 calibrated.

/// The ranking score of one prediction: `value` = p1 − w·p2 in [0, 1] and its
/// log-odds `logit` = ln(value / (1 − value)), computed without saturating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankScore {
    pub value: f64,
    pub logit: f64,
}

/// The ranking score of the label `best` given the raw linear `scores` (one per
/// label), the softmax temperature `t` and the margin weight `w` (0..=1).
///
/// With `rest` = Σ_{j≠best} exp((s_j − s_best)/t) and `e2` its largest term,
/// p1 = 1/(1+rest), p2 = e2/(1+rest), so p1 − w·p2 = (1 − w·e2)/(1 + rest) and its
/// complement is (rest + w·e2)/(1 + rest): the log-odds are
/// ln(1 − w·e2) − ln(rest + w·e2), exact for any margin.
pub fn rank_score(scores: &[f32], t: f32, best: usize, w: f32) -> RankScore {
    let t = t as f64;
    let top = scores[best] as f64;
    let (mut rest, mut e2) = (0.0f64, 0.0f64);
    for (j, &s) in scores.iter().enumerate() {
        if j != best {
            let e = ((s as f64 - top) / t).exp();
            rest += e;
            e2 = e2.max(e);
        }
    }
    let w = w as f64;
    let num = (1.0 - w * e2).max(0.0);
    let value = num / (1.0 + rest);
    let against = rest + w * e2;
    let logit = if against > 0.0 { num.ln() - against.ln() } else { f64::INFINITY };
    RankScore { value: value.clamp(0.0, 1.0), logit }
}

/// What the confidence of one prediction is learned from (see the module docs).
/// Both values are finite for finite scores, and the confidence map is expected
/// to rise with `top_logit` and fall with `runner_up_gap`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// ln(p1 / (1 − p1)), the top probability's log-odds.
    pub top_logit: f64,
    /// ln(p2 / p1) ≤ 0: how far the runner-up trails (0 when they tie).
    pub runner_up_gap: f64,
    /// The predicted label's index.
    pub label: usize,
}

/// The evidence for label `best` given the raw linear `scores` and the softmax
/// temperature `t`, computed in log space (no value saturates or overflows);
/// beyond ±[`EVIDENCE_SOFT_LIMIT`] each grows only logarithmically (still
/// strictly increasing), so that a few extreme tickets cannot dominate the fit.
pub fn evidence(scores: &[f32], t: f32, best: usize) -> Evidence {
    let (t, top) = (t as f64, scores[best] as f64);
    // x_j = (s_j − s_best)/t = ln(p_j / p1) for j ≠ best
    let xs = || scores.iter().enumerate().filter(move |&(j, _)| j != best).map(move |(_, &s)| (s as f64 - top) / t);
    // Non-finite scores (never from a valid artifact): a NaN score, or ∞ − ∞,
    // reads as the weakest evidence (a tie, no lead); infinities keep their
    // direction, softened.
    if xs().any(f64::is_nan) {
        return Evidence { top_logit: 0.0, runner_up_gap: 0.0, label: best };
    }
    let second = xs().fold(f64::NEG_INFINITY, f64::max);
    // ln(1 − p1) − ln p1 = ln Σ_{j≠best} p_j/p1 (log-sum-exp around the largest)
    let ln_rest = if second == f64::NEG_INFINITY {
        f64::NEG_INFINITY // nothing left beside the top label
    } else {
        second + xs().map(|x| (x - second).exp()).sum::<f64>().ln()
    };
    let top_logit = if ln_rest.is_nan() { 0.0 } else { soften(-ln_rest.clamp(-f64::MAX, f64::MAX)) };
    Evidence { top_logit, runner_up_gap: soften(second.clamp(-f64::MAX, f64::MAX)), label: best }
}

/// Where [`evidence`] values start to grow logarithmically.
pub const EVIDENCE_SOFT_LIMIT: f64 = 30.0;

fn soften(v: f64) -> f64 {
    let a = v.abs();
    if a <= EVIDENCE_SOFT_LIMIT { v } else { v.signum() * (EVIDENCE_SOFT_LIMIT + (a - EVIDENCE_SOFT_LIMIT).ln_1p()) }
}

/// How a margin weight ranks, for people: "the top probability",
/// "the margin over the runner-up" or "p1 − 0.50·p2".
pub fn describe(w: f32) -> String {
    if w == 0.0 {
        "the top probability".into()
    } else if w == 1.0 {
        "the margin over the runner-up".into()
    } else {
        format!("p1 − {w:.2}·p2")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_probability_and_margin_match_the_softmax() {
        let s = [2.0f32, 1.0, -1.0];
        let e: Vec<f64> = s.iter().map(|&v| (v as f64).exp()).collect();
        let z: f64 = e.iter().sum();
        let (p1, p2) = (e[0] / z, e[1] / z);
        let top = rank_score(&s, 1.0, 0, 0.0);
        assert!((top.value - p1).abs() < 1e-6, "{top:?}");
        assert!((top.logit - (p1 / (1.0 - p1)).ln()).abs() < 1e-9);
        let margin = rank_score(&s, 1.0, 0, 1.0);
        assert!((margin.value - (p1 - p2)).abs() < 1e-6, "{margin:?}");
        assert!((margin.logit - ((p1 - p2) / (1.0 - p1 + p2)).ln()).abs() < 1e-9);
    }

    #[test]
    fn saturated_scores_keep_their_order_in_the_logit() {
        // Both round to 1.0, the log-odds still tell them apart.
        let a = rank_score(&[60.0, 0.0], 1.0, 0, 0.5);
        let b = rank_score(&[70.0, 0.0], 1.0, 0, 0.5);
        assert_eq!(a.value, b.value);
        assert_eq!(a.value, 1.0);
        assert!(b.logit > a.logit + 9.0, "{a:?} {b:?}");
    }

    #[test]
    fn evidence_matches_the_softmax() {
        let s = [2.0f32, 1.0, -1.0];
        let e: Vec<f64> = s.iter().map(|&v| (v as f64 / 2.0).exp()).collect();
        let z: f64 = e.iter().sum();
        let (p1, p2) = (e[0] / z, e[1] / z);
        let ev = evidence(&s, 2.0, 0);
        assert!((ev.top_logit - (p1 / (1.0 - p1)).ln()).abs() < 1e-9, "{ev:?}");
        assert!((ev.runner_up_gap - (p2 / p1).ln()).abs() < 1e-9, "{ev:?}");
        assert_eq!(ev.label, 0);
        // a tie is a gap of 0, not an infinity
        let tie = evidence(&[1.0, 1.0, 0.0], 1.0, 0);
        assert_eq!(tie.runner_up_gap, 0.0);
        assert!(tie.top_logit.is_finite() && tie.top_logit < 0.0, "{tie:?}");
        // gaps f64 probabilities cannot express stay finite and ordered, softened beyond the limit
        let (a, b) = (evidence(&[5000.0, 0.0], 1.0, 0), evidence(&[6000.0, 0.0], 1.0, 0));
        assert!(
            a.top_logit.is_finite() && b.top_logit > a.top_logit && b.runner_up_gap < a.runner_up_gap,
            "{a:?} {b:?}"
        );
        assert!(a.top_logit < 40.0 && a.runner_up_gap > -40.0, "{a:?}");
        let (c, d) = (evidence(&[29.0, 0.0], 1.0, 0), evidence(&[31.0, 0.0], 1.0, 0));
        assert!((c.top_logit - 29.0).abs() < 1e-9 && d.top_logit > 30.0 && d.top_logit < 31.0, "{c:?} {d:?}");
        // non-finite scores: a certain lead stays the strongest, NaN the weakest
        let inf = evidence(&[f32::INFINITY, 0.0], 1.0, 0);
        assert!(inf.top_logit > 700.0 && inf.top_logit.is_finite() && inf.runner_up_gap < -700.0, "{inf:?}");
        for nan in [[f32::NAN, 0.0], [1.0, f32::NAN], [f32::INFINITY, f32::INFINITY]] {
            let e = evidence(&nan, 1.0, 0);
            assert_eq!((e.top_logit, e.runner_up_gap), (0.0, 0.0), "{nan:?}");
        }
    }
}
