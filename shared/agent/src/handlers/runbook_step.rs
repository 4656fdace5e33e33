//! The runbook part of a resolution: runs the category's runbook once per
//! action (claimed in the state store first, so a redelivery, a second click
//! or the sweep never runs it twice), and keeps what it did. A run cut short
//! between the provider and its record is never run again: it is reported
//! failed, for a technician to check.

use crate::deps::Deps;
use crate::error::HandlerError;
use crate::ports::{RunbookRun, RunbookTarget, ShownOnce};
use atpilot_domain::{ActionId, Runbook, RunbookKind, RunbookOutcome, RunbookStatus, TicketSnapshot};
use atpilot_store::records::{Claim, Resume, RunbookRecord};

/// What the runbook step leaves for the rest of the resolution.
pub(crate) struct Ran {
    pub outcome: RunbookOutcome,
    /// The reply written from the verified result.
    pub reply: Option<String>,
    /// Shown once to the approver; `None` after a redelivery (it is never stored).
    pub secret: Option<ShownOnce>,
}

fn interrupted(r: &RunbookRecord, plan: String, kind: RunbookKind) -> RunbookOutcome {
    let reason = format!(
        "a run started at {} was cut short before its result was recorded: atpilot does not run it twice; a technician must check the account",
        r.started_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    RunbookOutcome::stopped(kind, plan, RunbookStatus::Failed, reason)
}

/// The result of an earlier run of this action (`plan` describes it if it was cut short).
async fn earlier(deps: &Deps, r: RunbookRecord, plan: String, kind: RunbookKind) -> Result<Ran, HandlerError> {
    match (r.outcome.clone(), r.reply.clone()) {
        (Some(outcome), reply) => Ok(Ran { outcome, reply, secret: None }),
        (None, _) => {
            let outcome = interrupted(&r, plan, kind);
            let done = RunbookRecord { outcome: Some(outcome.clone()), ..r };
            deps.state.finish_runbook(&done).await?;
            Ok(Ran { outcome, reply: None, secret: None })
        }
    }
}

/// Runs `runbook` for the ticket's requester once per `action`. A finished
/// earlier run is returned as it is, without asking Autotask for the
/// requester again; the requester is looked up before the run is claimed, so
/// a failed lookup never leaves a claimed run that did nothing.
pub(crate) async fn run_once(
    deps: &Deps,
    runbook: &Runbook,
    ticket: &TicketSnapshot,
    action: &ActionId,
) -> Result<Ran, HandlerError> {
    let kind = runbook.kind();
    let existing = deps.state.runbook(action).await?;
    if let Some(r) = existing.clone().filter(|r| r.outcome.is_some()) {
        return earlier(deps, r, String::new(), kind).await;
    }
    let requester = deps.autotask.requester(ticket).await?;
    let target = RunbookTarget { ticket, requester_email: requester.contact_email.as_deref(), action_id: action };
    let plan = deps.runbooks.describe(runbook, &target);
    if let Some(r) = existing {
        return earlier(deps, r, plan, kind).await;
    }
    let claim = RunbookRecord {
        action_id: action.clone(),
        ticket_id: ticket.id,
        started_at: chrono::Utc::now(),
        outcome: None,
        reply: None,
        resume: None,
    };
    if let Claim::Existing(r) = deps.state.claim_runbook(&claim).await? {
        return earlier(deps, r, plan, kind).await;
    }
    let RunbookRun { outcome, reply, secret } = deps.runbooks.run(runbook, &target).await;
    tracing::info!(action = %action, runbook = %runbook, status = ?outcome.status, "runbook run");
    let done = RunbookRecord { outcome: Some(outcome.clone()), reply: reply.clone(), ..claim };
    deps.state.finish_runbook(&done).await?;
    Ok(Ran { outcome, reply, secret })
}

/// The internal note for a run that did not verify: what was tried, what the
/// provider answered, what a human must do. No reply, no time entry follow.
pub(crate) fn failure_note(o: &RunbookOutcome) -> String {
    format!(
        "atpilot did not resolve this ticket: its runbook did not complete.\nTried: {}\nResult: {:?}: {}\nA technician must finish it by hand; no reply was sent and no time was logged.",
        o.plan,
        o.status,
        o.reason.as_deref().unwrap_or("no reason given")
    )
}

/// How long a runbook's callback may take (its webhook's `callback_timeout_minutes`).
fn callback_window(deps: &Deps, runbook: &Runbook) -> chrono::Duration {
    let minutes = runbook
        .parameter()
        .and_then(|name| deps.config.webhooks.get(name))
        .map_or(24 * 60, |w| i64::from(w.callback_timeout_minutes));
    chrono::Duration::minutes(minutes)
}

/// Keeps what the resolution needs to finish when the callback comes, and
/// tells the technicians once (an internal note under its own marker, so the
/// reply's marker stays free for the reply).
pub(crate) async fn await_callback(
    deps: &Deps,
    runbook: &Runbook,
    r: &super::resolution::Resolution<'_>,
) -> Result<(), HandlerError> {
    let Some(record) = deps.state.runbook(r.action_id).await? else { return Ok(()) };
    if record.resume.is_some() {
        return Ok(());
    }
    let resume = Resume {
        runbook: runbook.clone(),
        category: r.category.clone(),
        queue_id: r.queue_id,
        priority: r.priority,
        contract_id: r.contract,
        contract_kind: r.kind,
        plan: r.plan,
        summary: r.summary.clone(),
        started: r.started,
        deadline: record.started_at + callback_window(deps, runbook),
    };
    let deadline = resume.deadline;
    let plan = record.outcome.as_ref().map(|o| o.plan.clone()).unwrap_or_default();
    deps.state.finish_runbook(&RunbookRecord { resume: Some(resume), ..record }).await?;
    let marker = waiting_marker(r.action_id);
    let note = crate::ports::NewNote {
        title: "atpilot: waiting for the runbook".into(),
        text: format!(
            "atpilot sent this ticket to its runbook, which accepted the job and will report back.\nPlan: {}\nWhen it reports done, atpilot posts the reply and logs the measured time; if it refuses or fails, or sends nothing by {}, a technician is asked to finish it.\n\n{marker}",
            atpilot_domain::untrusted::one_line(&plan),
            deadline.format("%Y-%m-%d %H:%M UTC")
        ),
        visibility: crate::ports::NoteVisibility::Internal,
    };
    super::resolution::note_once(deps, r.ticket.id, note, &marker, true).await.map(|_| ())
}

/// The marker of the waiting note (distinct from the action's reply marker).
pub(crate) fn waiting_marker(action: &ActionId) -> String {
    format!("[atpilot:{action}:waiting]")
}
