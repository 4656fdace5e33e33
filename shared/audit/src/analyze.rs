//! The audit itself: pure functions from [`Collected`] rows to an [`Audit`].

use crate::routing::{self, QueueRouting, RoutingExample, RoutingResult, RoutingSignal};
use crate::rows::{Collected, HistoryRow, TicketRow};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Thresholds, named so the report can say what they were.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// A queue needs this many tickets before it is flagged either way.
    pub min_tickets: usize,
    /// Actively monitored: at least this share of its tickets older than a day were touched…
    pub monitored_touched_share: f64,
    /// …and at least this share of last month's (when it had ≥ 5 of them).
    pub monitored_recent_share: f64,
    /// Dumping ground, sign 1: no issue type reaches this share, and at least
    /// `mixed_min_types` issue types reach `mixed_type_share` each.
    pub mixed_top_share: f64,
    pub mixed_min_types: usize,
    pub mixed_type_share: f64,
    /// Sign 2: this share of its tickets are open, older than `old_days` and never touched.
    pub old_untouched_share: f64,
    pub old_days: i64,
    /// Sign 3: this share of the sampled tickets that start in it are moved to another queue later.
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
    pub routing: RoutingResult,
    pub resources: BTreeMap<i64, String>,
    pub requests_by_stage: Vec<(String, u64)>,
    pub config: AuditConfig,
}

/// The moment a ticket was first touched, from its own fields: first
/// response, resolution, completion, or a last activity after creation.
pub fn first_touch(t: &TicketRow) -> Option<DateTime<Utc>> {
    let after_create = t.last_activity.filter(|d| *d > t.created + Duration::seconds(60));
    [t.first_response, t.resolved, t.completed, after_create].into_iter().flatten().filter(|d| *d >= t.created).min()
}

pub fn is_open(t: &TicketRow, complete: &[i64]) -> bool {
    t.completed.is_none() && !t.status.is_some_and(|s| complete.contains(&s))
}

/// A queue change read from a TicketHistory row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueMove {
    pub from: i64,
    pub to: i64,
}

/// Parses "Queue changed from X to Y" (labels or ids) against the queue
/// picklist; longest labels win, so "A to B" labels cannot confuse it.
pub fn parse_queue_move(detail: &str, queues: &[(i64, String, bool)]) -> Option<QueueMove> {
    let lower = detail.to_lowercase();
    let qpos = lower.find("queue")?;
    let rest = &detail[qpos..];
    let rest_l = rest.to_lowercase();
    let fpos = rest_l.find(" from ")?;
    let after = &rest[fpos + 6..];
    let resolve = |s: &str| -> Vec<(i64, usize)> {
        // every queue whose label (or id) is a prefix of s, with its length
        let sl = s.to_lowercase();
        let mut v: Vec<(i64, usize)> = queues
            .iter()
            .flat_map(|(id, label, _)| {
                let l = label.to_lowercase();
                let ids = id.to_string();
                [(sl.starts_with(&l) && !l.is_empty()).then_some((*id, label.len())), sl.starts_with(&ids).then_some((*id, ids.len()))]
            })
            .flatten()
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1));
        v
    };
    for (from, len) in resolve(after) {
        let tail = &after[len..];
        if tail.len() >= 4 && tail[..4].eq_ignore_ascii_case(" to ") {
            let dest = tail[4..].trim_end_matches(['.', ' ']);
            if let Some((to, l2)) = resolve(dest).into_iter().find(|(_, l)| dest.len() == *l || dest[*l..].trim().is_empty()) {
                let _ = l2;
                return Some(QueueMove { from, to });
            }
        }
    }
    None
}

/// What one sampled ticket's history says about routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub initial_queue: Option<i64>,
    /// Moves within an hour of creation, with who made them.
    pub early_moves: Vec<(QueueMove, Option<i64>)>,
    /// Moves at any time.
    pub moves: usize,
}

