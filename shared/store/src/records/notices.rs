//! What atpilot tells humans, kept for the dashboard: the outbox of sent
//! messages, stored reports, alerts, dead letters, how customers heard of
//! replies and the internal notes atpilot posted. Re-exported from [`crate::records`].

use super::{Claim, State, decode, encode, ts};
use crate::state::*;
use atpilot_domain::{ActionId, TicketId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A message the agent sent (or, locally, would have sent): kept so the
/// local outbox page can show it and so every notification is auditable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub id: String,
    pub at: DateTime<Utc>,
    /// "email" or "teams".
    pub channel: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The HTML body of an e-mail, or the Adaptive Card JSON of a Teams message.
    pub body: String,
    /// The plain-text part of an e-mail.
    pub text: Option<String>,
    /// Attachment file names.
    #[serde(default)]
    pub attachments: Vec<String>,
}

impl State {
    /// Records a sent message (newest first in [`State::outbox`]).
    pub async fn put_outbox(&self, m: &OutboxRecord) -> Result<(), StoreError> {
        let item = Item::new(Key::new(format!("outbox#{}", m.id), "outbox"), encode(m)?)
            .with_gsi1("outbox", format!("{}#{}", ts(m.at), m.id));
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    pub async fn outbox(&self, limit: usize) -> Result<Vec<OutboxRecord>, StoreError> {
        self.store.query(&Query::gsi1("outbox").newest_first().limit(limit)).await?.iter().map(decode).collect()
    }
}

/// A generated report kept for the dashboard (the routing audit's latest run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    /// What the report is, e.g. "audit".
    pub kind: String,
    pub generated_at: DateTime<Utc>,
    /// One line on what it covers ("990 tickets since 2026-08-30, 512 API requests").
    pub summary: String,
    /// The readable report (a full HTML page).
    pub html: String,
    /// The machine-readable report.
    pub json: serde_json::Value,
}

/// DynamoDB refuses items over 400 KB; keep a margin for keys and attribute names.
pub const MAX_REPORT_BYTES: usize = 380 * 1024;

impl State {
    /// Stores a report as the newest of its kind. A report too large for one
    /// item is refused with a clear error before anything is written.
    pub async fn put_report(&self, r: &ReportRecord) -> Result<(), StoreError> {
        if r.kind.is_empty() || !r.kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(StoreError::Encode(format!("report kind {:?} must be letters, digits and '-'", r.kind)));
        }
        let data = encode(r)?;
        let size = data.to_string().len();
        if size > MAX_REPORT_BYTES {
            return Err(StoreError::Encode(format!(
                "the {} report is {} KB, over the {} KB a stored item can hold; write it to a file with the CLI instead (atpilot audit --output FILE)",
                r.kind,
                size / 1024,
                MAX_REPORT_BYTES / 1024
            )));
        }
        let item = Item::new(Key::new(format!("report#{}", r.kind), format!("at#{}", ts(r.generated_at))), data);
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    /// The newest report of this kind, if any was stored.
    pub async fn latest_report(&self, kind: &str) -> Result<Option<ReportRecord>, StoreError> {
        self.store
            .query(&Query::partition(format!("report#{kind}")).prefix("at#").newest_first().limit(1))
            .await?
            .first()
            .map(decode)
            .transpose()
    }
}

/// Something a human must look at (a time entry Autotask refused, …): shown
/// on the dashboard, and sent to `notifications.alerts` once per id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Unique per cause, e.g. `time-entry#act-…`: the same cause alerts once.
    pub id: String,
    pub at: DateTime<Utc>,
    /// What kind of problem, e.g. "time-entry-failed".
    pub kind: String,
    pub ticket_id: Option<TicketId>,
    /// The sentence a human reads: what happened and what to do.
    pub message: String,
    /// Raised by a version that records its e-mail's outcome
    /// ([`AlertEmailRecord`]): with none, the raiser stopped before sending.
    /// False for alerts kept from before (their e-mail went out or not,
    /// unrecorded: never sent again).
    #[serde(default)]
    pub email_tracked: bool,
}

impl State {
    /// Records an alert once: `Claimed` when this call stored it (the caller
    /// then notifies), `Existing` when the same cause was alerted before.
    pub async fn raise_alert(&self, a: &AlertRecord) -> Result<Claim<AlertRecord>, StoreError> {
        let item = Item::new(Key::new(format!("alert#{}", a.id), "alert"), encode(a)?)
            .with_gsi1("alerts", format!("{}#{}", ts(a.at), a.id));
        self.put_once(item, "alert").await
    }

