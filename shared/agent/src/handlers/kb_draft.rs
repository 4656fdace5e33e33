//! A completed ticket becomes a KB draft (`[kb]`): once per ticket, on the
//! Update that sets the complete status (a lost callout comes back through
//! the reconciler's missed-update check). What is drafted and why it is or is
//! not published is recorded for the dashboard ([`KbDraftRecord`]):
//!
//! * nothing reusable (no resolution, a duplicate, too short): skipped, with why;
//! * the category in the shadow phase, no `[kb]`, or no KB company matching
//!   the Autotask company by PSA id or name: kept on the dashboard only, with why;
//! * an existing article at least `kb.update_threshold` similar: an update to
//!   it is proposed (nothing is written to it), else a new draft (unpublished
//!   in IT Glue; in Hudu's drafts folder); either way one internal note on the
//!   ticket links it.
//!
//! Redelivery: the record is claimed first and saved as placed before the
//! note; the draft's title ends with the ticket number, so the KB adapter
//! finds its own draft; the note is found by its marker before it is written.

use super::resolution::{note_once, refuse_if_killed};
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::kb::{Skip, Source, draft};
use crate::ports::{NewNote, NoteVisibility};
use atpilot_domain::{Phase, TicketId, TicketSnapshot};
use atpilot_kb::ArticleDraft;
use atpilot_store::records::{Claim, DecisionRecord, KbDraftRecord, KbDraftStatus};
use chrono::{DateTime, Utc};

/// The marker of the ticket's KB note (found on a redelivery).
fn marker(ticket: TicketId) -> String {
    format!("[atpilot:kb-{ticket}]")
}

/// Drafts the completed `ticket` (last decided as `decision`), once.
///
/// The record moves Drafting → where the draft went → with its note; a
/// retry resumes from the record: a claimed draft keeps its title and body,
/// a placed one only gets its note.
///
/// # Errors
/// Transient store, Autotask and KB errors (the event is retried); the kill
/// switch (retried once it is off).
pub async fn on_completed(
    deps: &Deps,
    ticket_id: TicketId,
    decision: &DecisionRecord,
    now: DateTime<Utc>,
) -> Result<KbDraftStatus, HandlerError> {
    let existing = deps.state.kb_draft(ticket_id).await?;
    // Finished: placed, and its note written (or none owed).
    let finished = |r: &KbDraftRecord| {
        r.status != KbDraftStatus::Drafting && (r.note_id.is_some() || note_text(&r.status, &r.ticket_number).is_none())
    };
    if let Some(done) = existing.as_ref().filter(|r| finished(r)) {
        return Ok(done.status.clone());
    }
    let Some(ticket) = deps.autotask.ticket(ticket_id).await? else {
        return Ok(KbDraftStatus::Skipped { why: "the ticket no longer exists".into() });
    };
    let mut record = match existing {
        Some(r) => r,
        None => {
            let mut record = KbDraftRecord {
                ticket_id,
                ticket_number: ticket.ticket_number.clone(),
                at: now,
                category: decision.prediction.category.to_string(),
                title: String::new(),
                html: String::new(),
                status: KbDraftStatus::Drafting,
                note_id: None,
            };
            match article_of(deps, &ticket, decision).await? {
                Ok(a) => (record.title, record.html) = (a.title, a.html),
                Err(Skip(why)) => {
                    record.status = KbDraftStatus::Skipped { why };
                    deps.state.save_kb_draft(&record).await?;
                    return Ok(record.status);
                }
            }
            match deps.state.claim_kb_draft(&record).await? {
                Claim::Claimed => record,
                // Another attempt claimed it first: its title and body stand.
                Claim::Existing(r) => r,
            }
        }
    };
    if record.status == KbDraftStatus::Drafting {
        let article = ArticleDraft { title: record.title.clone(), html: record.html.clone() };
        record.status = place(deps, &ticket, decision, &article).await?;
        // Recorded before the note: a retry finishes the note, never drafts again.
        deps.state.save_kb_draft(&record).await?;
    }
    if let Some(text) = note_text(&record.status, &ticket.ticket_number) {
        refuse_if_killed(deps).await?;
        let m = marker(ticket_id);
        let note = NewNote {
            title: "atpilot: KB draft".into(),
            text: format!("{text}\n{m}"),
            visibility: NoteVisibility::Internal,
        };
        record.note_id = Some(note_once(deps, ticket_id, note, &m, true).await?);
        deps.state.save_kb_draft(&record).await?;
    }
    Ok(record.status)
}

