//! One named test per rule of PRODUCT.md's contract table and caution list,
//! plus property tests for the invariants that protect billing.

use super::*;
use crate::category::CategoryPolicy;
use crate::contract::Contract;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const AGENT: i64 = 900;
const WAITING_CUSTOMER: i64 = 7;

#[derive(Clone)]
struct Case {
    ticket: TicketSnapshot,
    prediction: Prediction,
    binding: BillingBinding,
    block_balance: Option<Hours>,
    block_hours_needed: Hours,
    last_hour: u32,
    risks: Vec<crate::risk::Risk>,
    model_written: Vec<crate::ModelPart>,
    draft: Option<String>,
    policy: Policy,
}

fn h(v: f64) -> Hours {
    Hours::new(v).unwrap()
}
fn conf(v: f64) -> Confidence {
    Confidence::new(v).unwrap()
}
fn cat() -> Category {
    Category::new("password-reset").unwrap()
}
fn contract(kind: ContractKind) -> BillingBinding {
    BillingBinding::Contract {
        contract: Contract {
            id: ContractId::new(11).unwrap(),
            company_id: CompanyId::new(5).unwrap(),
            kind,
            name: "c".into(),
            active: true,
        },
    }
}

impl Case {
    /// A safe category in the autonomous phase, confident, on a managed contract.
    fn autonomous() -> Self {
        let mut categories = BTreeMap::new();
        categories.insert(
            cat(),
            CategoryPolicy { phase: Phase::Autonomous, safe: true, runbook: Some(crate::RunbookKind::ReplyOnly) },
        );
        Case {
            ticket: TicketSnapshot {
                id: TicketId::new(1).unwrap(),
                ticket_number: "T20261102.0001".into(),
                title: "Reset my password".into(),
                description: "Locked out".into(),
                company_id: CompanyId::new(5).unwrap(),
                contact_id: Some(ContactId::new(3).unwrap()),
                created_by_contact_id: None,
                status: StatusId::new(1).unwrap(),
                queue_id: None,
                priority: None,
                issue_type: None,
                sub_issue_type: None,
                contract_id: Some(ContractId::new(11).unwrap()),
                project_id: None,
                has_project_code: false,
                assigned_resource_id: None,
                create_date: Some(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()),
                last_activity_date: None,
                last_customer_visible_activity: None,
                resolution: None,
            },
            prediction: Prediction {
                category: cat(),
                confidence: conf(0.97),
                queue_id: None,
                priority: None,
                issue_type: None,
                sub_issue_type: None,
                multi_issue: false,
                needs_physical_access: false,
                calibrated: true,
                evidence: None,
            },
            binding: contract(ContractKind::RecurringService),
            block_balance: None,
            block_hours_needed: h(0.01),
            last_hour: 0,
            risks: Vec::new(),
            model_written: Vec::new(),
            draft: Some("Hello, to set it up, open the app and follow the steps.".into()),
            policy: Policy {
                kill_switch: false,
                categories,
                default_phase: Phase::Shadow,
                min_confidence_for_approval: conf(0.6),
                min_confidence_for_autonomy: conf(0.9),
                block_hours_min_balance: h(2.0),
                disengage_statuses: BTreeSet::from([StatusId::new(WAITING_CUSTOMER).unwrap()]),
                max_autonomous_per_hour: 30,
            },
        }
    }
    fn phase(mut self, phase: Phase) -> Self {
        self.policy.categories.get_mut(&cat()).unwrap().phase = phase;
        self
    }
    fn decide(&self) -> Decision {
        decide(&DecisionInput {
            ticket: &self.ticket,
            prediction: &self.prediction,
            binding: &self.binding,
            block_balance: self.block_balance,
            block_hours_needed: self.block_hours_needed,
            agent_resource: ResourceId::new(AGENT).unwrap(),
            autonomous_actions_last_hour: self.last_hour,
            risks: &self.risks,
            model_written: &self.model_written,
            draft: self.draft.as_deref(),
            policy: &self.policy,
        })
    }
}

