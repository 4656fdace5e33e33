//! How every Lambda function is wired: configuration from `ATPILOT_CONFIG`,
//! secrets from Secrets Manager, the DynamoDB table and SQS queues named by
//! environment variables, JSON logs. Built once per cold start.
//!
//! Environment variables (the SAM template sets each one; a test checks it):
//! see [`ENV`].

pub mod notifier;

use atpilot_agent::deps::{Deps, Secret};
use atpilot_agent::rest::RestAutotask;
use atpilot_autotask::{Client, ClientConfig, Credentials, ZoneSource};
use atpilot_config::{AutotaskTarget, Config};
use atpilot_store::State;
use atpilot_store::dynamo::DynamoStateStore;
use atpilot_store::sqs::SqsQueue;
use std::sync::Arc;

/// Every environment variable a function reads, with what it holds.
pub const ENV: &[(&str, &str)] = &[
    ("ATPILOT_CONFIG", "the configuration TOML (from the SSM parameter)"),
    ("TABLE_NAME", "the DynamoDB table"),
    ("CLASSIFY_QUEUE_URL", "the classify FIFO queue"),
    ("TIME_ENTRY_QUEUE_URL", "the time-entry FIFO queue"),
    ("AUTOTASK_CREDENTIALS_SECRET_ARN", "Secrets Manager secret: {\"username\",\"secret\",\"integration_code\"}"),
    ("WEBHOOK_SECRET_ARN", "Secrets Manager secret: the TicketWebhook's secret key"),
    ("APPROVAL_KEY_SECRET_ARN", "Secrets Manager secret: the key that signs approval links (32+ bytes)"),
    ("TEAMS_WEBHOOK_SECRET_ARN", "Secrets Manager secret: the Teams incoming-webhook / Workflows URL (empty: no Teams)"),
    ("SES_CONFIGURATION_SET", "the SES configuration set for sending (empty: none)"),
];

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("environment variable {0} is not set: the SAM template sets it; set it by hand only for local runs")]
    MissingEnv(&'static str),
    #[error(transparent)]
    Config(#[from] atpilot_config::ConfigError),
    #[error("cannot read secret {arn}: {why}")]
    Secret { arn: String, why: String },
    #[error("autotask.url is \"sandbox\": deployed functions need a real tenant's URL")]
    SandboxInAws,
    #[error("Autotask client: {0}")]
    Client(String),
}

/// JSON logs with the request id (Lambda's `tracing` integration adds it), level from RUST_LOG.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")))
        .with_current_span(false)
        .without_time()
        .try_init();
}

fn env(name: &'static str) -> Result<String, WiringError> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or(WiringError::MissingEnv(name))
}

async fn secret(sm: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<String, WiringError> {
    let out = sm.get_secret_value().secret_id(arn).send().await.map_err(|e| WiringError::Secret { arn: arn.into(), why: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string() })?;
    out.secret_string().map(str::to_string).ok_or_else(|| WiringError::Secret { arn: arn.into(), why: "it has no string value".into() })
}

#[derive(serde::Deserialize)]
struct AutotaskSecret {
    username: String,
    secret: String,
    integration_code: String,
}

/// Builds the dependencies of a function from its environment.
pub async fn deps_from_env() -> Result<Deps, WiringError> {
    let config = Config::from_env(|k| std::env::var(k).ok())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sm = aws_sdk_secretsmanager::Client::new(&aws);
    let creds_arn = env("AUTOTASK_CREDENTIALS_SECRET_ARN")?;
    let raw = secret(&sm, &creds_arn).await?;
    let c: AutotaskSecret = serde_json::from_str(&raw).map_err(|e| WiringError::Secret { arn: creds_arn.clone(), why: format!("expected JSON with username, secret and integration_code: {e}") })?;
    let webhook_secret = secret(&sm, &env("WEBHOOK_SECRET_ARN")?).await?;
    let approval_key = secret(&sm, &env("APPROVAL_KEY_SECRET_ARN")?).await?;
    if approval_key.len() < 32 {
        return Err(WiringError::Secret { arn: env("APPROVAL_KEY_SECRET_ARN")?, why: "the approval signing key must be at least 32 bytes".into() });
    }
    let teams_url = match std::env::var("TEAMS_WEBHOOK_SECRET_ARN").ok().filter(|a| !a.trim().is_empty()) {
        Some(arn) => Some(secret(&sm, &arn).await?),
        None => None,
    };
    let notifier = notifier::SesTeamsNotifier::new(
        aws_sdk_sesv2::Client::new(&aws),
        config.notifications.email_from.clone(),
        std::env::var("SES_CONFIGURATION_SET").ok().filter(|c| !c.trim().is_empty()),
        teams_url,
    );
    let url = match config.autotask.target()? {
        AutotaskTarget::Sandbox => return Err(WiringError::SandboxInAws),
        AutotaskTarget::Url(u) => u.to_string(),
    };
    let credentials = Credentials { username: c.username, secret: c.secret, integration_code: c.integration_code, impersonation_resource_id: config.autotask.impersonation_resource_id.map(|r| r.get()) };
    let mut cc = ClientConfig::new(credentials, ZoneSource::for_url(&url));
    cc.budget_share = config.autotask.api_budget_share;
    let client = Client::new(cc).map_err(|e| WiringError::Client(e.to_string()))?;
    let _ = CLIENT.set(client.clone());
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let classifier = atpilot_agent::model_classifier::from_config(&config.model).map_err(|e| WiringError::Client(e.to_string()))?;
    Ok(Deps {
        config: Arc::new(config),
        state: State::new(Arc::new(DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&aws), env("TABLE_NAME")?))),
        autotask: Arc::new(RestAutotask::new(client)),
        classifier,
        classify_queue: Arc::new(SqsQueue::new(sqs.clone(), env("CLASSIFY_QUEUE_URL")?, None)),
        time_entry_queue: Arc::new(SqsQueue::new(sqs, env("TIME_ENTRY_QUEUE_URL")?, None)),
        webhook_secret: Secret::new(webhook_secret.into_bytes()),
        notifier: Arc::new(notifier),
        approval_key: Secret::new(approval_key.into_bytes()),
    })
}

