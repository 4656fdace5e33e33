//! Approval-rate arithmetic and phase transitions. Rates are compared as
//! exact integer ratios so that 80% means 80%, not 0.7999999.

use crate::category::Phase;
use serde::{Deserialize, Serialize};

/// Outcomes of approval requests in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApprovalCounts {
    pub approved: u32,
    pub rejected: u32,
    /// Requests nobody answered in time. Reported, but not a decision.
    pub expired: u32,
}

impl ApprovalCounts {
    /// Approved plus rejected.
    pub fn decided(&self) -> u32 {
        self.approved + self.rejected
    }
    /// approved / decided, or `None` when nothing was decided.
    pub fn rate(&self) -> Option<f64> {
        let d = self.decided();
        (d > 0).then(|| self.approved as f64 / d as f64)
    }
    /// Whether the rate is at least `percent`%, exactly. `None` when nothing was decided.
    pub fn rate_at_least(&self, percent: u32) -> Option<bool> {
        let d = self.decided() as u64;
        (d > 0).then(|| self.approved as u64 * 100 >= percent as u64 * d)
    }
}

impl std::ops::Add for ApprovalCounts {
    type Output = ApprovalCounts;
    fn add(self, other: ApprovalCounts) -> ApprovalCounts {
        ApprovalCounts {
            approved: self.approved + other.approved,
            rejected: self.rejected + other.rejected,
            expired: self.expired + other.expired,
        }
    }
}

/// When categories move between phases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionPolicy {
    /// Weekly approval rate under this percentage sends the category back to shadow (default 80).
    pub demote_below_percent: u32,
    /// Approval rate over the prior 30 days at or above this makes it eligible for autonomy (default 90).
    pub promote_at_percent: u32,
    /// Decisions needed in the prior 30 days before promotion is considered.
    pub min_decisions: u32,
    /// Decisions needed in the week before a demotion is considered (one bad click is not a trend).
    pub min_weekly_decisions: u32,
    /// When set, an eligible category is only marked eligible; a human promotes it.
    pub manual_promotion: bool,
}

impl Default for PromotionPolicy {
    fn default() -> Self {
        Self {
            demote_below_percent: 80,
            promote_at_percent: 90,
            min_decisions: 20,
            min_weekly_decisions: 5,
            manual_promotion: false,
        }
    }
}

/// Why a phase moved (or did not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum PhaseMoveReason {
    WeeklyRateBelowThreshold { rate: f64, threshold_percent: u32, decided: u32 },
    MonthlyRateQualifies { rate: f64, threshold_percent: u32, decided: u32 },
}

/// The outcome of the weekly evaluation of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "move", rename_all = "kebab-case")]
pub enum PhaseMove {
    Stay,
    Demote {
        to: Phase,
        reason: PhaseMoveReason,
    },
    Promote {
        to: Phase,
        reason: PhaseMoveReason,
    },
    /// Qualifies for autonomy; the MSP promotes by hand.
    EligibleForAutonomy {
        reason: PhaseMoveReason,
    },
}

