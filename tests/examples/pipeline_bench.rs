//! Bench: `atpilot dev`'s pipeline on the sandbox at a steady rate. Prints
//! the webhook-to-internal-note latency (p50, p99) and the Autotask requests
//! per ticket, cold (first tickets) and warm.
//!
//!     cargo run --release -p atpilot-e2e --example pipeline_bench -- [TICKETS] [PER_SECOND]

use atpilot_autotask::TicketWebhookRegistration;
use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_domain::TicketId;
use atpilot_e2e::hooked::Hooked;
use atpilot_local::{Local, LocalOptions, Target};
use chrono::Utc;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let per_second: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let dir = tempfile::tempdir().unwrap();
    let mut local = Local::start(LocalOptions {
        state_dir: dir.path().into(),
        target: Target::Sandbox { tickets: 2000, seed: 1 },
        config: None,
        webhook_secret: None,
        public_url: "http://127.0.0.1:0".into(),
        classifier: atpilot_local::LocalClassifier::Given(Arc::new(atpilot_e2e::CalibratedKeywords)),
        kb_sandbox: Default::default(),
    })
    .await
    .unwrap();
    let notes: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let mut hooked = Hooked::new(local.deps.autotask.clone());
    let seen = notes.clone();
    hooked.after_note = Some(Arc::new(move |t: TicketId| {
        seen.lock().unwrap().insert(t.get(), Instant::now());
    }));
    local.deps.autotask = Arc::new(hooked);
    // The intake endpoint, as `atpilot dev` serves it.
    let deps = local.deps.clone();
    let app = axum::Router::new().route(
        "/webhooks/autotask",
        axum::routing::post(move |h: axum::http::HeaderMap, body: axum::body::Bytes| {
            let deps = deps.clone();
            async move {
                let r = atpilot_agent::handlers::intake::handle_webhook(
                    &deps,
                    h.get("x-hook-signature").and_then(|v| v.to_str().ok()),
                    &body,
                    Utc::now(),
                )
                .await;
                axum::http::StatusCode::from_u16(r.status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/autotask", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    local
        .client
        .register_ticket_webhook(&TicketWebhookRegistration {
            name: "bench".into(),
            webhook_url: url.clone(),
            deactivation_url: url,
            secret_key: local.webhook_secret.clone(),
            notification_email_address: None,
            on_create: true,
            on_update: false,
            subscribed_fields: vec!["status".into()],
            display_always_fields: vec![],
            excluded_resources: local.deps.own_resources(),
        })
        .await
        .unwrap();
    let queue = local.classify_queue.clone() as Arc<dyn atpilot_store::Queue>;
    let deps = local.deps.clone();
    tokio::spawn(atpilot_local::worker(queue, move |d| {
        let deps = deps.clone();
        async move { atpilot_local::classify_message(&deps, &d.message_id, &d.body).await.map(|_| ()) }
    }));
    let sb = local.sandbox.clone().unwrap();
    let facts = sb.facts();
    let contracts: Vec<i64> = facts.contracts_by_type[&CT_RECURRING].clone();
    let human = (1..).map(|i| facts.api_resource_id + i).find(|r| *r != facts.agent_resource_id).unwrap();
    let before = local.client.stats().requests;
    let mut created: Vec<(i64, Instant)> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    let mut cold_requests = 0;
    for i in 0..n {
        tick.tick().await;
        let contract = contracts[i % contracts.len()];
        let company = sb.row("Contracts", contract).unwrap()["companyID"].as_i64().unwrap();
        let mut f = serde_json::Map::new();
        for (k, v) in [
            ("companyID", company.into()),
            ("contractID", contract.into()),
            ("title", "Microsoft 365 license needed".into()),
            ("description", "A license for the new starter please".into()),
            ("status", 1.into()),
            ("priority", 2.into()),
            ("queueID", facts.queues[0].0.into()),
        ] {
            f.insert(k.to_string(), v);
        }
        let id = sb.simulate_ticket_create(f, human);
        created.push((id, Instant::now()));
        if i == contracts.len() {
            cold_requests = local.client.stats().requests - before;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while notes.lock().unwrap().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = local.client.stats().requests - before;
    let notes = notes.lock().unwrap();
    let mut lat: Vec<Duration> =
        created.iter().filter_map(|(id, at)| notes.get(id).map(|done| done.duration_since(*at))).collect();
    lat.sort();
    let warm_tickets = n.saturating_sub(contracts.len() + 1).max(1);
    println!("pipeline bench: {n} tickets at {per_second}/s, {} internal notes written", lat.len());
    if !lat.is_empty() {
        println!(
            "webhook-to-internal-note latency: p50 {:?}  p99 {:?}  max {:?}   (goal: p99 < 2 s)",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat[lat.len() - 1]
        );
    }
    println!(
        "Autotask requests: {total} in all; first {} tickets (one per company, cold caches): {:.2}/ticket; the rest (warm): {:.2}/ticket   (goal: <= 3 warm)",
        contracts.len() + 1,
        cold_requests as f64 / (contracts.len() + 1) as f64,
        (total - cold_requests) as f64 / warm_tickets as f64
    );
    drop(local);
}
