//! The state-store checks: every adapter of [`StateStore`](crate::StateStore)
//! must pass each of them; `state_conformance_tests!` calls them by name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::records::*;
use crate::state::*;
use atpilot_domain::time_entry::LedgerState;
use atpilot_domain::*;
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use std::sync::Arc;

mod notices;
pub use notices::*;

pub(super) fn at(min: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::minutes(min)
}

pub async fn put_not_exists_is_exactly_once(s: Arc<dyn StateStore>) {
    let k = Key::new("p#1", "a");
    assert!(s.put(Item::new(k.clone(), json!({"n": 1})), Condition::NotExists).await.unwrap().written());
    let second = s.put(Item::new(k.clone(), json!({"n": 2})), Condition::NotExists).await.unwrap();
    match second {
        WriteOutcome::ConditionFailed { current: Some(cur) } => assert_eq!(cur.data, json!({"n": 1})),
        other => panic!("expected the first write to win, got {other:?}"),
    }
    assert_eq!(s.get(&k).await.unwrap().unwrap().data, json!({"n": 1}));
    assert!(s.put(Item::new(k.clone(), json!({"n": 3})), Condition::Always).await.unwrap().written());
    assert_eq!(s.get(&k).await.unwrap().unwrap().data, json!({"n": 3}));
}

