//! The approval pages over HTTP, for both the Lambda (Function URL) and
//! `atpilot dev`: `GET /approvals/{id}?t=…[&intent=…]` (or `?r=…` for a signed-in
//! person) shows a confirmation
//! page and never changes state; `POST /approvals/{id}` decides. A decided
//! request's page says only what really happened: the time entry is written
//! by another function, so its state is read from the ledger, never assumed.

use super::decide::{Decided, DecisionForm, decide_request};
use super::error::{ApprovalError, already};
use super::request::RequestView;
use super::stored::{Access, decision_of, load};
use crate::deps::Deps;
use crate::handlers::status_updates::http as updates;
use crate::html::Page;
use crate::html::approval::{self as pages, ConfirmForm, DecidedDetail, Retry};
use atpilot_domain::time_entry::LedgerState;
use atpilot_store::records::{ApprovalRecord, ApprovalState};
use chrono::{DateTime, Utc};

fn error_page(e: &ApprovalError) -> Page {
    pages::error_page(e.status(), &e.to_string())
}

/// A person signed in with the MSP's OpenID provider, as the HTTP layer knows them.
#[derive(Debug, Clone, Copy)]
pub struct SignedInPerson<'a> {
    /// Their e-mail (the provider's `email`, else `preferred_username`).
    pub email: &'a str,
    /// Their session's form token: every POST must carry it as `csrf`.
    pub csrf: &'a str,
}

