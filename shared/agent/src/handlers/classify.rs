//! The classify function: one ticket event in; a stored, explained decision
//! and the writes its phase allows out. Safe to run twice on the same event.
//! Carrying out an autonomous resolution is [`resolution`](super::resolution)'s
//! work; asking for an approval is [`approval`](super::approval)'s.

use super::approval::send::send_request;
use super::resolution::{Resolution, execute_resolution, note_once, refuse_if_killed};
use crate::classifiers::model::category_slug;
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::messages::{EventSource, TicketEvent};
use crate::ports::{NewNote, NoteVisibility};
use atpilot_domain::block;
use atpilot_domain::{
    Action, ActionId, BillingBinding, CategoryPolicy, Confidence, ContractKind, DecisionInput, EscalationTarget, Hours,
    Phase, Policy, RunbookKind, TicketSnapshot, decide,
};
use atpilot_store::records::{
    ApprovalRecord, ApprovalState, Claim, DecisionRecord, HumanRouting, NoteRecord, TicketGuard,
};
use chrono::{DateTime, Duration, Utc};

/// Agent work assumed when checking a block balance before acting (the real,
/// measured duration is what the time entry logs).
pub(crate) const ESTIMATED_AGENT_HOURS: f64 = 0.1;
/// How long a Create event whose ticket cannot be read yet is retried (the
/// queue's redelivery spaces the tries) before it is ignored.
const CREATE_LAG_WINDOW: Duration = Duration::minutes(10);
/// Ticket fields whose change by a human is a routing decision worth recording.
const ROUTING_FIELDS: &[&str] = &["queueID", "priority", "issueType", "subIssueType", "assignedResourceID", "status"];

/// What happened to an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Decided { action: &'static str, redelivery: bool },
    HumanRoutingRecorded,
    Ignored(String),
}

