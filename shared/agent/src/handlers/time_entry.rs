//! The time-entry function: one job = one action on one ticket = at most one
//! Autotask time entry, written once, on the ticket's own contract. The
//! ticket is completed only once its entry is confirmed; an entry Autotask
//! refuses leaves the ticket open, notes why on it and raises an alert.
//! While the kill switch is on it writes nothing: the job waits for a retry.

use crate::alerts;
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::messages::TimeEntryJob;
use crate::ports::{NewNote, NoteVisibility, PortError, TicketChange};
use atpilot_domain::time_entry::{EntryRequest, LedgerState, NextStep, next_step};
use atpilot_domain::{TimeEntryDraft, TimeEntryError, TimeEntryId};
use atpilot_store::records::{Claim, LedgerRecord};

/// What the job ended as.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeEntryOutcome {
    Written(TimeEntryId),
    /// Found in Autotask after a crash between the write and the ledger update.
    Recovered(TimeEntryId),
    AlreadyDone,
    Refused(String),
}

/// Handles one time-entry job: writes its entry once, then completes the ticket.
pub async fn handle(deps: &Deps, job: &TimeEntryJob) -> Result<TimeEntryOutcome, HandlerError> {
    if deps.state.settings().await?.kill_switch {
        return Err(HandlerError::transient(
            "the kill switch is on: atpilot writes nothing, so this time entry waits and is retried",
        ));
    }
    let record = LedgerRecord {
        action_id: job.action_id.clone(),
        ticket_id: job.ticket_id,
        contract_id: job.contract_id,
        span: job.span,
        ledger: LedgerState::Pending,
        stored: None,
    };
    let marker = job.action_id.marker();
    let stored = match deps.state.ledger_claim(&record).await? {
        Claim::Claimed => None,
        Claim::Existing(r) => Some(r.ledger),
    };
    // Only a pending claim from an earlier attempt needs the (one) lookup in Autotask.
    let found = match &stored {
        Some(LedgerState::Pending) => deps.autotask.find_time_entry(job.ticket_id, &marker).await?,
        _ => None,
    };
    match next_step(stored.as_ref(), found) {
        NextStep::Done => {
            // An earlier attempt may have stopped after the ledger moved on (a refused
            // permission, a crash): finish what it left, each step idempotent.
            match &stored {
                Some(LedgerState::Written { .. }) => complete_if_needed(deps, job).await?,
                Some(LedgerState::Refused { why }) => tell_refusal(deps, job, why).await?,
                _ => {}
            }
            return Ok(TimeEntryOutcome::AlreadyDone);
        }
        NextStep::RecordExisting(id) => {
            deps.state.ledger_written(&record, id).await?;
            complete_if_needed(deps, job).await?;
            return Ok(TimeEntryOutcome::Recovered(id));
        }
        NextStep::Write => {}
    }
    let ticket = deps
        .autotask
        .ticket(job.ticket_id)
        .await?
        .ok_or_else(|| HandlerError::permanent(format!("ticket {} no longer exists", job.ticket_id)))?;
    let draft = TimeEntryDraft::new(EntryRequest {
        action_id: &job.action_id,
        ticket_id: job.ticket_id,
        decided_contract: job.contract_id,
        current_contract: ticket.contract_id,
        resource_id: deps.config.agent.resource_id,
        role_id: deps.config.agent.role_id,
        billing_code_id: None,
        span: job.span,
        time_zone: deps.config.autotask.time_zone,
        summary_notes: &job.summary,
    });
    let draft = match draft {
        Ok(d) => d,
        Err(e @ (TimeEntryError::ContractChanged { .. } | TimeEntryError::ContractRemoved { .. })) => {
            let why = e.to_string();
            let _ = deps.state.ledger_refused(&record, &why).await?;
            tell_refusal(deps, job, &why).await?;
            tracing::warn!(ticket = %job.ticket_id, %why, "time entry refused and escalated");
            return Ok(TimeEntryOutcome::Refused(why));
        }
        Err(e) => return Err(HandlerError::permanent("the time entry").with_source(e)),
    };
    let billing_code = deps.config.billing_codes.for_entry(&job.category, job.contract_kind);
    let id = match deps.autotask.create_time_entry(&draft, billing_code).await {
        Ok(id) => id,
        Err(PortError::Permanent(why)) => {
            // Autotask refused the entry for good (e.g. a role or billing-code rule): nothing was
            // written, the ticket is not completed, and a human is told.
            let why = format!("Autotask refused the time entry: {why}");
            let _ = deps.state.ledger_refused(&record, &why).await?;
            tell_refusal(deps, job, &why).await?;
            tracing::error!(ticket = %job.ticket_id, %why, "time entry failed for good; a human was told");
            return Ok(TimeEntryOutcome::Refused(why));
        }
        Err(e) => return Err(e.into()),
    };
    let record = read_back(deps, job, record, &draft, billing_code, id).await?;
    deps.state.ledger_written(&record, id).await?;
    complete_if_needed(deps, job).await?;
    Ok(TimeEntryOutcome::Written(id))
}

