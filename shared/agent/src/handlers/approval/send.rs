//! Sending a request to its approvers, one delivery per channel and
//! recipient, each recorded ([`DeliveryRecord`]): a failure on one never
//! stops the others; a retry (the classify message's next delivery) resends
//! only what was not accepted; a permanent refusal (an unverified sender, a
//! deleted flow) alerts the operator once a day per channel with the
//! provider's answer, which says how to fix it. A request posted to Teams
//! that no approver opens in time is e-mailed to them once as a reminder.

use super::request::{EmailLinks, RequestLinks, RequestView, email, plan_of, teams_card};
use super::token::{links, review_link};
use crate::deps::Deps;
use crate::ports::PortError;
use atpilot_config::Channel;
use atpilot_domain::TicketSnapshot;
use atpilot_store::records::{ApprovalRecord, DecisionRecord, DeliveryRecord, DeliveryState};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The Teams channel, as a delivery's recipient.
const TEAMS_CHANNEL: &str = "channel";

/// One message to send: Teams (the channel), one approver's e-mail, or
/// one approver's reminder e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Teams,
    Email(String),
    Reminder(String),
}

impl Target {
    fn channel(&self) -> &'static str {
        match self {
            Target::Teams => "teams",
            Target::Email(_) => "email",
            Target::Reminder(_) => "reminder",
        }
    }
    fn recipient(&self) -> &str {
        match self {
            Target::Teams => TEAMS_CHANNEL,
            Target::Email(who) | Target::Reminder(who) => who,
        }
    }
}

/// Who first opened a request's page, and when (kept for the reminder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Opened {
    pub by: String,
    pub at: DateTime<Utc>,
}

fn opened_key(approval_id: &str) -> String {
    format!("approval-opened#{approval_id}")
}

/// Notes that `who` (a verified approver) opened the request's page, the first time.
pub(crate) async fn record_opened(deps: &Deps, a: &ApprovalRecord, who: &str, now: DateTime<Utc>) {
    let key = opened_key(&a.id);
    if matches!(deps.state.cache_get::<Opened>(&key).await, Ok(Some(_))) {
        return;
    }
    let ttl = (a.expires_at - now).num_seconds().max(0) + 86_400;
    if let Err(e) = deps.state.cache_put(&key, &Opened { by: who.into(), at: now }, now, ttl).await {
        tracing::warn!(approval = %a.id, error = %e, "could not note that the request was opened; a reminder may still be sent");
    }
}

/// Who first opened the request's page, if anyone.
pub(crate) async fn opened(deps: &Deps, approval_id: &str) -> Result<Option<Opened>, PortError> {
    deps.state.cache_get(&opened_key(approval_id)).await.map_err(|e| PortError::Transient(e.to_string()))
}

/// Sends the request to the category's approvers on its channels, skipping
/// what was already accepted. `Err(Transient)` when something failed for now
/// (the caller's message is retried, resending only that).
pub(crate) async fn send_request(
    deps: &Deps,
    approval: &ApprovalRecord,
    decision: &DecisionRecord,
    ticket: &TicketSnapshot,
) -> Result<(), PortError> {
    let Some(cat) = deps.config.categories.get(&approval.category) else {
        tracing::warn!(category = %approval.category, "approval request without configured approvers: it is listed on the dashboard only");
        return Ok(());
    };
    if cat.approvers.is_empty() {
        tracing::warn!(category = %approval.category, "no approvers configured: the request is listed on the dashboard only");
        return Ok(());
    }
    let mut targets = vec![];
    if cat.channels.contains(&Channel::Teams) {
        targets.push(Target::Teams);
    }
    if cat.channels.contains(&Channel::Email) {
        targets.extend(cat.approvers.iter().cloned().map(Target::Email));
    }
    let pending = pending_targets(deps, approval, targets).await?;
    send_to(deps, approval, decision, ticket, pending).await
}

/// On the sweep: a request posted to Teams that no approver has opened
/// within `[approvals] remind_after_minutes` is e-mailed to each approver,
/// once (recorded as the `reminder` channel). `Ok(true)` when sent.
pub(crate) async fn remind_if_unopened(deps: &Deps, a: &ApprovalRecord, now: DateTime<Utc>) -> Result<bool, PortError> {
    let after = deps.config.approvals.remind_after_minutes;
    let Some(cat) = deps.config.categories.get(&a.category) else { return Ok(false) };
    if after == 0 || !cat.channels.contains(&Channel::Teams) || now - a.created_at < Duration::minutes(after.into()) {
        return Ok(false);
    }
    if opened(deps, &a.id).await?.is_some() {
        return Ok(false);
    }
    let targets: Vec<Target> = cat.approvers.iter().cloned().map(Target::Reminder).collect();
    let pending = pending_targets(deps, a, targets).await?;
    if pending.is_empty() {
        return Ok(false);
    }
    let Some(ticket) = deps.autotask.ticket(a.ticket_id).await? else { return Ok(false) };
    let decision = super::stored::decision_of(deps, a).await.map_err(|e| PortError::Transient(e.to_string()))?;
    send_to(deps, a, &decision, &ticket, pending).await?;
    Ok(true)
}