fn has(d: &Decision, pred: impl Fn(&Reason) -> bool) -> bool {
    d.reasons.iter().any(pred)
}

#[test]
fn recurring_service_may_auto_resolve() {
    let d = Case::autonomous().decide();
    assert_eq!(d.action, Action::Autonomous { plan: ActionPlan::default() });
    assert!(has(&d, |r| *r == Reason::RecurringServiceFlatFee));
}

#[test]
fn kill_switch_stops_everything() {
    let mut c = Case::autonomous();
    c.policy.kill_switch = true;
    let d = c.decide();
    assert_eq!(d.action, Action::LogOnly);
    assert_eq!(d.reasons, vec![Reason::KillSwitch]);
}

#[test]
fn disengage_status_stops_the_agent() {
    let mut c = Case::autonomous();
    c.ticket.status = StatusId::new(WAITING_CUSTOMER).unwrap();
    let d = c.decide();
    assert_eq!(d.action, Action::LogOnly);
    assert!(has(&d, |r| matches!(r, Reason::DisengageStatus { .. })));
}

#[test]
fn human_owned_ticket_stops_the_agent() {
    let mut c = Case::autonomous();
    c.ticket.assigned_resource_id = Some(ResourceId::new(77).unwrap());
    assert_eq!(c.decide().action, Action::LogOnly);
    // The agent's own assignment is not a human takeover.
    c.ticket.assigned_resource_id = Some(ResourceId::new(AGENT).unwrap());
    assert!(c.decide().is_autonomous());
}

#[test]
fn shadow_phase_logs_only() {
    let d = Case::autonomous().phase(Phase::Shadow).decide();
    assert_eq!(d.action, Action::LogOnly);
    assert!(has(&d, |r| matches!(r, Reason::PhaseIs { phase: Phase::Shadow, .. })));
}

#[test]
fn internal_notes_phase_writes_a_note_only() {
    assert_eq!(Case::autonomous().phase(Phase::InternalNotes).decide().action, Action::InternalNote);
}

#[test]
fn unlisted_category_uses_default_phase() {
    let mut c = Case::autonomous();
    c.prediction.category = Category::new("printer-jam").unwrap();
    assert_eq!(c.decide().action, Action::LogOnly);
}

#[test]
fn human_in_the_loop_requests_approval() {
    let d = Case::autonomous().phase(Phase::HumanInTheLoop).decide();
    assert_eq!(d.action, Action::RequestApproval { plan: ActionPlan::default() });
}

#[test]
fn unsafe_category_never_acts_even_when_autonomous() {
    let mut c = Case::autonomous();
    c.policy.categories.get_mut(&cat()).unwrap().safe = false;
    let d = c.decide();
    assert_eq!(d.action, Action::InternalNote);
    assert!(has(&d, |r| matches!(r, Reason::CategoryNotSafe { .. })));
}

#[test]
fn project_ticket_escalates_to_project_manager() {
    let mut c = Case::autonomous();
    c.binding = BillingBinding::Project;
    let d = c.decide();
    assert_eq!(d.action, Action::Escalate { to: EscalationTarget::ProjectManager, alert: false });
    assert!(has(&d, |r| *r == Reason::ProjectWork));
}

#[test]
fn multi_contract_never_auto_resolves() {
    let mut c = Case::autonomous();
    c.binding = BillingBinding::SeveralContracts {
        contract_ids: vec![ContractId::new(1).unwrap(), ContractId::new(2).unwrap()],
    };
    let d = c.decide();
    assert!(matches!(d.action, Action::Escalate { to: EscalationTarget::Dispatcher, .. }));
    assert!(has(&d, |r| matches!(r, Reason::SeveralContracts { contracts: 2 })));
}

