//! The routing each decided ticket was last seen with (queue, priority,
//! issue and sub-issue type, assignee, status), kept in the store's cache so
//! the reconciler can tell a re-route whose Update callout was lost: its
//! current routing differs from the one last seen, and the last change was a
//! person's, not the agent's.

use crate::deps::Deps;
use crate::error::HandlerError;
use crate::messages::{EventSource, TicketEvent};
use crate::ports::{ChangedTicket, TicketRouting};
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

/// Folds an Update event's routing fields into the last seen routing.
pub async fn remember_event(deps: &Deps, ev: &TicketEvent) -> Result<(), HandlerError> {
    let seen: Option<TicketRouting> = deps.state.cache_get(&key(ev.ticket_id)).await?;
    let now = seen.unwrap_or_default().with_event_fields(&ev.fields);
    remember(deps, ev.ticket_id, &now, ev.received_at).await
}

/// The Update event a lost callout would have carried for `changed`, a
/// decided ticket: `None` when its routing is the one last seen, when it
/// was never seen (decided before routing was kept), or when the agent
/// itself made the last change. The routing seen moves on either way.
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
    remember(deps, changed.id, &changed.routing, now).await?;
    let own = changed.last_activity_resource_id.is_some_and(|p| deps.own_resources().contains(&p));
    if own {
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
