//! Autotask as live tenants behave (issue: "Autotask as it really behaves"):
//! customer-visible text carries no internal marker (a redelivery finds the
//! reply by its content), and a ticket Autotask refuses to update is never
//! told "done": no reply, no time entry, one internal note, one alert, no
//! retry into the dead letters; a write the security level refuses pauses
//! that kind of write and alerts once.

use atpilot_e2e::{recurring_customer, start_edited, ticket_from};
use atpilot_local::Local;
use serde_json::json;

fn replies(l: &Local, t: i64) -> Vec<String> {
    let sb = l.sandbox.as_deref().unwrap();
    let notes = sb.rows_where("TicketNotes", "ticketID", t);
    notes
        .iter()
        .filter(|n| n["publish"].as_i64() == Some(1))
        .map(|n| n["description"].as_str().unwrap().into())
        .collect()
}

async fn redeliver(l: &Local, t: i64) {
    let report = atpilot_e2e::redeliver_create(l, t).await;
    assert!(report.failures.is_empty() && report.dead_letters.is_empty(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_replies_carry_no_internal_marker_and_a_redelivery_finds_them_by_content() {
    let (l, _dir) = start_edited(|t| t).await;
    let (company, contact, _) = recurring_customer(&l, 0);
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    let r = replies(&l, t);
    assert_eq!(r.len(), 1, "the autonomous reply-only resolution replied");
    assert!(!r[0].contains("[atpilot:") && !r[0].contains("act-"), "an internal marker in customer text: {}", r[0]);
    redeliver(&l, t).await;
    assert_eq!(replies(&l, t).len(), 1, "the redelivery found its reply and posted no second one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_autotask_will_not_update_is_never_told_done() {
    let (l, _dir) = start_edited(|t| t).await;
    let (company, contact, _) = recurring_customer(&l, 0);
    // A ticket made by e-mail, whose description is longer than the API accepts on any update.
    let long = format!("I forgot my password and I am locked out.\n{}", "Forwarded thread. ".repeat(600));
    let t = ticket_from(&l, company, contact, "Locked out", &long).await;
    let sb = l.sandbox.as_deref().unwrap();
    assert!(replies(&l, t).is_empty(), "no customer reply on a ticket that stays open");
    assert!(sb.rows_where("TimeEntries", "ticketID", t).is_empty(), "no time logged");
    let notes = sb.rows_where("TicketNotes", "ticketID", t);
    let note = notes.iter().find(|n| n["description"].as_str().unwrap().contains("could not update this ticket"));
    let note = note.expect("one internal note says what a technician must finish");
    assert_eq!(note["publish"].as_i64(), Some(2), "internal");
    assert!(note["description"].as_str().unwrap().contains("String value exceeds maximum length (field:description)"));
    let alerts = l.deps.state.alerts(20).await.unwrap();
    assert_eq!(alerts.iter().filter(|a| a.kind == "ticket-update-refused").count(), 1, "{alerts:?}");
    // Not retried into the dead letters, and a redelivery adds nothing.
    assert!(l.deps.state.dead_letters(20).await.unwrap().is_empty());
    redeliver(&l, t).await;
    let again = sb.rows_where("TicketNotes", "ticketID", t);
    assert_eq!(again.len(), notes.len(), "nothing written twice");
    assert_eq!(l.deps.state.alerts(20).await.unwrap().len(), alerts.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_event_for_a_ticket_not_readable_yet_is_retried_for_a_bounded_time() {
    use atpilot_agent::handlers::classify;
    use atpilot_agent::messages::{EventSource, TicketEvent};
    let (l, _dir) = start_edited(|t| t).await;
    let missing = atpilot_domain::TicketId::new(987_654_321).unwrap();
    let event = |source, minutes_ago| TicketEvent {
        ticket_id: missing,
        event_key: format!("lag:{minutes_ago}"),
        source,
        changed_fields: vec![],
        fields: Default::default(),
        person_id: None,
        received_at: chrono::Utc::now() - chrono::Duration::minutes(minutes_ago),
    };
    let fresh = classify::handle(&l.deps, &event(EventSource::Create, 0), chrono::Utc::now).await;
    let e = fresh.expect_err("retried, not ignored");
    assert!(e.is_retryable() && e.to_string().contains("replication lag"), "{e}");
    let late = classify::handle(&l.deps, &event(EventSource::Create, 11), chrono::Utc::now).await.unwrap();
    assert!(matches!(late, classify::Outcome::Ignored(ref why) if why.contains("no longer exists")), "{late:?}");
    let update = classify::handle(&l.deps, &event(EventSource::Update, 0), chrono::Utc::now).await.unwrap();
    assert!(matches!(update, classify::Outcome::Ignored(_)), "only a Create is waited for: {update:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_autotask_refuses_as_invalid_is_sent_once_and_a_human_told_once() {
    let (l, _dir) = start_edited(|t| t).await;
    let sb = l.sandbox.as_deref().unwrap();
    let refusal = "The workflow rule 'Notes need a category' refused the note.";
    sb.set_knobs(|k| {
        k.refuse_writes.insert("TicketNotes".into(), refusal.into());
    });
    let t = licence_request(&l);
    sb.clear_requests();
    // Its Create callout: the note is refused (the ticket was made without a callout above).
    atpilot_e2e::redeliver_create(&l, t).await;
    let note_posts = sb.writes().iter().filter(|w| w.method == "POST" && w.path.contains("Notes")).count();
    assert_eq!(note_posts, 1, "sent once, never again");
    let dead = l.deps.state.dead_letters(20).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].error.contains(refusal), "{dead:?}");
    let alerts = l.deps.state.alerts(20).await.unwrap();
    assert_eq!(alerts.iter().filter(|a| a.kind == "dead-letter").count(), 1, "a human is told once: {alerts:?}");
}

/// A tenant whose TicketNotes `publish` picklist is 1 / 2 (inactive) / 4.
async fn co_managed_tenant() -> (atpilot_autotask_sandbox::Sandbox, atpilot_autotask::Client) {
    let publish = vec![
        (1, "All Autotask Users".to_string(), true),
        (2, "Internal Users".to_string(), false),
        (4, "Internal & Co-Managed".to_string(), true),
    ];
    atpilot_e2e::sandbox_client_with(atpilot_autotask_sandbox::SandboxConfig {
        tickets: 50,
        seed: 3,
        picklists: vec![("TicketNotes".into(), "publish".into(), publish)],
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn note_visibility_follows_the_tenants_publish_picklist_and_never_falls_back_to_all_users() {
    use atpilot_agent::adapters::autotask_rest::{NoteWanted, RestAutotask};
    use atpilot_agent::ports::{Autotask, NewNote, NoteVisibility, PortError};
    let (sb, client) = co_managed_tenant().await;
    let ticket = atpilot_domain::TicketId::new(sb.facts().first_ticket_id).unwrap();
    let note = |visibility| NewNote { title: "t".into(), text: "x".into(), visibility };
    let rest = RestAutotask::new(client.clone());
    let values = rest.note_values().await.unwrap();
    assert_eq!((values.internal.0, values.customer.0), (4, 1), "{values:?}");
    let id = rest.add_note(ticket, &note(NoteVisibility::Internal)).await.unwrap();
    assert_eq!(sb.row("TicketNotes", id).unwrap()["publish"], 4, "internal went to the active internal value");
    let id = rest.add_note(ticket, &note(NoteVisibility::Customer)).await.unwrap();
    assert_eq!(sb.row("TicketNotes", id).unwrap()["publish"], 1);
    // Configured to the inactive value: nothing is written, and the error says why.
    let strict = RestAutotask::new(client).with_notes(NoteWanted { internal: Some(2), ..Default::default() });
    let writes = sb.writes().len();
    let e = strict.add_note(ticket, &note(NoteVisibility::Internal)).await.unwrap_err();
    assert!(matches!(&e, PortError::Permanent(m) if m.contains("value 2 (\"Internal Users\") is inactive")), "{e}");
    assert_eq!(sb.writes().len(), writes, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_in_a_queue_outside_the_scope_is_only_logged() {
    let (l, _dir) = start_edited(|t| t).await;
    let queue = l.sandbox.as_deref().unwrap().facts().queues[0].0;
    drop(l);
    let (l, _dir) = start_edited(move |t| t + &format!("\n[scope]\nexcluded_queues = [{queue}]\n")).await;
    let (company, contact, _) = recurring_customer(&l, 0);
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    let sb = l.sandbox.as_deref().unwrap();
    assert!(sb.rows_where("TicketNotes", "ticketID", t).is_empty(), "nothing written");
    let decided = l.deps.state.ticket_decisions(atpilot_domain::TicketId::new(t).unwrap()).await.unwrap();
    assert!(decided.is_empty(), "no decision: logged only");
    // The reconciler does not queue it either.
    let r = atpilot_agent::handlers::reconciler::reconcile(&l.deps, chrono::Utc::now(), chrono::Duration::hours(1))
        .await
        .unwrap();
    assert!(r.out_of_scope >= 1 && l.classify_queue.is_empty(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_entry_autotask_stores_differently_is_kept_as_stored_and_alerted_once() {
    let (l, _dir) = start_edited(|t| t).await;
    let (company, contact, _) = recurring_customer(&l, 0);
    // As sent: no alert, and what Autotask stored is in the ledger.
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    let entries = l.deps.state.ticket_ledger(atpilot_domain::TicketId::new(t).unwrap()).await.unwrap();
    let stored = entries[0].stored.clone().expect("read back");
    assert_eq!(stored.contract_id, l.sandbox.as_deref().unwrap().row("Tickets", t).unwrap()["contractID"].as_i64());
    assert!(l.deps.state.alerts(20).await.unwrap().iter().all(|a| a.kind != "time-entry-differs"));
    // A tenant that rounds time up to 15 minutes: the ledger keeps the real hours, finance is alerted once.
    l.sandbox.as_deref().unwrap().set_knobs(|k| k.time_rounding_minutes = Some(15));
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    let entries = l.deps.state.ticket_ledger(atpilot_domain::TicketId::new(t).unwrap()).await.unwrap();
    assert_eq!(entries[0].stored.as_ref().and_then(|s| s.hours_worked), Some(0.25));
    let alerts = l.deps.state.alerts(20).await.unwrap();
    let differs: Vec<_> = alerts.iter().filter(|a| a.kind == "time-entry-differs").collect();
    assert_eq!(differs.len(), 1, "{alerts:?}");
    assert!(
        differs[0].message.contains("hours worked: sent 0.0") && differs[0].message.contains("stored 0.2500"),
        "{}",
        differs[0].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_reply_records_whether_and_how_the_customer_was_told() {
    // Without [replies]: the note alone, and the decision says the customer may not know.
    let (l, _dir) = start_edited(|t| t.replace("[replies]\nemail = true\n", "")).await;
    let (company, contact, email) = recurring_customer(&l, 0);
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    let told = api_told(&l, t).await;
    assert!(told.contains("no [replies] path is configured"), "{told}");
    assert!(l.deps.state.outbox(50).await.unwrap().iter().all(|m| !m.to.contains(&email)), "nothing e-mailed");
    drop(l);
    // With e-mail (the demo's): sent once to the contact, and recorded as sent.
    let (l, _dir) = start_edited(|t| t).await;
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    assert_eq!(api_told(&l, t).await, format!("e-mailed the reply to {email}"));
    redeliver(&l, t).await;
    let mails: Vec<_> = l
        .deps
        .state
        .outbox(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.channel == "email" && m.to.contains(&email))
        .collect();
    assert_eq!(mails.len(), 1, "e-mailed once");
    assert!(mails[0].text.as_deref().unwrap().contains("reset your password yourself"), "{:?}", mails[0].text);
}

async fn api_told(l: &Local, t: i64) -> String {
    let views = atpilot_agent::html::dashboard::decisions(&l.deps.state, 100).await.unwrap();
    let all = serde_json::to_value(&views).unwrap();
    let d = all.as_array().unwrap().iter().find(|d| d["ticket_id"] == t).expect("the decision").clone();
    d["customer_told"].as_str().unwrap_or_else(|| panic!("no customer_told: {d}")).to_string()
}

/// A licence request from the company's first contact (the demo's
/// internal-notes category writes one internal note), created without a callout.
fn licence_request(l: &Local) -> i64 {
    let sb = l.sandbox.as_deref().unwrap();
    let (company, contact, _) = recurring_customer(l, 0);
    let fields = json!({"companyID": company, "title": "Microsoft 365 licence", "status": 1, "priority": 2,
        "description": "Please add a Microsoft 365 license subscription for me", "queueID": sb.facts().queues[0].0,
        "contactID": contact});
    let serde_json::Value::Object(fields) = fields else { unreachable!() };
    sb.simulate_ticket_create(fields, atpilot_e2e::human_of(sb))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_the_security_level_refuses_pauses_that_write_and_alerts_the_tenant_once() {
    let (l, _dir) = start_edited(|t| t).await;
    let sb = l.sandbox.as_deref().unwrap();
    sb.set_knobs(|k| {
        k.denied_access.insert(("TicketNotes".into(), "create".into()));
    });
    let tickets: Vec<i64> = (0..3).map(|_| licence_request(&l)).collect();
    sb.clear_requests();
    for t in &tickets {
        let report = atpilot_e2e::redeliver_create(&l, *t).await;
        assert!(report.dead_letters.is_empty(), "kept queued, not set aside: {report:?}");
    }
    let note_posts = sb.writes().iter().filter(|w| w.method == "POST" && w.path.contains("Notes")).count();
    assert_eq!(note_posts, 1, "after one refusal that kind of write is paused, not tried ticket after ticket");
    let alerts = l.deps.state.alerts(20).await.unwrap();
    let denied: Vec<_> = alerts.iter().filter(|a| a.kind == "autotask-permission").collect();
    assert_eq!(denied.len(), 1, "one tenant-level alert: {alerts:?}");
    assert!(denied[0].message.contains("create TicketNotes") && denied[0].ticket_id.is_none(), "{denied:?}");
    assert!(l.deps.state.dead_letters(20).await.unwrap().is_empty());
    // Setup's check names the missing right.
    let env = |_: &str| None;
    let report = atpilot_agent::config_check::check(&l.client, &l.deps.config, &env, false).await;
    let f = report.findings.iter().find(|f| f.key == "autotask.access.TicketNotes").expect("checked");
    assert_eq!(f.level, atpilot_agent::config_check::Level::Error, "{f}");
    assert!(f.to_string().contains("userAccessForCreate: None"), "{f}");
    let tz = report.findings.iter().find(|f| f.key == "autotask.time_zone").expect("checked");
    assert_eq!(tz.level, atpilot_agent::config_check::Level::Ok, "the demo's zone is its office's: {tz}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_refusal_for_one_ticket_while_the_right_is_granted_pauses_nothing() {
    let (l, _dir) = start_edited(|t| t).await;
    let sb = l.sandbox.as_deref().unwrap();
    // The security level may create notes in general, but not on this company's tickets ("Mine").
    let refusal = "User does not have permission to add notes to this ticket (security level: Mine).";
    sb.set_knobs(|k| {
        k.refuse_writes.insert("TicketNotes".into(), refusal.into());
    });
    let t = licence_request(&l);
    atpilot_e2e::redeliver_create(&l, t).await;
    let alerts = l.deps.state.alerts(20).await.unwrap();
    assert!(alerts.iter().all(|a| a.kind != "autotask-permission"), "no tenant-level pause: {alerts:?}");
    let dead = l.deps.state.dead_letters(20).await.unwrap();
    assert_eq!(dead.len(), 1, "this ticket's write is refused for good and told once: {dead:?}");
    assert!(dead[0].error.contains("this ticket only"), "{dead:?}");
}
