//! The timeline's entries for what atpilot did around a ticket beyond its
//! decisions: the KB draft written from it, and the customer status updates
//! proposed for it (who approved, the note posted and read back, its time).
//! Each from its own record: nothing is claimed that was not recorded.

use super::timeline::{Entry, Fact};
use atpilot_store::records::{KbDraftRecord, KbDraftStatus, StatusUpdateRecord, StatusUpdateState};

fn fact(label: &str, value: impl Into<String>) -> Fact {
    Fact { label: label.into(), value: value.into() }
}

/// The ticket's KB draft and what became of it.
pub(super) fn kb_entry(d: &KbDraftRecord) -> Entry {
    let mut facts = vec![fact("category", d.category.clone())];
    let title = match &d.status {
        KbDraftStatus::Drafting => "KB draft being written".to_string(),
        KbDraftStatus::Kept { why } => {
            facts.push(fact("why", why.clone()));
            "KB draft kept on the dashboard".into()
        }
        KbDraftStatus::Drafted { kb, article_id, url, unpublished, placement } => {
            facts.push(fact("in", format!("{kb}, id {article_id}")));
            facts.extend(url.as_ref().map(|u| fact("link", u.clone())));
            facts.push(fact(
                "state",
                if *unpublished { "unpublished".into() } else { placement.clone().unwrap_or_default() },
            ));
            format!("KB draft written to {kb}")
        }
        KbDraftStatus::UpdateProposed { kb, article_title, similarity, .. } => {
            facts.push(fact("closest article", format!("{article_title} ({:.0}% similar)", similarity * 100.0)));
            format!("Update proposed to a {kb} article; the article was not changed")
        }
        KbDraftStatus::Skipped { why } => {
            facts.push(fact("why", why.clone()));
            "No KB draft".into()
        }
    };
    if let Some(n) = d.note_id {
        facts.push(fact("internal note", n.to_string()));
    }
    Entry { at: d.at, kind: "kb-draft", title, facts, text: None, text_label: None }
}

/// A status update: proposed (with the draft), then decided (with the text as posted).
pub(super) fn status_update_entries(r: &StatusUpdateRecord) -> Vec<Entry> {
    let proposed = Entry {
        at: r.created_at,
        kind: "status-update",
        title: format!("Status update proposed to {}", r.approvers.join(", ")),
        facts: vec![
            fact("open", format!("{:.0} days", r.open_days)),
            fact("without customer-visible activity", format!("{:.0} days", r.quiet_days)),
        ],
        text: Some(r.draft.clone()),
        text_label: Some("Draft (not sent)".into()),
    };
    let mut out = vec![proposed];
    let Some(at) = r.decided_at else { return out };
    let by = r.decided_by.clone().unwrap_or_else(|| "atpilot".into());
    let mut facts = vec![fact("by", by)];
    facts.extend(r.note.as_ref().map(|n| fact("note", n.clone())));
    let (title, text) = match r.state {
        StatusUpdateState::Posted => {
            facts.extend(r.note_id.map(|n| fact("customer-visible note", format!("{n} (read back)"))));
            facts.extend(r.told.as_ref().map(|t| fact("customer told", t.clone())));
            let edited = if r.edited { ", edited by the approver" } else { "" };
            (format!("Status update approved and posted{edited}"), r.text.clone())
        }
        StatusUpdateState::Approved => ("Status update approved; posting not confirmed yet".into(), None),
        StatusUpdateState::Rejected => ("Status update rejected; nothing was sent".into(), None),
        StatusUpdateState::Dropped => ("Status update dropped; nothing was sent".into(), None),
        StatusUpdateState::Expired => ("Status update expired unanswered; nothing was sent".into(), None),
        StatusUpdateState::Pending => return out,
    };
    let text_label = text.as_ref().map(|_| "As posted".to_string());
    out.push(Entry { at, kind: "status-update", title, facts, text, text_label });
    out
}