/// The process's Autotask client, for the request metric.
static CLIENT: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
static REPORTED_REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A CloudWatch Embedded Metric Format line: namespace `atpilot`, no
/// dimensions, unit Count (the template's alarms read these names).
pub fn emf_line(metric: &str, value: u64, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{"Namespace": "atpilot", "Dimensions": [[]], "Metrics": [{"Name": metric, "Unit": "Count"}]}]},
        metric: value,
    })
    .to_string()
}

/// Emits the Autotask requests made since the last call and the autonomous
/// actions of this invocation, as EMF lines on stdout (CloudWatch turns them
/// into the `atpilot/AutotaskRequests` and `atpilot/AutonomousActions` metrics).
pub fn flush_metrics(autonomous_actions: u64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    if let Some(c) = CLIENT.get() {
        let total = c.stats().requests;
        let before = REPORTED_REQUESTS.swap(total, std::sync::atomic::Ordering::Relaxed);
        if total > before {
            println!("{}", emf_line("AutotaskRequests", total - before, now));
        }
    }
    if autonomous_actions > 0 {
        println!("{}", emf_line("AutonomousActions", autonomous_actions, now));
    }
}

/// Runs `handler` over an SQS FIFO batch and builds the partial-batch
/// response: once a message fails, the rest of the batch is reported failed
/// unprocessed, so messages of a ticket are never handled out of order.
pub async fn fifo_batch<F, Fut, E>(event: aws_lambda_events::sqs::SqsEvent, what: &str, mut handler: F) -> aws_lambda_events::sqs::SqsBatchResponse
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<String, E>>,
    E: std::fmt::Display,
{
    let mut response = aws_lambda_events::sqs::SqsBatchResponse::default();
    let mut failed = false;
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        if !failed {
            match handler(record.body.unwrap_or_default()).await {
                Ok(outcome) => {
                    tracing::info!(message_id = %id, %outcome, "{what} done");
                    continue;
                }
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "{what} failed; the message will be retried, then dead-lettered");
                    failed = true;
                }
            }
        }
        let mut f = aws_lambda_events::sqs::BatchItemFailure::default();
        f.item_identifier = id;
        response.batch_item_failures.push(f);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_is_what_cloudwatch_and_the_alarms_expect() {
        let v: serde_json::Value = serde_json::from_str(&emf_line("AutotaskRequests", 7, 1_795_860_000_000)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"_aws":{"Timestamp":1795860000000i64,"CloudWatchMetrics":[{"Namespace":"atpilot","Dimensions":[[]],"Metrics":[{"Name":"AutotaskRequests","Unit":"Count"}]}]},"AutotaskRequests":7})
        );
    }

    #[tokio::test]
    async fn fifo_batch_fails_the_rest_after_a_failure() {
        let event: aws_lambda_events::sqs::SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
            {"messageId": "m1", "body": "ok"}, {"messageId": "m2", "body": "bad"}, {"messageId": "m3", "body": "ok"}
        ]}))
        .unwrap();
        let mut seen = Vec::new();
        let r = fifo_batch(event, "test", |b| {
            seen.push(b.clone());
            async move { if b == "bad" { Err("no".to_string()) } else { Ok(b) } }
        })
        .await;
        assert_eq!(seen, ["ok", "bad"], "m3 is not processed after m2 failed");
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}));
    }
}
