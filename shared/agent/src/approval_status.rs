//! What an approval link shows once the request is decided, and what the
//! approver is told right after deciding: only what really happened. The
//! time entry is written by another function, so its state is read from the
//! ledger (pending, written, or refused with Autotask's reason), never assumed.

use crate::approval::{Page, already, page};
use crate::classify::ResolutionReport;
use crate::dashboard::esc;
use crate::deps::Deps;
use atpilot_domain::time_entry::LedgerState;
use atpilot_store::records::{ApprovalRecord, ApprovalState};

/// The time entry's state for an approved request, as a sentence.
pub async fn time_entry_outcome(deps: &Deps, a: &ApprovalRecord) -> String {
    match deps.state.ledger(&a.action_id).await {
        Err(e) => format!("unknown: the state store could not be read ({e}); reload in a minute"),
        Ok(None) if a.executed_at.is_none() => "not queued yet: the action has not finished; atpilot resumes it within minutes".into(),
        Ok(None) => "queued: not written yet; the ticket stays open until it is".into(),
        Ok(Some(l)) => match l.ledger {
            LedgerState::Pending => "being written: not confirmed yet; the ticket stays open until it is".into(),
            LedgerState::Written { time_entry_id } => format!("written (time entry {time_entry_id}); the ticket is completed once it is confirmed"),
            LedgerState::Refused { why } => format!("FAILED: {why}. The ticket was left open and the alert channel was told: log the time by hand and complete the ticket"),
        },
    }
}

/// The page right after an approval: the writes made, and the time entry as pending.
pub fn approved_page(report: &ResolutionReport) -> Page {
    let done: String = report.done().iter().map(|d| format!("<li>{}</li>", esc(d))).collect();
    page(
        200,
        "Approved",
        &format!(
            "<h1 id=result>Approved</h1><p>atpilot has:</p><ul id=done>{done}</ul>\
<p>Time entry: <b id=time-entry>pending</b>. Open your link again to see whether it was written.</p>"
        ),
    )
}

/// A decided request: who decided and when, and for an approval the real
/// state of its time entry.
pub async fn decided_page(deps: &Deps, a: &ApprovalRecord) -> Page {
    let decided = esc(&already(a).to_string());
    let outcome = match a.state {
        ApprovalState::Approved => format!("<p>Time entry: <b id=time-entry>{}</b></p>", esc(&time_entry_outcome(deps, a).await)),
        _ => a.note.as_deref().map(|n| format!("<p id=note>{}</p>", esc(n))).unwrap_or_default(),
    };
    page(409, "atpilot approval", &format!("<h1>Already decided</h1><p id=message>{decided}</p>{outcome}"))
}
