//! Report formats: JSON (the issue's exact object), Markdown, CSV (one row per
//! queue) and a self-contained HTML page with inline SVG charts.

use crate::analyze::{Audit, QueueAudit, pct};
use std::fmt::Write;

mod markdown;
pub use markdown::markdown;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Md,
    Csv,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "md" | "markdown" => Ok(Format::Md),
            "csv" => Ok(Format::Csv),
            "html" | "htm" => Ok(Format::Html),
            _ => Err(format!("unknown format {s:?}: use html, md, csv or json")),
        }
    }
}

impl Format {
    /// From an output file's extension.
    pub fn from_path(p: &std::path::Path) -> Option<Format> {
        p.extension().and_then(|e| e.to_str()).and_then(|e| e.parse().ok())
    }
}

pub fn render(a: &Audit, f: Format) -> String {
    match f {
        Format::Json => serde_json::to_string_pretty(&a.to_json()).unwrap_or_default() + "\n",
        Format::Md => markdown(a),
        Format::Csv => csv(a),
        Format::Html => html(a),
    }
}

fn opt_h(x: Option<f64>) -> String {
    x.map(|h| if h < 10.0 { format!("{h:.1} h") } else { format!("{h:.0} h") }).unwrap_or_else(|| "–".into())
}
fn opt_pct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "–".into())
}
fn opt_days(x: Option<f64>) -> String {
    x.map(|d| format!("{d:.0} d")).unwrap_or_else(|| "–".into())
}
fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The routing signal in words, saying when neither predictor finds the queue.
fn signal_text(r: &crate::routing::QueueRouting) -> String {
    if r.text_f1 < 0.3 && r.contract_f1 < 0.3 && r.support >= crate::routing::MIN_SUPPORT {
        "mixed (neither predicts it)".into()
    } else {
        r.signal.as_str().into()
    }
}

fn requests(k: u64) -> String {
    format!("{k} {}", if k == 1 { "request" } else { "requests" })
}

fn label(a: &Audit, q: i64) -> String {
    a.queue(q).map(|x| x.queue.clone()).unwrap_or_else(|| format!("Queue {q}"))
}

fn who(a: &Audit, r: i64) -> String {
    a.resources.get(&r).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| format!("resource {r}"))
}

/// What was read, and what was sampled, in plain words.
pub fn sampling_note(a: &Audit) -> String {
    let s = &a.sample;
    let hist = if s.history_tickets >= a.tickets {
        format!("TicketHistory, notes and SLA results were read for all {} tickets", a.tickets)
    } else {
        format!(
            "TicketHistory costs one request per ticket, so it was read (with notes and SLA results) for a deterministic sample of {} of the {} tickets (--history-sample {}); re-routing figures and pairs are counts in that sample",
            s.history_tickets, a.tickets, s.history_limit
        )
    };
    let model = if s.model_tickets == 0 {
        "no tickets were available to compare content and contract routing".to_string()
    } else {
        format!(
            "content vs contract routing was cross-validated ({} folds) on {} tickets (--model-sample {})",
            a.routing.folds.max(a.config.folds),
            s.model_tickets,
            s.model_limit
        )
    };
    format!(
        "All {} tickets created since {} were read with only the fields the audit needs; {hist}; {model}.",
        a.tickets,
        a.since.format("%Y-%m-%d")
    )
}

fn udf_cost(a: &Audit) -> String {
    format!(
        "Reading them adds no request (they come with the ticket query){}; filtering by a UDF takes its own query, one UDF per query.",
        a.udfs.payload_share.map(|s| format!(", only bytes: {} of the ticket payload", pct(s))).unwrap_or_default()
    )
}

// ---------------------------------------------------------------- CSV

