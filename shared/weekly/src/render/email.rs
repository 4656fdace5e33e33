//! E-mail: the weekly report for finance and the service manager, as HTML
//! with a plain-text summary and every table attached as CSV.

use super::charts::{APPROVAL_CHART_CID, BILLING_CHART_CID, approval_png, billing_png};
use super::move_name;
use super::tables::tables;
use crate::billing::BillingRow;
use crate::drift::Driver;
use crate::format::{opt_f, opt_pct, signed_pct};
use crate::report::WeeklyReport;
use atpilot_agent::adapters::notify::{Attachment, Email, InlineImage};
use std::fmt::Write as _;

/// The e-mail: a summary, the charts (PNG, inline by Content-ID), every table, and every table as a CSV attachment.
pub fn email(r: &WeeklyReport, history: &[(String, serde_json::Value)], to: &[String]) -> Email {
    let tables = tables(r);
    let summary = summary_lines(r);
    let html = super::html::body(r, history, &tables, &summary);
    let mut text = format!("atpilot weekly report {}\n\n", r.week);
    for l in &summary {
        let _ = writeln!(text, "- {l}");
    }
    text.push_str("\nThe tables are attached as CSV files.\n");
    let attachments = tables
        .iter()
        .map(|t| Attachment {
            filename: format!("{}-{}.csv", t.id, r.week),
            content_type: "text/csv; charset=utf-8".into(),
            bytes: t.csv().into_bytes(),
        })
        .collect();
    let flagged = r.flagged().count();
    Email {
        to: to.to_vec(),
        subject: format!(
            "atpilot weekly report {}: {} phase moves, {} contracts flagged, {} spot-check differences",
            r.week,
            r.moves().count(),
            flagged,
            r.spot_check.differing()
        ),
        html,
        text,
        attachments,
        inline: vec![
            InlineImage {
                content_id: APPROVAL_CHART_CID.into(),
                content_type: "image/png".into(),
                bytes: approval_png(history, r),
            },
            InlineImage {
                content_id: BILLING_CHART_CID.into(),
                content_type: "image/png".into(),
                bytes: billing_png(r),
            },
        ],
    }
}

/// The summary, one sentence per figure (the e-mail's list and its plain text).
fn summary_lines(r: &WeeklyReport) -> Vec<String> {
    let mut v = vec![];
    let moves: Vec<String> = r
        .moves()
        .map(|m| format!("{} {} ({} → {})", m.category, move_name(&m.evaluation), m.phase_before, m.phase_after))
        .collect();
    v.push(if moves.is_empty() { "No phase moves.".into() } else { format!("Phase moves: {}.", moves.join(", ")) });
    v.push(format!(
        "Time-entry spot check: {} of {} sampled entries differ from the ledger ({} agent actions this week).",
        r.spot_check.differing(),
        r.spot_check.rows.len(),
        r.spot_check.candidates
    ));
    let mut flagged: Vec<&BillingRow> = r.flagged().collect();
    flagged.sort_by(|a, b| {
        b.headline_change()
            .unwrap_or(f64::INFINITY)
            .abs()
            .total_cmp(&a.headline_change().unwrap_or(f64::INFINITY).abs())
    });
    let mut names: Vec<String> = flagged
        .iter()
        .take(5)
        .map(|b| format!("{} {}", b.name, b.headline_change().map(signed_pct).unwrap_or_else(|| "new".into())))
        .collect();
    if flagged.len() > 5 {
        names.push(format!("and {} more (see the table)", flagged.len() - 5));
    }
    v.push(billing_line(r, &flagged, &names));
    let shown: Vec<String> = r.csat.iter().filter_map(|c| c.delta.map(|d| format!("{} {d:+.2}", c.category))).collect();
    v.push(if shown.is_empty() {
        format!("CSAT: no category has {} surveys on both sides yet.", r.min_csat_samples)
    } else {
        format!("CSAT delta (agent-touched minus human-only): {}.", shown.join(", "))
    });
    let o = &r.outcomes;
    v.push(format!(
        "Outcomes: {} autonomous of {} in-scope tickets ({}, {}); first response p50 {} s, p90 {} s ({}).",
        o.autonomous,
        o.tickets,
        opt_pct(o.autonomous_rate),
        o.rate_verdict(),
        opt_f(o.first_response_p50_secs, 1),
        opt_f(o.first_response_p90_secs, 1),
        o.response_verdict()
    ));
    let s = &r.status_updates;
    v.push(format!(
        "Status updates: {} proposed, {} approved ({} edited), {} rejected, {} dropped, {} expired; median days without customer contact {}.",
        s.proposed,
        s.approved,
        s.edited,
        s.rejected,
        s.dropped,
        s.expired,
        opt_f(s.median_quiet_days, 1)
    ));
    v
}

/// The billing summary: what was flagged and by what rule, who moved it, and
/// how many large percentages were within chance.
fn billing_line(r: &WeeklyReport, flagged: &[&BillingRow], names: &[String]) -> String {
    let f = &r.flag;
    let cutoff = match r.screening.cutoff {
        Some(c) if c < 1e-4 => "p below 0.0001".to_string(),
        Some(c) => format!("p ≤ {c:.4}"),
        None => "none passed".into(),
    };
    let rule = format!(
        "±{}% and at least {} h ({} tickets on per-ticket contracts), beyond chance by the Benjamini–Hochberg \
         procedure at a {}% false discovery rate over {} tests: {cutoff}",
        f.percent,
        f.min_hours,
        f.min_tickets,
        (f.alpha * 1000.0).round() / 10.0,
        r.screening.tests
    );
    let by = |d: Driver| flagged.iter().filter(|b| b.driver == d).count();
    let chance = r
        .billing
        .iter()
        .filter(|b| !b.flagged && b.headline_change().is_some_and(|c| c.abs() >= f.percent / 100.0))
        .count();
    let within = if chance > 0 {
        format!(" {chance} more moved {}% or more on too few hours or entries to tell from chance.", f.percent)
    } else {
        String::new()
    };
    if flagged.is_empty() {
        return format!("No contract changed materially against its baseline ({rule}).{within}");
    }
    format!(
        "{} of {} contracts flagged ({rule}): {} by the agent's own tickets, {} by background drift, {} new; {}.{within}",
        flagged.len(),
        r.billing.len(),
        by(Driver::Agent),
        by(Driver::Background),
        by(Driver::New),
        names.join(", ")
    )
}
