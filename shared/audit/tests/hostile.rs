//! The audit's reports with hostile tenant text (queue names, re-routed
//! ticket titles, resource names) from `tests/data/hostile_tickets.json`:
//! Markdown escapes every Markdown and HTML character, HTML escapes, CSV
//! cells never start a formula, JSON stays data.

use atpilot_audit::{AuditConfig, CollectOptions, Format, audit, collect, render};
use atpilot_domain::untrusted::{is_bidi_control, is_invisible, markdown};
use chrono::{Duration, Utc};

async fn real_audit() -> atpilot_audit::Audit {
    let (_sb, client) = atpilot_e2e::sandbox_client(600, 1).await;
    let now = Utc::now();
    let mut opts = CollectOptions::new(now - Duration::days(90), now);
    opts.history_sample = 200;
    opts.model_sample = 300;
    audit(&collect(&client, &opts, &|_| {}).await.unwrap(), &AuditConfig::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tenant_text_stays_text_in_every_format() {
    let base = real_audit().await;
    assert!(!base.reroutes.is_empty(), "the seed re-routes tickets, so titles are quoted");
    for payload in atpilot_e2e::hostile_corpus().into_iter().map(|p| p.text) {
        let mut a = base.clone();
        a.queues.iter_mut().for_each(|q| q.queue = payload.clone());
        a.reroutes.iter_mut().for_each(|r| r.examples.iter_mut().for_each(|(_, t)| *t = payload.clone()));
        a.resources.values_mut().for_each(|n| *n = payload.clone());

        let md = render(&a, Format::Md);
        let name = payload.clone();
        assert!(md.contains(&markdown(&name)), "the queue name, escaped, is in the report");
        if name.contains(['<', '[', '*', '_', '`', '{', '\n', '\r']) {
            assert!(!md.contains(&name), "the raw name is not: {name:?}");
        }
        // Every `<` of the payload is escaped (`\<`): no raw tag reaches a viewer that renders HTML.
        let raw = |needle: &str| md.matches(needle).count() > md.matches(&format!("\\{needle}")).count();
        assert!(!raw("<script") && !raw("<img") && !md.contains("](https://evil"), "{payload}");
        assert!(!md.chars().any(|c| is_bidi_control(c) || is_invisible(c) || c == '\r'), "{payload}");

        let html = render(&a, Format::Html);
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{payload}");

        let csv_text = render(&a, Format::Csv);
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(csv_text.as_bytes());
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err();
                assert!(!formula, "a CSV cell a spreadsheet would run: {cell:?}");
            }
        }

        let json: serde_json::Value = serde_json::from_str(&render(&a, Format::Json)).expect("valid JSON");
        assert!(json["queues"].as_array().unwrap().iter().all(|q| q["queue"] == serde_json::json!(payload)));
    }
}
