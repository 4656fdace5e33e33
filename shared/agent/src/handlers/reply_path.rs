//! How the customer hears of a reply (`[replies]`): a note created through
//! the API notifies nobody by itself, so atpilot e-mails the reply when
//! configured, or names the tenant workflow rule it relies on, and records,
//! once per action, whether and how the customer was told. Nothing is
//! recorded as sent that was not: a failed e-mail is recorded as failed and
//! raises an alert.

use crate::adapters::notify::Email;
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::html::esc;
use atpilot_domain::{ActionId, TicketSnapshot};
use atpilot_store::records::ReplyRecord;

/// Tells the customer (once per action) and returns the sentence recorded.
/// `acted_alone`: no person approved it (the first-response chart counts only those).
pub(crate) async fn tell_customer(
    deps: &Deps,
    ticket: &TicketSnapshot,
    action: &ActionId,
    reply: &str,
    acted_alone: bool,
) -> Result<String, HandlerError> {
    if let Some(done) = deps.state.reply(action).await? {
        return Ok(done.told);
    }
    let replies = &deps.config.replies;
    let rule = replies.rule().map(str::to_string);
    let relied = |rule: &str| {
        format!("a customer-visible note; the tenant workflow rule {rule:?} is relied on to notify the contact")
    };
    let to = if replies.email { deps.autotask.requester(ticket).await?.contact_email } else { None };
    let (emailed_to, told) = match (&to, &rule) {
        (Some(to), _) => match send(deps, ticket, to, reply).await {
            Ok(()) => (Some(to.clone()), format!("e-mailed the reply to {to}")),
            Err(why) => {
                let message = format!("the reply e-mail to {to} for ticket {} failed ({why})", ticket.ticket_number);
                let id = format!("reply-email#{action}");
                crate::alerts::raise(deps, id, "reply-email-failed", Some(ticket.id), message.clone()).await?;
                (
                    None,
                    format!(
                        "{message}: the customer may not know; {}",
                        rule.as_deref().map_or("no workflow rule is configured".into(), relied)
                    ),
                )
            }
        },
        (None, Some(rule)) => (None, relied(rule)),
        (None, None) if replies.email => {
            (None, "a customer-visible note only: the contact has no e-mail address, so nobody was notified".into())
        }
        (None, None) => (
            None,
            "a customer-visible note only: no [replies] path is configured, so the customer may not have been notified"
                .into(),
        ),
    };
    let record = ReplyRecord {
        action_id: action.clone(),
        ticket_id: ticket.id,
        at: chrono::Utc::now(),
        emailed_to,
        workflow_rule: rule,
        told,
        ticket_created: ticket.create_date,
        acted_alone,
    };
    // A concurrent attempt may have recorded it first: its sentence stands.
    match deps.state.claim_reply(&record).await? {
        atpilot_store::records::Claim::Claimed => Ok(record.told),
        atpilot_store::records::Claim::Existing(r) => Ok(r.told),
    }
}

/// The reply as an e-mail from `notifications.email_from` to the contact.
async fn send(deps: &Deps, ticket: &TicketSnapshot, to: &str, reply: &str) -> Result<(), String> {
    let title = atpilot_domain::untrusted::one_line(&ticket.title);
    let subject = format!("[{}] {}", ticket.ticket_number, title.chars().take(120).collect::<String>());
    let html = format!("<p>{}</p>", esc(reply).replace('\n', "<br>"));
    let email =
        Email { to: vec![to.to_string()], subject, html, text: reply.to_string(), attachments: vec![], inline: vec![] };
    deps.notifier.send_email(&email).await.map(|_| ()).map_err(|e| e.to_string())
}
