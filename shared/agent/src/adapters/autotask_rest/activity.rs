//! What the status-update scan reads: open tickets, a ticket's activity
//! (customer-visible notes, internal notes, time entries' summaries) and
//! resources (e-mail, names). Every row is checked again here: a clause a
//! tenant ignores returns rows it would have excluded.

use super::{at, opt_id, port_error};
use crate::ports::{NoteStamp, OpenTicket, PortError, TicketActivity, WorkSummary};
use atpilot_autotask::{Client, Filter, Query};
use atpilot_domain::{PriorityId, QueueId, ResourceId, StatusId, TicketId};
use chrono::{DateTime, Utc};

fn when(s: &Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref().and_then(at::parse_datetime)
}

/// Open tickets created before `before`, status not in `excluded`.
pub(super) async fn open_tickets(
    client: &Client,
    before: DateTime<Utc>,
    excluded: &[StatusId],
    limit: usize,
) -> Result<Vec<OpenTicket>, PortError> {
    use futures::{StreamExt, TryStreamExt};
    let iso = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let excluded_raw: Vec<i64> = excluded.iter().map(|s| s.get()).collect();
    let q = Query::new()
        .filter(Filter::lt("createDate", iso.as_str()))
        .filter(Filter::not_in("status", excluded_raw.clone()))
        .include([
            "id",
            "ticketNumber",
            "status",
            "priority",
            "queueID",
            "assignedResourceID",
            "createDate",
            "lastCustomerVisibleActivityDateTime",
            "dueDateTime",
        ]);
    let rows: Vec<at::Ticket> = client.stream::<at::Ticket>(q).take(limit).try_collect().await.map_err(port_error)?;
    Ok(rows
        .into_iter()
        .filter_map(|t| {
            let create_date = when(&t.create_date).filter(|c| *c < before)?;
            let status = StatusId::new(t.status?).ok().filter(|s| !excluded.contains(s))?;
            Some(OpenTicket {
                id: TicketId::new(t.id?).ok()?,
                ticket_number: t.ticket_number.unwrap_or_default(),
                status,
                priority: opt_id(t.priority, PriorityId::new),
                queue_id: opt_id(t.queue_id, QueueId::new),
                assigned_resource_id: opt_id(t.assigned_resource_id, ResourceId::new),
                create_date,
                last_customer_visible: when(&t.last_customer_visible_activity_date_time),
                due: when(&t.due_date_time),
            })
        })
        .collect())
}

/// The ticket's latest customer-visible note (`publish` = `customer`) and its
/// internal activity since `since`.
pub(super) async fn ticket_activity(
    client: &Client,
    customer_publish: i64,
    ticket: TicketId,
    since: DateTime<Utc>,
) -> Result<TicketActivity, PortError> {
    let notes_q = Query::new().filter(Filter::eq("ticketID", ticket.get())).include([
        "id",
        "ticketID",
        "publish",
        "createDateTime",
        "creatorResourceID",
    ]);
    let iso = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let work_q = Query::new()
        .filter(Filter::eq("ticketID", ticket.get()))
        .filter(Filter::gt("createDateTime", iso.as_str()))
        .include(["id", "ticketID", "resourceID", "summaryNotes", "endDateTime", "createDateTime"]);
    let (notes, entries) =
        futures::try_join!(client.query::<at::TicketNote>(notes_q), client.query::<at::TimeEntry>(work_q))
            .map_err(port_error)?;
    let notes: Vec<_> = notes.into_iter().filter(|n| n.ticket_id == Some(ticket.get())).collect();
    let last_customer_note =
        notes.iter().filter(|n| n.publish == Some(customer_publish)).filter_map(|n| when(&n.create_date_time)).max();
    let internal_notes = notes
        .iter()
        .filter(|n| n.publish != Some(customer_publish))
        .filter_map(|n| {
            let at = when(&n.create_date_time).filter(|t| *t > since)?;
            Some(NoteStamp { at, creator_resource_id: n.creator_resource_id })
        })
        .collect();
    let mut work: Vec<WorkSummary> = entries
        .into_iter()
        .filter(|e| e.ticket_id == Some(ticket.get()))
        .filter_map(|e| {
            let at = when(&e.end_date_time).or_else(|| when(&e.create_date_time)).filter(|t| *t > since)?;
            let summary = e.summary_notes.filter(|s| !s.trim().is_empty());
            Some(WorkSummary { at, summary, resource_id: e.resource_id })
        })
        .collect();
    work.sort_by_key(|w| w.at);
    Ok(TicketActivity { last_customer_note, internal_notes, work })
}

/// The resource's e-mail, when it is active and has one.
pub(super) async fn resource_email(client: &Client, resource: ResourceId) -> Result<Option<String>, PortError> {
    let q = Query::new().filter(Filter::eq("id", resource.get())).include(["id", "email", "isActive"]);
    let rows = client.query::<at::Resource>(q).await.map_err(port_error)?;
    Ok(rows
        .into_iter()
        .find(|r| r.id == Some(resource.get()) && r.is_active != Some(false))
        .and_then(|r| r.email)
        .map(|e| e.trim().to_string())
        .filter(|e| e.contains('@')))
}

/// Every active resource's "First Last".
pub(super) async fn resource_names(client: &Client) -> Result<Vec<String>, PortError> {
    let q = Query::new().filter(Filter::eq("isActive", true)).include(["id", "firstName", "lastName", "isActive"]);
    let rows = client.query::<at::Resource>(q).await.map_err(port_error)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.is_active != Some(false))
        .map(|r| [r.first_name, r.last_name].into_iter().flatten().collect::<Vec<_>>().join(" "))
        .filter(|n| !n.trim().is_empty())
        .collect())
}
