//! Typed records over the state port: what atpilot stores, keyed per the
//! single-table design in [`crate::state`]. Every "exactly once" step is a
//! conditional write here, so both adapters get it for free.

use crate::state::*;
use atpilot_domain::time_entry::LedgerState;
use atpilot_domain::{
    Action, ActionId, Category, ContractId, Phase, Prediction, Reason, TicketId, TimeEntryId, WorkSpan,
};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

mod kb;
mod notices;
mod runbooks;
mod signin;
mod status_updates;
pub use kb::{KbDraftRecord, KbDraftStatus};
pub use notices::{
    AlertEmailRecord, AlertRecord, DeadLetterRecord, DeliveryRecord, DeliveryState, MAX_DEAD_LETTER_BODY,
    MAX_REPORT_BYTES, NoteRecord, OutboxRecord, ReplyRecord, ReportRecord,
};
pub use runbooks::{Resume, RunbookRecord};
pub use signin::SubjectBinding;
pub use status_updates::{StatusUpdateRecord, StatusUpdateState};

/// A stored decision: the prediction, the action and every reason, in words too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub ticket_id: TicketId,
    /// The webhook event (or reconciler pass) that produced it.
    pub event_key: String,
    pub decided_at: DateTime<Utc>,
    pub phase: Phase,
    pub prediction: Prediction,
    pub action: Action,
    pub reasons: Vec<Reason>,
    /// The reasons as sentences, as shown to dispatchers.
    pub explanation: Vec<String>,
    pub draft: Option<String>,
}

/// What a human did with a ticket, stored beside the agent's prediction:
/// the Autotask fields their change carried (`None`: not in the callout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HumanRouting {
    pub ticket_id: TicketId,
    pub at: DateTime<Utc>,
    pub queue_id: Option<i64>,
    pub priority: Option<i64>,
    pub issue_type: Option<i64>,
    pub sub_issue_type: Option<i64>,
    /// The ticket's `assignedResourceID` as the change set it.
    pub resource_id: Option<i64>,
    /// The category the human's issue / sub-issue type stands for (its
    /// picklist label as a category name), when they set one.
    #[serde(default)]
    pub category: Option<Category>,
    /// The ticket's `status` as the change set it.
    #[serde(default)]
    pub status: Option<i64>,
    /// Who made the change: the callout's `PersonID` (a resource id).
    #[serde(default)]
    pub changed_by: Option<i64>,
}

impl HumanRouting {
    /// Whether the change routed the ticket (queue, priority, issue or
    /// sub-issue type, assigned resource), not only set its status.
    pub fn routes(&self) -> bool {
        [self.queue_id, self.priority, self.issue_type, self.sub_issue_type, self.resource_id]
            .iter()
            .any(Option::is_some)
    }
}

/// States of an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalState {
    Pending,
    Approved,
    Rejected,
    Expired,
}

impl ApprovalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Expired => "expired",
        }
    }
}

/// An approval request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub id: String,
    pub ticket_id: TicketId,
    pub category: Category,
    pub action_id: ActionId,
    pub state: ApprovalState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The decision this request carries out.
    pub decision_event_key: String,
    pub draft: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// The ticket as it was when the request was made; an approval of a
    /// ticket that changed since is refused.
    #[serde(default)]
    pub guard: Option<TicketGuard>,
    /// When the approved action was carried out in Autotask.
    #[serde(default)]
    pub executed_at: Option<DateTime<Utc>>,
}

impl ApprovalRecord {
    /// This request expired by atpilot at `now` (nobody chose to), with why in
    /// `note`: the record to move it with ([`State::decide_approval`]).
    pub fn expired_by_atpilot(&self, now: DateTime<Utc>, note: impl Into<String>) -> ApprovalRecord {
        ApprovalRecord {
            state: ApprovalState::Expired,
            decided_by: None,
            decided_at: Some(now),
            note: Some(note.into()),
            ..self.clone()
        }
    }
}

