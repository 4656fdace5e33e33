//! A ticket's timeline: every event the agent saw about one ticket, what it
//! decided and why, and every write it made with its content (the reply
//! text, the approval and who gave it, the runbook's before and after, the
//! time entry as Autotask stored it), beside what dispatchers did. Gathered
//! from the state port only: it shows what atpilot recorded, never a guess.
//!
//! Shape (`GET /api/tickets/{id}`): `{ticket_id, autotask_link, entries:
//! [{at, kind, title, facts: [{label, value}], text, text_label}]}`, oldest
//! first; `kind` is one of `decision`, `approval-requested`, `approval`,
//! `runbook`, `reply`, `note`, `time-entry`, `dispatcher`, `kb-draft`, `status-update`.

use crate::handlers::classify::action_id_for;
use atpilot_domain::time_entry::LedgerState;
use atpilot_domain::{Action, TicketId};
use atpilot_store::records::{
    ApprovalRecord, ApprovalState, DecisionRecord, HumanRouting, LedgerRecord, NoteRecord, ReplyRecord, RunbookRecord,
};
use atpilot_store::{State, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One labelled value of an entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

fn fact(label: &str, value: impl Into<String>) -> Fact {
    Fact { label: label.into(), value: value.into() }
}

/// One thing that happened to the ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub kind: &'static str,
    pub title: String,
    pub facts: Vec<Fact>,
    /// Content written or proposed (a reply, a draft), shown as plain text.
    pub text: Option<String>,
    pub text_label: Option<String>,
}

/// Everything atpilot recorded about one ticket, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub ticket_id: i64,
    /// The ticket in Autotask (`autotask.ticket_link` with `{id}` filled in), if configured.
    pub autotask_link: Option<String>,
    pub entries: Vec<Entry>,
}

impl Timeline {
    /// Whether atpilot recorded anything at all about the ticket.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What the agent decided, in words. Only the decision: the writes it led
/// to are entries of their own, each from its own record (an alert is listed
/// with the alerts, not claimed here).
fn action_title(d: &DecisionRecord) -> String {
    match &d.action {
        Action::LogOnly => format!("Decided to log only ({} phase): it writes nothing to Autotask", d.phase),
        Action::InternalNote => "Decided on one internal note with its suggestion".into(),
        Action::RequestApproval { .. } => "Decided to ask a human to approve".into(),
        Action::Autonomous { .. } => "Decided to act on its own".into(),
        Action::Escalate { to, alert } => format!(
            "Decided to hand it to {}{}",
            match to {
                atpilot_domain::EscalationTarget::ProjectManager => "the project manager",
                atpilot_domain::EscalationTarget::Dispatcher => "a dispatcher",
            },
            if *alert { ", alerting the alert channel (once per contract per day)" } else { "" }
        ),
    }
}

fn decision_entry(d: &DecisionRecord) -> Entry {
    let p = &d.prediction;
    let mut facts = vec![
        fact("event", d.event_key.clone()),
        fact("phase", d.phase.to_string()),
        fact(
            "category",
            format!(
                "{} at confidence {:.3}{}",
                p.category,
                p.confidence.get(),
                if p.calibrated { "" } else { " (uncalibrated: may suggest, never act)" }
            ),
        ),
    ];
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "not predicted".into());
    facts.push(fact("predicted queue", opt(p.queue_id.map(|q| q.get()))));
    facts.push(fact("predicted priority", opt(p.priority.map(|q| q.get()))));
    facts.push(fact(
        "predicted issue / sub-issue type",
        format!("{} / {}", opt(p.issue_type.map(|q| q.get())), opt(p.sub_issue_type.map(|q| q.get()))),
    ));
    if let Some(e) = &p.evidence {
        let words: Vec<String> = e.words.iter().map(|(w, x)| format!("{w} (+{x:.2})")).collect();
        if !words.is_empty() {
            facts.push(fact("words that weighed most", words.join(", ")));
        }
        if let Some((c, prob)) = &e.runner_up {
            facts.push(fact("runner-up", format!("{c} at {prob:.3}")));
        }
    }
    facts.extend(d.explanation.iter().map(|r| fact("reason", r.clone())));
    Entry {
        at: d.decided_at,
        kind: "decision",
        title: action_title(d),
        facts,
        text: d.draft.clone(),
        text_label: d.draft.as_ref().map(|_| "Drafted reply".into()),
    }
}

