//! The dashboard's status updates: each proposal and what became of it
//! (pending, posted, rejected, dropped, expired), with why, who decided, and
//! the text (as approved, or the draft). Pending ones open from the
//! approvals page.

use super::dashboard::ticket_cell;
use super::esc;
use atpilot_store::records::{StatusUpdateRecord, StatusUpdateState};

/// What became of the proposal, in words (every value escaped).
fn outcome(r: &StatusUpdateRecord) -> String {
    let by = r.decided_by.as_deref().map(|b| format!(" by {}", esc(b))).unwrap_or_default();
    match r.state {
        StatusUpdateState::Pending if r.expires_at <= chrono::Utc::now() => {
            format!("expired unanswered at {} UTC (the next scan records it)", r.expires_at.format("%Y-%m-%d %H:%M"))
        }
        StatusUpdateState::Pending => format!(
            "waiting for {} until {} UTC: <a href=\"/approvals/#update-{}\">open it</a>",
            esc(&r.approvers.join(", ")),
            r.expires_at.format("%Y-%m-%d %H:%M"),
            esc(r.id.as_str())
        ),
        StatusUpdateState::Approved => format!("approved{by}; being posted"),
        StatusUpdateState::Posted => format!(
            "posted{by}{} as customer-visible note {}; {}",
            if r.edited { " (edited)" } else { "" },
            r.note_id.map(|n| n.to_string()).unwrap_or_default(),
            esc(r.told.as_deref().unwrap_or(""))
        ),
        StatusUpdateState::Rejected => {
            format!("rejected{by}{}", r.note.as_deref().map(|n| format!(": {}", esc(n))).unwrap_or_default())
        }
        StatusUpdateState::Dropped | StatusUpdateState::Expired => {
            format!("{}: {}", r.state.as_str(), esc(r.note.as_deref().unwrap_or("")))
        }
    }
}

/// The section, newest first; `cut`: the list holds only the newest this many.
pub fn render(h: &mut String, updates: &[StatusUpdateRecord], link: Option<&atpilot_config::TicketLink>, cut: usize) {
    h.push_str(r#"<section id="status-updates"><h2>Status updates</h2><p class=muted>Proposed updates to customers on long-running tickets. None reaches a customer before the ticket's technician (or, for a ticket without one, a configured approver) approves it.</p><table id="status-updates-table"><tr><th>Proposed (UTC)</th><th>Ticket</th><th>Open / quiet (days)</th><th>Status</th><th>Text</th></tr>"#);
    if updates.is_empty() {
        h.push_str(
            "<tr><td colspan=5 class=muted>None proposed yet (absent [status_updates], none ever is).</td></tr>",
        );
    }
    for r in updates {
        let text = r.text.as_deref().unwrap_or(&r.draft);
        h.push_str(&format!(
            "<tr class=\"update-{}\"><td>{}</td><td>{}</td><td>{:.0} / {:.0}</td><td>{}</td><td><details><summary>{}</summary><pre>{}</pre></details></td></tr>",
            r.state.as_str(),
            r.created_at.format("%Y-%m-%d %H:%M:%S"),
            ticket_cell(r.ticket_id.get(), link),
            r.open_days,
            r.quiet_days,
            outcome(r),
            match r.state {
                StatusUpdateState::Posted => "as posted",
                StatusUpdateState::Approved => "as approved",
                StatusUpdateState::Pending => "draft",
                _ => "draft (never sent)",
            },
            esc(text)
        ));
    }
    h.push_str("</table>");
    if updates.len() == cut {
        h.push_str(&format!("<p class=muted id=status-updates-cut>The newest {cut} are shown.</p>"));
    }
    h.push_str("</section>");
}
