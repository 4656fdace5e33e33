//! The runbook part of a resolution: runs the category's runbook once per
//! action (claimed in the state store first, so a redelivery, a second click
//! or the sweep never runs it twice), and keeps what it did. A run cut short
//! between the provider and its record is never run again: it is reported
//! failed, for a technician to check.

use crate::deps::Deps;
use crate::error::HandlerError;
use crate::ports::{RunbookRun, RunbookTarget, ShownOnce};
use atpilot_domain::{ActionId, RunbookKind, RunbookOutcome, RunbookStatus, TicketSnapshot};
use atpilot_store::records::{Claim, RunbookRecord};

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

/// Runs `kind` for the ticket's requester once per `action`. A finished
/// earlier run is returned as it is, without asking Autotask for the
/// requester again; the requester is looked up before the run is claimed, so
/// a failed lookup never leaves a claimed run that did nothing.
pub(crate) async fn run_once(
    deps: &Deps,
    kind: RunbookKind,
    ticket: &TicketSnapshot,
    action: &ActionId,
) -> Result<Ran, HandlerError> {
    let existing = deps.state.runbook(action).await?;
    if let Some(r) = existing.clone().filter(|r| r.outcome.is_some()) {
        return earlier(deps, r, String::new(), kind).await;
    }
    let requester = deps.autotask.requester(ticket).await?;
    let target = RunbookTarget { ticket, requester_email: requester.contact_email.as_deref() };
    let plan = deps.runbooks.describe(kind, &target);
    if let Some(r) = existing {
        return earlier(deps, r, plan, kind).await;
    }
    let claim = RunbookRecord {
        action_id: action.clone(),
        ticket_id: ticket.id,
        started_at: chrono::Utc::now(),
        outcome: None,
        reply: None,
    };
    if let Claim::Existing(r) = deps.state.claim_runbook(&claim).await? {
        return earlier(deps, r, plan, kind).await;
    }
    let RunbookRun { outcome, reply, secret } = deps.runbooks.run(kind, &target).await;
    tracing::info!(action = %action, runbook = %kind, status = ?outcome.status, "runbook run");
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
