//! Conformance checks of the records atpilot keeps for humans and for its
//! runs: reports, alerts, dead letters, runbook runs and reply records.

use super::at;
use crate::records::*;
use crate::state::*;
use atpilot_domain::*;
use chrono::{Duration, Utc};
use serde_json::json;
use std::sync::Arc;

pub async fn reports_newest_first_and_size_limited(s: Arc<dyn StateStore>) {
    use crate::records::{MAX_REPORT_BYTES, ReportRecord};
    let st = State::new(s);
    assert_eq!(st.latest_report("audit").await.unwrap(), None);
    let at = Utc::now() - Duration::hours(1);
    let report = |at, html: String| ReportRecord {
        kind: "audit".into(),
        generated_at: at,
        summary: "990 tickets".into(),
        html,
        json: json!({"tickets": 990}),
    };
    let old = report(at, "<p>old</p>".into());
    // A realistic large report (300 KB) fits in one item, also on DynamoDB.
    let big = report(at + Duration::minutes(5), "<tr><td>queue</td></tr>".repeat(300 * 1024 / 22));
    st.put_report(&old).await.unwrap();
    st.put_report(&big).await.unwrap();
    assert_eq!(st.latest_report("audit").await.unwrap().as_ref(), Some(&big));
    assert_eq!(st.latest_report("other").await.unwrap(), None);
    let huge = report(at + Duration::minutes(10), "x".repeat(MAX_REPORT_BYTES + 1));
    let err = st.put_report(&huge).await.unwrap_err().to_string();
    assert!(err.contains("atpilot audit --output"), "{err}");
    assert_eq!(st.latest_report("audit").await.unwrap().as_ref(), Some(&big), "a refused report writes nothing");
    assert!(st.put_report(&ReportRecord { kind: "a#b".into(), ..old }).await.is_err());
}

pub async fn alerts_are_raised_once_newest_first(s: Arc<dyn StateStore>) {
    use crate::records::{AlertRecord, Claim};
    let st = State::new(s);
    assert_eq!(st.alerts(10).await.unwrap(), vec![]);
    let alert = |id: &str, min| AlertRecord {
        id: id.into(),
        at: at(min),
        kind: "time-entry-failed".into(),
        ticket_id: TicketId::new(7).ok(),
        message: format!("{id} failed"),
        email_tracked: true,
    };
    assert_eq!(st.raise_alert(&alert("time-entry#act-1", 1)).await.unwrap(), Claim::Claimed);
    assert_eq!(st.raise_alert(&alert("time-entry#act-2", 2)).await.unwrap(), Claim::Claimed);
    // The same cause again: nothing new, the first one is kept.
    let again = st.raise_alert(&alert("time-entry#act-1", 3)).await.unwrap();
    assert_eq!(again, Claim::Existing(alert("time-entry#act-1", 1)));
    let listed: Vec<String> = st.alerts(10).await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(listed, vec!["time-entry#act-2", "time-entry#act-1"]);
}

pub async fn alert_emails_keep_their_latest_outcome(s: Arc<dyn StateStore>) {
    use crate::records::{AlertEmailRecord, AlertRecord};
    let st = State::new(s);
    let alert = AlertRecord {
        id: "escalation#contract-3#2026-12-01".into(),
        at: at(1),
        kind: "escalated".into(),
        ticket_id: None,
        message: "m".into(),
        email_tracked: true,
    };
    st.raise_alert(&alert).await.unwrap();
    assert_eq!(st.alert_email(&alert.id).await.unwrap(), None, "no e-mail tried yet");
    let tried = AlertEmailRecord {
        alert_id: alert.id.clone(),
        state: DeliveryState::Retrying,
        answer: "Throttling: Maximum sending rate exceeded".into(),
        attempts: 1,
        at: at(2),
    };
    st.put_alert_email(&tried).await.unwrap();
    assert_eq!(st.alert_email(&alert.id).await.unwrap(), Some(tried.clone()));
    let sent =
        AlertEmailRecord { state: DeliveryState::Accepted, answer: "ses-1".into(), attempts: 2, at: at(3), ..tried };
    st.put_alert_email(&sent).await.unwrap();
    assert_eq!(st.alert_email(&alert.id).await.unwrap(), Some(sent));
    assert_eq!(st.alerts(10).await.unwrap(), vec![alert], "the e-mail's outcome is not an alert");
    assert_eq!(st.alert_email("another").await.unwrap(), None);
}

