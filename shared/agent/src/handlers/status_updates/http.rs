//! A status update's pages, served under the approval pages' route
//! (`/approvals/su-…`, same links, tokens and sign-in): the page a link
//! opens (never changes state, the text editable), and the result of a POST.
//! A decided update's page says only what really happened.

use super::decide::{UpdateDecided, already, decide_update, load};
use crate::deps::Deps;
use crate::handlers::approval::DecisionForm;
use crate::handlers::approval::error::ApprovalError;
use crate::handlers::approval::stored::Access;
use crate::html::Page;
use crate::html::approval::{self as pages, ConfirmForm, DecidedDetail, Retry};
use atpilot_domain::time_entry::LedgerState;
use atpilot_store::records::{StatusUpdateRecord, StatusUpdateState};
use chrono::{DateTime, Utc};

/// Whether `id` names a status update (their ids start `su-`).
pub(crate) fn is_update(id: &str) -> bool {
    id.starts_with("su-")
}

fn error_page(e: &ApprovalError) -> Page {
    pages::error_page(e.status(), &e.to_string())
}

fn facts(r: &StatusUpdateRecord) -> Vec<(String, String)> {
    let contact = match r.last_customer_visible {
        Some(t) => format!("{:.0} days (last on {} UTC)", r.quiet_days, t.format("%Y-%m-%d %H:%M")),
        None => format!("{:.0} days (none since the ticket was opened)", r.quiet_days),
    };
    vec![
        (
            "What Approve does".into(),
            "Post the text below to the customer as one customer-visible note on the ticket, tell the customer as configured, and log the measured time. The ticket stays open.".into(),
        ),
        ("Ticket".into(), r.ticket_number.clone()),
        ("Open for".into(), format!("{:.0} days", r.open_days)),
        ("No customer-visible activity for".into(), contact),
        ("Expires".into(), format!("{} UTC", r.expires_at.format("%Y-%m-%d %H:%M"))),
    ]
}

fn reasons(r: &StatusUpdateRecord) -> Vec<String> {
    let mut v = vec![format!(
        "The ticket has been open {:.0} days and the customer has heard nothing for {:.0} days.",
        r.open_days, r.quiet_days
    )];
    v.extend(r.left_out.iter().map(|l| format!("Left out of the draft: {l}")));
    v
}

/// GET: the page a link opens (or, after a refused POST, again with
/// `retry`). Never changes state.
pub(crate) async fn confirm(
    deps: &Deps,
    id: &str,
    access: Access<'_>,
    csrf: Option<&str>,
    intent: Option<&str>,
    retry: Option<&Retry<'_>>,
    now: DateTime<Utc>,
) -> Page {
    let (decider, r) = match load(deps, id, access, now).await {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    if r.state != StatusUpdateState::Pending {
        return decided(deps, &r).await;
    }
    pages::confirm_page(&ConfirmForm {
        heading: "Send this status update to the customer?",
        approver: &decider,
        id,
        token: access.token,
        reference: access.reference,
        csrf,
        intent,
        facts: &facts(&r),
        reasons: &reasons(&r),
        draft: Some(&r.draft),
        retry,
    })
}

/// A decided update: who decided and when, and what became of it.
async fn decided(deps: &Deps, r: &StatusUpdateRecord) -> Page {
    let head = already(r).to_string();
    let detail = match r.state {
        StatusUpdateState::Posted => {
            let entry = match deps.state.ledger(&r.id).await {
                Ok(Some(l)) => match l.ledger {
                    LedgerState::Written { time_entry_id } => format!("time entry {time_entry_id} written"),
                    LedgerState::Pending => "time entry being written".into(),
                    LedgerState::Refused { why } => format!("time entry FAILED: {why}"),
                },
                Ok(None) => "no time entry written yet".into(),
                Err(e) => format!("the time entry's state could not be read ({e})"),
            };
            format!(
                "Posted as customer-visible note {}; {}; {entry}.",
                r.note_id.map(|n| n.to_string()).unwrap_or_default(),
                r.told.as_deref().unwrap_or("the customer path was not recorded")
            )
        }
        StatusUpdateState::Approved => {
            "Approved; posting it was interrupted and atpilot finishes it on its next scan.".into()
        }
        _ => r.note.clone().unwrap_or_default(),
    };
    pages::decided_page(&head, DecidedDetail::Note(Some(&detail).filter(|d| !d.is_empty()).map(|d| d.as_str())))
}

/// POST: decides, once, and says what was done.
pub(crate) async fn decide(
    deps: &Deps,
    id: &str,
    form: &DecisionForm,
    now: DateTime<Utc>,
) -> Result<Page, ApprovalError> {
    Ok(match decide_update(deps, id, form, now).await? {
        UpdateDecided::Posted(report) => pages::approved_page(&report.done(), None, report.time_entry.is_ok()),
        UpdateDecided::Rejected => pages::rejected_page(),
    })
}
