//! The routing audit on a tenant written here by hand, independent of the
//! project's sandbox (issue "Autotask as it really behaves", 14–16): a triage
//! queue whose intake dispatchers move out within the hour, a first-line
//! queue whose tickets are routinely escalated hours or days later, and
//! TicketHistory in the wordings live tenants use.

use atpilot_audit::rows::{Collected, HistoryRow, TicketRow};
use atpilot_audit::{AuditConfig, audit};
use chrono::{DateTime, Duration, Utc};

const TRIAGE: i64 = 10;
const FIRST_LINE: i64 = 20;
const TIER2: i64 = 30;
const NETWORK: i64 = 40;
const ISSUES: [i64; 5] = [101, 102, 103, 104, 105];

fn ticket(id: i64, queue: i64, issue: Option<i64>, created: DateTime<Utc>, worked: bool) -> TicketRow {
    TicketRow {
        id,
        number: Some(format!("T2026.{id:04}")),
        title: format!("ticket {id}"),
        created,
        queue: Some(queue),
        status: Some(if worked { 5 } else { 1 }),
        issue_type: issue,
        company: Some(id % 7),
        contract: None,
        assigned: None,
        first_response: worked.then(|| created + Duration::minutes(40)),
        last_activity: Some(created),
        resolved: None,
        completed: worked.then(|| created + Duration::hours(6)),
        sla: None,
        sla_met: None,
    }
}

fn row(id: i64, at: DateTime<Utc>, action: &str, detail: &str) -> HistoryRow {
    HistoryRow { ticket: id, date: at, action: action.into(), detail: detail.into(), resource: Some(77) }
}

fn tenant() -> Collected {
    let now: DateTime<Utc> = "2026-10-01T00:00:00Z".parse().unwrap();
    let mut c = Collected {
        since: now - Duration::days(60),
        now,
        queues: vec![
            (TRIAGE, "Triage".into(), true),
            (FIRST_LINE, "Service Desk".into(), true),
            (TIER2, "Tier 2".into(), true),
            (NETWORK, "Network".into(), true),
        ],
        issue_types: ISSUES.iter().map(|i| (*i, format!("Issue {i}"))).collect(),
        complete_statuses: vec![5],
        ..Default::default()
    };
    let mut id = 0;
    for d in 0..50 {
        let created = now - Duration::days(55) + Duration::days(d);
        // Triage: 9 in 10 moved out by a dispatcher within 20 minutes, triaged on the way.
        for k in 0..10 {
            id += 1;
            if k < 9 {
                let dest = if k % 2 == 0 { FIRST_LINE } else { NETWORK };
                let issue = ISSUES[(id as usize) % ISSUES.len()];
                c.tickets.push(ticket(id, dest, Some(issue), created, true));
                let label = if dest == FIRST_LINE { "Service Desk" } else { "Network" };
                let moved = match k % 3 {
                    0 => row(id, created + Duration::minutes(20), "Queue", &format!("Triage \u{2192} {label}")),
                    1 => row(id, created + Duration::minutes(20), "Edited", &format!("Queue: Triage -> {label}")),
                    _ => row(
                        id,
                        created + Duration::minutes(20),
                        "Edited",
                        &format!("Queue changed from Triage to {label}"),
                    ),
                };
                c.history.insert(id, vec![row(id, created, "Created", "Ticket created"), moved]);
            } else {
                // The one left behind: untriaged, never touched.
                c.tickets.push(ticket(id, TRIAGE, None, created, false));
                c.history.insert(id, vec![row(id, created, "Created", "Ticket created")]);
            }
        }
        // The first-line queue: worked, mixed issue types, 1 in 6 escalated 2 to 48 hours later.
        for k in 0..6 {
            id += 1;
            let issue = Some(ISSUES[(k as usize) % 4]);
            let escalated = k == 0;
            let queue = if escalated { TIER2 } else { FIRST_LINE };
            c.tickets.push(ticket(id, queue, issue, created, true));
            let mut h = vec![row(id, created, "Created", "Ticket created")];
            if escalated {
                let later = created + Duration::hours(2 + (d % 47));
                h.push(row(id, later, "queueID", "From 20 To 30"));
            }
            c.history.insert(id, h);
        }
    }
    // Two history rows in a wording nobody can read.
    c.history.get_mut(&1).unwrap().push(row(1, now - Duration::days(1), "Edited", "Queue reassigned (see workflow)"));
    c.history.get_mut(&2).unwrap().push(row(2, now - Duration::days(1), "Queue", "moved by rule 12"));
    c.sample.history_tickets = c.history.len();
    c
}

#[test]
fn a_triage_queue_is_judged_on_its_intake_not_on_the_untriaged_tickets_left_in_it() {
    let a = audit(&tenant(), &AuditConfig::default());
    let triage = a.queue(TRIAGE).unwrap();
    assert_eq!(triage.tickets, 50, "only the untriaged tenth is still in it");
    assert!(triage.dumping_ground, "{:#?}", triage.reasons);
    assert!(triage.rerouted_within_1h_share.unwrap() > 0.85, "{:?}", triage.rerouted_within_1h_share);
    let joined = a.recommendations.join("\n");
    assert!(!joined.contains("Nobody works \u{201c}Triage\u{201d}"), "a routed-out queue is not unworked:\n{joined}");
    assert!(joined.contains("\u{201c}Triage\u{201d} is a dumping ground"), "{joined}");
    // A missing issue type is unknown, not one more type.
    assert!(triage.issue_types.iter().any(|(l, k)| l == "(no issue type)" && *k == 50), "{:?}", triage.issue_types);
}

#[test]
fn later_escalations_do_not_flag_a_first_line_queue() {
    let a = audit(&tenant(), &AuditConfig::default());
    let sd = a.queue(FIRST_LINE).unwrap();
    assert!(!sd.dumping_ground, "{:#?}", sd.reasons);
    assert!(sd.actively_monitored);
    assert!(
        sd.reasons.iter().any(|r| r.contains("escalated to another queue hours or days later")),
        "{:#?}",
        sd.reasons
    );
    assert!(sd.moved_out_share.unwrap() > 0.1, "the escalations are seen: {:?}", sd.moved_out_share);
}

#[test]
fn history_in_any_observed_wording_is_read_and_the_unreadable_rows_are_counted() {
    let a = audit(&tenant(), &AuditConfig::default());
    // Every triage move (three wordings) and every escalation (field in `action`) was read.
    let (rerouted, sampled) = a.rerouted_within_1h;
    assert_eq!((rerouted, sampled), (450, 800));
    assert_eq!(a.history_rows_unread, 2);
    assert!(a.recommendations.iter().any(|r| r.starts_with("2 TicketHistory rows")), "{:?}", a.recommendations);
}
