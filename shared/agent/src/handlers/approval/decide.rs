//! Deciding an approval request (the POST from its confirmation page), and
//! the scheduled sweep that expires unanswered requests and resumes
//! interrupted approved ones. An approval is carried out by the shared
//! resolution step ([`execute_resolution`]); a rejection only notes it.

use super::error::{ApprovalError, already};
use super::stored::{Access, decision_of, load};
use crate::deps::Deps;
use crate::handlers::resolution::{Resolution, ResolutionReport, execute_resolution};
use crate::ports::{NewNote, NoteVisibility};
use atpilot_domain::{Action, ActionPlan, BillingBinding, ContractId, ContractKind, TicketSnapshot};
use atpilot_store::records::{ApprovalRecord, ApprovalState, Transition};
use chrono::{DateTime, Duration, Utc};

/// The approver's choice, from the confirmation page's form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecisionForm {
    /// `t`: the approver-bound token of a link (deployments without sign-in).
    pub token: String,
    /// `r`: the reference of a Review link (deployments with sign-in).
    pub reference: String,
    /// `csrf`: the sign-in session's form token (checked by the HTTP layer).
    pub csrf: String,
    /// The person signed in with the MSP's OpenID provider, when sign-in is
    /// on (set by the HTTP layer, never read from the form): who decides.
    pub signed_in: Option<String>,
    pub decision: String,
    pub draft: Option<String>,
    pub reason: Option<String>,
}

/// The longest rejection reason (characters): it goes into an internal note.
pub const MAX_REASON_CHARS: usize = 2_000;

/// The longest reply an approver may send (characters): the customer reads it
/// as one ticket note, and the note adapter keeps at most 32,000 characters
/// of a note's `description` (the API's limit, `../shared/reference/autotask-api.md`,
/// TicketNotes), so a longer edit is refused rather than cut.
pub const MAX_REPLY_CHARS: usize = 8_000;

impl DecisionForm {
    /// `true` to approve, `false` to reject; refused ([`ApprovalError::Form`])
    /// when the decision is neither, or a rejection's reason is longer than
    /// [`MAX_REASON_CHARS`] (an approval ignores the reason).
    pub(crate) fn approves(&self) -> Result<bool, ApprovalError> {
        let rejects = self.decision == "reject";
        if rejects && self.reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            return Err(ApprovalError::Form(format!(
                "the reason is longer than {MAX_REASON_CHARS} characters: shorten it"
            )));
        }
        match self.decision.as_str() {
            "approve" => Ok(true),
            "reject" => Ok(false),
            other => Err(ApprovalError::Form(format!("decision must be approve or reject, got {other:?}"))),
        }
    }

    /// Refused ([`ApprovalError::Form`]) when the edited reply is longer than
    /// [`MAX_REPLY_CHARS`] (it would be cut, not sent whole) or was emptied
    /// (the approver deleted the text: sending the original would send what
    /// they removed). No reply field at all keeps the proposed reply.
    fn reply_fits(&self) -> Result<(), ApprovalError> {
        // A browser sends a textarea's line breaks as CR LF: each counts once, as shown.
        let Some(d) = self.draft.as_deref().map(|d| d.replace("\r\n", "\n")) else { return Ok(()) };
        if d.trim().is_empty() {
            return Err(ApprovalError::Form(
                "the reply is empty: write the reply the customer should get, or reject the request".into(),
            ));
        }
        if d.trim().chars().count() > MAX_REPLY_CHARS {
            return Err(ApprovalError::Form(format!(
                "the reply is longer than {MAX_REPLY_CHARS} characters: shorten it"
            )));
        }
        Ok(())
    }

    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> DecisionForm {
        let mut f = DecisionForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "t" => f.token = v.into_owned(),
                "r" => f.reference = v.into_owned(),
                "csrf" => f.csrf = v.into_owned(),
                "decision" => f.decision = v.into_owned(),
                "draft" => f.draft = Some(v.into_owned()),
                "reason" => f.reason = Some(v.into_owned()).filter(|r| !r.trim().is_empty()),
                _ => {}
            }
        }
        f
    }
}

