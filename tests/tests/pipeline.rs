//! A signed webhook goes in; exactly the expected Autotask writes come out,
//! phase by phase and contract type by contract type, also when the event is
//! delivered three times and when Autotask answers 429s and 500s.

use atpilot_agent::handlers::classify::Outcome;
use atpilot_autotask_sandbox::tenant::{
    CT_BLOCK_HOURS, CT_PER_TICKET, CT_RECURRING, CT_TIME_MATERIALS, TE_BASE, TE_SLOTS,
};
use atpilot_domain::TicketId;
use atpilot_e2e::{Stack, shape};
use atpilot_store::Queue;
use atpilot_store::records::ApprovalState;
use serde_json::{Value, json};

const NOTE: &str = "POST /atservicesrest/V1.0/Tickets/{id}/Notes";

async fn run(stack: &Stack, ticket: i64) -> atpilot_local::PumpReport {
    stack.sandbox().clear_requests();
    let (body, sig) = stack.callout("Create", ticket, 1, json!({"title": "x"}), stack.human());
    assert_eq!(stack.deliver(&body, &sig).await, 202);
    let report = stack.local.settle(40).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    report
}

fn writes_of(stack: &Stack, ticket: i64) -> Vec<String> {
    shape(&stack.applied_writes(), ticket)
}

fn note_publish(stack: &Stack) -> Vec<i64> {
    stack
        .applied_writes()
        .iter()
        .filter(|w| w.path.ends_with("/Notes"))
        .filter_map(|w| w.body.as_ref()?.get("publish")?.as_i64())
        .collect()
}

