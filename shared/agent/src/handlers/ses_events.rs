//! SES's reports on the e-mails it took, through the configuration set's
//! EventBridge destination (source `aws.ses`; detail-types "Email
//! Delivered", "Email Bounced", "Email Complaint Received", "Email
//! Rejected", "Email Delivery Delayed"; the detail is SES's event record:
//! `eventType`, `mail.messageId`, and `delivery` / `bounce` / `complaint` /
//! `reject` / `deliveryDelay`). Source: Amazon EventBridge events reference,
//! "Amazon Simple Email Service events"; SES developer guide, "Contents of
//! event data that Amazon SES publishes".
//!
//! An approval request's e-mail moves from accepted to delivered, or to
//! failed with the reason (a bounce, a complaint, a rejection), which alerts
//! the operator once a day; e-mails atpilot keeps no delivery for (reports,
//! alerts) are only logged.

use crate::deps::Deps;
use crate::error::HandlerError;
use atpilot_store::records::DeliveryState;
use serde_json::Value;

/// What an SES event changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SesEventOutcome {
    /// The delivery of this approval request now has this state.
    Recorded { approval_id: String, state: DeliveryState },
    /// Not an approval request's e-mail, or an event that changes nothing (a delay).
    Ignored(String),
}

/// The reason a message failed, from the event's detail.
fn failure(event_type: &str, detail: &Value) -> Option<String> {
    let s = |p: &str| detail.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    match event_type {
        "Bounce" => {
            let who: Vec<String> = detail
                .pointer("/bounce/bouncedRecipients")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| {
                    let code = r.get("diagnosticCode").and_then(Value::as_str).unwrap_or("no diagnostic");
                    format!("{} ({code})", r.get("emailAddress").and_then(Value::as_str).unwrap_or("?"))
                })
                .collect();
            Some(format!(
                "bounced ({} {}): {}; check the approver's address in the category's approvers",
                s("/bounce/bounceType"),
                s("/bounce/bounceSubType"),
                who.join(", ")
            ))
        }
        "Reject" => Some(format!("SES rejected it ({})", s("/reject/reason"))),
        _ => None,
    }
}

/// Records one SES event on the approval request's delivery it concerns.
pub async fn record_ses_event(deps: &Deps, detail: &Value) -> Result<SesEventOutcome, HandlerError> {
    let event_type = detail.get("eventType").and_then(Value::as_str).unwrap_or_default();
    let Some(message_id) = detail.pointer("/mail/messageId").and_then(Value::as_str) else {
        return Err(HandlerError::permanent("the SES event has no mail.messageId"));
    };
    let Some(mut d) = deps.state.delivery_by_message(message_id).await? else {
        return Ok(SesEventOutcome::Ignored(format!("{event_type} for message {message_id}, not an approval request")));
    };
    let at = detail.pointer(&format!("/{}/timestamp", event_type_key(event_type))).and_then(Value::as_str);
    match (event_type, failure(event_type, detail)) {
        ("Complaint", _) => {
            // A complaint comes after delivery: still delivered, and the operator is told.
            d.state = DeliveryState::Delivered;
            d.answer = format!(
                "delivered, then marked as spam by the recipient (SES message id {message_id}); SES may suppress the address"
            );
            let id = format!("delivery-complaint#{}", chrono::Utc::now().format("%Y-%m-%d"));
            let message = format!("The approval request e-mail to {} was marked as spam: {}.", d.recipient, d.answer);
            crate::alerts::raise(deps, id, "approval e-mail marked as spam", None, message).await?;
        }
        ("Delivery", _) => {
            d.state = DeliveryState::Delivered;
            d.answer = format!(
                "delivered to the recipient's mail server at {} (SES message id {message_id})",
                at.unwrap_or("?")
            );
        }
        (_, Some(why)) => {
            d.state = DeliveryState::Failed;
            d.answer = format!("{why} (SES message id {message_id})");
            let id = format!("delivery-failed#email#{}", chrono::Utc::now().format("%Y-%m-%d"));
            let message = format!(
                "The approval request e-mail to {} was not delivered: {}. The request is on the dashboard.",
                d.recipient, d.answer
            );
            crate::alerts::raise(deps, id, "approval request not delivered", None, message).await?;
        }
        _ => return Ok(SesEventOutcome::Ignored(format!("{event_type} for message {message_id}: nothing to record"))),
    }
    d.at = chrono::Utc::now();
    deps.state.put_delivery(&d).await?;
    tracing::info!(approval = %d.approval_id, recipient = %d.recipient, state = d.state.as_str(), answer = %d.answer, "SES event recorded");
    Ok(SesEventOutcome::Recorded { approval_id: d.approval_id, state: d.state })
}

/// The detail's key for an event type's own object (`Delivery` → `delivery`).
fn event_type_key(event_type: &str) -> String {
    let mut c = event_type.chars();
    c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
}
