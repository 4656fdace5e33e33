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

fn b64_lines(bytes: &[u8]) -> String {
    use base64::Engine;
    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
    s.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\r\n")
}

/// RFC 2047 encoded-word for a header with non-ASCII text.
fn header_text(s: &str) -> String {
    use base64::Engine;
    if s.is_ascii() && !s.contains(['\r', '\n']) {
        s.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(s.replace(['\r', '\n'], " ")))
    }
}

/// The raw MIME message SES v2 sends (`Content.Raw`): multipart/mixed with a
/// multipart/alternative (plain text, HTML) and the attachments, all base64.
pub fn mime_message(from: &str, e: &Email, boundary_seed: &str) -> Vec<u8> {
    let mixed = format!("mixed-{boundary_seed}");
    let alt = format!("alt-{boundary_seed}");
    let mut m = String::new();
    m.push_str(&format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\n",
        e.to.join(", "),
        header_text(&e.subject)
    ));
    m.push_str(&format!("Content-Type: multipart/mixed; boundary=\"{mixed}\"\r\n\r\n"));
    m.push_str(&format!("--{mixed}\r\nContent-Type: multipart/alternative; boundary=\"{alt}\"\r\n\r\n"));
    for (ct, body) in [("text/plain", &e.text), ("text/html", &e.html)] {
        m.push_str(&format!(
            "--{alt}\r\nContent-Type: {ct}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64_lines(body.as_bytes())
        ));
    }
    m.push_str(&format!("--{alt}--\r\n"));
    for a in &e.attachments {
        let name = a.filename.replace(['"', '\r', '\n'], "_");
        m.push_str(&format!(
            "--{mixed}\r\nContent-Type: {}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            a.content_type,
            b64_lines(&a.bytes)
        ));
    }
    m.push_str(&format!("--{mixed}--\r\n"));
    m.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_has_both_parts_and_attachments() {
        let e = Email {
            to: vec!["a@msp.example".into(), "b@msp.example".into()],
            subject: "Wöchentlicher Bericht".into(),
            html: "<p>Hi</p>".into(),
            text: "Hi".into(),
            attachments: vec![Attachment {
                filename: "approvals.csv".into(),
                content_type: "text/csv".into(),
                bytes: b"a,b\n1,2\n".to_vec(),
            }],
        };
        let raw = String::from_utf8(mime_message("atpilot@msp.example", &e, "x1")).unwrap();
        assert!(raw.contains("To: a@msp.example, b@msp.example\r\n"));
        assert!(raw.contains("Subject: =?UTF-8?B?"));
        assert!(raw.contains("Content-Type: text/plain; charset=UTF-8"));
        assert!(raw.contains("Content-Type: text/html; charset=UTF-8"));
        assert!(raw.contains("filename=\"approvals.csv\""));
        assert!(raw.ends_with("--mixed-x1--\r\n"));
        assert!(raw.lines().all(|l| l.len() <= 998), "SMTP line limit");
    }

    #[test]
    fn teams_body_wraps_the_card() {
        let m = TeamsMessage {
            summary: "s".into(),
            card: serde_json::json!({"type": "AdaptiveCard", "version": "1.4", "body": []}),
        };
        let b = m.webhook_body();
        assert_eq!(b["type"], "message");
        assert_eq!(b["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(b["attachments"][0]["content"]["type"], "AdaptiveCard");
    }
}
