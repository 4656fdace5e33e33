//! What a prediction's confidence is computed from.
//!
//! Coverage at 95% precision (how many tickets the agent may act on while right 19
//! times in 20) depends only on how the confidence orders the predictions. The top
//! probability alone is not the best order: on the service-topics data the margin
//! over the runner-up orders correctness better, on assignment-groups the top
//! probability does, and some labels are predicted more reliably than others at
//! the same probability. A prediction's [`Evidence`] therefore holds the log-odds of
//! the top probability, of the margin over the runner-up, the runner-up's log
//! probability and the predicted label; [`crate::calibrate::Logistic`] learns from
//! held-out predictions how they combine into the probability of being right.
//! Every quantity is computed from the raw scores in f64 without saturating, so
//! the most confident tickets keep their order where f32 probabilities would
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// ln(p1 / (1 − p1)).
    pub top_logit: f64,
    /// ln((p1 − p2) / (1 − p1 + p2)).
    pub margin_logit: f64,
    /// ln p2 (the runner-up's probability).
    pub runner_up_ln: f64,
    /// The predicted label's index.
    pub label: usize,
}

/// The evidence for label `best` given the raw linear `scores` and the softmax
/// temperature `t`. Each value is clamped to ±[`EVIDENCE_LIMIT`] so that a score
/// gap beyond what f64 can express stays finite (the order is kept up to it).
pub fn evidence(scores: &[f32], t: f32, best: usize) -> Evidence {
    let lim = |v: f64| if v.is_nan() { 0.0 } else { v.clamp(-EVIDENCE_LIMIT, EVIDENCE_LIMIT) };
    let top = rank_score(scores, t, best, 0.0);
    let margin = rank_score(scores, t, best, 1.0);
    let top_score = scores[best] as f64;
    // ln p2 = ln e2 − ln(1 + rest), with e2 and rest as in rank_score, in log space
    let second = scores
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != best)
        .map(|(_, &s)| (s as f64 - top_score) / t as f64)
        .fold(f64::NEG_INFINITY, f64::max);
    // rest = exp(−top logit); exp(−∞) = 0 when nothing else is left
    let ln_one_plus_rest = (-top.logit).exp().ln_1p();
    Evidence {
        top_logit: lim(top.logit),
        margin_logit: lim(margin.logit),
        runner_up_ln: lim(second - ln_one_plus_rest),
        label: best,
    }
}

/// The bound of every [`Evidence`] value (log-odds beyond it are certainty as far
/// as f64 goes).
pub const EVIDENCE_LIMIT: f64 = 700.0;

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
        assert!((ev.margin_logit - ((p1 - p2) / (1.0 - p1 + p2)).ln()).abs() < 1e-9, "{ev:?}");
        assert!((ev.runner_up_ln - p2.ln()).abs() < 1e-9, "{ev:?}");
        assert_eq!(ev.label, 0);
        // A gap f64 cannot express stays finite, and larger gaps stay larger up to it.
        let far = evidence(&[5000.0, 0.0], 1.0, 0);
        assert!(far.top_logit == EVIDENCE_LIMIT && far.runner_up_ln == -EVIDENCE_LIMIT, "{far:?}");
        assert!(evidence(&[80.0, 0.0], 1.0, 0).top_logit > evidence(&[70.0, 0.0], 1.0, 0).top_logit);
    }
}
