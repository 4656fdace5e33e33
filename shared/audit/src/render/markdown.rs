//! The Markdown report: the same sections as the HTML page, as tables and
//! lists that read well in an issue or a pull request.

use super::{label, opt_days, opt_h, opt_pct, requests, sampling_note, signal_text, udf_cost, who, yes};
use crate::analyze::{Audit, QueueAudit, pct};
use std::fmt::Write;

/// Tenant text (queue names, ticket titles, UDF names) as literal Markdown:
/// every Markdown and HTML character escaped, on one line (a viewer that
/// renders raw HTML shows it as text).
fn md_escape(s: &str) -> String {
    atpilot_domain::untrusted::markdown(s)
}

pub fn markdown(a: &Audit) -> String {
    let mut o = String::new();
    summary(&mut o, a);
    queues(&mut o, a);
    reroutes(&mut o, a);
    routing(&mut o, a);
    sla(&mut o, a);
    udfs(&mut o, a);
    method(&mut o, a);
    o
}

/// The title, what was read, and the recommendations.
fn summary(o: &mut String, a: &Audit) {
    let _ = writeln!(o, "# Queue and routing audit\n");
    let _ = writeln!(
        o,
        "{} tickets created since {} (as of {}), {} API requests.\n",
        a.tickets,
        a.since.format("%Y-%m-%d"),
        a.now.format("%Y-%m-%d %H:%M UTC"),
        a.api_requests
    );
    let _ = writeln!(o, "## Recommendations\n");
    for r in &a.recommendations {
        let _ = writeln!(o, "- {r}");
    }
}

/// One row per queue, then why the flagged ones are flagged.
fn queues(o: &mut String, a: &Audit) {
    let _ = writeln!(o, "\n## Queues\n");
    let _ = writeln!(
        o,
        "| Queue | Tickets | Open | Oldest open | Median first touch | Untouched 24 h | Monitored | Dumping ground | Re-routed < 1 h | SLA met | Routing |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|");
    for q in &a.queues {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md_escape(&q.queue),
            q.tickets,
            q.open,
            opt_days(q.oldest_open_days),
            opt_h(q.median_first_touch_hours),
            opt_pct(q.untouched_24h_share),
            yes(q.actively_monitored),
            if q.dumping_ground { "**yes**" } else { "no" },
            opt_pct(q.rerouted_within_1h_share),
            opt_pct(q.sla_met_share),
            q.routing_signal.as_str()
        );
    }
    let flagged: Vec<&QueueAudit> =
        a.queues.iter().filter(|q| q.tickets > 0 && (q.dumping_ground || !q.actively_monitored)).collect();
    if !flagged.is_empty() {
        let _ = writeln!(o, "\n### Why these queues are flagged\n");
        for q in flagged {
            let _ = writeln!(o, "- **{}**: {}.", md_escape(&q.queue), q.reasons.join("; "));
            let mix: Vec<String> = q.issue_types.iter().take(6).map(|(l, k)| format!("{l} {k}")).collect();
            let _ = writeln!(o, "  Issue types: {}.", mix.join(", "));
        }
    }
}

/// Tickets moved to another queue within an hour of intake.
fn reroutes(o: &mut String, a: &Audit) {
    let (rr, n) = a.rerouted_within_1h;
    let _ = writeln!(o, "\n## Re-routing within an hour of intake\n");
    if n == 0 {
        let _ = writeln!(o, "No ticket history was read.");
    } else {
        let _ = writeln!(
            o,
            "{rr} of {n} sampled tickets ({}) were moved to another queue within an hour of intake.\n",
            pct(rr as f64 / n as f64)
        );
        if !a.reroutes.is_empty() {
            let _ = writeln!(o, "| From | To | Tickets | Moved by | Examples |");
            let _ = writeln!(o, "|---|---|---:|---|---|");
            for r in &a.reroutes {
                let by: Vec<String> =
                    r.by.iter().take(2).map(|(w, k)| format!("{} ({k})", md_escape(&who(a, *w)))).collect();
                let ex: Vec<String> = r.examples.iter().map(|(num, t)| format!("{num} {}", md_escape(t))).collect();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} |",
                    md_escape(&label(a, r.from_queue_id)),
                    md_escape(&label(a, r.to_queue_id)),
                    r.count,
                    by.join(", "),
                    ex.join("; ")
                );
            }
        }
    }
}

/// How well text and contract each predict the queue.
fn routing(o: &mut String, a: &Audit) {
    let _ = writeln!(o, "\n## Content vs contract routing\n");
    if a.routing.examples == 0 {
        let _ = writeln!(o, "Not enough tickets to compare.");
    } else {
        let _ = writeln!(
            o,
            "Cross-validated on {} tickets: the text model picks the right queue {} of the time, the contract/company rule {}. Per queue (F1):\n",
            a.routing.examples,
            pct(a.routing.text_accuracy),
            pct(a.routing.contract_accuracy)
        );
        let _ = writeln!(o, "| Queue | Sampled | Text F1 | Contract F1 | Signal |");
        let _ = writeln!(o, "|---|---:|---:|---:|---|");
        for q in &a.queues {
            if let Some(r) = q.routing {
                let _ = writeln!(
                    o,
                    "| {} | {} | {:.2} | {:.2} | {} |",
                    md_escape(&q.queue),
                    r.support,
                    r.text_f1,
                    r.contract_f1,
                    signal_text(&r)
                );
            }
        }
    }
}

/// SLA met per queue.
fn sla(o: &mut String, a: &Audit) {
    let _ = writeln!(o, "\n## SLA linkage\n");
    let _ = writeln!(o, "| Queue | Tickets with an SLA | SLA met (completed) | First response met (sample) |");
    let _ = writeln!(o, "|---|---:|---:|---:|");
    for q in a.queues.iter().filter(|q| q.sla_tickets > 0) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            md_escape(&q.queue),
            q.sla_tickets,
            opt_pct(q.sla_met_share),
            opt_pct(q.sla_first_response_met_share)
        );
    }
}

/// Which UDFs are filled, and what reading them costs.
fn udfs(o: &mut String, a: &Audit) {
    let u = &a.udfs;
    let _ = writeln!(o, "\n## UDF audit\n");
    let _ = writeln!(
        o,
        "Tickets have {} UDFs; {} of their values are empty on the {} tickets read. {}\n",
        u.defined,
        opt_pct(u.empty_share),
        u.tickets_read,
        udf_cost(a)
    );
    for (n, s) in &u.fields {
        let _ = writeln!(o, "- {}: filled on {} of tickets", md_escape(n), pct(*s));
    }
    let _ = writeln!(o, "\nFields the agent should request: `{}`.", u.recommended_fields.join("`, `"));
}

/// What was read, request by request.
fn method(o: &mut String, a: &Audit) {
    let _ = writeln!(o, "\n## What was read\n");
    let _ = writeln!(o, "{}\n", sampling_note(a));
    for (s, k) in &a.requests_by_stage {
        let _ = writeln!(o, "- {s}: {}", requests(*k));
    }
}
