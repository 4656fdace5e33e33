//! The decision function: given a prediction, the ticket, how it is billed,
//! the block balance and the category's phase, what may the agent do, and why.
//!
//! It encodes PRODUCT.md's contract table and caution list:
//!
//! | situation | outcome |
//! |---|---|
//! | kill switch set | log only |
//! | disengage status (waiting customer, on hold, escalated…) or a human owns the ticket | log only |
//! | shadow phase | log only |
//! | internal-notes phase | internal note |
//! | category not on the safe list | internal note (never acts) |
//! | project ticket or project code | escalate to the project manager |
//! | several contracts / no or unknown contract / unknown contract type | escalate |
//! | needs physical access (hardware) | escalate |
//! | Per Ticket with several issues | escalate (split, never bundle) |
//! | Block Hours with unknown or low balance | escalate and alert |
//! | confidence not calibrated (the keyword fallback) | internal note (it may suggest, never act) |
//! | confidence under the approval threshold | internal note |
//! | a request risk (negation, question, outside address, pressure, unverified requester) | approval request, the risk shown; never autonomous |
//! | human-in-the-loop phase | approval request |
//! | autonomous phase, under the autonomy threshold or over the hourly cap | approval request |
//! | autonomous phase otherwise | autonomous action |
//!
//! Every outcome carries the list of reasons that produced it.

use crate::category::{Category, Phase, Policy};
use crate::contract::{BillingBinding, ContractKind};
use crate::ids::*;
use crate::measure::{Confidence, Hours};
use crate::risk::Risk;
use crate::runbook::RunbookKind;
use crate::ticket::{StatusId, TicketSnapshot};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The classifier's output for one ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub category: Category,
    /// Calibrated probability that the category (and so the proposed action) is right.
    pub confidence: Confidence,
    pub queue_id: Option<QueueId>,
    pub priority: Option<PriorityId>,
    pub issue_type: Option<IssueTypeId>,
    pub sub_issue_type: Option<SubIssueTypeId>,
    /// The ticket asks for several unrelated things.
    pub multi_issue: bool,
    /// The work needs hands on hardware.
    pub needs_physical_access: bool,
    /// Whether `confidence` is a calibrated probability (a trained model's).
    /// An uncalibrated score (the keyword fallback) may suggest, never act.
    #[serde(default)]
    pub calibrated: bool,
    /// Why a trained model chose the category (absent for the keyword
    /// fallback and in decisions stored before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// The classification evidence shown to dispatchers: the ticket's words that
/// weighed most for the category against the runner-up (by occlusion, see
/// `atpilot_model::explain`), and the runner-up with its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Words (lower-case letters and digits) with their weight in raw score, largest first.
    pub words: Vec<(String, f64)>,
    /// The runner-up category and its probability (temperature-scaled softmax).
    pub runner_up: Option<(Category, f64)>,
}

/// Everything the decision reads.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInput<'a> {
    pub ticket: &'a TicketSnapshot,
    pub prediction: &'a Prediction,
    pub binding: &'a BillingBinding,
    /// Block Hours: hours left on the contract's active blocks, net of the
    /// agent's own pending entries. `None` when not computed.
    pub block_balance: Option<Hours>,
    /// Block hours the action would consume (hours × the role's block factor).
    pub block_hours_needed: Hours,
    pub agent_resource: ResourceId,
    /// Autonomous actions already taken in the last rolling hour.
    pub autonomous_actions_last_hour: u32,
    /// What the request-risk check found ([`crate::risk::assess`]).
    pub risks: &'a [Risk],
    /// What an LLM (not the calibrated local model) wrote into the proposal.
    pub model_written: &'a [ModelPart],
    /// The drafted reply to the customer, if any.
    pub draft: Option<&'a str>,
    pub policy: &'a Policy,
}

/// A part of a proposal an LLM wrote. Model text is untrusted: a proposal
/// with any of these goes to a human whatever the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelPart {
    Category,
    Queue,
    Priority,
    Draft,
}

impl ModelPart {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelPart::Category => "category",
            ModelPart::Queue => "queue",
            ModelPart::Priority => "priority",
            ModelPart::Draft => "draft reply",
        }
    }
}

/// Who an escalation goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EscalationTarget {
    ProjectManager,
    Dispatcher,
}

/// What resolving the ticket must also do, per its contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActionPlan {
    /// Time & Materials: complete the ticket only after its time entry is confirmed written.
    pub complete_after_time_entry: bool,
    /// Per Ticket: record the billable event (one ticket used).
    pub record_ticket_usage: bool,
    /// Block Hours: re-check the balance when the time entry is written.
    pub recheck_block_balance: bool,
}

