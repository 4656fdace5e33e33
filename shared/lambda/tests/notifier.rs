//! The production notifier against real API shapes: SES v2 `SendEmail`
//! (raw MIME) through the moto emulator, and the Teams webhook body through
//! a local stub that checks what Teams accepts.

use atpilot_agent::adapters::notify::{Attachment, Email, Notifier, TeamsMessage};
use atpilot_lambda::notifier::SesTeamsNotifier;
use std::sync::{Arc, Mutex};

fn required() -> bool {
    std::env::var("ATPILOT_REQUIRE_AWS").is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| v == "true")
}

fn email() -> Email {
    Email {
        to: vec!["finance@msp.example".into()],
        subject: "[atpilot] Weekly report – billing intact".into(),
        html: "<h1>Weekly report</h1>".into(),
        text: "Weekly report".into(),
        attachments: vec![Attachment {
            filename: "billing.csv".into(),
            content_type: "text/csv".into(),
            bytes: b"contract,hours\n7,1.5\n".to_vec(),
        }],
        inline: vec![],
    }
}

#[tokio::test]
async fn ses_v2_accepts_the_raw_message() {
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        assert!(!required(), "AWS_ENDPOINT_URL is not set: run scripts/test");
        eprintln!("SKIPPED: AWS_ENDPOINT_URL is not set");
        return;
    }
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let ses = aws_sdk_sesv2::Client::new(&conf);
    // SES only sends from a verified identity.
    ses.create_email_identity().email_identity("atpilot@msp.example").send().await.expect("CreateEmailIdentity");
    let n = SesTeamsNotifier::new(ses.clone(), Some("atpilot@msp.example".into()), None, None);
    let id = n.send_email(&email()).await.expect("SendEmail accepted");
    assert!(!id.is_empty());
    // An unverified sender is refused with SES's own message, as a permanent error.
    let bad = SesTeamsNotifier::new(ses, Some("nobody@unverified.example".into()), None, None);
    let err = bad.send_email(&email()).await.unwrap_err();
    assert!(matches!(err, atpilot_agent::PortError::Permanent(_)), "{err}");
    assert!(
        err.to_string().contains("Fix: SES refused the message: verify the sender nobody@unverified.example"),
        "{err}"
    );
    // Teams is not configured here: a clear, permanent error.
    let err = n.post_teams(&TeamsMessage { summary: "s".into(), card: serde_json::json!({}) }).await.unwrap_err();
    assert!(err.to_string().contains("Teams"));
}

#[tokio::test]
async fn teams_webhook_gets_a_message_with_one_adaptive_card() {
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/webhook",
        axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
            let s2 = s2.clone();
            async move {
                // What Teams checks: a message with an Adaptive Card attachment.
                let ok = v["type"] == "message"
                    && v["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
                    && v["attachments"][0]["content"]["type"] == "AdaptiveCard";
                s2.lock().unwrap().push(v);
                if ok {
                    (axum::http::StatusCode::OK, "1")
                } else {
                    (axum::http::StatusCode::BAD_REQUEST, "Bad payload")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let conf = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
    let n = SesTeamsNotifier::new(aws_sdk_sesv2::Client::new(&conf), None, None, Some(url.clone()));
    let card = serde_json::json!({"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "hi"}]});
    n.post_teams(&TeamsMessage { summary: "s".into(), card }).await.expect("accepted");
    assert_eq!(seen.lock().unwrap().len(), 1);
    // A refusal is reported with Teams' answer.
    let err = n
        .post_teams(&TeamsMessage { summary: "s".into(), card: serde_json::json!({"type": "Nope"}) })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400") && err.to_string().contains("Bad payload"), "{err}");
    assert!(err.to_string().contains("Fix: open the Workflows app"), "{err}");
    // No sender configured: e-mail is refused clearly.
    assert!(n.send_email(&email()).await.unwrap_err().to_string().contains("email_from"));
}
