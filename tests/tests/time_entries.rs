//! Time entries under faults: exactly one entry with the right duration,
//! ticket, contract, resource and role, whatever happens; refusals told to a
//! human.

use atpilot_agent::handlers::time_entry::{self, TimeEntryOutcome};
use atpilot_agent::messages::TimeEntryJob;
use atpilot_autotask_sandbox::tenant::{CT_RECURRING, CT_TIME_MATERIALS};
use atpilot_domain::*;
use atpilot_e2e::Stack;
use atpilot_e2e::hooked::Hooked;
use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;

/// A ticket assigned to the agent (as the resolution does) and its job.
async fn job_for(s: &Stack, contract_type: i64, secs: i64, complete_after: bool) -> (i64, TimeEntryJob) {
    let (contract, company) = s.contract_of_type(contract_type);
    let f = s.sandbox().facts();
    let t = s.create_ticket(
        company,
        Some(contract),
        "Password reset",
        "locked out",
        json!({"assignedResourceID": f.agent_resource_id, "assignedResourceRoleID": f.agent_role_id}),
    );
    let start = Utc::now() - chrono::Duration::seconds(secs);
    let job = TimeEntryJob {
        action_id: ActionId::new(format!("act-test-{t}")).unwrap(),
        ticket_id: TicketId::new(t).unwrap(),
        contract_id: ContractId::new(contract).unwrap(),
        contract_kind: if contract_type == CT_TIME_MATERIALS {
            ContractKind::TimeAndMaterials
        } else {
            ContractKind::RecurringService
        },
        category: Category::new("password-reset").unwrap(),
        span: WorkSpan::new(start, start + chrono::Duration::seconds(secs)).unwrap(),
        summary: "atpilot reset the password; approved by dispatch@msp.example".into(),
        complete_after,
    };
    s.sandbox().clear_requests();
    (t, job)
}

/// The ticket's time entries, read back through the API.
async fn entries(s: &Stack, ticket: i64) -> Vec<serde_json::Map<String, Value>> {
    use atpilot_autotask::{Filter, Query};
    let rows = s
        .local
        .client
        .query::<atpilot_autotask::entities::TimeEntry>(Query::new().filter(Filter::eq("ticketID", ticket)))
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| match serde_json::to_value(r).unwrap() {
            Value::Object(m) => m,
            _ => unreachable!(),
        })
        .collect()
}

