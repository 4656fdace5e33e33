//! Time-entry discipline: the agent logs the time it actually spent (from a
//! measured span, never a minimum), once per ticket per action, against that
//! ticket's own contract as read at write time.

use crate::ids::*;
use crate::measure::{Hours, WorkSpan};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeEntryError {
    #[error("ticket {ticket}'s contract changed from {decided} to {current}: nothing written, escalate to a human")]
    ContractChanged { ticket: TicketId, decided: ContractId, current: ContractId },
    #[error(
        "ticket {ticket} no longer names a contract (the decision was made on {decided}): nothing written, escalate to a human"
    )]
    ContractRemoved { ticket: TicketId, decided: ContractId },
    #[error("the summary note must say what the agent did; it is empty")]
    EmptySummary,
}

/// A time entry ready to be written. Construct it with [`TimeEntryDraft::new`],
/// which checks the contract binding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeEntryDraft {
    pub action_id: ActionId,
    pub ticket_id: TicketId,
    pub contract_id: ContractId,
    pub resource_id: ResourceId,
    pub role_id: RoleId,
    pub billing_code_id: Option<BillingCodeId>,
    pub span: WorkSpan,
    /// `dateWorked`: the span's start as a calendar date in the tenant's time zone.
    pub date_worked: chrono::NaiveDate,
    pub summary_notes: String,
}

/// What one entry is to be written with.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRequest<'a> {
    pub action_id: &'a ActionId,
    pub ticket_id: TicketId,
    /// The contract the decision was made on.
    pub decided_contract: ContractId,
    /// The ticket's contract as read from Autotask now.
    pub current_contract: Option<ContractId>,
    pub resource_id: ResourceId,
    pub role_id: RoleId,
    pub billing_code_id: Option<BillingCodeId>,
    pub span: WorkSpan,
    /// The tenant's calendar, for `dateWorked`.
    pub time_zone: crate::TenantTimeZone,
    pub summary_notes: &'a str,
}

impl TimeEntryDraft {
    pub fn new(req: EntryRequest<'_>) -> Result<Self, TimeEntryError> {
        match req.current_contract {
            None => {
                return Err(TimeEntryError::ContractRemoved { ticket: req.ticket_id, decided: req.decided_contract });
            }
            Some(current) if current != req.decided_contract => {
                return Err(TimeEntryError::ContractChanged {
                    ticket: req.ticket_id,
                    decided: req.decided_contract,
                    current,
                });
            }
            Some(_) => {}
        }
        let summary = req.summary_notes.trim();
        if summary.is_empty() {
            return Err(TimeEntryError::EmptySummary);
        }
        Ok(Self {
            action_id: req.action_id.clone(),
            ticket_id: req.ticket_id,
            contract_id: req.decided_contract,
            resource_id: req.resource_id,
            role_id: req.role_id,
            billing_code_id: req.billing_code_id,
            span: req.span,
            date_worked: req.time_zone.date_of(req.span.start()),
            summary_notes: summary.to_string(),
        })
    }
    /// `hoursWorked`: the measured span, truncated, never rounded up.
    pub fn hours_worked(&self) -> Hours {
        self.span.hours()
    }
    /// `internalNotes`: carries the action's marker, so that a retry after a
    /// crash finds this entry instead of writing a second one.
    pub fn internal_notes(&self) -> String {
        format!("Logged by atpilot for its own work. {}", self.action_id.marker())
    }
}

/// A time entry as Autotask stored it (read back after the write): tenant
/// rules may change the billing code, role, hours to bill or contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StoredEntry {
    pub contract_id: Option<i64>,
    pub role_id: Option<i64>,
    pub billing_code_id: Option<i64>,
    pub hours_worked: Option<f64>,
    pub hours_to_bill: Option<f64>,
    /// `dateWorked`'s calendar date, as Autotask returns it.
    pub date_worked: Option<chrono::NaiveDate>,
}

/// Hours closer than this (18 s) are the same (Autotask stores 4 decimals).
const HOURS_TOLERANCE: f64 = 0.005;

