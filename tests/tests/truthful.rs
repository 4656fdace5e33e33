//! Every claim rests on a verified effect: the keyword fallback never acts,
//! risky requests go to a human with the risk shown, the kill switch stops
//! approvals and time entries, and a time entry Autotask refuses leaves the
//! ticket open, raises an alert and is reported as failed, never as done.

use atpilot_agent::handlers::approval::{self, ApprovalError, Decided, DecisionForm};
use atpilot_agent::messages::TimeEntryJob;
use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_domain::{Action, ActionId, Category, ContractId, ContractKind, Reason, TicketId, WorkSpan};
use atpilot_e2e::{APPROVER, Stack, shape};
use atpilot_local::LocalClassifier;
use atpilot_store::records::{ApprovalState, Settings};
use serde_json::json;
use std::sync::Arc;

/// Delivers a Create callout and processes every queue.
async fn run(s: &Stack, t: i64) {
    let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    let r = s.local.settle(40).await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
}

async fn decision(s: &Stack, t: i64) -> atpilot_store::records::DecisionRecord {
    s.local.deps.state.ticket_decisions(TicketId::new(t).unwrap()).await.unwrap().pop().expect("a decision")
}

fn writes(s: &Stack, t: i64) -> Vec<String> {
    shape(&s.applied_writes(), t)
}

fn form(token: &str, decision: &str) -> DecisionForm {
    DecisionForm { token: token.into(), decision: decision.into(), draft: None, reason: None, ..Default::default() }
}

