//! Posting an approved update: one customer-visible note (found by its
//! content before it is written, and read back after), the customer told
//! through the reply path, the measured time queued under the time-entry
//! rules (on the ticket's own contract, never completing it), and the
//! proposal marked posted only then.

use crate::deps::Deps;
use crate::error::HandlerError;
use crate::handlers::approval::decide::contract_now;
use crate::messages::TimeEntryJob;
use crate::ports::{NewNote, NoteVisibility};
use atpilot_domain::{Category, WorkSpan};
use atpilot_store::OutMessage;
use atpilot_store::records::{StatusUpdateRecord, StatusUpdateState, Transition};
use chrono::{DateTime, Duration, Utc};

/// The note's title (customer-visible).
pub const NOTE_TITLE: &str = "Status update";
/// The category its time entry is logged under (billing-code rules may name it).
pub const CATEGORY: &str = "status-update";

/// What posting did, in words for the approver's page.
#[derive(Debug, Clone, PartialEq)]
pub struct PostReport {
    /// The customer-visible note, as read back.
    pub note_id: i64,
    /// How the customer heard of it.
    pub told: String,
    /// The time entry: queued with the measured span, or why not.
    pub time_entry: Result<WorkSpan, String>,
}

impl PostReport {
    /// Each write, as a sentence.
    pub fn done(&self) -> Vec<String> {
        let mut v = vec![
            format!("posted the update as customer-visible note {} (read back from Autotask)", self.note_id),
            format!("told the customer: {}", self.told),
        ];
        v.push(match &self.time_entry {
            Ok(span) => format!(
                "queued one time entry of atpilot's measured work ({:.2} s, posting the note) on the ticket's contract (the ticket stays open)",
                span.milliseconds() as f64 / 1000.0
            ),
            Err(why) => format!("logged no time: {why}"),
        });
        v
    }
}

/// The note an approved update posts.
fn note_of(r: &StatusUpdateRecord) -> NewNote {
    NewNote {
        title: NOTE_TITLE.into(),
        text: r.text.clone().unwrap_or_else(|| r.draft.clone()),
        visibility: NoteVisibility::Customer,
    }
}

/// Posts an approved update (state `Approved`), measured from `started`;
/// every step finds its earlier result first, so a retry writes nothing twice.
pub(crate) async fn post(
    deps: &Deps,
    r: &StatusUpdateRecord,
    started: DateTime<Utc>,
) -> Result<PostReport, HandlerError> {
    let ticket = deps
        .autotask
        .ticket(r.ticket_id)
        .await?
        .ok_or_else(|| HandlerError::permanent(format!("ticket {} no longer exists", r.ticket_id)))?;
    let note = note_of(r);
    // Only a note written since the approval is this one (an earlier update may read the same, days
    // before); five minutes' margin for Autotask's clock.
    let since = r.decided_at.map(|t| t - Duration::minutes(5));
    let mut r = r.clone();
    if r.note_id.is_none() && deps.autotask.find_customer_note(r.ticket_id, &note, since).await?.is_none() {
        let id = deps.autotask.add_note(r.ticket_id, &note).await?;
        // Kept at once: a later attempt never writes a second note, whatever it reads back.
        r.note_id = Some(id);
        deps.state.transition_status_update(&r, StatusUpdateState::Approved).await?;
    }
    // Read back: the note must be there as written before anyone is told it was posted.
    let Some(note_id) = deps.autotask.find_customer_note(r.ticket_id, &note, since).await? else {
        return Err(HandlerError::permanent(format!(
            "note {} was written but is not found as written on the ticket",
            r.note_id.map(|n| n.to_string()).unwrap_or_default()
        )));
    };
    let r = &r;
    let told = super::super::reply_path::tell_customer(deps, &ticket, &r.id, &note.text, false).await?;
    super::scan::remember_posted(deps, r.ticket_id, Utc::now()).await?;
    let time_entry = queue_time(deps, r, &ticket, started).await?;
    let mut done = r.clone();
    done.state = StatusUpdateState::Posted;
    done.note_id = Some(note_id);
    done.posted_at = Some(Utc::now());
    done.told = Some(told.clone());
    match deps.state.transition_status_update(&done, StatusUpdateState::Approved).await? {
        Transition::Done | Transition::Refused(Some(StatusUpdateRecord { state: StatusUpdateState::Posted, .. })) => {}
        Transition::Refused(other) => {
            return Err(HandlerError::permanent(format!(
                "the status update {} moved to {:?} while it was posted",
                r.id,
                other.map(|o| o.state)
            )));
        }
    }
    Ok(PostReport { note_id, told, time_entry })
}

/// Queues the measured time on the ticket's own contract (the time-entry
/// function writes it once, under the action id), or says why not.
async fn queue_time(
    deps: &Deps,
    r: &StatusUpdateRecord,
    ticket: &atpilot_domain::TicketSnapshot,
    started: DateTime<Utc>,
) -> Result<Result<WorkSpan, String>, HandlerError> {
    let contract = contract_now(deps, ticket).await.map_err(|e| HandlerError::transient(e.to_string()))?;
    let Some((contract_id, contract_kind)) = contract else {
        return Ok(Err(
            "the ticket has no single contract atpilot can establish; log it by hand if it is billable".into()
        ));
    };
    let end = Utc::now().max(started + Duration::milliseconds(1));
    let span = WorkSpan::new(started, end).map_err(|e| HandlerError::permanent("measured work").with_source(e))?;
    let job = TimeEntryJob {
        action_id: r.id.clone(),
        ticket_id: r.ticket_id,
        contract_id,
        contract_kind,
        category: Category::new(CATEGORY).map_err(|e| HandlerError::permanent("category").with_source(e))?,
        span,
        // Summary notes reach invoices and the portal: no staff name in them.
        summary: format!(
            "atpilot posted a status update to the customer, approved by the ticket's technician. Measured work: {:.1} s.",
            span.milliseconds() as f64 / 1000.0
        ),
        complete_after: false,
    };
    let body = serde_json::to_string(&job)
        .map_err(|e| HandlerError::permanent("encoding the time-entry job").with_source(e))?;
    deps.time_entry_queue
        .send(OutMessage { group_id: format!("ticket-{}", r.ticket_id), dedup_id: r.id.to_string(), body })
        .await?;
    Ok(Ok(span))
}

/// Finishes an approved update an earlier attempt left unposted, measuring
/// only this attempt's work (the wait since the approval is nobody's work).
pub(super) async fn finish_approved(
    deps: &Deps,
    r: &StatusUpdateRecord,
    now: DateTime<Utc>,
) -> Result<PostReport, HandlerError> {
    post(deps, r, now).await
}