#[test]
fn unknown_contract_never_auto_resolves() {
    let mut c = Case::autonomous();
    c.binding = BillingBinding::Unknown { why: "the ticket names no contract".into() };
    assert!(matches!(c.decide().action, Action::Escalate { .. }));
    c.binding = contract(ContractKind::Unknown);
    let d = c.decide();
    assert!(matches!(d.action, Action::Escalate { .. }));
    assert!(has(&d, |r| *r == Reason::UnknownContractType));
}

#[test]
fn hardware_needing_hands_escalates() {
    let mut c = Case::autonomous();
    c.prediction.needs_physical_access = true;
    let d = c.decide();
    assert!(matches!(d.action, Action::Escalate { .. }));
    assert!(has(&d, |r| *r == Reason::NeedsPhysicalAccess));
}

#[test]
fn per_ticket_records_the_billable_event() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::PerTicket);
    let d = c.decide();
    assert_eq!(d.action, Action::Autonomous { plan: ActionPlan { record_ticket_usage: true, ..Default::default() } });
}

#[test]
fn per_ticket_multi_issue_is_escalated_never_bundled() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::PerTicket);
    c.prediction.multi_issue = true;
    let d = c.decide();
    assert!(matches!(d.action, Action::Escalate { .. }));
    assert!(has(&d, |r| *r == Reason::PerTicketMultiIssue));
}

#[test]
fn block_hours_low_balance_refuses_autonomy() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::BlockHours);
    c.block_balance = Some(h(2.005));
    c.block_hours_needed = h(0.01);
    let d = c.decide();
    assert_eq!(d.action, Action::Escalate { to: EscalationTarget::Dispatcher, alert: true });
    assert!(has(&d, |r| matches!(r, Reason::BlockBalanceLow { .. })));
}

#[test]
fn block_hours_unknown_balance_refuses_autonomy() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::BlockHours);
    c.block_balance = None;
    let d = c.decide();
    assert_eq!(d.action, Action::Escalate { to: EscalationTarget::Dispatcher, alert: true });
}

#[test]
fn block_hours_sufficient_balance_allows_and_rechecks() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::BlockHours);
    c.block_balance = Some(h(10.0));
    let d = c.decide();
    assert_eq!(d.action, Action::Autonomous { plan: ActionPlan { recheck_block_balance: true, ..Default::default() } });
}

#[test]
fn time_and_materials_completes_only_after_time_entry() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::TimeAndMaterials);
    let d = c.decide();
    assert_eq!(
        d.action,
        Action::Autonomous { plan: ActionPlan { complete_after_time_entry: true, ..Default::default() } }
    );
    assert!(has(&d, |r| *r == Reason::TimeAndMaterialsEntryFirst));
    // The same condition travels with an approval request.
    let d = c.phase(Phase::HumanInTheLoop).decide();
    assert_eq!(
        d.action,
        Action::RequestApproval { plan: ActionPlan { complete_after_time_entry: true, ..Default::default() } }
    );
}

#[test]
fn fixed_price_may_resolve() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::FixedPriceOrRetainer);
    assert!(c.decide().is_autonomous());
}

#[test]
fn low_confidence_only_suggests() {
    let mut c = Case::autonomous();
    c.prediction.confidence = conf(0.4);
    let d = c.decide();
    assert_eq!(d.action, Action::InternalNote);
    assert!(has(&d, |r| matches!(r, Reason::LowConfidence { .. })));
}

#[test]
fn below_autonomy_confidence_asks_a_human() {
    let mut c = Case::autonomous();
    c.prediction.confidence = conf(0.8);
    let d = c.decide();
    assert!(matches!(d.action, Action::RequestApproval { .. }));
    assert!(has(&d, |r| matches!(r, Reason::BelowAutonomyConfidence { .. })));
}

#[test]
fn autonomous_actions_are_rate_limited() {
    let mut c = Case::autonomous();
    c.last_hour = 30;
    let d = c.decide();
    assert!(matches!(d.action, Action::RequestApproval { .. }));
    assert!(has(&d, |r| *r == Reason::AutonomyRateLimited { taken: 30, limit: 30 }));
}