/// What the ticket looks like now against what it looked like when asked.
pub(crate) fn stale_reason(a: &ApprovalRecord, t: &TicketSnapshot, deps: &Deps) -> Option<String> {
    let g = a.guard.as_ref()?;
    if t.status.get() != g.status {
        return Some(if t.status == deps.config.statuses.complete {
            "it was closed".into()
        } else {
            format!("its status changed from {} to {}", g.status, t.status)
        });
    }
    if t.assigned_resource_id.map(|r| r.get()) != g.assigned_resource_id {
        return Some("it was reassigned".into());
    }
    if t.contract_id.map(|c| c.get()) != g.contract_id {
        return Some("its contract changed".into());
    }
    if t.company_id.get() != g.company_id {
        return Some("its company changed".into());
    }
    if g.queue_id.is_some() && t.queue_id.map(|q| q.get()) != g.queue_id {
        return Some("it was moved to another queue".into());
    }
    if !deps.config.scope.allows(t.queue_id) {
        return Some("its queue is outside atpilot's [scope]".into());
    }
    None
}

/// The outcome of a POST.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    /// Carried out: what was written (the time entry follows asynchronously).
    Approved(Box<ResolutionReport>),
    Rejected,
}

/// POST: decides, once.
pub async fn decide_request(
    deps: &Deps,
    id: &str,
    form: &DecisionForm,
    now: DateTime<Utc>,
) -> Result<Decided, ApprovalError> {
    // With sign-in, who decides is the signed-in person, who must be an
    // approver of this category (or an admin); the link only names the request.
    let access = Access { token: &form.token, reference: &form.reference, signed_in: form.signed_in.as_deref() };
    let (decider, a) = load(deps, id, access, now).await?;
    if a.state != ApprovalState::Pending {
        return Err(already(&a));
    }
    // Approving or rejecting writes to Autotask: while the switch is on, the request stays pending.
    if deps.state.settings().await?.kill_switch {
        return Err(ApprovalError::KillSwitch);
    }
    let approve = form.approves()?;
    // A runbook's reply is written from its verified result: there is no draft to edit.
    let editable = crate::handlers::classify::replies_with_draft(deps, &a.category);
    if approve && editable {
        form.reply_fits()?;
    }
    if !approve {
        let mut r = a.clone();
        r.state = ApprovalState::Rejected;
        r.decided_by = Some(decider.clone());
        r.decided_at = Some(now);
        r.note = form.reason.clone();
        return match deps.state.decide_approval(&r).await? {
            Transition::Done => {
                let marker = r.action_id.marker();
                let text = format!(
                    "atpilot's proposed {} action was rejected by {}{}.\n{marker}",
                    r.category,
                    decider,
                    form.reason.as_deref().map(|x| format!(": {x}")).unwrap_or_default()
                );
                let title = "atpilot suggestion rejected";
                let note = NewNote { title: title.into(), text, visibility: NoteVisibility::Internal };
                let note_id = deps.autotask.add_note(r.ticket_id, &note).await?;
                // Recorded with Autotask's id: the timeline and the dashboard list the note.
                let record = atpilot_store::records::NoteRecord {
                    action_id: r.action_id.clone(),
                    ticket_id: r.ticket_id,
                    at: now,
                    note_id,
                    title: title.into(),
                };
                deps.state.record_note(&record).await?;
                Ok(Decided::Rejected)
            }
            Transition::Refused(cur) => Err(cur.map(|c| already(&c)).unwrap_or(ApprovalError::Unknown)),
        };
    }
    let ticket = deps.autotask.ticket(a.ticket_id).await?;
    let stale = match &ticket {
        None => Some("it no longer exists".to_string()),
        Some(t) => stale_reason(&a, t, deps),
    };
    if let Some(why) = stale {
        // atpilot expires it (nobody chose to): who opened it is in the note.
        let r = a.expired_by_atpilot(
            now,
            format!("not carried out: the ticket changed ({why}); found when {decider} decided"),
        );
        if let Transition::Refused(Some(cur)) = deps.state.decide_approval(&r).await? {
            return Err(already(&cur));
        }
        return Err(ApprovalError::Stale(why));
    }
    let ticket = ticket.unwrap_or_else(|| unreachable!("checked above"));
    let d = decision_of(deps, &a).await?;
    let plan = match d.action {
        Action::RequestApproval { plan } => plan,
        _ => return Err(ApprovalError::Invalid("the decision behind this request is not an approval request".into())),
    };
    let Some((contract, kind)) = contract_now(deps, &ticket).await? else {
        return Err(ApprovalError::Stale("its contract can no longer be established".into()));
    };
    let mut r = a.clone();
    r.state = ApprovalState::Approved;
    r.decided_by = Some(decider.clone());
    r.decided_at = Some(now);
    if !editable {
        r.draft = None;
    }
    // Line breaks as the approver saw them (a browser sends CR LF).
    let edit = form.draft.as_deref().map(|d| d.replace("\r\n", "\n"));
    if let Some(edited) = edit.as_deref().map(str::trim).filter(|d| !d.is_empty() && editable) {
        if Some(edited) != a.draft.as_deref().map(str::trim) {
            r.note = Some("reply edited by the approver".into());
        }
        r.draft = Some(edited.to_string());
    }
    match deps.state.decide_approval(&r).await? {
        Transition::Done => {}
        Transition::Refused(cur) => return Err(cur.map(|c| already(&c)).unwrap_or(ApprovalError::Unknown)),
    }
    let report = execute(
        deps,
        Approved { approval: &r, ticket: &ticket, contract, kind, plan, redelivery: false, started: now },
    )
    .await
    .map_err(|e| match e {
        // Already approved: a retry by the approver would be refused, the sweep carries it on.
        ApprovalError::Unavailable(why) => ApprovalError::Interrupted(why),
        other => other,
    })?;
    Ok(Decided::Approved(Box::new(report)))
}

