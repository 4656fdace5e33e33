//! Runbook runs, one per action: claimed before the provider is called, so a
//! redelivered message or a second approval click never runs it twice, and
//! finished with what it did (never a secret). Re-exported from
//! [`crate::records`].

use super::{Claim, State, decode, encode};
use crate::state::*;
use atpilot_domain::{
    ActionId, ActionPlan, Category, ContractId, ContractKind, PriorityId, QueueId, Runbook, RunbookOutcome, TicketId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One action's runbook run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookRecord {
    pub action_id: ActionId,
    pub ticket_id: TicketId,
    pub started_at: DateTime<Utc>,
    /// `None` while it runs (or when it was cut short between the provider and this record).
    pub outcome: Option<RunbookOutcome>,
    /// The customer reply written from the verified result (no secret in it).
    #[serde(default)]
    pub reply: Option<String>,
    /// Set while the provider's callback is awaited: how to finish the resolution then.
    #[serde(default)]
    pub resume: Option<Resume>,
}

/// A resolution waiting for its runbook's callback: what it needs to finish
/// (the ticket itself is read again then).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    pub runbook: Runbook,
    pub category: Category,
    pub queue_id: Option<QueueId>,
    pub priority: Option<PriorityId>,
    pub contract_id: ContractId,
    pub contract_kind: ContractKind,
    #[serde(default)]
    pub plan: ActionPlan,
    /// The time entry's summary.
    pub summary: String,
    /// When the agent's work started (the time entry measures to the verified result).
    pub started: DateTime<Utc>,
    /// After this, the callback is refused and the run reported failed.
    pub deadline: DateTime<Utc>,
}

/// The index of runs awaiting a callback.
const WAITING: &str = "runbooks-waiting";

fn key(action: &ActionId) -> Key {
    Key::new(format!("runbook#{action}"), "runbook")
}

impl State {
    /// Claims the run: `Claimed` when this call may run it, `Existing` when a
    /// run was started (or finished) before.
    pub async fn claim_runbook(&self, r: &RunbookRecord) -> Result<Claim<RunbookRecord>, StoreError> {
        let item = Item::new(key(&r.action_id), encode(r)?);
        self.put_once(item, "runbook claim").await
    }

    /// Records what the claimed run did. A run awaiting its callback is also
    /// listed by its deadline ([`State::runbooks_waiting`]) until it is finished.
    pub async fn finish_runbook(&self, r: &RunbookRecord) -> Result<(), StoreError> {
        let mut item = Item::new(key(&r.action_id), encode(r)?);
        if let (Some(o), Some(resume)) = (&r.outcome, &r.resume) {
            if o.pending() {
                item = item.with_gsi1(WAITING, format!("{}#{}", super::ts(resume.deadline), r.action_id));
            }
        }
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    /// Runs awaiting their provider's callback, the earliest deadline first.
    pub async fn runbooks_waiting(&self, limit: usize) -> Result<Vec<RunbookRecord>, StoreError> {
        self.store.query(&Query::gsi1(WAITING).limit(limit)).await?.iter().map(decode).collect()
    }

    /// The run of an action, if one was claimed.
    pub async fn runbook(&self, action: &ActionId) -> Result<Option<RunbookRecord>, StoreError> {
        self.store.get(&key(action)).await?.as_ref().map(decode).transpose()
    }
}
