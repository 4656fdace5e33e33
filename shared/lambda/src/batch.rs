//! An SQS FIFO batch through the handlers, with the partial-batch response
//! (`ReportBatchItemFailures`, as the runtime's
//! `advanced-sqs-partial-batch-failures` example shows).

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
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
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
                }
            }
        }
        let mut f = BatchItemFailure::default();
        f.item_identifier = id;
        response.batch_item_failures.push(f);
    }
    (response, outcomes)
}