fn approval_entries(a: &ApprovalRecord) -> Vec<Entry> {
    let mut out = vec![Entry {
        at: a.created_at,
        kind: "approval-requested",
        title: format!("Approval requested ({})", a.category),
        facts: vec![fact("expires", a.expires_at.format("%Y-%m-%d %H:%M UTC").to_string())],
        text: None,
        text_label: None,
    }];
    let title = match a.state {
        ApprovalState::Pending => return out,
        ApprovalState::Approved => format!("Approved by {}", a.decided_by.as_deref().unwrap_or("unknown")),
        ApprovalState::Rejected => format!("Rejected by {}", a.decided_by.as_deref().unwrap_or("unknown")),
        // A request whose ticket changed meanwhile (or went with an earlier dev run) is
        // expired by atpilot with why in its note; older records name who answered.
        ApprovalState::Expired => match (&a.decided_by, a.note.as_deref()) {
            (Some(who), _) => {
                format!("Not carried out after {who} answered: the request no longer held; nothing was done")
            }
            (None, None) => "Expired: nobody answered in time; nothing was done".into(),
            (None, Some(n)) if n.starts_with("nobody answered") => {
                "Expired: nobody answered in time; nothing was done".into()
            }
            (None, Some(_)) => "Expired without being carried out (why: the note below); nothing was done".into(),
        },
    };
    let mut facts = vec![];
    if let Some(n) = a.note.as_deref().filter(|n| !n.trim().is_empty()) {
        facts.push(fact("note", n));
    }
    if let Some(t) = a.executed_at {
        facts.push(fact("executed", t.format("%Y-%m-%d %H:%M:%S UTC").to_string()));
    }
    out.push(Entry {
        at: a.decided_at.unwrap_or(a.expires_at),
        kind: "approval",
        title,
        facts,
        text: (a.state == ApprovalState::Approved).then(|| a.draft.clone()).flatten(),
        text_label: (a.state == ApprovalState::Approved && a.draft.is_some()).then(|| "Reply as approved".into()),
    });
    out
}

fn ledger_entry(l: &LedgerRecord, at: DateTime<Utc>) -> Entry {
    let (title, mut facts) = match &l.ledger {
        LedgerState::Pending => ("Time entry pending (claimed, not yet confirmed in Autotask)".to_string(), vec![]),
        LedgerState::Written { time_entry_id } => {
            (format!("Time entry {time_entry_id} written"), vec![fact("time entry", time_entry_id.to_string())])
        }
        LedgerState::Refused { why } => {
            ("Time entry REFUSED by Autotask; a human was alerted".into(), vec![fact("why", why)])
        }
    };
    facts.push(fact(
        "work measured",
        format!(
            "{} to {} ({:.4} h, {:.1} s)",
            l.span.start().format("%H:%M:%S"),
            l.span.end().format("%H:%M:%S UTC"),
            l.span.hours().get(),
            (l.span.end() - l.span.start()).num_milliseconds() as f64 / 1000.0
        ),
    ));
    facts.push(fact("contract", l.contract_id.to_string()));
    if let Some(s) = &l.stored {
        let v = |x: Option<f64>| x.map(|h| format!("{h:.4} h")).unwrap_or_else(|| "not read".into());
        facts.push(fact(
            "as Autotask stored it",
            format!("worked {}, to bill {}", v(s.hours_worked), v(s.hours_to_bill)),
        ));
    }
    Entry { at, kind: "time-entry", title, facts, text: None, text_label: None }
}

fn dispatcher_entry(h: &HumanRouting) -> Entry {
    let mut facts = vec![];
    let mut add = |label: &str, v: Option<i64>| {
        if let Some(v) = v {
            facts.push(fact(label, v.to_string()));
        }
    };
    add("queue", h.queue_id);
    add("priority", h.priority);
    add("issue type", h.issue_type);
    add("sub-issue type", h.sub_issue_type);
    add("assigned resource", h.resource_id);
    add("status", h.status);
    add("changed by resource", h.changed_by);
    let title = match (h.routes(), h.status.is_some()) {
        (true, _) => "A dispatcher routed the ticket",
        (false, true) => "A person set the ticket's status",
        (false, false) => "A person changed the ticket",
    };
    Entry { at: h.at, kind: "dispatcher", title: title.into(), facts, text: None, text_label: None }
}

/// The records of one action's writes: its approval, runbook run, reply,
/// internal note and time entry, each `None` when atpilot recorded none.
pub(crate) struct Writes {
    approval: Option<ApprovalRecord>,
    pub(crate) run: Option<RunbookRecord>,
    pub(crate) reply: Option<ReplyRecord>,
    note: Option<NoteRecord>,
    ledger: Option<LedgerRecord>,
}

impl Writes {
    /// Reads the records `d`'s action can have: its internal note (an
    /// internal-note or escalation decision: one read), or its approval,
    /// runbook run, reply, time entry and internal note (a rejection's;
    /// five reads, at once).
    pub(crate) async fn load(state: &State, d: &DecisionRecord) -> Result<Self, StoreError> {
        let action = &action_id_for(&d.event_key);
        let none = Writes { approval: None, run: None, reply: None, note: None, ledger: None };
        match d.action {
            Action::LogOnly => Ok(none),
            Action::InternalNote | Action::Escalate { .. } => Ok(Writes { note: state.note(action).await?, ..none }),
            Action::RequestApproval { .. } | Action::Autonomous { .. } => {
                let id = action.to_string();
                let (approval, run, reply, ledger, note) = tokio::try_join!(
                    state.approval(&id),
                    state.runbook(action),
                    state.reply(action),
                    state.ledger(action),
                    state.note(action)
                )?;
                Ok(Writes { approval, run, reply, note, ledger })
            }
        }
    }

