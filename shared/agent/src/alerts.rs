//! Alerts: problems a human must act on (a time entry Autotask refused, a
//! ticket left open). Each is stored once per cause (the dashboard lists
//! them) and mailed to `notifications.alerts` the first time only.

use crate::adapters::notify::Email;
use crate::deps::Deps;
use crate::html::esc;
use atpilot_domain::TicketId;
use atpilot_store::StoreError;
use atpilot_store::records::{AlertRecord, Claim};
use chrono::Utc;

/// Stores the alert and, the first time its id is seen, e-mails it. A failed
/// e-mail is logged, not returned: the alert is already on the dashboard.
pub(crate) async fn raise(
    deps: &Deps,
    id: String,
    kind: &str,
    ticket: Option<TicketId>,
    message: String,
) -> Result<(), StoreError> {
    let alert = AlertRecord { id, at: Utc::now(), kind: kind.to_string(), ticket_id: ticket, message };
    if let Claim::Existing(_) = deps.state.raise_alert(&alert).await? {
        return Ok(());
    }
    tracing::error!(alert = %alert.id, kind = %alert.kind, message = %alert.message, "alert raised");
    let to = deps.config.notifications.alerts.clone();
    if to.is_empty() {
        tracing::warn!(alert = %alert.id, "no notifications.alerts address: the alert is only on the dashboard and in the logs");
        return Ok(());
    }
    let subject = match ticket {
        Some(t) => format!("[atpilot] Alert: {} (ticket id {t})", alert.kind),
        None => format!("[atpilot] Alert: {}", alert.kind),
    };
    // The message may quote a provider's answer or a ticket: one line, no controls.
    let message = atpilot_domain::untrusted::one_line(&alert.message);
    let text = format!("{message}\n\nThe dashboard lists every alert.\n");
    let html = format!("<p>{}</p><p>The dashboard lists every alert.</p>", esc(&message));
    if let Err(e) =
        deps.notifier.send_email(&Email { to, subject, html, text, attachments: vec![], inline: vec![] }).await
    {
        tracing::error!(alert = %alert.id, error = %e, "the alert e-mail could not be sent; the alert is on the dashboard");
    }
    Ok(())
}
