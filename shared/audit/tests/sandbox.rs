//! The audit on the sandbox's seeded tenant finds every planted case, and its
//! HTML report renders in headless Chromium.

use atpilot_audit::rows::sample_ids;
use atpilot_audit::{AuditConfig, CollectOptions, Format, audit, collect, render};
use atpilot_autotask::{Client, ClientConfig, Credentials, ZoneSource};
use atpilot_autotask_sandbox::{DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USER, Sandbox, SandboxConfig};
use atpilot_e2e::browser::Browser;
use chrono::{Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};

async fn run(tickets: u64, history_sample: usize) -> (Sandbox, atpilot_audit::Collected, atpilot_audit::Audit) {
    let sb = Sandbox::start(SandboxConfig { tickets, seed: 1, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let creds = Credentials {
        username: DEFAULT_USER.into(),
        secret: DEFAULT_SECRET.into(),
        integration_code: DEFAULT_INTEGRATION_CODE.into(),
        impersonation_resource_id: None,
    };
    let client = Client::new(ClientConfig::new(creds, ZoneSource::Fixed { rest_url: sb.rest_url() })).unwrap();
    let now = Utc::now();
    let mut opts = CollectOptions::new(now - Duration::days(90), now);
    opts.history_sample = history_sample;
    opts.model_sample = 1500;
    let c = collect(&client, &opts, &|_| {}).await.unwrap();
    let a = audit(&c, &AuditConfig::default());
    (sb, c, a)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_every_planted_case_on_the_seeded_tenant() {
    let (sb, c, a) = run(2000, 300).await;
    let facts = sb.facts();

    // Every ticket since the cut-off was read, with the request count the client saw.
    assert!(a.tickets > 900 && a.tickets < 1100, "{} tickets", a.tickets);
    assert_eq!(a.api_requests as usize, sb.request_count(), "api_requests is what the tenant served");
    assert_eq!(a.to_json()["api_requests"], serde_json::json!(sb.request_count()));

    // Dumping grounds flagged, the unmonitored queue not worked, nothing else flagged.
    for q in &facts.dumping_ground_queues {
        let qa = a.queue(*q).unwrap();
        assert!(qa.dumping_ground, "planted dumping ground {} not flagged: {:?}", qa.queue, qa.reasons);
        assert!(qa.actively_monitored, "{} is worked", qa.queue);
    }
    let legacy = a.queue(facts.unmonitored_queue).unwrap();
    assert!(legacy.tickets > 0 && !legacy.actively_monitored, "{legacy:?}");
    assert_eq!(legacy.untouched_24h_share, Some(1.0));
    assert_eq!(legacy.median_first_touch_hours, None);
    for q in a.queues.iter().filter(|q| q.tickets > 0) {
        if q.queue_id != facts.unmonitored_queue {
            assert!(q.actively_monitored, "{} is worked in the seed: {:?}", q.queue, q.reasons);
        }
        if q.dumping_ground {
            assert!(
                facts.dumping_ground_queues.contains(&q.queue_id) || q.queue_id == facts.unmonitored_queue,
                "false dumping ground {}: {:?}",
                q.queue,
                q.reasons
            );
        }
    }
    let recs = a.recommendations.join("\n");
    assert!(recs.contains(&format!("Nobody works \u{201c}{}\u{201d}", legacy.queue)), "{recs}");

    // The history sample is the documented deterministic one.
    let ids: Vec<i64> = c.tickets.iter().map(|t| t.id).collect();
    let sampled: Vec<i64> = c.history.keys().copied().collect();
    assert_eq!(sampled, sample_ids(ids, 300));

    // Re-routes, computed independently from the sandbox's own facts of the sampled tickets.
    let mut pairs: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    let mut started: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for id in &sampled {
        let f = sb.ticket_facts(*id).unwrap();
        let e = started.entry(f.initial_queue).or_default();
        e.0 += 1;
        if let Some(at) = f.rerouted_at.filter(|at| *at - f.create <= Duration::hours(1)) {
            let _ = at;
            e.1 += 1;
            *pairs.entry((f.initial_queue, f.queue)).or_default() += 1;
        }
    }
    let found: BTreeMap<(i64, i64), usize> =
        a.reroutes.iter().map(|r| ((r.from_queue_id, r.to_queue_id), r.count)).collect();
    assert!(!pairs.is_empty(), "the sample holds re-routed tickets");
    assert_eq!(found, pairs);
    for (q, (n, moved)) in &started {
        let share = a.queue(*q).unwrap().rerouted_within_1h_share.unwrap();
        assert!((share - *moved as f64 / *n as f64).abs() < 1e-12, "queue {q}: {share} vs {moved}/{n}");
    }
    let total_moved: usize = pairs.values().sum();
    assert_eq!(a.rerouted_within_1h, (total_moved, sampled.len()));
    for q in &facts.dumping_ground_queues {
        assert!(a.reroutes.iter().any(|r| r.from_queue_id == *q), "re-routes out of {q}");
    }
    // Only the planted (dumping-ground) queues lose tickets within the hour.
    let sources: BTreeSet<i64> = a.reroutes.iter().map(|r| r.from_queue_id).collect();
    assert!(sources.iter().all(|s| facts.dumping_ground_queues.contains(s)));

    // UDFs: two defined on Tickets, "atpilot Category" never filled.
    assert_eq!(a.udfs.defined, 2);
    let empty = a.udfs.empty_share.unwrap();
    assert!((empty - 0.5).abs() < 1e-9, "{empty}");

    // Content vs contract: the seed routes by category, so the big queues follow the text.
    for (q, r) in &a.routing.by_queue {
        assert_ne!(r.signal, atpilot_audit::RoutingSignal::Contract, "queue {q}: {r:?}");
    }
    assert!(a.routing.text_accuracy > a.routing.contract_accuracy);
    let m365 = a.queues.iter().find(|q| q.queue == "Microsoft 365").unwrap();
    assert_eq!(m365.routing_signal, atpilot_audit::RoutingSignal::Content, "{:?}", m365.routing);

    // Every format renders.
    let j: serde_json::Value = serde_json::from_str(&render(&a, Format::Json)).unwrap();
    assert_eq!(j["tickets"], serde_json::json!(a.tickets));
    assert_eq!(j["queues"].as_array().unwrap().len(), a.queues.len());
    let csv = render(&a, Format::Csv);
    assert_eq!(csv.lines().count(), a.queues.len() + 1);
    let md = render(&a, Format::Md);
    assert!(md.contains("## Recommendations") && md.contains(&legacy.queue));

    // The HTML report, in headless Chromium.
    let html = render(&a, Format::Html);
    assert!(!html.contains("http://") && !html.contains("https://"), "no external assets");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("audit.html");
    std::fs::write(&page, &html).unwrap();
    let Some(browser) = Browser::start().await else { return };
    browser.goto(&format!("file://{}", page.display())).await;
    assert_eq!(browser.title().await, "Queue and routing audit");
    assert_eq!(browser.text("#card-tickets b").await, a.tickets.to_string());
    assert!(browser.count("#chart-volume rect.bar").await >= 2 * a.queues.iter().filter(|q| q.tickets > 0).count());
    assert!(browser.count("#chart-reroutes rect.bar").await >= 3);
    assert_eq!(browser.count("#queues tbody tr").await, a.queues.len());
    assert_eq!(browser.count("#recommendations li").await, a.recommendations.len());
    let row = browser.text(&format!("#queues tr[data-queue-id=\"{}\"]", facts.unmonitored_queue)).await;
    assert!(row.contains("nobody"), "{row}");
    let shot = dir.join("audit.png");
    browser.screenshot(&shot).await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    eprintln!("audit report: {} screenshot: {}", page.display(), shot.display());
}
