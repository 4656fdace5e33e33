//! The report: every figure of one week, as computed, stored as the week's
//! snapshot and rendered.

use crate::approvals::ApprovalRow;
use crate::autonomy::AutonomyRow;
use crate::billing::BillingRow;
use crate::csat::CsatRow;
use crate::drift::{FlagRule, Screening};
use crate::outcomes::Outcomes;
use crate::period::Periods;
use crate::spot_check::SpotCheck;
use atpilot_domain::PhaseMove;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeeklyReport {
    pub week: String,
    pub generated_at: DateTime<Utc>,
    pub periods: Periods,
    pub rollout: NaiveDate,
    /// What flagged a contract (snapshots stored before it existed read as the defaults).
    #[serde(default)]
    pub flag: FlagRule,
    /// The p-values the billing flags computed and the cutoff they passed.
    #[serde(default)]
    pub screening: Screening,
    pub min_csat_samples: usize,
    pub approvals: Vec<ApprovalRow>,
    /// Per category, the confidence its approved proposals support (absent in
    /// snapshots stored before it existed).
    #[serde(default)]
    pub autonomy: Vec<AutonomyRow>,
    pub spot_check: SpotCheck,
    pub billing: Vec<BillingRow>,
    /// Whether the baseline came from the state-store cache.
    pub baseline_cached: bool,
    pub csat: Vec<CsatRow>,
    pub outcomes: Outcomes,
    /// Customer status updates (absent in snapshots stored before they existed).
    #[serde(default)]
    pub status_updates: crate::status_updates::StatusUpdateFigures,
    /// Autotask requests this run used.
    pub autotask_requests: u64,
    pub notes: Vec<String>,
}

impl WeeklyReport {
    pub fn moves(&self) -> impl Iterator<Item = &ApprovalRow> {
        self.approvals.iter().filter(|r| !matches!(r.evaluation, PhaseMove::Stay))
    }
    pub fn flagged(&self) -> impl Iterator<Item = &BillingRow> {
        self.billing.iter().filter(|r| r.flagged)
    }
}