#[test]
fn every_blocker_is_listed() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::PerTicket);
    c.prediction.multi_issue = true;
    c.prediction.needs_physical_access = true;
    let d = c.decide();
    assert!(has(&d, |r| *r == Reason::PerTicketMultiIssue));
    assert!(has(&d, |r| *r == Reason::NeedsPhysicalAccess));
}

#[test]
fn reasons_read_as_sentences() {
    let d = Case::autonomous().decide();
    let text: Vec<String> = d.reasons.iter().map(|r| r.to_string()).collect();
    assert_eq!(text[0], "category password-reset is in the autonomous phase");
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["action"]["action"], "autonomous");
}

fn arb_binding() -> impl Strategy<Value = BillingBinding> {
    prop_oneof![
        Just(BillingBinding::Project),
        Just(BillingBinding::SeveralContracts { contract_ids: vec![] }),
        Just(BillingBinding::Unknown { why: "x".into() }),
        prop_oneof![
            Just(ContractKind::RecurringService),
            Just(ContractKind::PerTicket),
            Just(ContractKind::BlockHours),
            Just(ContractKind::TimeAndMaterials),
            Just(ContractKind::FixedPriceOrRetainer),
            Just(ContractKind::Unknown),
        ]
        .prop_map(contract),
    ]
}

fn arb_phase() -> impl Strategy<Value = Phase> {
    prop_oneof![Just(Phase::Shadow), Just(Phase::InternalNotes), Just(Phase::HumanInTheLoop), Just(Phase::Autonomous)]
}

proptest! {
    #[test]
    fn never_autonomous_for_project_multi_or_unknown(
        binding in arb_binding(), phase in arb_phase(), safe: bool, kill: bool,
        confidence in 0.0f64..=1.0, balance in proptest::option::of(0.0f64..50.0),
        needed in 0.0f64..5.0, multi: bool, hardware: bool, last_hour in 0u32..50, status in 1i64..10,
        risky: bool, calibrated: bool,
    ) {
        let mut c = Case::autonomous().phase(phase);
        c.policy.categories.get_mut(&cat()).unwrap().safe = safe;
        c.policy.kill_switch = kill;
        c.binding = binding.clone();
        c.prediction.confidence = conf(confidence);
        c.prediction.multi_issue = multi;
        c.prediction.needs_physical_access = hardware;
        c.block_balance = balance.map(h);
        c.block_hours_needed = h(needed);
        c.last_hour = last_hour;
        c.ticket.status = StatusId::new(status).unwrap();
        c.prediction.calibrated = calibrated;
        if risky {
            c.risks.push(crate::risk::Risk::NoContact);
        }
        let d = decide(&DecisionInput {
            ticket: &c.ticket, prediction: &c.prediction, binding: &c.binding, block_balance: c.block_balance,
            block_hours_needed: c.block_hours_needed, agent_resource: ResourceId::new(AGENT).unwrap(),
            autonomous_actions_last_hour: c.last_hour, risks: &c.risks, model_written: &[], draft: c.draft.as_deref(), policy: &c.policy,
        });
        let resolves = matches!(d.action, Action::Autonomous { .. } | Action::RequestApproval { .. });
        prop_assert!(!d.reasons.is_empty());
        if resolves {
            prop_assert!(matches!(binding, BillingBinding::Contract { .. }), "resolution on {binding:?}");
            prop_assert!(binding.kind() != Some(ContractKind::Unknown));
            prop_assert!(!kill && safe && !hardware && phase >= Phase::HumanInTheLoop);
            prop_assert!(status != WAITING_CUSTOMER);
            if binding.kind() == Some(ContractKind::BlockHours) {
                let b = balance.unwrap();
                prop_assert!(b - needed >= 2.0);
            }
            if binding.kind() == Some(ContractKind::PerTicket) { prop_assert!(!multi); }
        }
        if resolves {
            prop_assert!(calibrated, "an uncalibrated confidence never proposes an action");
        }
        if d.is_autonomous() {
            prop_assert!(phase == Phase::Autonomous && confidence >= 0.9 && last_hour < 30);
            prop_assert!(!risky, "a risky request is never acted on alone");
        }
        if binding.kind() == Some(ContractKind::TimeAndMaterials) {
            if let Action::Autonomous { plan } | Action::RequestApproval { plan } = d.action {
                prop_assert!(plan.complete_after_time_entry);
            }
        }
    }
}

