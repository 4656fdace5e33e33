//! The ports the handlers depend on, besides the state store and queues
//! (which live in `atpilot-store`).

use async_trait::async_trait;
use atpilot_domain::block::Block;
use atpilot_domain::{
    CompanyId, Contract, ContractId, Hours, Prediction, PriorityId, QueueId, RoleId, StatusId, TicketId,
    TicketSnapshot, TimeEntryDraft, TimeEntryId,
};
use chrono::{DateTime, Utc};

/// Why a port call failed, and whether retrying can help.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Worth retrying later (network, throttling, 5xx).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Retrying will not help (validation, bad data).
    #[error("{0}")]
    Permanent(String),
    /// atpilot's own share of the tenant's hourly Autotask budget is used up:
    /// the work waits `retry_after` (until the sliding hour frees a request).
    #[error("atpilot's Autotask request budget is used up ({message}): the work waits and is retried")]
    Budget { message: String, retry_after: std::time::Duration },
    /// The tenant's security level refuses the API user this kind of write
    /// (`operation`, e.g. "create TicketNotes"): it succeeds once an admin
    /// grants it, so the work waits, and one tenant-level alert names it.
    #[error("Autotask refuses atpilot's API user to {operation}: {message}")]
    Denied { operation: String, message: String },
}

/// Who sees a note. Autotask's `publish`: All Autotask Users notes are visible
/// to customers; Internal Users notes never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteVisibility {
    Internal,
    Customer,
}

/// A note to add to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNote {
    pub title: String,
    pub text: String,
    pub visibility: NoteVisibility,
}

/// Fields the agent may change on a ticket. `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketChange {
    pub queue_id: Option<QueueId>,
    pub priority: Option<PriorityId>,
    pub status: Option<StatusId>,
    /// Assign the ticket (resource and role together, as Autotask requires).
    pub assign_to: Option<(atpilot_domain::ResourceId, RoleId)>,
}

impl TicketChange {
    /// The part of this change the ticket does not already reflect.
    pub fn minus(&self, t: &atpilot_domain::TicketSnapshot) -> TicketChange {
        TicketChange {
            queue_id: self.queue_id.filter(|q| t.queue_id != Some(*q)),
            priority: self.priority.filter(|p| t.priority != Some(*p)),
            status: self.status.filter(|s| t.status != *s),
            // The snapshot does not carry the role: re-assert the pair unless the resource already matches.
            assign_to: self.assign_to.filter(|(r, _)| t.assigned_resource_id != Some(*r)),
        }
    }
    pub fn is_empty(&self) -> bool {
        *self == TicketChange::default()
    }
}

/// What Block Hours needs from Autotask for one contract.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockData {
    pub blocks: Vec<Block>,
    /// The contract's block hour factor for the role, if one is set.
    pub factor: Option<f64>,
    /// Block hours that billable labour on the contract will debit once it is
    /// approved and posted (Autotask debits blocks only then): every resource's
    /// entries not yet posted, each scaled by its role's factor. The balance
    /// the agent checks is the blocks' remainder minus this.
    pub unposted: Hours,
}