    /// The writes as timeline entries: internal note, approval, runbook,
    /// reply, time entry.
    pub(crate) fn entries(&self, d: &DecisionRecord) -> Vec<Entry> {
        let mut out = vec![];
        if let Some(n) = &self.note {
            out.push(Entry {
                at: n.at,
                kind: "note",
                title: format!("Internal note {} posted", n.note_id),
                facts: vec![fact("title", n.title.clone())],
                text: None,
                text_label: None,
            });
        }
        if let Some(a) = &self.approval {
            out.extend(approval_entries(a));
        }
        out.extend(self.run.as_ref().map(runbook_entry));
        if let Some(r) = &self.reply {
            let mut facts = vec![fact("customer told", r.told.clone())];
            if let Some(to) = &r.emailed_to {
                facts.push(fact("e-mailed to", to.clone()));
            }
            if let Some(rule) = &r.workflow_rule {
                facts.push(fact("workflow rule", rule.clone()));
            }
            // What was posted: the runbook's reply from its verified result, else the draft as
            // approved (possibly edited), else the decision's own draft (resolution.rs posts these).
            let text = match (self.run.as_ref().and_then(|run| run.reply.clone()), &self.approval) {
                (Some(t), _) => Some(t),
                (None, Some(a)) => a.draft.clone(),
                (None, None) => d.draft.clone(),
            };
            let text_label = text.as_ref().map(|_| "Reply as posted".to_string());
            out.push(Entry { at: r.at, kind: "reply", title: "Reply posted".into(), facts, text, text_label });
        }
        if let Some(l) = &self.ledger {
            let at = out.iter().map(|e| e.at).max().unwrap_or(d.decided_at);
            out.push(ledger_entry(l, at));
        }
        out
    }
}

fn runbook_entry(run: &RunbookRecord) -> Entry {
    let mut facts = vec![];
    let title = match &run.outcome {
        Some(o) => {
            facts.push(fact("plan", o.plan.clone()));
            facts.extend(o.before.iter().map(|(k, v)| fact(&format!("before: {k}"), v.clone())));
            facts.extend(o.after.iter().map(|(k, v)| fact(&format!("after: {k}"), v.clone())));
            if let Some(r) = &o.reason {
                facts.push(fact("reason", r.clone()));
            }
            format!("Runbook {} {}: {}", o.provider, o.action, format!("{:?}", o.status).to_lowercase())
        }
        None => "Runbook started; not finished".into(),
    };
    Entry { at: run.started_at, kind: "runbook", title, facts, text: None, text_label: None }
}

/// Gathers the timeline of `ticket`; `link` is the configured Autotask ticket link template.
///
/// # Errors
/// The state store's, when it cannot be read.
pub async fn timeline(state: &State, ticket: TicketId, link: Option<&str>) -> Result<Timeline, StoreError> {
    let mut entries = vec![];
    for d in state.ticket_decisions(ticket).await? {
        entries.push(decision_entry(&d));
        entries.extend(Writes::load(state, &d).await?.entries(&d));
    }
    entries.extend(state.human_routings(ticket).await?.iter().map(dispatcher_entry));
    entries.extend(state.kb_draft(ticket).await?.as_ref().map(super::timeline_more::kb_entry));
    for u in state.ticket_status_updates(ticket).await? {
        entries.extend(super::timeline_more::status_update_entries(&u));
        // Its time entry, as the ledger has it.
        if let Some(l) = state.ledger(&u.id).await? {
            entries.push(ledger_entry(&l, l.span.end()));
        }
    }
    entries.sort_by_key(|e| e.at);
    Ok(Timeline {
        ticket_id: ticket.get(),
        autotask_link: link.map(|l| l.replace("{id}", &ticket.get().to_string())),
        entries,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn approval(state: &str, decided_by: Option<&str>) -> ApprovalRecord {
        serde_json::from_value(serde_json::json!({
            "id": "act-1", "ticket_id": 7, "category": "mfa-enrollment", "action_id": "act-1", "state": state,
            "created_at": "2026-11-30T10:00:00Z", "expires_at": "2026-12-01T10:00:00Z", "decision_event_key": "e1",
            "draft": "Hello", "decided_by": decided_by, "decided_at": "2026-11-30T10:05:00Z", "note": null,
        }))
        .unwrap()
    }

    #[test]
    fn an_approval_says_who_and_what_without_claiming_what_did_not_happen() {
        assert_eq!(approval_entries(&approval("pending", None)).len(), 1, "only the request");
        let approved = approval_entries(&approval("approved", Some("ann@msp.example")));
        assert_eq!(approved[1].title, "Approved by ann@msp.example");
        assert_eq!(approved[1].text.as_deref(), Some("Hello"));
        let stale = approval_entries(&approval("expired", Some("ann@msp.example")));
        assert!(stale[1].title.starts_with("Not carried out after ann@msp.example answered"), "{}", stale[1].title);
        let expired = approval_entries(&approval("expired", None));
        assert!(expired[1].title.starts_with("Expired: nobody answered"), "{}", expired[1].title);
        assert_eq!(expired[1].text, None, "no reply text for what was not done");
    }
}
