//! What each category could do on its own: from the prior 30 days of approval
//! outcomes, the confidence threshold at which the agent's proposals were
//! approved 95% (98%) of the time and the share of requests that clear it — the
//! threshold a category would need to go autonomous safely, set from the MSP's
//! own data rather than one global number.
//!
//! An approved request counts as right, a rejected one as wrong, an expired one
//! not at all; each is paired with the calibrated confidence of the decision
//! that asked for it (by its event key; keyword-fallback confidences are not
//! probabilities and are left out).

use crate::rows::{ApprovalFact, DecisionFact};
use atpilot_domain::Category;
use atpilot_model::metrics::per_label_coverage;
use atpilot_store::records::ApprovalState;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Fewer judged requests than this say nothing about 95% precision (20 is the
/// smallest sample in which one mistake still leaves 95%).
pub const MIN_JUDGED: usize = 20;

/// One category's autonomy figures over the prior 30 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutonomyRow {
    pub category: Category,
    /// Approved or rejected requests with a calibrated confidence.
    pub judged: usize,
    pub approved: usize,
    /// Share of judged requests at or above `threshold_at_95`, at which 95% were approved.
    pub coverage_at_95: Option<f64>,
    pub threshold_at_95: Option<f64>,
    pub coverage_at_98: Option<f64>,
    pub threshold_at_98: Option<f64>,
}

/// The rows, one per category with a judged request, by category.
pub fn autonomy_rows(
    approvals: &[ApprovalFact],
    decisions: &[DecisionFact],
    month_start: chrono::DateTime<chrono::Utc>,
) -> Vec<AutonomyRow> {
    let by_event: HashMap<&str, &DecisionFact> = decisions.iter().map(|d| (d.event_key.as_str(), d)).collect();
    let (mut labels, mut right, mut confidence) = (vec![], vec![], vec![]);
    for a in approvals.iter().filter(|a| a.at >= month_start) {
        let ok = match a.state {
            ApprovalState::Approved => true,
            ApprovalState::Rejected => false,
            ApprovalState::Expired | ApprovalState::Pending => continue,
        };
        // The decision that asked, by its event key; an uncalibrated one counts for nothing.
        let asked =
            by_event.get(a.decision_event_key.as_str()).filter(|d| d.ticket == a.ticket && d.category == a.category);
        if let Some(conf) = asked.and_then(|d| d.confidence) {
            labels.push(a.category.to_string());
            right.push(ok);
            confidence.push(conf);
        }
    }
    // The same grouping as `model eval`'s per-label table; the report's own rule on top:
    // too few judged requests, or no coverage at all, give no threshold.
    let mut rows: Vec<AutonomyRow> = per_label_coverage(&labels, &right, &confidence)
        .into_iter()
        .filter_map(|c| {
            let enough = c.predicted >= MIN_JUDGED;
            let at = |cov: f64, thr: f64| if enough && cov > 0.0 { (Some(cov), Some(thr)) } else { (None, None) };
            let ((c95, t95), (c98, t98)) =
                (at(c.coverage_at_95, c.threshold_at_95), at(c.coverage_at_98, c.threshold_at_98));
            Some(AutonomyRow {
                category: Category::new(&c.label).ok()?,
                judged: c.predicted,
                approved: c.right,
                coverage_at_95: c95,
                threshold_at_95: t95,
                coverage_at_98: c98,
                threshold_at_98: t98,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.category.cmp(&b.category));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn cat(s: &str) -> Category {
        Category::new(s).unwrap()
    }

    fn decision(ticket: i64, c: &str, at: chrono::DateTime<Utc>, confidence: Option<f64>) -> DecisionFact {
        DecisionFact {
            ticket,
            category: cat(c),
            at,
            autonomous_action: None,
            confidence,
            event_key: format!("e{ticket}"),
        }
    }

    fn approval(ticket: i64, c: &str, state: ApprovalState, at: chrono::DateTime<Utc>) -> ApprovalFact {
        ApprovalFact {
            ticket,
            category: cat(c),
            state,
            at,
            action_id: format!("a{ticket}"),
            decision_event_key: format!("e{ticket}"),
        }
    }

    #[test]
    fn each_category_gets_the_threshold_its_own_outcomes_support() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
        let mut approvals = vec![];
        let mut decisions = vec![];
        // password-reset: 40 requests, confidence 0.60..0.99; the three least confident were rejected.
        for i in 0..40i64 {
            let at = t0 + Duration::hours(i);
            let conf = 0.60 + 0.01 * i as f64;
            decisions.push(decision(i, "password-reset", at, Some(conf)));
            let state = if i < 3 { ApprovalState::Rejected } else { ApprovalState::Approved };
            approvals.push(approval(i, "password-reset", state, at + Duration::minutes(5)));
        }
        // printer: only 5 judged requests (too few), one of them without a calibrated confidence.
        for i in 100..105i64 {
            let at = t0 + Duration::hours(i);
            decisions.push(decision(i, "printer", at, (i != 100).then_some(0.9)));
            approvals.push(approval(i, "printer", ApprovalState::Approved, at + Duration::minutes(5)));
        }
        // An expired request and one from before the month count for nothing.
        decisions.push(decision(200, "printer", t0, Some(0.99)));
        approvals.push(approval(200, "printer", ApprovalState::Expired, t0 + Duration::days(1)));
        approvals.push(approval(0, "password-reset", ApprovalState::Rejected, t0 - Duration::days(40)));

        let rows = autonomy_rows(&approvals, &decisions, t0 - Duration::days(1));
        assert_eq!(rows.len(), 2);
        let pw = &rows[0];
        assert_eq!((pw.category.as_str(), pw.judged, pw.approved), ("password-reset", 40, 37));
        let near = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-9);
        // All 37 approved ones lie at 0.63 and above: 100% there.
        assert!(near(pw.threshold_at_98, 0.63) && near(pw.coverage_at_98, 37.0 / 40.0), "{pw:?}");
        // At 95% one rejection may come along: 0.62 and up is 37 of 38 (97.4%); 0.61 would be 94.9%.
        assert!(near(pw.threshold_at_95, 0.62) && near(pw.coverage_at_95, 38.0 / 40.0), "{pw:?}");
        let pr = &rows[1];
        assert_eq!((pr.category.as_str(), pr.judged, pr.approved), ("printer", 4, 4));
        assert_eq!((pr.coverage_at_95, pr.threshold_at_95), (None, None), "too few to say");
    }
}