pub async fn state_transition_is_exactly_once_under_contention(s: Arc<dyn StateStore>) {
    let k = Key::new("approval#x", "approval");
    s.put(Item::new(k.clone(), json!({})).with_state("pending"), Condition::NotExists).await.unwrap();
    // A transition from a state the item is not in fails.
    let wrong = s
        .put(Item::new(k.clone(), json!({})).with_state("approved"), Condition::StateIs("rejected".into()))
        .await
        .unwrap();
    assert!(!wrong.written());
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        let k = k.clone();
        tasks.push(tokio::spawn(async move {
            s.put(Item::new(k, json!({ "winner": i })).with_state("approved"), Condition::StateIs("pending".into()))
                .await
                .unwrap()
                .written()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += t.await.unwrap() as usize;
    }
    assert_eq!(wins, 1, "exactly one concurrent transition must win");
    assert_eq!(s.get(&k).await.unwrap().unwrap().state.as_deref(), Some("approved"));
    // Missing items are in no state.
    let none = s
        .put(Item::new(Key::new("approval#missing", "approval"), json!({})), Condition::StateIs("pending".into()))
        .await
        .unwrap();
    assert_eq!(none, WriteOutcome::ConditionFailed { current: None });
}

pub async fn expired_items_read_as_absent_and_can_be_reclaimed(s: Arc<dyn StateStore>) {
    let past = Utc::now().timestamp() - 10;
    let future = Utc::now().timestamp() + 3600;
    let k = Key::new("event#old", "event");
    s.put(Item::new(k.clone(), json!({"v": "old"})).expiring_at(past), Condition::Always).await.unwrap();
    assert!(s.get(&k).await.unwrap().is_none(), "an expired item must read as absent");
    assert!(s.query(&Query::partition("event#old")).await.unwrap().is_empty());
    assert!(
        s.put(Item::new(k.clone(), json!({"v": "new"})).expiring_at(future), Condition::NotExists)
            .await
            .unwrap()
            .written()
    );
    assert_eq!(s.get(&k).await.unwrap().unwrap().data, json!({"v": "new"}));
    // An expired item is in no state either.
    let k2 = Key::new("approval#exp", "approval");
    s.put(Item::new(k2.clone(), json!({})).with_state("pending").expiring_at(past), Condition::Always).await.unwrap();
    assert!(
        !s.put(Item::new(k2, json!({})).with_state("approved"), Condition::StateIs("pending".into()))
            .await
            .unwrap()
            .written()
    );
}

pub async fn query_by_prefix_in_order_with_limit(s: Arc<dyn StateStore>) {
    for (pk, sk) in [
        ("ticket#1", "decision#b"),
        ("ticket#1", "decision#a"),
        ("ticket#1", "human#a"),
        ("ticket#10", "decision#z"),
        ("ticket#1", "decision#c"),
    ] {
        s.put(Item::new(Key::new(pk, sk), json!({ "sk": sk })), Condition::Always).await.unwrap();
    }
    let sks = |items: Vec<Item>| items.into_iter().map(|i| i.key.sk).collect::<Vec<_>>();
    assert_eq!(
        sks(s.query(&Query::partition("ticket#1").prefix("decision#")).await.unwrap()),
        ["decision#a", "decision#b", "decision#c"]
    );
    assert_eq!(
        sks(s.query(&Query::partition("ticket#1").prefix("decision#").newest_first().limit(2)).await.unwrap()),
        ["decision#c", "decision#b"]
    );
    assert_eq!(s.query(&Query::partition("ticket#1")).await.unwrap().len(), 4);
    assert_eq!(sks(s.query(&Query::partition("ticket#10")).await.unwrap()), ["decision#z"]);
    assert!(s.query(&Query::partition("ticket#2")).await.unwrap().is_empty());
}

pub async fn secondary_index_follows_rewrites_and_deletes(s: Arc<dyn StateStore>) {
    let k = Key::new("approval#1", "approval");
    s.put(Item::new(k.clone(), json!({})).with_gsi1("approvals#pending", "2026-01-01"), Condition::Always)
        .await
        .unwrap();
    s.put(
        Item::new(Key::new("approval#2", "approval"), json!({})).with_gsi1("approvals#pending", "2026-01-02"),
        Condition::Always,
    )
    .await
    .unwrap();
    let pending = s.query(&Query::gsi1("approvals#pending").newest_first()).await.unwrap();
    assert_eq!(pending.iter().map(|i| i.key.pk.as_str()).collect::<Vec<_>>(), ["approval#2", "approval#1"]);
    s.put(Item::new(k.clone(), json!({})).with_gsi1("approvals#approved", "2026-01-01"), Condition::Always)
        .await
        .unwrap();
    assert_eq!(s.query(&Query::gsi1("approvals#pending")).await.unwrap().len(), 1);
    assert_eq!(s.query(&Query::gsi1("approvals#approved")).await.unwrap()[0].key, k);
    s.delete(&Key::new("approval#2", "approval")).await.unwrap();
    assert!(s.query(&Query::gsi1("approvals#pending")).await.unwrap().is_empty());
}

pub async fn increment_is_atomic(s: Arc<dyn StateStore>) {
    let k = Key::new("counter#autonomous#h", "counter");
    let exp = Some(Utc::now().timestamp() + 3600);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (s, k) = (s.clone(), k.clone());
        tasks.push(tokio::spawn(async move { s.increment(&k, 1, exp).await.unwrap() }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort();
    assert_eq!(seen, (1..=20).collect::<Vec<i64>>(), "every increment must see a distinct value");
    assert_eq!(s.get(&k).await.unwrap().unwrap().data["count"], 20);
    // An expired counter starts again.
    let old = Key::new("counter#old", "counter");
    s.put(Item::new(old.clone(), json!({"count": 99})).expiring_at(Utc::now().timestamp() - 5), Condition::Always)
        .await
        .unwrap();
    assert_eq!(s.increment(&old, 1, exp).await.unwrap(), 1);
}

pub async fn delete_missing_is_fine(s: Arc<dyn StateStore>) {
    s.delete(&Key::new("nothing", "here")).await.unwrap();
    assert!(s.get(&Key::new("nothing", "here")).await.unwrap().is_none());
}

pub async fn events_are_claimed_once(s: Arc<dyn StateStore>) {
    let s2 = s.clone();
    let st = State::new(s);
    let now = Utc::now();
    assert!(st.claim_event("guid-1:17", now, 3600).await.unwrap());
    assert!(!st.claim_event("guid-1:17", now, 3600).await.unwrap());
    assert!(!st.claim_event("guid-1:17", now, 3600).await.unwrap());
    assert!(st.claim_event("guid-1:18", now, 3600).await.unwrap());
    // A released claim can be claimed again (the sender's retry after a failure).
    st.release_event("guid-1:18").await.unwrap();
    assert!(st.claim_event("guid-1:18", now, 3600).await.unwrap());
    // The first attempt committed, its answer was lost, the SDK retried: still this call's claim.
    let lost = State::new(Arc::new(LostFirstAnswer(s2)));
    assert!(lost.claim_event("guid-1:19", now, 3600).await.unwrap(), "its own committed claim is a success");
    assert!(!st.claim_event("guid-1:19", now, 3600).await.unwrap(), "and a duplicate for anyone else");
}

/// A store whose every conditional write commits, loses its answer, and is
/// sent again (as the AWS SDK retries): the caller sees the retry's outcome.
struct LostFirstAnswer(Arc<dyn StateStore>);

#[async_trait::async_trait]
impl StateStore for LostFirstAnswer {
    async fn put(&self, item: Item, condition: Condition) -> Result<WriteOutcome, StoreError> {
        self.0.put(item.clone(), condition.clone()).await?;
        self.0.put(item, condition).await
    }
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.0.get(key).await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.0.query(query).await
    }
    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.0.delete(key).await
    }
    async fn increment(&self, key: &Key, by: i64, expires_at: Option<i64>) -> Result<i64, StoreError> {
        self.0.increment(key, by, expires_at).await
    }
}

fn decision(ticket: i64, event: &str, min: i64) -> DecisionRecord {
    DecisionRecord {
        ticket_id: TicketId::new(ticket).unwrap(),
        event_key: event.into(),
        decided_at: at(min),
        phase: Phase::Shadow,
        prediction: Prediction {
            category: Category::new("password-reset").unwrap(),
            confidence: Confidence::new(0.9).unwrap(),
            queue_id: Some(QueueId::new(3).unwrap()),
            priority: None,
            issue_type: None,
            sub_issue_type: None,
            multi_issue: false,
            needs_physical_access: false,
            calibrated: true,
            evidence: None,
        },
        action: Action::LogOnly,
        reasons: vec![Reason::PhaseIs { category: Category::new("password-reset").unwrap(), phase: Phase::Shadow }],
        explanation: vec!["category password-reset is in the shadow phase".into()],
        draft: Some("Hello".into()),
    }
}

pub async fn decisions_once_per_event_newest_first(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    assert_eq!(st.save_decision(&decision(5, "e1", 0)).await.unwrap(), Claim::Claimed);
    let mut again = decision(5, "e1", 9);
    again.draft = None;
    assert_eq!(st.save_decision(&again).await.unwrap(), Claim::Existing(decision(5, "e1", 0)));
    st.save_decision(&decision(6, "e2", 2)).await.unwrap();
    st.save_decision(&decision(5, "e3", 1)).await.unwrap();
    let recent = st.recent_decisions(10).await.unwrap();
    assert_eq!(recent.iter().map(|d| d.event_key.as_str()).collect::<Vec<_>>(), ["e2", "e3", "e1"]);
    assert_eq!(st.recent_decisions(1).await.unwrap().len(), 1);
    assert_eq!(st.ticket_decisions(TicketId::new(5).unwrap()).await.unwrap().len(), 2);
    st.record_human_routing(&HumanRouting {
        ticket_id: TicketId::new(5).unwrap(),
        at: at(30),
        queue_id: Some(4),
        priority: None,
        issue_type: None,
        sub_issue_type: Some(101),
        resource_id: Some(12),
        category: Some("password-reset".parse().unwrap()),
        status: None,
        changed_by: Some(29_682_885),
    })
    .await
    .unwrap();
    let seen = &st.human_routings(TicketId::new(5).unwrap()).await.unwrap()[0];
    assert_eq!((seen.queue_id, seen.category.as_ref().map(|c| c.as_str())), (Some(4), Some("password-reset")));
    assert_eq!(
        st.ticket_decisions(TicketId::new(5).unwrap()).await.unwrap().len(),
        2,
        "human routings are not decisions"
    );
}

pub(super) fn approval(id: &str) -> ApprovalRecord {
    ApprovalRecord {
        id: id.into(),
        ticket_id: TicketId::new(9).unwrap(),
        category: Category::new("password-reset").unwrap(),
        action_id: ActionId::new(format!("act-{id}")).unwrap(),
        state: ApprovalState::Pending,
        created_at: at(0),
        expires_at: at(24 * 60),
        decision_event_key: "e1".into(),
        draft: Some("draft".into()),
        decided_by: None,
        decided_at: None,
        note: None,
        guard: Some(TicketGuard {
            status: 1,
            assigned_resource_id: None,
            contract_id: Some(11),
            company_id: 5,
            queue_id: Some(3),
        }),
        executed_at: None,
    }
}

pub async fn approvals_move_once(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    assert_eq!(st.create_approval(&approval("a1")).await.unwrap(), Claim::Claimed);
    assert!(matches!(st.create_approval(&approval("a1")).await.unwrap(), Claim::Existing(_)));
    assert_eq!(st.approvals_in_state(ApprovalState::Pending, 10).await.unwrap().len(), 1);
    let mut approved = approval("a1");
    approved.state = ApprovalState::Approved;
    approved.decided_by = Some("ana@msp.example".into());
    let mut rejected = approved.clone();
    rejected.state = ApprovalState::Rejected;
    let (a, b) = tokio::join!(st.decide_approval(&approved), st.decide_approval(&rejected));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| **o == Transition::Done).count(), 1, "{outcomes:?}");
    let now = st.approval("a1").await.unwrap().unwrap();
    assert_ne!(now.state, ApprovalState::Pending);
    assert!(st.approvals_in_state(ApprovalState::Pending, 10).await.unwrap().is_empty());
    assert_eq!(st.approvals_in_state(now.state, 10).await.unwrap().len(), 1);
    // Reuse after a decision is refused, and reports the current record.
    let mut expired = approval("a1");
    expired.state = ApprovalState::Expired;
    assert!(
        matches!(st.decide_approval(&expired).await.unwrap(), Transition::Refused(Some(r)) if r.state == now.state)
    );
    assert!(st.decide_approval(&approval("a1")).await.is_err(), "moving to pending is not a decision");
    // A same-state update (executed_at) only applies in the expected state.
    let mut executed = st.approval("a1").await.unwrap().unwrap();
    executed.executed_at = Some(at(5));
    assert_eq!(st.update_approval(&executed, now.state).await.unwrap(), Transition::Done);
    assert_eq!(st.approval("a1").await.unwrap().unwrap().executed_at, Some(at(5)));
    assert!(matches!(st.update_approval(&executed, ApprovalState::Pending).await.unwrap(), Transition::Refused(_)));
    assert!(st.approval("nope").await.unwrap().is_none());
}

