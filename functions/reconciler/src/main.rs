//! reconciler: on an EventBridge schedule, queues tickets changed since the
//! watermark that no webhook delivered, sends again alert e-mails SES could
//! not take, and sweeps approval requests
//! (expiry, reminders, interrupted executions). Calls `atpilot_agent::handlers::reconciler::reconcile`
//! and `atpilot_agent::handlers::approval::sweep`. Also receives SES's events on
//! approval e-mails (source `aws.ses`), recorded by
//! `atpilot_agent::handlers::ses_events::record_ses_event`.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let wired = atpilot_lambda::deps_from_env().await?;
    run(service_fn(|event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let (deps, meter) = (&wired.deps, &wired.meter);
        async move {
            // SES's reports on approval e-mails (the configuration set's EventBridge destination).
            if event.payload.source == "aws.ses" {
                let outcome = atpilot_agent::handlers::ses_events::record_ses_event(deps, &event.payload.detail).await.map_err(Error::from)?;
                tracing::info!(detail_type = %event.payload.detail_type, ?outcome, "SES event");
                return Ok(serde_json::json!({ "ses_event": format!("{outcome:?}") }));
            }
            let report = atpilot_agent::handlers::reconciler::reconcile(deps, chrono::Utc::now(), chrono::Duration::hours(24)).await.map_err(Error::from)?;
            tracing::info!(seen = report.seen, queued = report.queued, already_known = report.already_known, updates_queued = report.updates_queued, out_of_scope = report.out_of_scope, alert_emails_resent = report.alert_emails_resent, "reconciled");
            // Unanswered approval requests expire; interrupted approved actions are carried out.
            let sweep = atpilot_agent::handlers::approval::sweep(deps, chrono::Utc::now()).await.map_err(|e| Error::from(e.to_string()))?;
            tracing::info!(expired = sweep.expired, re_executed = sweep.re_executed, reminded = sweep.reminded, stale_expired = sweep.stale_expired, "approvals swept");
            meter.flush(0);
            Ok::<_, Error>(serde_json::json!({ "seen": report.seen, "queued": report.queued, "already_known": report.already_known, "updates_queued": report.updates_queued, "out_of_scope": report.out_of_scope, "alert_emails_resent": report.alert_emails_resent, "approvals_expired": sweep.expired, "approvals_re_executed": sweep.re_executed, "approvals_reminded": sweep.reminded, "approvals_stale_expired": sweep.stale_expired }))
        }
    }))
    .await
}