async fn decision(stack: &Stack, ticket: i64) -> atpilot_store::records::DecisionRecord {
    let mut d = stack.local.deps.state.ticket_decisions(TicketId::new(ticket).unwrap()).await.unwrap();
    assert_eq!(d.len(), 1, "exactly one decision per ticket");
    d.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_phase_writes_nothing() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "VPN keeps dropping", "The VPN disconnects every hour", json!({}));
    run(&s, t).await;
    assert!(writes_of(&s, t).is_empty(), "{:?}", writes_of(&s, t));
    let d = decision(&s, t).await;
    assert_eq!(d.prediction.category.as_str(), "network");
    assert_eq!(d.action.name(), "log-only");
    assert!(!d.explanation.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_notes_phase_writes_one_internal_note() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        "Need a Microsoft 365 license",
        "New starter needs a license",
        json!({}),
    );
    run(&s, t).await;
    assert_eq!(writes_of(&s, t), [NOTE]);
    assert_eq!(note_publish(&s), [2], "the note must be internal-only");
    let body = s.applied_writes()[0].body.clone().unwrap();
    let text = body["description"].as_str().unwrap();
    assert!(text.contains("license-request") && text.contains("Why:"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_in_the_loop_stores_an_approval_request_and_writes_nothing() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        "MFA enrollment",
        "Please set up the authenticator app for me",
        json!({}),
    );
    run(&s, t).await;
    assert!(writes_of(&s, t).is_empty(), "{:?}", writes_of(&s, t));
    let pending = s.local.deps.state.approvals_in_state(ApprovalState::Pending, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].ticket_id.get(), t);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autonomous_recurring_service_replies_resolves_and_logs_time_once() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        "Password reset",
        "I forgot my password and I am locked out",
        json!({}),
    );
    let report = run(&s, t).await;
    assert_eq!(
        writes_of(&s, t),
        [
            // The fields before the customer reply: "done" is said only once the ticket says so.
            "PATCH /atservicesrest/V1.0/Tickets",
            NOTE,
            "POST /atservicesrest/V1.0/TimeEntries",
            "PATCH /atservicesrest/V1.0/Tickets"
        ]
    );
    assert_eq!(note_publish(&s), [1], "the reply is customer-visible");
    let patch = s.applied_writes()[0].body.clone().unwrap();
    assert_eq!(patch["id"], t);
    assert!(patch.get("status").is_none(), "not completed before its time entry: {patch}");
    let completed = s.applied_writes()[3].body.clone().unwrap();
    assert_eq!(completed["status"], 5, "completed once the entry is written");
    let entry = s.applied_writes()[2].body.clone().unwrap();
    let facts = s.sandbox().facts();
    assert_eq!(entry["ticketID"], t);
    assert_eq!(entry["contractID"], contract);
    assert_eq!(entry["resourceID"], facts.agent_resource_id);
    assert_eq!(entry["roleID"], facts.agent_role_id);
    let hours = entry["hoursWorked"].as_f64().unwrap();
    assert!(hours > 0.0 && hours < 0.05, "measured time, never a 15-minute minimum: {hours}");
    assert_eq!(report.time_entries.len(), 1);
    let ledger = s.local.deps.state.ticket_ledger(TicketId::new(t).unwrap()).await.unwrap();
    assert!(matches!(ledger[0].ledger, atpilot_domain::time_entry::LedgerState::Written { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_materials_completes_only_after_the_time_entry() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_TIME_MATERIALS);
    let t = s.create_ticket(company, Some(contract), "Password reset please", "Forgot my password", json!({}));
    run(&s, t).await;
    let w = writes_of(&s, t);
    assert_eq!(
        w,
        [
            // The fields before the customer reply: "done" is said only once the ticket says so.
            "PATCH /atservicesrest/V1.0/Tickets",
            NOTE,
            "POST /atservicesrest/V1.0/TimeEntries",
            "PATCH /atservicesrest/V1.0/Tickets"
        ]
    );
    let writes = s.applied_writes();
    assert!(writes[1].body.as_ref().unwrap().get("status").is_none(), "no completion before the time entry");
    assert_eq!(writes[3].body.as_ref().unwrap()["status"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_ticket_with_several_issues_is_escalated_not_resolved() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_PER_TICKET);
    let t = s.create_ticket(
        company,
        Some(contract),
        "Password and VPN",
        "I forgot my password and also the VPN is down",
        json!({}),
    );
    run(&s, t).await;
    assert_eq!(writes_of(&s, t), [NOTE]);
    assert_eq!(note_publish(&s), [2]);
    assert_eq!(decision(&s, t).await.action.name(), "escalate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_ticket_is_escalated_to_the_project_manager() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let project = (1..5000).find(|p| s.sandbox().row("Projects", *p).is_some());
    let extra = match project {
        Some(p) => json!({"projectID": p}),
        None => json!({"projectID": 1}),
    };
    let t = s.create_ticket(company, Some(contract), "Password reset", "forgot my password", extra);
    run(&s, t).await;
    assert_eq!(writes_of(&s, t), [NOTE]);
    let d = decision(&s, t).await;
    assert_eq!(
        d.action,
        atpilot_domain::Action::Escalate { to: atpilot_domain::EscalationTarget::ProjectManager, alert: false }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_without_contract_never_auto_resolves() {
    let s = Stack::start().await;
    let company = s.sandbox().facts().companies_without_contract[0];
    let t = s.create_ticket(company, None, "Password reset", "forgot my password", json!({}));
    run(&s, t).await;
    assert_eq!(writes_of(&s, t), [NOTE]);
    assert_eq!(note_publish(&s), [2]);
    let d = decision(&s, t).await;
    assert_eq!(d.action.name(), "escalate");
    // The note has a record of its own, with the id Autotask gave it, and the timeline lists it.
    let state = &s.local.deps.state;
    let note = state.note(&atpilot_agent::handlers::classify::action_id_for(&d.event_key)).await.unwrap().unwrap();
    let stored = s.sandbox().row("TicketNotes", note.note_id).expect("the recorded note exists");
    assert_eq!(stored["ticketID"], t);
    assert_eq!((stored["title"].as_str(), note.title.as_str()), (Some("atpilot escalation"), "atpilot escalation"));
    let timeline = atpilot_agent::html::timeline::timeline(state, TicketId::new(t).unwrap(), None).await.unwrap();
    let titles: Vec<&str> = timeline.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&format!("Internal note {} posted", note.note_id).as_str()), "{titles:?}");
}

/// Block hours left on a contract today, computed independently from the
/// sandbox's rows: the active, in-date blocks' hours less `hoursApproved`
/// (posted labour), less the billable labour not yet posted (seeded entries
/// of the last week), each hour scaled by its role's block hour factor.
fn block_balance(s: &Stack, contract: i64) -> f64 {
    let today = chrono::Utc::now().date_naive();
    let mut left = 0.0;
    for id in 1..20_000 {
        let Some(b) = s.sandbox().row("ContractBlocks", id) else { continue };
        if b.get("contractID").and_then(Value::as_i64) != Some(contract)
            || b.get("status").and_then(Value::as_i64) != Some(1)
        {
            continue;
        }
        let day = |k: &str| {
            b.get(k).and_then(Value::as_str).and_then(|s| chrono::NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok())
        };
        if day("startDate").is_some_and(|st| st <= today) && day("endDate").is_some_and(|e| today <= e) {
            left += b["hours"].as_f64().unwrap() - b.get("hoursApproved").and_then(Value::as_f64).unwrap_or(0.0);
        }
    }
    left - unposted_block_hours(s, contract)
}

fn unposted_block_hours(s: &Stack, contract: i64) -> f64 {
    let factor = |role: Option<i64>| {
        (1..20_000)
            .filter_map(|id| s.sandbox().row("ContractBlockHourFactors", id))
            .find(|f| {
                f.get("contractID").and_then(Value::as_i64) == Some(contract)
                    && f.get("roleID").and_then(Value::as_i64) == role
            })
            .and_then(|f| f.get("blockHourMultiplier").and_then(Value::as_f64))
            .unwrap_or(1.0)
    };
    let seeded = (0..300 * TE_SLOTS).filter_map(|k| s.sandbox().row("TimeEntries", TE_BASE + k));
    seeded
        .filter(|e| e.get("contractID").and_then(Value::as_i64) == Some(contract))
        .filter(|e| {
            e.get("billingApprovalDateTime").is_none_or(Value::is_null)
                && e.get("isNonBillable") != Some(&Value::Bool(true))
        })
        .map(|e| e["hoursToBill"].as_f64().unwrap() * factor(e.get("roleID").and_then(Value::as_i64)))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_hours_follow_the_computed_balance() {
    let s = Stack::start().await;
    // Every block-hours contract of the tenant: some have plenty left, some are nearly used up.
    let contracts = s.sandbox().facts().contracts_by_type[&CT_BLOCK_HOURS].clone();
    let (mut autonomous, mut refused) = (0, 0);
    for contract in contracts {
        let company = s.sandbox().row("Contracts", contract).unwrap()["companyID"].as_i64().unwrap();
        let t = s.create_ticket(company, Some(contract), "Password reset", "forgot my password", json!({}));
        let before = s
            .local
            .deps
            .state
            .outbox(50)
            .await
            .unwrap()
            .iter()
            .filter(|m| m.subject.starts_with("[atpilot] Alert"))
            .count();
        let left = block_balance(&s, contract);
        run(&s, t).await;
        let d = decision(&s, t).await;
        let alerts = s
            .local
            .deps
            .state
            .outbox(50)
            .await
            .unwrap()
            .iter()
            .filter(|m| m.subject.starts_with("[atpilot] Alert"))
            .count()
            - before;
        if left - 0.1 >= 2.0 {
            assert_eq!(d.action.name(), "autonomous", "balance {left} h: {:?}", d.explanation);
            assert_eq!(alerts, 0);
            autonomous += 1;
        } else {
            assert_eq!(
                d.action,
                atpilot_domain::Action::Escalate { to: atpilot_domain::EscalationTarget::Dispatcher, alert: true },
                "balance {left} h"
            );
            assert_eq!(alerts, 1, "the alert channel is told");
            let listed = s.local.deps.state.alerts(100).await.unwrap();
            assert!(
                listed.iter().any(|a| a.kind == "escalated"
                    && a.ticket_id.map(|x| x.get()) == Some(t)
                    && a.message.contains("block balance")),
                "and the dashboard lists it: {listed:?}"
            );
            assert_eq!(writes_of(&s, t), [NOTE], "an internal note, no resolution");
            // A second ticket on the same spent block today is escalated too,
            // without a second alert: one per contract per day.
            let again = s.create_ticket(company, Some(contract), "Password reset", "locked out", json!({}));
            run(&s, again).await;
            assert_eq!(decision(&s, again).await.action.name(), "escalate");
            let mails = s.local.deps.state.outbox(50).await.unwrap();
            assert_eq!(mails.iter().filter(|m| m.subject.starts_with("[atpilot] Alert")).count(), before + 1);
            let listed = s.local.deps.state.alerts(100).await.unwrap();
            let ours = listed.iter().filter(|a| a.id.starts_with(&format!("escalation#contract-{contract}#"))).count();
            assert_eq!(ours, 1, "{listed:?}");
            refused += 1;
        }
    }
    assert!(
        autonomous > 0 && refused > 0,
        "the tenant has both sufficient and low balances ({autonomous} / {refused})"
    );
}

/// Autotask debits a block only when labour is approved and posted, so a
/// block that looks full can already be spoken for: a technician's unposted
/// hours count against the balance the agent checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unposted_labour_counts_against_the_block() {
    let s = Stack::start().await;
    let contracts = s.sandbox().facts().contracts_by_type[&CT_BLOCK_HOURS].clone();
    let (contract, left) = contracts
        .into_iter()
        .map(|c| (c, block_balance(&s, c)))
        .find(|(_, left)| *left >= 3.0)
        .expect("a block-hours contract with 3 hours or more left");
    let company = s.sandbox().row("Contracts", contract).unwrap()["companyID"].as_i64().unwrap();
    let first = s.create_ticket(company, Some(contract), "Password reset", "forgot my password", json!({}));
    run(&s, first).await;
    assert_eq!(decision(&s, first).await.action.name(), "autonomous", "{left} h left");

    // A technician logs billable time on the contract; nobody has posted it yet.
    let human = s.human();
    let role =
        s.sandbox().row("Resources", human).and_then(|r| r.get("defaultServiceDeskRoleID").and_then(Value::as_i64));
    let factor = (1..20_000)
        .filter_map(|id| s.sandbox().row("ContractBlockHourFactors", id))
        .find(|f| {
            f.get("contractID").and_then(Value::as_i64) == Some(contract)
                && f.get("roleID").and_then(Value::as_i64) == role
        })
        .and_then(|f| f.get("blockHourMultiplier").and_then(Value::as_f64))
        .unwrap_or(1.0);
    // Enough of it (in days of at most 8 hours) to leave about one block hour.
    let mut worked = ((left - 1.0) / factor * 4.0).ceil() / 4.0;
    while worked > 0.0 {
        let day = worked.min(8.0);
        worked -= day;
        let entry = atpilot_autotask::entities::TimeEntry {
            ticket_id: Some(first),
            resource_id: Some(human),
            role_id: role,
            contract_id: Some(contract),
            billing_code_id: Some(1),
            date_worked: Some(chrono::Utc::now().format("%Y-%m-%dT00:00:00Z").to_string()),
            hours_worked: Some(day),
            summary_notes: Some("On-site visit".into()),
            ..Default::default()
        };
        s.local.client.create(&entry).await.expect("the technician's entry");
    }
    let seen = s
        .local
        .deps
        .autotask
        .block_data(atpilot_domain::ContractId::new(contract).unwrap(), atpilot_domain::RoleId::new(1).unwrap())
        .await
        .unwrap();
    assert!(
        seen.unposted.get() >= left - 1.0 + unposted_block_hours(&s, contract) - 1e-6,
        "the agent sees the technician's unposted hours: {seen:?}"
    );

    let second = s.create_ticket(company, Some(contract), "Password reset", "locked out again", json!({}));
    run(&s, second).await;
    let d = decision(&s, second).await;
    assert_eq!(
        d.action,
        atpilot_domain::Action::Escalate { to: atpilot_domain::EscalationTarget::Dispatcher, alert: true },
        "{:?}",
        d.explanation
    );
    assert_eq!(writes_of(&s, second), [NOTE], "an internal note, no resolution, no time entry");
}

/// Delivers `t`'s Create callout three times (202, then 200 duplicates),
/// redelivers its queue message as a crashed consumer would, and settles:
/// the second handling must see itself as a redelivery.
async fn deliver_three_times_and_redeliver(s: &Stack, t: i64) {
    s.sandbox().clear_requests();
    let (body, sig) = s.callout("Create", t, 9, json!({}), s.human());
    let statuses = [s.deliver(&body, &sig).await, s.deliver(&body, &sig).await, s.deliver(&body, &sig).await];
    assert_eq!(statuses, [202, 200, 200]);
    // The queue message itself is also redelivered (a crashed consumer).
    let msg = s.local.classify_queue.receive(1, std::time::Duration::ZERO).await.unwrap().remove(0);
    atpilot_store::Queue::release(s.local.classify_queue.as_ref(), &msg.receipt, std::time::Duration::ZERO)
        .await
        .unwrap();
    atpilot_local::classify_message(&s.local.deps, &msg.message_id, &msg.body).await.unwrap();
    let report = s.local.settle(40).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.classified.iter().any(|o| matches!(o, Outcome::Decided { redelivery: true, .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_deliveries_act_once() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "Password reset", "I am locked out", json!({}));
    deliver_three_times_and_redeliver(&s, t).await;
    assert_eq!(
        writes_of(&s, t),
        [
            // The fields before the customer reply: "done" is said only once the ticket says so.
            "PATCH /atservicesrest/V1.0/Tickets",
            NOTE,
            "POST /atservicesrest/V1.0/TimeEntries",
            "PATCH /atservicesrest/V1.0/Tickets"
        ]
    );
}

/// An escalation redelivered (the callout three times, the queue message
/// twice) posts its internal note once and records it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_escalation_notes_once() {
    let s = Stack::start().await;
    let company = s.sandbox().facts().companies_without_contract[0];
    let t = s.create_ticket(company, None, "Password reset", "forgot my password", json!({}));
    deliver_three_times_and_redeliver(&s, t).await;
    assert_eq!(writes_of(&s, t), [NOTE], "one note");
    let d = decision(&s, t).await;
    let note = s.local.deps.state.note(&atpilot_agent::handlers::classify::action_id_for(&d.event_key)).await;
    let note = note.unwrap().expect("recorded");
    let posted: Vec<i64> =
        s.sandbox().rows_where("TicketNotes", "ticketID", t).iter().filter_map(|n| n["id"].as_i64()).collect();
    assert!(posted.contains(&note.note_id), "the record names the note posted: {posted:?} {note:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors_lose_nothing_and_duplicate_nothing() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "Password reset", "locked out again", json!({}));
    s.sandbox().set_knobs(|k| {
        k.error_rate = 0.3;
        k.burst_429 = 3;
    });
    run(&s, t).await;
    s.sandbox().set_knobs(|k| k.error_rate = 0.0);
    assert_eq!(
        writes_of(&s, t),
        [
            // The fields before the customer reply: "done" is said only once the ticket says so.
            "PATCH /atservicesrest/V1.0/Tickets",
            NOTE,
            "POST /atservicesrest/V1.0/TimeEntries",
            "PATCH /atservicesrest/V1.0/Tickets"
        ]
    );
    assert!(s.sandbox().requests().iter().any(|r| r.rejected), "faults were injected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_callouts_are_refused_and_enqueue_nothing() {
    let s = Stack::start().await;
    let (body, sig) = s.callout("Create", 5, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, "sha1=AAAAAAAAAAAAAAAAAAAAAAAAAAA=").await, 401);
    assert_eq!(
        atpilot_agent::handlers::intake::handle_webhook(&s.local.deps, None, &body, chrono::Utc::now()).await.status,
        401
    );
    let junk = b"{not json";
    assert_eq!(s.deliver(junk, &atpilot_autotask::webhook::sign(s.local.webhook_secret.as_bytes(), junk)).await, 400);
    let contact = serde_json::to_vec(&json!({"Action":"Create","Guid":"g","EntityType":"Contact","Id":3})).unwrap();
    assert_eq!(
        s.deliver(&contact, &atpilot_autotask::webhook::sign(s.local.webhook_secret.as_bytes(), &contact)).await,
        400
    );
    let big = vec![b' '; 300 * 1024];
    assert_eq!(s.deliver(&big, &sig).await, 413);
    // The agent's own change is dropped by the loop guard, with a 2xx.
    let (own, own_sig) = s.callout("Update", 5, 2, json!({"status": 5}), s.sandbox().facts().agent_resource_id);
    assert_eq!(s.deliver(&own, &own_sig).await, 200);
    // So is a change the API user itself made (PersonID = the API user's resource).
    let (api, api_sig) = s.callout("Update", 5, 3, json!({"status": 5}), s.sandbox().facts().api_resource_id);
    assert_eq!(s.deliver(&api, &api_sig).await, 200);
    assert!(s.local.classify_queue.is_empty(), "nothing may be enqueued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_rerouting_is_recorded_beside_the_prediction() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "VPN down", "vpn broken", json!({}));
    run(&s, t).await;
    let (body, sig) = s.callout("Update", t, 2, json!({"queueID": 8, "priority": 1}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    let report = s.local.settle(20).await;
    assert_eq!(report.classified, [Outcome::HumanRoutingRecorded]);
    let human = s.local.deps.state.human_routings(TicketId::new(t).unwrap()).await.unwrap();
    assert_eq!(human[0].queue_id, Some(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_stops_all_writes() {
    let s = Stack::start().await;
    s.local.deps.state.set_settings(&atpilot_store::records::Settings { kill_switch: true }).await.unwrap();
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "Password reset", "forgot my password", json!({}));
    run(&s, t).await;
    assert!(writes_of(&s, t).is_empty());
    assert_eq!(decision(&s, t).await.reasons, [atpilot_domain::Reason::KillSwitch]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciler_queues_what_no_webhook_delivered() {
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "License needed", "Microsoft 365 license please", json!({}));
    let r =
        atpilot_agent::handlers::reconciler::reconcile(&s.local.deps, chrono::Utc::now(), chrono::Duration::hours(1))
            .await
            .unwrap();
    assert!(r.queued >= 1, "{r:?}");
    s.local.settle(40).await;
    assert_eq!(decision(&s, t).await.prediction.category.as_str(), "license-request");
    // A second pass queues nothing new for it.
    let r2 =
        atpilot_agent::handlers::reconciler::reconcile(&s.local.deps, chrono::Utc::now(), chrono::Duration::hours(1))
            .await
            .unwrap();
    assert_eq!(r2.queued, 0, "{r2:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciler_records_a_human_reroute_whose_update_callout_was_lost() {
    use atpilot_agent::handlers::reconciler::reconcile;
    let s = Stack::start().await;
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), "VPN down", "vpn broken", json!({}));
    run(&s, t).await;
    let id = TicketId::new(t).unwrap();
    let pass = || reconcile(&s.local.deps, chrono::Utc::now(), chrono::Duration::hours(1));
    pass().await.unwrap();
    // A dispatcher moves it; the Update callout is lost.
    s.sandbox().set_knobs(|k| k.drop_webhooks_next = 1);
    let serde_json::Value::Object(moved) = json!({"queueID": 8}) else { unreachable!() };
    assert!(s.sandbox().simulate_ticket_update(t, moved, s.human()));
    s.local.settle(20).await;
    assert!(s.local.deps.state.human_routings(id).await.unwrap().is_empty(), "no callout arrived");
    let r = pass().await.unwrap();
    assert_eq!(r.updates_queued, 1, "{r:?}");
    s.local.settle(20).await;
    let human = s.local.deps.state.human_routings(id).await.unwrap();
    assert_eq!((human.len(), human[0].queue_id, human[0].changed_by), (1, Some(8), Some(s.human())));
    assert_eq!(human[0].resource_id, None, "who moved it is not who it is assigned to");
    // Once recorded, the next pass queues nothing; nor does a re-route whose callout arrived.
    assert_eq!(pass().await.unwrap().updates_queued, 0);
    s.sandbox().set_knobs(|k| k.drop_webhooks_next = 1);
    let serde_json::Value::Object(back) = json!({"priority": 1}) else { unreachable!() };
    s.sandbox().simulate_ticket_update(t, back, s.human());
    let (body, sig) = s.callout("Update", t, 3, json!({"priority": 1}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    s.local.settle(20).await;
    assert_eq!(s.local.deps.state.human_routings(id).await.unwrap().len(), 2, "delivered by its callout");
    assert_eq!(pass().await.unwrap().updates_queued, 0, "already seen through the callout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciler_never_takes_the_agents_own_changes_for_a_persons() {
    use atpilot_agent::handlers::reconciler::reconcile;
    let (l, _dir) = atpilot_e2e::start_edited(|t| t).await;
    let (company, contact, _) = atpilot_e2e::recurring_customer(&l, 0);
    let t =
        atpilot_e2e::ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    let sb = l.sandbox.as_deref().unwrap();
    let row = sb.row("Tickets", t).unwrap();
    assert_eq!(row["assignedResourceID"], sb.facts().agent_resource_id, "the agent assigned itself: {row:?}");
    assert_eq!(row["status"], 5, "and completed the ticket");
    // A person then edits something that is not routing, and its callout is lost.
    sb.set_knobs(|k| k.drop_webhooks_next = 1);
    let serde_json::Value::Object(edit) = json!({"title": "Locked out (called back)"}) else { unreachable!() };
    assert!(sb.simulate_ticket_update(t, edit, atpilot_e2e::human_of(sb)));
    let r = reconcile(&l.deps, chrono::Utc::now(), chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(r.updates_queued, 0, "the agent's own assignment and completion are no re-route: {r:?}");
    assert!(l.deps.state.human_routings(TicketId::new(t).unwrap()).await.unwrap().is_empty());
}
