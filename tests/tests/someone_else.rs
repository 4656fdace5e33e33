//! A request for someone else in a reply-only category (self-service
//! instructions that speak to the requester about their own account) is not
//! answered or closed by atpilot: one internal note for a technician, who
//! can help the person who is actually locked out.

use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_domain::TicketId;
use atpilot_e2e::{Stack, shape};
use serde_json::json;

async fn decide(s: &Stack, title: &str, description: &str) -> (i64, atpilot_store::records::DecisionRecord) {
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), title, description, json!({}));
    s.sandbox().clear_requests();
    let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    assert!(s.local.settle(40).await.failures.is_empty());
    let mut d = s.local.deps.state.ticket_decisions(TicketId::new(t).unwrap()).await.unwrap();
    assert_eq!(d.len(), 1);
    (t, d.remove(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_for_a_colleague_is_left_to_a_technician() {
    let s = Stack::start().await;
    // The requester's own: resolved with the self-service reply (the demo's autonomous category).
    let (own, d) = decide(&s, "Password reset", "I forgot my password and I am locked out").await;
    assert_eq!(d.action.name(), "autonomous", "{:?}", d.explanation);
    assert!(shape(&s.applied_writes(), own).len() > 1);

    let (t, d) = decide(
        &s,
        "Password reset",
        "Please reset the password for my colleague Jane, she is locked out since this morning.",
    )
    .await;
    assert_eq!(d.prediction.category.as_str(), "password-reset");
    assert_eq!(d.action.name(), "internal-note", "{:?}", d.explanation);
    assert!(d.explanation.iter().any(|e| e.contains("colleague")), "the reason names the cue: {:?}", d.explanation);
    // Nothing is resolved, so nothing is said about how a resolution would bill.
    assert!(
        !d.explanation.iter().any(|e| e.contains("may resolve") || e.contains("time entry")),
        "{:?}",
        d.explanation
    );
    let writes = shape(&s.applied_writes(), t);
    assert_eq!(writes, ["POST /atservicesrest/V1.0/Tickets/{id}/Notes"], "one internal note, no reply, no completion");
    let note = s.applied_writes().into_iter().find(|w| w.path.ends_with("/Notes")).unwrap().body.unwrap();
    assert_eq!(note["publish"], 2, "internal only: {note}");
}
