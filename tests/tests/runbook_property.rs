//! Property: for any sequence of event deliveries, approval clicks, sweeps
//! and crashes between the provider's change and its record, a password
//! reset runs at most once, and a reply or a time entry exists only when
//! Graph shows the change (the run verified).

use atpilot_agent::handlers::approval::{self, DecisionForm};
use atpilot_agent::ports::{RunbookRun, RunbookTarget, Runbooks};
use atpilot_e2e::{APPROVER, recurring_customer, start_edited, ticket_from, with_category};
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The real runbooks, except that the next run "crashes" after the provider
/// changed the account and before atpilot recorded it (a panic).
struct CrashAfterChange {
    inner: Arc<dyn Runbooks>,
    crash_next: AtomicBool,
}

#[async_trait::async_trait]
impl Runbooks for CrashAfterChange {
    fn describe(&self, r: &atpilot_domain::Runbook, t: &RunbookTarget<'_>) -> String {
        self.inner.describe(r, t)
    }
    async fn run(&self, r: &atpilot_domain::Runbook, t: &RunbookTarget<'_>) -> RunbookRun {
        let run = self.inner.run(r, t).await;
        if self.crash_next.swap(false, Ordering::SeqCst) {
            panic!("simulated crash between the provider and the record");
        }
        run
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Deliver,
    Click,
    Sweep,
    CrashNextRun,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![Just(Step::Deliver), Just(Step::Click), Just(Step::Sweep), Just(Step::CrashNextRun)]
}

async fn scenario(steps: Vec<Step>) {
    let body = "phase = \"human-in-the-loop\"\nsafe = true\nrunbook = \"graph-reset-password\"\napprovers = [\"dispatch@msp.example\"]\nchannels = [\"teams\"]\n";
    let (l, _dir) = start_edited(|t| with_category(&t, "password-reset", body)).await;
    let graph = l.graph.clone().unwrap();
    let (company, contact, email) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    let t = ticket_from(&l, company, contact, "Password reset", "I forgot my password and I am locked out").await;
    let crash = Arc::new(CrashAfterChange { inner: l.deps.runbooks.clone(), crash_next: AtomicBool::new(false) });
    let mut deps = l.deps.clone();
    deps.runbooks = crash.clone();
    let a = l.deps.state.approvals_in_state(atpilot_store::records::ApprovalState::Pending, 50).await.unwrap();
    let a = a.into_iter().find(|a| a.ticket_id.get() == t).expect("an approval request");
    let link = approval::links(&l.deps, &a, APPROVER).approve;
    let token = link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string();
    for s in &steps {
        let (deps, id, token) = (deps.clone(), a.id.clone(), token.clone());
        // A crash is a panic in the handler's task: the task dies, the state stays as it was.
        let _ = match s {
            Step::Deliver => {
                atpilot_e2e::redeliver_create(&l, t).await;
                Ok(())
            }
            Step::Click => tokio::spawn(async move {
                let form =
                    DecisionForm { token, decision: "approve".into(), draft: None, reason: None, ..Default::default() };
                let _ = approval::decide_request(&deps, &id, &form, chrono::Utc::now()).await;
            })
            .await
            .map(|_| ()),
            Step::Sweep => tokio::spawn(async move {
                let _ = approval::sweep(&deps, chrono::Utc::now() + chrono::Duration::minutes(3)).await;
            })
            .await
            .map(|_| ()),
            Step::CrashNextRun => {
                crash.crash_next.store(true, Ordering::SeqCst);
                Ok(())
            }
        };
        l.settle(40).await;
    }
    let u = graph.user(&tenant, &email).unwrap();
    let sb = l.sandbox.as_deref().unwrap();
    let entries = sb.rows_where("TimeEntries", "ticketID", t).len();
    let replies =
        sb.rows_where("TicketNotes", "ticketID", t).iter().filter(|n| n["publish"].as_i64() == Some(1)).count();
    let complete = sb.row("Tickets", t).unwrap()["status"].as_i64() == Some(l.deps.config.statuses.complete.get());
    assert!(u.password_changes <= 1, "{steps:?}: reset {} times", u.password_changes);
    assert!(entries <= 1 && replies <= 1, "{steps:?}: {entries} entries, {replies} replies");
    if entries > 0 || replies > 0 || complete {
        assert_eq!(u.password_changes, 1, "{steps:?}: billed, replied or completed without the change");
        let run = l.deps.state.runbook(&a.action_id).await.unwrap().and_then(|r| r.outcome);
        assert!(run.is_some_and(|o| o.verified()), "{steps:?}: billed without a verified run");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn a_runbook_runs_at_most_once_and_only_a_verified_run_is_billed(steps in proptest::collection::vec(step(), 1..7)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(scenario(steps));
    }
}