pub async fn decisions_by_day_and_approvals_by_month(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    // at(0) is 2026-11-02 09:00 UTC: e1 and e3 that day, e2 the next, e4 the day before.
    for (ticket, key, min) in [(5, "e1", 0), (6, "e2", 24 * 60), (7, "e3", 14 * 60 + 59), (8, "e4", -10 * 60)] {
        st.save_decision(&decision(ticket, key, min)).await.unwrap();
    }
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let keys = |v: Vec<DecisionRecord>| v.into_iter().map(|d| d.event_key).collect::<Vec<_>>();
    assert_eq!(keys(st.decisions_on(day(2)).await.unwrap()), ["e1", "e3"], "oldest first, that day only");
    assert_eq!(keys(st.decisions_on(day(3)).await.unwrap()), ["e2"]);
    assert_eq!(keys(st.decisions_on(day(1)).await.unwrap()), ["e4"]);
    assert!(st.decisions_on(day(4)).await.unwrap().is_empty());

    // a1 and a2 created in November, a3 in October; a1 and a3 approved, a2 still pending.
    let mut october = approval("a3");
    october.created_at = at(-3 * 24 * 60);
    for a in [approval("a1"), approval("a2"), october] {
        st.create_approval(&a).await.unwrap();
    }
    for id in ["a1", "a3"] {
        let mut a = st.approval(id).await.unwrap().unwrap();
        a.state = ApprovalState::Approved;
        a.decided_at = Some(at(5));
        assert_eq!(st.decide_approval(&a).await.unwrap(), Transition::Done);
    }
    let ids = |v: Vec<ApprovalRecord>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(st.approvals_created_in_month(ApprovalState::Approved, 2026, 11).await.unwrap()), ["a1"]);
    assert_eq!(ids(st.approvals_created_in_month(ApprovalState::Approved, 2026, 10).await.unwrap()), ["a3"]);
    assert_eq!(ids(st.approvals_created_in_month(ApprovalState::Pending, 2026, 11).await.unwrap()), ["a2"]);
    assert!(st.approvals_created_in_month(ApprovalState::Rejected, 2026, 11).await.unwrap().is_empty());
    assert!(st.approvals_created_in_month(ApprovalState::Approved, 2025, 11).await.unwrap().is_empty());
}

