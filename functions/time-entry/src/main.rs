//! time-entry: consumes the time-entry FIFO queue (partial batch failures).
//! Wires adapters and calls `atpilot_agent::time_entry::handle` per message.

use atpilot_agent::HandlerError;
use atpilot_agent::messages::TimeEntryJob;
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let deps = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = &deps;
        async move {
            let response = atpilot_lambda::fifo_batch(event.payload, "time entry", |body| async move {
                let job: TimeEntryJob = serde_json::from_str(&body)
                    .map_err(|e| HandlerError::permanent("not a time-entry job").with_source(e))?;
                atpilot_agent::time_entry::handle(deps, &job).await.map(|o| format!("ticket {}: {o:?}", job.ticket_id))
            })
            .await;
            atpilot_lambda::flush_metrics(0);
            Ok::<_, Error>(response)
        }
    }))
    .await
}
