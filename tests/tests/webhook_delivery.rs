//! The sandbox delivers a real signed callout over HTTP to an intake server;
//! the decision appears, exactly as under `atpilot dev`.

use atpilot_autotask::TicketWebhookRegistration;
use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_e2e::Stack;
use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_callout_reaches_intake_and_is_decided() {
    let s = Stack::start().await;
    let deps = s.local.deps.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let deps = deps.clone();
            async move {
                let sig = headers.get("x-hook-signature").and_then(|v| v.to_str().ok()).map(str::to_string);
                let r =
                    atpilot_agent::handlers::intake::handle_webhook(&deps, sig.as_deref(), &body, chrono::Utc::now())
                        .await;
                (axum::http::StatusCode::from_u16(r.status).unwrap(), r.body.to_string())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let reg = TicketWebhookRegistration {
        name: "e2e".into(),
        webhook_url: url.clone(),
        deactivation_url: format!("{url}/deactivated"),
        secret_key: s.local.webhook_secret.clone(),
        notification_email_address: None,
        on_create: true,
        on_update: true,
        subscribed_fields: vec!["status".into(), "queueID".into()],
        display_always_fields: vec!["title".into()],
        excluded_resources: vec![s.local.deps.config.agent.resource_id.get()],
    };
    s.local.client.register_ticket_webhook(&reg).await.unwrap();
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    // Non-ASCII and .NET-escaped characters: the signature covers the bytes as sent.
    let t = s.create_ticket(
        company,
        Some(contract),
        "Need a Microsoft 365 license + Teams & <Planner> für Zoë",
        "license please",
        json!({}),
    );
    let mut decided = Vec::new();
    for _ in 0..100 {
        s.local.pump().await;
        decided = s.local.deps.state.ticket_decisions(atpilot_domain::TicketId::new(t).unwrap()).await.unwrap();
        if !decided.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deliveries = s.sandbox().deliveries();
    assert!(!decided.is_empty(), "no decision; deliveries: {deliveries:?}");
    assert_eq!(decided[0].prediction.category.as_str(), "license-request");
}
