//! The audit itself: pure functions from [`Collected`](crate::rows::Collected) rows to an [`Audit`].
//!
//! * this room: the thresholds ([`AuditConfig`]), the findings and the
//!   issue's JSON object;
//! * `history`: first touch, open tickets, and queue moves read from TicketHistory;
//! * `run`: the audit over collected rows, step by step;
//! * `recommend`: the UDF findings and the plain-word recommendations;
//! * `stats`: medians, shares, cosine similarity and percentages.

mod history;
mod recommend;
mod run;
mod stats;

pub use history::{QueueMove, Routing, first_touch, is_open, looks_like_a_change, parse_queue_move, ticket_routing};
pub use run::audit;
pub use stats::pct;

use crate::routing::{QueueRouting, RoutingResult, RoutingSignal};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Thresholds, named so the report can say what they were.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// A queue needs this many tickets before it is flagged either way.
    pub min_tickets: usize,
    /// Actively monitored: at least this share of its tickets older than a day were touched…
    pub monitored_touched_share: f64,
    /// …and at least this share of last month's (when it had ≥ 5 of them).
    pub monitored_recent_share: f64,
    /// Dumping ground, sign 1: over the queue's intake (its tickets and the
    /// sampled tickets that entered it first) with a known issue type, no
    /// issue type reaches this share, and at least `mixed_min_types` issue
    /// types reach `mixed_type_share` each.
    pub mixed_top_share: f64,
    pub mixed_min_types: usize,
    pub mixed_type_share: f64,
    /// Sign 2: this share of its tickets are open, older than `old_days` and never touched.
    pub old_untouched_share: f64,
    pub old_days: i64,
    /// Sign 3: this share of the sampled tickets that enter it are moved to
    /// another queue by hand within an hour of creation (later escalations
    /// are normal work and never a sign).
    pub moved_out_share: f64,
    /// Queues whose issue-type mixes are this similar (cosine) are merge candidates.
    pub merge_similarity: f64,
    /// SLA met below this share gets a recommendation.
    pub sla_target: f64,
    /// UDFs filled on fewer than this share of recent tickets are "empty".
    pub udf_empty_below: f64,
    /// Cross-validation folds of the routing comparison.
    pub folds: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            min_tickets: 10,
            monitored_touched_share: 0.5,
            monitored_recent_share: 0.25,
            mixed_top_share: 0.5,
            mixed_min_types: 3,
            mixed_type_share: 0.05,
            old_untouched_share: 0.2,
            old_days: 7,
            moved_out_share: 0.10,
            merge_similarity: 0.95,
            sla_target: 0.8,
            udf_empty_below: 0.05,
            folds: 3,
        }
    }
}

/// One queue's findings. The JSON output carries the fields the issue names;
/// the others feed the Markdown and HTML reports.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueAudit {
    pub queue_id: i64,
    pub queue: String,
    pub active_in_picklist: bool,
    pub tickets: usize,
    pub open: usize,
    pub median_first_touch_hours: Option<f64>,
    pub untouched_24h_share: Option<f64>,
    pub actively_monitored: bool,
    pub dumping_ground: bool,
    pub rerouted_within_1h_share: Option<f64>,
    pub sla_met_share: Option<f64>,
    pub routing_signal: RoutingSignal,
    // --- detail ---
    pub touched_share: Option<f64>,
    pub median_open_age_days: Option<f64>,
    pub oldest_open_days: Option<f64>,
    /// (issue type label, tickets), most frequent first.
    pub issue_types: Vec<(String, usize)>,
    pub top_issue_share: Option<f64>,
    pub old_untouched_share: Option<f64>,
    /// Sampled tickets that started in this queue, and the share moved out later (at any time).
    pub sampled_started_here: usize,
    pub moved_out_share: Option<f64>,
    pub sla_tickets: usize,
    pub sla_first_response_met_share: Option<f64>,
    pub routing: Option<QueueRouting>,
    /// Distinct resources that wrote notes on its sampled tickets.
    pub note_authors: usize,
    /// Why the flags are what they are, in plain words.
    pub reasons: Vec<String>,
}

