//! An alert's e-mail that SES could not take is sent again by the
//! reconciler's passes until it is accepted, at most five tries in all; one
//! SES refuses for good is not retried; the dashboard says which is which.

use async_trait::async_trait;
use atpilot_agent::PortError;
use atpilot_agent::adapters::notify::{Email, Notifier, OutboxNotifier, TeamsMessage};
use atpilot_e2e::{APPROVER, Stack};
use atpilot_store::records::DeliveryState;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tower::ServiceExt;

/// The local outbox, except that alert e-mails fail: the first `fail` of
/// them (`u32::MAX`: all), transiently ("try later") or for good.
struct AlertMailFails {
    outbox: OutboxNotifier,
    fail: AtomicU32,
    permanent: bool,
}

#[async_trait]
impl Notifier for AlertMailFails {
    async fn send_email(&self, e: &Email) -> Result<String, PortError> {
        let failing = e.subject.starts_with("[atpilot] Alert")
            && self.fail.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        match (failing, self.permanent) {
            (true, false) => {
                Err(PortError::Transient("SES TooManyRequestsException: Maximum sending rate exceeded".into()))
            }
            (true, true) => Err(PortError::Permanent("SES MessageRejected: Email address is not verified".into())),
            (false, _) => self.outbox.send_email(e).await,
        }
    }

    async fn post_teams(&self, m: &TeamsMessage) -> Result<(), PortError> {
        self.outbox.post_teams(m).await
    }
}

async fn stack(fail: u32, permanent: bool) -> Stack {
    let mut s = Stack::start().await;
    let outbox = OutboxNotifier::new(s.local.deps.state.clone());
    s.local.deps.notifier = Arc::new(AlertMailFails { outbox, fail: AtomicU32::new(fail), permanent });
    s
}

