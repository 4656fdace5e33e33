//! Which labelled tickets a model may learn from: only tickets worked to
//! completion, labelled with an active picklist value, in a queue that is
//! worked and is not a triage queue (issue "Autotask as it really behaves",
//! 17). Everything left out is counted by label and reason, for the train
//! report.

use crate::analyze::ticket_routing;
use crate::rows::{HistoryRow, TicketRow};
use std::collections::BTreeMap;

/// A queue needs this many labelled tickets before it is judged unworked.
const MIN_TICKETS: usize = 10;
/// Unworked: fewer than this share of its tickets completed.
const MIN_COMPLETED_SHARE: f64 = 0.2;
/// Triage: at least this share of the sampled tickets that enter it are moved on within the hour…
const TRIAGE_SHARE: f64 = 0.5;
/// …of at least this many.
const MIN_INTAKE: usize = 5;

/// Tickets left out of training with one label for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub label: String,
    pub why: String,
    pub tickets: usize,
}

/// Why each queue's tickets are not learned from (absent: they are).
#[derive(Debug, Clone, Default)]
pub struct QueueFlags {
    why: BTreeMap<i64, String>,
}

impl QueueFlags {
    /// Judges every queue from the labelled tickets, their sampled history
    /// and the queue picklist `(value, label, active)`.
    pub fn judge(
        tickets: &[&TicketRow],
        history: &BTreeMap<i64, Vec<HistoryRow>>,
        queues: &[(i64, String, bool)],
        complete: &[i64],
    ) -> Self {
        let mut worked: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
        let mut intake: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
        for t in tickets {
            let e = worked.entry(t.queue.unwrap_or(0)).or_default();
            e.0 += 1;
            e.1 += completed(t, complete) as usize;
            if let Some(h) = history.get(&t.id) {
                let r = ticket_routing(t, h, queues);
                let e = intake.entry(r.initial_queue.unwrap_or(0)).or_default();
                e.0 += 1;
                e.1 += !r.early_moves.is_empty() as usize;
            }
        }
        let mut why = BTreeMap::new();
        for (q, _, _) in queues.iter().filter(|(_, _, active)| !active) {
            why.insert(*q, "its queue is inactive in the queueID picklist".to_string());
        }
        for (q, (n, done)) in &worked {
            if *n >= MIN_TICKETS && (*done as f64) < MIN_COMPLETED_SHARE * *n as f64 {
                why.entry(*q).or_insert(format!("nobody works its queue ({done} of {n} tickets completed)"));
            }
        }
        for (q, (n, moved)) in &intake {
            if *n >= MIN_INTAKE && *moved as f64 >= TRIAGE_SHARE * *n as f64 {
                why.entry(*q).or_insert(format!(
                    "its queue is a triage queue ({moved} of the {n} sampled tickets that enter it are moved on within the hour)"
                ));
            }
        }
        Self { why }
    }

    /// Why a ticket is left out, if it is: not completed, an inactive label
    /// value, or a flagged queue.
    pub fn why_left_out(&self, t: &TicketRow, label_active: bool, field: &str, complete: &[i64]) -> Option<String> {
        if !completed(t, complete) {
            return Some("not worked to completion".into());
        }
        if !label_active {
            return Some(format!("an inactive {field} value"));
        }
        t.queue.and_then(|q| self.why.get(&q).cloned())
    }
}

fn completed(t: &TicketRow, complete: &[i64]) -> bool {
    t.completed.is_some() || t.status.is_some_and(|s| complete.contains(&s))
}

/// Counts of (label, reason), most tickets first.
pub fn tally(left: impl IntoIterator<Item = (String, String)>) -> Vec<LeftOut> {
    let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
    for k in left {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<LeftOut> = m.into_iter().map(|((label, why), tickets)| LeftOut { label, why, tickets }).collect();
    v.sort_by(|a, b| b.tickets.cmp(&a.tickets).then(a.label.cmp(&b.label)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};

    fn t(id: i64, queue: i64, done: bool) -> TicketRow {
        let created: DateTime<Utc> = "2026-09-01T00:00:00Z".parse().unwrap();
        TicketRow {
            id,
            number: None,
            title: String::new(),
            created: created + Duration::hours(id),
            queue: Some(queue),
            status: Some(if done { 5 } else { 1 }),
            issue_type: None,
            company: None,
            contract: None,
            assigned: None,
            first_response: None,
            last_activity: None,
            resolved: None,
            completed: None,
            sla: None,
            sla_met: None,
        }
    }

    #[test]
    fn only_completed_tickets_of_worked_active_non_triage_queues_are_learned_from() {
        let queues = vec![
            (1, "Triage".to_string(), true),
            (2, "Desk".into(), true),
            (3, "Voicemail".into(), true),
            (4, "Old".into(), false),
        ];
        let mut tickets = vec![];
        let mut history = BTreeMap::new();
        for id in 0..10 {
            // Desk: 10 completed tickets, 8 of them moved in from Triage within 20 minutes.
            let x = t(id, 2, true);
            if id < 8 {
                let at = x.created + Duration::minutes(20);
                let detail = "Queue changed from Triage to Desk".to_string();
                history.insert(
                    id,
                    vec![HistoryRow { ticket: id, date: at, action: "Edited".into(), detail, resource: None }],
                );
            }
            tickets.push(x);
            // Voicemail: 10 tickets, 1 completed.
            tickets.push(t(100 + id, 3, id == 0));
        }
        // A completed ticket left in Triage, and one in an inactive queue.
        let closed_in_triage = t(200, 1, true);
        history.insert(200, vec![]);
        tickets.push(closed_in_triage.clone());
        let in_old = t(300, 4, true);
        tickets.push(in_old.clone());
        let refs: Vec<&TicketRow> = tickets.iter().collect();
        let flags = QueueFlags::judge(&refs, &history, &queues, &[5]);
        let why = |x: &TicketRow, active| flags.why_left_out(x, active, "queueID", &[5]);
        assert_eq!(why(&tickets[0], true), None, "a completed Desk ticket is learned from");
        assert_eq!(why(&tickets[0], false).as_deref(), Some("an inactive queueID value"));
        assert_eq!(why(&tickets[3], true).as_deref(), Some("not worked to completion"), "an open Voicemail ticket");
        assert!(
            why(&tickets[1], true).unwrap().starts_with("nobody works its queue (1 of 10"),
            "{:?}",
            why(&tickets[1], true)
        );
        assert!(why(&closed_in_triage, true).unwrap().starts_with("its queue is a triage queue (8 of the 9"));
        assert_eq!(why(&in_old, true).as_deref(), Some("its queue is inactive in the queueID picklist"));
        let counted = tally([("A".to_string(), "x".to_string()), ("B".into(), "y".into()), ("A".into(), "x".into())]);
        assert_eq!(counted[0], LeftOut { label: "A".into(), why: "x".into(), tickets: 2 });
    }
}