/// The allowed action.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Store the decision; write nothing to Autotask.
    LogOnly,
    /// One internal-only note with the suggestion.
    InternalNote,
    /// Ask a human; the approval executes the plan.
    RequestApproval { plan: ActionPlan },
    /// Act now.
    Autonomous { plan: ActionPlan },
    /// A human must handle it; `alert` also notifies the alert channel.
    Escalate { to: EscalationTarget, alert: bool },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::LogOnly => "log-only",
            Action::InternalNote => "internal-note",
            Action::RequestApproval { .. } => "request-approval",
            Action::Autonomous { .. } => "autonomous",
            Action::Escalate { .. } => "escalate",
        }
    }
}

/// Why. Each reason renders as a sentence a dispatcher can read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Reason {
    KillSwitch,
    DisengageStatus {
        status: StatusId,
    },
    HumanOwnsTicket {
        resource: ResourceId,
    },
    PhaseIs {
        category: Category,
        phase: Phase,
    },
    CategoryNotSafe {
        category: Category,
    },
    ProjectWork,
    SeveralContracts {
        contracts: usize,
    },
    UnknownContract {
        why: String,
    },
    UnknownContractType,
    NeedsPhysicalAccess,
    PerTicketMultiIssue,
    BlockBalanceUnknown,
    BlockBalanceLow {
        remaining: Hours,
        needed: Hours,
        minimum: Hours,
    },
    BlockBalanceSufficient {
        remaining: Hours,
        needed: Hours,
    },
    /// The confidence is not a calibrated probability: suggestions only.
    UncalibratedConfidence {
        confidence: Confidence,
    },
    /// The request-risk check found this: a human decides.
    RequestRisk {
        risk: Risk,
    },
    /// No runbook would do the work: a note, never an action.
    NoRunbook {
        category: Category,
    },
    /// A reply-only resolution without a drafted reply.
    NoReply,
    /// This runbook hands its result to a human (a temporary password): never alone.
    RunbookNeedsHuman {
        runbook: RunbookKind,
    },
    /// The drafted reply says work was done that a reply-only runbook does not do.
    ReplyClaimsWork {
        cue: String,
    },
    /// An LLM wrote these parts of the proposal: a human decides.
    ModelWritten {
        parts: Vec<ModelPart>,
    },
    LowConfidence {
        confidence: Confidence,
        needed: Confidence,
    },
    BelowAutonomyConfidence {
        confidence: Confidence,
        needed: Confidence,
    },
    AutonomyRateLimited {
        taken: u32,
        limit: u32,
    },
    RecurringServiceFlatFee,
    PerTicketBillableEvent,
    TimeAndMaterialsEntryFirst,
    FixedPriceOrRetainer,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::KillSwitch => write!(f, "the global kill switch is on: the agent writes nothing"),
            Reason::DisengageStatus { status } => write!(f, "ticket status {status} disengages the agent"),
            Reason::HumanOwnsTicket { resource } => write!(f, "resource {resource} has taken the ticket over"),
            Reason::PhaseIs { category, phase } => write!(f, "category {category} is in the {phase} phase"),
            Reason::CategoryNotSafe { category } => {
                write!(f, "category {category} is not on the safe list: suggestions only")
            }
            Reason::ProjectWork => write!(f, "project work never auto-resolves: the project manager decides"),
            Reason::SeveralContracts { contracts } => {
                write!(f, "the work spans {contracts} contracts: never auto-resolved")
            }
            Reason::UnknownContract { why } => write!(f, "no contract is established ({why}): never auto-resolved"),
            Reason::UnknownContractType => write!(f, "the contract's type is unknown to atpilot: never auto-resolved"),
            Reason::NeedsPhysicalAccess => write!(f, "the work needs physical access to hardware"),
            Reason::PerTicketMultiIssue => {
                write!(f, "per-ticket contract and several issues in one ticket: split it, never bundle")
            }
            Reason::BlockBalanceUnknown => {
                write!(f, "the block-hours balance is unknown: checked before any resolution")
            }
            Reason::BlockBalanceLow { remaining, needed, minimum } => {
                write!(
                    f,
                    "block balance {remaining} minus an estimated {needed} of agent work would fall under the minimum {minimum}"
                )
            }
            Reason::BlockBalanceSufficient { remaining, needed } => write!(
                f,
                "block balance {remaining} covers an estimated {needed} of agent work (an estimate for this check; the time entry logs the measured time)"
            ),
            Reason::UncalibratedConfidence { confidence } => write!(
                f,
                "confidence {confidence} comes from the keyword fallback, not a calibrated model: suggestions only (train a model with `atpilot model train`)"
            ),
            Reason::RequestRisk { risk } => write!(f, "caution: {risk}: a human must decide"),
            Reason::NoRunbook { category } => write!(
                f,
                "{category} has no runbook, so nothing would do its work: suggestion only (set categories.{category}.runbook)"
            ),
            Reason::RunbookNeedsHuman { runbook } => write!(
                f,
                "the {runbook} runbook {}: a human must approve",
                runbook.why_human().unwrap_or("needs a human")
            ),
            Reason::NoReply => write!(f, "the reply is the work, and there is no drafted reply: suggestion only"),
            Reason::ReplyClaimsWork { cue } => write!(
                f,
                "the drafted reply says work was done (\"{cue}\") but the runbook only replies: suggestion only"
            ),
            Reason::ModelWritten { parts } => {
                let parts: Vec<&str> = parts.iter().map(|p| p.as_str()).collect();
                write!(
                    f,
                    "the {} came from the LLM, whose output is never acted on alone: a human must approve",
                    parts.join(" and ")
                )
            }
            Reason::LowConfidence { confidence, needed } => {
                write!(f, "confidence {confidence} is under the {needed} needed to propose an action")
            }
            Reason::BelowAutonomyConfidence { confidence, needed } => {
                write!(f, "confidence {confidence} is under the {needed} needed to act alone: asking a human")
            }
            Reason::AutonomyRateLimited { taken, limit } => {
                write!(f, "{taken} autonomous actions in the last hour reach the limit of {limit}: asking a human")
            }
            Reason::RecurringServiceFlatFee => write!(f, "recurring-service contract: flat fee, may resolve"),
            Reason::PerTicketBillableEvent => {
                write!(f, "per-ticket contract: the resolution is recorded as a billable event")
            }
            Reason::TimeAndMaterialsEntryFirst => {
                write!(f, "time & materials: the ticket is completed only after its time entry is written")
            }
            Reason::FixedPriceOrRetainer => write!(f, "fixed-price/retainer contract: may resolve"),
        }
    }
}