    /// Alerts, newest first.
    pub async fn alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
        self.store.query(&Query::gsi1("alerts").newest_first().limit(limit)).await?.iter().map(decode).collect()
    }

    /// Records the latest outcome of an alert's e-mail (replacing the previous one).
    pub async fn put_alert_email(&self, e: &AlertEmailRecord) -> Result<(), StoreError> {
        let item = Item::new(Key::new(format!("alert#{}", e.alert_id), "email"), encode(e)?);
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    /// How the alert's e-mail fared, if atpilot tried to send one.
    pub async fn alert_email(&self, alert_id: &str) -> Result<Option<AlertEmailRecord>, StoreError> {
        self.store.get(&Key::new(format!("alert#{alert_id}"), "email")).await?.as_ref().map(decode).transpose()
    }
}

/// How an alert's e-mail to `notifications.alerts` fared: `Accepted` (SES
/// took it), `Retrying` (throttled or unreachable: the reconciler sends it
/// again) or `Failed` (refused for good, e.g. an unverified sender).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEmailRecord {
    pub alert_id: String,
    pub state: DeliveryState,
    /// The provider's message id when accepted, its error otherwise.
    pub answer: String,
    pub attempts: u32,
    pub at: DateTime<Utc>,
}

/// How the customer heard of a resolution's reply: the note itself, an
/// e-mail atpilot sent, or a tenant workflow rule it relies on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyRecord {
    pub action_id: ActionId,
    pub ticket_id: TicketId,
    pub at: DateTime<Utc>,
    /// The reply e-mail atpilot sent (SES), and to whom.
    #[serde(default)]
    pub emailed_to: Option<String>,
    /// The tenant workflow rule relied on to notify the contact of the note, if configured.
    #[serde(default)]
    pub workflow_rule: Option<String>,
    /// One sentence: whether and how the customer was told.
    pub told: String,
    /// When the ticket was created (Autotask's `createDate`): the reply's
    /// first-response time is `at` − this. Absent in older records.
    #[serde(default)]
    pub ticket_created: Option<DateTime<Utc>>,
    /// The agent acted on its own (no approval was asked): the reply is its
    /// first response. Absent (false) in older records.
    #[serde(default)]
    pub acted_alone: bool,
}

impl ReplyRecord {
    /// Seconds from the ticket's creation to this reply, when known.
    pub fn response_secs(&self) -> Option<f64> {
        self.ticket_created.map(|c| (self.at - c).num_milliseconds().max(0) as f64 / 1000.0)
    }
}

impl State {
    /// Records how the customer heard of an action's reply: `Claimed` the
    /// first time (the caller then sends the e-mail), `Existing` after.
    pub async fn claim_reply(&self, r: &ReplyRecord) -> Result<Claim<ReplyRecord>, StoreError> {
        let item = Item::new(Key::new(format!("reply#{}", r.action_id), "reply"), encode(r)?)
            .with_gsi1("replies", format!("{}#{}", ts(r.at), r.ticket_id));
        self.put_once(item, "reply claim").await
    }

    /// Every reply posted on one UTC day, oldest first (one day's items in memory).
    pub async fn replies_on(&self, day: chrono::NaiveDate) -> Result<Vec<ReplyRecord>, StoreError> {
        self.store
            .query(&Query::gsi1("replies").prefix(day.format("%Y-%m-%d").to_string()))
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// How the customer heard of an action's reply, if a reply was posted.
    pub async fn reply(&self, action: &ActionId) -> Result<Option<ReplyRecord>, StoreError> {
        self.store.get(&Key::new(format!("reply#{action}"), "reply")).await?.as_ref().map(decode).transpose()
    }
}

/// An internal note atpilot posted for an action (its suggestion, or why it
/// escalated), with the id Autotask gave it: the ticket's timeline and the
/// dashboard's Action column list it from this record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteRecord {
    pub action_id: ActionId,
    pub ticket_id: TicketId,
    pub at: DateTime<Utc>,
    /// The TicketNote's `id` in Autotask.
    pub note_id: i64,
    /// The note's `title`.
    pub title: String,
}

impl State {
    /// Records an action's internal note once: `Claimed` the first time,
    /// `Existing` (the first record) on a redelivery.
    pub async fn record_note(&self, n: &NoteRecord) -> Result<Claim<NoteRecord>, StoreError> {
        self.put_once(Item::new(Key::new(format!("note#{}", n.action_id), "note"), encode(n)?), "note record").await
    }

