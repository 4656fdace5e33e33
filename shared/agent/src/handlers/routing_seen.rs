//! The routing each decided ticket was last seen with (queue, priority,
//! issue and sub-issue type, assignee, status), kept in the store's cache so
//! the reconciler can tell a re-route whose Update callout was lost: its
//! current routing differs from the one last seen, and the last change was a
//! person's, not the agent's.

use crate::deps::Deps;
use crate::error::HandlerError;
use crate::messages::{EventSource, TicketEvent};
use crate::ports::{ChangedTicket, TicketChange, TicketRouting};
use atpilot_domain::TicketId;
use chrono::{DateTime, Utc};

/// Kept for as long as a human re-route is worth learning from.
const KEEP_SECS: i64 = 90 * 24 * 3600;

fn key(ticket: TicketId) -> String {
    format!("routing-seen#{ticket}")
}

/// Remembers `routing` as the ticket's last seen routing.
pub async fn remember(
    deps: &Deps,
    ticket: TicketId,
    routing: &TicketRouting,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    deps.state.cache_put(&key(ticket), routing, now, KEEP_SECS).await?;
    Ok(())
}

/// Folds an Update event's routing fields into the last seen routing (only
/// when one is kept: a partial routing would make every other field look
/// changed on the next reconciler pass).
pub async fn remember_event(deps: &Deps, ev: &TicketEvent) -> Result<(), HandlerError> {
    let Some(seen) = deps.state.cache_get::<TicketRouting>(&key(ev.ticket_id)).await? else {
        return Ok(());
    };
    remember(deps, ev.ticket_id, &seen.with_event_fields(&ev.fields), ev.received_at).await
}

/// Folds the agent's own write into the last seen routing, so the reconciler
/// never takes the agent's change for a person's.
pub async fn remember_change(deps: &Deps, ticket: TicketId, change: &TicketChange) -> Result<(), HandlerError> {
    let Some(mut seen) = deps.state.cache_get::<TicketRouting>(&key(ticket)).await? else {
        return Ok(());
    };
    if let Some(q) = change.queue_id {
        seen.queue_id = Some(q.get());
    }
    if let Some(p) = change.priority {
        seen.priority = Some(p.get());
    }
    if let Some(s) = change.status {
        seen.status = Some(s.get());
    }
    if let Some((r, _)) = change.assign_to {
        seen.assigned_resource_id = Some(r.get());
    }
    remember(deps, ticket, &seen, chrono::Utc::now()).await
}

/// The Update event a lost callout would have carried for `changed`, a
/// decided ticket: `None` when its routing is the one last seen, when it
/// was never seen (decided before routing was kept), or when the agent
/// itself made the last change (the routing seen then moves on). The caller
/// queues the event, then calls [`remember`] with `changed.routing`, so a
/// failed queueing is found again on the next pass.
pub async fn missed_update(
    deps: &Deps,
    changed: &ChangedTicket,
    now: DateTime<Utc>,
) -> Result<Option<TicketEvent>, HandlerError> {
    let Some(seen) = deps.state.cache_get::<TicketRouting>(&key(changed.id)).await? else {
        return Ok(None);
    };
    let changes = changed.routing.changes_since(&seen);
    if changes.is_empty() {
        return Ok(None);
    }
    let own = changed.last_activity_resource_id.is_some_and(|p| deps.own_resources().contains(&p));
    if own {
        remember(deps, changed.id, &changed.routing, now).await?;
        return Ok(None);
    }
    let fields = changes
        .iter()
        .map(|(f, v)| (f.to_string(), v.map_or(serde_json::Value::Null, serde_json::Value::from)))
        .collect();
    Ok(Some(TicketEvent {
        ticket_id: changed.id,
        event_key: format!("reconcile:{}:update:{}", changed.id, changed.at.timestamp_millis()),
        source: EventSource::Update,
        changed_fields: changes.iter().map(|(f, _)| f.to_string()).collect(),
        fields,
        person_id: changed.last_activity_resource_id,
        received_at: changed.at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_changes_name_each_field_with_its_new_value() {
        let before = TicketRouting { queue_id: Some(5), priority: Some(2), status: Some(1), ..Default::default() };
        let after = TicketRouting { queue_id: Some(9), ..before.clone() };
        assert_eq!(after.changes_since(&before), [("queueID", Some(9))]);
        let mut fields = serde_json::Map::new();
        fields.insert("QueueID".into(), serde_json::json!("9"));
        fields.insert("title".into(), serde_json::json!("ignored"));
        assert_eq!(before.with_event_fields(&fields), after);
    }
}
