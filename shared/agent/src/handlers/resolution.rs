//! Carrying out a resolution: the step the autonomous path (classify) and
//! the approved path (an approval click, or the sweep resuming one) share.
//! It runs the category's runbook (once per action; [`super::runbook_step`]),
//! and only when that verified (or the runbook is reply-only) posts the
//! customer reply, sets the ticket's routing and queues one time-entry job,
//! each idempotently; a runbook that did not verify leaves one internal note
//! and nothing else. It writes nothing while the kill switch is on. Both
//! paths depend on this room, not on each other.

use crate::deps::Deps;
use crate::error::HandlerError;
use crate::messages::TimeEntryJob;
use crate::ports::{NewNote, NoteVisibility, PortError, TicketChange};
use atpilot_domain::{
    ActionId, ActionPlan, Category, ContractId, ContractKind, PriorityId, QueueId, TicketId, TicketSnapshot, WorkSpan,
};
use atpilot_store::OutMessage;
use chrono::{DateTime, Duration, Utc};

/// Adds a note once: a redelivery first looks for the note's marker. The
/// note's id: the one found, or the one written.
pub(crate) async fn note_once(
    deps: &Deps,
    ticket: TicketId,
    note: NewNote,
    marker: &str,
    redelivery: bool,
) -> Result<i64, HandlerError> {
    if redelivery && let Some(found) = deps.autotask.find_note(ticket, marker).await? {
        return Ok(found);
    }
    Ok(deps.autotask.add_note(ticket, &note).await?)
}

/// The kill switch stops every write: a handler that would write checks it
/// first and leaves the work for a retry.
pub(crate) async fn refuse_if_killed(deps: &Deps) -> Result<(), HandlerError> {
    if deps.state.settings().await?.kill_switch {
        return Err(HandlerError::transient("the kill switch is on: atpilot writes nothing; retried once it is off"));
    }
    Ok(())
}

/// The title of the customer-visible reply.
pub(crate) const REPLY_TITLE: &str = "Update from the service desk";

/// Autotask refused the ticket's fields for good (e.g. a stored description
/// longer than the API accepts makes every edit fail): no reply, no time
/// entry; one internal note and one alert say what was done and what a
/// technician must finish. Not retried.
async fn update_refused(
    deps: &Deps,
    r: &Resolution<'_>,
    report: &ResolutionReport,
    why: &str,
) -> Result<(), HandlerError> {
    let marker = r.action_id.marker();
    let work = match &report.runbook {
        Some(o) => format!("It did the work and read it back: {}.", o.plan),
        None => "It changed nothing yet.".to_string(),
    };
    let text = format!(
        "atpilot could not update this ticket: Autotask refused it ({why}). {work} No reply was sent to the customer and no time was logged; a technician must update the ticket, reply and complete it.\n\n{marker}"
    );
    let note = NewNote { title: "atpilot: ticket update refused".into(), text, visibility: NoteVisibility::Internal };
    note_once(deps, r.ticket.id, note, &marker, true).await?;
    let message =
        format!("Ticket {}: Autotask refused atpilot's update ({why}); no reply was sent", r.ticket.ticket_number);
    crate::alerts::raise(
        deps,
        format!("ticket-update#{}", r.action_id),
        "ticket-update-refused",
        Some(r.ticket.id),
        message,
    )
    .await?;
    Ok(())
}

/// A resolution to carry out: autonomously, or once a human approved it.
pub(crate) struct Resolution<'a> {
    pub ticket: &'a TicketSnapshot,
    pub category: &'a Category,
    /// Predicted routing to apply, if any.
    pub queue_id: Option<QueueId>,
    pub priority: Option<PriorityId>,
    pub contract: ContractId,
    pub kind: ContractKind,
    /// What the contract asks beside the work; kept for a resolution that
    /// resumes after its runbook's callback.
    pub plan: ActionPlan,
    pub action_id: &'a ActionId,
    /// The customer-visible reply.
    pub draft: Option<&'a str>,
    /// The time entry's summary: what the agent did and who approved it.
    pub summary: String,
    /// Set when an earlier attempt may have written part of it.
    pub redelivery: bool,
    /// When the agent's work on this action started.
    pub started: DateTime<Utc>,
}