/// Where the stored entry differs from what was sent (with `billing_code`),
/// as sentences; empty when it is what atpilot wrote.
/// Hours to bill are compared with the hours worked sent (atpilot sends no
/// separate figure): a tenant's rounding rule shows up here.
pub fn entry_differences(sent: &TimeEntryDraft, billing_code: BillingCodeId, stored: &StoredEntry) -> Vec<String> {
    let date_worked = sent.date_worked;
    let mut d = Vec::new();
    let mut id = |what: &str, sent: i64, got: Option<i64>| {
        if got != Some(sent) {
            d.push(format!("{what}: sent {sent}, stored {}", got.map_or("nothing".into(), |g| g.to_string())));
        }
    };
    id("contract", sent.contract_id.get(), stored.contract_id);
    id("role", sent.role_id.get(), stored.role_id);
    id("billing code", billing_code.get(), stored.billing_code_id);
    let hours = sent.hours_worked().get();
    for (what, got) in [("hours worked", stored.hours_worked), ("hours to bill", stored.hours_to_bill)] {
        if got.is_none_or(|g| (g - hours).abs() > HOURS_TOLERANCE) {
            d.push(format!("{what}: sent {hours:.4}, stored {}", got.map_or("nothing".into(), |g| format!("{g:.4}"))));
        }
    }
    if stored.date_worked != Some(date_worked) {
        d.push(format!(
            "date worked: sent {date_worked}, stored {}",
            stored.date_worked.map_or("nothing".into(), |g| g.to_string())
        ));
    }
    d
}

/// The time-entry ledger state of one action (kept in the state store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum LedgerState {
    /// Claimed; the Autotask write may or may not have happened.
    Pending,
    /// Written in Autotask with this id.
    Written { time_entry_id: TimeEntryId },
    /// Refused (e.g. the contract changed); a human was told.
    Refused { why: String },
}

/// What to do for an action, given its ledger state and, when the state is
/// pending, whether Autotask already holds an entry carrying its marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Nothing written yet anywhere: write the entry.
    Write,
    /// Autotask has it (a crash hit between the write and the ledger update): record it.
    RecordExisting(TimeEntryId),
    /// Already finished: do nothing.
    Done,
}