/// The ticket's single contract as Autotask says now, if one is established.
pub(crate) async fn contract_now(
    deps: &Deps,
    ticket: &TicketSnapshot,
) -> Result<Option<(ContractId, ContractKind)>, ApprovalError> {
    let contracts = deps.autotask.company_contracts(ticket.company_id).await?;
    let binding = BillingBinding::derive(ticket.contract_id, ticket.is_project_work(), &contracts, false);
    Ok(binding.contract_id().zip(binding.kind()))
}

/// An approved request to carry out, on the ticket and contract as they are now.
struct Approved<'a> {
    approval: &'a ApprovalRecord,
    ticket: &'a TicketSnapshot,
    contract: ContractId,
    kind: ContractKind,
    plan: ActionPlan,
    /// Set by the sweep: an earlier attempt may have written part of it.
    redelivery: bool,
    /// When the approver decided (the measured work starts then).
    started: DateTime<Utc>,
}

/// Carries out an approved request ([`execute_resolution`]), then marks it executed.
async fn execute(deps: &Deps, x: Approved<'_>) -> Result<ResolutionReport, ApprovalError> {
    let Approved { approval: a, ticket, contract, kind, plan, redelivery, started } = x;
    let d = decision_of(deps, a).await?;
    let r = Resolution {
        ticket,
        category: &a.category,
        queue_id: d.prediction.queue_id,
        priority: d.prediction.priority,
        contract,
        kind,
        plan,
        action_id: &a.action_id,
        draft: a.draft.as_deref(),
        summary: format!(
            "atpilot resolved this {} request; approved by {}.",
            a.category,
            a.decided_by.as_deref().unwrap_or("an approver")
        ),
        redelivery,
        started,
    };
    let report = execute_resolution(deps, &r, &Utc::now).await?;
    // A runbook awaiting its callback finishes then (the sweep times it out).
    if !report.runbook.as_ref().is_some_and(atpilot_domain::RunbookOutcome::pending) {
        let mut done = a.clone();
        done.executed_at = Some(Utc::now());
        deps.state.update_approval(&done, ApprovalState::Approved).await?;
    }
    Ok(report)
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: usize,
    pub re_executed: usize,
    /// Approved actions that could not be carried out on this sweep (tried again next time).
    pub re_execute_failed: usize,
    /// Runbook runs whose callback never came, reported failed.
    pub runbooks_timed_out: usize,
    /// Requests posted to Teams that nobody opened, e-mailed to their approvers.
    pub reminded: usize,
    /// Pending requests whose ticket changed (closed, moved, reassigned) or is gone: expired.
    pub stale_expired: usize,
}

