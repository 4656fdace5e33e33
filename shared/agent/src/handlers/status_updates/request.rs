//! A proposal: the draft written from the ticket's activity, stored (at most
//! one pending per ticket), and the request e-mailed to whoever approves it
//! (the assigned technician, else `[status_updates] approvers`), with their
//! own links, or one Review link where the pages require sign-in.

use crate::adapters::notify::Email;
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::handlers::approval::token::{Links, links_to, review_link_to};
use crate::html::esc;
use crate::ports::{OpenTicket, TicketActivity};
use crate::status_update::{Source, draft, next_news_by};
use atpilot_config::StatusUpdatesConfig;
use atpilot_domain::status_update::Quiet;
use atpilot_domain::untrusted::one_line;
use atpilot_store::records::{Claim, StatusUpdateRecord, StatusUpdateState};
use chrono::{DateTime, Duration, Utc};

/// What proposing did.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Proposal {
    Proposed(Box<StatusUpdateRecord>),
    AlreadyPending,
    /// Nobody to ask: no technician e-mail and no configured approver.
    NoApprover,
}

/// Who approves an update of `t`: the assigned technician's e-mail, else the configured approvers.
async fn approvers_of(deps: &Deps, cfg: &StatusUpdatesConfig, t: &OpenTicket) -> Result<Vec<String>, HandlerError> {
    if let Some(r) = t.assigned_resource_id {
        if let Some(email) = deps.autotask.resource_email(r).await? {
            return Ok(vec![email]);
        }
    }
    Ok(cfg.approvers.clone())
}

/// What the draft must not name: the ticket's contact and company, every
/// customer, and (unless allowed) every member of staff.
async fn names_for(
    deps: &Deps,
    cfg: &StatusUpdatesConfig,
    ticket: &atpilot_domain::TicketSnapshot,
) -> Result<Vec<String>, HandlerError> {
    let mut names = deps.autotask.customer_names().await?;
    names.extend(deps.autotask.requester(ticket).await?.contact_name);
    names.extend(deps.autotask.company_name(ticket.company_id).await?);
    if !cfg.staff_names {
        names.extend(deps.autotask.resource_names().await?);
    }
    Ok(names)
}

/// Drafts and stores a proposal for `t`, quiet as `q` with its last
/// customer-visible activity at `last`.
pub(super) async fn propose(
    deps: &Deps,
    cfg: &StatusUpdatesConfig,
    t: &OpenTicket,
    q: Quiet,
    last: Option<DateTime<Utc>>,
    activity: &TicketActivity,
    now: DateTime<Utc>,
) -> Result<Proposal, HandlerError> {
    let approvers = approvers_of(deps, cfg, t).await?;
    if approvers.is_empty() {
        return Ok(Proposal::NoApprover);
    }
    let Some(ticket) = deps.autotask.ticket(t.id).await? else { return Ok(Proposal::AlreadyPending) };
    let names = names_for(deps, cfg, &ticket).await?;
    let zone = &deps.config.autotask.time_zone;
    let policy = cfg.policy_for(t.priority);
    let d = draft(&Source {
        ticket_number: &t.ticket_number,
        since: zone.date_of(last.unwrap_or(t.create_date).max(t.create_date)),
        next_news_by: next_news_by(zone.date_of(now), t.due, now, zone, policy.quiet_days),
        activity,
        names: &names,
    });
    let days = |d: Duration| (d.num_seconds() as f64 / 86_400.0 * 10.0).round() / 10.0;
    let record = StatusUpdateRecord {
        id: StatusUpdateRecord::id_for(t.id, now),
        ticket_id: t.id,
        ticket_number: t.ticket_number.clone(),
        state: StatusUpdateState::Pending,
        created_at: now,
        expires_at: now + Duration::hours(cfg.expires_hours.into()),
        approvers,
        draft: d.text,
        left_out: d.left_out,
        last_customer_visible: last,
        open_days: days(q.open_for),
        quiet_days: days(q.quiet_for),
        text: None,
        edited: false,
        decided_by: None,
        decided_at: None,
        note: None,
        note_id: None,
        posted_at: None,
        told: None,
    };
    Ok(match deps.state.propose_status_update(&record).await? {
        Claim::Claimed => Proposal::Proposed(Box::new(record)),
        Claim::Existing(_) => Proposal::AlreadyPending,
    })
}