/// A re-route observed within an hour of intake, with examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Reroute {
    pub from_queue_id: i64,
    pub to_queue_id: i64,
    pub count: usize,
    /// (ticket number or id, title), up to three.
    pub examples: Vec<(String, String)>,
    /// Who moved them: (resource id, count), most first.
    pub by: Vec<(i64, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UdfAudit {
    pub defined: usize,
    /// Share of (recent ticket × defined UDF) pairs with no value.
    pub empty_share: Option<f64>,
    /// (name, filled share), in definition order.
    pub fields: Vec<(String, f64)>,
    pub tickets_read: u64,
    /// Share of the ticket payload the UDFs take.
    pub payload_share: Option<f64>,
    /// IncludeFields the agent should request.
    pub recommended_fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub since: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub tickets: usize,
    pub api_requests: u64,
    pub queues: Vec<QueueAudit>,
    pub reroutes: Vec<Reroute>,
    pub udfs: UdfAudit,
    pub recommendations: Vec<String>,
    // --- detail ---
    pub sample: crate::rows::SampleInfo,
    /// Sampled tickets re-routed within an hour, of those with history.
    pub rerouted_within_1h: (usize, usize),
    /// TicketHistory rows of the sample that speak of the queue but could
    /// not be read as a move (an unknown wording or queue).
    pub history_rows_unread: usize,
    pub routing: RoutingResult,
    pub resources: BTreeMap<i64, String>,
    pub requests_by_stage: Vec<(String, u64)>,
    pub config: AuditConfig,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
fn opt4(x: Option<f64>) -> Value {
    x.map(|v| json!(round4(v))).unwrap_or(Value::Null)
}

impl Audit {
    /// The `--format json` object, exactly as the issue specifies it.
    pub fn to_json(&self) -> Value {
        json!({
            "since": self.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tickets": self.tickets,
            "api_requests": self.api_requests,
            "queues": self.queues.iter().map(|q| json!({
                "queue_id": q.queue_id,
                "queue": q.queue,
                "tickets": q.tickets,
                "open": q.open,
                "median_first_touch_hours": opt4(q.median_first_touch_hours),
                "untouched_24h_share": opt4(q.untouched_24h_share),
                "actively_monitored": q.actively_monitored,
                "dumping_ground": q.dumping_ground,
                "rerouted_within_1h_share": opt4(q.rerouted_within_1h_share),
                "sla_met_share": opt4(q.sla_met_share),
                "routing_signal": q.routing_signal.as_str(),
            })).collect::<Vec<_>>(),
            "reroutes": self.reroutes.iter().map(|r| json!({"from_queue_id": r.from_queue_id, "to_queue_id": r.to_queue_id, "count": r.count})).collect::<Vec<_>>(),
            "udfs": {"defined": self.udfs.defined, "empty_share": opt4(self.udfs.empty_share)},
            "recommendations": self.recommendations,
        })
    }

    pub fn queue(&self, id: i64) -> Option<&QueueAudit> {
        self.queues.iter().find(|q| q.queue_id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{Collected, HistoryRow, SampleInfo, TicketRow, UdfStats};
    use chrono::Duration;
    use std::collections::BTreeSet;

    fn qs() -> Vec<(i64, String, bool)> {
        vec![
            (1, "Triage".into(), true),
            (2, "Service Desk".into(), true),
            (3, "Legacy".into(), true),
            (4, "Empty".into(), true),
            (5, "Sales to Ops".into(), true),
        ]
    }

    #[test]
    fn parses_queue_moves_in_every_wording_seen() {
        let q = qs();
        let mv = |from, to| Some(QueueMove { from, to });
        let detail = |d: &str| parse_queue_move("", d, &q);
        assert_eq!(detail("Queue changed from Triage to Service Desk"), mv(1, 2));
        assert_eq!(detail("queue changed from Sales to Ops to Triage."), mv(5, 1));
        assert_eq!(detail("Queue changed from 1 to 2"), mv(1, 2));
        assert_eq!(detail("Queue: Triage -> Service Desk"), mv(1, 2));
        assert_eq!(detail("queueID changed: 1 \u{2192} 2"), mv(1, 2));
        assert_eq!(detail("Queue changed from \"Triage\" to \"Service Desk\""), mv(1, 2));
        // The field named in `action`, the values alone in `detail`.
        assert_eq!(parse_queue_move("Queue", "Triage \u{2192} Service Desk", &q), mv(1, 2));
        assert_eq!(parse_queue_move("queueID", "From 1 To 2", &q), mv(1, 2));
        assert_eq!(parse_queue_move("Edited", "Queue changed from Triage to Legacy", &q), mv(1, 3));
        assert_eq!(detail("Status changed from New to Complete"), None);
        // A mention is not a move, and is not counted as an unread one.
        assert_eq!(detail("Ticket created in queue Triage"), None);
        assert!(!looks_like_a_change("Ticket created in queue Triage"));
        assert!(looks_like_a_change("Queue reassigned -> somewhere") && looks_like_a_change("moved by rule 12"));
        assert_eq!(detail("Queue changed from Nowhere to Triage"), None);
    }

    fn t(id: i64, q: i64, issue: i64, created: DateTime<Utc>, touched: Option<i64>, done: bool) -> TicketRow {
        TicketRow {
            id,
            number: Some(format!("T{id}")),
            title: format!("ticket {id}"),
            created,
            queue: Some(q),
            status: Some(if done { 5 } else { 1 }),
            issue_type: Some(issue),
            company: Some(id % 4),
            contract: None,
            assigned: None,
            first_response: touched.map(|m| created + Duration::minutes(m)),
            last_activity: Some(created),
            resolved: None,
            completed: done.then(|| created + Duration::hours(5)),
            sla: Some(1),
            sla_met: Some(done),
        }
    }

    /// A small tenant: Triage receives everything and forwards a third of it;
    /// Legacy is never touched; Service Desk works password tickets.
    fn tenant() -> Collected {
        let now: DateTime<Utc> = "2024-06-01T00:00:00Z".parse().unwrap();
        let mut c = Collected {
            since: now - Duration::days(90),
            now,
            queues: qs(),
            issue_types: [
                (10, "Passwords".to_string()),
                (11, "Printers".into()),
                (12, "Network".into()),
                (13, "Email".into()),
            ]
            .into(),
            complete_statuses: vec![5],
            udfs: UdfStats {
                defined: vec!["Impact".into(), "Unused".into()],
                tickets: 100,
                filled: [("Impact".to_string(), 90)].into(),
                udf_bytes: 10,
                row_bytes: 100,
            },
            sample: SampleInfo::default(),
            ..Default::default()
        };
        let mut id = 0;
        for d in 0..60 {
            let created = now - Duration::days(80) + Duration::days(d);
            id += 1;
            c.tickets.push(t(id, 2, 10, created, Some(30), true));
            id += 1;
            c.tickets.push(t(id, 1, 10 + (d % 4), created, Some(45), true));
            c.history.insert(
                id,
                vec![HistoryRow {
                    ticket: id,
                    date: created,
                    action: "Created".into(),
                    detail: "Ticket created".into(),
                    resource: None,
                }],
            );
            if d % 3 == 0 {
                // re-routed from Triage to Service Desk after 20 minutes
                id += 1;
                let mut x = t(id, 2, 10, created, Some(30), true);
                x.title = "password reset".into();
                c.tickets.push(x);
                c.history.insert(
                    id,
                    vec![HistoryRow {
                        ticket: id,
                        date: created + Duration::minutes(20),
                        action: "Edited".into(),
                        detail: "Queue changed from Triage to Service Desk".into(),
                        resource: Some(6),
                    }],
                );
            }
            if d % 4 == 0 {
                id += 1;
                c.tickets.push(t(id, 3, 10 + (d % 3), created, None, false));
            }
        }
        c
    }

    #[test]
    fn finds_the_planted_cases() {
        let a = audit(&tenant(), &AuditConfig::default());
        let triage = a.queue(1).unwrap();
        let sd = a.queue(2).unwrap();
        let legacy = a.queue(3).unwrap();
        assert!(triage.dumping_ground && triage.actively_monitored, "{triage:?}");
        assert!(!sd.dumping_ground && sd.actively_monitored);
        assert!(!legacy.actively_monitored && legacy.open == legacy.tickets);
        assert_eq!(legacy.median_first_touch_hours, None);
        assert_eq!(legacy.untouched_24h_share, Some(1.0));
        assert_eq!(sd.median_first_touch_hours, Some(0.5));
        // 20 of the 80 sampled tickets that start in Triage moved within the hour
        assert_eq!(triage.sampled_started_here, 80);
        assert_eq!(triage.rerouted_within_1h_share, Some(0.25));
        assert_eq!(a.reroutes.len(), 1);
        assert_eq!((a.reroutes[0].from_queue_id, a.reroutes[0].to_queue_id, a.reroutes[0].count), (1, 2, 20));
        assert_eq!(a.reroutes[0].by, vec![(6, 20)]);
        assert_eq!(a.queue(4).unwrap().tickets, 0);
        assert_eq!(a.udfs.defined, 2);
        assert!((a.udfs.empty_share.unwrap() - 0.55).abs() < 1e-9);
        let recs = a.recommendations.join("\n");
        assert!(recs.contains("Nobody works \u{201c}Legacy\u{201d}"), "{recs}");
        assert!(recs.contains("\u{201c}Triage\u{201d} is a dumping ground"), "{recs}");
        assert!(recs.contains("Retire or merge 2 queues"), "{recs}");
        assert!(recs.contains("Unused"), "{recs}");
        let j = a.to_json();
        let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7);
        let qk: BTreeSet<&str> = j["queues"][0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            qk,
            BTreeSet::from([
                "queue_id",
                "queue",
                "tickets",
                "open",
                "median_first_touch_hours",
                "untouched_24h_share",
                "actively_monitored",
                "dumping_ground",
                "rerouted_within_1h_share",
                "sla_met_share",
                "routing_signal"
            ])
        );
    }

    #[test]
    fn first_touch_ignores_activity_at_creation() {
        let now: DateTime<Utc> = "2024-06-01T00:00:00Z".parse().unwrap();
        let mut x = t(1, 1, 1, now, None, false);
        assert_eq!(first_touch(&x), None);
        x.last_activity = Some(now + Duration::hours(3));
        assert_eq!(first_touch(&x), Some(now + Duration::hours(3)));
        x.first_response = Some(now + Duration::hours(1));
        assert_eq!(first_touch(&x), Some(now + Duration::hours(1)));
    }
}
