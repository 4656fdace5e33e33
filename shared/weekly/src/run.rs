//! The run: collects the report, applies the phase moves, stores the
//! snapshot and delivers the e-mail and the Teams card (once per week unless
//! resent).

use crate::collect::{Sources, collect};
use crate::period::Options;
use crate::render::{email, teams_card};
use crate::report::WeeklyReport;
use crate::{CHANGED_BY, MetricsError};
use atpilot_agent::adapters::notify::{Email, Notifier, TeamsMessage};
use atpilot_config::Config;
use atpilot_domain::PhaseMove;
use atpilot_store::records::PhaseRecord;
use chrono::{DateTime, Utc};

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub report: WeeklyReport,
    pub email: Email,
    pub teams: TeamsMessage,
    pub moved: usize,
    /// The provider's message id when the e-mail was sent.
    pub email_id: Option<String>,
    pub delivered: bool,
}

/// Computes, moves phases, stores the snapshot and delivers.
pub async fn run(
    src: &Sources<'_>,
    notifier: &dyn Notifier,
    o: &Options,
    now: DateTime<Utc>,
) -> Result<RunOutcome, MetricsError> {
    let report = collect(src, o, now).await?;
    let mut moved = 0;
    if o.apply_phase_moves {
        for r in report.moves() {
            if matches!(r.evaluation, PhaseMove::Demote { .. } | PhaseMove::Promote { .. }) {
                let rec = PhaseRecord {
                    category: r.category.clone(),
                    phase: r.phase_after,
                    changed_at: now,
                    changed_by: CHANGED_BY.into(),
                    reason: r.reason.clone(),
                };
                src.state.set_phase(&rec).await?;
                moved += 1;
            }
        }
    }
    let previous = src.state.snapshots(12).await?;
    let already = previous
        .iter()
        .find(|(w, _)| *w == report.week)
        .and_then(|(_, v)| v.get("delivered_at").cloned())
        .filter(|v| !v.is_null());
    let history: Vec<(String, serde_json::Value)> =
        previous.into_iter().filter(|(w, _)| *w != report.week).rev().collect();
    let email = email(&report, &history, &recipients(src.config));
    let teams = teams_card(&report);
    let mut snapshot = serde_json::to_value(&report).map_err(|e| MetricsError::Invalid(e.to_string()))?;
    src.state.put_snapshot(&report.week, &snapshot).await?;
    let mut email_id = None;
    let mut delivered = false;
    if o.deliver && (already.is_none() || o.resend) {
        if !email.to.is_empty() {
            email_id = Some(notifier.send_email(&email).await.map_err(|e| MetricsError::Delivery(e.to_string()))?);
        }
        notifier.post_teams(&teams).await.map_err(|e| MetricsError::Delivery(e.to_string()))?;
        delivered = true;
        snapshot["delivered_at"] = serde_json::Value::String(now.to_rfc3339());
        src.state.put_snapshot(&report.week, &snapshot).await?;
    }
    Ok(RunOutcome { report, email, teams, moved, email_id, delivered })
}

/// Finance and the service manager.
pub fn recipients(config: &Config) -> Vec<String> {
    let mut v: Vec<String> =
        config.notifications.finance.iter().chain(&config.notifications.service_manager).cloned().collect();
    v.sort();
    v.dedup();
    v
}
