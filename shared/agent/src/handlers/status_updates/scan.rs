//! The scheduled scan: finds open tickets that have gone quiet for the
//! customer and proposes one status update each (to the assigned
//! technician), quietest first; and reviews the pending ones (expired,
//! customer contacted meanwhile, ticket no longer open, an approval whose
//! posting was interrupted).

use super::post::finish_approved;
use super::request::send_request;
use crate::deps::Deps;
use crate::error::HandlerError;
use crate::ports::{OpenTicket, TicketActivity};
use atpilot_config::StatusUpdatesConfig;
use atpilot_domain::status_update::{Quiet, QuietStatuses, StaleFacts, assess, contacted_since};
use atpilot_store::records::{StatusUpdateRecord, StatusUpdateState};
use chrono::{DateTime, Duration, Utc};

/// What one scan did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanReport {
    /// Open tickets read.
    pub considered: usize,
    /// Past their quiet threshold by `lastCustomerVisibleActivityDateTime`.
    pub due: usize,
    pub proposed: usize,
    pub already_pending: usize,
    /// Recently proposed (rejected, expired or dropped within `quiet_days`).
    pub cooling_down: usize,
    /// A customer-visible note newer than the ticket's stamp.
    pub recent_contact: usize,
    pub no_approver: usize,
    pub out_of_scope: usize,
    pub failed: usize,
    pub expired: usize,
    pub dropped: usize,
    /// Approved updates whose posting an earlier run left unfinished, finished now.
    pub finished: usize,
    /// The kill switch is on: nothing was proposed or posted.
    pub kill_switch: bool,
}

/// The latest scan's picture of quiet tickets, for the weekly report.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuietSummary {
    pub at: DateTime<Utc>,
    /// Days since customer-visible activity of every open ticket past its quiet threshold.
    pub quiet_days: Vec<f64>,
}

/// How many of the newest proposals each scan reviews (at most `max_per_run`
/// a scan, hourly: weeks of them).
const REVIEWED: usize = 3_000;

/// Where [`QuietSummary`] is kept (state cache).
pub const QUIET_SUMMARY: &str = "status-updates-quiet";

fn statuses(deps: &Deps, cfg: &StatusUpdatesConfig) -> QuietStatuses {
    QuietStatuses {
        complete: Some(deps.config.statuses.complete),
        disengage: deps.config.statuses.disengage.clone(),
        waiting_customer: cfg.waiting_customer.clone(),
    }
}

fn facts(t: &OpenTicket, last_customer_visible: Option<DateTime<Utc>>) -> StaleFacts {
    StaleFacts { status: t.status, priority: t.priority, created: t.create_date, last_customer_visible }
}

fn cooldown_key(ticket: atpilot_domain::TicketId) -> String {
    format!("status-update-cooldown#{ticket}")
}

fn posted_key(ticket: atpilot_domain::TicketId) -> String {
    format!("status-update-posted#{ticket}")
}

/// When atpilot last posted an update on the ticket (kept 90 days).
async fn posted_at(deps: &Deps, ticket: atpilot_domain::TicketId) -> Result<Option<DateTime<Utc>>, HandlerError> {
    Ok(deps.state.cache_get::<DateTime<Utc>>(&posted_key(ticket)).await?)
}

/// Remembers that the customer heard from atpilot at `at` (an update was posted).
pub(super) async fn remember_posted(
    deps: &Deps,
    ticket: atpilot_domain::TicketId,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    deps.state.cache_put(&posted_key(ticket), &at, at, 90 * 86_400).await?;
    Ok(())
}