/// A pending request whose approval e-mail SES then reports bounced: an
/// alert ("approval request not delivered"). Its id.
async fn bounce_alert(s: &Stack) -> String {
    use atpilot_agent::handlers::ses_events::record_ses_event;
    let (_, approval, _) = s.pending_approval().await;
    let deps = &s.local.deps;
    let sent = deps.state.deliveries(&approval).await.unwrap().into_iter().find(|d| d.channel == "email").unwrap();
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/ses-delivery-event.json")).unwrap(),
    )
    .unwrap();
    let mut bounce = sample["detail"].clone();
    bounce["eventType"] = json!("Bounce");
    bounce["mail"]["messageId"] = json!(sent.provider_id.unwrap());
    bounce["bounce"] = json!({"bounceType": "Permanent", "bounceSubType": "General", "timestamp": "2026-11-28T10:05:04Z",
        "bouncedRecipients": [{"emailAddress": APPROVER, "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]});
    record_ses_event(deps, &bounce).await.unwrap();
    let alerts = deps.state.alerts(10).await.unwrap();
    alerts.into_iter().find(|a| a.kind == "approval request not delivered").expect("the bounce alerts").id
}

async fn reconcile(s: &Stack) -> usize {
    let r = atpilot_agent::handlers::reconciler::reconcile(
        &s.local.deps,
        chrono::Utc::now(),
        chrono::Duration::minutes(10),
    );
    r.await.unwrap().alert_emails_resent
}

async fn alert_mails(s: &Stack) -> Vec<String> {
    let outbox = s.local.deps.state.outbox(100).await.unwrap();
    outbox.into_iter().filter(|m| m.subject.starts_with("[atpilot] Alert")).map(|m| m.text.unwrap()).collect()
}

/// The dashboard's E-mail cell of the alert.
async fn dashboard_cell(s: &Stack) -> String {
    let web = atpilot_web::Web::new(s.local.deps.state.clone(), s.local.deps.config.clone(), None);
    let get = axum::http::Request::get("/").header("host", "127.0.0.1").body(axum::body::Body::empty()).unwrap();
    let page = atpilot_web::dashboard_routes(Arc::new(web)).oneshot(get).await.unwrap();
    let html = String::from_utf8(axum::body::to_bytes(page.into_body(), 1 << 22).await.unwrap().to_vec()).unwrap();
    let cell = html.split("<td class=alert-email>").nth(1).expect("an alert row");
    cell.split("</td>").next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_email_ses_could_not_take_is_sent_again_until_accepted_once() {
    let s = stack(2, false).await;
    let id = bounce_alert(&s).await;
    let state = &s.local.deps.state;
    let e = state.alert_email(&id).await.unwrap().expect("the first try is recorded");
    assert_eq!((e.state, e.attempts), (DeliveryState::Retrying, 1));
    assert!(e.answer.contains("Maximum sending rate exceeded"), "{}", e.answer);
    assert!(alert_mails(&s).await.is_empty());
    let cell = dashboard_cell(&s).await;
    assert!(cell.starts_with("not sent yet (1 try; retried by the reconciler): "), "{cell}");

    assert_eq!(reconcile(&s).await, 0, "the second try fails too");
    assert_eq!(
        state.alert_email(&id).await.unwrap().map(|e| (e.state, e.attempts)),
        Some((DeliveryState::Retrying, 2))
    );
    assert_eq!(reconcile(&s).await, 1, "the third is accepted");
    let e = state.alert_email(&id).await.unwrap().unwrap();
    assert_eq!((e.state, e.attempts), (DeliveryState::Accepted, 3));
    let mails = alert_mails(&s).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("550 5.1.1 user unknown"), "{}", mails[0]);
    assert_eq!(dashboard_cell(&s).await, "sent (3 tries)");

    assert_eq!(reconcile(&s).await, 0, "an accepted e-mail is not sent again");
    assert_eq!(alert_mails(&s).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_alert_email_is_not_retried_and_a_busy_one_gives_up_after_five_tries() {
    let s = stack(u32::MAX, true).await;
    let id = bounce_alert(&s).await;
    assert_eq!(reconcile(&s).await, 0);
    let e = s.local.deps.state.alert_email(&id).await.unwrap().unwrap();
    assert_eq!((e.state, e.attempts), (DeliveryState::Failed, 1), "refused for good: tried once");
    let cell = dashboard_cell(&s).await;
    assert!(cell.starts_with("<b>failed</b> (1 try): SES MessageRejected"), "{cell}");

    let s = stack(u32::MAX, false).await;
    let id = bounce_alert(&s).await;
    for _ in 0..6 {
        assert_eq!(reconcile(&s).await, 0);
    }
    let e = s.local.deps.state.alert_email(&id).await.unwrap().unwrap();
    assert_eq!((e.state, e.attempts), (DeliveryState::Failed, 5));
    assert!(e.answer.ends_with("(gave up after 5 tries)"), "{}", e.answer);
    assert!(alert_mails(&s).await.is_empty());
}

/// An alert raised by a process that stopped before its e-mail (no outcome
/// recorded, ten minutes on) is mailed by the reconciler; one kept from
/// before e-mails were recorded, or one whose raiser may still be sending, is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_whose_raiser_stopped_before_sending_is_mailed_by_the_reconciler() {
    use atpilot_store::records::AlertRecord;
    let s = stack(0, false).await;
    let state = &s.local.deps.state;
    let now = chrono::Utc::now();
    let alert = |id: &str, minutes_ago, email_tracked| AlertRecord {
        id: id.into(),
        at: now - chrono::Duration::minutes(minutes_ago),
        kind: "time-entry-failed".into(),
        ticket_id: None,
        message: format!("{id}: Autotask refused the time entry"),
        email_tracked,
    };
    for a in [alert("stopped", 20, true), alert("from-before", 20, false), alert("still-sending", 2, true)] {
        state.raise_alert(&a).await.unwrap();
    }
    // An alert kept from before this field existed reads as untracked.
    let old: AlertRecord =
        serde_json::from_value(json!({"id": "x", "at": now, "kind": "k", "ticket_id": null, "message": "m"})).unwrap();
    assert!(!old.email_tracked);
    assert_eq!(reconcile(&s).await, 1);
    let mails = alert_mails(&s).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].starts_with("stopped: Autotask refused"), "{}", mails[0]);
    for (id, sent) in [("stopped", true), ("from-before", false), ("still-sending", false)] {
        assert_eq!(state.alert_email(id).await.unwrap().is_some(), sent, "{id}");
    }
    assert_eq!(reconcile(&s).await, 0, "once");
}
