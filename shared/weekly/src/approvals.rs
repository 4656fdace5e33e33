//! Approval rates and phase moves: each category's approved, rejected and
//! expired requests over the week and the prior 30 days, and what the
//! promotion policy makes of them.

use crate::format::pct;
use crate::period::Periods;
use crate::rows::ApprovalFact;
use atpilot_domain::{ApprovalCounts, Category, Phase, PhaseMove, PhaseMoveReason, PromotionPolicy, evaluate_phase};
use atpilot_store::records::ApprovalState;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Approval counts per category for the week and the prior 30 days.
pub fn approval_counts(facts: &[ApprovalFact], p: &Periods) -> BTreeMap<Category, (ApprovalCounts, ApprovalCounts)> {
    let mut out: BTreeMap<Category, (ApprovalCounts, ApprovalCounts)> = BTreeMap::new();
    for f in facts {
        let one = match f.state {
            ApprovalState::Approved => ApprovalCounts { approved: 1, ..Default::default() },
            ApprovalState::Rejected => ApprovalCounts { rejected: 1, ..Default::default() },
            ApprovalState::Expired => ApprovalCounts { expired: 1, ..Default::default() },
            ApprovalState::Pending => continue,
        };
        let e = out.entry(f.category.clone()).or_default();
        if p.week.contains(f.at) {
            e.0 = e.0 + one;
        }
        if p.month.contains(f.at) {
            e.1 = e.1 + one;
        }
    }
    out
}

/// One category's approval figures and what the evaluation did with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRow {
    pub category: Category,
    pub safe: bool,
    pub week: ApprovalCounts,
    pub month: ApprovalCounts,
    pub phase_before: Phase,
    pub phase_after: Phase,
    pub evaluation: PhaseMove,
    /// The reason in words (empty when nothing moved).
    pub reason: String,
}

/// Evaluates every category: `phases` gives each one's phase before the run and whether it is on the safe list.
pub fn evaluate(
    counts: &BTreeMap<Category, (ApprovalCounts, ApprovalCounts)>,
    phases: &BTreeMap<Category, (Phase, bool)>,
    policy: &PromotionPolicy,
) -> Vec<ApprovalRow> {
    let cats: BTreeSet<&Category> = counts.keys().chain(phases.keys()).collect();
    cats.into_iter()
        .map(|c| {
            let (week, month) = counts.get(c).copied().unwrap_or_default();
            let (phase, safe) = phases.get(c).copied().unwrap_or((Phase::Shadow, false));
            let evaluation = evaluate_phase(phase, safe, week, month, policy);
            let (phase_after, reason) = match &evaluation {
                PhaseMove::Stay => (phase, String::new()),
                PhaseMove::Demote { to, reason } | PhaseMove::Promote { to, reason } => {
                    (*to, reason_text(reason, Some(*to), policy))
                }
                PhaseMove::EligibleForAutonomy { reason } => (phase, reason_text(reason, None, policy)),
            };
            ApprovalRow { category: c.clone(), safe, week, month, phase_before: phase, phase_after, evaluation, reason }
        })
        .collect()
}

fn reason_text(r: &PhaseMoveReason, to: Option<Phase>, policy: &PromotionPolicy) -> String {
    match r {
        PhaseMoveReason::WeeklyRateBelowThreshold { rate, threshold_percent, decided } => {
            format!(
                "approval rate this week {} of {decided} decided requests is under {threshold_percent}%: back to {}",
                pct(*rate),
                to.unwrap_or(Phase::Shadow)
            )
        }
        PhaseMoveReason::MonthlyRateQualifies { rate, threshold_percent, decided } => {
            let base = format!(
                "approval rate over the prior 30 days {} of {decided} decided requests (minimum {}) is at least {threshold_percent}%",
                pct(*rate),
                policy.min_decisions
            );
            match to {
                Some(p) => format!("{base}: promoted to {p}"),
                None => {
                    format!("{base}: eligible for autonomy; manual promotion is configured, so a person promotes it")
                }
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::periods;
    use crate::testing::{cat, opts, t};
    use std::collections::HashMap;

    fn fact(c: &str, state: ApprovalState, at: &str) -> ApprovalFact {
        ApprovalFact {
            ticket: 1,
            category: cat(c),
            state,
            at: t(at),
            action_id: "a".into(),
            decision_event_key: "e".into(),
        }
    }

    #[test]
    fn approval_counts_split_week_and_month_and_moves_follow_the_policy() {
        let p = periods(&opts());
        let mut f = vec![];
        // password-reset: 3 of 5 this week → demote.
        for i in 0..3 {
            f.push(fact("password-reset", ApprovalState::Approved, &format!("2026-03-0{}T10:00:00Z", 3 + i)));
        }
        f.push(fact("password-reset", ApprovalState::Rejected, "2026-03-04T10:00:00Z"));
        f.push(fact("password-reset", ApprovalState::Rejected, "2026-03-05T10:00:00Z"));
        f.push(fact("password-reset", ApprovalState::Expired, "2026-03-05T10:00:00Z"));
        // mfa: 19 approved + 1 rejected in the month (one this week), promote.
        for i in 0..19 {
            f.push(fact("mfa-enrollment", ApprovalState::Approved, &format!("2026-02-{:02}T10:00:00Z", 10 + i % 18)));
        }
        f.push(fact("mfa-enrollment", ApprovalState::Rejected, "2026-03-03T10:00:00Z"));
        // Outside the month: ignored.
        f.push(fact("mfa-enrollment", ApprovalState::Rejected, "2026-01-03T10:00:00Z"));
        let c = approval_counts(&f, &p);
        assert_eq!(c[&cat("password-reset")].0, ApprovalCounts { approved: 3, rejected: 2, expired: 1 });
        assert_eq!(c[&cat("mfa-enrollment")].1, ApprovalCounts { approved: 19, rejected: 1, expired: 0 });
        assert_eq!(c[&cat("mfa-enrollment")].0, ApprovalCounts { approved: 0, rejected: 1, expired: 0 });
        let phases: BTreeMap<Category, (Phase, bool)> = [
            (cat("password-reset"), (Phase::Autonomous, true)),
            (cat("mfa-enrollment"), (Phase::HumanInTheLoop, true)),
            (cat("hardware"), (Phase::Shadow, false)),
        ]
        .into_iter()
        .collect();
        let rows = evaluate(&c, &phases, &PromotionPolicy::default());
        let by: HashMap<&str, &ApprovalRow> = rows.iter().map(|r| (r.category.as_str(), r)).collect();
        assert_eq!(by["password-reset"].phase_after, Phase::Shadow);
        assert!(by["password-reset"].reason.contains("60.0% of 5"), "{}", by["password-reset"].reason);
        assert_eq!(by["mfa-enrollment"].phase_after, Phase::Autonomous);
        assert_eq!(by["hardware"].evaluation, PhaseMove::Stay);
        let manual = PromotionPolicy { manual_promotion: true, ..Default::default() };
        let rows = evaluate(&c, &phases, &manual);
        let mfa = rows.iter().find(|r| r.category.as_str() == "mfa-enrollment").unwrap();
        assert!(matches!(mfa.evaluation, PhaseMove::EligibleForAutonomy { .. }));
        assert_eq!(mfa.phase_after, Phase::HumanInTheLoop);
        assert!(mfa.reason.contains("eligible"));
    }
}
