//! The UDF findings and the recommendations in plain words: unmonitored and
//! dumping-ground queues, re-routing, empty queues, merge candidates with the
//! same issue mix, SLA misses, unused UDFs.

use super::stats::{cosine, pct};
use super::{Audit, AuditConfig, QueueAudit, UdfAudit};
use crate::routing::RoutingSignal;
use crate::rows::Collected;
use std::collections::BTreeMap;

pub(super) fn udf_audit(c: &Collected, cfg: &AuditConfig) -> UdfAudit {
    let u = &c.udfs;
    let fields: Vec<(String, f64)> = u
        .defined
        .iter()
        .map(|d| {
            (d.clone(), if u.tickets == 0 { 0.0 } else { *u.filled.get(d).unwrap_or(&0) as f64 / u.tickets as f64 })
        })
        .collect();
    let pairs = u.tickets as f64 * u.defined.len() as f64;
    let filled: f64 = u.defined.iter().map(|d| *u.filled.get(d).unwrap_or(&0) as f64).sum();
    let mut recommended: Vec<String> = [
        "id",
        "ticketNumber",
        "title",
        "description",
        "status",
        "priority",
        "queueID",
        "issueType",
        "subIssueType",
        "companyID",
        "contactID",
        "contractID",
        "projectID",
        "assignedResourceID",
        "createDate",
        "lastActivityDate",
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

pub(super) fn recommendations(a: &Audit, mix: &BTreeMap<i64, BTreeMap<i64, usize>>) -> Vec<String> {
    let cfg = &a.config;
    let mut out = vec![];
    let label = |q: i64| {
        a.queues.iter().find(|x| x.queue_id == q).map(|x| x.queue.clone()).unwrap_or_else(|| format!("Queue {q}"))
    };
    // A queue whose intake is mostly moved on within the hour is worked by its dispatchers, not unworked.
    let routed_out = |q: &QueueAudit| q.rerouted_within_1h_share.is_some_and(|s| s >= 0.5);
    for q in a.queues.iter().filter(|q| q.tickets > 0 && !q.actively_monitored && !routed_out(q)) {
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
    for q in a.queues.iter().filter(|q| q.dumping_ground && (q.actively_monitored || routed_out(q))) {
        out.push(format!(
            "\u{201c}{}\u{201d} is a dumping ground ({}). Clean it up before enabling the agent: route its tickets at intake, and keep it out of the agent's training labels.",
            q.queue,
            q.reasons.iter().skip(1).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    if a.history_rows_unread > 0 {
        out.push(format!(
            "{} TicketHistory {} of the sample speak of the queue but could not be read as a move (an unknown wording or queue): the re-route figures leave {} out.",
            a.history_rows_unread,
            if a.history_rows_unread == 1 { "row" } else { "rows" },
            if a.history_rows_unread == 1 { "it" } else { "them" }
        ));
    }
    let (rr, sampled) = a.rerouted_within_1h;
    if sampled > 0 && rr as f64 / sampled as f64 >= 0.03 {
        let top: Vec<String> = a
            .reroutes
            .iter()
            .take(3)
            .map(|r| format!("{} \u{2192} {} ({})", label(r.from_queue_id), label(r.to_queue_id), r.count))
            .collect();
        out.push(format!(
            "{} of the sampled tickets ({rr} of {sampled}) are re-routed by hand within an hour of intake, mostly {}. Their first queue is noise: train the agent on the final queue, and compare its predictions with the dispatchers' in shadow mode first.",
            pct(rr as f64 / sampled as f64),
            names(&top)
        ));
    }
    let empty: Vec<String> =
        a.queues.iter().filter(|q| q.tickets == 0 && q.active_in_picklist).map(|q| q.queue.clone()).collect();
    if !empty.is_empty() {
        out.push(format!(
            "Retire or merge {} {} with no tickets since {}: {}.",
            empty.len(),
            if empty.len() == 1 { "queue" } else { "queues" },
            a.since.format("%Y-%m-%d"),
            names(&empty)
        ));
    }
    // Merge candidates: worked, non-dumping queues with the same mix of issue types.
    let cands: Vec<&QueueAudit> = a
        .queues
        .iter()
        .filter(|q| q.tickets >= cfg.min_tickets.max(20) && q.actively_monitored && !q.dumping_ground)
        .collect();
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
    for q in
        a.queues.iter().filter(|q| q.sla_met_share.is_some_and(|s| s < cfg.sla_target) && q.tickets >= cfg.min_tickets)
    {
        out.push(format!(
            "SLA met on only {:.1}% of completed tickets in \u{201c}{}\u{201d} (target {}).",
            q.sla_met_share.unwrap() * 100.0,
            q.queue,
            pct(cfg.sla_target)
        ));
    }
    let u = &a.udfs;
    let empty_udfs: Vec<String> =
        u.fields.iter().filter(|(_, s)| *s < cfg.udf_empty_below).map(|(n, _)| n.clone()).collect();
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
        out.push(
            "The queues look clean: start the agent in shadow mode and compare its routing with the dispatchers'."
                .into(),
        );
    }
    out
}
