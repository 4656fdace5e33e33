//! Messages between functions (queue bodies), versioned by shape.

use atpilot_domain::{ActionId, Category, ContractId, ContractKind, TicketId, WorkSpan};
use serde::{Deserialize, Serialize};

/// Where a ticket event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventSource {
    Create,
    Update,
    /// Found by the reconciler: no webhook delivered it.
    Reconcile,
}

/// intake → classify: one ticket event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketEvent {
    pub ticket_id: TicketId,
    /// Unique per event: `<webhook guid>:<ticket>:<sequence>` or `reconcile:<ticket>:<timestamp>`.
    pub event_key: String,
    pub source: EventSource,
    /// Names of the fields the event says changed.
    #[serde(default)]
    pub changed_fields: Vec<String>,
    /// Payload values of those fields.
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The resource who caused it.
    pub person_id: Option<i64>,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

/// classify/approval → time-entry: one action that earned one time entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeEntryJob {
    pub action_id: ActionId,
    pub ticket_id: TicketId,
    /// The contract the decision was made on; the entry is refused if the ticket's contract differs.
    pub contract_id: ContractId,
    pub contract_kind: ContractKind,
    pub category: Category,
    /// The measured work.
    pub span: WorkSpan,
    /// What the agent did, and who approved it.
    pub summary: String,
    /// Time & Materials: complete the ticket once the entry is written.
    pub complete_after: bool,
}

/// A queue body type: what a message of its queue is, in words for errors.
pub trait QueueMessage: serde::de::DeserializeOwned {
    /// The queue's name, as alerts and dead letters show it.
    const QUEUE: &'static str;
    /// What one message is ("a ticket event").
    const WHAT: &'static str;
    /// The ticket it concerns.
    fn ticket(&self) -> TicketId;
}

impl QueueMessage for TicketEvent {
    const QUEUE: &'static str = "classify";
    const WHAT: &'static str = "a ticket event";
    fn ticket(&self) -> TicketId {
        self.ticket_id
    }
}

impl QueueMessage for TimeEntryJob {
    const QUEUE: &'static str = "time-entry";
    const WHAT: &'static str = "a time-entry job";
    fn ticket(&self) -> TicketId {
        self.ticket_id
    }
}
