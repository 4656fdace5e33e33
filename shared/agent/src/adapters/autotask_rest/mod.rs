//! The Autotask port over the REST client (a real tenant, or the sandbox over HTTP).
//! Reference data (contract types, a company's contracts, block factors) is
//! cached in-process, so a warm ticket costs: one ticket read, one write.

use crate::ports::{
    Autotask, BlockData, ChangedTicket, NewNote, NoteVisibility, OpenTicket, PicklistSource, PortError, TicketActivity,
    TicketChange, TicketPicklists, TicketRouting,
};
use async_trait::async_trait;
use atpilot_autotask::entities as at;
use atpilot_autotask::{Client, Filter, Query};
use atpilot_domain::contract::{ContractTypeMap, PicklistEntry};
use atpilot_domain::risk::domain_of_web_address;
use atpilot_domain::{
    BillingCodeId, CompanyId, ContactId, Contract, ContractId, ContractKind, IssueTypeId, PriorityId, ProjectId,
    QueueId, Requester, ResourceId, RoleId, StatusId, SubIssueTypeId, TicketId, TicketSnapshot, TimeEntryDraft,
    TimeEntryId,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Ticket fields the agent reads (IncludeFields): nothing more.
pub(crate) const TICKET_FIELDS: &[&str] = &[
    "id",
    "ticketNumber",
    "title",
    "description",
    "companyID",
    "contactID",
    "status",
    "queueID",
    "priority",
    "issueType",
    "subIssueType",
    "contractID",
    "projectID",
    "billingCodeID",
    "assignedResourceID",
    "createDate",
    "lastActivityDate",
    "lastCustomerVisibleActivityDateTime",
    "resolution",
    "creatorType",
    "creatorResourceID",
];

/// `creatorType` of a ticket a contact opened (1 = Resource, 2 = Contact); its
/// `creatorResourceID` then holds the contact's id (TicketsEntity.htm; **[U]**
/// not confirmed on REST, so any other value reads as "not opened by a contact").
const CREATOR_TYPE_CONTACT: i64 = 2;

mod activity;
mod blocks;
mod companies;
mod denied;
mod labels;
mod notes;
pub use denied::PAUSE as DENIED_WRITE_PAUSE;
pub use notes::{NoteValues, NoteWanted, choose as choose_note_values};
use notes::{note_fields, same_text};

fn port_error(e: atpilot_autotask::Error) -> PortError {
    if let atpilot_autotask::Error::BudgetExhausted { retry_after, .. } = e {
        return PortError::Budget { message: e.to_string(), retry_after };
    }
    if e.is_retryable() { PortError::Transient(e.to_string()) } else { PortError::Permanent(e.to_string()) }
}

fn id<T, E: std::fmt::Display>(what: &str, v: Option<i64>, f: impl Fn(i64) -> Result<T, E>) -> Result<T, PortError> {
    let raw = v.ok_or_else(|| PortError::Permanent(format!("Autotask returned no {what}")))?;
    f(raw).map_err(|e| PortError::Permanent(format!("Autotask returned an invalid {what}: {e}")))
}

fn opt_id<T, E>(v: Option<i64>, f: impl Fn(i64) -> Result<T, E>) -> Option<T> {
    v.and_then(|x| f(x).ok())
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref().and_then(atpilot_autotask::entities::parse_datetime).map(|d| d.date_naive())
}

struct Cached<T> {
    at: Instant,
    value: T,
}

/// The value in `slot` if it is younger than `ttl`.
fn fresh<T: Clone>(slot: &Mutex<Option<Cached<T>>>, ttl: Duration) -> Option<T> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|c| c.at.elapsed() < ttl).map(|c| c.value.clone())
}

/// Keeps `value` in `slot` from now.
fn keep<T>(slot: &Mutex<Option<Cached<T>>>, value: T) {
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Cached { at: Instant::now(), value });
}

