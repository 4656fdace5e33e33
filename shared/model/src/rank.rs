//! The ranking score that confidence is calibrated from.
//!
//! Coverage at 95% precision (how many tickets the agent may act on while right 19
//! times in 20) depends only on how the confidence orders the predictions. The top
//! probability alone is not always the best order: on the service-topics data the
//! margin over the runner-up orders correctness better, on assignment-groups the top
//! probability does. Training therefore scores the held-out calibration examples with
//! each candidate of the family `p1 − w·p2` (w in [`MARGIN_WEIGHTS`]: 0 is the top
//! probability, 1 the top-1 minus top-2 margin) and keeps the weight whose order
//! covers most at high precision ([`choose_margin_weight`]); the isotonic map is then
//! fitted on that score. Every member of the family lies in [0, 1] and is computed
//! from the raw scores in f64 together with its unsaturated log-odds, so the most
//! confident tickets keep their order where f32 probabilities would round to 1.

use crate::metrics::coverage_at_precision;

/// The candidate weights of the runner-up's probability, tried in this order (ties
/// keep the earlier, simpler one).
pub const MARGIN_WEIGHTS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// The precision targets whose coverage [`choose_margin_weight`] averages.
const TARGETS: [f64; 3] = [0.90, 0.95, 0.98];

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

/// The margin weight whose order of the held-out examples covers most at high
/// precision (mean coverage at 90%, 95% and 98% precision); `best` and `correct`
/// are each example's predicted label and whether it was right, `scores` its raw
/// scores (`k` per example, row-major). Returns 0 (the top probability) when
/// nothing is held out.
pub fn choose_margin_weight(scores: &[f32], k: usize, t: f32, best: &[usize], correct: &[bool]) -> f32 {
    let mut chosen = (MARGIN_WEIGHTS[0], f64::NEG_INFINITY);
    for w in MARGIN_WEIGHTS {
        let values: Vec<f64> =
            best.iter().enumerate().map(|(i, &b)| rank_score(&scores[i * k..(i + 1) * k], t, b, w).value).collect();
        let cover = TARGETS.iter().map(|&p| coverage_at_precision(&values, correct, p).0).sum::<f64>();
        if cover > chosen.1 + 1e-12 {
            chosen = (w, cover);
        }
    }
    chosen.0
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
    fn the_weight_that_orders_correctness_is_chosen() {
        // The top probability orders them wrongly (the wrong ones are a little more
        // sure); the runner-up tells the right ones (distant) from the wrong (close).
        let mut scores = Vec::new();
        let mut correct = Vec::new();
        for i in 0..200 {
            let right = i % 2 == 0;
            let p: [f64; 3] = if right { [0.48, 0.30, 0.22] } else { [0.50, 0.45, 0.05] };
            scores.extend(p.map(|v| v.ln() as f32));
            correct.push(right);
        }
        let best = vec![0; 200];
        assert_eq!(choose_margin_weight(&scores, 3, 1.0, &best, &correct), 0.25);
        // Nothing held out: the top probability.
        assert_eq!(choose_margin_weight(&[], 3, 1.0, &[], &[]), 0.0);
    }
}