pub fn ticket_routing(t: &TicketRow, history: &[HistoryRow], queues: &[(i64, String, bool)]) -> Routing {
    let mut rows: Vec<&HistoryRow> = history.iter().collect();
    rows.sort_by_key(|h| h.date);
    let moves: Vec<(DateTime<Utc>, QueueMove, Option<i64>)> =
        rows.iter().filter_map(|h| parse_queue_move(&h.detail, queues).filter(|m| m.from != m.to).map(|m| (h.date, m, h.resource))).collect();
    let initial_queue = moves.first().map(|(_, m, _)| m.from).or(t.queue);
    let early_moves = moves.iter().filter(|(d, _, _)| *d - t.created <= Duration::hours(1)).map(|(_, m, r)| (*m, *r)).collect();
    Routing { initial_queue, early_moves, moves: moves.len() }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

fn share(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

fn cosine(a: &BTreeMap<i64, usize>, b: &BTreeMap<i64, usize>) -> f64 {
    let dot: f64 = a.iter().map(|(k, x)| *x as f64 * *b.get(k).unwrap_or(&0) as f64).sum();
    let na: f64 = a.values().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.values().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

pub fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p > 0.0 && p < 1.0 { format!("{p:.1}%") } else { format!("{p:.0}%") }
}

/// Runs the audit over collected rows.
pub fn audit(c: &Collected, cfg: &AuditConfig) -> Audit {
    let now = c.now;
    let label_of = |q: i64| c.queues.iter().find(|(v, _, _)| *v == q).map(|(_, l, _)| l.clone()).unwrap_or_else(|| format!("Queue {q}"));
    let issue_label = |i: Option<i64>| match i {
        Some(i) => c.issue_types.get(&i).cloned().unwrap_or_else(|| format!("Issue type {i}")),
        None => "(no issue type)".to_string(),
    };

    // --- tickets by current queue ---
    let mut by_queue: BTreeMap<i64, Vec<&TicketRow>> = BTreeMap::new();
    for t in &c.tickets {
        by_queue.entry(t.queue.unwrap_or(0)).or_default().push(t);
    }
    let tickets_by_id: BTreeMap<i64, &TicketRow> = c.tickets.iter().map(|t| (t.id, t)).collect();

    // --- history sample: initial queues, moves ---
    let mut started: BTreeMap<i64, usize> = BTreeMap::new();
    let mut started_moved_early: BTreeMap<i64, usize> = BTreeMap::new();
    let mut started_moved_ever: BTreeMap<i64, usize> = BTreeMap::new();
    let mut pairs: BTreeMap<(i64, i64), Reroute> = BTreeMap::new();
    let mut sampled = 0usize;
    let mut rerouted = 0usize;
    for (id, hist) in &c.history {
        let Some(t) = tickets_by_id.get(id) else { continue };
        sampled += 1;
        let r = ticket_routing(t, hist, &c.queues);
        let q0 = r.initial_queue.unwrap_or(0);
        *started.entry(q0).or_default() += 1;
        if r.moves > 0 {
            *started_moved_ever.entry(q0).or_default() += 1;
        }
        if !r.early_moves.is_empty() {
            rerouted += 1;
            *started_moved_early.entry(q0).or_default() += 1;
        }
        for (m, who) in &r.early_moves {
            let e = pairs.entry((m.from, m.to)).or_insert_with(|| Reroute { from_queue_id: m.from, to_queue_id: m.to, count: 0, examples: vec![], by: vec![] });
            e.count += 1;
            if e.examples.len() < 3 {
                e.examples.push((t.number.clone().unwrap_or_else(|| t.id.to_string()), t.title.clone()));
            }
            if let Some(w) = who {
                match e.by.iter_mut().find(|(r, _)| r == w) {
                    Some(x) => x.1 += 1,
                    None => e.by.push((*w, 1)),
                }
            }
        }
    }
    let mut reroutes: Vec<Reroute> = pairs.into_values().collect();
    for r in &mut reroutes {
        r.by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    reroutes.sort_by(|a, b| b.count.cmp(&a.count).then((a.from_queue_id, a.to_queue_id).cmp(&(b.from_queue_id, b.to_queue_id))));

    // --- notes and SLA results of the sample ---
    let mut note_authors: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for n in &c.notes {
        if let (Some(t), Some(r)) = (tickets_by_id.get(&n.ticket), n.resource) {
            note_authors.entry(t.queue.unwrap_or(0)).or_default().insert(r);
        }
    }
    let mut sla_fr: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for s in &c.sla_results {
        if let (Some(t), Some(met)) = (tickets_by_id.get(&s.ticket), s.first_response_met) {
            let e = sla_fr.entry(t.queue.unwrap_or(0)).or_default();
            e.1 += 1;
            if met {
                e.0 += 1;
            }
        }
    }

    // --- content vs contract routing ---
    let examples: Vec<RoutingExample> = c
        .texts
        .iter()
        .filter_map(|(id, text)| {
            let t = tickets_by_id.get(id)?;
            Some(RoutingExample {
                id: *id,
                text: text.clone(),
                company: t.company,
                contract: t.contract,
                contract_type: t.contract.and_then(|k| c.contract_types.get(&k).copied()),
                queue: t.queue?,
            })
        })
        .collect();
    let routing_result = if examples.len() >= 2 * routing::MIN_SUPPORT { routing::compare(&examples, cfg.folds) } else { RoutingResult::default() };

    // --- per queue ---
    let mut queue_ids: Vec<i64> = c.queues.iter().map(|(v, _, _)| *v).collect();
    for q in by_queue.keys() {
        if !queue_ids.contains(q) {
            queue_ids.push(*q);
        }
    }
    let mut issue_mix: BTreeMap<i64, BTreeMap<i64, usize>> = BTreeMap::new();
    let mut queues = vec![];
    for q in queue_ids {
        let ts: &[&TicketRow] = by_queue.get(&q).map(Vec::as_slice).unwrap_or(&[]);
        let n = ts.len();
        let open: Vec<&&TicketRow> = ts.iter().filter(|t| is_open(t, &c.complete_statuses)).collect();
        let touches: Vec<Option<DateTime<Utc>>> = ts.iter().map(|t| first_touch(t)).collect();
        let first_touch_h: Vec<f64> = ts.iter().zip(&touches).filter_map(|(t, d)| d.map(|d| hours(d - t.created))).collect();
        let eligible: Vec<usize> = (0..n).filter(|i| now - ts[*i].created >= Duration::hours(24)).collect();
        let untouched_24h = eligible.iter().filter(|i| touches[**i].is_none_or(|d| d - ts[**i].created > Duration::hours(24))).count();
        let touched_eligible = eligible.iter().filter(|i| touches[**i].is_some()).count();
        let recent: Vec<&usize> = eligible.iter().filter(|i| now - ts[**i].created <= Duration::days(30)).collect();
        let recent_touched = recent.iter().filter(|i| touches[***i].is_some()).count();
        let touched_share = if eligible.is_empty() { share(touches.iter().filter(|d| d.is_some()).count(), n) } else { share(touched_eligible, eligible.len()) };
        let recent_ok = recent.len() < 5 || recent_touched as f64 / recent.len() as f64 >= cfg.monitored_recent_share;
        let actively_monitored = n > 0 && touched_share.is_some_and(|s| s >= cfg.monitored_touched_share) && recent_ok;

        let open_ages: Vec<f64> = open.iter().map(|t| hours(now - t.created) / 24.0).collect();
        let old_untouched = ts.iter().zip(&touches).filter(|(t, d)| d.is_none() && is_open(t, &c.complete_statuses) && now - t.created > Duration::days(cfg.old_days)).count();

        let mut mix: BTreeMap<i64, usize> = BTreeMap::new();
        for t in ts {
            *mix.entry(t.issue_type.unwrap_or(-1)).or_default() += 1;
        }
        let mut issue_types: Vec<(String, usize)> = mix.iter().map(|(i, k)| (issue_label((*i != -1).then_some(*i)), *k)).collect();
        issue_types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top_issue_share = issue_types.first().and_then(|(_, k)| share(*k, n));
        let types_over = mix.values().filter(|k| **k as f64 >= cfg.mixed_type_share * n as f64).count();

        let s_here = *started.get(&q).unwrap_or(&0);
        let moved_out_share = share(*started_moved_ever.get(&q).unwrap_or(&0), s_here);
        let rerouted_share = share(*started_moved_early.get(&q).unwrap_or(&0), s_here);

        let sla_done: Vec<&&TicketRow> = ts.iter().filter(|t| t.sla.is_some() && !is_open(t, &c.complete_statuses)).collect();
        let sla_met = sla_done.iter().filter(|t| t.sla_met == Some(true)).count();

        let big_enough = n >= cfg.min_tickets;
        let mixed = big_enough && top_issue_share.is_some_and(|s| s < cfg.mixed_top_share) && types_over >= cfg.mixed_min_types;
        let old_sign = big_enough && share(old_untouched, n).is_some_and(|s| s >= cfg.old_untouched_share);
        let moved_sign = s_here >= 5 && moved_out_share.is_some_and(|s| s >= cfg.moved_out_share);
        let dumping_ground = mixed && (old_sign || moved_sign);

        let mut reasons = vec![];
        if n == 0 {
            reasons.push(format!("no tickets since {}", c.since.format("%Y-%m-%d")));
        } else {
            match touched_share {
                Some(s) if actively_monitored => reasons.push(format!("{} of its tickets older than a day were touched", pct(s))),
                Some(s) if s < cfg.monitored_touched_share => reasons.push(format!("only {} of its tickets older than a day were ever touched", pct(s))),
                Some(s) => reasons.push(format!("{} of its tickets were touched, but only {recent_touched} of the {} from the last 30 days", pct(s), recent.len())),
                None => {}
            }
            if mixed {
                reasons.push(format!("{types_over} unrelated issue types of at least {} each, none over {}", pct(cfg.mixed_type_share), pct(cfg.mixed_top_share)));
            }
            if old_sign {
                reasons.push(format!("{old_untouched} open tickets older than {} days were never touched", cfg.old_days));
            }
            if moved_sign {
                reasons.push(format!("{} of the sampled tickets that start here are moved to another queue", pct(moved_out_share.unwrap_or(0.0))));
            }
        }
        issue_mix.insert(q, mix);
        queues.push(QueueAudit {
            queue_id: q,
            queue: label_of(q),
            active_in_picklist: c.queues.iter().find(|(v, _, _)| *v == q).is_none_or(|(_, _, a)| *a),
            tickets: n,
            open: open.len(),
            median_first_touch_hours: median(first_touch_h),
            untouched_24h_share: share(untouched_24h, eligible.len()),
            actively_monitored,
            dumping_ground,
            rerouted_within_1h_share: rerouted_share,
            sla_met_share: share(sla_met, sla_done.len()),
            routing_signal: routing_result.by_queue.get(&q).map(|r| r.signal).unwrap_or(RoutingSignal::Mixed),
            touched_share,
            median_open_age_days: median(open_ages.clone()),
            oldest_open_days: open_ages.iter().copied().reduce(f64::max),
            issue_types,
            top_issue_share,
            old_untouched_share: share(old_untouched, n),
            sampled_started_here: s_here,
            moved_out_share,
            sla_tickets: ts.iter().filter(|t| t.sla.is_some()).count(),
            sla_first_response_met_share: sla_fr.get(&q).and_then(|(m, k)| share(*m, *k)),
            routing: routing_result.by_queue.get(&q).copied(),
            note_authors: note_authors.get(&q).map_or(0, BTreeSet::len),
            reasons,
        });
    }
    // Busiest first; empty queues last, in picklist order.
    queues.sort_by(|a, b| b.tickets.cmp(&a.tickets));

    let udfs = udf_audit(c, cfg);
    let mut a = Audit {
        since: c.since,
        now,
        tickets: c.tickets.len(),
        api_requests: c.api_requests,
        queues,
        reroutes,
        udfs,
        recommendations: vec![],
        sample: c.sample.clone(),
        rerouted_within_1h: (rerouted, sampled),
        routing: routing_result,
        resources: c.resources.clone(),
        requests_by_stage: c.requests_by_stage.clone(),
        config: cfg.clone(),
    };
    a.recommendations = recommendations(&a, &issue_mix);
    a
}

fn udf_audit(c: &Collected, cfg: &AuditConfig) -> UdfAudit {
    let u = &c.udfs;
    let fields: Vec<(String, f64)> =
        u.defined.iter().map(|d| (d.clone(), if u.tickets == 0 { 0.0 } else { *u.filled.get(d).unwrap_or(&0) as f64 / u.tickets as f64 })).collect();
    let pairs = u.tickets as f64 * u.defined.len() as f64;
    let filled: f64 = u.defined.iter().map(|d| *u.filled.get(d).unwrap_or(&0) as f64).sum();
    let mut recommended: Vec<String> = [
        "id", "ticketNumber", "title", "description", "status", "priority", "queueID", "issueType", "subIssueType", "companyID", "contactID",
        "contractID", "projectID", "assignedResourceID", "createDate", "lastActivityDate",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if fields.iter().any(|(_, s)| *s >= cfg.udf_empty_below) {
        recommended.push("userDefinedFields".into());
    }
    UdfAudit {
        defined: u.defined.len(),
        empty_share: (pairs > 0.0).then(|| 1.0 - filled / pairs),
        fields,
        tickets_read: u.tickets,
        payload_share: (u.row_bytes > 0).then(|| u.udf_bytes as f64 / u.row_bytes as f64),
        recommended_fields: recommended,
    }
}

fn names(v: &[String]) -> String {
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        _ => format!("{} and {}", v[..v.len() - 1].join(", "), v[v.len() - 1]),
    }
}

fn recommendations(a: &Audit, mix: &BTreeMap<i64, BTreeMap<i64, usize>>) -> Vec<String> {
    let cfg = &a.config;
    let mut out = vec![];
    let label = |q: i64| a.queues.iter().find(|x| x.queue_id == q).map(|x| x.queue.clone()).unwrap_or_else(|| format!("Queue {q}"));
    for q in a.queues.iter().filter(|q| q.tickets > 0 && !q.actively_monitored) {
        out.push(format!(
            "Nobody works \u{201c}{}\u{201d}: {} of its {} tickets were never touched and {} are still open{}{}. Give it an owner, or retire it and move its open tickets, before the agent learns from it.",
            q.queue,
            q.tickets - (q.touched_share.unwrap_or(0.0) * q.tickets as f64).round() as usize,
            q.tickets,
            q.open,
            q.oldest_open_days.map(|d| format!(" (the oldest for {d:.0} days)")).unwrap_or_default(),
            if q.dumping_ground { format!("; it also collects unrelated tickets ({} issue types)", q.issue_types.len()) } else { String::new() }
        ));
    }
    // A queue nobody works is reported once, above.
    for q in a.queues.iter().filter(|q| q.dumping_ground && q.actively_monitored) {
        out.push(format!(
            "\u{201c}{}\u{201d} is a dumping ground ({}). Clean it up before enabling the agent: route its tickets at intake, and keep it out of the agent's training labels.",
            q.queue,
            q.reasons.iter().skip(1).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    let (rr, sampled) = a.rerouted_within_1h;
    if sampled > 0 && rr as f64 / sampled as f64 >= 0.03 {
        let top: Vec<String> = a.reroutes.iter().take(3).map(|r| format!("{} \u{2192} {} ({})", label(r.from_queue_id), label(r.to_queue_id), r.count)).collect();
        out.push(format!(
            "{} of the sampled tickets ({rr} of {sampled}) are re-routed by hand within an hour of intake, mostly {}. Their first queue is noise: train the agent on the final queue, and compare its predictions with the dispatchers' in shadow mode first.",
            pct(rr as f64 / sampled as f64),
            names(&top)
        ));
    }
    let empty: Vec<String> = a.queues.iter().filter(|q| q.tickets == 0 && q.active_in_picklist).map(|q| q.queue.clone()).collect();
    if !empty.is_empty() {
        out.push(format!("Retire or merge {} {} with no tickets since {}: {}.", empty.len(), if empty.len() == 1 { "queue" } else { "queues" }, a.since.format("%Y-%m-%d"), names(&empty)));
    }
    // Merge candidates: worked, non-dumping queues with the same mix of issue types.
    let cands: Vec<&QueueAudit> = a.queues.iter().filter(|q| q.tickets >= cfg.min_tickets.max(20) && q.actively_monitored && !q.dumping_ground).collect();
    for (i, x) in cands.iter().enumerate() {
        for y in &cands[i + 1..] {
            let s = cosine(&mix[&x.queue_id], &mix[&y.queue_id]);
            if s >= cfg.merge_similarity {
                out.push(format!(
                    "\u{201c}{}\u{201d} and \u{201c}{}\u{201d} receive the same kinds of tickets (issue-type overlap {}): merge them, or route between them by a rule the agent can see (source, company, contract).",
                    x.queue,
                    y.queue,
                    pct(s)
                ));
            }
        }
    }
    for q in a.queues.iter().filter(|q| q.routing_signal == RoutingSignal::Contract) {
        let r = q.routing.unwrap();
        out.push(format!(
            "\u{201c}{}\u{201d} follows the customer, not the content (contract/company predicts it with F1 {:.2}, the text with {:.2}): keep routing it by a rule on company or contract rather than letting the agent guess from the text.",
            q.queue, r.contract_f1, r.text_f1
        ));
    }
    for q in a.queues.iter().filter(|q| q.sla_met_share.is_some_and(|s| s < cfg.sla_target) && q.tickets >= cfg.min_tickets) {
        out.push(format!(
            "SLA met on only {:.1}% of completed tickets in \u{201c}{}\u{201d} (target {}).",
            q.sla_met_share.unwrap() * 100.0,
            q.queue,
            pct(cfg.sla_target)
        ));
    }
    let u = &a.udfs;
    let empty_udfs: Vec<String> = u.fields.iter().filter(|(_, s)| *s < cfg.udf_empty_below).map(|(n, _)| n.clone()).collect();
    if !empty_udfs.is_empty() && u.tickets_read > 0 {
        out.push(format!(
            "{} of the {} ticket UDFs {} empty on at least {} of recent tickets ({}): clean them up or stop reading them.",
            empty_udfs.len(),
            u.defined,
            if empty_udfs.len() == 1 { "is" } else { "are" },
            pct(1.0 - cfg.udf_empty_below),
            names(&empty_udfs)
        ));
    }
    if out.is_empty() {
        out.push("The queues look clean: start the agent in shadow mode and compare its routing with the dispatchers'.".into());
    }
    out
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
    use crate::rows::{HistoryRow, SampleInfo, UdfStats};

    fn qs() -> Vec<(i64, String, bool)> {
        vec![(1, "Triage".into(), true), (2, "Service Desk".into(), true), (3, "Legacy".into(), true), (4, "Empty".into(), true), (5, "Sales to Ops".into(), true)]
    }

    #[test]
    fn parses_queue_moves() {
        let q = qs();
        assert_eq!(parse_queue_move("Queue changed from Triage to Service Desk", &q), Some(QueueMove { from: 1, to: 2 }));
        assert_eq!(parse_queue_move("queue changed from Sales to Ops to Triage.", &q), Some(QueueMove { from: 5, to: 1 }));
        assert_eq!(parse_queue_move("Queue changed from 1 to 2", &q), Some(QueueMove { from: 1, to: 2 }));
        assert_eq!(parse_queue_move("Status changed from New to Complete", &q), None);
        assert_eq!(parse_queue_move("Queue changed from Nowhere to Triage", &q), None);
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
            issue_types: [(10, "Passwords".to_string()), (11, "Printers".into()), (12, "Network".into()), (13, "Email".into())].into(),
            complete_statuses: vec![5],
            udfs: UdfStats { defined: vec!["Impact".into(), "Unused".into()], tickets: 100, filled: [("Impact".to_string(), 90)].into(), udf_bytes: 10, row_bytes: 100 },
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
            c.history.insert(id, vec![HistoryRow { ticket: id, date: created, action: "Created".into(), detail: "Ticket created".into(), resource: None }]);
            if d % 3 == 0 {
                // re-routed from Triage to Service Desk after 20 minutes
                id += 1;
                let mut x = t(id, 2, 10, created, Some(30), true);
                x.title = "password reset".into();
                c.tickets.push(x);
                c.history.insert(
                    id,
                    vec![HistoryRow { ticket: id, date: created + Duration::minutes(20), action: "Edited".into(), detail: "Queue changed from Triage to Service Desk".into(), resource: Some(6) }],
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
                "queue_id", "queue", "tickets", "open", "median_first_touch_hours", "untouched_24h_share", "actively_monitored", "dumping_ground",
                "rerouted_within_1h_share", "sla_met_share", "routing_signal"
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