/// What must not have changed between an approval request and its approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketGuard {
    pub status: i64,
    pub assigned_resource_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub company_id: i64,
    /// Absent in requests made before the queue joined the guard.
    #[serde(default)]
    pub queue_id: Option<i64>,
}

/// A category's phase, with who set it and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub category: Category,
    pub phase: Phase,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub reason: String,
}

/// Global settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub kill_switch: bool,
}

/// One flip of the kill switch: who, when and from where (kept in its history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillSwitchChange {
    pub on: bool,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    /// Where it was flipped: "dashboard", "atpilot kill-switch", …
    pub via: String,
}

/// The time-entry ledger entry of one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRecord {
    pub action_id: ActionId,
    pub ticket_id: TicketId,
    pub contract_id: ContractId,
    pub span: WorkSpan,
    pub ledger: LedgerState,
    /// The entry as Autotask stored it, read back after the write (tenant rules may change it).
    #[serde(default)]
    pub stored: Option<atpilot_domain::StoredEntry>,
}

impl LedgerRecord {
    fn state_name(&self) -> &'static str {
        match self.ledger {
            LedgerState::Pending => "pending",
            LedgerState::Written { .. } => "written",
            LedgerState::Refused { .. } => "refused",
        }
    }
}

/// Outcome of a claim on an "exactly once" step.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim<T> {
    /// This caller claimed it and must do the work.
    Claimed,
    /// Someone already did (or is doing) it; here is what is stored.
    Existing(T),
}

/// Outcome of a state transition.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition<T> {
    Done,
    /// The record was not in the expected state; here it is as it is now.
    Refused(Option<T>),
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn encode<T: Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::Encode(e.to_string()))
}

pub(crate) fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_value(item.data.clone())
        .map_err(|e| StoreError::Corrupt { key: item.key.clone(), why: e.to_string() })
}

/// The typed repository every function uses.
#[derive(Clone)]
pub struct State {
    store: Arc<dyn StateStore>,
}

impl State {
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    // ---- webhook events -------------------------------------------------

    /// Claims a webhook event for processing. `true` the first time within
    /// `ttl_secs`; redeliveries get `false`.
    pub async fn claim_event(&self, event_key: &str, now: DateTime<Utc>, ttl_secs: i64) -> Result<bool, StoreError> {
        // A token of this claim: when the first attempt committed but its answer was lost, the
        // SDK's retry meets the condition failure, and the stored token says the claim is ours.
        let token = uuid::Uuid::new_v4().to_string();
        let item = Item::new(Self::event_key(event_key), serde_json::json!({ "seen_at": ts(now), "claim": token }))
            .expiring_at(now.timestamp() + ttl_secs);
        match self.store.put(item, Condition::NotExists).await? {
            WriteOutcome::Written => Ok(true),
            WriteOutcome::ConditionFailed { current } => {
                Ok(current.is_some_and(|c| c.data.get("claim").and_then(|t| t.as_str()) == Some(token.as_str())))
            }
        }
    }

    /// Gives a claimed event back (its processing failed before anything
    /// happened), so that the sender's retry is not taken for a duplicate.
    pub async fn release_event(&self, event_key: &str) -> Result<(), StoreError> {
        self.store.delete(&Self::event_key(event_key)).await
    }

    fn event_key(event_key: &str) -> Key {
        Key::new(format!("event#{event_key}"), "event")
    }

    // ---- decisions -------------------------------------------------------

    /// Stores a decision once per ticket event.
    pub async fn save_decision(&self, d: &DecisionRecord) -> Result<Claim<DecisionRecord>, StoreError> {
        let item =
            Item::new(Key::new(format!("ticket#{}", d.ticket_id), format!("decision#{}", d.event_key)), encode(d)?)
                .with_gsi1("decisions", format!("{}#{}", ts(d.decided_at), d.ticket_id));
        self.put_once(item, "decision write").await
    }

    /// Decisions, newest first.
    pub async fn recent_decisions(&self, limit: usize) -> Result<Vec<DecisionRecord>, StoreError> {
        self.store.query(&Query::gsi1("decisions").newest_first().limit(limit)).await?.iter().map(decode).collect()
    }

