//! classify: consumes the classify FIFO queue (partial batch failures).
//! Wires adapters and calls `atpilot_agent::classify::handle` per message.

use atpilot_agent::HandlerError;
use atpilot_agent::classify::Outcome;
use atpilot_agent::messages::TicketEvent;
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let deps = atpilot_lambda::with_llm(atpilot_lambda::deps_from_env().await?).await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = &deps;
        async move {
            let autonomous = std::sync::atomic::AtomicU64::new(0);
            let autonomous = &autonomous;
            let response = atpilot_lambda::fifo_batch(event.payload, "classify", |body| async move {
                let ev: TicketEvent = serde_json::from_str(&body)
                    .map_err(|e| HandlerError::permanent("not a ticket event").with_source(e))?;
                let outcome = atpilot_agent::classify::handle(deps, &ev, chrono::Utc::now).await?;
                if outcome == (Outcome::Decided { action: "autonomous", redelivery: false }) {
                    autonomous.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok::<_, HandlerError>(format!("ticket {}: {outcome:?}", ev.ticket_id))
            })
            .await;
            atpilot_lambda::flush_metrics(autonomous.load(std::sync::atomic::Ordering::Relaxed));
            Ok::<_, Error>(response)
        }
    }))
    .await
}