/// A row of the reconciler's query as a [`ChangedTicket`] (`None` without an id or any date).
fn changed_ticket(t: at::Ticket) -> Option<ChangedTicket> {
    let when = |s: &Option<String>| s.as_deref().and_then(at::parse_datetime);
    let at = [when(&t.create_date), when(&t.last_activity_date), when(&t.last_tracked_modification_date_time)]
        .into_iter()
        .flatten()
        .max()?;
    Some(ChangedTicket {
        id: TicketId::new(t.id?).ok()?,
        at,
        routing: TicketRouting {
            queue_id: t.queue_id,
            priority: t.priority,
            issue_type: t.issue_type,
            sub_issue_type: t.sub_issue_type,
            assigned_resource_id: t.assigned_resource_id,
            status: t.status,
        },
        // Only a resource's id (person type 1); a contact's id is no resource.
        last_activity_resource_id: t
            .last_activity_resource_id
            .filter(|_| t.last_activity_person_type.is_none_or(|p| p == 1)),
    })
}

/// The REST adapter.
pub struct RestAutotask {
    client: Client,
    ttl: Duration,
    /// Billing codes that mark project work.
    project_billing_codes: BTreeSet<i64>,
    contract_types: Mutex<Option<Cached<ContractTypeMap>>>,
    contracts: Mutex<HashMap<CompanyId, Cached<Vec<Contract>>>>,
    companies: Mutex<HashMap<CompanyId, Cached<Option<CompanyFacts>>>>,
    customer_names: Mutex<Option<Cached<Vec<String>>>>,
    resource_names: Mutex<Option<Cached<Vec<String>>>>,
    /// What the configuration asks of note `publish` / `noteType`, and what was chosen.
    notes_wanted: NoteWanted,
    notes: Mutex<Option<Cached<NoteValues>>>,
    /// Kinds of write paused after a permission refusal.
    pauses: denied::WritePauses,
}

/// A company's reference data the agent reads (cached).
#[derive(Debug, Clone)]
struct CompanyFacts {
    name: Option<String>,
    web_address: Option<String>,
}

impl RestAutotask {
    /// The company's name and web address, cached for the TTL (one request when cold).
    async fn company(&self, company: CompanyId) -> Result<Option<CompanyFacts>, PortError> {
        if let Some(c) =
            self.companies.lock().unwrap_or_else(|p| p.into_inner()).get(&company).filter(|c| c.at.elapsed() < self.ttl)
        {
            return Ok(c.value.clone());
        }
        let q = Query::new().filter(Filter::eq("id", company.get())).include(["id", "companyName", "webAddress"]);
        let facts = self
            .client
            .query::<at::Company>(q)
            .await
            .map_err(port_error)?
            .pop()
            .map(|c| CompanyFacts { name: c.company_name, web_address: c.web_address });
        self.companies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(company, Cached { at: Instant::now(), value: facts.clone() });
        Ok(facts)
    }

    /// The reconciler's query, streamed page by page and bounded (a long
    /// outage cannot exhaust memory); `tracked` adds `lastTrackedModificationDateTime`.
    async fn changed_rows(
        &self,
        since: &str,
        limit: usize,
        tracked: bool,
    ) -> Result<Vec<at::Ticket>, atpilot_autotask::Error> {
        use futures::{StreamExt, TryStreamExt};
        let mut clauses = vec![Filter::gt("createDate", since), Filter::gt("lastActivityDate", since)];
        let mut fields = vec![
            "id",
            "createDate",
            "lastActivityDate",
            "lastActivityResourceID",
            "queueID",
            "priority",
            "issueType",
            "subIssueType",
            "assignedResourceID",
            "status",
        ];
        if tracked {
            clauses.push(Filter::gt("lastTrackedModificationDateTime", since));
            fields.extend(["lastTrackedModificationDateTime", "lastActivityPersonType"]);
        }
        let q = Query::new().filter(Filter::or(clauses)).include(fields);
        self.client.stream::<at::Ticket>(q).take(limit.saturating_mul(4).max(limit)).try_collect().await
    }

    pub fn new(client: Client) -> Self {
        Self {
            client,
            ttl: Duration::from_secs(15 * 60),
            project_billing_codes: BTreeSet::new(),
            contract_types: Mutex::new(None),
            contracts: Mutex::new(HashMap::new()),
            companies: Mutex::new(HashMap::new()),
            customer_names: Mutex::new(None),
            resource_names: Mutex::new(None),
            notes_wanted: NoteWanted::default(),
            notes: Mutex::new(None),
            pauses: Default::default(),
        }
    }