/// One scan: review the pending proposals, then propose new ones.
pub async fn scan(deps: &Deps, now: DateTime<Utc>) -> Result<ScanReport, HandlerError> {
    let mut report = ScanReport::default();
    let Some(cfg) = deps.config.status_updates.as_ref() else { return Ok(report) };
    report.kill_switch = deps.state.settings().await?.kill_switch;
    review(deps, cfg, now, &mut report).await?;
    if report.kill_switch {
        return Ok(report);
    }
    let quiet = statuses(deps, cfg);
    let min_open = std::iter::once(cfg.open_days).chain(cfg.priority.values().map(|p| p.open_days)).min().unwrap_or(1);
    let excluded: Vec<_> = quiet
        .complete
        .into_iter()
        .chain(quiet.disengage.iter().copied())
        .chain(quiet.waiting_customer.iter().copied())
        .collect();
    let open = deps.autotask.open_tickets(now - Duration::days(min_open.into()), &excluded, 2000).await?;
    report.considered = open.len();
    let mut due: Vec<(OpenTicket, Quiet)> = Vec::new();
    for mut t in open {
        if assess(&facts(&t, t.last_customer_visible), cfg.policy_for(t.priority), &quiet, now).is_err() {
            continue;
        }
        // atpilot's own posted updates count as contact even where API notes do not stamp the ticket
        // (read only for due tickets; a failed read leaves the ticket to `consider`, which reads it again).
        match posted_at(deps, t.id).await {
            Ok(p) => t.last_customer_visible = t.last_customer_visible.max(p),
            Err(e) => tracing::warn!(ticket = %t.id, error = %e, "atpilot's last posted update could not be read"),
        }
        if let Ok(q) = assess(&facts(&t, t.last_customer_visible), cfg.policy_for(t.priority), &quiet, now) {
            due.push((t, q));
        }
    }
    report.due = due.len();
    let summary = QuietSummary {
        at: now,
        quiet_days: due.iter().map(|(_, q)| q.quiet_for.num_seconds() as f64 / 86_400.0).collect(),
    };
    deps.state.cache_put(QUIET_SUMMARY, &summary, now, 30 * 24 * 3600).await?;
    due.sort_by_key(|(t, q)| (std::cmp::Reverse(q.quiet_for), t.id));
    // The ticket's stamp may miss API notes ([U]): each candidate's notes are read, a bounded number per run.
    let mut reads = 0usize;
    for (t, _) in due {
        if report.proposed >= cfg.max_per_run as usize || reads >= 3 * cfg.max_per_run as usize {
            break;
        }
        if !deps.config.scope.allows(t.queue_id) {
            report.out_of_scope += 1;
            continue;
        }
        if deps.state.cache_get::<DateTime<Utc>>(&cooldown_key(t.id)).await?.is_some() {
            report.cooling_down += 1;
            continue;
        }
        reads += 1;
        if let Err(e) = consider(deps, cfg, &quiet, &t, now, &mut report).await {
            tracing::warn!(ticket = %t.id, error = %e, "no status update proposed for this ticket on this scan");
            report.failed += 1;
        }
    }
    Ok(report)
}

/// Reads the ticket's notes and proposes an update if it is still quiet.
async fn consider(
    deps: &Deps,
    cfg: &StatusUpdatesConfig,
    quiet: &QuietStatuses,
    t: &OpenTicket,
    now: DateTime<Utc>,
    report: &mut ScanReport,
) -> Result<(), HandlerError> {
    let stamp = t.last_customer_visible.unwrap_or(t.create_date).max(t.create_date);
    let activity = deps.autotask.ticket_activity(t.id, stamp).await?;
    let last = t.last_customer_visible.max(activity.last_customer_note).max(posted_at(deps, t.id).await?);
    let Ok(q) = assess(&facts(t, last), cfg.policy_for(t.priority), quiet, now) else {
        report.recent_contact += 1;
        return Ok(());
    };
    // Only what others did since the customer last heard from the MSP (never atpilot's own notes or entries).
    let since = last.unwrap_or(t.create_date).max(t.create_date);
    let activity = activity.others_since(since, &deps.own_resources());
    match super::request::propose(deps, cfg, t, q, last, &activity, now).await? {
        super::request::Proposal::Proposed(r) => {
            report.proposed += 1;
            // Not read again while it waits (an expiry or a decision sets the cool-down anew).
            cool_down(deps, &r, now).await?;
            send_request(deps, &r).await?;
        }
        super::request::Proposal::AlreadyPending => report.already_pending += 1,
        super::request::Proposal::NoApprover => report.no_approver += 1,
    }
    Ok(())
}

/// The pending proposals: expired ones expire, ones whose customer heard
/// from someone (or whose ticket closed) are dropped; approved ones whose
/// posting was interrupted are finished.
async fn review(
    deps: &Deps,
    cfg: &StatusUpdatesConfig,
    now: DateTime<Utc>,
    report: &mut ScanReport,
) -> Result<(), HandlerError> {
    let quiet = statuses(deps, cfg);
    // Newest first: a pending update lives at most `expires_hours`, so the recent ones hold every pending one.
    for r in deps.state.status_updates(REVIEWED).await? {
        let outcome = match r.state {
            StatusUpdateState::Pending => review_pending(deps, &quiet, r, now, report).await,
            StatusUpdateState::Approved if !report.kill_switch => {
                let stuck = r.decided_at.is_some_and(|t| now - t > Duration::minutes(2));
                if stuck { finish(deps, &r, now, report).await } else { Ok(()) }
            }
            _ => Ok(()),
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "a status update could not be reviewed; the next scan tries again");
            report.failed += 1;
        }
    }
    Ok(())
}

