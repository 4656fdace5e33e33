//! Deciding a status update from its page: the link (or the signed-in
//! person) must be the ticket's technician or a configured approver (or an
//! admin); approve posts the text (the draft, or the approver's edit) once,
//! reject records it on the ticket as an internal note. Decided once,
//! through the conditional pending → approved / rejected / dropped transition.

use super::post::{PostReport, post};
use super::scan::{cool_down, still_wanted};
use crate::deps::Deps;
use crate::handlers::approval::DecisionForm;
use crate::handlers::approval::error::ApprovalError;
use crate::handlers::approval::stored::{Access, decider, verify_access};
use crate::handlers::approval::token::check_expiry;
use crate::ports::{NewNote, NoteVisibility};
use atpilot_domain::status_update::QuietStatuses;
use atpilot_store::records::{StatusUpdateRecord, StatusUpdateState, Transition};
use chrono::{DateTime, Utc};

/// The longest text an update may have (characters): a customer reads it as
/// a note, as an approved reply (the same limit).
pub const MAX_TEXT_CHARS: usize = crate::handlers::approval::decide::MAX_REPLY_CHARS;

/// Whether `who` may decide `r`: one of its approvers (case-insensitive) or an admin.
fn may_decide(deps: &Deps, r: &StatusUpdateRecord, who: &str) -> bool {
    r.approvers.iter().any(|a| a.eq_ignore_ascii_case(who.trim())) || deps.config.signin.is_admin(who)
}

/// The proposal a link names and who decides it (the rules of the approval pages).
pub(crate) async fn load(
    deps: &Deps,
    id: &str,
    access: Access<'_>,
    now: DateTime<Utc>,
) -> Result<(String, StatusUpdateRecord), ApprovalError> {
    let claims = verify_access(deps, id, access, now)?;
    let r = deps.state.status_update(id).await?.ok_or(ApprovalError::Unknown)?;
    let may = |who: &str| may_decide(deps, &r, who);
    let decider = decider(deps, access, claims, may, may, ApprovalError::NotTheTechnician)?;
    if r.state == StatusUpdateState::Pending {
        check_expiry(r.expires_at.timestamp(), now)?;
    }
    Ok((decider, r))
}

/// The refusal for a proposal no longer pending.
pub(crate) fn already(r: &StatusUpdateRecord) -> ApprovalError {
    ApprovalError::AlreadyDecided {
        state: r.state.as_str(),
        by: r.decided_by.clone().unwrap_or_else(|| "atpilot".into()),
        at: r.decided_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
    }
}

/// The outcome of a POST.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateDecided {
    Posted(PostReport),
    Rejected,
}

/// The approver's text: the edit if there is one, control characters other
/// than line breaks removed; refused when empty or too long.
fn approved_text(r: &StatusUpdateRecord, form: &DecisionForm) -> Result<(String, bool), ApprovalError> {
    let Some(edit) = form.draft.as_deref() else { return Ok((r.draft.clone(), false)) };
    let clean: String =
        edit.replace("\r\n", "\n").chars().filter(|c| *c == '\n' || !c.is_control()).collect::<String>();
    let clean = clean.trim().to_string();
    if clean.is_empty() {
        return Err(ApprovalError::Form("the update's text is empty: write what the customer should read".into()));
    }
    if clean.chars().count() > MAX_TEXT_CHARS {
        return Err(ApprovalError::Form(format!(
            "the update's text is longer than {MAX_TEXT_CHARS} characters: shorten it"
        )));
    }
    let edited = clean != r.draft.trim();
    Ok((clean, edited))
}

/// POST: decides, once.
pub async fn decide_update(
    deps: &Deps,
    id: &str,
    form: &DecisionForm,
    now: DateTime<Utc>,
) -> Result<UpdateDecided, ApprovalError> {
    let access = Access { token: &form.token, reference: &form.reference, signed_in: form.signed_in.as_deref() };
    let (decider, r) = load(deps, id, access, now).await?;
    if r.state != StatusUpdateState::Pending {
        return Err(already(&r));
    }
    if deps.state.settings().await?.kill_switch {
        return Err(ApprovalError::KillSwitch);
    }
    let approve = form.approves()?;
    let mut d = r.clone();
    d.decided_by = Some(decider.clone());
    d.decided_at = Some(now);
    if !approve {
        d.state = StatusUpdateState::Rejected;
        d.note = form.reason.clone();
        return match deps.state.transition_status_update(&d, StatusUpdateState::Pending).await? {
            Transition::Done => {
                cool_down(deps, &d, now).await?;
                note_rejection(deps, &d).await?;
                Ok(UpdateDecided::Rejected)
            }
            Transition::Refused(cur) => Err(cur.map(|c| already(&c)).unwrap_or(ApprovalError::Unknown)),
        };
    }
    let (text, edited) = approved_text(&r, form)?;
    let cfg = deps.config.status_updates.as_ref();
    let quiet = QuietStatuses {
        complete: Some(deps.config.statuses.complete),
        disengage: deps.config.statuses.disengage.clone(),
        waiting_customer: cfg.map(|c| c.waiting_customer.clone()).unwrap_or_default(),
    };
    if let Some(why) = still_wanted(deps, &quiet, &r).await? {
        d.state = StatusUpdateState::Dropped;
        d.note = Some(format!("not posted: {why}"));
        if let Transition::Refused(Some(cur)) =
            deps.state.transition_status_update(&d, StatusUpdateState::Pending).await?
        {
            return Err(already(&cur));
        }
        cool_down(deps, &d, now).await?;
        return Err(ApprovalError::Stale(why));
    }
    d.state = StatusUpdateState::Approved;
    d.text = Some(text);
    d.edited = edited;
    match deps.state.transition_status_update(&d, StatusUpdateState::Pending).await? {
        Transition::Done => {}
        Transition::Refused(cur) => return Err(cur.map(|c| already(&c)).unwrap_or(ApprovalError::Unknown)),
    }
    let report = post(deps, &d, now).await.map_err(|e| ApprovalError::UpdateInterrupted(e.to_string()))?;
    Ok(UpdateDecided::Posted(report))
}

/// The rejection as an internal note on the ticket (once: found by its marker first).
async fn note_rejection(deps: &Deps, r: &StatusUpdateRecord) -> Result<(), ApprovalError> {
    let marker = r.id.marker();
    if deps.autotask.find_note(r.ticket_id, &marker).await?.is_some() {
        return Ok(());
    }
    let text = format!(
        "atpilot's proposed status update to the customer was rejected by {}{}. Nothing was sent to the customer.\n{marker}",
        r.decided_by.as_deref().unwrap_or("an approver"),
        r.note.as_deref().map(|x| format!(": {x}")).unwrap_or_default()
    );
    let note = NewNote { title: "atpilot status update rejected".into(), text, visibility: NoteVisibility::Internal };
    deps.autotask.add_note(r.ticket_id, &note).await?;
    Ok(())
}