    /// The note `publish` / `noteType` values the configuration asks for (else chosen by label).
    pub fn with_notes(mut self, wanted: NoteWanted) -> Self {
        self.notes_wanted = wanted;
        self
    }

    /// The note values to write: read from the tenant's picklists and cached
    /// for the TTL. A value that is missing or inactive is a permanent error:
    /// nothing is written (the message becomes a dead letter and an alert).
    pub async fn note_values(&self) -> Result<NoteValues, PortError> {
        if let Some(v) = fresh(&self.notes, self.ttl) {
            return Ok(v);
        }
        let publish = self.client.picklist("TicketNotes", "publish").await.map_err(port_error)?;
        let types = self.client.picklist("TicketNotes", "noteType").await.map_err(port_error)?;
        let v = notes::choose(&publish.values, &types.values, self.notes_wanted)
            .map_err(|e| PortError::Permanent(format!("no note is written: {e}")))?;
        keep(&self.notes, v.clone());
        Ok(v)
    }

    pub fn with_project_billing_codes(mut self, codes: impl IntoIterator<Item = i64>) -> Self {
        self.project_billing_codes = codes.into_iter().collect();
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn contract_types(&self) -> Result<ContractTypeMap, PortError> {
        if let Some(map) = fresh(&self.contract_types, self.ttl) {
            return Ok(map);
        }
        let pl = self.client.picklist("Contracts", "contractType").await.map_err(port_error)?;
        let entries: Vec<PicklistEntry> = pl
            .values
            .iter()
            .map(|v| PicklistEntry { value: v.value.clone(), label: v.label.clone(), is_active: v.is_active })
            .collect();
        let map = ContractTypeMap::from_picklist(&entries).map_err(|e| PortError::Permanent(e.to_string()))?;
        keep(&self.contract_types, map.clone());
        Ok(map)
    }
}

/// The tenant's active ticket queues and priorities, as (value, label); the
/// client caches them (an hour by default), so a warm call costs no request.
#[async_trait]
impl PicklistSource for RestAutotask {
    async fn ticket_picklists(&self) -> Result<TicketPicklists, PortError> {
        async fn list<T>(
            c: &Client,
            field: &str,
            make: impl Fn(i64) -> Option<T>,
        ) -> Result<Vec<(T, String)>, PortError> {
            let p = c.picklist("Tickets", field).await.map_err(port_error)?;
            Ok(p.active().filter_map(|v| Some((make(v.value.parse().ok()?)?, v.label.clone()))).collect())
        }
        Ok(TicketPicklists {
            queues: list(&self.client, "queueID", |v| QueueId::new(v).ok()).await?,
            priorities: list(&self.client, "priority", |v| PriorityId::new(v).ok()).await?,
        })
    }
}

#[async_trait]
impl Autotask for RestAutotask {
    async fn ticket(&self, ticket: TicketId) -> Result<Option<TicketSnapshot>, PortError> {
        let q = Query::new().filter(Filter::eq("id", ticket.get())).include(TICKET_FIELDS.iter().copied());
        let mut found = self.client.query::<at::Ticket>(q).await.map_err(port_error)?;
        let Some(t) = found.pop() else { return Ok(None) };
        Ok(Some(TicketSnapshot {
            id: ticket,
            ticket_number: t.ticket_number.unwrap_or_default(),
            title: t.title.unwrap_or_default(),
            description: t.description.unwrap_or_default(),
            company_id: id("ticket companyID", t.company_id, CompanyId::new)?,
            contact_id: opt_id(t.contact_id, ContactId::new),
            created_by_contact_id: opt_id(
                t.creator_resource_id.filter(|_| t.creator_type == Some(CREATOR_TYPE_CONTACT)),
                ContactId::new,
            ),
            status: id("ticket status", t.status, StatusId::new)?,
            queue_id: opt_id(t.queue_id, QueueId::new),
            priority: opt_id(t.priority, PriorityId::new),
            issue_type: opt_id(t.issue_type, IssueTypeId::new),
            sub_issue_type: opt_id(t.sub_issue_type, SubIssueTypeId::new),
            contract_id: opt_id(t.contract_id, ContractId::new),
            project_id: opt_id(t.project_id, ProjectId::new),
            has_project_code: t.billing_code_id.is_some_and(|b| self.project_billing_codes.contains(&b)),
            assigned_resource_id: opt_id(t.assigned_resource_id, ResourceId::new),
            create_date: t.create_date.as_deref().and_then(at::parse_datetime),
            last_activity_date: t.last_activity_date.as_deref().and_then(at::parse_datetime),
            last_customer_visible_activity: t
                .last_customer_visible_activity_date_time
                .as_deref()
                .and_then(at::parse_datetime),
            resolution: t.resolution.filter(|r| !r.trim().is_empty()),
        }))
    }