    /// The internal note an action posted, if it posted one.
    pub async fn note(&self, action: &ActionId) -> Result<Option<NoteRecord>, StoreError> {
        self.store.get(&Key::new(format!("note#{action}"), "note")).await?.as_ref().map(decode).transpose()
    }
}

/// A queued message that can never be processed as it is (not a message of
/// its queue, or refused for good by its handler): kept whole, with why, so
/// nothing is lost, and acknowledged so the messages behind it move on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterRecord {
    /// `<queue>#<message id>`: a redelivery of the same message stores nothing new.
    pub id: String,
    pub at: DateTime<Utc>,
    /// The queue it came from ("classify", "time-entry").
    pub queue: String,
    /// The ticket, when the body names one.
    pub ticket_id: Option<TicketId>,
    /// The message body as received (at most [`MAX_DEAD_LETTER_BODY`] bytes; longer ones are cut, and say so).
    pub body: String,
    /// Why it cannot be processed.
    pub error: String,
}

/// The most of a dead letter's body that is kept (a queue message is at most 256 KB).
pub const MAX_DEAD_LETTER_BODY: usize = 256 * 1024;

impl State {
    /// Stores a dead letter once per id: `Claimed` when this call stored it.
    pub async fn put_dead_letter(&self, d: &DeadLetterRecord) -> Result<Claim<DeadLetterRecord>, StoreError> {
        let item = Item::new(Key::new(format!("dead-letter#{}", d.id), "dead-letter"), encode(d)?)
            .with_gsi1("dead-letters", format!("{}#{}", ts(d.at), d.id));
        self.put_once(item, "dead letter").await
    }

    /// Dead letters, newest first.
    pub async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetterRecord>, StoreError> {
        self.store.query(&Query::gsi1("dead-letters").newest_first().limit(limit)).await?.iter().map(decode).collect()
    }
}

/// How an approval request's message fared on one channel for one
/// recipient. `Accepted` means the provider took it (SES returned a message
/// id; a Teams Workflows URL answered 2xx, which is not proof anyone saw it);
/// `Delivered` that SES reported the recipient's mail server took it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Accepted,
    Delivered,
    /// Failed for now (throttled, unreachable): sent again with the message's next delivery.
    Retrying,
    /// Refused for good (an unverified sender, a deleted flow): the operator was alerted.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Accepted => "accepted",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Failed => "failed",
        }
    }
}

/// One delivery of an approval request: per channel and recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub approval_id: String,
    /// "teams" or "email".
    pub channel: String,
    /// The approver's e-mail address, or "channel" for the Teams channel.
    pub recipient: String,
    pub state: DeliveryState,
    /// The provider's answer: its message id when accepted, its error otherwise.
    pub answer: String,
    pub attempts: u32,
    pub at: DateTime<Utc>,
    /// The provider's message id (SES), by which its later events find this delivery.
    #[serde(default)]
    pub provider_id: Option<String>,
}

impl DeliveryState {
    /// Whether the provider has taken (or delivered) the message: nothing to resend.
    pub fn sent(self) -> bool {
        matches!(self, DeliveryState::Accepted | DeliveryState::Delivered)
    }
}

impl State {
    /// Records the latest outcome of one delivery (replacing the previous one).
    pub async fn put_delivery(&self, d: &DeliveryRecord) -> Result<(), StoreError> {
        let key = Key::new(format!("approval#{}", d.approval_id), format!("delivery#{}#{}", d.channel, d.recipient));
        let mut item = Item::new(key, encode(d)?);
        if let Some(id) = &d.provider_id {
            item = item.with_gsi1(format!("provider-message#{id}"), "delivery");
        }
        self.store.put(item, Condition::Always).await.map(|_| ())
    }

    /// The delivery whose provider message id is `id`, if any.
    pub async fn delivery_by_message(&self, id: &str) -> Result<Option<DeliveryRecord>, StoreError> {
        let found = self.store.query(&Query::gsi1(format!("provider-message#{id}")).limit(1)).await?;
        found.first().map(decode).transpose()
    }

    /// Every delivery of one approval request, by channel then recipient.
    pub async fn deliveries(&self, approval_id: &str) -> Result<Vec<DeliveryRecord>, StoreError> {
        let q = Query::partition(format!("approval#{approval_id}")).prefix("delivery#");
        self.store.query(&q).await?.iter().map(decode).collect()
    }
}
