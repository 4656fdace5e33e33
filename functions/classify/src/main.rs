//! classify: consumes the classify FIFO queue (partial batch failures).
//! Wires adapters and runs `atpilot_agent::handlers::classify::handle` on each message
//! through `atpilot_lambda::fifo_batch` (a message that can never be
//! processed becomes a dead letter on the dashboard).

use atpilot_agent::handlers::classify::Outcome;
use atpilot_agent::messages::TicketEvent;
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let wired = atpilot_lambda::with_llm(atpilot_lambda::deps_from_env().await?).await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (deps, meter) = (&wired.deps, &wired.meter);
        async move {
            let (response, outcomes) = atpilot_lambda::fifo_batch(deps, event.payload, async |ev: TicketEvent| {
                atpilot_agent::handlers::classify::handle(deps, &ev, chrono::Utc::now).await
            })
            .await;
            let autonomous =
                outcomes.iter().filter(|o| **o == Outcome::Decided { action: "autonomous", redelivery: false });
            meter.flush(autonomous.count() as u64);
            Ok::<_, Error>(response)
        }
    }))
    .await
}