/// Finishes an approved update an earlier attempt left unposted; one that
/// can never be posted (the ticket is gone, Autotask refuses the note) is
/// dropped with why, and the alert channel told.
async fn finish(
    deps: &Deps,
    r: &StatusUpdateRecord,
    now: DateTime<Utc>,
    report: &mut ScanReport,
) -> Result<(), HandlerError> {
    match finish_approved(deps, r, now).await {
        Ok(_) => {
            report.finished += 1;
            Ok(())
        }
        Err(e) if e.is_retryable() => Err(e),
        Err(e) => {
            // The record as it is now: an attempt may have kept the id of a note it wrote.
            let current = deps.state.status_update(r.id.as_str()).await?.unwrap_or_else(|| r.clone());
            let (note, message) = match current.note_id {
                Some(n) => (
                    format!("approved; note {n} was written on the ticket but posting did not finish: {e}"),
                    format!(
                        "the status update approved for ticket {} was written as note {n} but posting did not finish ({e}): check the note on the ticket and whether the customer heard of it; do not post it again",
                        r.ticket_number
                    ),
                ),
                None => (
                    format!("approved but not posted: {e}"),
                    format!(
                        "the status update approved for ticket {} could not be posted ({e}); tell the customer by hand",
                        r.ticket_number
                    ),
                ),
            };
            let mut d = current.clone();
            d.state = StatusUpdateState::Dropped;
            d.note = Some(note);
            if deps.state.transition_status_update(&d, StatusUpdateState::Approved).await?
                == atpilot_store::records::Transition::Done
            {
                crate::alerts::raise(
                    deps,
                    format!("status-update-failed#{}", r.id),
                    "status-update-failed",
                    Some(r.ticket_id),
                    message,
                )
                .await?;
                report.dropped += 1;
            }
            Ok(())
        }
    }
}

async fn review_pending(
    deps: &Deps,
    quiet: &QuietStatuses,
    r: StatusUpdateRecord,
    now: DateTime<Utc>,
    report: &mut ScanReport,
) -> Result<(), HandlerError> {
    let why = if r.expires_at <= now {
        Some((StatusUpdateState::Expired, "nobody answered in time".to_string()))
    } else {
        still_wanted(deps, quiet, &r).await?.map(|why| (StatusUpdateState::Dropped, why))
    };
    let Some((state, why)) = why else { return Ok(()) };
    let mut done = r.clone();
    done.state = state;
    done.decided_at = Some(now);
    done.note = Some(why);
    if deps.state.transition_status_update(&done, StatusUpdateState::Pending).await?
        == atpilot_store::records::Transition::Done
    {
        cool_down(deps, &r, now).await?;
        match state {
            StatusUpdateState::Expired => report.expired += 1,
            _ => report.dropped += 1,
        }
    }
    Ok(())
}

/// Why a pending proposal is no longer wanted, if it is not: the customer
/// heard from someone since it was made, or the ticket is no longer open
/// and waiting on the MSP.
pub(super) async fn still_wanted(
    deps: &Deps,
    quiet: &QuietStatuses,
    r: &StatusUpdateRecord,
) -> Result<Option<String>, HandlerError> {
    let Some(ticket) = deps.autotask.ticket(r.ticket_id).await? else {
        return Ok(Some("the ticket no longer exists".into()));
    };
    if quiet.complete == Some(ticket.status) {
        return Ok(Some("the ticket was completed".into()));
    }
    if quiet.disengage.contains(&ticket.status) || quiet.waiting_customer.contains(&ticket.status) {
        return Ok(Some(format!("the ticket moved to status {}, which gets no update", ticket.status)));
    }
    let activity: TicketActivity = deps.autotask.ticket_activity(r.ticket_id, r.created_at).await?;
    if contacted_since(activity.last_customer_note.max(ticket.last_customer_visible_activity), r.created_at) {
        return Ok(Some("the customer heard from the MSP meanwhile (customer-visible activity on the ticket)".into()));
    }
    Ok(None)
}

/// After a proposal ends without being posted, none is proposed again for `quiet_days`.
pub(super) async fn cool_down(deps: &Deps, r: &StatusUpdateRecord, now: DateTime<Utc>) -> Result<(), HandlerError> {
    let days = deps.config.status_updates.as_ref().map_or(3, |c| c.quiet_days.max(1));
    deps.state.cache_put(&cooldown_key(r.ticket_id), &now, now, i64::from(days) * 86_400).await?;
    Ok(())
}
