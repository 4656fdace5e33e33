//! SVG charts, inline in the e-mail: the weekly approval rate per category
//! over the stored snapshots, and each contract's billing change against its
//! baseline.

use crate::billing::BillingRow;
use crate::format::{opt_change, pct};
use crate::report::WeeklyReport;
use atpilot_agent::html::esc;
use atpilot_domain::ApprovalCounts;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const PALETTE: &[&str] =
    &["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

/// Weekly approval rate per category over the stored snapshots and this week (inline SVG).
pub fn approval_chart(history: &[(String, serde_json::Value)], r: &WeeklyReport) -> String {
    let mut weeks: Vec<String> = history.iter().map(|(w, _)| w.clone()).collect();
    weeks.push(r.week.clone());
    let mut series: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let n = weeks.len();
    for (i, (_, snap)) in history.iter().enumerate() {
        for a in snap.get("approvals").and_then(|v| v.as_array()).into_iter().flatten() {
            let (Some(c), Some(w)) = (a.get("category").and_then(|v| v.as_str()), a.get("week")) else { continue };
            let counts: ApprovalCounts = serde_json::from_value(w.clone()).unwrap_or_default();
            if let Some(rate) = counts.rate() {
                series.entry(c.to_string()).or_insert_with(|| vec![None; n])[i] = Some(rate);
            }
        }
    }
    for a in &r.approvals {
        if let Some(rate) = a.week.rate() {
            series.entry(a.category.to_string()).or_insert_with(|| vec![None; n])[n - 1] = Some(rate);
        }
    }
    let (w, h, left, right, top, bottom) = (640.0, 280.0, 44.0, 16.0, 16.0, 40.0);
    let x = |i: usize| {
        if n <= 1 { left + (w - left - right) / 2.0 } else { left + (w - left - right) * i as f64 / (n - 1) as f64 }
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v);
    let mut s = format!(
        "<svg id=\"approval-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"Weekly approval rate per category\" style=\"font-family:Arial,sans-serif;font-size:11px\">",
        h + 20.0 * series.len().div_ceil(3) as f64,
        h + 20.0 * series.len().div_ceil(3) as f64
    );
    s.push_str(&format!("<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"));
    for (v, dash, label) in
        [(0.0, "", "0%"), (0.5, "", "50%"), (0.8, "4 3", "80% demote"), (0.9, "4 3", "90% promote"), (1.0, "", "100%")]
    {
        let yy = y(v);
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#cccccc\" stroke-dasharray=\"{dash}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            w - right,
            left - 4.0,
            yy + 4.0,
            esc(label.split(' ').next().unwrap_or(label))
        );
    }
    for (i, wk) in weeks.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(i),
            h - bottom + 16.0,
            esc(wk)
        );
    }
    for (k, (cat, vals)) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<String> =
            vals.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
        if pts.len() > 1 {
            let _ = write!(
                s,
                "<polyline class=\"series\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                pts.join(" ")
            );
        }
        for (i, v) in vals.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"><title>{} {}: {}</title></circle>",
                    x(i),
                    y(*v),
                    esc(cat),
                    esc(&weeks[i]),
                    pct(*v)
                );
            }
        }
        let (lx, ly) = (left + 200.0 * (k % 3) as f64, h + 14.0 + 20.0 * (k / 3) as f64);
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{ly:.1}\" fill=\"#222\">{}</text>",
            ly - 9.0,
            lx + 14.0,
            esc(cat)
        );
    }
    if series.is_empty() {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">No decided approval requests yet</text>",
            w / 2.0,
            h / 2.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Billing change per contract against its baseline, flagged bars in red (inline SVG).
pub fn billing_chart(r: &WeeklyReport) -> String {
    let mut rows: Vec<&BillingRow> = r.billing.iter().collect();
    rows.sort_by(|a, b| {
        b.flagged
            .cmp(&a.flagged)
            .then(b.headline_change().unwrap_or(0.0).abs().total_cmp(&a.headline_change().unwrap_or(0.0).abs()))
    });
    rows.truncate(30);
    let (w, label_w, bar_h, top) = (640.0, 230.0, 18.0, 24.0);
    let h = top + bar_h * rows.len().max(1) as f64 + 24.0;
    let plot = w - label_w - 60.0;
    let cx = label_w + plot / 2.0;
    let scale = plot / 2.0; // ±100%
    let band = (r.flag_percent / 100.0).min(1.0) * scale;
    let mut s = format!(
        "<svg id=\"billing-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Billing change per contract against its baseline\" style=\"font-family:Arial,sans-serif;font-size:11px\">"
    );
    let _ = write!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/><rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#eef5ee\"/>",
        cx - band,
        2.0 * band,
        h - top - 24.0
    );
    for (v, label) in [(-1.0, "-100%"), (-0.5, "-50%"), (0.0, "0"), (0.5, "+50%"), (1.0, "+100%")] {
        let xx = cx + v * scale;
        let _ = write!(
            s,
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#dddddd\"/><text x=\"{xx:.1}\" y=\"14\" text-anchor=\"middle\" fill=\"#555\">{label}</text>",
            h - 24.0
        );
    }
    for (i, b) in rows.iter().enumerate() {
        let yy = top + bar_h * i as f64;
        let c = b.headline_change();
        let v = c.unwrap_or(0.0).clamp(-1.0, 1.0);
        let (x0, bw) = if v >= 0.0 { (cx, v * scale) } else { (cx + v * scale, -v * scale) };
        let color = if b.flagged { "#d62728" } else { "#8aa1b1" };
        let name: String = b.name.chars().take(34).collect();
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#222\">{}</text>",
            label_w - 6.0,
            yy + 13.0,
            esc(&name)
        );
        let _ = write!(
            s,
            "<rect class=\"bar{}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {}</title></rect>",
            if b.flagged { " flagged" } else { "" },
            yy + 3.0,
            bw.max(1.0),
            bar_h - 6.0,
            esc(&b.name),
            opt_change(c)
        );
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\">{}</text>",
            w - 56.0,
            yy + 13.0,
            if c.is_some() { opt_change(c) } else { "new".into() }
        );
    }
    if rows.is_empty() {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">No contract activity</text>",
            w / 2.0,
            top + 14.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">change against the contract's own baseline (green band: ±{}%)</text></svg>",
        h - 6.0,
        r.flag_percent
    );
    s
}