/// Reads the written entry back and keeps what Autotask stored in the
/// ledger; a difference from what was sent (a tenant rule changed the billing
/// code, role, hours or contract) raises one alert. A failed read is logged,
/// not fatal: the entry exists and is recorded.
async fn read_back(
    deps: &Deps,
    job: &TimeEntryJob,
    mut record: LedgerRecord,
    draft: &TimeEntryDraft,
    billing_code: atpilot_domain::BillingCodeId,
    id: TimeEntryId,
) -> Result<LedgerRecord, HandlerError> {
    let stored = match deps.autotask.time_entry(id).await {
        Ok(Some(s)) => s,
        Ok(None) | Err(_) => {
            tracing::warn!(ticket = %job.ticket_id, entry = %id, "the time entry could not be read back");
            return Ok(record);
        }
    };
    let diff = atpilot_domain::time_entry::entry_differences(draft, billing_code, &stored);
    record.stored = Some(stored);
    if !diff.is_empty() {
        let message = format!(
            "Autotask stored atpilot's time entry {id} on ticket id {} differently from what was sent ({}): check the tenant's time-entry rules and the entry before invoicing.",
            job.ticket_id,
            diff.join("; ")
        );
        alerts::raise(
            deps,
            format!("time-entry-differs#{}", job.action_id),
            "time-entry-differs",
            Some(job.ticket_id),
            message,
        )
        .await?;
    }
    Ok(record)
}

const LEFT_OPEN: &str = " The ticket was left open: atpilot completes a ticket only after its time entry is written.";

/// The refusal told: the alert (once per action, raised first so a note
/// Autotask refuses still leaves it), then the ticket's internal note, found
/// by the action's marker before it is written, so a retry adds no second one.
async fn tell_refusal(deps: &Deps, job: &TimeEntryJob, why: &str) -> Result<(), HandlerError> {
    alert_failed(deps, job, why).await?;
    let marker = job.action_id.marker();
    if deps.autotask.find_note(job.ticket_id, &marker).await?.is_some() {
        return Ok(());
    }
    let text = format!(
        "atpilot did not log its time on this ticket: {why}.{LEFT_OPEN} A human should check the contract and the time-entry rules, log the time by hand and complete the ticket.\n{marker}"
    );
    let note = NewNote { title: "atpilot: time entry refused".into(), text, visibility: NoteVisibility::Internal };
    deps.autotask.add_note(job.ticket_id, &note).await?;
    Ok(())
}

/// Tells `notifications.alerts` (once per action) and lists it on the dashboard.
async fn alert_failed(deps: &Deps, job: &TimeEntryJob, why: &str) -> Result<(), HandlerError> {
    let message = format!(
        "atpilot's time entry for its {} action on ticket id {} was not written: {why}. The ticket was left open. Log the time by hand and complete the ticket.",
        job.category, job.ticket_id
    );
    alerts::raise(deps, format!("time-entry#{}", job.action_id), "time-entry-failed", Some(job.ticket_id), message)
        .await?;
    Ok(())
}

/// The ticket is completed only once its entry is written (every contract
/// type; jobs from before this rule carry `complete_after: false` for
/// tickets already completed).
async fn complete_if_needed(deps: &Deps, job: &TimeEntryJob) -> Result<(), HandlerError> {
    // Completed once per action: a later redelivery never completes a ticket a human reopened.
    let done_key = format!("completed#{}", job.action_id);
    if !job.complete_after || deps.state.cache_get::<bool>(&done_key).await?.is_some() {
        return Ok(());
    }
    let change = TicketChange { status: Some(deps.config.statuses.complete), ..Default::default() };
    deps.autotask.update_ticket(job.ticket_id, &change).await?;
    super::routing_seen::remember_change(deps, job.ticket_id, &change).await?;
    deps.state.cache_put(&done_key, &true, chrono::Utc::now(), 90 * 24 * 3600).await?;
    Ok(())
}
