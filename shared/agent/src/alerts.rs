//! Alerts: problems a human must act on (a time entry Autotask refused, a
//! ticket left open). Each is stored once per cause (the dashboard lists
//! them) and mailed to `notifications.alerts`: by whoever raised it first,
//! and again by the reconciler while SES answers "try later".

use crate::adapters::notify::Email;
use crate::deps::Deps;
use crate::html::esc;
use crate::ports::PortError;
use atpilot_domain::TicketId;
use atpilot_store::StoreError;
use atpilot_store::records::{AlertEmailRecord, AlertRecord, Claim, DeliveryState};
use chrono::{DateTime, Duration, Utc};

/// An alert's e-mail is tried at most this many times (the first by its
/// raiser, the rest by the reconciler's passes).
pub(crate) const MAX_EMAIL_ATTEMPTS: u32 = 5;

/// Alerts older than this are not mailed again: the dashboard lists them.
const RESEND_WITHIN_HOURS: i64 = 24;

/// An alert with no e-mail outcome this long after it was raised lost its
/// raiser before the send (a crash, a timeout): the reconciler sends it.
const RAISER_GRACE_MINUTES: i64 = 10;

/// Stores the alert and, the first time its id is seen, e-mails it. A failed
/// e-mail is recorded (the reconciler retries one SES could not take now)
/// and logged, not returned: the alert is already on the dashboard.
pub(crate) async fn raise(
    deps: &Deps,
    id: String,
    kind: &str,
    ticket: Option<TicketId>,
    message: String,
) -> Result<(), StoreError> {
    let alert =
        AlertRecord { id, at: Utc::now(), kind: kind.to_string(), ticket_id: ticket, message, email_tracked: true };
    if let Claim::Existing(_) = deps.state.raise_alert(&alert).await? {
        return Ok(());
    }
    tracing::warn!(alert = %alert.id, kind = %alert.kind, message = %alert.message, "alert raised (for a human to act on)");
    email(deps, &alert, 0).await.map(|_| ())
}

/// Sends again the e-mails of the last day's alerts that SES could not take
/// (or whose raiser stopped before sending), each up to
/// [`MAX_EMAIL_ATTEMPTS`] times in all. Returns how many were accepted now.
pub(crate) async fn resend_failed_emails(deps: &Deps, now: DateTime<Utc>) -> Result<usize, StoreError> {
    if deps.config.notifications.alerts.is_empty() {
        return Ok(0);
    }
    let mut accepted = 0;
    for alert in deps.state.alerts(200).await? {
        if alert.at < now - Duration::hours(RESEND_WITHIN_HOURS) {
            break; // newest first: the rest are older still
        }
        let attempts = match deps.state.alert_email(&alert.id).await? {
            Some(e) if e.state == DeliveryState::Retrying && e.attempts < MAX_EMAIL_ATTEMPTS => e.attempts,
            None if alert.email_tracked && alert.at < now - Duration::minutes(RAISER_GRACE_MINUTES) => 0,
            _ => continue,
        };
        if email(deps, &alert, attempts).await? {
            accepted += 1;
        }
    }
    Ok(accepted)
}

/// E-mails the alert (its `attempts + 1`th try) and records the outcome;
/// true when SES accepted it.
async fn email(deps: &Deps, alert: &AlertRecord, attempts: u32) -> Result<bool, StoreError> {
    let to = deps.config.notifications.alerts.clone();
    if to.is_empty() {
        tracing::warn!(alert = %alert.id, "no notifications.alerts address: the alert is only on the dashboard and in the logs");
        return Ok(false);
    }
    let subject = match alert.ticket_id {
        Some(t) => format!("[atpilot] Alert: {} (ticket id {t})", alert.kind),
        None => format!("[atpilot] Alert: {}", alert.kind),
    };
    // The message may quote a provider's answer or a ticket: one line, no controls.
    let message = atpilot_domain::untrusted::one_line(&alert.message);
    let text = format!("{message}\n\nThe dashboard lists every alert.\n");
    let html = format!("<p>{}</p><p>The dashboard lists every alert.</p>", esc(&message));
    let sent = deps.notifier.send_email(&Email { to, subject, html, text, attachments: vec![], inline: vec![] }).await;
    let (state, answer) = match &sent {
        Ok(message_id) => (DeliveryState::Accepted, message_id.clone()),
        Err(e @ PortError::Transient(_)) if attempts + 1 < MAX_EMAIL_ATTEMPTS => {
            (DeliveryState::Retrying, e.to_string())
        }
        Err(e @ PortError::Transient(_)) => {
            (DeliveryState::Failed, format!("{e} (gave up after {MAX_EMAIL_ATTEMPTS} tries)"))
        }
        Err(e) => (DeliveryState::Failed, e.to_string()),
    };
    if let Err(e) = &sent {
        tracing::error!(alert = %alert.id, error = %e, attempt = attempts + 1, "the alert e-mail could not be sent; the alert is on the dashboard");
    }
    let record = AlertEmailRecord { alert_id: alert.id.clone(), state, answer, attempts: attempts + 1, at: Utc::now() };
    // Sent (or not) either way: a failed record is logged, never turned into the caller's failure.
    if let Err(e) = deps.state.put_alert_email(&record).await {
        tracing::error!(alert = %alert.id, error = %e, "the alert e-mail's outcome could not be recorded");
    }
    Ok(state.sent())
}