/// The decision and every reason behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub action: Action,
    pub reasons: Vec<Reason>,
}

impl Decision {
    fn new(action: Action, reasons: Vec<Reason>) -> Self {
        Self { action, reasons }
    }
    /// Whether the action may resolve the ticket without a human click.
    pub fn is_autonomous(&self) -> bool {
        matches!(self.action, Action::Autonomous { .. })
    }
}

/// Contract and caution rules: either the plan a resolution must follow, or
/// the escalation with every blocking reason.
fn resolution_rules(input: &DecisionInput<'_>) -> Result<(ActionPlan, Vec<Reason>), (Action, Vec<Reason>)> {
    let mut blockers = Vec::new();
    let mut target = EscalationTarget::Dispatcher;
    let mut alert = false;
    let mut plan = ActionPlan::default();
    let mut notes = Vec::new();

    match input.binding {
        BillingBinding::Project => {
            blockers.push(Reason::ProjectWork);
            target = EscalationTarget::ProjectManager;
        }
        BillingBinding::SeveralContracts { contract_ids } => {
            blockers.push(Reason::SeveralContracts { contracts: contract_ids.len().max(2) })
        }
        BillingBinding::Unknown { why } => blockers.push(Reason::UnknownContract { why: why.clone() }),
        BillingBinding::Contract { contract } => match contract.kind {
            ContractKind::RecurringService => notes.push(Reason::RecurringServiceFlatFee),
            ContractKind::FixedPriceOrRetainer => notes.push(Reason::FixedPriceOrRetainer),
            ContractKind::Unknown => blockers.push(Reason::UnknownContractType),
            ContractKind::PerTicket => {
                if input.prediction.multi_issue {
                    blockers.push(Reason::PerTicketMultiIssue);
                } else {
                    plan.record_ticket_usage = true;
                    notes.push(Reason::PerTicketBillableEvent);
                }
            }
            ContractKind::TimeAndMaterials => {
                plan.complete_after_time_entry = true;
                notes.push(Reason::TimeAndMaterialsEntryFirst);
            }
            ContractKind::BlockHours => match input.block_balance {
                None => {
                    blockers.push(Reason::BlockBalanceUnknown);
                    alert = true;
                }
                Some(remaining) => {
                    let needed = input.block_hours_needed;
                    let minimum = input.policy.block_hours_min_balance;
                    if remaining.get() - needed.get() < minimum.get() {
                        blockers.push(Reason::BlockBalanceLow { remaining, needed, minimum });
                        alert = true;
                    } else {
                        plan.recheck_block_balance = true;
                        notes.push(Reason::BlockBalanceSufficient { remaining, needed });
                    }
                }
            },
        },
    }
    if input.prediction.needs_physical_access {
        blockers.push(Reason::NeedsPhysicalAccess);
    }
    if blockers.is_empty() { Ok((plan, notes)) } else { Err((Action::Escalate { to: target, alert }, blockers)) }
}

