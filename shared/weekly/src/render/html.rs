//! HTML: the e-mail's body (summary, charts, every table, notes), escaped
//! throughout and styled inline, as mail clients need.

use super::Table;
use super::charts::{APPROVAL_CHART_CID, BILLING_CHART_CID};
use crate::format::{opt_f, opt_pct};
use crate::report::WeeklyReport;
use atpilot_agent::html::esc;
use std::fmt::Write as _;

/// One table, escaped, with `none` in an empty one.
pub(super) fn html_table(t: &Table) -> String {
    let mut s = format!(
        "<table id=\"{}\" cellpadding=\"4\" cellspacing=\"0\" border=\"1\" style=\"border-collapse:collapse;border-color:#ccc;font-size:12px\"><tr>",
        t.id
    );
    for h in &t.header {
        let _ = write!(s, "<th style=\"background:#f2f2f2;text-align:left\">{}</th>", esc(h));
    }
    s.push_str("</tr>");
    if t.rows.is_empty() {
        let _ = write!(s, "<tr><td colspan=\"{}\">none</td></tr>", t.header.len());
    }
    for r in &t.rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// The e-mail's HTML: the summary, the charts (PNG images referred to by
/// Content-ID, sent inline beside the HTML) and every table.
pub(super) fn body(
    r: &WeeklyReport,
    history: &[(String, serde_json::Value)],
    tables: &[Table],
    summary: &[String],
) -> String {
    let o = &r.outcomes;
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>atpilot weekly report {week}</title></head>\
<body style=\"font-family:Arial,sans-serif;color:#222;margin:16px;max-width:980px\"><h1 style=\"font-size:20px\">atpilot weekly report {week}</h1>\
<p>Week {wp}. Billing: month to date {cp} against each contract's baseline {bp} (rollout {rollout}), prorated to the same number of days.</p><ul id=\"summary\">",
        week = esc(&r.week),
        wp = esc(&r.periods.week.label()),
        cp = esc(&r.periods.current.label()),
        bp = esc(&r.periods.baseline.label()),
        rollout = r.rollout,
    );
    for l in summary {
        let _ = write!(html, "<li>{}</li>", esc(l));
    }
    html.push_str("</ul>");
    let _ = history;
    let _ = write!(
        html,
        "<h2 style=\"font-size:16px\">Approval rate per category, by week</h2>\
<img id=\"approval-chart\" src=\"cid:{APPROVAL_CHART_CID}\" width=\"640\" style=\"max-width:100%\" alt=\"Weekly approval rate per category against the 80% and 90% lines (the figures are in the approval table below)\">"
    );
    let _ = write!(
        html,
        "<h2 style=\"font-size:16px\">Billing impact per contract</h2>\
<img id=\"billing-chart\" src=\"cid:{BILLING_CHART_CID}\" width=\"640\" style=\"max-width:100%\" alt=\"Billing change per contract against its baseline, flagged contracts in red (the figures are in the billing table below)\">"
    );
    for t in tables {
        let _ = write!(html, "<h2 style=\"font-size:16px\">{}</h2>{}", esc(t.title), html_table(t));
    }
    for n in &r.notes {
        let _ = write!(html, "<p style=\"color:#555\">{}</p>", esc(n));
    }
    let _ = write!(
        html,
        "<p style=\"color:#555;font-size:11px\">Targets by day 90: 25–40% autonomous, first response under 60 s (now {} / p50 {} s). {} Autotask requests used. Every table is attached as CSV.</p></body></html>",
        opt_pct(o.autonomous_rate),
        opt_f(o.first_response_p50_secs, 1),
        r.autotask_requests
    );
    html
}
