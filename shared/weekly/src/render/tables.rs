//! The tables of the report, one function per table: the e-mail shows each
//! one and attaches it as CSV.

use super::{Table, move_name};
use crate::billing::p_text;
use crate::drift::Driver;
use crate::format::{f2, opt, opt_change, opt_f, opt_pct};
use crate::report::WeeklyReport;
use atpilot_domain::contract::ContractKind;

/// Every table of the report.
pub fn tables(r: &WeeklyReport) -> Vec<Table> {
    vec![approvals(r), autonomy(r), moves(r), spot_check(r), billing(r), csat(r), outcomes(r), status_updates(r)]
}

/// Per category, the confidence at which 30 days of its proposals were approved
/// 95% and 98% of the time, and the share of requests at or above it.
fn autonomy(r: &WeeklyReport) -> Table {
    let at = |cov: Option<f64>, thr: Option<f64>| match (cov, thr) {
        // Rounded up, so a threshold copied from the report never admits less confident tickets.
        (Some(c), Some(t)) => (opt_pct(Some(c)), format!("{:.3}", (t * 1e3).ceil() / 1e3)),
        _ => ("-".to_string(), "not reached".to_string()),
    };
    Table {
        id: "autonomy-thresholds",
        title: "Confidence a category needs to act alone (30 days of approvals)",
        header: vec![
            "category",
            "judged",
            "approved",
            "share at 95%",
            "confidence for 95%",
            "share at 98%",
            "confidence for 98%",
        ],
        rows: r
            .autonomy
            .iter()
            .map(|a| {
                let (c95, t95) = at(a.coverage_at_95, a.threshold_at_95);
                let (c98, t98) = at(a.coverage_at_98, a.threshold_at_98);
                let few = a.judged < crate::autonomy::MIN_JUDGED;
                let (t95, t98) = if few {
                    let s = format!("too few (under {})", crate::autonomy::MIN_JUDGED);
                    (s.clone(), s)
                } else {
                    (t95, t98)
                };
                vec![a.category.to_string(), a.judged.to_string(), a.approved.to_string(), c95, t95, c98, t98]
            })
            .collect(),
    }
}

/// Approval rate by category, with each one's phase before and after.
fn approvals(r: &WeeklyReport) -> Table {
    Table {
        id: "approval-rates",
        title: "Approval rate by category",
        header: vec![
            "category",
            "safe",
            "week approved",
            "week rejected",
            "week expired",
            "week rate",
            "30d approved",
            "30d rejected",
            "30d expired",
            "30d rate",
            "phase before",
            "phase after",
            "evaluation",
        ],
        rows: r
            .approvals
            .iter()
            .map(|a| {
                vec![
                    a.category.to_string(),
                    a.safe.to_string(),
                    a.week.approved.to_string(),
                    a.week.rejected.to_string(),
                    a.week.expired.to_string(),
                    opt_pct(a.week.rate()),
                    a.month.approved.to_string(),
                    a.month.rejected.to_string(),
                    a.month.expired.to_string(),
                    opt_pct(a.month.rate()),
                    a.phase_before.to_string(),
                    a.phase_after.to_string(),
                    move_name(&a.evaluation).to_string(),
                ]
            })
            .collect(),
    }
}

/// The phase moves of the run.
fn moves(r: &WeeklyReport) -> Table {
    Table {
        id: "phase-moves",
        title: "Phase moves",
        header: vec!["category", "from", "to", "move", "reason"],
        rows: r
            .moves()
            .map(|a| {
                vec![
                    a.category.to_string(),
                    a.phase_before.to_string(),
                    a.phase_after.to_string(),
                    move_name(&a.evaluation).to_string(),
                    a.reason.clone(),
                ]
            })
            .collect(),
    }
}

/// Each sampled entry against Autotask.
fn spot_check(r: &WeeklyReport) -> Table {
    Table {
        id: "time-entry-spot-check",
        title: "Time-entry spot check",
        header: vec![
            "time entry",
            "action",
            "ticket",
            "ledger hours",
            "Autotask hours",
            "contract",
            "Autotask contract",
            "Autotask resource",
            "Autotask role",
            "result",
        ],
        rows: r
            .spot_check
            .rows
            .iter()
            .map(|s| {
                vec![
                    s.time_entry_id.to_string(),
                    s.action_id.clone(),
                    s.ticket.to_string(),
                    format!("{:.6}", s.ledger_hours),
                    s.autotask_hours.map(|h| format!("{h:.6}")).unwrap_or_else(|| "missing".into()),
                    s.contract.to_string(),
                    opt(s.autotask_contract),
                    opt(s.autotask_resource),
                    opt(s.autotask_role),
                    if s.matches() { "match".into() } else { s.differences.join("; ") },
                ]
            })
            .collect(),
    }
}

