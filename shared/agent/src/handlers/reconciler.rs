//! The reconciler: on a schedule, queues every ticket changed since its
//! watermark that the agent has never decided on, and an Update event for a
//! decided ticket a person re-routed (its routing differs from the one last
//! seen), so a dropped or disabled webhook loses nothing. It also sends
//! again the alert e-mails SES could not take when they were raised.

use super::intake::{EVENT_TTL_SECS, enqueue};
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::messages::{EventSource, TicketEvent};
use chrono::{DateTime, Duration, Utc};

/// What one reconciler pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub seen: usize,
    pub queued: usize,
    pub already_known: usize,
    /// Re-routes of decided tickets whose Update callout never came.
    pub updates_queued: usize,
    /// Undecided tickets in queues outside `[scope]`: logged only.
    pub out_of_scope: usize,
    /// Alert e-mails SES could not take when raised, sent again and accepted this pass.
    pub alert_emails_resent: usize,
}

const WATERMARK: &str = "reconciler-watermark";

/// Queries tickets changed since the watermark and queues each one the agent
/// has never decided on, so a dropped or disabled webhook loses nothing.
pub async fn reconcile(
    deps: &Deps,
    now: DateTime<Utc>,
    first_run_lookback: Duration,
) -> Result<ReconcileReport, HandlerError> {
    // First, and whatever happens to the rest: an Autotask outage must not hold back the
    // alert e-mails that tell a human about it.
    let alert_emails_resent = match crate::alerts::resend_failed_emails(deps, now).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "alert e-mails could not be resent on this pass; the next one tries again");
            0
        }
    };
    let since: DateTime<Utc> = deps.state.cache_get(WATERMARK).await?.unwrap_or(now - first_run_lookback);
    // Overlap a little: activity dates are not strictly ordered with our clock.
    let changed = deps.autotask.tickets_changed_since(since - Duration::minutes(2), 2000).await?;
    let mut report = ReconcileReport { seen: changed.len(), alert_emails_resent, ..Default::default() };
    let mut watermark = since;
    for c in changed {
        let ticket = c.id;
        watermark = watermark.max(c.at);
        if !deps.state.ticket_decisions(ticket).await?.is_empty() {
            report.already_known += 1;
            if let Some(ev) = super::routing_seen::missed_update(deps, &c, now).await? {
                if deps.state.claim_event(&ev.event_key, now, EVENT_TTL_SECS).await? {
                    enqueue(deps, &ev).await?;
                    report.updates_queued += 1;
                }
                super::routing_seen::remember(deps, c.id, &c.routing, now).await?;
            }
            continue;
        }
        let queue = c.routing.queue_id.and_then(|q| atpilot_domain::QueueId::new(q).ok());
        if !deps.config.scope.allows(queue) {
            tracing::info!(%ticket, queue = ?c.routing.queue_id, "out of scope ([scope]): logged only");
            report.out_of_scope += 1;
            continue;
        }
        let event_key = format!("reconcile:{ticket}");
        if !deps.state.claim_event(&event_key, now, EVENT_TTL_SECS).await? {
            report.already_known += 1;
            continue;
        }
        let ev = TicketEvent {
            ticket_id: ticket,
            event_key,
            source: EventSource::Reconcile,
            changed_fields: vec![],
            fields: Default::default(),
            person_id: None,
            received_at: now,
        };
        enqueue(deps, &ev).await?;
        report.queued += 1;
    }
    deps.state.cache_put(WATERMARK, &watermark, now, 90 * 24 * 3600).await?;
    Ok(report)
}
