//! Sending a request to its approvers, one delivery per channel and
//! recipient, each recorded ([`DeliveryRecord`]): a failure on one never
//! stops the others; a retry (the classify message's next delivery) resends
//! only what was not accepted; a permanent refusal (an unverified sender, a
//! deleted flow) alerts the operator once a day per channel with the
//! provider's answer, which says how to fix it.

use super::request::{EmailLinks, RequestLinks, RequestView, email, plan_of, teams_card};
use super::token::{links, review_link};
use crate::deps::Deps;
use crate::ports::PortError;
use atpilot_config::Channel;
use atpilot_domain::TicketSnapshot;
use atpilot_store::records::{ApprovalRecord, DecisionRecord, DeliveryRecord, DeliveryState};
use chrono::Utc;

/// The Teams channel, as a delivery's recipient.
const TEAMS_CHANNEL: &str = "channel";

/// One message to send: Teams (the channel) or one approver's e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Teams,
    Email(String),
}

impl Target {
    fn channel(&self) -> &'static str {
        match self {
            Target::Teams => "teams",
            Target::Email(_) => "email",
        }
    }
    fn recipient(&self) -> &str {
        match self {
            Target::Teams => TEAMS_CHANNEL,
            Target::Email(who) => who,
        }
    }
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
    let before = deps.state.deliveries(&approval.id).await.map_err(|e| PortError::Transient(e.to_string()))?;
    let previous = |t: &Target| before.iter().find(|d| d.channel == t.channel() && d.recipient == t.recipient());
    targets.retain(|t| previous(t).is_none_or(|d| d.state != DeliveryState::Accepted));
    if targets.is_empty() {
        return Ok(());
    }
    let company = deps
        .autotask
        .company_name(ticket.company_id)
        .await?
        .unwrap_or_else(|| format!("company {}", ticket.company_id));
    let plan = plan_of(deps, &approval.category, ticket, &approval.action_id).await?;
    let view = RequestView { approval, decision, ticket, company, plan };
    let request_links = if deps.signin {
        RequestLinks::Review(review_link(deps, approval))
    } else {
        RequestLinks::PerApprover(cat.approvers.iter().map(|a| (a.clone(), links(deps, approval, a))).collect())
    };
    let mut retry = None;
    for target in targets {
        let sent = match &target {
            Target::Teams => deps
                .notifier
                .post_teams(&teams_card(&view, &request_links))
                .await
                .map(|()| "accepted by the Teams URL (a Workflows flow answers before it posts)".to_string()),
            Target::Email(who) => {
                let l = match &request_links {
                    RequestLinks::Review(url) => EmailLinks::Review(url),
                    RequestLinks::PerApprover(all) => match all.iter().find(|(a, _)| a == who) {
                        Some((_, l)) => EmailLinks::Own(l),
                        None => continue,
                    },
                };
                deps.notifier.send_email(&email(&view, who, l)).await.map(|id| format!("SES message id {id}"))
            }
        };
        let attempts = previous(&target).map_or(0, |d| d.attempts) + 1;
        if let Err(e) = record(deps, approval, &target, sent, attempts).await {
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
    let (state, answer) = match &sent {
        Ok(answer) => (DeliveryState::Accepted, answer.clone()),
        Err(e @ PortError::Transient(_)) => (DeliveryState::Retrying, e.to_string()),
        Err(e) => (DeliveryState::Failed, e.to_string()),
    };
    let d = DeliveryRecord {
        approval_id: approval.id.clone(),
        channel: target.channel().into(),
        recipient: target.recipient().into(),
        state,
        answer: answer.clone(),
        attempts,
        at: Utc::now(),
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