    /// Every decision made on one UTC day, oldest first (one day's items in memory).
    pub async fn decisions_on(&self, day: NaiveDate) -> Result<Vec<DecisionRecord>, StoreError> {
        self.store
            .query(&Query::gsi1("decisions").prefix(day.format("%Y-%m-%d").to_string()))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Every decision about one ticket, oldest first.
    pub async fn ticket_decisions(&self, ticket: TicketId) -> Result<Vec<DecisionRecord>, StoreError> {
        self.store
            .query(&Query::partition(format!("ticket#{ticket}")).prefix("decision#"))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Records what a human did, beside the agent's prediction.
    pub async fn record_human_routing(&self, r: &HumanRouting) -> Result<(), StoreError> {
        let item = Item::new(Key::new(format!("ticket#{}", r.ticket_id), format!("human#{}", ts(r.at))), encode(r)?);
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    pub async fn human_routings(&self, ticket: TicketId) -> Result<Vec<HumanRouting>, StoreError> {
        self.store
            .query(&Query::partition(format!("ticket#{ticket}")).prefix("human#"))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    // ---- approvals -------------------------------------------------------

    fn approval_item(a: &ApprovalRecord) -> Result<Item, StoreError> {
        Ok(Item::new(Key::new(format!("approval#{}", a.id), "approval"), encode(a)?)
            .with_state(a.state.as_str())
            .with_gsi1(format!("approvals#{}", a.state.as_str()), ts(a.created_at)))
    }

    /// Creates a pending approval request (once per id).
    pub async fn create_approval(&self, a: &ApprovalRecord) -> Result<Claim<ApprovalRecord>, StoreError> {
        let mut a = a.clone();
        a.state = ApprovalState::Pending;
        self.put_once(Self::approval_item(&a)?, "approval write").await
    }

    pub async fn approval(&self, id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
        self.store.get(&Key::new(format!("approval#{id}"), "approval")).await?.as_ref().map(decode).transpose()
    }

    /// Moves a pending request to its outcome, exactly once: of two
    /// concurrent deciders, one gets `Done` and the other `Refused`.
    pub async fn decide_approval(&self, decided: &ApprovalRecord) -> Result<Transition<ApprovalRecord>, StoreError> {
        if decided.state == ApprovalState::Pending {
            return Err(StoreError::Rejected(
                "an approval can only move from pending to approved, rejected or expired".into(),
            ));
        }
        match self.store.put(Self::approval_item(decided)?, Condition::StateIs("pending".into())).await? {
            WriteOutcome::Written => Ok(Transition::Done),
            WriteOutcome::ConditionFailed { current } => {
                Ok(Transition::Refused(current.as_ref().map(decode).transpose()?))
            }
        }
    }

    /// Rewrites an approval that is still in `expected` state (e.g. to record
    /// that its approved action was executed), without changing its state.
    pub async fn update_approval(
        &self,
        a: &ApprovalRecord,
        expected: ApprovalState,
    ) -> Result<Transition<ApprovalRecord>, StoreError> {
        match self.store.put(Self::approval_item(a)?, Condition::StateIs(expected.as_str().into())).await? {
            WriteOutcome::Written => Ok(Transition::Done),
            WriteOutcome::ConditionFailed { current } => {
                Ok(Transition::Refused(current.as_ref().map(decode).transpose()?))
            }
        }
    }

    pub async fn approvals_in_state(
        &self,
        state: ApprovalState,
        limit: usize,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        self.store
            .query(&Query::gsi1(format!("approvals#{}", state.as_str())).newest_first().limit(limit))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// The approvals now in `state` that were created in one UTC calendar month (`year`, `month` 1 to 12), oldest first.
    pub async fn approvals_created_in_month(
        &self,
        state: ApprovalState,
        year: i32,
        month: u32,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        self.store
            .query(&Query::gsi1(format!("approvals#{}", state.as_str())).prefix(format!("{year:04}-{month:02}")))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    // ---- phases and settings ---------------------------------------------

    pub async fn phase(&self, category: &Category) -> Result<Option<PhaseRecord>, StoreError> {
        self.store.get(&Key::new(format!("category#{category}"), "phase")).await?.as_ref().map(decode).transpose()
    }

    /// Sets a category's phase and appends to its history.
    pub async fn set_phase(&self, r: &PhaseRecord) -> Result<(), StoreError> {
        let cat = r.category.as_str();
        let history =
            Item::new(Key::new(format!("category#{cat}"), format!("history#{}", ts(r.changed_at))), encode(r)?)
                .with_gsi1("phase-history", format!("{}#{cat}", ts(r.changed_at)));
        self.store.put(history, Condition::Always).await?;
        let current = Item::new(Key::new(format!("category#{cat}"), "phase"), encode(r)?).with_gsi1("phases", cat);
        self.store.put(current, Condition::Always).await.map(|_| ())
    }

    pub async fn phases(&self) -> Result<Vec<PhaseRecord>, StoreError> {
        self.store.query(&Query::gsi1("phases")).await?.iter().map(decode).collect()
    }

    /// Phase changes of every category, newest first.
    pub async fn phase_history(&self, limit: usize) -> Result<Vec<PhaseRecord>, StoreError> {
        self.store.query(&Query::gsi1("phase-history").newest_first().limit(limit)).await?.iter().map(decode).collect()
    }

    pub async fn settings(&self) -> Result<Settings, StoreError> {
        Ok(self.store.get(&Key::new("settings", "global")).await?.as_ref().map(decode).transpose()?.unwrap_or_default())
    }

    pub async fn set_settings(&self, s: &Settings) -> Result<(), StoreError> {
        self.store.put(Item::new(Key::new("settings", "global"), encode(s)?), Condition::Always).await.map(|_| ())
    }

    /// Turns the kill switch on or off and appends the change (who, when,
    /// from where) to its history. The history is written first, so a flip
    /// that took effect is always in it.
    pub async fn set_kill_switch(&self, c: &KillSwitchChange) -> Result<(), StoreError> {
        let history = Item::new(Key::new("settings", format!("kill-switch#{}", ts(c.changed_at))), encode(c)?)
            .with_gsi1("kill-switch-history", ts(c.changed_at));
        self.store.put(history, Condition::Always).await?;
        let mut settings = self.settings().await?;
        settings.kill_switch = c.on;
        self.set_settings(&settings).await
    }

    /// Sets the switch and records the flip, unless it already is so (a
    /// double submit, a second `on`): then nothing is written and the answer
    /// is false. (Two flips racing within one read can both be recorded.)
    pub async fn flip_kill_switch(&self, c: &KillSwitchChange) -> Result<bool, StoreError> {
        if self.settings().await?.kill_switch == c.on {
            return Ok(false);
        }
        self.set_kill_switch(c).await?;
        Ok(true)
    }

    /// Kill-switch flips, newest first.
    pub async fn kill_switch_history(&self, limit: usize) -> Result<Vec<KillSwitchChange>, StoreError> {
        self.store
            .query(&Query::gsi1("kill-switch-history").newest_first().limit(limit))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    // ---- time-entry ledger -----------------------------------------------

    fn ledger_item(r: &LedgerRecord) -> Result<Item, StoreError> {
        Ok(Item::new(Key::new(format!("ledger#{}", r.action_id), "ledger"), encode(r)?)
            .with_state(r.state_name())
            .with_gsi1(format!("ledger#{}", r.ticket_id), r.action_id.as_str()))
    }

    /// Claims the ledger entry of an action (pending). `Existing` when the
    /// action was claimed before: the caller must then look for the entry in
    /// Autotask before writing anything.
    pub async fn ledger_claim(&self, r: &LedgerRecord) -> Result<Claim<LedgerRecord>, StoreError> {
        let mut r = r.clone();
        r.ledger = LedgerState::Pending;
        self.put_once(Self::ledger_item(&r)?, "ledger claim").await
    }

    /// pending → written, once.
    pub async fn ledger_written(
        &self,
        r: &LedgerRecord,
        id: TimeEntryId,
    ) -> Result<Transition<LedgerRecord>, StoreError> {
        let mut r = r.clone();
        r.ledger = LedgerState::Written { time_entry_id: id };
        self.ledger_transition(&r).await
    }

    /// pending → refused, once.
    pub async fn ledger_refused(&self, r: &LedgerRecord, why: &str) -> Result<Transition<LedgerRecord>, StoreError> {
        let mut r = r.clone();
        r.ledger = LedgerState::Refused { why: why.to_string() };
        self.ledger_transition(&r).await
    }

    async fn ledger_transition(&self, r: &LedgerRecord) -> Result<Transition<LedgerRecord>, StoreError> {
        match self.store.put(Self::ledger_item(r)?, Condition::StateIs("pending".into())).await? {
            WriteOutcome::Written => Ok(Transition::Done),
            WriteOutcome::ConditionFailed { current } => {
                Ok(Transition::Refused(current.as_ref().map(decode).transpose()?))
            }
        }
    }

    pub async fn ledger(&self, action: &ActionId) -> Result<Option<LedgerRecord>, StoreError> {
        self.store.get(&Key::new(format!("ledger#{action}"), "ledger")).await?.as_ref().map(decode).transpose()
    }

    pub async fn ticket_ledger(&self, ticket: TicketId) -> Result<Vec<LedgerRecord>, StoreError> {
        self.store.query(&Query::gsi1(format!("ledger#{ticket}"))).await?.iter().map(decode).collect()
    }

    // ---- weekly snapshots ------------------------------------------------

    pub async fn put_snapshot(&self, week: &str, data: &serde_json::Value) -> Result<(), StoreError> {
        let item =
            Item::new(Key::new(format!("snapshot#{week}"), "snapshot"), data.clone()).with_gsi1("snapshots", week);
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    /// Snapshots, newest week first.
    pub async fn snapshots(&self, limit: usize) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        Ok(self
            .store
            .query(&Query::gsi1("snapshots").newest_first().limit(limit))
            .await?
            .into_iter()
            .map(|i| (i.gsi1.map(|g| g.sk).unwrap_or_default(), i.data))
            .collect())
    }

    /// Writes `item` unless its key exists: `Claimed`, or the record already
    /// there (`what` names it in the error when the store refuses without one).
    async fn put_once<T: DeserializeOwned>(&self, item: Item, what: &str) -> Result<Claim<T>, StoreError> {
        match self.store.put(item, Condition::NotExists).await? {
            WriteOutcome::Written => Ok(Claim::Claimed),
            WriteOutcome::ConditionFailed { current } => Ok(Claim::Existing(decode(
                &current.ok_or_else(|| StoreError::Rejected(format!("{what} refused but nothing is stored")))?,
            )?)),
        }
    }

    // ---- cached reference data -------------------------------------------

    pub async fn cache_put<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        now: DateTime<Utc>,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let item = Item::new(Key::new(format!("cache#{name}"), "cache"), encode(value)?)
            .expiring_at(now.timestamp() + ttl_secs);
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    /// The cached value, or `None` when absent or expired.
    pub async fn cache_get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        self.store.get(&Key::new(format!("cache#{name}"), "cache")).await?.as_ref().map(decode).transpose()
    }

    // ---- rate-limit counters ---------------------------------------------

    /// Adds one to this hour's counter `name` and returns the new count.
    pub async fn bump_hourly(&self, name: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let hour = now.format("%Y-%m-%dT%H");
        self.store
            .increment(&Key::new(format!("counter#{name}#{hour}"), "counter"), 1, Some(now.timestamp() + 7200))
            .await
    }

    /// This hour's count of `name`.
    pub async fn hourly_count(&self, name: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let hour = now.format("%Y-%m-%dT%H");
        let item = self.store.get(&Key::new(format!("counter#{name}#{hour}"), "counter")).await?;
        Ok(item.and_then(|i| i.data.get("count").and_then(|c| c.as_i64())).unwrap_or(0))
    }
}