pub async fn dead_letters_are_kept_once_newest_first(s: Arc<dyn StateStore>) {
    use crate::records::{Claim, DeadLetterRecord};
    let st = State::new(s);
    assert_eq!(st.dead_letters(10).await.unwrap(), vec![]);
    let dead = |id: &str, min| DeadLetterRecord {
        id: id.into(),
        at: at(min),
        queue: "classify".into(),
        ticket_id: TicketId::new(7).ok(),
        body: r#"{"ticket_id":7,"title":"<b>\u0000</b>"}"#.into(),
        error: "cannot process this message: not a ticket event".into(),
    };
    assert_eq!(st.put_dead_letter(&dead("classify#m1", 1)).await.unwrap(), Claim::Claimed);
    assert_eq!(st.put_dead_letter(&dead("classify#m2", 2)).await.unwrap(), Claim::Claimed);
    // A redelivery of the same message: the first record is kept.
    assert_eq!(st.put_dead_letter(&dead("classify#m1", 3)).await.unwrap(), Claim::Existing(dead("classify#m1", 1)));
    let listed = st.dead_letters(10).await.unwrap();
    assert_eq!(listed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["classify#m2", "classify#m1"]);
    assert_eq!(listed[1].body, dead("classify#m1", 1).body, "the body is kept byte for byte");
}

pub async fn runbook_runs_are_claimed_once(s: Arc<dyn StateStore>) {
    use crate::records::{Claim, RunbookRecord};
    use atpilot_domain::{ActionId, RunbookOutcome, RunbookStatus};
    let st = State::new(s);
    let action: ActionId = "act-runbook-1".parse().unwrap();
    assert_eq!(st.runbook(&action).await.unwrap(), None);
    let started = RunbookRecord {
        action_id: action.clone(),
        ticket_id: TicketId::new(9).unwrap(),
        started_at: at(1),
        outcome: None,
        reply: None,
        resume: None,
    };
    assert_eq!(st.claim_runbook(&started).await.unwrap(), Claim::Claimed);
    assert_eq!(
        st.claim_runbook(&started).await.unwrap(),
        Claim::Existing(started.clone()),
        "a second claim runs nothing"
    );
    let outcome = RunbookOutcome {
        provider: "graph".into(),
        action: "graph-reset-password".into(),
        plan: "Reset the password of j.doe@c1.example".into(),
        status: RunbookStatus::Verified,
        before: Default::default(),
        after: [("forceChangePasswordNextSignIn".to_string(), "true".to_string())].into(),
        reason: None,
        awaiting_callback: false,
    };
    let done = RunbookRecord { outcome: Some(outcome.clone()), ..started.clone() };
    st.finish_runbook(&done).await.unwrap();
    assert_eq!(st.runbook(&action).await.unwrap(), Some(done));
    // A run awaiting its callback keeps how to finish it.
    let hook = atpilot_domain::Runbook::new(atpilot_domain::RunbookKind::Webhook, Some("rewst".into())).unwrap();
    let resume = crate::records::Resume {
        runbook: hook,
        category: atpilot_domain::Category::new("app-access").unwrap(),
        queue_id: None,
        priority: None,
        contract_id: atpilot_domain::ContractId::new(7).unwrap(),
        contract_kind: atpilot_domain::ContractKind::TimeAndMaterials,
        plan: Default::default(),
        summary: "s".into(),
        started: at(1),
        deadline: at(90),
    };
    let pending = RunbookOutcome { status: RunbookStatus::Executed, awaiting_callback: true, ..outcome };
    let waiting = RunbookRecord { outcome: Some(pending), resume: Some(resume), ..started };
    st.finish_runbook(&waiting).await.unwrap();
    let back = st.runbook(&action).await.unwrap().unwrap();
    assert!(back.outcome.as_ref().unwrap().pending());
    assert_eq!(back, waiting.clone());
    assert_eq!(st.runbooks_waiting(10).await.unwrap(), vec![waiting.clone()], "listed while it waits");
    let finished = RunbookRecord {
        outcome: Some(RunbookOutcome {
            status: RunbookStatus::Verified,
            awaiting_callback: false,
            ..back.outcome.unwrap()
        }),
        ..waiting
    };
    st.finish_runbook(&finished).await.unwrap();
    assert!(st.runbooks_waiting(10).await.unwrap().is_empty(), "no longer listed once finished");
}

