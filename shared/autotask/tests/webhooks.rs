//! Webhook registration through the client, and signed deliveries from the
//! sandbox received over real HTTP and verified over the raw body bytes.

mod common;

use atpilot_autotask::webhook::{SIGNATURE_HEADER, verify_and_parse};
use atpilot_autotask::*;
use atpilot_autotask_sandbox::Knobs;
use axum::body::Bytes;
use axum::http::HeaderMap;
use common::*;
use serde_json::{Map, Value, json};
use std::time::Duration;
use tokio::sync::mpsc;

async fn receiver(status: u16) -> (String, mpsc::UnboundedReceiver<(Option<String>, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |h: HeaderMap, body: Bytes| {
        let tx = tx.clone();
        async move {
            let sig = h.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).map(String::from);
            let _ = tx.send((sig, body));
            axum::http::StatusCode::from_u16(status).unwrap()
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/autotask", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(Option<String>, Bytes)>) -> (Option<String>, Bytes) {
    tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("a callout arrives").expect("channel open")
}

#[tokio::test]
async fn registration_and_signed_delivery_verified_on_raw_bytes() {
    let sb = sandbox(50, Knobs::default()).await;
    let c = client(&sb);
    let (url, mut rx) = receiver(200).await;
    let secret = "whsec-atpilot-0123456789";
    let facts = sb.facts();
    let reg = TicketWebhookRegistration {
        name: "atpilot intake".into(),
        webhook_url: url.clone(),
        deactivation_url: format!("{url}/deactivated"),
        secret_key: secret.into(),
        notification_email_address: Some("ops@msp.example".into()),
        on_create: true,
        on_update: true,
        subscribed_fields: vec!["status".into(), "queueID".into(), "title".into()],
        display_always_fields: vec!["title".into(), "companyID".into()],
        excluded_resources: vec![facts.agent_resource_id],
    };
    assert!(!format!("{reg:?}").contains(secret));
    let id = c.register_ticket_webhook(&reg).await.unwrap();
    let hook = c.get::<TicketWebhook>(id).await.unwrap().unwrap();
    assert_eq!((hook.is_active, hook.is_ready), (Some(true), Some(true)));
    let guid = hook.webhook_guid.clone().unwrap();
    let fields = c.query::<TicketWebhookField>(Query::new().filter(Filter::eq("webhookID", id))).await.unwrap();
    assert_eq!(fields.len(), 4);
    // Fields and exclusions were created one at a time, through the parent.
    let w = sb.applied_writes();
    assert_eq!(w.len(), 6);
    assert!(w[1..5].iter().all(|r| r.path == format!("/atservicesrest/v1.0/TicketWebhooks/{id}/Fields")));

    // An update through the API (as the API user) fires, with .NET escaping of the title.
    let mut p = TicketPatch::new(100_004);
    p.title = Opt::Value("Can't print: \"A&B\" <urgent> + café ☕".into());
    c.patch::<Ticket>(&p).await.unwrap();
    let (sig, body) = next(&mut rx).await;
    let text = std::str::from_utf8(&body).unwrap();
    assert!(
        text.contains(r"\u0027") && text.contains(r"\u0026") && text.contains(r"\u003C") && text.contains(r"\u00E9"),
        "{text}"
    );
    let ev = verify_and_parse(secret.as_bytes(), &body, sig.as_deref()).expect("signature verifies over the raw bytes");
    assert_eq!(
        (ev.action.clone(), ev.id, ev.entity_type.as_str(), ev.guid.as_str()),
        (WebhookAction::Update, 100_004, "Ticket", guid.as_str())
    );
    assert_eq!(ev.field("title"), Some(&json!("Can't print: \"A&B\" <urgent> + café ☕")));
    assert!(ev.field("companyID").is_some(), "display-always field present");
    assert!(ev.field("status").is_none(), "unchanged subscribed fields are not sent");
    assert_eq!(ev.person_id, Some(facts.api_resource_id));
    // A re-serialized body would not verify (why receivers must keep raw bytes).
    let reserialized = serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    assert!(verify_and_parse(secret.as_bytes(), &reserialized, sig.as_deref()).is_err());
    assert!(verify_and_parse(b"wrong-secret", &body, sig.as_deref()).is_err());

    // Changes by the excluded resource are not delivered; others are, in order.
    let mut m = Map::new();
    m.insert("title".into(), json!("changed by the agent"));
    sb.simulate_ticket_update(100_005, m.clone(), facts.agent_resource_id);
    m.insert("title".into(), json!("changed by a technician"));
    sb.simulate_ticket_update(100_006, m, 9);
    let (sig, body) = next(&mut rx).await;
    let ev = verify_and_parse(secret.as_bytes(), &body, sig.as_deref()).unwrap();
    assert_eq!((ev.id, ev.person_id, ev.field("title")), (100_006, Some(9), Some(&json!("changed by a technician"))));
    // Creates fire too.
    let status = c.picklist("Tickets", "status").await.unwrap();
    let tid = c
        .create(&Ticket {
            company_id: Some(2),
            title: Some("New laptop".into()),
            status: status.id_of("New"),
            priority: Some(3),
            queue_id: Some(29683481),
            ..Default::default()
        })
        .await
        .unwrap();
    let (sig, body) = next(&mut rx).await;
    let ev = verify_and_parse(secret.as_bytes(), &body, sig.as_deref()).unwrap();
    assert_eq!((ev.action, ev.id), (WebhookAction::Create, tid));
    assert!(ev.sequence_number.unwrap() >= 3);
    // A change to a field nobody subscribed to does not fire.
    let mut p = TicketPatch::new(100_007);
    p.priority = Opt::Value(1);
    c.patch::<Ticket>(&p).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.try_recv().is_err());
    assert!(sb.deliveries().iter().all(|d| d.ticket_id != 100_005 && d.ticket_id != 100_007));
}

#[tokio::test]
async fn failing_receivers_get_five_attempts_and_the_webhook_is_disabled_after_25_failures() {
    let sb = sandbox(50, Knobs { webhook_retry_delay: Duration::from_millis(1), ..Knobs::default() }).await;
    let c = client(&sb);
    let (url, mut rx) = receiver(503).await;
    let reg = TicketWebhookRegistration {
        name: "failing".into(),
        webhook_url: url.clone(),
        deactivation_url: format!("{url}/deactivated"),
        secret_key: "k".into(),
        notification_email_address: None,
        on_create: false,
        on_update: true,
        subscribed_fields: vec!["title".into()],
        display_always_fields: vec![],
        excluded_resources: vec![],
    };
    let id = c.register_ticket_webhook(&reg).await.unwrap();
    for i in 0..5 {
        let mut m = Map::new();
        m.insert("title".into(), json!(format!("fail {i}")));
        sb.simulate_ticket_update(100_010 + i, m, 9);
    }
    // 5 events × 5 attempts = 25 failures, then one Deactivated callout.
    let mut got = vec![];
    for _ in 0..26 {
        got.push(next(&mut rx).await);
    }
    let last = verify_and_parse(b"k", &got[25].1, got[25].0.as_deref()).unwrap();
    assert_eq!(last.action, WebhookAction::Deactivated);
    let d = sb.deliveries();
    assert_eq!(d.iter().filter(|d| d.webhook_id == id).count(), 25);
    assert_eq!(d.iter().map(|d| d.attempt).max(), Some(5));
    let hook = c.get::<TicketWebhook>(id).await.unwrap().unwrap();
    assert_eq!(hook.is_active, Some(false));
    // Injected drops lose callouts (the reconciler's job to catch up).
    let (url, mut rx) = receiver(200).await;
    let id2 = c
        .register_ticket_webhook(&TicketWebhookRegistration {
            webhook_url: url.clone(),
            deactivation_url: url.clone(),
            name: "ok".into(),
            ..reg.clone()
        })
        .await
        .unwrap();
    sb.set_knobs(|k| k.drop_webhooks_next = 1);
    for i in 0..2 {
        let mut m = Map::new();
        m.insert("title".into(), json!(format!("drop {i}")));
        sb.simulate_ticket_update(100_030 + i, m, 9);
    }
    let (_, body) = next(&mut rx).await;
    assert_eq!(atpilot_autotask::webhook::parse_payload(&body).unwrap().id, 100_031);
    assert!(sb.deliveries().iter().any(|d| d.webhook_id == id2 && d.dropped && d.ticket_id == 100_030));
}