/// Evaluates one category: demote to shadow when the week's approval rate is
/// under the threshold; promote a *safe* human-in-the-loop category to
/// autonomous when the prior month qualifies. Unsafe categories never promote.
pub fn evaluate_phase(
    current: Phase,
    safe: bool,
    week: ApprovalCounts,
    month: ApprovalCounts,
    policy: &PromotionPolicy,
) -> PhaseMove {
    let acting = matches!(current, Phase::HumanInTheLoop | Phase::Autonomous);
    if acting
        && week.decided() >= policy.min_weekly_decisions.max(1)
        && week.rate_at_least(policy.demote_below_percent) == Some(false)
    {
        return PhaseMove::Demote {
            to: Phase::Shadow,
            reason: PhaseMoveReason::WeeklyRateBelowThreshold {
                rate: week.rate().unwrap_or(0.0),
                threshold_percent: policy.demote_below_percent,
                decided: week.decided(),
            },
        };
    }
    if current == Phase::HumanInTheLoop
        && safe
        && month.decided() >= policy.min_decisions
        && month.rate_at_least(policy.promote_at_percent) == Some(true)
    {
        let reason = PhaseMoveReason::MonthlyRateQualifies {
            rate: month.rate().unwrap_or(0.0),
            threshold_percent: policy.promote_at_percent,
            decided: month.decided(),
        };
        return if policy.manual_promotion {
            PhaseMove::EligibleForAutonomy { reason }
        } else {
            PhaseMove::Promote { to: Phase::Autonomous, reason }
        };
    }
    PhaseMove::Stay
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(approved: u32, rejected: u32) -> ApprovalCounts {
        ApprovalCounts { approved, rejected, expired: 0 }
    }

    #[test]
    fn rate_is_approved_over_decided_expiries_apart() {
        let counts = ApprovalCounts { approved: 8, rejected: 2, expired: 5 };
        assert_eq!(counts.decided(), 10);
        assert_eq!(counts.rate(), Some(0.8));
        assert_eq!(ApprovalCounts::default().rate(), None);
    }

    #[test]
    fn exactly_eighty_percent_is_not_below_eighty() {
        assert_eq!(c(4, 1).rate_at_least(80), Some(true));
        assert_eq!(c(79, 21).rate_at_least(80), Some(false));
        let p = PromotionPolicy::default();
        assert_eq!(evaluate_phase(Phase::Autonomous, true, c(4, 1), c(4, 1), &p), PhaseMove::Stay);
    }

    #[test]
    fn weekly_rate_below_80_demotes_to_shadow() {
        let p = PromotionPolicy::default();
        let m = evaluate_phase(Phase::Autonomous, true, c(3, 2), c(50, 2), &p);
        assert!(matches!(m, PhaseMove::Demote { to: Phase::Shadow, .. }));
        let m = evaluate_phase(Phase::HumanInTheLoop, true, c(3, 2), c(50, 2), &p);
        assert!(matches!(m, PhaseMove::Demote { to: Phase::Shadow, .. }));
    }

    #[test]
    fn too_few_weekly_decisions_do_not_demote() {
        let p = PromotionPolicy::default();
        assert_eq!(evaluate_phase(Phase::Autonomous, true, c(0, 1), c(50, 2), &p), PhaseMove::Stay);
    }

    #[test]
    fn ninety_percent_over_a_month_with_enough_decisions_promotes() {
        let p = PromotionPolicy::default();
        let m = evaluate_phase(Phase::HumanInTheLoop, true, c(9, 1), c(18, 2), &p);
        assert!(matches!(m, PhaseMove::Promote { to: Phase::Autonomous, .. }));
        // 19 decisions is not enough.
        assert_eq!(evaluate_phase(Phase::HumanInTheLoop, true, c(9, 1), c(18, 1), &p), PhaseMove::Stay);
        // 89.9% is not enough.
        assert_eq!(evaluate_phase(Phase::HumanInTheLoop, true, c(9, 1), c(899, 101), &p), PhaseMove::Stay);
    }

    #[test]
    fn manual_promotion_only_marks_eligible() {
        let p = PromotionPolicy { manual_promotion: true, ..Default::default() };
        assert!(matches!(
            evaluate_phase(Phase::HumanInTheLoop, true, c(9, 1), c(30, 0), &p),
            PhaseMove::EligibleForAutonomy { .. }
        ));
    }

    #[test]
    fn unsafe_or_shadow_categories_never_promote() {
        let p = PromotionPolicy::default();
        assert_eq!(evaluate_phase(Phase::HumanInTheLoop, false, c(10, 0), c(100, 0), &p), PhaseMove::Stay);
        assert_eq!(evaluate_phase(Phase::Shadow, true, c(10, 0), c(100, 0), &p), PhaseMove::Stay);
        assert_eq!(evaluate_phase(Phase::Autonomous, true, c(10, 0), c(100, 0), &p), PhaseMove::Stay);
    }
}
