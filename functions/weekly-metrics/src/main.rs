//! weekly-metrics: on an EventBridge schedule (Mondays), computes the weekly
//! figures, moves categories between phases, stores the snapshot and mails
//! finance and the service manager (SES) and posts to Teams. Calls
//! `atpilot_weekly::run`.
//!
//! Environment, besides what `atpilot_lambda::deps_from_env` reads:
//! * `ATPILOT_ROLLOUT_DATE` (required, `YYYY-MM-DD`): each contract's billing
//!   baseline is the months before it;
//! * `ATPILOT_BASELINE_MONTHS` (default 3), `ATPILOT_SPOT_CHECK_SAMPLE` (20),
//!   `ATPILOT_BILLING_FLAG_PERCENT` (15), `ATPILOT_CSAT_MIN_SAMPLES` (10).
//!
//! The event may carry `{"week_ending": "YYYY-MM-DD", "resend": true}` in its
//! `detail` to rerun a given week by hand; a scheduled run reports the week
//! that ended on the last Monday.

use atpilot_weekly::{self as weekly, Options, Sources};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::NaiveDate;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Error> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| format!("{name}={v:?} is not valid").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    atpilot_lambda::init_logging();
    // The report streams pages, which the Autotask port does not expose: it uses the REST client itself.
    let atpilot_lambda::Wired { deps, client, .. } = atpilot_lambda::deps_from_env().await?;
    let rollout: NaiveDate = std::env::var("ATPILOT_ROLLOUT_DATE")
        .map_err(|_| "ATPILOT_ROLLOUT_DATE is not set: the date atpilot went live (YYYY-MM-DD); each contract's baseline is the months before it")?
        .trim()
        .parse()
        .map_err(|_| "ATPILOT_ROLLOUT_DATE must be YYYY-MM-DD")?;
    let mut base = Options::new(chrono::Utc::now(), rollout);
    base.baseline_months = var("ATPILOT_BASELINE_MONTHS", 3)?;
    base.sample_size = var("ATPILOT_SPOT_CHECK_SAMPLE", 20)?;
    base.flag = weekly::FlagRule {
        percent: var("ATPILOT_BILLING_FLAG_PERCENT", 15.0)?,
        min_hours: var("ATPILOT_BILLING_FLAG_MIN_HOURS", 4.0)?,
        min_tickets: var("ATPILOT_BILLING_FLAG_MIN_TICKETS", 5.0)?,
        alpha: var("ATPILOT_BILLING_FLAG_ALPHA", 0.05)?,
    };
    base.min_csat_samples = var("ATPILOT_CSAT_MIN_SAMPLES", 10)?;
    run(service_fn(|event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| {
        let (deps, client, base) = (&deps, &client, &base);
        async move {
            let now = chrono::Utc::now();
            let detail = &event.payload.detail;
            let end = match detail.get("week_ending").and_then(|v| v.as_str()) {
                Some(d) => d.parse::<NaiveDate>().map_err(|_| format!("week_ending {d:?} is not YYYY-MM-DD"))?.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
                None => weekly::week_end_for(now),
            };
            let mut o = base.clone();
            o.end = end;
            o.sample_seed = end.timestamp() as u64;
            o.resend = detail.get("resend").and_then(|v| v.as_bool()).unwrap_or(false);
            let src = Sources { state: &deps.state, config: &deps.config, client };
            let out = weekly::run(&src, deps.notifier.as_ref(), &o, now).await.map_err(Error::from)?;
            let r = &out.report;
            tracing::info!(week = %r.week, moved = out.moved, flagged = r.flagged().count(), spot_check_differences = r.spot_check.differing(), autotask_requests = r.autotask_requests, delivered = out.delivered, "weekly metrics");
            Ok::<_, Error>(serde_json::json!({
                "week": r.week, "phase_moves": out.moved, "contracts_flagged": r.flagged().count(),
                "spot_check_differences": r.spot_check.differing(), "autotask_requests": r.autotask_requests,
                "delivered": out.delivered, "email_id": out.email_id,
            }))
        }
    }))
    .await
}