/// Carries out a resolution, idempotently: the customer reply (once, by its
/// marker), the ticket fields not already so, and one time-entry job. The
/// ticket's status is not touched here: the time-entry function completes the
/// ticket only once its entry is confirmed written, whatever the contract type.
/// Refused (nothing written) while the kill switch is on.
pub(crate) async fn execute_resolution(
    deps: &Deps,
    r: &Resolution<'_>,
    now: &impl Fn() -> DateTime<Utc>,
) -> Result<ResolutionReport, HandlerError> {
    refuse_if_killed(deps).await?;
    let mut report = ResolutionReport::default();
    let marker = r.action_id.marker();
    let runbook = deps.config.runbook(r.category).ok_or_else(|| {
        HandlerError::permanent(format!("category {} has no runbook: nothing would do its work", r.category))
    })?;
    let mut reply = r.draft.map(str::to_string);
    if !runbook.kind().replies_with_draft() {
        let ran = super::runbook_step::run_once(deps, runbook, r.ticket, r.action_id).await?;
        report.runbook = Some(ran.outcome.clone());
        if ran.outcome.pending() {
            // The provider calls back with the result; the resolution resumes then.
            super::runbook_step::await_callback(deps, runbook, r).await?;
            return Ok(report);
        }
        if !ran.outcome.verified() {
            let note = NewNote {
                title: "atpilot: runbook did not complete".into(),
                text: format!("{}\n\n{marker}", super::runbook_step::failure_note(&ran.outcome)),
                visibility: NoteVisibility::Internal,
            };
            note_once(deps, r.ticket.id, note, &marker, r.redelivery).await?;
            return Ok(report);
        }
        report.secret = ran.secret;
        reply = ran.reply;
    }
    let change = TicketChange {
        queue_id: r.queue_id,
        priority: r.priority,
        status: None,
        assign_to: Some((deps.config.agent.resource_id, deps.config.agent.role_id)),
    };
    // The fields first: the customer hears "done" only once the ticket says so
    // too. Write only what is not already so (a redelivery finds its own writes).
    let change = change.minus(r.ticket);
    if !change.is_empty() {
        match deps.autotask.update_ticket(r.ticket.id, &change).await {
            Ok(()) => super::routing_seen::remember_change(deps, r.ticket.id, &change).await?,
            Err(PortError::Permanent(why)) => {
                update_refused(deps, r, &report, &why).await?;
                report.update_refused = Some(why);
                return Ok(report);
            }
            Err(e) => return Err(e.into()),
        }
        report.queue_set = change.queue_id.is_some();
        report.priority_set = change.priority.is_some();
        report.assigned = change.assign_to.is_some();
    }
    if let Some(text) = reply {
        // No marker in what customers read: a redelivery finds the reply by its content.
        let reply = NewNote { title: REPLY_TITLE.into(), text, visibility: NoteVisibility::Customer };
        if !(r.redelivery && deps.autotask.find_customer_note(r.ticket.id, &reply, None).await?.is_some()) {
            deps.autotask.add_note(r.ticket.id, &reply).await?;
        }
        report.reply_posted = true;
        let acted_alone = deps.state.approval(r.action_id.as_str()).await?.is_none();
        report.customer_told =
            Some(super::reply_path::tell_customer(deps, r.ticket, r.action_id, &reply.text, acted_alone).await?);
    }
    let end = now().max(r.started + Duration::milliseconds(1));
    let span = WorkSpan::new(r.started, end).map_err(|e| HandlerError::permanent("measured work").with_source(e))?;
    let job = TimeEntryJob {
        action_id: r.action_id.clone(),
        ticket_id: r.ticket.id,
        contract_id: r.contract,
        contract_kind: r.kind,
        category: r.category.clone(),
        span,
        summary: format!("{} Measured work: {:.1} s.", r.summary, span.milliseconds() as f64 / 1000.0),
        complete_after: true,
    };
    let body = serde_json::to_string(&job)
        .map_err(|e| HandlerError::permanent("encoding the time-entry job").with_source(e))?;
    deps.time_entry_queue
        .send(OutMessage { group_id: format!("ticket-{}", r.ticket.id), dedup_id: r.action_id.to_string(), body })
        .await?;
    report.measured = Some(span);
    Ok(report)
}

/// What [`execute_resolution`] did, for pages that must say exactly that.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolutionReport {
    /// What the runbook did (`None` for reply-only).
    pub runbook: Option<atpilot_domain::RunbookOutcome>,
    /// A temporary password for the approver's page, shown once, never stored.
    pub secret: Option<crate::ports::ShownOnce>,
    /// The customer-visible reply was posted (or found from an earlier attempt).
    pub reply_posted: bool,
    pub queue_set: bool,
    pub priority_set: bool,
    /// The ticket was assigned to the agent.
    pub assigned: bool,
    /// The measured work whose time entry was queued.
    pub measured: Option<WorkSpan>,
    /// Autotask refused the ticket's fields for good, and why: nothing more was written.
    pub update_refused: Option<String>,
    /// Whether and how the customer heard of the reply (one sentence).
    pub customer_told: Option<String>,
}

impl ResolutionReport {
    /// The writes made, as sentences ("posted the reply to the customer", …).
    pub fn done(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(o) = &self.runbook {
            match o.status {
                atpilot_domain::RunbookStatus::Verified => v.push(format!("{} (done and read back)", o.plan)),
                _ if o.pending() => v.push(format!(
                    "{}: the runbook accepted it and will report back; the reply and the time entry follow only when it reports done",
                    o.plan
                )),
                status => v.push(format!(
                    "did NOT complete the runbook ({status:?}: {}); wrote an internal note for a technician, sent no reply and logged no time",
                    o.reason.as_deref().unwrap_or("no reason given")
                )),
            }
        }
        if let Some(why) = &self.update_refused {
            v.push(format!(
                "Autotask refused to update the ticket ({why}): sent NO reply and logged no time; a technician was alerted"
            ));
        }
        if self.reply_posted {
            v.push("posted the reply to the customer (a customer-visible note)".to_string());
        }
        if let Some(told) = &self.customer_told {
            v.push(format!("told the customer: {told}"));
        }
        let fields: Vec<&str> =
            [(self.queue_set, "queue"), (self.priority_set, "priority"), (self.assigned, "assignment to the agent")]
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, f)| f)
                .collect();
        if !fields.is_empty() {
            v.push(format!("set the ticket's {}", fields.join(", ")));
        }
        if let Some(span) = self.measured {
            v.push(format!(
                "queued one time entry of the measured {:.1} s; the ticket is completed only once it is written",
                span.milliseconds() as f64 / 1000.0
            ));
        }
        v
    }
}
