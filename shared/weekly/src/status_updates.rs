//! The week's customer status updates: proposed, approved (and of those
//! edited), rejected, dropped, expired, still pending; and how long open
//! tickets go without customer contact (the latest scan's median).

use crate::period::Period;
use atpilot_agent::handlers::status_updates::QuietSummary;
use atpilot_domain::status_update::median_days;
use atpilot_store::records::{StatusUpdateRecord, StatusUpdateState};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdateFigures {
    /// Proposed this week.
    pub proposed: usize,
    /// Decided this week: approved (posted or being posted), of which the approver edited `edited`.
    pub approved: usize,
    pub edited: usize,
    /// Of the approved, posted (the note read back).
    #[serde(default)]
    pub posted: usize,
    pub rejected: usize,
    /// Not posted: the customer heard from someone meanwhile, or the ticket closed.
    pub dropped: usize,
    pub expired: usize,
    /// Pending at the end of the week.
    pub pending: usize,
    /// Among open tickets past their quiet threshold at the latest scan: the
    /// median days since customer-visible activity, and how many there were.
    pub median_quiet_days: Option<f64>,
    pub quiet_tickets: usize,
    pub scanned_at: Option<DateTime<Utc>>,
}

/// The figures of `week` from the proposals (newest first, as stored) and the latest scan.
pub fn figures(records: &[StatusUpdateRecord], week: Period, quiet: Option<&QuietSummary>) -> StatusUpdateFigures {
    let mut f = StatusUpdateFigures::default();
    for r in records {
        if week.contains(r.created_at) {
            f.proposed += 1;
        }
        // Pending at the week's end: made before it, decided after it (or not yet).
        if r.created_at < week.end && r.decided_at.is_none_or(|t| t >= week.end) {
            f.pending += 1;
        }
        if !r.decided_at.is_some_and(|t| week.contains(t)) {
            continue;
        }
        match r.state {
            StatusUpdateState::Approved | StatusUpdateState::Posted => {
                f.approved += 1;
                f.edited += usize::from(r.edited);
                f.posted += usize::from(r.state == StatusUpdateState::Posted);
            }
            StatusUpdateState::Rejected => f.rejected += 1,
            StatusUpdateState::Dropped => f.dropped += 1,
            StatusUpdateState::Expired => f.expired += 1,
            StatusUpdateState::Pending => {}
        }
    }
    if let Some(q) = quiet {
        let spans: Vec<Duration> = q.quiet_days.iter().map(|d| Duration::seconds((d * 86_400.0) as i64)).collect();
        f.median_quiet_days = median_days(&spans);
        f.quiet_tickets = q.quiet_days.len();
        f.scanned_at = Some(q.at);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use atpilot_domain::TicketId;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap()
    }
    fn rec(n: i64, created: u32, state: StatusUpdateState, decided: Option<u32>, edited: bool) -> StatusUpdateRecord {
        StatusUpdateRecord {
            id: StatusUpdateRecord::id_for(TicketId::new(n).unwrap(), at(created)),
            ticket_id: TicketId::new(n).unwrap(),
            ticket_number: format!("T{n}"),
            state,
            created_at: at(created),
            expires_at: at(created) + Duration::hours(48),
            approvers: vec![],
            draft: String::new(),
            left_out: vec![],
            last_customer_visible: None,
            open_days: 9.0,
            quiet_days: 4.0,
            text: None,
            edited,
            decided_by: None,
            decided_at: decided.map(at),
            note: None,
            note_id: None,
            posted_at: None,
            told: None,
        }
    }

    #[test]
    fn each_proposal_counts_in_the_week_it_was_made_and_decided() {
        use StatusUpdateState::*;
        let week = Period { start: at(23), end: at(30) };
        let records = [
            rec(1, 24, Posted, Some(24), true),
            rec(2, 25, Posted, Some(26), false),
            rec(3, 25, Rejected, Some(25), false),
            rec(4, 26, Dropped, Some(27), false),
            rec(5, 20, Expired, Some(23), false),
            rec(6, 29, Pending, None, false),
            rec(7, 10, Posted, Some(11), false),
            rec(8, 28, Approved, Some(29), false),
            rec(9, 29, Rejected, Some(30), false),
        ];
        let quiet = QuietSummary { at: at(29), quiet_days: vec![3.0, 10.0, 4.0] };
        let f = figures(&records, week, Some(&quiet));
        assert_eq!((f.proposed, f.approved, f.edited, f.rejected, f.dropped, f.expired), (7, 3, 1, 1, 1, 1));
        assert_eq!(f.posted, 2, "approved but not yet posted is not posted");
        assert_eq!(f.pending, 2, "still pending, and one decided only after the week's end");
        assert_eq!((f.median_quiet_days, f.quiet_tickets), (Some(4.0), 3));
        assert_eq!(figures(&[], week, None), StatusUpdateFigures::default(), "no scan: no median");
    }
}
