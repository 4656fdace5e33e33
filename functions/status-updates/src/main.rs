//! status-updates: on an EventBridge schedule (hourly), reviews pending
//! customer status updates (expired, customer contacted meanwhile, approved
//! but not yet posted) and proposes new ones for long-running tickets, each
//! e-mailed to the ticket's technician for approval. Calls
//! `atpilot_agent::handlers::status_updates::scan`; without `[status_updates]`
//! in the configuration it does nothing.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let wired = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|_event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let (deps, meter) = (&wired.deps, &wired.meter);
        async move {
            let r = atpilot_agent::handlers::status_updates::scan(deps, chrono::Utc::now()).await.map_err(Error::from)?;
            tracing::info!(considered = r.considered, due = r.due, proposed = r.proposed, dropped = r.dropped, expired = r.expired, finished = r.finished, failed = r.failed, kill_switch = r.kill_switch, "status updates scanned");
            meter.flush(0);
            Ok::<_, Error>(serde_json::json!({ "considered": r.considered, "due": r.due, "proposed": r.proposed, "already_pending": r.already_pending, "no_approver": r.no_approver, "dropped": r.dropped, "expired": r.expired, "finished": r.finished, "failed": r.failed, "kill_switch": r.kill_switch }))
        }
    }))
    .await
}