pub async fn ledger_is_exactly_once(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    let t = at(0);
    let rec = LedgerRecord {
        action_id: ActionId::new("act-1").unwrap(),
        ticket_id: TicketId::new(9).unwrap(),
        contract_id: ContractId::new(11).unwrap(),
        span: WorkSpan::new(t, t + Duration::seconds(8)).unwrap(),
        ledger: LedgerState::Pending,
        stored: None,
    };
    assert_eq!(st.ledger_claim(&rec).await.unwrap(), Claim::Claimed);
    assert_eq!(st.ledger_claim(&rec).await.unwrap(), Claim::Existing(rec.clone()));
    let id = TimeEntryId::new(77).unwrap();
    // What Autotask stored is kept with the written state.
    let read = StoredEntry { billing_code_id: Some(9), hours_to_bill: Some(0.25), ..Default::default() };
    let with_read = LedgerRecord { stored: Some(read.clone()), ..rec.clone() };
    assert_eq!(st.ledger_written(&with_read, id).await.unwrap(), Transition::Done);
    assert!(matches!(
        st.ledger_written(&rec, TimeEntryId::new(78).unwrap()).await.unwrap(),
        Transition::Refused(Some(_))
    ));
    assert!(matches!(st.ledger_refused(&rec, "late").await.unwrap(), Transition::Refused(_)));
    let stored = st.ledger(&rec.action_id).await.unwrap().unwrap();
    assert_eq!(stored.ledger, LedgerState::Written { time_entry_id: id });
    assert_eq!(stored.stored, Some(read));
    assert!(
        matches!(st.ledger_claim(&rec).await.unwrap(), Claim::Existing(r) if r.ledger == LedgerState::Written { time_entry_id: id })
    );
    assert_eq!(st.ticket_ledger(TicketId::new(9).unwrap()).await.unwrap().len(), 1);
}

