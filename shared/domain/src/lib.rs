//! atpilot's domain: the rules that decide what the agent may do, as pure
//! functions over parsed types. Nothing here performs I/O; every constructor
//! that takes outside input returns a typed error instead of panicking.
//!
//! * [`ids`]: positive Autotask ids and atpilot's own identifiers.
//! * [`measure`]: measured work spans, hours, confidence, money.
//! * [`contract`]: contract types from the tenant's picklist and the ticket's billing binding.
//! * [`ticket`]: the ticket snapshot the agent decides on.
//! * [`category`]: automation categories, phases, the kill switch and policies.
//! * [`decision`]: the decision function (the contract table and caution list of PRODUCT.md).
//! * [`time_entry`]: the time-entry discipline (measured, once, on the ticket's own contract).
//! * [`runbook`]: the runbooks a category resolves through, and replies that claim work.
//! * [`risk`]: the request-risk check (negation, outside addresses, pressure, unverified requesters).
//! * [`approval`]: approval-rate arithmetic and phase transitions.
//! * [`status_update`]: which open tickets have gone quiet for the customer.
//! * [`untrusted`]: customer and model text made safe for atpilot's messages.

pub mod approval;
pub mod block;
pub mod category;
pub mod contract;
pub mod decision;
pub mod ids;
pub mod measure;
pub mod risk;
pub mod runbook;
pub mod status_update;
pub mod targets;
pub mod tenant_time;
pub mod ticket;
pub mod time_entry;
pub mod untrusted;

pub use approval::{ApprovalCounts, PhaseMove, PhaseMoveReason, PromotionPolicy, evaluate_phase};
pub use category::{Category, CategoryPolicy, Phase, PhaseChangeError, Policy};
pub use contract::{BillingBinding, Contract, ContractKind, ContractTypeMap, PicklistEntry};
pub use decision::{
    Action, ActionPlan, Decision, DecisionInput, EscalationTarget, Evidence, ModelPart, Prediction, Reason, decide,
};
pub use ids::*;
pub use measure::{Confidence, Currency, Hours, Money, WorkSpan};
pub use risk::{Requester, Risk};
pub use runbook::{Directory, DirectoryAction, Runbook, RunbookKind, RunbookOutcome, RunbookStatus};
pub use tenant_time::TenantTimeZone;
pub use ticket::{StatusId, TicketSnapshot};
pub use time_entry::{StoredEntry, TimeEntryDraft, TimeEntryError};
