//! reconciler: on an EventBridge schedule, queues tickets changed since the
//! watermark that no webhook delivered. Calls `atpilot_agent::intake::reconcile`.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let deps = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|_event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let deps = &deps;
        async move {
            let report = atpilot_agent::intake::reconcile(deps, chrono::Utc::now(), chrono::Duration::hours(24)).await.map_err(Error::from)?;
            tracing::info!(seen = report.seen, queued = report.queued, already_known = report.already_known, "reconciled");
            Ok::<_, Error>(serde_json::json!({ "seen": report.seen, "queued": report.queued, "already_known": report.already_known }))
        }
    }))
    .await
}
