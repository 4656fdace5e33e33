//! One queued message, handled the same way by the Lambda event source and
//! the local runner: decoded leniently (customer text may carry lone
//! surrogate escapes, see `atpilot_autotask::json`), handed to its handler,
//! and, when it can never succeed, kept whole as a dead letter (dashboard,
//! alert to `notifications.alerts`) and acknowledged, so the messages of
//! the same FIFO group behind it are not held up for the queue's redrive.
//!
//! A transient failure is returned as it is: the caller leaves the message
//! (and the rest of its group) on the queue for a later delivery, and the
//! queue's own dead-letter queue takes it after `maxReceiveCount`.

use crate::alerts;
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::messages::QueueMessage;
use atpilot_domain::TicketId;
use atpilot_store::records::{Claim, DeadLetterRecord, MAX_DEAD_LETTER_BODY};

/// What became of a message that may be acknowledged.
#[derive(Debug, PartialEq)]
pub enum Delivered<O> {
    /// The handler finished with this outcome.
    Handled(O),
    /// It can never be processed: kept as dead letter `id` and alerted.
    DeadLettered { id: String },
}

/// Decodes `body` as an `M`, runs `handler` on it, and keeps a message that
/// can never succeed as a dead letter. `Err` only for transient failures
/// (including a dead letter that could not be stored): leave it queued.
pub async fn deliver<M, O, F>(
    deps: &Deps,
    message_id: &str,
    body: &str,
    handler: F,
) -> Result<Delivered<O>, HandlerError>
where
    M: QueueMessage,
    F: AsyncFnOnce(M) -> Result<O, HandlerError>,
{
    let (ticket, result) = match atpilot_autotask::json::from_str::<M>(body) {
        Ok(m) => (Some(m.ticket()), handler(m).await),
        Err(e) => {
            let error = HandlerError::permanent(format!("the message is not {}", M::WHAT)).with_source(e);
            (ticket_named_in(body), Err(error))
        }
    };
    match result {
        Ok(o) => Ok(Delivered::Handled(o)),
        Err(e) if e.is_retryable() => {
            if let Some(operation) = e.denied_operation() {
                alert_denied(deps, operation, &e).await?;
            }
            if let Some(wait) = e.retry_after() {
                alert_budget(deps, wait, &e).await?;
            }
            Err(e)
        }
        Err(e) => {
            dead_letter(deps, M::QUEUE, message_id, body, ticket, &e).await.map(|id| Delivered::DeadLettered { id })
        }
    }
}

/// One tenant-level alert a day per kind of write the tenant's security
/// level refuses: ticket after ticket meets the same refusal, and a human
/// fixes it once. The message stays queued (a transient failure).
async fn alert_denied(deps: &Deps, operation: &str, error: &HandlerError) -> Result<(), HandlerError> {
    let day = chrono::Utc::now().format("%Y-%m-%d");
    let minutes = crate::adapters::autotask_rest::DENIED_WRITE_PAUSE.as_secs() / 60;
    let message = format!(
        "Autotask refuses atpilot's API user to {operation} ({error}). atpilot paused this kind of write and tries one again every {minutes} minutes; the tickets waiting for it are retried by their queue, and past its retries they sit in its dead-letter queue (move them back once the right is granted). Fix: in Autotask, give the API user's security level the right to {operation}, then run `atpilot setup --dry-run` to check."
    );
    alerts::raise(deps, format!("autotask-permission#{operation}#{day}"), "autotask-permission", None, message)
        .await
        .map_err(|e| HandlerError::transient("alerting a refused permission").with_source(e))
}

/// One alert an hour while atpilot's own share of the Autotask budget is
/// used up: the work waits (held back on its queue until the budget frees),
/// nothing is dropped, and a human may raise `autotask.api_budget_share`.
async fn alert_budget(deps: &Deps, wait: std::time::Duration, error: &HandlerError) -> Result<(), HandlerError> {
    let hour = chrono::Utc::now().format("%Y-%m-%dT%H");
    let message = format!(
        "atpilot used up its share of the tenant's hourly Autotask budget ({error}). Tickets wait on their queue and are handled again in about {} minutes, as the hour frees requests; nothing is dropped. If this repeats, raise autotask.api_budget_share or look for what spent it (the AutotaskRequests metric).",
        wait.as_secs().div_ceil(60)
    );
    alerts::raise(deps, format!("autotask-budget#{hour}"), "autotask-budget", None, message)
        .await
        .map_err(|e| HandlerError::transient("alerting the used-up budget").with_source(e))
}

/// The `ticket_id` of a body that is JSON but not a valid message, if any.
fn ticket_named_in(body: &str) -> Option<TicketId> {
    let v: serde_json::Value = atpilot_autotask::json::from_str(body).ok()?;
    TicketId::new(v.get("ticket_id")?.as_i64()?).ok()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

async fn dead_letter(
    deps: &Deps,
    queue: &str,
    message_id: &str,
    body: &str,
    ticket: Option<TicketId>,
    error: &HandlerError,
) -> Result<String, HandlerError> {
    let id = format!("{queue}#{message_id}");
    let kept = match body.len() > MAX_DEAD_LETTER_BODY {
        true => format!("{} [cut: the message was {} bytes]", cut(body, MAX_DEAD_LETTER_BODY), body.len()),
        false => body.to_string(),
    };
    let record = DeadLetterRecord {
        id: id.clone(),
        at: chrono::Utc::now(),
        queue: queue.to_string(),
        ticket_id: ticket,
        body: kept,
        error: error.to_string(),
    };
    let stored = deps.state.put_dead_letter(&record).await.map_err(|e| {
        HandlerError::transient("keeping a message that cannot be processed as a dead letter").with_source(e)
    })?;
    if let Claim::Claimed = stored {
        tracing::error!(dead_letter = %id, error = %error, "message kept as a dead letter; it will not be retried");
    }
    // Raised on every delivery (it alerts once per id), so a failed raise is retried.
    {
        let about = ticket.map(|t| format!(" for ticket id {t}")).unwrap_or_default();
        let message = format!(
            "A {queue} message{about} cannot be processed and was set aside, not retried: {error}. The dashboard's dead letters keep it whole; fix the cause, then handle the ticket by hand."
        );
        alerts::raise(deps, format!("dead-letter#{id}"), "dead-letter", ticket, message)
            .await
            .map_err(|e| HandlerError::transient("alerting a dead letter").with_source(e))?;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("abc", 10), "abc");
    }

    #[test]
    fn ticket_named_in_reads_a_partial_message() {
        assert_eq!(ticket_named_in(r#"{"ticket_id": 42, "event_key": 3}"#), TicketId::new(42).ok());
        assert_eq!(ticket_named_in("not json"), None);
    }
}
