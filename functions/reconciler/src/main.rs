//! reconciler: on an EventBridge schedule, queues tickets changed since the
//! watermark that no webhook delivered, and sweeps approval requests
//! (expiry, interrupted executions). Calls `atpilot_agent::handlers::reconciler::reconcile`
//! and `atpilot_agent::handlers::approval::sweep`.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let wired = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|_event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let (deps, meter) = (&wired.deps, &wired.meter);
        async move {
            let report = atpilot_agent::handlers::reconciler::reconcile(deps, chrono::Utc::now(), chrono::Duration::hours(24)).await.map_err(Error::from)?;
            tracing::info!(seen = report.seen, queued = report.queued, already_known = report.already_known, updates_queued = report.updates_queued, out_of_scope = report.out_of_scope, "reconciled");
            // Unanswered approval requests expire; interrupted approved actions are carried out.
            let sweep = atpilot_agent::handlers::approval::sweep(deps, chrono::Utc::now()).await.map_err(|e| Error::from(e.to_string()))?;
            tracing::info!(expired = sweep.expired, re_executed = sweep.re_executed, reminded = sweep.reminded, "approvals swept");
            meter.flush(0);
            Ok::<_, Error>(serde_json::json!({ "seen": report.seen, "queued": report.queued, "already_known": report.already_known, "updates_queued": report.updates_queued, "out_of_scope": report.out_of_scope, "approvals_expired": sweep.expired, "approvals_re_executed": sweep.re_executed, "approvals_reminded": sweep.reminded }))
        }
    }))
    .await
}