pub async fn phases_keep_history(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    let cat = Category::new("mfa-enrollment").unwrap();
    assert!(st.phase(&cat).await.unwrap().is_none());
    for (i, phase) in [Phase::Shadow, Phase::HumanInTheLoop, Phase::Autonomous].into_iter().enumerate() {
        st.set_phase(&PhaseRecord {
            category: cat.clone(),
            phase,
            changed_at: at(i as i64),
            changed_by: "weekly-metrics".into(),
            reason: format!("step {i}"),
        })
        .await
        .unwrap();
    }
    assert_eq!(st.phase(&cat).await.unwrap().unwrap().phase, Phase::Autonomous);
    let history = st.phase_history(10).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.phase).collect::<Vec<_>>(),
        [Phase::Autonomous, Phase::HumanInTheLoop, Phase::Shadow]
    );
    assert_eq!(st.phases().await.unwrap().len(), 1);
}

pub async fn kill_switch_keeps_who_and_when(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    assert!(st.kill_switch_history(10).await.unwrap().is_empty());
    let flip = |on: bool, min: i64, by: &str, via: &str| KillSwitchChange {
        on,
        changed_at: at(min),
        changed_by: by.into(),
        via: via.into(),
    };
    st.set_kill_switch(&flip(true, 0, "alice", "atpilot kill-switch")).await.unwrap();
    assert!(st.settings().await.unwrap().kill_switch);
    st.set_kill_switch(&flip(false, 5, "dashboard", "dashboard")).await.unwrap();
    assert!(!st.settings().await.unwrap().kill_switch);
    st.set_kill_switch(&flip(true, 9, "bob", "atpilot kill-switch (through atpilot dev)")).await.unwrap();
    assert!(st.settings().await.unwrap().kill_switch, "the handlers read settings().kill_switch");
    let h = st.kill_switch_history(10).await.unwrap();
    assert_eq!(
        h.iter().map(|c| (c.on, c.changed_by.as_str())).collect::<Vec<_>>(),
        [(true, "bob"), (false, "dashboard"), (true, "alice")]
    );
    assert_eq!(h[0], flip(true, 9, "bob", "atpilot kill-switch (through atpilot dev)"));
    assert_eq!(st.kill_switch_history(1).await.unwrap().len(), 1);
    // A flip to what it already is records nothing; a real one does.
    assert!(!st.flip_kill_switch(&flip(true, 11, "carol", "dashboard")).await.unwrap());
    assert_eq!(st.kill_switch_history(10).await.unwrap().len(), 3);
    assert!(st.flip_kill_switch(&flip(false, 12, "carol", "dashboard")).await.unwrap());
    assert!(!st.settings().await.unwrap().kill_switch);
    assert_eq!(st.kill_switch_history(10).await.unwrap()[0].changed_by, "carol");
}