async fn check_entry(s: &Stack, job: &TimeEntryJob, secs: i64) {
    let e = entries(s, job.ticket_id.get()).await;
    assert_eq!(e.len(), 1, "exactly one entry: {e:?}");
    let f = s.sandbox().facts();
    assert_eq!(e[0]["contractID"], job.contract_id.get());
    assert_eq!(e[0]["resourceID"], f.agent_resource_id);
    assert_eq!(e[0]["roleID"], f.agent_role_id);
    let hours = e[0]["hoursWorked"].as_f64().unwrap();
    assert!((hours * 3600.0 - secs as f64).abs() < 0.01, "{hours} h for {secs} s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_three_times_writes_one_entry() {
    let s = Stack::start().await;
    let (_t, job) = job_for(&s, CT_RECURRING, 8, false).await;
    let outs = [
        time_entry::handle(&s.local.deps, &job).await.unwrap(),
        time_entry::handle(&s.local.deps, &job).await.unwrap(),
        time_entry::handle(&s.local.deps, &job).await.unwrap(),
    ];
    assert!(matches!(outs[0], TimeEntryOutcome::Written(_)));
    assert_eq!(outs[1], TimeEntryOutcome::AlreadyDone);
    assert_eq!(outs[2], TimeEntryOutcome::AlreadyDone);
    check_entry(&s, &job, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_between_the_write_and_the_ledger_update_is_recovered_not_repeated() {
    let s = Stack::start().await;
    let (_t, job) = job_for(&s, CT_RECURRING, 42, false).await;
    let mut deps = s.local.deps.clone();
    let hooked = Hooked::new(s.local.deps.autotask.clone());
    hooked.crash_after_time_entry.store(1, std::sync::atomic::Ordering::SeqCst);
    deps.autotask = Arc::new(hooked);
    assert!(time_entry::handle(&deps, &job).await.is_err(), "the first attempt dies after writing");
    // The redelivery finds the entry by its marker instead of writing another.
    assert!(matches!(time_entry::handle(&deps, &job).await.unwrap(), TimeEntryOutcome::Recovered(_)));
    assert_eq!(time_entry::handle(&deps, &job).await.unwrap(), TimeEntryOutcome::AlreadyDone);
    check_entry(&s, &job, 42).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermittent_500s_and_429s_still_write_exactly_one() {
    let s = Stack::start().await;
    let (_t, job) = job_for(&s, CT_RECURRING, 15, false).await;
    s.sandbox().set_knobs(|k| {
        k.error_rate = 0.4;
        k.burst_429 = 2;
    });
    let mut done = false;
    for _ in 0..30 {
        if time_entry::handle(&s.local.deps, &job).await.is_ok() {
            done = true;
            break;
        }
    }
    s.sandbox().set_knobs(|k| k.error_rate = 0.0);
    assert!(done, "the job eventually succeeds");
    assert_eq!(time_entry::handle(&s.local.deps, &job).await.unwrap(), TimeEntryOutcome::AlreadyDone);
    check_entry(&s, &job, 15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_changed_since_the_decision_writes_nothing_and_escalates() {
    let s = Stack::start().await;
    let (t, job) = job_for(&s, CT_RECURRING, 8, false).await;
    let other = s.sandbox().facts().contracts_by_type[&CT_TIME_MATERIALS][0];
    let mut f = serde_json::Map::new();
    f.insert("contractID".into(), json!(other));
    s.sandbox().simulate_ticket_update(t, f, s.human());
    let out = time_entry::handle(&s.local.deps, &job).await.unwrap();
    assert!(matches!(&out, TimeEntryOutcome::Refused(why) if why.contains("contract changed")), "{out:?}");
    assert!(entries(&s, t).await.is_empty());
    let notes = s.applied_writes();
    assert_eq!(notes.len(), 1, "one internal note");
    assert_eq!(notes[0].body.as_ref().unwrap()["publish"], 2);
    assert_eq!(time_entry::handle(&s.local.deps, &job).await.unwrap(), TimeEntryOutcome::AlreadyDone);
    assert_eq!(s.applied_writes().len(), 1, "told once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_materials_ticket_stays_open_when_the_entry_fails_for_good() {
    let s = Stack::start().await;
    let (t, job) = job_for(&s, CT_TIME_MATERIALS, 8, true).await;
    // The ticket's role no longer matches the agent's: Autotask refuses ticket time (roleID rule).
    let mut f = serde_json::Map::new();
    f.insert("assignedResourceRoleID".into(), json!(s.sandbox().facts().agent_role_id + 1));
    s.sandbox().simulate_ticket_update(t, f, s.human());
    let out = time_entry::handle(&s.local.deps, &job).await.unwrap();
    assert!(matches!(&out, TimeEntryOutcome::Refused(why) if why.contains("roleID")), "{out:?}");
    assert!(entries(&s, t).await.is_empty());
    assert_ne!(s.sandbox().row("Tickets", t).unwrap()["status"], 5, "the ticket stays open");
    let note = s.applied_writes().into_iter().find(|w| w.path.ends_with("/Notes")).expect("a human is told");
    assert!(note.body.unwrap()["description"].as_str().unwrap().contains("left open"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_materials_completes_after_the_entry() {
    let s = Stack::start().await;
    let (t, job) = job_for(&s, CT_TIME_MATERIALS, 8, true).await;
    assert!(matches!(time_entry::handle(&s.local.deps, &job).await.unwrap(), TimeEntryOutcome::Written(_)));
    assert_eq!(s.sandbox().row("Tickets", t).unwrap()["status"], 5);
    assert_eq!(entries(&s, t).await.len(), 1);
}

/// `dateWorked` is the tenant's calendar date (`[autotask] time_zone`, New
/// York in the demo configuration, as the sandbox's office), not
/// UTC's: at local midnight, at UTC midnight and across a daylight-saving change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn date_worked_is_the_tenants_calendar_date_at_midnights_and_a_dst_change() {
    let s = Stack::start().await;
    assert_eq!(s.local.deps.config.autotask.time_zone.name(), "America/New_York", "the demo's office zone");
    let cases = [
        ("2026-01-15T05:00:00Z", "2026-01-15"), // local midnight (EST)
        ("2026-01-15T00:00:00Z", "2026-01-14"), // UTC midnight: still the 14th in New York
        ("2026-03-09T03:30:00Z", "2026-03-08"), // 23:30 EDT, the first evening of daylight saving
        ("2026-03-09T04:00:00Z", "2026-03-09"), // local midnight after the change: 04:00 UTC, not 05:00
    ];
    for (i, (start, want)) in cases.into_iter().enumerate() {
        let (t, mut job) = job_for(&s, CT_RECURRING, 60, false).await;
        let start = chrono::DateTime::parse_from_rfc3339(start).unwrap().with_timezone(&Utc);
        job.span = WorkSpan::new(start, start + chrono::Duration::seconds(60)).unwrap();
        assert!(matches!(time_entry::handle(&s.local.deps, &job).await.unwrap(), TimeEntryOutcome::Written(_)));
        let e = entries(&s, t).await;
        let got = e[0]["dateWorked"].as_str().unwrap();
        assert!(got.starts_with(want), "case {i}: work started {start} -> dateWorked {got}, want {want}");
        // Read back without a difference: the ledger holds the stored date, and no alert was raised.
        let alerts = s.local.deps.state.alerts(10).await.unwrap();
        assert!(alerts.iter().all(|a| a.kind != "time-entry-differs"), "{alerts:?}");
    }
}

/// A lookup whose clause Autotask ignored returns rows of the ticket without
/// the action's marker: the pending entry is not "recovered" from a human's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_whose_marker_clause_was_ignored_is_not_fooled_by_another_entry() {
    use atpilot_store::records::{Claim, LedgerRecord};
    let s = Stack::start().await;
    let (t, job) = job_for(&s, CT_RECURRING, 30, false).await;
    let f = s.sandbox().facts();
    let by_hand = atpilot_autotask::entities::TimeEntry {
        ticket_id: Some(t),
        resource_id: Some(f.agent_resource_id),
        role_id: Some(f.agent_role_id),
        contract_id: Some(job.contract_id.get()),
        date_worked: Some("2026-11-02".into()),
        hours_worked: Some(0.25),
        summary_notes: Some("Called the user back".into()),
        internal_notes: Some("entered by hand".into()),
        ..Default::default()
    };
    s.local.client.create(&by_hand).await.unwrap();
    s.sandbox().set_knobs(|k| {
        k.ignored_filter_fields.insert("internalNotes".into());
    });
    {
        // The knob works: the marker clause is dropped and the human's row comes back.
        use atpilot_autotask::{Filter, Query};
        let q = Query::new()
            .filter(Filter::eq("ticketID", t))
            .filter(Filter::contains("internalNotes", job.action_id.marker()));
        let rows = s.local.client.query::<atpilot_autotask::entities::TimeEntry>(q).await.unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
    }
    // An earlier attempt claimed the ledger and died before writing.
    let pending = LedgerRecord {
        action_id: job.action_id.clone(),
        ticket_id: job.ticket_id,
        contract_id: job.contract_id,
        span: job.span,
        ledger: atpilot_domain::time_entry::LedgerState::Pending,
        stored: None,
    };
    assert!(matches!(s.local.deps.state.ledger_claim(&pending).await.unwrap(), Claim::Claimed));
    let out = time_entry::handle(&s.local.deps, &job).await.unwrap();
    assert!(matches!(out, TimeEntryOutcome::Written(_)), "the human's entry is not taken for ours: {out:?}");
    assert_eq!(entries(&s, t).await.len(), 2, "the human's entry and atpilot's");
}

/// The entry is written but completing the ticket is refused (permission):
/// the retry completes it instead of answering "already done"; a later
/// redelivery does not complete it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_refused_after_the_entry_is_written_is_finished_on_the_retry() {
    let s = Stack::start().await;
    let (t, job) = job_for(&s, CT_TIME_MATERIALS, 20, true).await;
    let mut deps = s.local.deps.clone();
    let hooked = Hooked::new(s.local.deps.autotask.clone());
    hooked.deny_updates.store(1, std::sync::atomic::Ordering::SeqCst);
    deps.autotask = Arc::new(hooked);
    let e = time_entry::handle(&deps, &job).await.expect_err("the completion was refused");
    assert!(e.is_retryable() && e.denied_operation() == Some("update Tickets"), "{e}");
    let status = |s: &Stack| s.sandbox().row("Tickets", t).unwrap()["status"].as_i64();
    assert_ne!(status(&s), Some(5), "not completed yet");
    assert_eq!(time_entry::handle(&deps, &job).await.unwrap(), TimeEntryOutcome::AlreadyDone);
    assert_eq!(status(&s), Some(5), "the retry completed it");
    check_entry(&s, &job, 20).await;
    // A human reopens it; a late duplicate of the job leaves it open.
    let serde_json::Value::Object(reopen) = json!({"status": 1}) else { unreachable!() };
    s.sandbox().simulate_ticket_update(t, reopen, s.human());
    assert_eq!(time_entry::handle(&deps, &job).await.unwrap(), TimeEntryOutcome::AlreadyDone);
    assert_eq!(status(&s), Some(1));
}
