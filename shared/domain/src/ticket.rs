//! The ticket as the agent sees it when it decides: only the fields it needs.

use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A value of the tenant's ticket `status` picklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct StatusId(i64);

impl StatusId {
    pub fn new(v: i64) -> Result<Self, IdError> {
        if v <= 0 { Err(IdError::NotPositive { kind: "ticket status", value: v }) } else { Ok(Self(v)) }
    }
    pub fn get(self) -> i64 {
        self.0
    }
}
impl TryFrom<i64> for StatusId {
    type Error = IdError;
    fn try_from(v: i64) -> Result<Self, IdError> {
        Self::new(v)
    }
}
impl From<StatusId> for i64 {
    fn from(s: StatusId) -> i64 {
        s.0
    }
}
impl std::fmt::Display for StatusId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A ticket snapshot, read with only the fields the decision needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketSnapshot {
    pub id: TicketId,
    pub ticket_number: String,
    pub title: String,
    pub description: String,
    pub company_id: CompanyId,
    pub contact_id: Option<ContactId>,
    /// The contact who opened the ticket, when a contact did (`creatorResourceID`
    /// when `creatorType` is Contact).
    #[serde(default)]
    pub created_by_contact_id: Option<ContactId>,
    pub status: StatusId,
    pub queue_id: Option<QueueId>,
    pub priority: Option<PriorityId>,
    pub issue_type: Option<IssueTypeId>,
    pub sub_issue_type: Option<SubIssueTypeId>,
    pub contract_id: Option<ContractId>,
    pub project_id: Option<ProjectId>,
    /// Set when the ticket's billing code is configured as a project code.
    pub has_project_code: bool,
    pub assigned_resource_id: Option<ResourceId>,
    /// Autotask's `createDate`; `None` when it gave none that parses (never made up).
    pub create_date: Option<DateTime<Utc>>,
    pub last_activity_date: Option<DateTime<Utc>>,
    /// Autotask's `lastCustomerVisibleActivityDateTime`. **[U]** whether API
    /// notes stamp it: status updates also read the notes.
    #[serde(default)]
    pub last_customer_visible_activity: Option<DateTime<Utc>>,
    /// Autotask's `resolution`: the free text a technician writes on
    /// resolving (the source of a KB draft). Absent in older records.
    #[serde(default)]
    pub resolution: Option<String>,
}

impl TicketSnapshot {
    /// Whether a human resource (anyone but the agent) owns the ticket.
    pub fn taken_over_by_human(&self, agent: ResourceId) -> bool {
        matches!(self.assigned_resource_id, Some(r) if r != agent)
    }
    /// Whether the ticket is project work (a project or a project code).
    pub fn is_project_work(&self) -> bool {
        self.project_id.is_some() || self.has_project_code
    }
}
