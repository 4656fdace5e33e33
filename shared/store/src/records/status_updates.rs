//! Proactive status updates on long-running tickets: each proposal, at most
//! one pending per ticket, and what became of it (posted, rejected, dropped,
//! expired), for the approval page, the dashboard and the weekly report.
//! Re-exported from [`crate::records`].

use super::{Claim, State, Transition, decode, encode, ts};
use crate::state::*;
use atpilot_domain::{ActionId, TicketId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a proposal stands. Pending → approved → posted; pending →
/// rejected, dropped (the customer heard from someone meanwhile, or the
/// ticket changed) or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusUpdateState {
    Pending,
    /// Approved; the note is being posted (a crash leaves it here and the
    /// next scan finishes it).
    Approved,
    /// The customer-visible note exists and was read back.
    Posted,
    Rejected,
    Dropped,
    Expired,
}

impl StatusUpdateState {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusUpdateState::Pending => "pending",
            StatusUpdateState::Approved => "approved",
            StatusUpdateState::Posted => "posted",
            StatusUpdateState::Rejected => "rejected",
            StatusUpdateState::Dropped => "dropped",
            StatusUpdateState::Expired => "expired",
        }
    }
}

/// One proposed status update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdateRecord {
    /// Also the action id of its note and time entry: `su-<ticket>-<epoch seconds>`.
    pub id: ActionId,
    pub ticket_id: TicketId,
    pub ticket_number: String,
    pub state: StatusUpdateState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Who may approve it: the assigned technician, else `[status_updates] approvers`.
    pub approvers: Vec<String>,
    /// The draft as atpilot wrote it (plain text, every piece scrubbed).
    pub draft: String,
    /// What the drafter left out of it, and why (shown to the approver).
    #[serde(default)]
    pub left_out: Vec<String>,
    /// The ticket's latest customer-visible activity when proposed.
    pub last_customer_visible: Option<DateTime<Utc>>,
    /// Days open and days without customer contact when proposed.
    pub open_days: f64,
    pub quiet_days: f64,
    /// The text approved (the draft, or the approver's edit).
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub edited: bool,
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected, dropped or expired.
    #[serde(default)]
    pub note: Option<String>,
    /// The customer-visible note, once written and read back.
    #[serde(default)]
    pub note_id: Option<i64>,
    #[serde(default)]
    pub posted_at: Option<DateTime<Utc>>,
    /// How the customer heard of it (the reply path's sentence).
    #[serde(default)]
    pub told: Option<String>,
}

impl StatusUpdateRecord {
    /// The id a proposal made at `at` for `ticket` gets.
    pub fn id_for(ticket: TicketId, at: DateTime<Utc>) -> ActionId {
        ActionId::new(format!("su-{ticket}-{}", at.timestamp()))
            .unwrap_or_else(|_| unreachable!("digits and dashes are an action id"))
    }
}

/// Records live in their ticket's partition (its timeline reads them in one
/// query); the ticket is read from the id (`su-<ticket>-<epoch>`).
fn key(id: &str) -> Key {
    let ticket = id.strip_prefix("su-").and_then(|rest| rest.split('-').next()).unwrap_or("?");
    Key::new(format!("status-update#{ticket}"), id)
}

/// The ticket's one open slot: its state is the id of the proposal holding it.
fn slot(ticket: TicketId) -> Key {
    Key::new(format!("status-update-open#{ticket}"), "slot")
}

impl State {
    fn status_update_item(r: &StatusUpdateRecord) -> Result<Item, StoreError> {
        Ok(Item::new(key(r.id.as_str()), encode(r)?)
            .with_state(r.state.as_str())
            .with_gsi1("status-updates", format!("{}#{}", ts(r.created_at), r.id)))
    }

    fn slot_item(r: &StatusUpdateRecord) -> Item {
        Item::new(slot(r.ticket_id), serde_json::json!({ "id": r.id.as_str(), "at": r.created_at.timestamp() }))
            .with_state(r.id.as_str())
            .expiring_at(r.expires_at.timestamp())
    }

    /// Stores a new pending proposal unless its ticket already has one
    /// pending or approved (being posted): `Claimed`, or `Existing` with that
    /// one. A slot left by a decided proposal, or by one whose record was
    /// never written (a crash, five minutes on), is taken over (compare-and-swap).
    pub async fn propose_status_update(&self, r: &StatusUpdateRecord) -> Result<Claim<StatusUpdateRecord>, StoreError> {
        let mut r = r.clone();
        r.state = StatusUpdateState::Pending;
        let mut condition = Condition::NotExists;
        for _ in 0..3 {
            match self.store.put(Self::slot_item(&r), condition).await? {
                WriteOutcome::Written => {
                    self.store.put(Self::status_update_item(&r)?, Condition::NotExists).await?;
                    return Ok(Claim::Claimed);
                }
                WriteOutcome::ConditionFailed { current } => {
                    let Some(current) = current else {
                        condition = Condition::NotExists;
                        continue;
                    };
                    let Some(holder) = current.state.clone() else {
                        return Err(StoreError::Corrupt { key: current.key, why: "a slot without its holder".into() });
                    };
                    match self.status_update(&holder).await? {
                        // Pending, or approved and being posted: the ticket's one update.
                        Some(p) if matches!(p.state, StatusUpdateState::Pending | StatusUpdateState::Approved) => {
                            return Ok(Claim::Existing(p));
                        }
                        // Claimed, its record not written yet: another proposer is between its two writes.
                        None if r.created_at.timestamp() - current.data["at"].as_i64().unwrap_or(0) < 300 => {
                            return Err(StoreError::Rejected(format!(
                                "a status update for ticket {} is being proposed right now",
                                r.ticket_id
                            )));
                        }
                        _ => condition = Condition::StateIs(holder),
                    }
                }
            }
        }
        Err(StoreError::Rejected(format!("the open status-update slot of ticket {} kept changing", r.ticket_id)))
    }

    /// The proposal with this id.
    pub async fn status_update(&self, id: &str) -> Result<Option<StatusUpdateRecord>, StoreError> {
        self.store.get(&key(id)).await?.as_ref().map(decode).transpose()
    }

    /// Moves a proposal that is still in `from` to `r.state` (with `r`'s fields).
    pub async fn transition_status_update(
        &self,
        r: &StatusUpdateRecord,
        from: StatusUpdateState,
    ) -> Result<Transition<StatusUpdateRecord>, StoreError> {
        match self.store.put(Self::status_update_item(r)?, Condition::StateIs(from.as_str().into())).await? {
            WriteOutcome::Written => Ok(Transition::Done),
            WriteOutcome::ConditionFailed { current } => {
                Ok(Transition::Refused(current.as_ref().map(decode).transpose()?))
            }
        }
    }

    /// The ticket's proposals, oldest first.
    pub async fn ticket_status_updates(&self, ticket: TicketId) -> Result<Vec<StatusUpdateRecord>, StoreError> {
        let mut v: Vec<StatusUpdateRecord> = self
            .store
            .query(&Query::partition(format!("status-update#{ticket}")))
            .await?
            .iter()
            .map(decode)
            .collect::<Result<_, _>>()?;
        v.sort_by_key(|r| r.created_at);
        Ok(v)
    }

    /// Proposals, newest first.
    pub async fn status_updates(&self, limit: usize) -> Result<Vec<StatusUpdateRecord>, StoreError> {
        let q = Query::gsi1("status-updates").newest_first().limit(limit);
        self.store.query(&q).await?.iter().map(decode).collect()
    }
}