/// Each contract against its baseline.
fn billing(r: &WeeklyReport) -> Table {
    Table {
        id: "billing-impact",
        title: "Contract billing impact",
        header: vec![
            "contract",
            "name",
            "type",
            "hours",
            "expected hours",
            "hours change",
            "block hours",
            "expected block hours",
            "block change",
            "tickets",
            "expected tickets",
            "tickets change",
            "agent entries",
            "measure",
            "agent's tickets change",
            "agent p-value",
            "background change",
            "background p-value",
            "flagged",
            "explanation",
        ],
        rows: r
            .billing
            .iter()
            .map(|b| {
                let block = b.kind == ContractKind::BlockHours;
                vec![
                    b.contract.to_string(),
                    b.name.clone(),
                    b.kind.to_string(),
                    f2(b.current.hours),
                    f2(b.expected.hours),
                    opt_change(b.hours_change),
                    if block { f2(b.current.block_hours) } else { String::new() },
                    if block { f2(b.expected.block_hours) } else { String::new() },
                    if block { opt_change(b.block_change) } else { String::new() },
                    b.current.tickets.to_string(),
                    format!("{:.1}", b.expected_tickets),
                    opt_change(b.tickets_change),
                    b.current.agent_entries.to_string(),
                    b.measure.unit().to_string(),
                    b.agent_change.map(|h| format!("{h:+.2}")).unwrap_or_default(),
                    b.agent_p_value.map(p_text).unwrap_or_default(),
                    format!("{:+.2}", b.background_change),
                    b.p_value.map(p_text).unwrap_or_default(),
                    match (b.flagged, b.driver) {
                        (false, _) => "no".into(),
                        (true, Driver::Agent) => "yes: the agent's tickets".into(),
                        (true, Driver::Background) => "yes: background drift".into(),
                        (true, Driver::New) => "yes: new contract".into(),
                    },
                    b.explanation.clone(),
                ]
            })
            .collect(),
    }
}

/// CSAT by category.
fn csat(r: &WeeklyReport) -> Table {
    Table {
        id: "csat",
        title: "CSAT by category",
        header: vec!["category", "agent-touched n", "agent-touched mean", "human-only n", "human-only mean", "delta"],
        rows: r
            .csat
            .iter()
            .map(|c| {
                vec![
                    c.category.clone(),
                    c.agent_n.to_string(),
                    opt_f(c.agent_mean, 2),
                    c.human_n.to_string(),
                    opt_f(c.human_mean, 2),
                    c.delta
                        .map(|d| format!("{d:+.2}"))
                        .unwrap_or_else(|| format!("not shown (fewer than {} on a side)", r.min_csat_samples)),
                ]
            })
            .collect(),
    }
}

/// The outcome figures against the day-90 targets.
fn outcomes(r: &WeeklyReport) -> Table {
    let o = &r.outcomes;
    Table {
        id: "outcomes",
        title: "Outcomes (categories in scope)",
        header: vec!["figure", "value", "target", "verdict"],
        rows: vec![
            vec![
                "categories in scope".into(),
                o.in_scope.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" "),
                String::new(),
                String::new(),
            ],
            vec!["tickets decided this week".into(), o.tickets.to_string(), String::new(), String::new()],
            vec!["resolved autonomously".into(), o.autonomous.to_string(), String::new(), String::new()],
            vec![
                "autonomous resolution rate".into(),
                opt_pct(o.autonomous_rate),
                "25%-40%".into(),
                o.rate_verdict().into(),
            ],
            vec![
                "first response p50 (s)".into(),
                opt_f(o.first_response_p50_secs, 1),
                "< 60".into(),
                o.response_verdict().into(),
            ],
            vec![
                "first response p90 (s)".into(),
                opt_f(o.first_response_p90_secs, 1),
                String::new(),
                format!("{} tickets with a first response", o.responded),
            ],
        ],
    }
}

/// The week's customer status updates and the median time without customer contact.
fn status_updates(r: &WeeklyReport) -> Table {
    let s = &r.status_updates;
    let row = |k: &str, v: String| vec![k.to_string(), v];
    let quiet = match (s.median_quiet_days, s.scanned_at) {
        (Some(d), Some(at)) => {
            format!("{d:.1} (over {} tickets, scan of {} UTC)", s.quiet_tickets, at.format("%Y-%m-%d %H:%M"))
        }
        _ => "no scan yet (is [status_updates] configured?)".into(),
    };
    Table {
        id: "status-updates",
        title: "Customer status updates",
        header: vec!["figure", "value"],
        rows: vec![
            row("proposed", s.proposed.to_string()),
            row("approved", s.approved.to_string()),
            row("of which edited by the approver", s.edited.to_string()),
            row("of which posted (the note read back)", s.posted.to_string()),
            row("rejected", s.rejected.to_string()),
            row(
                "dropped, not sent (contact meanwhile, the ticket closed, or posting failed: see the dashboard)",
                s.dropped.to_string(),
            ),
            row("expired unanswered", s.expired.to_string()),
            row("pending at the end of the week", s.pending.to_string()),
            row("median days without customer contact (open tickets past their threshold)", quiet),
        ],
    }
}