/// The targets not yet accepted, each with its attempts so far.
async fn pending_targets(
    deps: &Deps,
    a: &ApprovalRecord,
    targets: Vec<Target>,
) -> Result<Vec<(Target, u32)>, PortError> {
    let before = deps.state.deliveries(&a.id).await.map_err(|e| PortError::Transient(e.to_string()))?;
    Ok(targets
        .into_iter()
        .filter_map(|t| {
            let previous = before.iter().find(|d| d.channel == t.channel() && d.recipient == t.recipient());
            match previous {
                // Sent, or refused for good (alerted): never sent again on its own.
                Some(d) if d.state.sent() || d.state == DeliveryState::Failed => None,
                Some(d) => Some((t, d.attempts)),
                None => Some((t, 0)),
            }
        })
        .collect())
}

/// Sends to each target not yet accepted and records each outcome; the
/// first failure for now is returned (after every target was tried).
async fn send_to(
    deps: &Deps,
    approval: &ApprovalRecord,
    decision: &DecisionRecord,
    ticket: &TicketSnapshot,
    targets: Vec<(Target, u32)>,
) -> Result<(), PortError> {
    if targets.is_empty() {
        return Ok(());
    }
    let Some(cat) = deps.config.categories.get(&approval.category) else { return Ok(()) };
    let company = deps
        .autotask
        .company_name(ticket.company_id)
        .await?
        .unwrap_or_else(|| format!("company {}", ticket.company_id));
    let plan = plan_of(deps, &approval.category, ticket, &approval.action_id).await?;
    let requester = super::request::requester_of(deps, ticket).await?;
    let view = RequestView { approval, decision, ticket, company, requester, plan };
    let request_links = if deps.signin {
        RequestLinks::Review(review_link(deps, approval))
    } else {
        RequestLinks::PerApprover(cat.approvers.iter().map(|a| (a.clone(), links(deps, approval, a))).collect())
    };
    let mut retry = None;
    for (target, attempts) in targets {
        let sent = match &target {
            Target::Teams => deps.notifier.post_teams(&teams_card(&view, &request_links)).await.map(|()| String::new()),
            Target::Email(who) | Target::Reminder(who) => {
                let l = match &request_links {
                    RequestLinks::Review(url) => EmailLinks::Review(url),
                    RequestLinks::PerApprover(all) => match all.iter().find(|(a, _)| a == who) {
                        Some((_, l)) => EmailLinks::Own(l),
                        None => continue,
                    },
                };
                let note = matches!(target, Target::Reminder(_)).then(|| {
                    let minutes = (Utc::now() - approval.created_at).num_minutes();
                    format!("Reminder: this request was posted to Teams {minutes} minutes ago and no approver has opened it yet (Teams may not have shown it).")
                });
                let mut m = email(&view, who, l, note.as_deref());
                if note.is_some() {
                    m.subject = format!("[atpilot] Reminder – {}", m.subject.trim_start_matches("[atpilot] "));
                }
                deps.notifier.send_email(&m).await
            }
        };
        if let Err(e) = record(deps, approval, &target, sent, attempts + 1).await {
            retry.get_or_insert(e);
        }
    }
    retry.map_or(Ok(()), Err)
}

/// Records one delivery's outcome; a failure for now comes back as the
/// error to retry on, a permanent one alerts the operator.
async fn record(
    deps: &Deps,
    approval: &ApprovalRecord,
    target: &Target,
    sent: Result<String, PortError>,
    attempts: u32,
) -> Result<(), PortError> {
    // `sent`: the provider's message id (SES), or empty (Teams gives none).
    let (state, answer, provider_id) = match &sent {
        Ok(id) if id.is_empty() => (
            DeliveryState::Accepted,
            "accepted by the Teams URL (a Workflows flow answers before it posts)".to_string(),
            None,
        ),
        Ok(id) => (DeliveryState::Accepted, format!("SES message id {id}"), Some(id.clone())),
        Err(e @ PortError::Transient(_)) => (DeliveryState::Retrying, e.to_string(), None),
        Err(e) => (DeliveryState::Failed, e.to_string(), None),
    };
    let d = DeliveryRecord {
        approval_id: approval.id.clone(),
        channel: target.channel().into(),
        recipient: target.recipient().into(),
        state,
        answer: answer.clone(),
        attempts,
        at: Utc::now(),
        provider_id,
    };
    let stored = deps.state.put_delivery(&d).await;
    tracing::info!(approval = %approval.id, channel = %d.channel, recipient = %d.recipient, state = state.as_str(), %answer, "approval request delivery");
    if state == DeliveryState::Failed {
        let id = format!("delivery-failed#{}#{}", d.channel, Utc::now().format("%Y-%m-%d"));
        let message = format!(
            "The approval request for ticket id {} could not be sent to {} by {}: {answer}. The request is on the dashboard; approvers who did get it can still decide.",
            approval.ticket_id, d.recipient, d.channel
        );
        crate::alerts::raise(deps, id, "approval request not delivered", Some(approval.ticket_id), message)
            .await
            .map_err(|e| PortError::Transient(e.to_string()))?;
    }
    stored.map_err(|e| PortError::Transient(format!("the delivery could not be recorded: {e}")))?;
    match sent {
        Err(e @ PortError::Transient(_)) => Err(e),
        _ => Ok(()),
    }
}