/// The subset of Autotask the agent uses, in domain terms.
#[async_trait]
pub trait Autotask: Send + Sync {
    /// The ticket, with only the fields the decision needs; `None` if it does not exist.
    async fn ticket(&self, id: TicketId) -> Result<Option<TicketSnapshot>, PortError>;
    /// The company's name (cached reference data).
    async fn company_name(&self, company: CompanyId) -> Result<Option<String>, PortError>;
    /// The names of every active customer company (cached reference data):
    /// what a KB draft is scrubbed of.
    async fn customer_names(&self) -> Result<Vec<String>, PortError>;
    /// Who asked for the ticket, for the request-risk check: its contact, the
    /// contact who opened it, the contact's e-mail address and the company's
    /// own domains (from `Companies.webAddress`, cached reference data).
    async fn requester(&self, ticket: &TicketSnapshot) -> Result<atpilot_domain::Requester, PortError>;
    /// The company's contracts, with their types mapped from the tenant's picklist.
    async fn company_contracts(&self, company: CompanyId) -> Result<Vec<Contract>, PortError>;
    async fn block_data(&self, contract: ContractId, role: RoleId) -> Result<BlockData, PortError>;
    async fn add_note(&self, ticket: TicketId, note: &NewNote) -> Result<i64, PortError>;
    /// A note on the ticket whose text contains `marker`, if any (internal
    /// notes: markers never go into customer-visible text).
    async fn find_note(&self, ticket: TicketId, marker: &str) -> Result<Option<i64>, PortError>;
    /// A customer-visible note on the ticket with this title and text, as
    /// [`Autotask::add_note`] would write them (found by content, since it
    /// carries no marker), if any; with `since`, only one created at or after
    /// it (whole seconds; one without a creation time counts), for an earlier
    /// note may read the same.
    async fn find_customer_note(
        &self,
        ticket: TicketId,
        note: &NewNote,
        since: Option<DateTime<Utc>>,
    ) -> Result<Option<i64>, PortError>;
    async fn update_ticket(&self, ticket: TicketId, change: &TicketChange) -> Result<(), PortError>;
    async fn create_time_entry(
        &self,
        draft: &TimeEntryDraft,
        billing_code: atpilot_domain::BillingCodeId,
    ) -> Result<TimeEntryId, PortError>;
    /// A time entry on the ticket whose internal notes carry `marker`, if any.
    async fn find_time_entry(&self, ticket: TicketId, marker: &str) -> Result<Option<TimeEntryId>, PortError>;
    /// A time entry as Autotask stored it (for the read-back after the write).
    async fn time_entry(&self, id: TimeEntryId) -> Result<Option<atpilot_domain::StoredEntry>, PortError>;
    /// Tickets created, active or modified (`lastTrackedModificationDateTime`)
    /// after `since` (for the reconciler), oldest first, with their routing.
    async fn tickets_changed_since(&self, since: DateTime<Utc>, limit: usize) -> Result<Vec<ChangedTicket>, PortError>;
    /// The label a dispatcher's issue / sub-issue type carries (the
    /// sub-issue type's, else the issue type's): what the category model
    /// calls a category (`shared/audit/src/training.rs`). `None` when neither
    /// is set or known.
    async fn category_label(
        &self,
        issue_type: Option<i64>,
        sub_issue_type: Option<i64>,
    ) -> Result<Option<String>, PortError>;
    /// Open tickets (status not `excluded`) created before `created_before`,
    /// at most `limit`, for the status-update scan. Every row is checked
    /// again by the caller: a clause a tenant ignores must not matter.
    async fn open_tickets(
        &self,
        created_before: DateTime<Utc>,
        excluded: &[StatusId],
        limit: usize,
    ) -> Result<Vec<OpenTicket>, PortError>;
    /// The ticket's activity since `since`: its latest customer-visible note
    /// (any time) and its internal activity since then (notes counted, time
    /// entries' `summaryNotes`).
    async fn ticket_activity(&self, ticket: TicketId, since: DateTime<Utc>) -> Result<TicketActivity, PortError>;
    /// A resource's e-mail address (`Resources.email`), if it is active and has one.
    async fn resource_email(&self, resource: atpilot_domain::ResourceId) -> Result<Option<String>, PortError>;
    /// Every active resource's name ("First Last", cached reference data):
    /// what a status update is scrubbed of unless staff names are allowed.
    async fn resource_names(&self) -> Result<Vec<String>, PortError>;
}

/// An open ticket as the status-update scan reads it (`Tickets`; datetimes UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTicket {
    pub id: TicketId,
    pub ticket_number: String,
    pub status: StatusId,
    pub priority: Option<PriorityId>,
    pub queue_id: Option<QueueId>,
    pub assigned_resource_id: Option<atpilot_domain::ResourceId>,
    pub create_date: DateTime<Utc>,
    /// `lastCustomerVisibleActivityDateTime`. **[U]** whether API notes with
    /// `publish` = All Autotask Users stamp it (kb-and-messaging.md §5): the
    /// scan also reads the latest customer-visible note.
    pub last_customer_visible: Option<DateTime<Utc>>,
    /// `dueDateTime`.
    pub due: Option<DateTime<Utc>>,
}

/// One time entry: when, by whom, and its customer-facing summary
/// (`TimeEntries.summaryNotes`, `None` when empty).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkSummary {
    /// `endDateTime` (else `createDateTime`).
    pub at: DateTime<Utc>,
    pub summary: Option<String>,
    /// `resourceID`.
    pub resource_id: Option<i64>,
}

/// One internal note: when, and who wrote it (`creatorResourceID`). Never its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteStamp {
    pub at: DateTime<Utc>,
    pub creator_resource_id: Option<i64>,
}

/// What happened on a ticket, as a status update may use it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketActivity {
    /// The latest customer-visible note's `createDateTime`, whenever it was.
    pub last_customer_note: Option<DateTime<Utc>>,
    /// Internal notes since `since`: counted, never quoted.
    pub internal_notes: Vec<NoteStamp>,
    /// Time entries since `since`, oldest first.
    pub work: Vec<WorkSummary>,
}

impl TicketActivity {
    /// Only what happened after `since` and was not written by one of `own` (atpilot's resources).
    pub fn others_since(mut self, since: DateTime<Utc>, own: &[i64]) -> Self {
        let theirs = |by: Option<i64>| by.is_none_or(|r| !own.contains(&r));
        self.internal_notes.retain(|n| n.at > since && theirs(n.creator_resource_id));
        self.work.retain(|w| w.at > since && theirs(w.resource_id));
        self
    }
}

