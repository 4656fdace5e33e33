//! An approval request's messages through the production notifier (SES v2
//! on the moto emulator, Teams at a local URL), each recorded per channel and
//! recipient: a Teams failure never stops the e-mail and its retry resends
//! only Teams; a sender SES refuses is alerted once with the fix, while
//! Teams still goes out and the request stays pending for its approvers.

use atpilot_e2e::{APPROVER, Stack};
use atpilot_lambda::notifier::SesTeamsNotifier;
use atpilot_store::records::{ApprovalState, DeliveryState};
use serde_json::json;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const SENDER: &str = "atpilot@msp.example";

/// The SES client on moto, or `None` (skipped) outside `scripts/test`.
async fn ses() -> Option<aws_sdk_sesv2::Client> {
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "AWS_ENDPOINT_URL must be set in CI (scripts/test)");
        eprintln!("SKIPPED: AWS_ENDPOINT_URL is not set; run scripts/test");
        return None;
    }
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let ses = aws_sdk_sesv2::Client::new(&conf);
    ses.create_email_identity().email_identity(SENDER).send().await.expect("CreateEmailIdentity");
    Some(ses)
}

/// A Teams Workflows URL that answers `statuses` in turn, then 202; and the posts it got.
async fn teams(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<u16>>>) {
    let answered: Arc<Mutex<Vec<u16>>> = Arc::default();
    let a = answered.clone();
    let app = axum::Router::new().route(
        "/workflows",
        axum::routing::post(move || {
            let a = a.clone();
            let statuses = statuses.clone();
            async move {
                let mut a = a.lock().unwrap();
                let status = statuses.get(a.len()).copied().unwrap_or(202);
                a.push(status);
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/workflows", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, answered)
}

/// An MFA-enrollment ticket (Teams and e-mail to its approver in the demo
/// configuration) delivered and settled: its pending request's id and the
/// messages that failed on the way.
async fn request(s: &Stack, title: &str) -> (String, Vec<String>) {
    let (contract, company) = s.contract_of_type(atpilot_autotask_sandbox::tenant::CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        title,
        "Please set up the authenticator app on my new phone",
        json!({}),
    );
    let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    let r = s.local.settle(40).await;
    let pending = s.local.deps.state.approvals_in_state(ApprovalState::Pending, 20).await.unwrap();
    let a = pending.into_iter().find(|a| a.ticket_id.get() == t).expect("a pending request");
    (a.id, r.failures)
}

fn states(d: &[atpilot_store::records::DeliveryRecord]) -> Vec<(&str, &str, DeliveryState, u32)> {
    d.iter().map(|d| (d.channel.as_str(), d.recipient.as_str(), d.state, d.attempts)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teams_failure_never_stops_the_email_and_its_retry_resends_only_teams() {
    let Some(ses) = ses().await else { return };
    let (url, answered) = teams(vec![500]).await;
    let mut s = Stack::start().await;
    s.local.deps.notifier = Arc::new(SesTeamsNotifier::new(ses, Some(SENDER.into()), None, Some(url)));
    let (id, failures) = request(&s, "MFA enrollment").await;
    assert_eq!(failures.len(), 1, "the Teams 500 failed the message once: {failures:?}");
    assert!(failures[0].contains("500"), "{failures:?}");
    assert_eq!(*answered.lock().unwrap(), [500, 202], "Teams tried again");
    let d = s.local.deps.state.deliveries(&id).await.unwrap();
    assert_eq!(
        states(&d),
        [("email", APPROVER, DeliveryState::Accepted, 1), ("teams", "channel", DeliveryState::Accepted, 2)],
        "the e-mail went out the first time and was not sent again"
    );
    assert!(d[0].answer.starts_with("SES message id "), "{}", d[0].answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_ses_refuses_is_alerted_once_with_the_fix_and_teams_still_goes_out() {
    let Some(ses) = ses().await else { return };
    let (url, answered) = teams(vec![]).await;
    let mut s = Stack::start().await;
    let unverified = "nobody@unverified.example";
    s.local.deps.notifier = Arc::new(SesTeamsNotifier::new(ses, Some(unverified.into()), None, Some(url)));
    let (first, failures) = request(&s, "MFA enrollment").await;
    assert!(failures.is_empty(), "a refusal is not retried: {failures:?}");
    let (second, _) = request(&s, "MFA enrollment for the accountant").await;
    for id in [&first, &second] {
        let d = s.local.deps.state.deliveries(id).await.unwrap();
        assert_eq!(
            states(&d),
            [("email", APPROVER, DeliveryState::Failed, 1), ("teams", "channel", DeliveryState::Accepted, 1)]
        );
        assert!(d[0].answer.contains("MessageRejected") || d[0].answer.contains("not verified"), "{}", d[0].answer);
    }
    assert_eq!(answered.lock().unwrap().len(), 2, "one card per request");
    let alerts: Vec<_> = s
        .local
        .deps
        .state
        .alerts(20)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == "approval request not delivered")
        .collect();
    assert_eq!(alerts.len(), 1, "once a day per channel: {alerts:?}");
    // The Approvals page says where each request went, and what failed.
    let web = atpilot_web::Web::new(s.local.deps.state.clone(), s.local.deps.config.clone(), None);
    let page = atpilot_web::dashboard_routes(Arc::new(web))
        .oneshot(
            axum::http::Request::get("/approvals/")
                .header("host", "127.0.0.1")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let html = String::from_utf8(axum::body::to_bytes(page.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    assert_eq!(html.matches(&format!("email {APPROVER}: <b>failed</b>: ")).count(), 2, "{html}");
    assert_eq!(html.matches("teams channel: <b>accepted</b>").count(), 2, "{html}");
    assert!(
        alerts[0].message.contains(&format!("Fix: SES refused the message: verify the sender {unverified}")),
        "{}",
        alerts[0].message
    );
}

/// A Workflows URL answers 202 before it posts, so a card may never appear:
/// a request nobody opened within `remind_after_minutes` (60 in the demo) is
/// e-mailed to its approvers once; one an approver opened is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_nobody_opened_is_reminded_by_email_once() {
    let s = Stack::start().await;
    let (_, unopened, _) = s.pending_approval().await;
    let (_, seen, token) = s.pending_approval().await;
    let deps = &s.local.deps;
    let now = chrono::Utc::now();
    let page =
        atpilot_agent::handlers::approval::handle_http(deps, "GET", &seen, &format!("t={token}"), b"", now).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let sweep = |at| atpilot_agent::handlers::approval::sweep(deps, at);
    assert_eq!(sweep(now + chrono::Duration::minutes(30)).await.unwrap().reminded, 0, "not yet");
    assert_eq!(sweep(now + chrono::Duration::minutes(61)).await.unwrap().reminded, 1, "the unopened one only");
    assert_eq!(sweep(now + chrono::Duration::minutes(90)).await.unwrap().reminded, 0, "once");
    let reminders: Vec<_> = deps
        .state
        .outbox(20)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.starts_with("[atpilot] Reminder – Approve: mfa-enrollment"))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert_eq!(reminders[0].to, [APPROVER]);
    let text = reminders[0].text.clone().unwrap();
    assert!(text.starts_with("Reminder: this request was posted to Teams"), "{text}");
    assert!(text.contains(&format!("/approvals/{unopened}?t=")), "the approver's own links: {text}");
    let d = deps.state.deliveries(&unopened).await.unwrap();
    assert!(d.iter().any(|d| d.channel == "reminder" && d.state == DeliveryState::Accepted), "{d:?}");
}

/// SES's events (the sample in events/, as the reconciler receives it): a
/// delivery marks the approval e-mail delivered; a bounce marks it failed
/// with the reason and alerts; e-mails atpilot keeps no delivery for are ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_reports_mark_an_approval_email_delivered_or_bounced() {
    use atpilot_agent::handlers::ses_events::{SesEventOutcome, record_ses_event};
    let s = Stack::start().await;
    let deps = &s.local.deps;
    let sample: aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/ses-delivery-event.json")).unwrap(),
    )
    .unwrap();
    assert_eq!((sample.source.as_str(), sample.detail_type.as_str()), ("aws.ses", "Email Delivered"));
    let email_of =
        |d: Vec<atpilot_store::records::DeliveryRecord>| d.into_iter().find(|d| d.channel == "email").unwrap();

    let (_, delivered, _) = s.pending_approval().await;
    let sent = email_of(deps.state.deliveries(&delivered).await.unwrap());
    let message_id = sent.provider_id.clone().expect("the provider's message id is kept");
    let mut event = sample.detail.clone();
    event["mail"]["messageId"] = json!(message_id);
    let outcome = record_ses_event(deps, &event).await.unwrap();
    assert_eq!(outcome, SesEventOutcome::Recorded { approval_id: delivered.clone(), state: DeliveryState::Delivered });
    let now = email_of(deps.state.deliveries(&delivered).await.unwrap());
    assert!(
        now.answer.starts_with("delivered to the recipient's mail server at 2026-11-28T10:05:02.948Z"),
        "{}",
        now.answer
    );

    let (_, bounced, _) = s.pending_approval().await;
    let message_id = email_of(deps.state.deliveries(&bounced).await.unwrap()).provider_id.unwrap();
    let mut bounce = sample.detail.clone();
    bounce["eventType"] = json!("Bounce");
    bounce["mail"]["messageId"] = json!(message_id);
    bounce["bounce"] = json!({"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-11-28T10:05:04Z",
        "bouncedRecipients": [{"emailAddress": APPROVER, "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]});
    let outcome = record_ses_event(deps, &bounce).await.unwrap();
    assert_eq!(outcome, SesEventOutcome::Recorded { approval_id: bounced.clone(), state: DeliveryState::Failed });
    let now = email_of(deps.state.deliveries(&bounced).await.unwrap());
    assert!(now.answer.contains("550 5.1.1 user unknown"), "{}", now.answer);
    let alerts = deps.state.alerts(10).await.unwrap();
    assert!(
        alerts.iter().any(|a| a.kind == "approval request not delivered" && a.message.contains("user unknown")),
        "{alerts:?}"
    );

    let mut other = sample.detail.clone();
    other["mail"]["messageId"] = json!("a-weekly-report-message");
    assert!(matches!(record_ses_event(deps, &other).await.unwrap(), SesEventOutcome::Ignored(_)));
}