#[test]
fn keyword_confidence_may_suggest_never_act() {
    let mut c = Case::autonomous();
    c.prediction.calibrated = false;
    c.prediction.confidence = conf(0.95);
    let d = c.decide();
    assert_eq!(d.action, Action::InternalNote);
    assert!(has(&d, |r| matches!(r, Reason::UncalibratedConfidence { .. })));
}

#[test]
fn a_risky_request_goes_to_a_human_with_the_risk_shown() {
    let mut c = Case::autonomous();
    c.risks = vec![crate::risk::Risk::Negation { cue: "do not".into() }];
    let d = c.decide();
    assert!(matches!(d.action, Action::RequestApproval { .. }), "{d:?}");
    assert!(has(&d, |r| matches!(r, Reason::RequestRisk { .. })));
    assert!(d.reasons.iter().any(|r| r.to_string().contains("says not to do it")));
    // In the shadow phase the risk is recorded too.
    let d = c.phase(Phase::Shadow).decide();
    assert_eq!(d.action, Action::LogOnly);
    assert!(has(&d, |r| matches!(r, Reason::RequestRisk { .. })));
}

#[test]
fn a_category_without_a_runbook_never_acts() {
    let mut c = Case::autonomous();
    c.policy.categories.get_mut(&cat()).unwrap().runbook = None;
    for phase in [Phase::Autonomous, Phase::HumanInTheLoop] {
        let d = c.clone().phase(phase).decide();
        assert_eq!(d.action, Action::InternalNote, "{d:?}");
        assert!(has(&d, |r| matches!(r, Reason::NoRunbook { .. })));
    }
}

#[test]
fn a_reply_only_resolution_needs_a_reply_that_claims_no_work() {
    let mut c = Case::autonomous();
    c.draft = None;
    let d = c.decide();
    assert_eq!(d.action, Action::InternalNote);
    assert!(has(&d, |r| matches!(r, Reason::NoReply)));
    c.draft = Some("Hello,\n\nWe have reset your password.".into());
    let d = c.decide();
    assert_eq!(d.action, Action::InternalNote, "{d:?}");
    assert!(d.reasons.iter().any(|r| r.to_string().contains("\"we have reset\"")), "{:?}", d.reasons);
}

#[test]
fn what_the_llm_wrote_goes_to_a_human_whatever_the_phase() {
    let mut c = Case::autonomous();
    assert!(matches!(c.decide().action, Action::Autonomous { .. }));
    c.model_written = vec![crate::ModelPart::Queue, crate::ModelPart::Draft];
    let d = c.decide();
    assert!(matches!(d.action, Action::RequestApproval { .. }), "{d:?}");
    let said: Vec<String> = d.reasons.iter().map(|r| r.to_string()).collect();
    assert!(said.iter().any(|r| r.contains("queue and draft reply came from the LLM")), "{said:?}");
}

#[test]
fn reasons_call_the_block_check_an_estimate() {
    let mut c = Case::autonomous();
    c.binding = contract(ContractKind::BlockHours);
    c.block_balance = Some(h(24.0));
    c.block_hours_needed = h(0.1);
    let d = c.decide();
    let text: Vec<String> = d.reasons.iter().map(|r| r.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("covers an estimated 0.10 h") && t.contains("the time entry logs the measured time")),
        "{text:?}"
    );
}
