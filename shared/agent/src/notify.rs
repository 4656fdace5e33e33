//! The notifier port: e-mail (Amazon SES v2 in AWS) and Microsoft Teams
//! (an Adaptive Card posted to an incoming-webhook / Workflows URL). Locally
//! the outbox adapter stores messages instead of sending them, and the
//! dashboard's outbox page shows them.

use crate::ports::PortError;
use async_trait::async_trait;
use atpilot_store::State;
use atpilot_store::records::OutboxRecord;

/// A file attached to an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An e-mail with HTML and plain-text parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

/// A Teams message: one Adaptive Card.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamsMessage {
    /// A short summary (shown in notifications and kept in the outbox).
    pub summary: String,
    /// The Adaptive Card (the `content` of the attachment).
    pub card: serde_json::Value,
}

impl TeamsMessage {
    /// The body Teams incoming webhooks and Workflows accept: a `message` with one Adaptive Card attachment.
    pub fn webhook_body(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": self.card,
            }]
        })
    }
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends an e-mail; returns the provider's message id.
    async fn send_email(&self, email: &Email) -> Result<String, PortError>;
    async fn post_teams(&self, message: &TeamsMessage) -> Result<(), PortError>;
}

/// Stores messages in the state store instead of sending them (`atpilot dev`).
pub struct OutboxNotifier {
    state: State,
}

impl OutboxNotifier {
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[async_trait]
impl Notifier for OutboxNotifier {
    async fn send_email(&self, e: &Email) -> Result<String, PortError> {
        let id = new_id();
        let rec = OutboxRecord {
            id: id.clone(),
            at: chrono::Utc::now(),
            channel: "email".into(),
            to: e.to.clone(),
            subject: e.subject.clone(),
            body: e.html.clone(),
            text: Some(e.text.clone()),
            attachments: e.attachments.iter().map(|a| a.filename.clone()).collect(),
        };
        self.state.put_outbox(&rec).await.map_err(|e| PortError::Transient(e.to_string()))?;
        Ok(id)
    }

    async fn post_teams(&self, m: &TeamsMessage) -> Result<(), PortError> {
        let rec = OutboxRecord {
            id: new_id(),
            at: chrono::Utc::now(),
            channel: "teams".into(),
            to: vec![],
            subject: m.summary.clone(),
            body: serde_json::to_string_pretty(&m.webhook_body()).unwrap_or_default(),
            text: None,
            attachments: vec![],
        };
        self.state.put_outbox(&rec).await.map_err(|e| PortError::Transient(e.to_string()))
    }
}
