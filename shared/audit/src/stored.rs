//! The audit as a deployed, on-demand job: run it against the tenant and
//! keep the report in the state store, where the dashboard's `/audit` page
//! shows it. The audit Lambda is a thin wrapper around [`run_and_store`].

use crate::{AuditConfig, CollectOptions, Format, Progress, audit, collect, parse_since, render};
use atpilot_autotask::Client;
use atpilot_store::State;
use atpilot_store::records::ReportRecord;
use chrono::{DateTime, Utc};

/// What to audit. Every field is optional, so an empty invocation (`{}`) or
/// an EventBridge scheduled event runs the default 90-day audit.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditRequest {
    /// 90d, 12w, 48h or a date (2024-01-31); default 90d.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub history_sample: Option<usize>,
    #[serde(default)]
    pub model_sample: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditRunError {
    #[error("bad audit request: {0}")]
    Request(String),
    #[error(transparent)]
    Collect(#[from] crate::collect::CollectError),
    #[error("cannot store the report: {0}")]
    Store(#[from] atpilot_store::StoreError),
}

/// The largest samples an invocation may ask for: each history ticket costs
/// one API request, and a Lambda has 15 minutes.
const MAX_HISTORY_SAMPLE: usize = 5_000;
const MAX_MODEL_SAMPLE: usize = 20_000;

/// Runs the audit and stores its HTML and JSON reports as the newest "audit" report.
pub async fn run_and_store(
    client: &Client,
    state: &State,
    req: &AuditRequest,
    now: DateTime<Utc>,
) -> Result<ReportRecord, AuditRunError> {
    let since = parse_since(req.since.as_deref().unwrap_or("90d"), now).map_err(AuditRunError::Request)?;
    let mut opts = CollectOptions::new(since, now);
    if let Some(h) = req.history_sample {
        if h > MAX_HISTORY_SAMPLE {
            return Err(AuditRunError::Request(format!(
                "history_sample {h} is over {MAX_HISTORY_SAMPLE} (one API request per ticket; run `atpilot audit` for larger samples)"
            )));
        }
        opts.history_sample = h;
    }
    if let Some(m) = req.model_sample {
        if m > MAX_MODEL_SAMPLE {
            return Err(AuditRunError::Request(format!("model_sample {m} is over {MAX_MODEL_SAMPLE}")));
        }
        opts.model_sample = m;
    }
    let quiet = |_: Progress| {};
    let collected = collect(client, &opts, &quiet).await?;
    let report = audit(&collected, &AuditConfig::default());
    let record = ReportRecord {
        kind: "audit".into(),
        generated_at: now,
        summary: format!(
            "{} tickets since {}, {} API requests",
            report.tickets,
            since.format("%Y-%m-%d"),
            report.api_requests
        ),
        html: render(&report, Format::Html),
        json: report.to_json(),
    };
    state.put_report(&record).await?;
    Ok(record)
}
