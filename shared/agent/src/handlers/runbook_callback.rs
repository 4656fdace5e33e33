//! A runbook provider's signed callback (`POST …/runbooks/callback`): an
//! accepted webhook job reports done, refused or failed. The callback is
//! checked against the signature of the runbook the action ran (its secret),
//! recorded once, and the waiting resolution finishes: done → the reply,
//! the ticket's routing and one time entry measured to now; refused or
//! failed → one internal note for a technician, nothing else. Repeats are
//! answered without doing anything twice; while the kill switch is on, the
//! callback is refused with 503 (the provider retries) and nothing is written.

use super::resolution::{Resolution, execute_resolution};
use crate::deps::Deps;
use crate::ports::SignedCallback;
use atpilot_domain::{ActionId, RunbookOutcome, RunbookStatus};
use atpilot_store::records::RunbookRecord;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The HTTP answer to a callback.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackReply {
    pub status: u16,
    pub body: Value,
}

fn answer(status: u16, message: impl Into<String>) -> CallbackReply {
    CallbackReply { status, body: json!({ "message": message.into() }) }
}

/// Where accepted jobs call back: beside the approval pages (`{approvals.base_url}/runbooks/callback`).
pub fn callback_url(config: &atpilot_config::Config) -> String {
    format!("{}/runbooks/callback", config.approvals.base_url.trim_end_matches('/'))
}

/// Handles one callback: `timestamp` and `signature` are the
/// `X-Atpilot-Timestamp` / `X-Atpilot-Signature` headers, `body` the raw bytes.
pub async fn handle_callback(
    deps: &Deps,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> CallbackReply {
    match callback(deps, SignedCallback { timestamp, signature, body, now: now.timestamp() }, now).await {
        Ok(r) | Err(r) => r,
    }
}

async fn callback(deps: &Deps, s: SignedCallback<'_>, now: DateTime<Utc>) -> Result<CallbackReply, CallbackReply> {
    let id = atpilot_webhook::callback_action_id(s.body)
        .ok_or_else(|| answer(400, "the body is not JSON with an action_id"))?;
    let action = ActionId::try_from(id).map_err(|e| answer(400, format!("action_id: {e}")))?;
    let store_error = |e: atpilot_store::StoreError| answer(503, format!("the state store: {e}; retry"));
    let record = deps.state.runbook(&action).await.map_err(store_error)?;
    let Some((record, resume, earlier)) = record.and_then(|r| Some((r.clone(), r.resume?, r.outcome?))) else {
        return Err(answer(404, "no run of that action awaits a callback"));
    };
    let reported = deps.runbooks.callback(&resume.runbook, &earlier.plan, &s).map_err(|e| answer(401, e))?;
    if !earlier.pending() {
        return Ok(answer(200, format!("already recorded as {:?}; nothing changed", earlier.status)));
    }
    if deps.state.settings().await.map_err(store_error)?.kill_switch {
        return Err(answer(503, "atpilot's kill switch is on: nothing is written; retry later"));
    }
    if now > resume.deadline {
        time_out(deps, &record, now).await?;
        return Err(answer(410, "too late: the run was reported failed for a technician"));
    }
    let status = reported.outcome.status;
    let done = RunbookRecord { outcome: Some(reported.outcome), reply: reported.reply, ..record.clone() };
    deps.state.finish_runbook(&done).await.map_err(store_error)?;
    finish(deps, &done, now).await?;
    Ok(answer(200, format!("recorded as {status:?}")))
}

/// On a schedule (the approval sweep): runs whose callback did not come by
/// their deadline are reported failed and their resolutions finished (one
/// internal note for a technician; no reply, no time entry). Returns how many.
pub async fn time_out_waiting(deps: &Deps, now: DateTime<Utc>) -> Result<usize, crate::error::HandlerError> {
    let mut n = 0;
    for record in deps.state.runbooks_waiting(100).await? {
        let Some(resume) = record.resume.as_ref() else { continue };
        if resume.deadline >= now {
            break; // earliest deadline first
        }
        match time_out(deps, &record, now).await {
            Ok(()) => n += 1,
            Err(r) => {
                tracing::warn!(action = %record.action_id, answer = ?r.body, "a timed-out runbook could not be finished yet")
            }
        }
    }
    Ok(n)
}

/// An awaited callback that did not come by the deadline: failed, for a
/// technician (the approval sweep and a late callback report it).
fn timed_out(o: &RunbookOutcome, deadline: DateTime<Utc>) -> RunbookOutcome {
    let reason = format!(
        "the runbook accepted the job but sent no callback by {}: atpilot does not send it again; a technician must check whether it ran",
        deadline.format("%Y-%m-%d %H:%M UTC")
    );
    RunbookOutcome { status: RunbookStatus::Failed, reason: Some(reason), awaiting_callback: false, ..o.clone() }
}

/// Reports a waiting run failed (its callback did not come by the deadline)
/// and finishes its resolution: one internal note for a technician.
async fn time_out(deps: &Deps, record: &RunbookRecord, now: DateTime<Utc>) -> Result<(), CallbackReply> {
    let (Some(waiting), Some(resume)) = (record.outcome.as_ref().filter(|o| o.pending()), record.resume.as_ref())
    else {
        return Ok(());
    };
    let failed = RunbookRecord { outcome: Some(timed_out(waiting, resume.deadline)), ..record.clone() };
    deps.state.finish_runbook(&failed).await.map_err(|e| answer(503, format!("the state store: {e}; retry")))?;
    finish(deps, &failed, now).await
}

/// Finishes the waiting resolution with what the run record now says.
async fn finish(deps: &Deps, record: &RunbookRecord, now: DateTime<Utc>) -> Result<(), CallbackReply> {
    let resume = record.resume.as_ref().ok_or_else(|| answer(500, "nothing to resume"))?;
    let retry = |e: &dyn std::fmt::Display| answer(503, format!("{e}; retry"));
    let ticket = deps.autotask.ticket(record.ticket_id).await.map_err(|e| retry(&e))?;
    let Some(ticket) = ticket else {
        return Err(answer(410, format!("ticket {} no longer exists: nothing more is written", record.ticket_id)));
    };
    let r = Resolution {
        ticket: &ticket,
        category: &resume.category,
        queue_id: resume.queue_id,
        priority: resume.priority,
        contract: resume.contract_id,
        kind: resume.contract_kind,
        plan: resume.plan,
        action_id: &record.action_id,
        draft: None,
        summary: resume.summary.clone(),
        redelivery: true,
        started: resume.started,
    };
    execute_resolution(deps, &r, &|| now).await.map_err(|e| retry(&e))?;
    if let Ok(Some(mut a)) = deps.state.approval(record.action_id.as_str()).await {
        if a.executed_at.is_none() {
            a.executed_at = Some(now);
            let state = a.state;
            deps.state.update_approval(&a, state).await.map_err(|e| retry(&e))?;
        }
    }
    Ok(())
}