pub fn next_step(ledger: Option<&LedgerState>, found_in_autotask: Option<TimeEntryId>) -> NextStep {
    match (ledger, found_in_autotask) {
        (Some(LedgerState::Written { .. } | LedgerState::Refused { .. }), _) => NextStep::Done,
        (_, Some(id)) => NextStep::RecordExisting(id),
        (None | Some(LedgerState::Pending), None) => NextStep::Write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn span(secs: i64) -> WorkSpan {
        let t = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        WorkSpan::new(t, t + Duration::seconds(secs)).unwrap()
    }
    fn req<'a>(action: &'a ActionId, decided: i64, current: Option<i64>, secs: i64) -> EntryRequest<'a> {
        EntryRequest {
            action_id: action,
            ticket_id: TicketId::new(1).unwrap(),
            decided_contract: ContractId::new(decided).unwrap(),
            current_contract: current.map(|c| ContractId::new(c).unwrap()),
            resource_id: ResourceId::new(900).unwrap(),
            role_id: RoleId::new(3).unwrap(),
            billing_code_id: None,
            span: span(secs),
            time_zone: crate::TenantTimeZone::UTC,
            summary_notes: "Reset the password; approved by ana@msp.example",
        }
    }

    #[test]
    fn a_stored_entry_that_differs_from_what_was_sent_is_named_field_by_field() {
        let a: ActionId = "act-rb".parse().unwrap();
        let d = TimeEntryDraft::new(req(&a, 7, Some(7), 36)).unwrap();
        let code = BillingCodeId::new(1).unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let same = StoredEntry {
            contract_id: Some(7),
            role_id: Some(3),
            billing_code_id: Some(1),
            hours_worked: Some(0.01),
            hours_to_bill: Some(0.0101),
            date_worked: Some(day),
        };
        assert!(entry_differences(&d, code, &same).is_empty());
        let changed = StoredEntry { billing_code_id: Some(9), hours_to_bill: Some(0.25), ..same.clone() };
        let diff = entry_differences(&d, code, &changed);
        assert_eq!(diff, ["billing code: sent 1, stored 9", "hours to bill: sent 0.0100, stored 0.2500"]);
        let next_day = StoredEntry { date_worked: day.succ_opt(), contract_id: None, ..same };
        assert_eq!(entry_differences(&d, code, &next_day).len(), 2);
    }

    #[test]
    fn date_worked_is_the_tenants_calendar_date_not_utcs() {
        let a = ActionId::new("a1").unwrap();
        let late = Utc.with_ymd_and_hms(2026, 11, 3, 3, 30, 0).unwrap(); // 22:30 EST on the 2nd
        let mut r = req(&a, 7, Some(7), 60);
        r.span = WorkSpan::new(late, late + Duration::seconds(60)).unwrap();
        assert_eq!(TimeEntryDraft::new(r.clone()).unwrap().date_worked.to_string(), "2026-11-03");
        r.time_zone = "America/New_York".parse().unwrap();
        assert_eq!(TimeEntryDraft::new(r).unwrap().date_worked.to_string(), "2026-11-02");
    }

    #[test]
    fn entry_is_bound_to_the_tickets_own_contract() {
        let a = ActionId::new("a1").unwrap();
        let d = TimeEntryDraft::new(req(&a, 11, Some(11), 8)).unwrap();
        assert_eq!(d.contract_id.get(), 11);
        assert_eq!(d.hours_worked().get(), 0.002222);
        assert!(d.internal_notes().contains("[atpilot:a1]"));
        assert!(matches!(TimeEntryDraft::new(req(&a, 11, Some(12), 8)), Err(TimeEntryError::ContractChanged { .. })));
        assert!(matches!(TimeEntryDraft::new(req(&a, 11, None, 8)), Err(TimeEntryError::ContractRemoved { .. })));
        let mut empty = req(&a, 11, Some(11), 8);
        empty.summary_notes = "  ";
        assert_eq!(TimeEntryDraft::new(empty), Err(TimeEntryError::EmptySummary));
    }

    #[test]
    fn next_step_is_exactly_once() {
        let id = TimeEntryId::new(5).unwrap();
        assert_eq!(next_step(None, None), NextStep::Write);
        assert_eq!(next_step(Some(&LedgerState::Pending), None), NextStep::Write);
        assert_eq!(next_step(Some(&LedgerState::Pending), Some(id)), NextStep::RecordExisting(id));
        assert_eq!(next_step(Some(&LedgerState::Written { time_entry_id: id }), None), NextStep::Done);
        assert_eq!(next_step(Some(&LedgerState::Refused { why: "x".into() }), None), NextStep::Done);
    }

    #[derive(Debug, Clone)]
    enum Event {
        /// Deliver the message of action i; `crash` stops after the Autotask write.
        Deliver { action: usize, crash: bool },
    }

    proptest! {
        /// For any sequence of deliveries, redeliveries and crashes between the
        /// Autotask write and the ledger update, each action ends with at most
        /// one entry, the logged total never exceeds the measured total, and
        /// once every action is delivered without a crash they are equal.
        #[test]
        fn redeliveries_and_crashes_never_double_log(
            secs in proptest::collection::vec(1i64..3_000, 1..6),
            events in proptest::collection::vec((0usize..6, any::<bool>()), 0..40),
        ) {
            let actions: Vec<ActionId> = (0..secs.len()).map(|i| ActionId::new(format!("a{i}")).unwrap()).collect();
            let mut ledger: HashMap<usize, LedgerState> = HashMap::new();
            let mut autotask: Vec<(usize, TimeEntryDraft)> = Vec::new();
            let mut next_id = 1;
            let mut run = |i: usize, crash: bool, ledger: &mut HashMap<usize, LedgerState>, autotask: &mut Vec<(usize, TimeEntryDraft)>| {
                let found = autotask.iter().position(|(a, _)| *a == i).map(|p| TimeEntryId::new(p as i64 + 1).unwrap());
                match next_step(ledger.get(&i), found) {
                    NextStep::Done => {}
                    NextStep::RecordExisting(id) => { ledger.insert(i, LedgerState::Written { time_entry_id: id }); }
                    NextStep::Write => {
                        ledger.insert(i, LedgerState::Pending);
                        let draft = TimeEntryDraft::new(req(&actions[i], 11, Some(11), secs[i])).unwrap();
                        autotask.push((i, draft));
                        let id = TimeEntryId::new(next_id).unwrap();
                        next_id += 1;
                        if !crash { ledger.insert(i, LedgerState::Written { time_entry_id: id }); }
                    }
                }
            };
            for (action, crash) in events.iter().map(|(a, c)| (*a, *c)) {
                let ev = Event::Deliver { action, crash };
                let Event::Deliver { action, crash } = ev;
                if action < secs.len() { run(action, crash, &mut ledger, &mut autotask); }
            }
            for i in 0..secs.len() { run(i, false, &mut ledger, &mut autotask); }
            for i in 0..secs.len() {
                prop_assert_eq!(autotask.iter().filter(|(a, _)| *a == i).count(), 1);
            }
            let logged: f64 = autotask.iter().map(|(_, d)| d.hours_worked().get()).sum();
            let measured: f64 = secs.iter().map(|s| *s as f64 / 3600.0).sum();
            prop_assert!(logged <= measured + 1e-9);
            prop_assert!(measured - logged < 1e-6 * secs.len() as f64 + 1e-9);
            prop_assert!(autotask.iter().all(|(_, d)| d.ticket_id.get() == 1 && d.contract_id.get() == 11));
        }
    }
}