pub async fn settings_cache_snapshots_and_counters(s: Arc<dyn StateStore>) {
    let st = State::new(s);
    assert!(!st.settings().await.unwrap().kill_switch);
    st.set_settings(&Settings { kill_switch: true }).await.unwrap();
    assert!(st.settings().await.unwrap().kill_switch);

    let now = Utc::now();
    st.cache_put("picklist:Tickets", &json!({"queues": [1, 2]}), now, 3600).await.unwrap();
    assert_eq!(st.cache_get::<serde_json::Value>("picklist:Tickets").await.unwrap().unwrap()["queues"][1], 2);
    st.cache_put("stale", &1, now - Duration::hours(2), 3600).await.unwrap();
    assert_eq!(st.cache_get::<i32>("stale").await.unwrap(), None);

    st.put_snapshot("2026-W44", &json!({"week": 44})).await.unwrap();
    st.put_snapshot("2026-W45", &json!({"week": 45})).await.unwrap();
    let snaps = st.snapshots(10).await.unwrap();
    assert_eq!(snaps[0].0, "2026-W45");
    assert_eq!(snaps[1].1["week"], 44);

    assert_eq!(st.hourly_count("autonomous", now).await.unwrap(), 0);
    assert_eq!(st.bump_hourly("autonomous", now).await.unwrap(), 1);
    assert_eq!(st.bump_hourly("autonomous", now).await.unwrap(), 2);
    assert_eq!(st.hourly_count("autonomous", now).await.unwrap(), 2);
    assert_eq!(st.hourly_count("autonomous", now + Duration::hours(1)).await.unwrap(), 0);
}