/// Decides what the agent may do. Pure: same input, same decision.
pub fn decide(input: &DecisionInput<'_>) -> Decision {
    let policy = input.policy;
    let ticket = input.ticket;
    let prediction = input.prediction;

    if policy.kill_switch {
        return Decision::new(Action::LogOnly, vec![Reason::KillSwitch]);
    }
    if policy.disengage_statuses.contains(&ticket.status) {
        return Decision::new(Action::LogOnly, vec![Reason::DisengageStatus { status: ticket.status }]);
    }
    if let Some(resource) = ticket.assigned_resource_id.filter(|_| ticket.taken_over_by_human(input.agent_resource)) {
        return Decision::new(Action::LogOnly, vec![Reason::HumanOwnsTicket { resource }]);
    }

    let cat = policy.category(&prediction.category);
    let mut reasons = vec![Reason::PhaseIs { category: prediction.category.clone(), phase: cat.phase }];
    reasons.extend(input.risks.iter().cloned().map(|risk| Reason::RequestRisk { risk }));
    match cat.phase {
        Phase::Shadow => return Decision::new(Action::LogOnly, reasons),
        Phase::InternalNotes => return Decision::new(Action::InternalNote, reasons),
        Phase::HumanInTheLoop | Phase::Autonomous => {}
    }
    if !cat.safe {
        reasons.push(Reason::CategoryNotSafe { category: prediction.category.clone() });
        return Decision::new(Action::InternalNote, reasons);
    }
    match (cat.runbook, input.draft) {
        (None, _) => {
            reasons.push(Reason::NoRunbook { category: prediction.category.clone() });
            return Decision::new(Action::InternalNote, reasons);
        }
        // The reply is the work: there must be one, and it must not claim work nobody did.
        (Some(RunbookKind::ReplyOnly), None) => {
            reasons.push(Reason::NoReply);
            return Decision::new(Action::InternalNote, reasons);
        }
        (Some(RunbookKind::ReplyOnly), Some(draft)) => {
            if let Some(cue) = crate::runbook::claims_work_done(draft) {
                reasons.push(Reason::ReplyClaimsWork { cue: cue.to_string() });
                return Decision::new(Action::InternalNote, reasons);
            }
        }
        // The reply is written from the verified result.
        (Some(_), _) => {}
    }
    // How a resolution would bill (`notes`) is said only where one is proposed or made.
    let (plan, notes) = match resolution_rules(input) {
        Ok(found) => found,
        Err((escalation, blockers)) => {
            reasons.extend(blockers);
            return Decision::new(escalation, reasons);
        }
    };
    if !prediction.calibrated {
        reasons.push(Reason::UncalibratedConfidence { confidence: prediction.confidence });
        return Decision::new(Action::InternalNote, reasons);
    }
    if prediction.confidence < policy.min_confidence_for_approval {
        reasons.push(Reason::LowConfidence {
            confidence: prediction.confidence,
            needed: policy.min_confidence_for_approval,
        });
        return Decision::new(Action::InternalNote, reasons);
    }
    // A request for someone else: the runbook would change the requester's own
    // account, or its reply would tell the requester how to fix their own, so
    // neither atpilot nor an approval click can do it; a technician does.
    if input.risks.iter().any(|r| matches!(r, Risk::ForSomeoneElse { .. })) {
        return Decision::new(Action::InternalNote, reasons);
    }
    reasons.extend(notes);
    // A risky request, or one the LLM shaped, goes to a human whatever the phase; the reasons say why.
    if !input.model_written.is_empty() {
        reasons.push(Reason::ModelWritten { parts: input.model_written.to_vec() });
    }
    let human_runbook = cat.runbook.is_some_and(RunbookKind::needs_human);
    if human_runbook && cat.phase == Phase::Autonomous {
        reasons.push(Reason::RunbookNeedsHuman { runbook: cat.runbook.unwrap_or(RunbookKind::ReplyOnly) });
    }
    if cat.phase == Phase::HumanInTheLoop || !input.risks.is_empty() || !input.model_written.is_empty() || human_runbook
    {
        return Decision::new(Action::RequestApproval { plan }, reasons);
    }
    if prediction.confidence < policy.min_confidence_for_autonomy {
        reasons.push(Reason::BelowAutonomyConfidence {
            confidence: prediction.confidence,
            needed: policy.min_confidence_for_autonomy,
        });
        return Decision::new(Action::RequestApproval { plan }, reasons);
    }
    if input.autonomous_actions_last_hour >= policy.max_autonomous_per_hour {
        reasons.push(Reason::AutonomyRateLimited {
            taken: input.autonomous_actions_last_hour,
            limit: policy.max_autonomous_per_hour,
        });
        return Decision::new(Action::RequestApproval { plan }, reasons);
    }
    Decision::new(Action::Autonomous { plan }, reasons)
}

#[cfg(test)]
mod tests;