/// A ticket's routing fields as last read: what a dispatcher changes when
/// re-routing (REST field names in [`TicketRouting::FIELDS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TicketRouting {
    pub queue_id: Option<i64>,
    pub priority: Option<i64>,
    pub issue_type: Option<i64>,
    pub sub_issue_type: Option<i64>,
    pub assigned_resource_id: Option<i64>,
    pub status: Option<i64>,
}

impl TicketRouting {
    /// The REST names of the fields, in [`TicketRouting::values`] order.
    pub const FIELDS: [&'static str; 6] =
        ["queueID", "priority", "issueType", "subIssueType", "assignedResourceID", "status"];

    pub fn values(&self) -> [Option<i64>; 6] {
        [self.queue_id, self.priority, self.issue_type, self.sub_issue_type, self.assigned_resource_id, self.status]
    }

    /// The fields whose values differ from `before`, with their new values.
    pub fn changes_since(&self, before: &TicketRouting) -> Vec<(&'static str, Option<i64>)> {
        Self::FIELDS
            .into_iter()
            .zip(self.values().into_iter().zip(before.values()))
            .filter(|(_, (now, then))| now != then)
            .map(|(f, (now, _))| (f, now))
            .collect()
    }

    /// `self` with the fields an event carries (REST names, any case) set.
    pub fn with_event_fields(mut self, fields: &serde_json::Map<String, serde_json::Value>) -> Self {
        for (k, v) in fields {
            let v = v.as_i64().or_else(|| v.as_str()?.trim().parse().ok());
            let Some(i) = Self::FIELDS.iter().position(|f| f.eq_ignore_ascii_case(k)) else { continue };
            let slot = [
                &mut self.queue_id,
                &mut self.priority,
                &mut self.issue_type,
                &mut self.sub_issue_type,
                &mut self.assigned_resource_id,
                &mut self.status,
            ];
            *slot.into_iter().nth(i).expect("six fields") = v;
        }
        self
    }
}

impl From<&TicketSnapshot> for TicketRouting {
    fn from(t: &TicketSnapshot) -> Self {
        Self {
            queue_id: t.queue_id.map(|q| q.get()),
            priority: t.priority.map(|p| p.get()),
            issue_type: t.issue_type.map(|i| i.get()),
            sub_issue_type: t.sub_issue_type.map(|i| i.get()),
            assigned_resource_id: t.assigned_resource_id.map(|r| r.get()),
            status: Some(t.status.get()),
        }
    }
}

/// A ticket the reconciler found changed since its watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedTicket {
    pub id: TicketId,
    /// The latest of `createDate`, `lastActivityDate` and `lastTrackedModificationDateTime`.
    pub at: DateTime<Utc>,
    pub routing: TicketRouting,
    /// `lastActivityResourceID`: who made the last change, when a resource did.
    pub last_activity_resource_id: Option<i64>,
}

/// What the classifier returns for a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub prediction: Prediction,
    /// A reply draft; never carries another customer's text.
    pub draft: Option<String>,
    /// How the prediction was reached, when that is worth telling (e.g. an
    /// LLM's label was refused); added to the decision's reasons. Never
    /// repeats model output.
    pub notes: Vec<String>,
    /// The parts an LLM wrote (empty for the local model): the decision
    /// sends such a proposal to a human whatever the phase.
    pub model_written: Vec<atpilot_domain::ModelPart>,
}

/// The model port: runs in-process (the artifact is loaded once per cold start).
pub trait Classifier: Send + Sync {
    fn classify(&self, title: &str, description: &str) -> Classification;
    /// Every category this classifier can predict (empty: unknown).
    fn categories(&self) -> Vec<atpilot_domain::Category> {
        Vec::new()
    }
}

/// What the classify handler calls: a local [`Classifier`], or one that also
/// asks an LLM (a network call, hence async).
#[async_trait]
pub trait TicketClassifier: Send + Sync {
    async fn classify_ticket(&self, title: &str, description: &str) -> Classification;

    /// The local model itself, when this is [`InProcess`] (wiring that adds an
    /// LLM on top reuses it rather than loading the artifact again).
    fn local(&self) -> Option<std::sync::Arc<dyn Classifier>> {
        None
    }
}

/// A [`Classifier`] run in this process: no network, so no LLM.
pub struct InProcess(pub std::sync::Arc<dyn Classifier>);

#[async_trait]
impl TicketClassifier for InProcess {
    async fn classify_ticket(&self, title: &str, description: &str) -> Classification {
        self.0.classify(title, description)
    }

    fn local(&self) -> Option<std::sync::Arc<dyn Classifier>> {
        Some(self.0.clone())
    }
}

