//! `atpilot dev` restarted on the same state: the sandbox is seeded afresh,
//! but new tickets get ids no earlier run handed out (so they are decided,
//! not ignored as "already decided"), notes and time entries get ids no
//! earlier run handed out either (a note id the state kept never names
//! another run's note), and approval links of the earlier run still verify
//! (the key is kept in the state directory).

use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_e2e::CalibratedKeywords;
use atpilot_local::{Local, LocalClassifier, LocalOptions, Target};
use atpilot_store::records::ApprovalState;
use serde_json::json;
use std::sync::Arc;

async fn start(dir: &std::path::Path) -> Local {
    Local::start(LocalOptions {
        state_dir: dir.to_path_buf(),
        target: Target::Sandbox { tickets: 300, seed: 7 },
        config: None,
        webhook_secret: Some("e2e-webhook-secret".into()),
        public_url: "http://127.0.0.1:8080".into(),
        classifier: LocalClassifier::Given(Arc::new(CalibratedKeywords)),
        kb_sandbox: Default::default(),
    })
    .await
    .expect("local stack starts")
}

/// Creates an MFA-enrollment ticket (human in the loop), delivers its callout and settles.
async fn new_request(l: &Local) -> i64 {
    let sb = l.sandbox.as_deref().unwrap();
    let facts = sb.facts();
    let contract = facts.contracts_by_type[&CT_RECURRING][0];
    let company = sb.row("Contracts", contract).unwrap()["companyID"].as_i64().unwrap();
    let fields = json!({
        "companyID": company, "contractID": contract, "title": "MFA enrollment", "status": 1, "priority": 2,
        "description": "Please set up the authenticator app on my new phone", "queueID": facts.queues[0].0,
        "contactID": sb.contacts_of(company)[0],
    });
    atpilot_e2e::create_and_settle(l, fields).await
}

async fn decided(l: &Local, t: i64) -> bool {
    !l.deps.state.ticket_decisions(atpilot_domain::TicketId::new(t).unwrap()).await.unwrap().is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_state_decides_new_tickets_and_keeps_its_links() {
    let tmp = tempfile::tempdir().unwrap();
    // A state directory that does not exist yet, as on a first `atpilot dev`.
    let dir = tmp.path().join("state");
    let first = start(&dir).await;
    let t1 = new_request(&first).await;
    assert!(decided(&first, t1).await);
    let pending = first.deps.state.approvals_in_state(ApprovalState::Pending, 10).await.unwrap();
    let a = pending.iter().find(|a| a.ticket_id.get() == t1).expect("a pending request").clone();
    let link = atpilot_agent::handlers::approval::links(&first.deps, &a, atpilot_e2e::APPROVER).open;
    let query = link.split_once('?').expect("a query").1.to_string();
    let row = |l: &Local, entity: &str| {
        let fields = json!({"ticketID": t1, "description": "a row written in this run"});
        l.sandbox.as_deref().unwrap().insert_row(entity, fields.as_object().unwrap().clone()).unwrap()
    };
    let (note1, entry1) = (row(&first, "TicketNotes"), row(&first, "TimeEntries"));
    let number = |l: &Local, t: i64| l.sandbox.as_deref().unwrap().row("Tickets", t).unwrap()["ticketNumber"].clone();
    let article = |l: &Local| l.kb.as_ref().unwrap().with_world(|w| w.add_article("A draft", "<p>x</p>", None));
    let (number1, article1) = (number(&first, t1), article(&first));
    drop(first);

    let second = start(&dir).await;
    let t2 = new_request(&second).await;
    assert_ne!(t2, t1, "the restarted sandbox does not hand out the first run's ticket id again");
    let (note2, entry2) = (row(&second, "TicketNotes"), row(&second, "TimeEntries"));
    assert!(note2 > note1 && entry2 > entry1, "notes {note1} then {note2}, time entries {entry1} then {entry2}");
    assert_ne!(number(&second, t2), number1, "ticket numbers are not handed out again either");
    let article2 = article(&second);
    assert!(article2 > article1, "nor KB article ids an earlier run's drafts link to: {article1} then {article2}");
    assert!(decided(&second, t2).await, "the new ticket is decided, not ignored");
    // The first run's request was expired at start (its ticket is gone with the old
    // sandbox): no longer listed as pending; its link still verifies and says why.
    let pending = second.deps.state.approvals_in_state(ApprovalState::Pending, 10).await.unwrap();
    assert!(pending.iter().all(|p| p.id != a.id), "{pending:?}");
    let expired = second.deps.state.approval(&a.id).await.unwrap().unwrap();
    assert_eq!(
        (expired.state, expired.note.as_deref()),
        (ApprovalState::Expired, Some(atpilot_local::earlier_runs::NOTE))
    );
    assert!(pending.iter().any(|p| p.ticket_id.get() == t2), "this run's request stays pending: {pending:?}");
    let page =
        atpilot_agent::handlers::approval::handle_http(&second.deps, "GET", &a.id, &query, b"", chrono::Utc::now())
            .await;
    assert!(page.html.contains("earlier atpilot dev run"), "{}", page.html);
    assert!(!page.html.contains("not issued by atpilot"), "{}", page.html);
}