pub async fn replies_are_recorded_once(s: Arc<dyn StateStore>) {
    use crate::records::{Claim, ReplyRecord};
    let st = State::new(s);
    let action = ActionId::new("act-reply-1").unwrap();
    assert_eq!(st.reply(&action).await.unwrap(), None);
    let r = ReplyRecord {
        action_id: action.clone(),
        ticket_id: TicketId::new(9).unwrap(),
        at: at(1),
        emailed_to: Some("jane@c1.example".into()),
        workflow_rule: None,
        told: "e-mailed the reply to jane@c1.example".into(),
        ticket_created: Some(at(0)),
        acted_alone: true,
    };
    assert_eq!(st.claim_reply(&r).await.unwrap(), Claim::Claimed);
    let again = ReplyRecord { told: "something else".into(), ..r.clone() };
    assert_eq!(st.claim_reply(&again).await.unwrap(), Claim::Existing(r.clone()), "the first record stands");
    assert_eq!(st.reply(&action).await.unwrap(), Some(r.clone()));
    // Listed by the day it was posted, once.
    let day = r.at.date_naive();
    assert_eq!(st.replies_on(day).await.unwrap(), vec![r.clone()]);
    assert!(st.replies_on(day.succ_opt().unwrap()).await.unwrap().is_empty());
    assert_eq!(r.response_secs(), Some((at(1) - at(0)).num_milliseconds() as f64 / 1000.0));
}

pub async fn notes_are_recorded_once(s: Arc<dyn StateStore>) {
    use crate::records::{Claim, NoteRecord};
    let st = State::new(s);
    let action = ActionId::new("act-note-1").unwrap();
    assert_eq!(st.note(&action).await.unwrap(), None);
    let n = NoteRecord {
        action_id: action.clone(),
        ticket_id: TicketId::new(9).unwrap(),
        at: at(1),
        note_id: 30_000_017,
        title: "atpilot escalation".into(),
    };
    assert_eq!(st.record_note(&n).await.unwrap(), Claim::Claimed);
    let again = NoteRecord { note_id: 30_000_018, at: at(2), ..n.clone() };
    assert_eq!(st.record_note(&again).await.unwrap(), Claim::Existing(n.clone()), "the first record stands");
    assert_eq!(st.note(&action).await.unwrap(), Some(n));
    assert_eq!(st.note(&ActionId::new("act-note-2").unwrap()).await.unwrap(), None);
}

pub async fn deliveries_are_kept_per_channel_and_recipient(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    let request = super::approval("act-1");
    st.create_approval(&request).await.unwrap();
    assert!(st.deliveries("act-1").await.unwrap().is_empty(), "the request itself is not a delivery");
    let d = |channel: &str, to: &str, state, attempts| DeliveryRecord {
        approval_id: "act-1".into(),
        channel: channel.into(),
        recipient: to.into(),
        state,
        answer: format!("{} answer", state.as_str()),
        attempts,
        at: at(attempts.into()),
        provider_id: None,
    };
    st.put_delivery(&d("teams", "channel", DeliveryState::Retrying, 1)).await.unwrap();
    st.put_delivery(&d("email", "ann@msp.example", DeliveryState::Accepted, 1)).await.unwrap();
    st.put_delivery(&d("teams", "channel", DeliveryState::Accepted, 2)).await.unwrap();
    st.put_delivery(&DeliveryRecord {
        approval_id: "act-2".into(),
        ..d("email", "bob@msp.example", DeliveryState::Failed, 1)
    })
    .await
    .unwrap();
    assert_eq!(
        st.deliveries("act-1").await.unwrap(),
        [d("email", "ann@msp.example", DeliveryState::Accepted, 1), d("teams", "channel", DeliveryState::Accepted, 2)],
        "the latest outcome per channel and recipient, this request's only"
    );
    assert_eq!(st.approval("act-1").await.unwrap(), Some(request), "the request is untouched");
    // Found again by the provider's message id, for its later events.
    let sent = DeliveryRecord {
        provider_id: Some("0100-abc".into()),
        ..d("email", "ann@msp.example", DeliveryState::Accepted, 1)
    };
    st.put_delivery(&sent).await.unwrap();
    assert_eq!(st.delivery_by_message("0100-abc").await.unwrap(), Some(sent.clone()));
    assert_eq!(st.delivery_by_message("0100-other").await.unwrap(), None);
    let delivered = DeliveryRecord { state: DeliveryState::Delivered, ..sent };
    st.put_delivery(&delivered).await.unwrap();
    assert_eq!(st.delivery_by_message("0100-abc").await.unwrap(), Some(delivered), "the index follows the rewrite");
}