/// GET: the confirmation page (or, after a refused POST, again with
/// `retry`). Never changes state.
pub(crate) async fn confirm_page(
    deps: &Deps,
    id: &str,
    access: Access<'_>,
    csrf: Option<&str>,
    intent: Option<&str>,
    retry: Option<&Retry<'_>>,
    now: DateTime<Utc>,
) -> Page {
    let (decider, a) = match load(deps, id, access, now).await {
        Ok(x) => x,
        Err(e) => return error_page(&e),
    };
    if a.state != ApprovalState::Pending {
        return decided_page(deps, &a).await;
    }
    super::send::record_opened(deps, &a, &decider, now).await;
    let d = match decision_of(deps, &a).await {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let ticket = match deps.autotask.ticket(a.ticket_id).await {
        Ok(Some(t)) => t,
        Ok(None) => return error_page(&ApprovalError::Stale("the ticket no longer exists".into())),
        Err(e) => return error_page(&e.into()),
    };
    // Said before the approver reads and edits anything (the POST would refuse it the same way).
    if let Some(why) = super::decide::stale_reason(&a, &ticket, deps) {
        return error_page(&ApprovalError::Stale(why));
    }
    let company = deps
        .autotask
        .company_name(ticket.company_id)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| format!("company {}", ticket.company_id));
    let plan = match super::request::plan_of(deps, &a.category, &ticket, &a.action_id).await {
        Ok(p) => p,
        Err(e) => return error_page(&e.into()),
    };
    let requester = match super::request::requester_of(deps, &ticket).await {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let view = RequestView { approval: &a, decision: &d, ticket: &ticket, company, requester, plan };
    let facts: Vec<(String, String)> = view.facts().into_iter().map(|f| (f.label, f.value)).collect();
    let draft = view.draft_lines().map(|l| l.join("\n")).unwrap_or_default();
    pages::confirm_page(&ConfirmForm {
        heading: "Approve this action?",
        approver: &decider,
        id,
        token: access.token,
        reference: access.reference,
        csrf,
        intent,
        facts: &facts,
        reasons: &view.reasons(),
        draft: crate::handlers::classify::replies_with_draft(deps, &a.category).then_some(draft.as_str()),
        retry,
    })
}

/// The time entry's state for an approved request, as a sentence.
pub(crate) async fn time_entry_outcome(deps: &Deps, a: &ApprovalRecord) -> String {
    match deps.state.ledger(&a.action_id).await {
        Err(e) => format!("unknown: the state store could not be read ({e}); reload in a minute"),
        Ok(None) if a.executed_at.is_none() => {
            "not queued yet: the action has not finished; atpilot resumes it within minutes".into()
        }
        Ok(None) => "queued: not written yet; the ticket stays open until it is".into(),
        Ok(Some(l)) => match l.ledger {
            LedgerState::Pending => "being written: not confirmed yet; the ticket stays open until it is".into(),
            LedgerState::Written { time_entry_id } => {
                // Completing the ticket follows the entry: what Autotask says now, read, not assumed.
                let complete = deps.config.statuses.complete;
                let ticket = match deps.autotask.ticket(a.ticket_id).await {
                    Ok(Some(t)) if t.status == complete => "the ticket is completed (read from Autotask just now)",
                    Ok(Some(_)) => "the ticket is not complete in Autotask right now (read just now)",
                    Ok(None) => "the ticket no longer exists in Autotask",
                    Err(_) => "the ticket's status could not be read just now (reload in a minute)",
                };
                format!("written (time entry {time_entry_id}); {ticket}")
            }
            LedgerState::Refused { why } => format!(
                "FAILED: {why}. The ticket was left open and the alert channel was told: log the time by hand and complete the ticket"
            ),
        },
    }
}

/// A decided request: who decided and when, and for an approval the real
/// state of its time entry.
async fn decided_page(deps: &Deps, a: &ApprovalRecord) -> Page {
    let decided = already(a).to_string();
    match a.state {
        ApprovalState::Approved => {
            pages::decided_page(&decided, DecidedDetail::TimeEntry(&time_entry_outcome(deps, a).await))
        }
        _ => pages::decided_page(&decided, DecidedDetail::Note(a.note.as_deref())),
    }
}

/// POST on an approval request: decides, once, and says what was done.
async fn decide(deps: &Deps, id: &str, form: &DecisionForm, now: DateTime<Utc>) -> Result<Page, ApprovalError> {
    Ok(match decide_request(deps, id, form, now).await? {
        Decided::Approved(report) => pages::approved_page(
            &report.done(),
            report.secret.as_ref().map(|s| s.0.as_str()),
            report.measured.is_some(),
        ),
        Decided::Rejected => pages::rejected_page(),
    })
}

/// A POST refused (nothing decided) for its form (status 400) or because the
/// kill switch is on (409): the request's page again, with why and the reply
/// and reason as the approver sent them.
async fn refused_form(
    deps: &Deps,
    id: &str,
    form: &DecisionForm,
    signed_in: Option<SignedInPerson<'_>>,
    refusal: &ApprovalError,
    now: DateTime<Utc>,
) -> Page {
    let access = Access { token: &form.token, reference: &form.reference, signed_in: form.signed_in.as_deref() };
    let (why, next, status) = match refusal {
        ApprovalError::Form(why) => (why.clone(), "correct it and decide again", 400),
        ApprovalError::KillSwitch => (
            "the kill switch is on: atpilot writes nothing, and the request stays pending".to_string(),
            "decide again once the switch is off",
            409,
        ),
        other => (other.to_string(), "decide again", other.status()),
    };
    let retry = Retry { error: &why, draft: form.draft.as_deref(), reason: form.reason.as_deref(), next, status };
    let intent = Some(form.decision.as_str()).filter(|d| matches!(*d, "approve" | "reject"));
    let csrf = signed_in.map(|p| p.csrf);
    if updates::is_update(id) {
        return updates::confirm(deps, id, access, csrf, intent, Some(&retry), now).await;
    }
    confirm_page(deps, id, access, csrf, intent, Some(&retry), now).await
}

/// The approval pages' one entry point: checks the id, then shows (GET) or decides (POST).
pub async fn handle_http(deps: &Deps, method: &str, id: &str, query: &str, body: &[u8], now: DateTime<Utc>) -> Page {
    handle_http_as(deps, method, id, query, body, now, None).await
}

/// [`handle_http`] for a person signed in with the MSP's OpenID provider:
/// the decision is theirs, they must be an approver of the category, and a
/// POST must carry their session's form token.
pub async fn handle_http_as(
    deps: &Deps,
    method: &str,
    id: &str,
    query: &str,
    body: &[u8],
    now: DateTime<Utc>,
    signed_in: Option<SignedInPerson<'_>>,
) -> Page {
    let page = answer(deps, method, id, query, body, now, signed_in).await;
    // Every page carries the dashboard's navigation where the dashboard's address is known.
    match &deps.dashboard_url {
        Some(dashboard) => crate::html::with_nav(page, dashboard),
        None => page,
    }
}

/// The page [`handle_http_as`] answers with, before its navigation.
async fn answer(
    deps: &Deps,
    method: &str,
    id: &str,
    query: &str,
    body: &[u8],
    now: DateTime<Utc>,
    signed_in: Option<SignedInPerson<'_>>,
) -> Page {
    let q: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let id_ok =
        !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !id_ok {
        return error_page(&ApprovalError::Unknown);
    }
    match method {
        "GET" | "HEAD" => {
            let access = Access {
                token: get("t").unwrap_or(""),
                reference: get("r").unwrap_or(""),
                signed_in: signed_in.map(|p| p.email),
            };
            let (csrf, intent) = (signed_in.map(|p| p.csrf), get("intent"));
            if updates::is_update(id) {
                return updates::confirm(deps, id, access, csrf, intent, None, now).await;
            }
            confirm_page(deps, id, access, csrf, intent, None, now).await
        }
        "POST" => {
            let mut form = DecisionForm::parse(body);
            if let Some(p) = signed_in {
                let same: bool = subtle::ConstantTimeEq::ct_eq(form.csrf.as_bytes(), p.csrf.as_bytes()).into();
                if !same || p.csrf.is_empty() {
                    return error_page(&ApprovalError::StaleSession);
                }
                form.signed_in = Some(p.email.to_string());
            }
            let decided = if updates::is_update(id) {
                updates::decide(deps, id, &form, now).await
            } else {
                decide(deps, id, &form, now).await
            };
            match decided {
                Ok(page) => page,
                Err(e @ (ApprovalError::Form(_) | ApprovalError::KillSwitch)) => {
                    refused_form(deps, id, &form, signed_in, &e, now).await
                }
                Err(e) => error_page(&e),
            }
        }
        _ => pages::method_not_allowed(),
    }
}
