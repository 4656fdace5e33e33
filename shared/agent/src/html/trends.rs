//! The dashboard's trends: decisions per day by action, the time from a
//! ticket's creation to atpilot's reply, and each category's approval rate
//! over 30 days (what the charts draw). Gathered over the
//! state port: a day's decisions by the daily index, approvals by month.

use atpilot_domain::{Action, Phase};
use atpilot_store::records::ApprovalState;
use atpilot_store::{State, StoreError};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Days the decisions chart covers (today included).
pub const DAYS: i64 = 7;

/// One day's decisions, counted by action name (`log-only`, `internal-note`,
/// `request-approval`, `autonomous`, `escalate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayActions {
    pub day: NaiveDate,
    pub counts: BTreeMap<&'static str, u32>,
    /// Decisions in categories in scope (human-in-the-loop or autonomous),
    /// and how many of those the agent resolved on its own: the weekly
    /// report's autonomous rate, by day.
    pub in_scope: u32,
    pub in_scope_autonomous: u32,
    /// Replies atpilot posted that day acting on its own (its first response;
    /// one per ticket) whose ticket's creation time Autotask gave, and the
    /// median seconds from creation to reply (`None` without any).
    pub replies: u32,
    pub reply_p50_secs: Option<f64>,
}

impl DayActions {
    pub fn total(&self) -> u32 {
        self.counts.values().sum()
    }
    /// The share of in-scope decisions the agent resolved on its own (`None`
    /// on a day without any).
    pub fn autonomous_share(&self) -> Option<f64> {
        (self.in_scope > 0).then(|| f64::from(self.in_scope_autonomous) / f64::from(self.in_scope))
    }
}

/// A category's approval requests judged in the last 30 days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryRate {
    pub category: String,
    pub approved: u32,
    /// Approved, rejected or expired.
    pub judged: u32,
}

impl CategoryRate {
    pub fn rate(&self) -> Option<f64> {
        (self.judged > 0).then(|| f64::from(self.approved) / f64::from(self.judged))
    }
}

/// What the dashboard's charts draw.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trends {
    /// Oldest first, [`DAYS`] of them, ending today (UTC).
    pub days: Vec<DayActions>,
    pub approval_rates: Vec<CategoryRate>,
}

/// The median of sorted values (nearest rank, as the weekly report's percentiles).
fn median(sorted: &[f64]) -> Option<f64> {
    let rank = sorted.len().div_ceil(2);
    (rank > 0).then(|| sorted[rank - 1])
}

/// The month before `(year, month)`.
fn previous(year: i32, month: u32) -> (i32, u32) {
    if month == 1 { (year - 1, 12) } else { (year, month - 1) }
}

/// Gathers the trends up to `today`.
///
/// # Errors
/// The state store's, when it cannot be read.
pub async fn trends(state: &State, today: NaiveDate) -> Result<Trends, StoreError> {
    let mut days = Vec::with_capacity(DAYS as usize);
    for back in (0..DAYS).rev() {
        let day = today - Duration::days(back);
        // atpilot's first response: its reply when it acted alone, once per ticket.
        let mut seen = std::collections::BTreeSet::new();
        let mut secs: Vec<f64> = state
            .replies_on(day)
            .await?
            .iter()
            .filter(|r| r.acted_alone && seen.insert(r.ticket_id))
            .filter_map(|r| r.response_secs())
            .collect();
        secs.sort_by(f64::total_cmp);
        let mut row = DayActions {
            day,
            counts: BTreeMap::new(),
            in_scope: 0,
            in_scope_autonomous: 0,
            replies: secs.len() as u32,
            reply_p50_secs: median(&secs),
        };
        for d in state.decisions_on(day).await? {
            *row.counts.entry(d.action.name()).or_default() += 1;
            if d.phase >= Phase::HumanInTheLoop {
                row.in_scope += 1;
                row.in_scope_autonomous += u32::from(matches!(d.action, Action::Autonomous { .. }));
            }
        }
        days.push(row);
    }
    let since = Utc::now() - Duration::days(30);
    let mut rates: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let months = [(today.year(), today.month()), previous(today.year(), today.month())];
    for s in [ApprovalState::Approved, ApprovalState::Rejected, ApprovalState::Expired] {
        for (y, m) in months {
            for a in state.approvals_created_in_month(s, y, m).await? {
                if a.decided_at.unwrap_or(a.expires_at) < since {
                    continue;
                }
                let r = rates.entry(a.category.to_string()).or_default();
                r.0 += u32::from(s == ApprovalState::Approved);
                r.1 += 1;
            }
        }
    }
    let approval_rates =
        rates.into_iter().map(|(category, (approved, judged))| CategoryRate { category, approved, judged }).collect();
    Ok(Trends { days, approval_rates })
}
