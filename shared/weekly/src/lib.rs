//! The weekly metrics: approval rates and phase moves, the time-entry spot
//! check, the contract billing impact, CSAT deltas and the outcome figures,
//! delivered as an HTML e-mail (inline SVG charts, CSV attachments) and a
//! Teams card, and stored as the week's snapshot.
//!
//! Layout: every figure is a pure function over compact rows ([`rows`]), one
//! room per figure ([`approvals`], [`spot_check`], [`billing`] with [`drift`], [`csat`],
//! [`outcomes`]) over the periods of [`period`]; [`collect`](mod@collect) is the thin I/O
//! part that reads the state store and streams Autotask pages (one page in
//! memory at a time, aggregated as it goes, requests counted); [`run`](mod@run)
//! applies the phase moves, stores the snapshot and delivers what [`render`]
//! draws.
//!
//! Autotask reads of one run (pages of 500):
//! * Contracts, the contract-type picklist, block hour factors (a few requests);
//! * TimeEntries and Tickets of the month to date (and, once per rollout date,
//!   of the baseline window, which is then cached in the state store);
//! * SurveyResults of the CSAT window; the sampled TimeEntries by id (one query).

pub mod approvals;
pub mod autonomy;
pub mod billing;
pub mod collect;
pub mod csat;
pub mod drift;
mod format;
pub mod outcomes;
pub mod period;
pub mod render;
pub mod report;
pub mod rows;
pub mod run;
pub mod spot_check;
pub mod status_updates;
#[cfg(test)]
mod testing;

pub use approvals::{ApprovalRow, approval_counts, evaluate};
pub use billing::{BillingAccumulator, BillingRow, Usage, billing_rows};
pub use collect::{Sources, collect};
pub use csat::{CsatRow, TicketAgent, UNSEEN, csat};
pub use drift::{Driver, FlagRule, Measure, Screening, Verdict};
pub use outcomes::{
    Outcomes, TARGET_AUTONOMOUS_MAX, TARGET_AUTONOMOUS_MIN, TARGET_FIRST_RESPONSE_SECS, TicketTimes, outcomes,
    percentile,
};
pub use period::{Options, Period, Periods, periods, week_end_for, week_label};
pub use render::{
    APPROVAL_CHART_CID, BILLING_CHART_CID, FLAGGED, PALETTE, Table, approval_png, billing_png, email, tables,
    teams_card,
};
pub use report::WeeklyReport;
pub use rows::{ApprovalFact, ContractInfo, DecisionFact, EntryRow, TicketRow};
pub use run::{RunOutcome, recipients, run};
pub use spot_check::{LedgerFact, SpotCheck, SpotCheckRow, compare_entry, seeded_order};

/// Who phase moves are recorded as.
pub const CHANGED_BY: &str = "weekly-metrics";

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("state store: {0}")]
    Store(#[from] atpilot_store::StoreError),
    #[error("Autotask: {0}")]
    Autotask(#[from] atpilot_autotask::Error),
    #[error("delivery: {0}")]
    Delivery(String),
    #[error("{0}")]
    Invalid(String),
}

impl MetricsError {
    /// Worth running again later (network, throttling, store unavailable).
    pub fn is_transient(&self) -> bool {
        match self {
            MetricsError::Store(atpilot_store::StoreError::Unavailable(_)) => true,
            MetricsError::Autotask(e) => e.is_retryable(),
            MetricsError::Delivery(_) => true,
            _ => false,
        }
    }
}