/// A chat request to an LLM: one system and one user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    pub max_tokens: u32,
}

/// An LLM behind a chat API (an OpenAI-compatible endpoint, Bedrock Converse).
#[async_trait]
pub trait LlmProvider: Send + Sync {
    /// The assistant's text.
    async fn complete(&self, req: &ChatRequest) -> Result<String, PortError>;
    /// For the reasons: e.g. "openai-compatible gpt-4o-mini".
    fn name(&self) -> String;
}

/// The ticket picklists an LLM's labels are checked against (values and labels).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketPicklists {
    pub queues: Vec<(QueueId, String)>,
    pub priorities: Vec<(PriorityId, String)>,
}

/// Where the tenant's ticket picklists come from (cached by the adapter).
#[async_trait]
pub trait PicklistSource: Send + Sync {
    async fn ticket_picklists(&self) -> Result<TicketPicklists, PortError>;
}

/// Who and what a runbook acts on: the ticket (its company picks the
/// customer tenant) and its requester's address (the only user it may touch).
#[derive(Debug, Clone, Copy)]
pub struct RunbookTarget<'a> {
    pub ticket: &'a TicketSnapshot,
    /// The ticket contact's e-mail address (`Contacts.emailAddress`).
    pub requester_email: Option<&'a str>,
    /// The action the run belongs to: its idempotency key at the provider.
    pub action_id: &'a atpilot_domain::ActionId,
}

/// A secret a run produced (a temporary password): handed to the approving
/// technician's page once, never stored, logged or written to Autotask.
#[derive(Clone, PartialEq, Eq)]
pub struct ShownOnce(pub String);

impl std::fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShownOnce(..)")
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunbookRun {
    /// Stored with the decision; never holds a secret.
    pub outcome: atpilot_domain::RunbookOutcome,
    /// The customer reply written from the verified result (for runbooks that do not reply with the draft).
    pub reply: Option<String>,
    pub secret: Option<ShownOnce>,
}

/// The runbook port: carries out a category's runbook (preflight, execute,
/// read back). Idempotency under the action id is the caller's (the
/// resolution step claims the run in the state store first).
#[async_trait]
pub trait Runbooks: Send + Sync {
    /// The plan as a sentence, without calling the provider (for the approval request).
    fn describe(&self, runbook: &atpilot_domain::Runbook, target: &RunbookTarget<'_>) -> String;
    /// Preflight, execute and verify. Never panics; a refusal or failure is in the outcome.
    async fn run(&self, runbook: &atpilot_domain::Runbook, target: &RunbookTarget<'_>) -> RunbookRun;
    /// Whether this provider is the ticket contact's directory (Google: the
    /// company has a Workspace customer and the contact's domain is one of
    /// its domains). The router asks it to choose between directories.
    fn serves(&self, target: &RunbookTarget<'_>) -> bool {
        let _ = target;
        false
    }
    /// Whether this provider has the ticket's company at all (Google: a
    /// Workspace customer is mapped), whatever the contact's domain: when no
    /// directory serves the contact, such a provider says why it cannot.
    fn knows_company(&self, target: &RunbookTarget<'_>) -> bool {
        self.serves(target)
    }
    /// Checks a provider's signed callback for a run of `runbook` that
    /// awaits one (planned as `plan`) and returns what it reports, with
    /// the reply written from it when it verified. Errors, in words: not
    /// signed by this runbook's provider, or not its contract.
    fn callback(
        &self,
        runbook: &atpilot_domain::Runbook,
        plan: &str,
        signed: &SignedCallback<'_>,
    ) -> Result<RunbookRun, String> {
        let _ = (plan, signed);
        Err(format!("{runbook} takes no callbacks"))
    }
}

/// A provider's callback as received: the signature headers and the raw body.
#[derive(Debug, Clone, Copy)]
pub struct SignedCallback<'a> {
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
    /// Unix seconds when it arrived.
    pub now: i64,
}

/// No provider configured: every action runbook is refused (reply-only needs none).
pub struct NoRunbooks;

#[async_trait]
impl Runbooks for NoRunbooks {
    fn describe(&self, runbook: &atpilot_domain::Runbook, _: &RunbookTarget<'_>) -> String {
        format!("{runbook}: no provider is configured")
    }
    async fn run(&self, runbook: &atpilot_domain::Runbook, t: &RunbookTarget<'_>) -> RunbookRun {
        let kind = runbook.kind();
        let outcome = atpilot_domain::RunbookOutcome::stopped(
            kind,
            self.describe(runbook, t),
            atpilot_domain::RunbookStatus::Refused,
            format!("no {} provider is configured: do it by hand", kind.provider()),
        );
        RunbookRun { outcome, reply: None, secret: None }
    }
}