/// Pending requests whose ticket is read per sweep at most (one Autotask read each).
const STALE_CHECKS_PER_SWEEP: usize = 50;

/// Expires `a` if its ticket changed since the request or is gone (the same
/// rule a decision meets): true when it did. A read that fails is left for the next sweep.
async fn expire_if_stale(deps: &Deps, a: &ApprovalRecord, now: DateTime<Utc>) -> Result<bool, ApprovalError> {
    let why = match deps.autotask.ticket(a.ticket_id).await {
        // Not found may be a permission the API user lost, not a deleted ticket: a decision
        // finds out; the sweep expires only on a change it read.
        Ok(None) => return Ok(false),
        Ok(Some(t)) => match stale_reason(a, &t, deps) {
            Some(why) => why,
            None => return Ok(false),
        },
        Err(e) => {
            tracing::warn!(approval = %a.id, error = %e, "the request's ticket could not be read; the next sweep checks it");
            return Ok(false);
        }
    };
    let r = a.expired_by_atpilot(
        now,
        format!("not carried out: the ticket changed ({why}); found by atpilot before anyone decided"),
    );
    Ok(deps.state.decide_approval(&r).await? == Transition::Done)
}

/// On a schedule: expires unanswered requests and those whose ticket changed
/// (the first [`STALE_CHECKS_PER_SWEEP`]), and carries out approved
/// requests whose execution was interrupted (every step is idempotent).
pub async fn sweep(deps: &Deps, now: DateTime<Utc>) -> Result<SweepReport, ApprovalError> {
    let mut report = SweepReport::default();
    for (i, a) in deps.state.approvals_in_state(ApprovalState::Pending, 500).await?.into_iter().enumerate() {
        // A request whose ticket a person closed or moved leaves the pending lists.
        if i < STALE_CHECKS_PER_SWEEP && a.expires_at > now && expire_if_stale(deps, &a, now).await? {
            report.stale_expired += 1;
            continue;
        }
        if a.expires_at <= now {
            let r = a.expired_by_atpilot(now, "nobody answered in time");
            if deps.state.decide_approval(&r).await? == Transition::Done {
                report.expired += 1;
            }
            continue;
        }
        match super::send::remind_if_unopened(deps, &a, now).await {
            Ok(sent) => report.reminded += usize::from(sent),
            Err(e) => {
                tracing::warn!(approval = %a.id, error = %e, "the reminder could not be sent; the next sweep tries again")
            }
        }
    }
    if deps.state.settings().await?.kill_switch {
        // Interrupted executions resume once the switch is off.
        return Ok(report);
    }
    report.runbooks_timed_out = match crate::handlers::runbook_callback::time_out_waiting(deps, now).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "waiting runbooks could not be timed out on this sweep; the next one tries again");
            0
        }
    };
    for a in deps.state.approvals_in_state(ApprovalState::Approved, 200).await? {
        let stuck = a.executed_at.is_none() && a.decided_at.is_some_and(|t| now - t > Duration::minutes(2));
        if !stuck {
            continue;
        }
        // A run awaiting its provider's callback is finished by the callback (or timed out above).
        let waiting = deps.state.runbook(&a.action_id).await?.and_then(|r| r.outcome).is_some_and(|o| o.pending());
        if waiting {
            continue;
        }
        let Some(ticket) = deps.autotask.ticket(a.ticket_id).await? else { continue };
        let Some((contract, kind)) = contract_now(deps, &ticket).await? else { continue };
        let plan = match decision_of(deps, &a).await?.action {
            Action::RequestApproval { plan } => plan,
            _ => continue,
        };
        let run = Approved {
            approval: &a,
            ticket: &ticket,
            contract,
            kind,
            plan,
            redelivery: true,
            started: a.decided_at.unwrap_or(now),
        };
        // One approval that cannot be carried out yet does not hold up the others.
        match execute(deps, run).await {
            Ok(_) => report.re_executed += 1,
            Err(e) => {
                tracing::warn!(approval = %a.id, error = %e, "an approved action could not be carried out yet; retried on the next sweep");
                report.re_execute_failed += 1;
            }
        }
    }
    Ok(report)
}
