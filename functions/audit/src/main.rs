//! audit: the queue and routing audit of `atpilot audit`, run in AWS on
//! demand (`aws lambda invoke --function-name <stack>-audit --payload
//! '{"since":"90d"}'`) and on its weekly schedule. The report is stored in
//! the table and shown on the dashboard's `/audit` page. Calls
//! `atpilot_audit::run_and_store`.
//!
//! The payload may carry `since` (90d, 12w, 48h or a date), `history_sample`
//! and `model_sample`; anything else (an EventBridge scheduled event) runs
//! the default 90-day audit. It uses half of the agent's API budget share,
//! so the agent keeps working while the audit reads.

use atpilot_audit::AuditRequest;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    let (config, aws) = atpilot_lambda::config_from_env().await?;
    let state = atpilot_lambda::state_from_env(&aws)?;
    let client = atpilot_lambda::autotask_client(&config, &aws, config.autotask.api_budget_share / 2.0).await?;
    let meter = atpilot_lambda::Meter::new(&client);
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (state, client, meter) = (&state, &client, &meter);
        async move {
            let req: AuditRequest = serde_json::from_value(event.payload).map_err(|e| format!("the payload is not an audit request ({{\"since\": \"90d\"}}): {e}"))?;
            let result = atpilot_audit::run_and_store(client, state, &req, chrono::Utc::now()).await;
            meter.flush(0);
            let report = result?;
            tracing::info!(summary = %report.summary, "routing audit stored; the dashboard shows it at /audit");
            Ok::<_, Error>(serde_json::json!({"summary": report.summary, "generated_at": report.generated_at, "dashboard_page": "/audit"}))
        }
    }))
    .await
}