/// The article, from the ticket and what atpilot knows of it.
async fn article_of(
    deps: &Deps,
    ticket: &TicketSnapshot,
    decision: &DecisionRecord,
) -> Result<Result<ArticleDraft, Skip>, HandlerError> {
    let mut names = deps.autotask.customer_names().await?;
    // The requester's name as Autotask holds it, and as their address spells it
    // ("dana.reyes@…" → "dana reyes"): whole, and each part of three letters or more.
    let requester = deps.autotask.requester(ticket).await?;
    let spelled = [
        requester.contact_name.clone(),
        requester.contact_email.as_deref().and_then(|e| e.split('@').next()).map(|l| l.replace(['.', '_', '-'], " ")),
    ];
    for name in spelled.into_iter().flatten() {
        names.push(name.split_whitespace().collect::<Vec<_>>().join(" "));
        names.extend(name.split_whitespace().filter(|p| p.chars().count() >= 3).map(str::to_string));
    }
    let action = super::classify::action_id_for(&decision.event_key);
    let run = deps.state.runbook(&action).await?;
    let plan = run.as_ref().and_then(|r| r.outcome.as_ref()).map(|o| o.plan.clone());
    let url = deps.config.autotask.ticket_link.as_ref().map(|l| l.to(ticket.id.get()));
    Ok(draft(&Source {
        ticket_number: &ticket.ticket_number,
        title: &ticket.title,
        description: &ticket.description,
        resolution: ticket.resolution.as_deref(),
        category: decision.prediction.category.as_str(),
        runbook_plan: plan.as_deref(),
        names: &names,
        ticket_url: url.as_deref(),
    }))
}

/// Where the draft goes: kept here, a proposed update, or a new KB draft.
async fn place(
    deps: &Deps,
    ticket: &TicketSnapshot,
    decision: &DecisionRecord,
    article: &ArticleDraft,
) -> Result<KbDraftStatus, HandlerError> {
    let kept = |why: String| Ok(KbDraftStatus::Kept { why });
    let phase = super::classify::effective_policy(deps).await?.category(&decision.prediction.category).phase;
    if phase == Phase::Shadow {
        return kept(format!("{} is in the shadow phase: drafts stay on the dashboard", decision.prediction.category));
    }
    let (kb, cfg) = match (&deps.kb, &deps.config.kb) {
        (Some(kb), Some(cfg)) => (kb, cfg),
        (_, None) => return kept("no knowledge base is configured ([kb])".into()),
        (None, Some(_)) => return kept("[kb] is configured but this process has no access to it".into()),
    };
    let name = deps.autotask.company_name(ticket.company_id).await?.unwrap_or_default();
    let company = match kb.company(ticket.company_id.get(), &name).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return kept(format!(
                "no {} company matches Autotask company {} ({name}) by PSA integration id or name",
                kb.name(),
                ticket.company_id
            ));
        }
        Err(e) => return refused(deps, ticket, e).await,
    };
    refuse_if_killed(deps).await?;
    let near = match atpilot_kb::closest(kb.as_ref(), &company, article).await {
        Ok(near) => near,
        Err(e) => return refused(deps, ticket, e).await,
    };
    if let Some((near, similarity)) = near {
        if similarity >= cfg.update_threshold {
            return Ok(KbDraftStatus::UpdateProposed {
                kb: kb.name().into(),
                article_id: near.id,
                article_title: near.title,
                url: near.url,
                similarity,
            });
        }
    }
    match kb.create_draft(&company, article).await {
        Ok(created) => Ok(KbDraftStatus::Drafted {
            kb: kb.name().into(),
            article_id: created.id,
            url: created.url,
            unpublished: created.draft,
            placement: (!created.draft).then(|| kb.placement()).flatten(),
        }),
        Err(e) => refused(deps, ticket, e).await,
    }
}

/// A KB error: busy or unreachable is retried (the event comes back); a
/// refusal (the key, a 4xx, an unreadable answer, an ambiguous company)
/// keeps the draft on the dashboard with why, and a refused key raises an alert.
async fn refused(deps: &Deps, ticket: &TicketSnapshot, e: atpilot_kb::KbError) -> Result<KbDraftStatus, HandlerError> {
    use atpilot_kb::KbError;
    match &e {
        e if e.is_transient() => Err(HandlerError::transient(format!("the knowledge base: {e}"))),
        KbError::Unauthorized { .. } => {
            let id = format!("kb-refused#{}", ticket.id);
            crate::alerts::raise(deps, id, "kb-refused", Some(ticket.id), e.to_string()).await?;
            Ok(KbDraftStatus::Kept { why: e.to_string() })
        }
        _ => Ok(KbDraftStatus::Kept { why: e.to_string() }),
    }
}

/// The internal note's text for what was written to the KB (`None`: nothing was).
fn note_text(status: &KbDraftStatus, ticket_number: &str) -> Option<String> {
    match status {
        KbDraftStatus::Drafted { kb, url, unpublished, placement, .. } => Some(format!(
            "atpilot drafted a {kb} article from ticket {ticket_number}: {}. {}.",
            url.as_deref().unwrap_or("(no link given)"),
            match (unpublished, placement) {
                (true, _) => "It is unpublished: a technician reviews it before it is published",
                (false, Some(p)) => p.as_str(),
                (false, None) => "It is published in the KB as the KB stored it: review it there",
            }
        )),
        KbDraftStatus::UpdateProposed { kb, article_title, url, similarity, .. } => Some(format!(
            "atpilot proposes an update to the {kb} article \"{article_title}\" ({}; {:.0}% similar) from ticket {}; the article itself was not changed. The proposal is on atpilot's dashboard.",
            url.as_deref().unwrap_or("no link given"),
            similarity * 100.0,
            ticket_number
        )),
        _ => None,
    }
}
