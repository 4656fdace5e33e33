//! classify: consumes the classify FIFO queue (partial batch failures).
//! Wires adapters and calls `atpilot_agent::classify::handle` per message.

use atpilot_agent::messages::TicketEvent;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let deps = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = &deps;
        async move {
            let mut response = SqsBatchResponse::default();
            let mut failed = false;
            for record in event.payload.records {
                let id = record.message_id.clone().unwrap_or_default();
                // FIFO: once one message fails, the rest of the batch is retried after it.
                if failed {
                    response.batch_item_failures.push(failure(id));
                    continue;
                }
                let result = match serde_json::from_str::<TicketEvent>(record.body.as_deref().unwrap_or_default()) {
                    Ok(ev) => atpilot_agent::classify::handle(deps, &ev, chrono::Utc::now).await.map(|o| tracing::info!(ticket = %ev.ticket_id, outcome = ?o, "classified")).map_err(|e| e.to_string()),
                    Err(e) => Err(format!("not a ticket event: {e}")),
                };
                if let Err(e) = result {
                    tracing::error!(message_id = %id, error = %e, "classify failed; the message will be retried, then dead-lettered");
                    failed = true;
                    response.batch_item_failures.push(failure(id));
                }
            }
            Ok::<_, Error>(response)
        }
    }))
    .await
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}
