//! An SQS FIFO batch through the handlers, with the partial-batch response
//! (`ReportBatchItemFailures`, as the runtime's
//! `advanced-sqs-partial-batch-failures` example shows). A failure that says
//! how long to wait (atpilot's own Autotask budget) holds its message back
//! that long.

use atpilot_agent::Deps;
use atpilot_agent::HandlerError;
use atpilot_agent::handlers::delivery::{Delivered, deliver};
use atpilot_agent::messages::QueueMessage;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

/// Runs each message of `event` through [`deliver`] (decode as an `M`, then
/// `handler`) and builds the partial-batch response:
/// * handled, or kept as a dead letter (it can never succeed): acknowledged;
/// * a transient failure: reported failed, and so is every message after it
///   (unprocessed), so messages of a ticket are never handled out of order.
///
/// Returns the response and the outcomes of the handled messages.
pub async fn fifo_batch<M, O, F>(deps: &Deps, event: SqsEvent, mut handler: F) -> (SqsBatchResponse, Vec<O>)
where
    M: QueueMessage,
    O: std::fmt::Debug,
    F: AsyncFnMut(M) -> Result<O, HandlerError>,
{
    let mut response = SqsBatchResponse::default();
    let mut outcomes = Vec::new();
    let mut failed = false;
    // Set by a failure that says how long to wait: every message after it waits as long.
    let mut hold: Option<std::time::Duration> = None;
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        let receipt = record.receipt_handle.clone().unwrap_or_default();
        if !failed {
            let body = record.body.unwrap_or_default();
            match deliver(deps, &id, &body, async |m: M| handler(m).await).await {
                Ok(Delivered::Handled(outcome)) => {
                    tracing::info!(message_id = %id, queue = M::QUEUE, ?outcome, "message handled");
                    outcomes.push(outcome);
                    continue;
                }
                Ok(Delivered::DeadLettered { id: dead }) => {
                    tracing::error!(message_id = %id, queue = M::QUEUE, dead_letter = %dead, "message set aside as a dead letter");
                    continue;
                }
                Err(e) => {
                    tracing::error!(message_id = %id, queue = M::QUEUE, error = %e, "message failed; it and the rest of the batch will be retried");
                    failed = true;
                    hold = e.retry_after();
                }
            }
        }
        if let Some(wait) = hold {
            hold_back(deps, M::QUEUE, &receipt, wait).await;
        }
        let mut f = BatchItemFailure::default();
        f.item_identifier = id;
        response.batch_item_failures.push(f);
    }
    (response, outcomes)
}

/// Holds a failed message back for `wait` (SQS visibility, at least a minute,
/// at most 12 hours) instead of the queue's usual delay, so a wait that is
/// known (atpilot's own Autotask budget) does not spend its receives.
async fn hold_back(deps: &Deps, queue: &str, receipt: &str, wait: std::time::Duration) {
    let q = if queue == atpilot_agent::messages::TimeEntryJob::QUEUE {
        &deps.time_entry_queue
    } else {
        &deps.classify_queue
    };
    let wait = wait.clamp(std::time::Duration::from_secs(60), std::time::Duration::from_secs(43_200));
    if let Err(e) = q.release(receipt, wait).await {
        tracing::warn!(queue, error = %e, "could not hold the message back; it comes back after the queue's visibility timeout");
    }
}
