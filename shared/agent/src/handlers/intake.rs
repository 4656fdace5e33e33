//! The intake function: Autotask's webhook in, one queued ticket event out,
//! answered fast. (What no webhook delivered, the [`reconciler`](super::reconciler) queues.)

use crate::deps::Deps;
use crate::messages::{EventSource, TicketEvent};
use atpilot_autotask::webhook::{WebhookAction, WebhookError, verify_and_parse};
use atpilot_domain::TicketId;
use atpilot_store::{OutMessage, QueueError};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Callouts larger than this are refused (413): a ticket event is a few KiB.
pub(crate) const MAX_BODY_BYTES: usize = 256 * 1024;
/// How long a processed event key is remembered (Autotask retries within minutes).
pub(crate) const EVENT_TTL_SECS: i64 = 3 * 24 * 3600;

/// An HTTP answer, independent of the server that sends it (Lambda or axum).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Reply {
    fn new(status: u16, body: serde_json::Value) -> Self {
        Self { status, body }
    }
    fn error(status: u16, message: impl Into<String>) -> Self {
        Self::new(status, json!({ "error": message.into() }))
    }
}

/// The queue's de-duplication id: at most 128 characters of `[A-Za-z0-9:._-]`.
fn dedup_id(event_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let clean: String =
        event_key.chars().map(|c| if c.is_ascii_alphanumeric() || ":._-".contains(c) { c } else { '_' }).collect();
    if clean.len() <= 128 {
        clean
    } else {
        Sha256::digest(event_key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Queues a ticket event for the classify function (one FIFO group per ticket).
pub(crate) async fn enqueue(deps: &Deps, ev: &TicketEvent) -> Result<(), QueueError> {
    let body = serde_json::to_string(ev).map_err(|e| QueueError::InvalidMessage(e.to_string()))?;
    deps.classify_queue
        .send(OutMessage { group_id: format!("ticket-{}", ev.ticket_id), dedup_id: dedup_id(&ev.event_key), body })
        .await
}

/// Handles one callout: verify the signature over the raw bytes, parse, drop
/// the agent's own changes, de-duplicate, enqueue. Nothing is enqueued for a
/// refused request; every ignored-on-purpose event still gets a 2xx.
pub async fn handle_webhook(deps: &Deps, signature: Option<&str>, body: &[u8], now: DateTime<Utc>) -> Reply {
    if body.len() > MAX_BODY_BYTES {
        return Reply::error(413, format!("body of {} bytes is over the {MAX_BODY_BYTES}-byte limit", body.len()));
    }
    let ev = match verify_and_parse(deps.webhook_secret.expose(), body, signature) {
        Ok(ev) => ev,
        Err(
            e @ (WebhookError::MissingSignature | WebhookError::BadSignature | WebhookError::MalformedSignature(_)),
        ) => {
            tracing::warn!(error = %e, "refused an unsigned or badly signed callout");
            return Reply::error(401, e.to_string());
        }
        Err(e) => return Reply::error(400, format!("not a ticket webhook payload: {e}")),
    };
    if !ev.entity_type.eq_ignore_ascii_case("ticket") {
        return Reply::error(400, format!("not a ticket event: EntityType is {:?}", ev.entity_type));
    }
    let source = match &ev.action {
        WebhookAction::Create => EventSource::Create,
        WebhookAction::Update => EventSource::Update,
        WebhookAction::Deactivated => {
            tracing::error!(guid = %ev.guid, "Autotask deactivated the webhook: the reconciler keeps tickets flowing; re-register with `atpilot setup`");
            return Reply::new(200, json!({ "status": "ignored", "reason": "webhook deactivated notice recorded" }));
        }
        other => {
            return Reply::new(
                200,
                json!({ "status": "ignored", "reason": format!("{other:?} events change nothing the agent does") }),
            );
        }
    };
    let Ok(ticket_id) = TicketId::new(ev.id) else {
        return Reply::error(400, format!("Id {} is not a ticket id", ev.id));
    };
    if ev.person_id.is_some_and(|p| deps.own_resources().contains(&p)) {
        return Reply::new(200, json!({ "status": "ignored", "reason": "caused by the agent itself (loop guard)" }));
    }
    let event_key = match ev.sequence_number {
        Some(seq) => format!("{}:{}:{}", ev.guid, ev.id, seq),
        None => {
            use sha2::{Digest, Sha256};
            let h: String = Sha256::digest(body).iter().take(12).map(|b| format!("{b:02x}")).collect();
            format!("{}:{}:{h}", ev.guid, ev.id)
        }
    };
    match deps.state.claim_event(&event_key, now, EVENT_TTL_SECS).await {
        Ok(true) => {}
        Ok(false) => return Reply::new(200, json!({ "status": "duplicate", "event": event_key })),
        Err(e) => return Reply::error(503, format!("state store unavailable, Autotask will retry: {e}")),
    }
    let msg = TicketEvent {
        ticket_id,
        event_key: event_key.clone(),
        source,
        changed_fields: ev.fields.keys().cloned().collect(),
        fields: ev.fields.clone(),
        person_id: ev.person_id,
        received_at: now,
    };
    if let Err(e) = enqueue(deps, &msg).await {
        // Release the claim so Autotask's retry is not taken for a duplicate.
        let _ = deps.state.release_event(&event_key).await;
        return Reply::error(503, format!("queue unavailable, Autotask will retry: {e}"));
    }
    Reply::new(202, json!({ "status": "queued", "event": event_key }))
}
