//! Runs the request-risk corpus (`request_risk_corpus.tsv`): every ticket
//! through the risk check and the decision of a confident, autonomous,
//! managed-contract category, against its expected outcome.

use atpilot_domain::risk::{self, Requester, Risk};
use atpilot_domain::*;
use chrono::{TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet};

const CORPUS: &str = include_str!("request_risk_corpus.tsv");

fn requester(kind: &str) -> Requester {
    let mut r = Requester {
        contact_id: ContactId::new(3).ok(),
        created_by_contact_id: None,
        contact_email: Some("jane.doe@contoso.example".into()),
        company_domains: vec!["contoso.example".into()],
        contact_name: None,
    };
    match kind {
        "verified" => {}
        "no-contact" => r.contact_id = None,
        "other-creator" => r.created_by_contact_id = ContactId::new(4).ok(),
        "outside-domain" => r.contact_email = Some("jane.doe@mailbox.example".into()),
        "no-domains" => r.company_domains.clear(),
        other => panic!("unknown requester kind {other:?} in the corpus"),
    }
    r
}

fn risk_kind(r: &Risk) -> &'static str {
    match r {
        Risk::Negation { .. } => "negation",
        Risk::Question { .. } => "question",
        Risk::CredentialsToOutsideAddress => "credentials",
        Risk::Pressure { .. } => "pressure",
        Risk::NoContact => "no-contact",
        Risk::RequesterNotContact => "other-creator",
        Risk::ContactOutsideCompanyDomains => "outside-domain",
        Risk::CompanyDomainsUnknown => "no-domains",
        Risk::ContactAddressUnknown => "no-address",
        Risk::ForSomeoneElse { .. } => "someone-else",
    }
}

fn decide_on(title: &str, description: &str, risks: &[Risk]) -> Decision {
    let category = Category::new("password-reset").unwrap();
    let ticket = TicketSnapshot {
        id: TicketId::new(1).unwrap(),
        ticket_number: "T20261130.0001".into(),
        title: title.into(),
        description: description.into(),
        company_id: CompanyId::new(5).unwrap(),
        contact_id: ContactId::new(3).ok(),
        created_by_contact_id: None,
        status: StatusId::new(1).unwrap(),
        queue_id: None,
        priority: None,
        issue_type: None,
        sub_issue_type: None,
        contract_id: ContractId::new(11).ok(),
        project_id: None,
        has_project_code: false,
        assigned_resource_id: None,
        create_date: Some(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()),
        last_activity_date: None,
        last_customer_visible_activity: None,
        resolution: None,
    };
    let prediction = Prediction {
        category: category.clone(),
        confidence: Confidence::new(0.97).unwrap(),
        queue_id: None,
        priority: None,
        issue_type: None,
        sub_issue_type: None,
        multi_issue: false,
        needs_physical_access: false,
        calibrated: true,
        evidence: None,
    };
    let binding = BillingBinding::Contract {
        contract: Contract {
            id: ContractId::new(11).unwrap(),
            company_id: CompanyId::new(5).unwrap(),
            kind: ContractKind::RecurringService,
            name: "Managed".into(),
            active: true,
        },
    };
    let policy = Policy {
        kill_switch: false,
        categories: BTreeMap::from([(
            category,
            CategoryPolicy {
                phase: Phase::Autonomous,
                safe: true,
                runbook: Some(atpilot_domain::RunbookKind::ReplyOnly),
            },
        )]),
        default_phase: Phase::Shadow,
        min_confidence_for_approval: Confidence::new(0.6).unwrap(),
        min_confidence_for_autonomy: Confidence::new(0.9).unwrap(),
        block_hours_min_balance: Hours::new(2.0).unwrap(),
        disengage_statuses: BTreeSet::new(),
        max_autonomous_per_hour: 30,
    };
    decide(&DecisionInput {
        ticket: &ticket,
        prediction: &prediction,
        binding: &binding,
        block_balance: None,
        block_hours_needed: Hours::ZERO,
        agent_resource: ResourceId::new(900).unwrap(),
        autonomous_actions_last_hour: 0,
        risks,
        model_written: &[],
        draft: Some("Hello, here is how to do it yourself."),
        policy: &policy,
    })
}

#[test]
fn every_ticket_of_the_risk_corpus_gets_its_expected_outcome() {
    let mut failures = Vec::new();
    let (mut risky, mut ordinary) = (0, 0);
    for (n, line) in CORPUS.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()).skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [expected, kind, who, title, description] = cols[..] else {
            panic!("line {}: want 5 tab-separated columns, got {}", n + 1, cols.len())
        };
        let risks = risk::assess(title, description, &requester(who));
        let d = decide_on(title, description, &risks);
        let ok = match expected {
            "approval" => {
                risky += 1;
                matches!(d.action, Action::RequestApproval { .. })
                    && risks.iter().any(|r| risk_kind(r) == kind)
                    && d.reasons.iter().any(|r| matches!(r, Reason::RequestRisk { .. }))
            }
            "autonomous" => {
                ordinary += 1;
                d.is_autonomous() && risks.is_empty()
            }
            other => panic!("line {}: unknown expectation {other:?}", n + 1),
        };
        if !ok {
            failures.push(format!(
                "line {}: {title:?} / {description:?}: expected {expected} ({kind}), got {} with risks {risks:?}",
                n + 1,
                d.action.name()
            ));
        }
    }
    assert!(risky >= 30 && ordinary >= 30, "the corpus needs at least 30 of each: {risky} risky, {ordinary} ordinary");
    assert!(
        failures.is_empty(),
        "{} of {} tickets misjudged:\n{}",
        failures.len(),
        risky + ordinary,
        failures.join("\n")
    );
}