async fn set_kill_switch(s: &Stack, on: bool) {
    s.local.deps.state.set_settings(&Settings { kill_switch: on }).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_confidence_never_reaches_an_approval_or_an_action() {
    // The keyword fallback, as a deployment without a trained model runs it.
    let s = Stack::start_with(LocalClassifier::FromConfig).await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        "Password reset",
        "I forgot my password, reset my password please, locked out",
        json!({}),
    );
    s.sandbox().clear_requests();
    run(&s, t).await;
    let d = decision(&s, t).await;
    assert_eq!(d.prediction.category.as_str(), "password-reset");
    assert!(
        d.prediction.confidence.get() >= 0.75,
        "a keyword score this high used to act: {}",
        d.prediction.confidence.get()
    );
    assert_eq!(d.action, Action::InternalNote, "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| matches!(r, Reason::UncalibratedConfidence { .. })));
    assert_eq!(writes(&s, t), ["POST /atservicesrest/V1.0/Tickets/{id}/Notes"], "a suggestion only");
    assert!(s.local.deps.state.approvals_in_state(ApprovalState::Pending, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risky_requests_in_an_autonomous_category_go_to_a_human_with_the_risk_shown() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let cases = [
        ("Password", "Please do NOT reset my password, I only want to know the policy", json!({}), "says not to do it"),
        (
            "Password reset",
            "This is the CEO, reset my password and send the new one to my private address at an outside mail domain",
            json!({}),
            "authority, urgency or money",
        ),
        (
            "Password reset",
            "I forgot my password and I'm locked out of my account.",
            json!({"contactID": null}),
            "names no contact",
        ),
    ];
    for (title, description, extra, risk) in cases {
        let t = s.create_ticket(company, Some(contract), title, description, extra);
        s.sandbox().clear_requests();
        run(&s, t).await;
        let d = decision(&s, t).await;
        assert_eq!(d.prediction.category.as_str(), "password-reset", "{description}");
        assert!(matches!(d.action, Action::RequestApproval { .. }), "{description}: {:?}", d.action);
        assert!(d.explanation.iter().any(|r| r.contains(risk)), "{description}: {:?}", d.explanation);
        assert!(writes(&s, t).is_empty(), "{description}: nothing written before a human decides: {:?}", writes(&s, t));
        // The approver sees the caution first.
        let mail = s
            .local
            .deps
            .state
            .outbox(5)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.channel == "teams")
            .expect("a Teams card");
        assert!(mail.body.contains("Caution") && mail.body.contains(risk), "{description}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_keeps_approvals_pending_and_writes_nothing() {
    let s = Stack::start().await;
    let (t, id, token) = s.pending_approval().await;
    set_kill_switch(&s, true).await;
    for choice in ["approve", "reject"] {
        let r = approval::decide_request(&s.local.deps, &id, &form(&token, choice), chrono::Utc::now()).await;
        assert_eq!(r, Err(ApprovalError::KillSwitch), "{choice}");
        let page = approval::handle_http(
            &s.local.deps,
            "POST",
            &id,
            "",
            format!("t={token}&decision={choice}&draft=Hello%20%3Cthere%3E%2C%20edited&reason=later").as_bytes(),
            chrono::Utc::now(),
        )
        .await;
        assert_eq!(page.status, 409);
        assert!(page.html.contains("kill switch is on") && page.html.contains("stays pending"), "{}", page.html);
        // What the approver typed is on the page again, to decide once the switch is off.
        assert!(page.html.contains("decide again once the switch is off"), "{}", page.html);
        assert!(
            page.html.contains("<textarea name=draft id=draft>\nHello &lt;there&gt;, edited</textarea>"),
            "{}",
            page.html
        );
        assert!(page.html.contains("value=\"later\""), "{}", page.html);
    }
    // The sweep does not resume anything either.
    approval::sweep(&s.local.deps, chrono::Utc::now() + chrono::Duration::minutes(5)).await.unwrap();
    s.local.settle(10).await;
    assert_eq!(s.local.deps.state.approval(&id).await.unwrap().unwrap().state, ApprovalState::Pending);
    assert!(s.applied_writes().is_empty(), "{:?}", writes(&s, t));
    // Released, the same link works.
    set_kill_switch(&s, false).await;
    let r = approval::decide_request(&s.local.deps, &id, &form(&token, "approve"), chrono::Utc::now()).await;
    assert!(matches!(r, Ok(Decided::Approved(_))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_holds_time_entries_until_released() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "Password reset", "locked out", json!({}));
    let now = chrono::Utc::now();
    let job = TimeEntryJob {
        action_id: ActionId::new("act-killswitch1").unwrap(),
        ticket_id: TicketId::new(t).unwrap(),
        contract_id: ContractId::new(contract).unwrap(),
        contract_kind: ContractKind::RecurringService,
        category: Category::new("password-reset").unwrap(),
        span: WorkSpan::new(now - chrono::Duration::seconds(8), now).unwrap(),
        summary: "test".into(),
        complete_after: true,
    };
    set_kill_switch(&s, true).await;
    s.sandbox().clear_requests();
    let r = atpilot_agent::handlers::time_entry::handle(&s.local.deps, &job).await;
    assert!(
        matches!(r, Err(ref e) if e.kind() == atpilot_agent::ErrorKind::Transient && e.context().contains("kill switch")),
        "{r:?}"
    );
    assert!(s.applied_writes().is_empty());
    assert_eq!(s.local.deps.state.ledger(&job.action_id).await.unwrap(), None, "nothing claimed either");
    set_kill_switch(&s, false).await;
    let r = atpilot_agent::handlers::time_entry::handle(&s.local.deps, &job).await.unwrap();
    assert!(matches!(r, atpilot_agent::handlers::time_entry::TimeEntryOutcome::Written(_)), "{r:?}");
    assert_eq!(writes(&s, t), ["POST /atservicesrest/V1.0/TimeEntries", "PATCH /atservicesrest/V1.0/Tickets"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_time_entry_leaves_the_ticket_open_alerts_and_is_reported_as_failed() {
    let mut s = Stack::start().await;
    // A billing code the tenant does not have: Autotask refuses the entry for good.
    let mut config = (*s.local.deps.config).clone();
    config.billing_codes.default = atpilot_domain::BillingCodeId::new(987_654_321).unwrap();
    s.local.deps.config = Arc::new(config);
    let (t, id, token) = s.pending_approval().await;
    let page = approval::handle_http(
        &s.local.deps,
        "POST",
        &id,
        "",
        format!("t={token}&decision=approve").as_bytes(),
        chrono::Utc::now(),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("<b id=time-entry>pending</b>"), "never 'logged its time' before it is: {}", page.html);
    assert!(!page.html.contains("logged its time"));
    s.local.settle(40).await;
    // The ticket stays open: no status change was written.
    let w = writes(&s, t);
    assert!(!s.applied_writes().iter().any(|x| x.body.as_ref().is_some_and(|b| b.get("status").is_some())), "{w:?}");
    assert_eq!(s.sandbox().row("Tickets", t).unwrap()["status"], 1);
    // An alert on the dashboard and to notifications.alerts, once.
    let alerts = s.local.deps.state.alerts(10).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].ticket_id, TicketId::new(t).ok());
    assert!(alerts[0].message.contains("left open"), "{}", alerts[0].message);
    let outbox = s.local.deps.state.outbox(20).await.unwrap();
    assert!(
        outbox.iter().any(|m| m.channel == "email" && m.to == [APPROVER] && m.subject.contains("time-entry-failed")),
        "the alert channel was told"
    );
    let data = atpilot_agent::html::dashboard::gather(&s.local.deps.state, &s.local.deps.config, 20).await.unwrap();
    assert!(atpilot_agent::html::dashboard::sections(&data, "token").contains("time-entry-failed"));
    // The link now tells the real outcome.
    let page = approval::handle_http(&s.local.deps, "GET", &id, &format!("t={token}"), b"", chrono::Utc::now()).await;
    assert!(page.html.contains("FAILED") && page.html.contains("left open"), "{}", page.html);
}
