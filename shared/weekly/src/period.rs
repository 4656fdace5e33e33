//! Options and periods: what a run computes and does, and the half-open
//! periods it reads (the reported week, the prior 30 days, the month to date,
//! the pre-rollout baseline, the CSAT window). Pure calendar arithmetic.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// What a run computes and does.
#[derive(Debug, Clone)]
pub struct Options {
    /// Exclusive end of the reported week (normally Monday 00:00 UTC).
    pub end: DateTime<Utc>,
    /// The rollout date: each contract's baseline is the months before it.
    pub rollout: NaiveDate,
    /// Baseline length in months (default 3).
    pub baseline_months: u32,
    /// Time entries sampled for the spot check (default 20).
    pub sample_size: usize,
    pub sample_seed: u64,
    /// When a billing change is flagged: over a percentage and a floor in hours
    /// or tickets, and unlikely to be chance ([`crate::drift`]).
    pub flag: crate::drift::FlagRule,
    /// Survey results needed on each side before a CSAT delta is shown (default 10).
    pub min_csat_samples: usize,
    /// CSAT window in days (default 30).
    pub csat_days: i64,
    /// Store phase moves with `set_phase` (default true).
    pub apply_phase_moves: bool,
    /// Send the e-mail and the Teams card (default true).
    pub deliver: bool,
    /// Deliver even if this week's report was already delivered.
    pub resend: bool,
}

impl Options {
    pub fn new(end: DateTime<Utc>, rollout: NaiveDate) -> Self {
        Self {
            end,
            rollout,
            baseline_months: 3,
            sample_size: 20,
            sample_seed: 20,
            flag: crate::drift::FlagRule::default(),
            min_csat_samples: 10,
            csat_days: 30,
            apply_phase_moves: true,
            deliver: true,
            resend: false,
        }
    }
}

/// Monday 00:00 UTC at or before `t`: the end of the week a Monday run reports.
pub fn week_end_for(t: DateTime<Utc>) -> DateTime<Utc> {
    let d = t.date_naive();
    let monday = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    midnight(monday)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// A half-open period `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
    pub fn days(&self) -> f64 {
        (self.end - self.start).num_seconds().max(0) as f64 / 86_400.0
    }
    pub fn label(&self) -> String {
        let last = self.end - Duration::seconds(1);
        format!("{} to {}", self.start.format("%Y-%m-%d"), last.format("%Y-%m-%d"))
    }
}

/// The periods one run looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Periods {
    pub week: Period,
    /// The prior 30 days (promotion).
    pub month: Period,
    /// The calendar month to date (billing impact).
    pub current: Period,
    /// The months before the rollout (billing baseline).
    pub baseline: Period,
    pub csat: Period,
}

pub fn periods(o: &Options) -> Periods {
    let end = o.end;
    let last = (end - Duration::seconds(1)).date_naive();
    let month_start = NaiveDate::from_ymd_opt(last.year(), last.month(), 1).unwrap_or(last);
    let rollout = midnight(o.rollout);
    let baseline_start = o.rollout.checked_sub_months(Months::new(o.baseline_months)).map(midnight).unwrap_or(rollout);
    Periods {
        week: Period { start: end - Duration::days(7), end },
        month: Period { start: end - Duration::days(30), end },
        current: Period { start: midnight(month_start), end },
        baseline: Period { start: baseline_start, end: rollout },
        csat: Period { start: end - Duration::days(o.csat_days), end },
    }
}

/// ISO week label of the reported week, e.g. `2026-W10`.
pub fn week_label(end: DateTime<Utc>) -> String {
    let w = (end - Duration::days(1)).date_naive().iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The UTC days `p` touches, oldest first.
pub(crate) fn days(p: Period) -> Vec<NaiveDate> {
    let mut out = vec![];
    let mut d = p.start.date_naive();
    while midnight(d) < p.end {
        out.push(d);
        d += Duration::days(1);
    }
    out
}

/// The UTC calendar months (year, month) `p` touches, oldest first.
pub(crate) fn months(p: Period) -> Vec<(i32, u32)> {
    let mut out: Vec<(i32, u32)> = days(p).into_iter().map(|d| (d.year(), d.month())).collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{opts, t};

    #[test]
    fn periods_follow_the_week_month_and_rollout() {
        let p = periods(&opts());
        assert_eq!(p.week.start, t("2026-03-02T00:00:00Z"));
        assert_eq!(p.month.start, t("2026-02-07T00:00:00Z"));
        assert_eq!(p.current.start, t("2026-03-01T00:00:00Z"));
        assert_eq!(p.baseline, Period { start: t("2025-11-01T00:00:00Z"), end: t("2026-02-01T00:00:00Z") });
        assert_eq!(week_label(t("2026-03-09T00:00:00Z")), "2026-W10");
        assert_eq!(week_end_for(t("2026-03-11T15:00:00Z")), t("2026-03-09T00:00:00Z"));
        // A run on the 1st reports the whole previous month.
        let p = periods(&Options::new(t("2026-06-01T00:00:00Z"), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()));
        assert_eq!(p.current.start, t("2026-05-01T00:00:00Z"));
    }
}