/// The request's first paragraph: what is asked, with atpilot's own facts only.
fn heading(r: &StatusUpdateRecord) -> String {
    format!(
        "Status update to approve: ticket {} (open {:.0} days, no customer contact for {:.0} days)",
        one_line(&r.ticket_number),
        r.open_days,
        r.quiet_days
    )
}

const BUTTON: &str = "color:#fff;padding:8px 14px;text-decoration:none;border-radius:4px";

/// The e-mail to one approver: their links (or the Review link) first, then
/// the draft as a quoted block.
pub(crate) fn request_email(r: &StatusUpdateRecord, approver: &str, links: Result<&Links, &str>) -> Email {
    let head = heading(r);
    let (text_links, html_links) = match links {
        Ok(l) => (
            format!(
                "Approve: {}\nReject: {}\nOpen: {}\n\nEach link opens a page where you can edit the text before it goes to the customer; nothing happens until you confirm there. These links are for {approver} only.",
                l.approve, l.reject, l.open
            ),
            format!(
                "<p><a href=\"{}\" style=\"background:#2e7d32;{BUTTON}\">Approve</a> &nbsp; <a href=\"{}\" style=\"background:#b3261e;{BUTTON}\">Reject</a> &nbsp; <a href=\"{}\">Open</a></p><p style=\"color:#8a93a6\">Each link opens a page where you can edit the text before it goes to the customer; nothing happens until you confirm there. These links are for {} only.</p>",
                esc(&l.approve),
                esc(&l.reject),
                esc(&l.open),
                esc(approver)
            ),
        ),
        Err(review) => (
            format!(
                "Review: {review}\n\nThe link opens the update; sign in with your work account to edit, approve or reject it there. Opening it changes nothing."
            ),
            format!(
                "<p><a href=\"{}\" style=\"background:#1f5fbf;{BUTTON}\">Review</a></p><p style=\"color:#8a93a6\">The link opens the update; sign in with your work account to edit, approve or reject it there. Opening it changes nothing.</p>",
                esc(review)
            ),
        ),
    };
    let quoted: String = r.draft.lines().map(|l| format!("> {l}\n")).collect();
    let mut text = format!(
        "{head}\n\n{text_links}\n\nWhat Approve does: post the text below to the customer as one customer-visible note on the ticket, and log the measured time.\n\nDraft (quoted; edit it on the page):\n{quoted}"
    );
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:Segoe UI,Arial,sans-serif;color:#1d2433\"><h2>{}</h2>{html_links}<p>What Approve does: post the text below to the customer as one customer-visible note on the ticket, and log the measured time.</p><h3>Draft</h3><pre style=\"white-space:pre-wrap;font-family:inherit\">{}</pre>",
        esc(&head),
        esc(&r.draft)
    );
    if !r.left_out.is_empty() {
        text.push_str("\nLeft out of the draft:\n");
        html.push_str("<h3>Left out of the draft</h3><ul>");
        for l in &r.left_out {
            text.push_str(&format!("- {}\n", one_line(l)));
            html.push_str(&format!("<li>{}</li>", esc(l)));
        }
        html.push_str("</ul>");
    }
    html.push_str("</body></html>");
    Email {
        to: vec![approver.to_string()],
        subject: one_line(&format!("[atpilot] Approve status update – ticket {}", r.ticket_number)),
        html,
        text,
        attachments: vec![],
        inline: vec![],
    }
}

/// E-mails the request to each approver. A failed send raises an alert
/// (the proposal stays pending on the dashboard).
pub(super) async fn send_request(deps: &Deps, r: &StatusUpdateRecord) -> Result<(), HandlerError> {
    let review = deps.signin.then(|| review_link_to(deps, r.id.as_str(), r.expires_at));
    for approver in &r.approvers {
        let own = links_to(deps, r.id.as_str(), r.expires_at, approver);
        let links = match &review {
            Some(url) => Err(url.as_str()),
            None => Ok(&own),
        };
        if let Err(e) = deps.notifier.send_email(&request_email(r, approver, links)).await {
            let message = format!(
                "the status update for ticket {} could not be e-mailed to {approver} ({e}): it waits on the dashboard",
                r.ticket_number
            );
            crate::alerts::raise(
                deps,
                format!("status-update-email#{}#{approver}", r.id),
                "status-update-email-failed",
                Some(r.ticket_id),
                message,
            )
            .await?;
        }
    }
    Ok(())
}