/// The action id of an event's decision: deterministic, so a redelivery finds its own writes.
pub fn action_id_for(event_key: &str) -> ActionId {
    use sha2::{Digest, Sha256};
    let h: String = Sha256::digest(event_key.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect();
    ActionId::new(format!("act-{h}")).unwrap_or_else(|_| unreachable!("hex is a valid action id"))
}

fn field_i64(ev: &TicketEvent, name: &str) -> Option<i64> {
    ev.fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
}

/// Applies run-time overrides (kill switch, phases set from the dashboard or CLI) to the configured policy.
pub(crate) async fn effective_policy(deps: &Deps) -> Result<Policy, HandlerError> {
    let mut policy = deps.config.policy().clone();
    policy.kill_switch |= deps.state.settings().await?.kill_switch;
    for p in deps.state.phases().await? {
        let configured = policy.categories.get(&p.category);
        let (safe, runbook) = configured.map(|c| (c.safe, c.runbook)).unwrap_or((false, None));
        policy.categories.insert(p.category, CategoryPolicy { phase: p.phase, safe, runbook });
    }
    Ok(policy)
}

/// Records what a person set on a decided ticket (the shadow comparison's
/// other side), with the category their issue / sub-issue type stands for.
async fn record_routing(deps: &Deps, ev: &TicketEvent) -> Result<(), HandlerError> {
    let (issue, sub) = (field_i64(ev, "issueType"), field_i64(ev, "subIssueType"));
    let category = match (issue, sub) {
        (None, None) => None,
        // Best effort: the routing is recorded even when the picklist cannot be read
        // (the category is then not compared); a label that makes no category name neither.
        _ => match deps.autotask.category_label(issue, sub).await {
            Ok(label) => label.and_then(|l| category_slug(&l).ok()),
            Err(e) => {
                tracing::warn!(ticket = %ev.ticket_id, error = %e, "the issue / sub-issue type's label could not be read: routing recorded without its category");
                None
            }
        },
    };
    deps.state
        .record_human_routing(&HumanRouting {
            ticket_id: ev.ticket_id,
            at: ev.received_at,
            queue_id: field_i64(ev, "queueID"),
            priority: field_i64(ev, "priority"),
            issue_type: issue,
            sub_issue_type: sub,
            resource_id: field_i64(ev, "assignedResourceID"),
            category,
            status: field_i64(ev, "status"),
            changed_by: ev.person_id,
        })
        .await?;
    super::routing_seen::remember_event(deps, ev).await
}

/// Whether the event sets the ticket's complete status (`statuses.complete`).
fn completes(deps: &Deps, ev: &TicketEvent) -> bool {
    ev.source != EventSource::Create && field_i64(ev, "status") == Some(deps.config.statuses.complete.get())
}

/// Handles one ticket event.
pub async fn handle(deps: &Deps, ev: &TicketEvent, now: impl Fn() -> DateTime<Utc>) -> Result<Outcome, HandlerError> {
    let started = now();
    let previous = deps.state.ticket_decisions(ev.ticket_id).await?;
    let redelivery = previous.iter().any(|d| d.event_key == ev.event_key);
    if !previous.is_empty() && !redelivery {
        // The agent decides once per ticket; later events are what humans did.
        if let Some(last) = previous.last().filter(|_| completes(deps, ev)) {
            super::kb_draft::on_completed(deps, ev.ticket_id, last, now()).await?;
        }
        let own = ev.person_id.is_some_and(|p| deps.own_resources().contains(&p));
        let routed = ev.changed_fields.iter().any(|f| ROUTING_FIELDS.iter().any(|r| r.eq_ignore_ascii_case(f)));
        if ev.source == EventSource::Update && !own && routed {
            record_routing(deps, ev).await?;
            return Ok(Outcome::HumanRoutingRecorded);
        }
        return Ok(Outcome::Ignored("already decided; nothing the agent tracks changed".into()));
    }

    let Some(ticket) = deps.autotask.ticket(ev.ticket_id).await? else {
        // Right after its Create callout a ticket can be briefly unreadable (replication lag).
        let age = now() - ev.received_at;
        if ev.source == EventSource::Create && age < CREATE_LAG_WINDOW {
            return Err(HandlerError::transient(format!(
                "ticket {} is not readable {} s after its Create callout (replication lag): retried until {} min after it",
                ev.ticket_id,
                age.num_seconds(),
                CREATE_LAG_WINDOW.num_minutes()
            )));
        }
        return Ok(Outcome::Ignored(format!("ticket {} no longer exists", ev.ticket_id)));
    };
    if !deps.config.scope.allows(ticket.queue_id) {
        let queue = ticket.queue_id.map_or("no queue".to_string(), |q| format!("queue {q}"));
        tracing::info!(ticket = %ticket.id, %queue, "out of scope ([scope]): logged only");
        return Ok(Outcome::Ignored(format!("ticket {} is in {queue}, outside [scope]: logged only", ticket.id)));
    }
    let policy = effective_policy(deps).await?;
    let classification = deps.classifier.classify_ticket(&ticket.title, &ticket.description).await;
    let prediction = classification.prediction;
    let contracts = deps.autotask.company_contracts(ticket.company_id).await?;
    let binding = BillingBinding::derive(ticket.contract_id, ticket.is_project_work(), &contracts, false);
    let agent_role = deps.config.agent.role_id;
    let estimated = Hours::new(ESTIMATED_AGENT_HOURS).unwrap_or(Hours::ZERO);
    let (block_balance, block_hours_needed) = match &binding {
        BillingBinding::Contract { contract } if contract.kind == ContractKind::BlockHours => {
            let data = deps.autotask.block_data(contract.id, agent_role).await?;
            (
                Some(block::remaining(&data.blocks, deps.config.autotask.time_zone.date_of(started), data.unposted)),
                block::debit(estimated, data.factor),
            )
        }
        _ => (None, estimated),
    };
    let last_hour = deps.state.hourly_count("autonomous", started).await?;
    // The requester is looked up (one Contacts request) only where the risks can change what is done.
    let risks = match policy.category(&prediction.category).phase {
        Phase::HumanInTheLoop | Phase::Autonomous => {
            let requester = deps.autotask.requester(&ticket).await?;
            let mut risks = atpilot_domain::risk::assess(&ticket.title, &ticket.description, &requester);
            // A directory runbook changes the requester's own account, and a reply-only runbook's
            // reply speaks to the requester about their own: a request for someone else goes to a
            // human (a webhook runbook's job may be about anyone: its receiver decides).
            let runbook = deps.config.runbook(&prediction.category).filter(|r| r.kind() != RunbookKind::Webhook);
            if let Some(r) = runbook {
                let (title, text) = (&ticket.title, &ticket.description);
                risks.extend(atpilot_domain::risk::for_someone_else(title, text, &requester, r.parameter()));
            }
            risks
        }
        Phase::Shadow | Phase::InternalNotes => atpilot_domain::risk::assess_text(&ticket.title, &ticket.description),
    };
    let decision = decide(&DecisionInput {
        ticket: &ticket,
        prediction: &prediction,
        binding: &binding,
        block_balance,
        block_hours_needed,
        agent_resource: deps.config.agent.resource_id,
        autonomous_actions_last_hour: u32::try_from(last_hour).unwrap_or(u32::MAX),
        risks: &risks,
        model_written: &classification.model_written,
        draft: classification.draft.as_deref(),
        policy: &policy,
    });
    let phase = policy.category(&prediction.category).phase;
    let record = DecisionRecord {
        ticket_id: ticket.id,
        event_key: ev.event_key.clone(),
        decided_at: started,
        phase,
        prediction: prediction.clone(),
        action: decision.action,
        reasons: decision.reasons.clone(),
        explanation: decision
            .reasons
            .iter()
            .map(|r| r.to_string())
            .chain(classification.notes.iter().cloned())
            .collect(),
        draft: classification.draft.clone(),
    };
    // Stored once per event; a redelivery acts on the stored decision, not a new one.
    let record = match deps.state.save_decision(&record).await? {
        Claim::Claimed => record,
        Claim::Existing(stored) => stored,
    };
    super::routing_seen::remember(deps, ticket.id, &(&ticket).into(), started).await?;
    let action_id = action_id_for(&ev.event_key);
    let acting =
        Acting { ticket: &ticket, decision: &record, binding: &binding, action_id: &action_id, redelivery, started };
    act(deps, &acting, &now).await?;
    Ok(Outcome::Decided { action: record.action.name(), redelivery })
}

fn pct(c: Confidence) -> String {
    format!("{:.0}%", c.get() * 100.0)
}

fn suggestion_text(d: &DecisionRecord, marker: &str) -> String {
    let p = &d.prediction;
    let mut s = format!("atpilot suggests: category {} (confidence {})", p.category, pct(p.confidence));
    for (label, v) in [
        ("queue", p.queue_id.map(|q| q.get())),
        ("priority", p.priority.map(|q| q.get())),
        ("issue type", p.issue_type.map(|q| q.get())),
        ("sub-issue type", p.sub_issue_type.map(|q| q.get())),
    ] {
        if let Some(v) = v {
            s.push_str(&format!(", {label} {v}"));
        }
    }
    s.push_str(&format!(".\nProposed action: {}.\nWhy:\n", d.action.name()));
    for r in &d.explanation {
        s.push_str(&format!("- {r}\n"));
    }
    if let Some(draft) = &d.draft {
        s.push_str(&format!("\nDraft reply (not sent):\n{draft}\n"));
    }
    s.push_str(&format!("\n{marker}"));
    s
}

/// Raises an alert (listed on the dashboard, e-mailed to
/// `notifications.alerts` the first time) saying why the agent refused: a
/// Block Hours balance running out or unknown. Once per contract per day of
/// the decision in the tenant's time zone (`[autotask] time_zone`, the day
/// block balances are counted in): every ticket on a spent block would
/// otherwise alert, and push older alerts off the dashboard. Once per action
/// without a contract. A redelivered event, even after midnight, finds it raised.
async fn send_alert(
    deps: &Deps,
    ticket: &TicketSnapshot,
    d: &DecisionRecord,
    action_id: &ActionId,
) -> Result<(), HandlerError> {
    let day = deps.config.autotask.time_zone.date_of(d.decided_at);
    let (id, first) = match ticket.contract_id {
        Some(c) => (format!("escalation#contract-{c}#{day}"), format!(" (contract {c}; the first on {day})")),
        None => (format!("escalation#{action_id}"), String::new()),
    };
    let message = format!(
        "atpilot did not resolve ticket {}{first} and escalated it: {}",
        ticket.ticket_number,
        d.explanation.join("; ")
    );
    crate::alerts::raise(deps, id, "escalated", Some(ticket.id), message).await.map_err(HandlerError::from)
}

/// A stored decision to act on, and what acting on it needs.
#[derive(Clone, Copy)]
struct Acting<'a> {
    ticket: &'a TicketSnapshot,
    decision: &'a DecisionRecord,
    binding: &'a BillingBinding,
    action_id: &'a ActionId,
    /// The event was seen before: some of its writes may already exist.
    redelivery: bool,
    /// When the agent's work on the event started.
    started: DateTime<Utc>,
}