    async fn customer_names(&self) -> Result<Vec<String>, PortError> {
        if let Some(names) = fresh(&self.customer_names, self.ttl) {
            return Ok(names);
        }
        let names = companies::active_company_names(&self.client).await?;
        keep(&self.customer_names, names.clone());
        Ok(names)
    }

    async fn company_name(&self, company: CompanyId) -> Result<Option<String>, PortError> {
        Ok(self.company(company).await?.and_then(|c| c.name))
    }

    async fn requester(&self, ticket: &TicketSnapshot) -> Result<Requester, PortError> {
        let company_domains = self
            .company(ticket.company_id)
            .await?
            .and_then(|c| c.web_address)
            .and_then(|w| domain_of_web_address(&w))
            .into_iter()
            .collect();
        let contact = match ticket.contact_id {
            None => None,
            Some(c) => {
                let fields = ["id", "companyID", "emailAddress", "firstName", "lastName"];
                let q = Query::new().filter(Filter::eq("id", c.get())).include(fields);
                // A contact of another company is no verified requester for this ticket.
                self.client
                    .query::<at::Contact>(q)
                    .await
                    .map_err(port_error)?
                    .pop()
                    .filter(|k| k.company_id == Some(ticket.company_id.get()))
            }
        };
        let contact_name = contact.as_ref().map(|k| {
            [k.first_name.as_deref(), k.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ")
        });
        Ok(Requester {
            contact_id: ticket.contact_id,
            created_by_contact_id: ticket.created_by_contact_id,
            contact_email: contact.and_then(|k| k.email_address),
            company_domains,
            contact_name: contact_name.filter(|n| !n.trim().is_empty()),
        })
    }

    async fn company_contracts(&self, company: CompanyId) -> Result<Vec<Contract>, PortError> {
        if let Some(c) =
            self.contracts.lock().unwrap_or_else(|p| p.into_inner()).get(&company).filter(|c| c.at.elapsed() < self.ttl)
        {
            return Ok(c.value.clone());
        }
        let types = self.contract_types().await?;
        let q = Query::new().filter(Filter::eq("companyID", company.get())).include([
            "id",
            "contractName",
            "contractType",
            "status",
            "companyID",
        ]);
        let rows = self.client.query::<at::Contract>(q).await.map_err(port_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let kind = match r.contract_type {
                Some(t) => types.kind_of(&t.to_string()).unwrap_or(ContractKind::Unknown),
                None => ContractKind::Unknown,
            };
            out.push(Contract {
                id: id("contract id", r.id, ContractId::new)?,
                company_id: company,
                kind,
                name: r.contract_name.unwrap_or_default(),
                active: r.status == Some(1),
            });
        }
        self.contracts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(company, Cached { at: Instant::now(), value: out.clone() });
        Ok(out)
    }

    async fn block_data(&self, contract: ContractId, role: RoleId) -> Result<BlockData, PortError> {
        blocks::block_data(&self.client, contract, role).await
    }

    async fn add_note(&self, ticket: TicketId, note: &NewNote) -> Result<i64, PortError> {
        let (title, description) = note_fields(note);
        let values = self.note_values().await?;
        let n = at::TicketNote {
            ticket_id: Some(ticket.get()),
            title: Some(title),
            description: Some(description),
            note_type: Some(values.note_type.0),
            publish: Some(match note.visibility {
                NoteVisibility::Internal => values.internal.0,
                NoteVisibility::Customer => values.customer.0,
            }),
            ..Default::default()
        };
        self.pauses
            .run(&self.client, "TicketNotes", "create", self.client.create_child::<at::TicketNote>(ticket.get(), &n))
            .await
    }

    async fn find_note(&self, ticket: TicketId, marker: &str) -> Result<Option<i64>, PortError> {
        let q = Query::new()
            .filter(Filter::eq("ticketID", ticket.get()))
            .filter(Filter::contains("description", marker))
            .include(["id", "ticketID", "description"]);
        let rows = self.client.query::<at::TicketNote>(q).await.map_err(port_error)?;
        // Never the first row on trust: a clause Autotask ignored returns unrelated notes.
        Ok(rows
            .into_iter()
            .find(|n| n.ticket_id == Some(ticket.get()) && n.description.as_deref().is_some_and(|d| d.contains(marker)))
            .and_then(|n| n.id))
    }

    async fn find_customer_note(
        &self,
        ticket: TicketId,
        note: &NewNote,
        since: Option<DateTime<Utc>>,
    ) -> Result<Option<i64>, PortError> {
        let q = Query::new()
            .filter(Filter::eq("ticketID", ticket.get()))
            .filter(Filter::eq("publish", self.note_values().await?.customer.0))
            .include(["id", "ticketID", "title", "description", "createDateTime"]);
        let rows = self.client.query::<at::TicketNote>(q).await.map_err(port_error)?;
        let (title, text) = note_fields(note);
        Ok(rows
            .into_iter()
            .find(|n| {
                let created = n.create_date_time.as_deref().and_then(at::parse_datetime);
                // A note without a readable creation time is taken as recent: never a reason to write twice.
                let recent = since.is_none_or(|s| created.is_none_or(|c| c.timestamp() >= s.timestamp()));
                n.ticket_id == Some(ticket.get())
                    && recent
                    && n.title.as_deref().map(same_text) == Some(same_text(&title))
                    && n.description.as_deref().map(same_text) == Some(same_text(&text))
            })
            .and_then(|n| n.id))
    }

    async fn update_ticket(&self, ticket: TicketId, change: &TicketChange) -> Result<(), PortError> {
        use atpilot_autotask::Opt;
        let mut p = at::TicketPatch::new(ticket.get());
        if let Some(q) = change.queue_id {
            p.queue_id = Opt::Value(q.get());
        }
        if let Some(pr) = change.priority {
            p.priority = Opt::Value(pr.get());
        }
        if let Some(s) = change.status {
            p.status = Opt::Value(s.get());
        }
        if let Some((r, role)) = change.assign_to {
            p.assigned_resource_id = Opt::Value(r.get());
            p.assigned_resource_role_id = Opt::Value(role.get());
        }
        self.pauses.run(&self.client, "Tickets", "update", self.client.patch::<at::Ticket>(&p)).await.map(|_| ())
    }

    async fn create_time_entry(
        &self,
        d: &TimeEntryDraft,
        billing_code: BillingCodeId,
    ) -> Result<TimeEntryId, PortError> {
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let e = at::TimeEntry {
            ticket_id: Some(d.ticket_id.get()),
            resource_id: Some(d.resource_id.get()),
            role_id: Some(d.role_id.get()),
            billing_code_id: Some(billing_code.get()),
            contract_id: Some(d.contract_id.get()),
            // The tenant's calendar date (Autotask keeps the date part of `dateWorked`).
            date_worked: Some(d.date_worked.format("%Y-%m-%dT00:00:00Z").to_string()),
            start_date_time: Some(fmt(d.span.start())),
            end_date_time: Some(fmt(d.span.end())),
            hours_worked: Some(d.hours_worked().get()),
            summary_notes: Some(d.summary_notes.clone()),
            internal_notes: Some(d.internal_notes()),
            ..Default::default()
        };
        let raw =
            self.pauses.run(&self.client, "TimeEntries", "create", self.client.create::<at::TimeEntry>(&e)).await?;
        TimeEntryId::new(raw)
            .map_err(|e| PortError::Permanent(format!("Autotask returned an invalid time entry id: {e}")))
    }

    async fn time_entry(&self, id: TimeEntryId) -> Result<Option<atpilot_domain::StoredEntry>, PortError> {
        let q = Query::new().filter(Filter::eq("id", id.get())).include([
            "id",
            "contractID",
            "roleID",
            "billingCodeID",
            "hoursWorked",
            "hoursToBill",
            "dateWorked",
        ]);
        let rows = self.client.query::<at::TimeEntry>(q).await.map_err(port_error)?;
        Ok(rows.into_iter().find(|t| t.id == Some(id.get())).map(|t| atpilot_domain::StoredEntry {
            contract_id: t.contract_id,
            role_id: t.role_id,
            billing_code_id: t.billing_code_id,
            hours_worked: t.hours_worked,
            hours_to_bill: t.hours_to_bill,
            date_worked: date(&t.date_worked),
        }))
    }

    async fn find_time_entry(&self, ticket: TicketId, marker: &str) -> Result<Option<TimeEntryId>, PortError> {
        let q = Query::new()
            .filter(Filter::eq("ticketID", ticket.get()))
            .filter(Filter::contains("internalNotes", marker))
            .include(["id", "ticketID", "internalNotes"]);
        let rows = self.client.query::<at::TimeEntry>(q).await.map_err(port_error)?;
        // Only a row of this ticket that carries this action's marker is ours.
        Ok(rows
            .into_iter()
            .find(|t| {
                t.ticket_id == Some(ticket.get()) && t.internal_notes.as_deref().is_some_and(|n| n.contains(marker))
            })
            .and_then(|t| t.id)
            .and_then(|i| TimeEntryId::new(i).ok()))
    }

    async fn category_label(&self, issue_type: Option<i64>, sub: Option<i64>) -> Result<Option<String>, PortError> {
        labels::category_label(&self.client, issue_type, sub).await
    }
    async fn open_tickets(
        &self,
        created_before: DateTime<Utc>,
        excluded: &[StatusId],
        limit: usize,
    ) -> Result<Vec<OpenTicket>, PortError> {
        activity::open_tickets(&self.client, created_before, excluded, limit).await
    }
    async fn ticket_activity(&self, ticket: TicketId, since: DateTime<Utc>) -> Result<TicketActivity, PortError> {
        let customer = self.note_values().await?.customer.0;
        activity::ticket_activity(&self.client, customer, ticket, since).await
    }
    async fn resource_email(&self, resource: ResourceId) -> Result<Option<String>, PortError> {
        activity::resource_email(&self.client, resource).await
    }
    async fn resource_names(&self) -> Result<Vec<String>, PortError> {
        if let Some(names) = fresh(&self.resource_names, self.ttl) {
            return Ok(names);
        }
        let names = activity::resource_names(&self.client).await?;
        keep(&self.resource_names, names.clone());
        Ok(names)
    }
    async fn tickets_changed_since(&self, since: DateTime<Utc>, limit: usize) -> Result<Vec<ChangedTicket>, PortError> {
        let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        // A re-route by hand changes lastTrackedModificationDateTime even when no activity
        // is logged; a tenant that refuses that filter still gets the other two.
        let rows = match self.changed_rows(&since, limit, true).await {
            Err(atpilot_autotask::Error::Validation { messages, .. }) => {
                tracing::warn!(?messages, "lastTrackedModificationDateTime cannot be queried here: re-routes without activity are found by their callouts only");
                self.changed_rows(&since, limit, false).await
            }
            other => other,
        }
        .map_err(port_error)?;
        let mut out: Vec<ChangedTicket> = rows.into_iter().filter_map(changed_ticket).collect();
        out.sort_by_key(|c| c.at);
        out.truncate(limit);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_used_up_budget_is_a_wait_of_known_length_not_a_refusal() {
        let wait = std::time::Duration::from_secs(900);
        let e = atpilot_autotask::Error::BudgetExhausted { used: 10, allowed: 10, tenant_limit: 40, retry_after: wait };
        match super::port_error(e) {
            super::PortError::Budget { retry_after, message } => {
                assert_eq!(retry_after, wait);
                assert!(message.contains("10 of 10"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
