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

/// An image the HTML shows by reference (`<img src="cid:{content_id}">`),
/// sent inline beside it (multipart/related): Outlook and Gmail show these,
/// where they drop SVG and `data:` images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineImage {
    /// The Content-ID, without angle brackets (e.g. `billing-chart@atpilot`).
    pub content_id: String,
    /// e.g. `image/png`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An e-mail with HTML and plain-text parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Images the HTML refers to by `cid:`.
    pub inline: Vec<InlineImage>,
}

impl Email {
    /// The HTML with each `cid:` reference replaced by `to(image)` (a file
    /// name beside a saved copy, or a `data:` URI), for viewing outside a mail client.
    pub fn html_with(&self, to: impl Fn(&InlineImage) -> String) -> String {
        self.inline.iter().fold(self.html.clone(), |html, i| html.replace(&format!("cid:{}", i.content_id), &to(i)))
    }
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

/// The raw MIME message SES v2 sends (`Content.Raw`), built with
/// `mail-builder`: multipart/alternative (plain text, HTML); inside
/// multipart/related with the inline images when there are any; inside
/// multipart/mixed with the attachments when there are any. Headers are
/// RFC 2047-encoded and lines folded by the library.
pub fn mime_message(from: &str, e: &Email) -> Result<Vec<u8>, PortError> {
    use mail_builder::MessageBuilder;
    use mail_builder::mime::MimePart;
    let alternative = MimePart::new(
        "multipart/alternative",
        vec![MimePart::new("text/plain", e.text.as_str()), MimePart::new("text/html", e.html.as_str())],
    );
    let mut body = alternative;
    if !e.inline.is_empty() {
        let mut parts = vec![body];
        parts.extend(
            e.inline.iter().map(|i| {
                MimePart::new(i.content_type.as_str(), i.bytes.as_slice()).inline().cid(i.content_id.as_str())
            }),
        );
        body = MimePart::new("multipart/related", parts);
    }
    if !e.attachments.is_empty() {
        let mut parts = vec![body];
        parts.extend(
            e.attachments
                .iter()
                .map(|a| MimePart::new(a.content_type.as_str(), a.bytes.as_slice()).attachment(a.filename.as_str())),
        );
        body = MimePart::new("multipart/mixed", parts);
    }
    let to: Vec<&str> = e.to.iter().map(String::as_str).collect();
    MessageBuilder::new()
        .from(from)
        .to(to)
        .subject(e.subject.replace(['\r', '\n'], " "))
        .body(body)
        .write_to_vec()
        .map_err(|err| PortError::Permanent(format!("the e-mail could not be encoded: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_nests_text_html_inline_images_and_attachments_as_mail_clients_expect() {
        use mail_parser::{MessageParser, MimeHeaders};
        let png = b"\x89PNG\r\n\x1a\n fake".to_vec();
        let e = Email {
            to: vec!["a@msp.example".into(), "b@msp.example".into()],
            subject: "Wöchentlicher Bericht\r\nBcc: x@evil.example".into(),
            html: "<p>Hi</p><img src=\"cid:chart@atpilot\">".into(),
            text: "Hi".into(),
            attachments: vec![Attachment {
                filename: "approvals.csv".into(),
                content_type: "text/csv".into(),
                bytes: b"a,b\n1,2\n".to_vec(),
            }],
            inline: vec![InlineImage {
                content_id: "chart@atpilot".into(),
                content_type: "image/png".into(),
                bytes: png.clone(),
            }],
        };
        let raw = mime_message("atpilot@msp.example", &e).unwrap();
        assert!(raw.split(|b| *b == b'\n').all(|l| l.len() <= 998), "SMTP line limit");
        let m = MessageParser::default().parse(&raw).expect("parses");
        assert_eq!(m.subject(), Some("Wöchentlicher Bericht  Bcc: x@evil.example"), "one header, no injection");
        assert!(m.bcc().is_none());
        let to: Vec<_> = m.to().unwrap().iter().filter_map(|a| a.address()).collect();
        assert_eq!(to, ["a@msp.example", "b@msp.example"]);
        assert_eq!(m.content_type().map(|c| c.subtype()), Some(Some("mixed")));
        let kinds: Vec<String> = m
            .parts
            .iter()
            .map(|p| {
                let ct = p
                    .content_type()
                    .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                    .unwrap_or_default();
                let cid = p.content_id().map(|c| format!(" <{c}>")).unwrap_or_default();
                let name = p.attachment_name().map(|n| format!(" {n}")).unwrap_or_default();
                format!("{ct}{cid}{name}")
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "multipart/mixed",
                "multipart/related",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "image/png <chart@atpilot>",
                "text/csv approvals.csv"
            ]
        );
        assert_eq!(m.body_html(0).as_deref(), Some("<p>Hi</p><img src=\"cid:chart@atpilot\">"));
        assert_eq!(m.body_text(0).as_deref(), Some("Hi"));
        let image = m.parts.iter().find(|p| p.content_id() == Some("chart@atpilot")).unwrap();
        assert_eq!(image.contents(), png.as_slice(), "intact");
        assert_eq!(image.content_disposition().map(|d| d.ctype()), Some("inline"));
        assert_eq!(e.html_with(|i| format!("{}.png", i.content_id)), "<p>Hi</p><img src=\"chart@atpilot.png\">");
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
