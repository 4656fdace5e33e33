//! classify: consumes the classify FIFO queue (partial batch failures).
//! Wires adapters and calls `atpilot_agent::classify::handle` per message.

use atpilot_agent::messages::TicketEvent;
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let deps = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = &deps;
        async move {
            Ok::<_, Error>(
                atpilot_lambda::fifo_batch(event.payload, "classify", |body| async move {
                    let ev: TicketEvent = serde_json::from_str(&body).map_err(|e| format!("not a ticket event: {e}"))?;
                    atpilot_agent::classify::handle(deps, &ev, chrono::Utc::now).await.map(|o| format!("ticket {}: {o:?}", ev.ticket_id)).map_err(|e| e.to_string())
                })
                .await,
            )
        }
    }))
    .await
}
