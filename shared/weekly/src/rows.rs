//! Compact rows: what the collector keeps of the state store's records and
//! Autotask's entities (only the fields the figures need), so that every
//! figure is a pure function over them.

use atpilot_agent::handlers::classify::action_id_for;
use atpilot_autotask::entities as at;
use atpilot_domain::contract::ContractKind;
use atpilot_domain::{Action, Category};
use atpilot_store::records::{ApprovalRecord, ApprovalState, DecisionRecord};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An approval request's outcome, at the time it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalFact {
    pub ticket: i64,
    pub category: Category,
    pub state: ApprovalState,
    /// When it was approved or rejected, or when it expired.
    pub at: DateTime<Utc>,
    pub action_id: String,
    /// The event key of the decision that asked for it.
    pub decision_event_key: String,
}

impl ApprovalFact {
    pub fn of(a: &ApprovalRecord) -> Option<ApprovalFact> {
        let at = match a.state {
            ApprovalState::Pending => return None,
            ApprovalState::Approved | ApprovalState::Rejected => a.decided_at.unwrap_or(a.created_at),
            ApprovalState::Expired => a.decided_at.unwrap_or(a.expires_at),
        };
        Some(ApprovalFact {
            ticket: a.ticket_id.get(),
            category: a.category.clone(),
            state: a.state,
            at,
            action_id: a.action_id.to_string(),
            decision_event_key: a.decision_event_key.to_string(),
        })
    }
}

/// One decision of the agent about a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFact {
    pub ticket: i64,
    pub category: Category,
    pub at: DateTime<Utc>,
    /// The action id when the agent acted on its own.
    pub autonomous_action: Option<String>,
    /// The calibrated confidence of its prediction (`None` for the keyword
    /// fallback's uncalibrated score).
    pub confidence: Option<f64>,
    /// The event the decision answered (what an approval request names).
    pub event_key: String,
}

impl DecisionFact {
    pub fn of(d: &DecisionRecord) -> DecisionFact {
        let autonomous_action =
            matches!(d.action, Action::Autonomous { .. }).then(|| action_id_for(&d.event_key).to_string());
        DecisionFact {
            ticket: d.ticket_id.get(),
            category: d.prediction.category.clone(),
            at: d.decided_at,
            autonomous_action,
            confidence: d.prediction.calibrated.then(|| d.prediction.confidence.get()),
            event_key: d.event_key.to_string(),
        }
    }
}

/// A time entry as read from Autotask (only the fields the figures need).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub id: i64,
    pub ticket: Option<i64>,
    pub contract: Option<i64>,
    pub resource: Option<i64>,
    pub role: Option<i64>,
    pub hours: f64,
    pub date: Option<DateTime<Utc>>,
    pub created: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
}

impl EntryRow {
    pub fn of(e: &at::TimeEntry) -> EntryRow {
        let dt = |s: &Option<String>| s.as_deref().and_then(atpilot_autotask::entities::parse_datetime);
        EntryRow {
            id: e.id.unwrap_or(0),
            ticket: e.ticket_id,
            contract: e.contract_id,
            resource: e.resource_id,
            role: e.role_id,
            hours: e.hours_worked.unwrap_or(0.0),
            date: dt(&e.date_worked).or_else(|| dt(&e.start_date_time)),
            created: dt(&e.create_date_time),
            modified: dt(&e.last_modified_date_time),
        }
    }
}

/// A ticket as read from Autotask.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub id: i64,
    pub contract: Option<i64>,
    pub created: Option<DateTime<Utc>>,
    pub first_response: Option<DateTime<Utc>>,
}

impl TicketRow {
    pub fn of(t: &at::Ticket) -> TicketRow {
        let dt = |s: &Option<String>| s.as_deref().and_then(atpilot_autotask::entities::parse_datetime);
        TicketRow {
            id: t.id.unwrap_or(0),
            contract: t.contract_id,
            created: dt(&t.create_date),
            first_response: dt(&t.first_response_date_time),
        }
    }
}

/// A contract with what the figures need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractInfo {
    pub id: i64,
    pub name: String,
    pub kind: ContractKind,
}