pub async fn subjects_are_bound_once_and_released(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    let b =
        |email: &str, subject: &str| SubjectBinding { email: email.into(), subject: subject.into(), bound_at: at(0) };
    assert_eq!(st.bind_subject(&b("Ann@MSP.example", "entra:t:1")).await.unwrap(), Claim::Claimed);
    assert_eq!(
        st.bind_subject(&b("ann@msp.example", "entra:t:2")).await.unwrap(),
        Claim::Existing(b("ann@msp.example", "entra:t:1")),
        "one binding per e-mail, whatever its case"
    );
    st.bind_subject(&b("bob@msp.example", "entra:t:3")).await.unwrap();
    let all = st.subject_bindings(10).await.unwrap();
    assert_eq!(all.iter().map(|b| b.email.as_str()).collect::<Vec<_>>(), ["ann@msp.example", "bob@msp.example"]);
    st.release_subject("ANN@msp.example").await.unwrap();
    st.release_subject("nobody@msp.example").await.unwrap();
    assert_eq!(st.bind_subject(&b("ann@msp.example", "entra:t:2")).await.unwrap(), Claim::Claimed, "bound again");
    assert_eq!(st.subject_bindings(10).await.unwrap().len(), 2);
}

pub async fn status_updates_are_one_pending_per_ticket(s: Arc<dyn StateStore>) {
    use crate::records::{StatusUpdateRecord, StatusUpdateState};
    let st = State::new(s);
    let ticket = TicketId::new(4242).unwrap();
    let now = Utc::now();
    let proposal = |at: chrono::DateTime<Utc>| StatusUpdateRecord {
        id: StatusUpdateRecord::id_for(ticket, at),
        ticket_id: ticket,
        ticket_number: "T20261201.0042".into(),
        state: StatusUpdateState::Pending,
        created_at: at,
        expires_at: at + Duration::hours(48),
        approvers: vec!["tech@msp.example".into()],
        draft: "Hello".into(),
        left_out: vec![],
        last_customer_visible: None,
        open_days: 9.0,
        quiet_days: 4.0,
        text: None,
        edited: false,
        decided_by: None,
        decided_at: None,
        note: None,
        note_id: None,
        posted_at: None,
        told: None,
    };
    let first = proposal(now);
    assert_eq!(st.propose_status_update(&first).await.unwrap(), Claim::Claimed);
    // A second proposal for the same ticket while the first is pending gets the first.
    let second = proposal(now + Duration::seconds(60));
    match st.propose_status_update(&second).await.unwrap() {
        Claim::Existing(p) => assert_eq!(p.id, first.id),
        other => panic!("expected the pending one, got {other:?}"),
    }
    // Decided once: pending → rejected, and never again from pending.
    let mut rejected = first.clone();
    rejected.state = StatusUpdateState::Rejected;
    rejected.decided_by = Some("tech@msp.example".into());
    assert_eq!(st.transition_status_update(&rejected, StatusUpdateState::Pending).await.unwrap(), Transition::Done);
    let mut approved = first.clone();
    approved.state = StatusUpdateState::Approved;
    match st.transition_status_update(&approved, StatusUpdateState::Pending).await.unwrap() {
        Transition::Refused(Some(cur)) => assert_eq!(cur.state, StatusUpdateState::Rejected),
        other => panic!("expected the rejection to stand, got {other:?}"),
    }
    // Once the first is no longer pending, the ticket's slot is taken over.
    assert_eq!(st.propose_status_update(&second).await.unwrap(), Claim::Claimed);
    let listed: Vec<_> = st.status_updates(10).await.unwrap().into_iter().map(|r| (r.id, r.state)).collect();
    assert_eq!(
        listed,
        vec![(second.id.clone(), StatusUpdateState::Pending), (first.id.clone(), StatusUpdateState::Rejected)]
    );
    let of_ticket: Vec<_> = st.ticket_status_updates(ticket).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(of_ticket, vec![first.id.clone(), second.id.clone()], "the ticket's own, oldest first");
    assert!(st.ticket_status_updates(TicketId::new(4243).unwrap()).await.unwrap().is_empty());
}
