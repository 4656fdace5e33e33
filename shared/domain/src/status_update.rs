//! Proactive customer status updates: which open tickets have gone quiet
//! for the customer long enough to deserve one. Pure: the facts come from
//! Autotask (`Tickets.createDate`, `lastCustomerVisibleActivityDateTime`,
//! the latest customer-visible note; all UTC, `../shared/reference/kb-and-messaging.md` §5).

use crate::{PriorityId, StatusId};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

/// When a ticket is long-running: open at least `open_days`, and nothing
/// customer-visible for at least `quiet_days` (whole days of 24 h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StalePolicy {
    pub open_days: u32,
    pub quiet_days: u32,
}

/// What the scan knows of one open ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleFacts {
    pub status: StatusId,
    pub priority: Option<PriorityId>,
    pub created: DateTime<Utc>,
    /// The latest customer-visible activity: the later of the ticket's
    /// `lastCustomerVisibleActivityDateTime` and its latest customer-visible
    /// note (whether API notes stamp the field is unconfirmed), `None` if never.
    pub last_customer_visible: Option<DateTime<Utc>>,
}

/// Statuses in which no update is proposed: complete, disengaged (on hold,
/// escalated…) and waiting on the customer (their move, not ours).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuietStatuses {
    pub complete: Option<StatusId>,
    pub disengage: BTreeSet<StatusId>,
    pub waiting_customer: BTreeSet<StatusId>,
}

/// Why a ticket deserves an update: how long it has been open and quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quiet {
    pub open_for: Duration,
    /// Since the last customer-visible activity, or since creation if there was none.
    pub quiet_for: Duration,
}

/// Why a ticket gets no update (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotDue {
    Complete,
    Disengaged,
    WaitingOnCustomer,
    /// Open for less than the policy's `open_days`.
    Young,
    /// Customer-visible activity within the policy's `quiet_days`.
    RecentContact,
}

/// Whether `facts` call for a status update under `policy` at `now`.
pub fn assess(
    facts: &StaleFacts,
    policy: StalePolicy,
    statuses: &QuietStatuses,
    now: DateTime<Utc>,
) -> Result<Quiet, NotDue> {
    if statuses.complete == Some(facts.status) {
        return Err(NotDue::Complete);
    }
    if statuses.disengage.contains(&facts.status) {
        return Err(NotDue::Disengaged);
    }
    if statuses.waiting_customer.contains(&facts.status) {
        return Err(NotDue::WaitingOnCustomer);
    }
    let open_for = now - facts.created;
    if open_for < Duration::days(policy.open_days.into()) {
        return Err(NotDue::Young);
    }
    let quiet_for = now - facts.last_customer_visible.unwrap_or(facts.created).max(facts.created);
    if quiet_for < Duration::days(policy.quiet_days.into()) {
        return Err(NotDue::RecentContact);
    }
    Ok(Quiet { open_for, quiet_for })
}

/// Whether customer-visible activity happened since `since` (a pending
/// update is dropped then: the customer heard from someone meanwhile).
/// Compared in whole seconds, and the same second counts: Autotask may keep
/// no finer time, and a doubtful case drops the update rather than send two.
pub fn contacted_since(last_customer_visible: Option<DateTime<Utc>>, since: DateTime<Utc>) -> bool {
    last_customer_visible.is_some_and(|t| t.timestamp() >= since.timestamp())
}

/// The median of `values` (the mean of the middle two for an even count), `None` when empty.
pub fn median_days(values: &[Duration]) -> Option<f64> {
    let mut days: Vec<f64> = values.iter().map(|d| d.num_seconds() as f64 / 86_400.0).collect();
    if days.is_empty() {
        return None;
    }
    days.sort_by(f64::total_cmp);
    let mid = days.len() / 2;
    Some(if days.len() % 2 == 1 { days[mid] } else { (days[mid - 1] + days[mid]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }
    fn facts(status: i64, created_days_ago: i64, contact_days_ago: Option<i64>) -> StaleFacts {
        StaleFacts {
            status: StatusId::new(status).unwrap(),
            priority: None,
            created: now() - Duration::days(created_days_ago),
            last_customer_visible: contact_days_ago.map(|d| now() - Duration::days(d)),
        }
    }
    fn statuses() -> QuietStatuses {
        QuietStatuses {
            complete: StatusId::new(5).ok(),
            disengage: [StatusId::new(9).unwrap()].into(),
            waiting_customer: [StatusId::new(7).unwrap()].into(),
        }
    }
    const P: StalePolicy = StalePolicy { open_days: 5, quiet_days: 3 };

    #[test]
    fn open_long_and_quiet_long_is_due_and_says_how_long() {
        let q = assess(&facts(8, 10, Some(4)), P, &statuses(), now()).unwrap();
        assert_eq!((q.open_for.num_days(), q.quiet_for.num_days()), (10, 4));
        // Never any customer-visible activity: quiet since creation.
        assert_eq!(assess(&facts(8, 6, None), P, &statuses(), now()).unwrap().quiet_for.num_days(), 6);
    }

    #[test]
    fn boundaries_are_whole_days_and_inclusive() {
        assert!(assess(&facts(8, 5, Some(3)), P, &statuses(), now()).is_ok());
        let young = StaleFacts { created: now() - Duration::days(5) + Duration::seconds(1), ..facts(8, 5, None) };
        assert_eq!(assess(&young, P, &statuses(), now()), Err(NotDue::Young));
        let recent = StaleFacts {
            last_customer_visible: Some(now() - Duration::days(3) + Duration::seconds(1)),
            ..facts(8, 9, None)
        };
        assert_eq!(assess(&recent, P, &statuses(), now()), Err(NotDue::RecentContact));
    }

    #[test]
    fn complete_disengaged_and_waiting_on_the_customer_get_none() {
        assert_eq!(assess(&facts(5, 30, None), P, &statuses(), now()), Err(NotDue::Complete));
        assert_eq!(assess(&facts(9, 30, None), P, &statuses(), now()), Err(NotDue::Disengaged));
        assert_eq!(assess(&facts(7, 30, None), P, &statuses(), now()), Err(NotDue::WaitingOnCustomer));
    }

    #[test]
    fn a_contact_stamp_before_creation_counts_from_creation() {
        // A clock skew or a migrated ticket must not make a ticket look quieter than it is old.
        let q = assess(&facts(8, 6, Some(40)), P, &statuses(), now()).unwrap();
        assert_eq!(q.quiet_for.num_days(), 6);
    }

    #[test]
    fn contact_after_the_proposal_drops_it_and_medians_are_exact() {
        let at = now() - Duration::hours(5);
        assert!(contacted_since(Some(now()), at));
        assert!(contacted_since(Some(at), at + Duration::milliseconds(900)), "the same second counts");
        assert!(!contacted_since(Some(at - Duration::seconds(1)), at) && !contacted_since(None, at));
        assert_eq!(median_days(&[]), None);
        assert_eq!(median_days(&[Duration::days(3), Duration::days(1), Duration::days(10)]), Some(3.0));
        assert_eq!(median_days(&[Duration::days(2), Duration::days(5)]), Some(3.5));
    }
}