/// Posts an action's internal note once (found by its marker on a
/// redelivery) and records it with Autotask's id, so that the timeline and
/// the dashboard list it.
async fn record_note(
    deps: &Deps,
    acting: &Acting<'_>,
    note: NewNote,
    marker: &str,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let title = note.title.clone();
    let note_id = note_once(deps, acting.ticket.id, note, marker, acting.redelivery).await?;
    let record = NoteRecord { action_id: acting.action_id.clone(), ticket_id: acting.ticket.id, at, note_id, title };
    deps.state.record_note(&record).await?;
    Ok(())
}

/// Makes the writes the decision's action allows (none for log-only).
async fn act(deps: &Deps, acting: &Acting<'_>, now: &impl Fn() -> DateTime<Utc>) -> Result<(), HandlerError> {
    let Acting { ticket, decision: d, binding, action_id, redelivery, started } = *acting;
    let marker = action_id.marker();
    if d.action != Action::LogOnly {
        // A redelivered decision taken before the switch was turned on writes nothing either.
        refuse_if_killed(deps).await?;
    }
    match d.action {
        Action::LogOnly => Ok(()),
        Action::InternalNote => {
            let note = NewNote {
                title: format!("atpilot suggestion: {}", d.prediction.category),
                text: suggestion_text(d, &marker),
                visibility: NoteVisibility::Internal,
            };
            record_note(deps, acting, note, &marker, now()).await
        }
        Action::Escalate { to, alert } => {
            let who = match to {
                EscalationTarget::ProjectManager => "the project manager",
                EscalationTarget::Dispatcher => "a dispatcher",
            };
            let mut text = format!("atpilot will not resolve this ticket: {who} should take it.\n");
            text.push_str(&suggestion_text(d, &marker));
            let note = NewNote { title: "atpilot escalation".into(), text, visibility: NoteVisibility::Internal };
            record_note(deps, acting, note, &marker, now()).await?;
            if alert {
                send_alert(deps, ticket, d, action_id).await?;
            }
            Ok(())
        }
        Action::RequestApproval { .. } => {
            let created = now();
            let approval = ApprovalRecord {
                id: action_id.to_string(),
                ticket_id: ticket.id,
                category: d.prediction.category.clone(),
                action_id: action_id.clone(),
                state: ApprovalState::Pending,
                created_at: created,
                expires_at: created + Duration::hours(i64::from(deps.config.approvals.token_ttl_hours)),
                decision_event_key: d.event_key.clone(),
                // A runbook that writes its reply from the verified result has no draft to approve.
                draft: d.draft.clone().filter(|_| replies_with_draft(deps, &d.prediction.category)),
                decided_by: None,
                decided_at: None,
                note: None,
                guard: Some(TicketGuard {
                    status: ticket.status.get(),
                    assigned_resource_id: ticket.assigned_resource_id.map(|r| r.get()),
                    contract_id: ticket.contract_id.map(|c| c.get()),
                    company_id: ticket.company_id.get(),
                    queue_id: ticket.queue_id.map(|q| q.get()),
                }),
                executed_at: None,
            };
            // A retried event sends what was not accepted yet (each delivery is recorded).
            // The stored request when it exists (its own expiry and links).
            let (approval, send) = match deps.state.create_approval(&approval).await? {
                Claim::Claimed => (approval, true),
                Claim::Existing(a) => {
                    let pending = a.state == ApprovalState::Pending;
                    (a, pending)
                }
            };
            if send {
                send_request(deps, &approval, d, ticket).await?;
            }
            Ok(())
        }
        Action::Autonomous { plan } => {
            let contract = binding
                .contract_id()
                .ok_or_else(|| HandlerError::permanent("autonomous action without a contract: refused"))?;
            let kind = binding.kind().unwrap_or(ContractKind::Unknown);
            let summary =
                format!("atpilot resolved this {} request on its own (autonomous phase).", d.prediction.category);
            let r = Resolution {
                ticket,
                category: &d.prediction.category,
                queue_id: d.prediction.queue_id,
                priority: d.prediction.priority,
                contract,
                kind,
                plan,
                action_id,
                draft: d.draft.as_deref(),
                summary,
                redelivery,
                started,
            };
            execute_resolution(deps, &r, now).await?;
            if !redelivery {
                deps.state.bump_hourly("autonomous", started).await?;
            }
            Ok(())
        }
    }
}

/// Whether the category's reply is the drafted one (no runbook, or `reply-only`),
/// rather than one written from a runbook's verified result.
pub(crate) fn replies_with_draft(deps: &Deps, category: &atpilot_domain::Category) -> bool {
    deps.config.runbook(category).is_none_or(|r| r.kind().replies_with_draft())
}
