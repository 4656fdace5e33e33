//! The state port: a small single-table item store with the conditional
//! writes every "exactly once" step relies on.
//!
//! ## Single-table design (DynamoDB and embedded alike)
//!
//! | record | pk | sk | gsi1pk / gsi1sk | state | TTL |
//! |---|---|---|---|---|---|
//! | processed webhook event | `event#<key>` | `event` | – | – | yes (dedup window) |
//! | decision | `ticket#<id>` | `decision#<event key>` | `decisions` / `<rfc3339>#<ticket>` | – | – |
//! | human routing beside a prediction | `ticket#<id>` | `human#<rfc3339>` | – | – | – |
//! | approval request | `approval#<id>` | `approval` | `approvals#<state>` / `<rfc3339>` | pending/approved/rejected/expired | – |
//! | category phase | `category#<name>` | `phase` | `phases` / `<name>` | – | – |
//! | phase history | `category#<name>` | `history#<rfc3339>` | `phase-history` / `<rfc3339>#<name>` | – | – |
//! | settings (kill switch) | `settings` | `global` | – | – | – |
//! | kill-switch history | `settings` | `kill-switch#<rfc3339>` | `kill-switch-history` / `<rfc3339>` | – | – |
//! | time-entry ledger | `ledger#<action>` | `ledger` | `ledger#<ticket>` / `<action>` | pending/written/refused | – |
//! | weekly snapshot | `snapshot#<week>` | `snapshot` | `snapshots` / `<week>` | – | – |
//! | cached reference data | `cache#<name>` | `cache` | – | – | yes |
//! | counters (rate limits) | `counter#<name>` | `counter` | – | – | yes |
//! | outbox message | `outbox#<id>` | `outbox` | `outbox` / `<rfc3339>#<id>` | – | – |
//! | stored report | `report#<kind>` | `at#<rfc3339>` | – | – | – |
//! | alert (once per cause) | `alert#<id>` | `alert` | `alerts` / `<rfc3339>#<id>` | – | – |
//! | an alert's e-mail outcome | `alert#<id>` | `email` | – | – | – |
//! | reply (how the customer heard) | `reply#<action>` | `reply` | `replies` / `<rfc3339>#<ticket>` | – | – |
//! | internal note posted | `note#<action>` | `note` | – | – | – |
//! | dead letter | `dead-letter#<id>` | `dead-letter` | `dead-letters` / `<rfc3339>#<id>` | – | – |
//! | approval message delivery | `approval#<id>` | `delivery#<channel>#<recipient>` | `provider-message#<id>` / `delivery` | – | – |
//! | runbook run | `runbook#<action>` | `runbook` | waiting runs / `<deadline>#<action>` | – | – |
//! | KB draft | `kb#<ticket>` | `draft` | `kb-drafts` / `<rfc3339>#<ticket>` | – | – |
//! | status update | `status-update#<ticket>` | `<id>` | `status-updates` / `<rfc3339>#<id>` | yes | – |
//! | a ticket's open status-update slot | `status-update-open#<ticket>` | `slot` | – | the holding id | – |
//! | sign-in subject binding | `signin#<email>` | `binding` | `signin-bindings` / `<email>` | – | – |
//!
//! Items whose `expires_at` has passed read as absent everywhere, because
//! DynamoDB deletes expired items lazily (up to days later).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// One stored item. `data` is the record itself; the other attributes exist
/// for keys, conditions, indexes and expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub key: Key,
    /// Workflow state, the subject of [`Condition::StateIs`].
    pub state: Option<String>,
    /// Secondary index key (`gsi1pk`, `gsi1sk`).
    pub gsi1: Option<Key>,
    /// Epoch seconds after which the item reads as absent (DynamoDB TTL).
    pub expires_at: Option<i64>,
    pub data: serde_json::Value,
}

impl Item {
    pub fn new(key: Key, data: serde_json::Value) -> Self {
        Self { key, state: None, gsi1: None, expires_at: None, data }
    }
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }
    pub fn with_gsi1(mut self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.gsi1 = Some(Key::new(pk, sk));
        self
    }
    pub fn expiring_at(mut self, epoch_seconds: i64) -> Self {
        self.expires_at = Some(epoch_seconds);
        self
    }
    pub fn is_expired(&self, now_epoch: i64) -> bool {
        matches!(self.expires_at, Some(t) if t <= now_epoch)
    }
}

/// The condition a write must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Write unconditionally.
    Always,
    /// Only if no live item has this key (an expired one counts as absent).
    NotExists,
    /// Only if a live item has this key and is in this state.
    StateIs(String),
}

/// The outcome of a conditional write. A failed condition is not an error:
/// it is how "exactly once" is told apart from "already done".
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Written,
    /// The condition failed; `current` is the live item as read right after, if any.
    ConditionFailed {
        current: Option<Item>,
    },
}

impl WriteOutcome {
    pub fn written(&self) -> bool {
        matches!(self, WriteOutcome::Written)
    }
}

/// Which key a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
}

/// All items of one partition, optionally with a sort-key prefix, in sort-key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk_prefix: Option<String>,
    pub descending: bool,
    pub limit: Option<usize>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Self { index: Index::Primary, pk: pk.into(), sk_prefix: None, descending: false, limit: None }
    }
    pub fn gsi1(pk: impl Into<String>) -> Self {
        Self { index: Index::Gsi1, ..Self::partition(pk) }
    }
    pub fn prefix(mut self, p: impl Into<String>) -> Self {
        self.sk_prefix = Some(p.into());
        self
    }
    pub fn newest_first(mut self) -> Self {
        self.descending = true;
        self
    }
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
}

/// Why the store failed. Conditional failures are not errors (see [`WriteOutcome`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    #[error("state store refused the request: {0}")]
    Rejected(String),
    #[error("stored item {key:?} is corrupt: {why}")]
    Corrupt { key: Key, why: String },
    #[error("record does not serialize: {0}")]
    Encode(String),
}

/// The state port.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// Writes `item` if `condition` holds, atomically.
    async fn put(&self, item: Item, condition: Condition) -> Result<WriteOutcome, StoreError>;
    /// Reads a live item (strongly consistent).
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    /// Reads live items of a partition.
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError>;
    /// Deletes an item; deleting a missing item is not an error.
    async fn delete(&self, key: &Key) -> Result<(), StoreError>;
    /// Atomically adds `by` to the counter at `key` (created at 0, with the
    /// given expiry) and returns the new value.
    async fn increment(&self, key: &Key, by: i64, expires_at: Option<i64>) -> Result<i64, StoreError>;
}

pub(crate) fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}