pub fn csv(a: &Audit) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record([
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
        "routing_signal",
    ]);
    let f = |x: Option<f64>| x.map(|v| format!("{:.4}", v)).unwrap_or_default();
    let cell = |s: &str| atpilot_domain::untrusted::csv_cell(s).into_owned();
    for q in &a.queues {
        let _ = w.write_record([
            q.queue_id.to_string(),
            cell(&q.queue),
            q.tickets.to_string(),
            q.open.to_string(),
            f(q.median_first_touch_hours),
            f(q.untouched_24h_share),
            q.actively_monitored.to_string(),
            q.dumping_ground.to_string(),
            f(q.rerouted_within_1h_share),
            f(q.sla_met_share),
            q.routing_signal.as_str().to_string(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

// ---------------------------------------------------------------- HTML

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const CSS: &str = r#"
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;background:#f5f6f8;color:#1d2733}
header{background:#1f3a5f;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;opacity:.85}
main{padding:20px 32px;max-width:1200px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;margin-bottom:18px}
h2{font-size:18px;margin:0 0 12px}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:12px 18px;min-width:150px}
.card b{display:block;font-size:26px}
.card span{color:#5b6b7c;font-size:13px}
ol.recs li{margin-bottom:8px;line-height:1.4}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:6px 8px;border-bottom:1px solid #e5e8ec;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
td.n,th.n{text-align:right}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.bad{background:#fde2e1;color:#a1231b}.warn{background:#fff1d6;color:#8a5a00}.ok{background:#dff3e4;color:#1d6b35}.muted{color:#8795a1}
.note{color:#5b6b7c;font-size:13px}
svg text{font-family:inherit}
"#;

fn badge(text: &str, class: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", esc(text))
}

/// Horizontal bar chart: (label, value, color) rows, value in 0..=max.
fn hbar_chart(id: &str, title: &str, rows: &[(String, f64, &str)], max: f64, fmt: &dyn Fn(f64) -> String) -> String {
    let row_h = 22.0;
    let left = 200.0;
    let width = 760.0;
    let bar_w = width - left - 80.0;
    let h = rows.len() as f64 * row_h + 30.0;
    let mut s = format!(
        "<svg id=\"{id}\" role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{h}\" viewBox=\"0 0 {width} {h}\">",
        esc(title)
    );
    let max = if max > 0.0 { max } else { 1.0 };
    for (i, (l, v, color)) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let w = (v / max * bar_w).max(if *v > 0.0 { 2.0 } else { 0.0 });
        let short: String =
            if l.chars().count() > 28 { l.chars().take(27).collect::<String>() + "…" } else { l.clone() };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1d2733\">{}</text><rect class=\"bar\" x=\"{left}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{color}\" rx=\"2\"><title>{}: {}</title></rect><text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#5b6b7c\">{}</text>",
            left - 8.0,
            y + 14.0,
            esc(&short),
            y + 3.0,
            row_h - 6.0,
            esc(l),
            esc(&fmt(*v)),
            left + w + 6.0,
            y + 14.0,
            esc(&fmt(*v))
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked bars: open and closed tickets per queue.
fn volume_chart(a: &Audit) -> String {
    let qs: Vec<&QueueAudit> = a.queues.iter().filter(|q| q.tickets > 0).collect();
    let row_h = 22.0;
    let left = 200.0;
    let width = 760.0;
    let bar_w = width - left - 110.0;
    let h = qs.len() as f64 * row_h + 40.0;
    let max = qs.iter().map(|q| q.tickets).max().unwrap_or(1).max(1) as f64;
    let mut s = format!(
        "<svg id=\"chart-volume\" role=\"img\" aria-label=\"Tickets per queue\" width=\"{width}\" height=\"{h}\" viewBox=\"0 0 {width} {h}\">"
    );
    for (i, q) in qs.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let closed = (q.tickets - q.open) as f64 / max * bar_w;
        let open = q.open as f64 / max * bar_w;
        let color = if !q.actively_monitored {
            "#c0392b"
        } else if q.dumping_ground {
            "#e69b23"
        } else {
            "#3a78b5"
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text><rect class=\"bar\" x=\"{left}\" y=\"{}\" width=\"{closed:.1}\" height=\"16\" fill=\"{color}\"><title>{}: {} closed</title></rect><rect class=\"bar\" x=\"{:.1}\" y=\"{}\" width=\"{open:.1}\" height=\"16\" fill=\"{color}\" fill-opacity=\"0.35\"><title>{}: {} open</title></rect><text x=\"{:.1}\" y=\"{}\" font-size=\"12\" fill=\"#5b6b7c\">{} ({} open)</text>",
            left - 8.0,
            y + 13.0,
            esc(&q.queue),
            y + 1.0,
            esc(&q.queue),
            q.tickets - q.open,
            left + closed,
            y + 1.0,
            esc(&q.queue),
            q.open,
            left + closed + open + 6.0,
            y + 13.0,
            q.tickets,
            q.open
        );
    }
    let ly = h - 14.0;
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#3a78b5\"/><text x=\"{}\" y=\"{ly}\" font-size=\"11\">worked</text><rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#e69b23\"/><text x=\"{}\" y=\"{ly}\" font-size=\"11\">dumping ground</text><rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#c0392b\"/><text x=\"{}\" y=\"{ly}\" font-size=\"11\">not monitored</text><text x=\"{}\" y=\"{ly}\" font-size=\"11\" fill=\"#5b6b7c\">(light part: still open)</text>",
        ly - 9.0,
        left + 14.0,
        left + 80.0,
        ly - 9.0,
        left + 94.0,
        left + 200.0,
        ly - 9.0,
        left + 214.0,
        left + 310.0
    );
    s.push_str("</svg>");
    s
}

pub fn html(a: &Audit) -> String {
    let mut o = String::new();
    html_summary(&mut o, a);
    html_queues(&mut o, a);
    html_reroutes(&mut o, a);
    html_routing(&mut o, a);
    html_sla(&mut o, a);
    html_udfs(&mut o, a);
    html_method(&mut o, a);
    o
}

/// The page head, the summary cards, the recommendations and the volume chart.
fn html_summary(o: &mut String, a: &Audit) {
    let (rr, n) = a.rerouted_within_1h;
    let flagged_dump = a.queues.iter().filter(|q| q.dumping_ground).count();
    let unmonitored = a.queues.iter().filter(|q| q.tickets > 0 && !q.actively_monitored).count();
    let _ = write!(
        o,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Queue and routing audit</title><style>{CSS}</style></head><body>"
    );
    let _ = write!(
        o,
        "<header><h1>Queue and routing audit</h1><p>Tickets created since {} &middot; as of {} &middot; {} API requests</p></header><main>",
        a.since.format("%d %b %Y"),
        a.now.format("%d %b %Y %H:%M UTC"),
        a.api_requests
    );
    let _ = write!(
        o,
        "<div class=\"cards\"><div class=\"card\" id=\"card-tickets\"><b>{}</b><span>tickets audited</span></div><div class=\"card\"><b>{}</b><span>queues with tickets</span></div><div class=\"card\" id=\"card-reroute\"><b>{}</b><span>re-routed within 1 h (sample of {n})</span></div><div class=\"card\"><b>{flagged_dump}</b><span>dumping grounds</span></div><div class=\"card\"><b>{unmonitored}</b><span>queues nobody works</span></div><div class=\"card\"><b>{}</b><span>API requests</span></div></div>",
        a.tickets,
        a.queues.iter().filter(|q| q.tickets > 0).count(),
        if n == 0 { "–".to_string() } else { pct(rr as f64 / n as f64) },
        a.api_requests
    );
    let _ =
        write!(o, "<section id=\"recommendations\"><h2>What to do before enabling the agent</h2><ol class=\"recs\">");
    for r in &a.recommendations {
        let _ = write!(o, "<li>{}</li>", esc(r));
    }
    o.push_str("</ol></section>");

    let _ = write!(o, "<section><h2>Tickets per queue</h2>{}</section>", volume_chart(a));
}

/// The queue table.
fn html_queues(o: &mut String, a: &Audit) {
    let _ = write!(
        o,
        "<section><h2>Queues</h2><table id=\"queues\"><thead><tr><th>Queue</th><th class=\"n\">Tickets</th><th class=\"n\">Open</th><th class=\"n\">Oldest open</th><th class=\"n\">Median first touch</th><th class=\"n\">Untouched 24 h</th><th>Worked?</th><th>Dumping ground?</th><th class=\"n\">Re-routed &lt; 1 h</th><th class=\"n\">SLA met</th><th>Routing follows</th></tr></thead><tbody>"
    );
    for q in &a.queues {
        let worked = if q.tickets == 0 {
            "<span class=\"muted\">no tickets</span>".to_string()
        } else if q.actively_monitored {
            badge("yes", "ok")
        } else {
            badge("nobody", "bad")
        };
        let dump = if q.dumping_ground { badge("yes", "warn") } else { "<span class=\"muted\">no</span>".to_string() };
        let _ = write!(
            o,
            "<tr data-queue-id=\"{}\"><td title=\"{}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{worked}</td><td>{dump}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            q.queue_id,
            esc(&q.reasons.join("; ")),
            esc(&q.queue),
            q.tickets,
            q.open,
            opt_days(q.oldest_open_days),
            opt_h(q.median_first_touch_hours),
            opt_pct(q.untouched_24h_share),
            opt_pct(q.rerouted_within_1h_share),
            opt_pct(q.sla_met_share),
            if q.tickets == 0 { "–" } else { q.routing_signal.as_str() }
        );
    }
    o.push_str("</tbody></table><p class=\"note\">Hover a queue name to see why it is flagged. A queue counts as worked when at least half of its tickets older than a day were touched (first response, resolution, or any later activity).</p></section>");
}

/// Re-routed by hand within an hour of intake.
fn html_reroutes(o: &mut String, a: &Audit) {
    let (rr, n) = a.rerouted_within_1h;
    let _ = write!(o, "<section id=\"reroutes\"><h2>Re-routed by hand within an hour of intake</h2>");
    if n == 0 {
        o.push_str("<p>No ticket history was read.</p>");
    } else {
        let _ = write!(
            o,
            "<p>{rr} of {n} sampled tickets ({}) were moved to another queue within an hour of intake. The agent must not learn the first queue of these tickets.</p>",
            pct(rr as f64 / n as f64)
        );
        let rows: Vec<(String, f64, &str)> = a
            .queues
            .iter()
            .filter(|q| q.sampled_started_here > 0)
            .map(|q| {
                (
                    q.queue.clone(),
                    q.rerouted_within_1h_share.unwrap_or(0.0),
                    if q.rerouted_within_1h_share.unwrap_or(0.0) >= 0.1 { "#e69b23" } else { "#3a78b5" },
                )
            })
            .collect();
        o.push_str("<h3 style=\"font-size:15px\">Share moved out within an hour, by the queue they arrived in</h3>");
        o.push_str(&hbar_chart("chart-reroutes", "Share re-routed within an hour by intake queue", &rows, 1.0, &|v| {
            pct(v)
        }));
        if !a.reroutes.is_empty() {
            o.push_str("<table id=\"reroute-pairs\"><thead><tr><th>From</th><th>To</th><th class=\"n\">Tickets</th><th>Moved by</th><th>Examples</th></tr></thead><tbody>");
            for r in &a.reroutes {
                let by: Vec<String> = r.by.iter().take(2).map(|(w, k)| format!("{} ({k})", who(a, *w))).collect();
                let ex: Vec<String> =
                    r.examples.iter().map(|(num, t)| format!("<b>{}</b> {}", esc(num), esc(t))).collect();
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&label(a, r.from_queue_id)),
                    esc(&label(a, r.to_queue_id)),
                    r.count,
                    esc(&by.join(", ")),
                    ex.join("<br>")
                );
            }
            o.push_str("</tbody></table>");
        }
    }
    o.push_str("</section>");
}

/// Does routing follow the content or the customer?
fn html_routing(o: &mut String, a: &Audit) {
    let _ = write!(o, "<section id=\"routing\"><h2>Does routing follow the content or the customer?</h2>");
    if a.routing.examples == 0 {
        o.push_str("<p>Not enough tickets to compare.</p>");
    } else {
        let _ = write!(
            o,
            "<p>On {} tickets, a text model trained on the MSP's own tickets picks the right queue <b>{}</b> of the time; a rule by contract or company picks it <b>{}</b> of the time. Queues where the text wins can be left to the agent; queues that follow the customer should keep a routing rule.</p><table id=\"routing-table\"><thead><tr><th>Queue</th><th class=\"n\">Sampled</th><th class=\"n\">Text F1</th><th class=\"n\">Contract F1</th><th>Routing follows</th></tr></thead><tbody>",
            a.routing.examples,
            pct(a.routing.text_accuracy),
            pct(a.routing.contract_accuracy)
        );
        for q in &a.queues {
            if let Some(r) = q.routing {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td>{}</td></tr>",
                    esc(&q.queue),
                    r.support,
                    r.text_f1,
                    r.contract_f1,
                    esc(&signal_text(&r))
                );
            }
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("</section>");
}

/// SLA met, by queue.
fn html_sla(o: &mut String, a: &Audit) {
    let sla_rows: Vec<(String, f64, &str)> = a
        .queues
        .iter()
        .filter_map(|q| {
            q.sla_met_share.map(|s| (q.queue.clone(), s, if s < a.config.sla_target { "#c0392b" } else { "#2e8b57" }))
        })
        .collect();
    let _ = write!(o, "<section id=\"sla\"><h2>SLA met, by queue (completed tickets with an SLA)</h2>");
    if sla_rows.is_empty() {
        o.push_str("<p>No completed ticket carries an SLA.</p>");
    } else {
        o.push_str(&hbar_chart("chart-sla", "SLA met share by queue", &sla_rows, 1.0, &|v| pct(v)));
    }
    o.push_str("</section>");
}

/// User-defined fields.
fn html_udfs(o: &mut String, a: &Audit) {
    let u = &a.udfs;
    let _ = write!(
        o,
        "<section id=\"udfs\"><h2>User-defined fields</h2><p>Tickets have <b>{}</b> UDFs; <b>{}</b> of their values are empty on the {} tickets read. {}</p>",
        u.defined,
        opt_pct(u.empty_share),
        u.tickets_read,
        esc(&udf_cost(a))
    );
    if !u.fields.is_empty() {
        let rows: Vec<(String, f64, &str)> = u
            .fields
            .iter()
            .map(|(n, s)| (n.clone(), *s, if *s < a.config.udf_empty_below { "#c0392b" } else { "#3a78b5" }))
            .collect();
        o.push_str(&hbar_chart("chart-udfs", "Share of tickets with the UDF filled", &rows, 1.0, &|v| {
            format!("{} filled", pct(v))
        }));
    }
    let _ = write!(
        o,
        "<p>Fields the agent should request: <code>{}</code></p></section>",
        esc(&u.recommended_fields.join(", "))
    );
}

/// What was read, and the end of the page.
fn html_method(o: &mut String, a: &Audit) {
    let _ = write!(o, "<section id=\"method\"><h2>What was read</h2><p>{}</p><ul>", esc(&sampling_note(a)));
    for (s, k) in &a.requests_by_stage {
        let _ = write!(o, "<li>{}: {}</li>", esc(s), requests(*k));
    }
    o.push_str("</ul></section></main></body></html>\n");
}
