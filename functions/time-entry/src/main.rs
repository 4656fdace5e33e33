//! time-entry: consumes the time-entry FIFO queue (partial batch failures).
//! Wires adapters and runs `atpilot_agent::handlers::time_entry::handle` on each
//! message through `atpilot_lambda::fifo_batch` (a message that can never be
//! processed becomes a dead letter on the dashboard).

use atpilot_agent::messages::TimeEntryJob;
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let wired = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (deps, meter) = (&wired.deps, &wired.meter);
        async move {
            let (response, _) = atpilot_lambda::fifo_batch(deps, event.payload, async |job: TimeEntryJob| {
                atpilot_agent::handlers::time_entry::handle(deps, &job).await
            })
            .await;
            meter.flush(0);
            Ok::<_, Error>(response)
        }
    }))
    .await
}
