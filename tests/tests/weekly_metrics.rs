//! The weekly metrics on a seeded sandbox and a prepared state store. Every
//! expected figure is computed here from the sandbox's rows (read directly,
//! not through the API) and from the records this test wrote, then compared
//! with the report; the rendered e-mail is opened in headless Chromium.

use atpilot_agent::adapters::notify::OutboxNotifier;
use atpilot_autotask::entities::{TimeEntry, TimeEntryPatch};
use atpilot_autotask::{Client, ClientConfig, Credentials, Opt, ZoneSource};
use atpilot_autotask_sandbox::tenant::{CT_BLOCK_HOURS, CT_PER_TICKET, SURVEY_RESULT_BASE, TE_BASE, TE_SLOTS};
use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
use atpilot_config::Config;
use atpilot_domain::{ApprovalCounts, Phase, PhaseMove};
use atpilot_store::State;
use atpilot_store::embedded::EmbeddedStateStore;
use atpilot_store::records::{ApprovalRecord, ApprovalState, DecisionRecord, LedgerRecord};
use atpilot_weekly::{self as weekly, Options, Sources, UNSEEN};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

const TICKETS: u64 = 3000;

fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap()
}
fn rollout() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 26).unwrap()
}
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
fn date(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_str).and_then(atpilot_autotask::entities::parse_datetime)
}
fn i(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_i64)
}

struct World {
    sb: Sandbox,
    client: Client,
    state: State,
    config: Config,
    _dir: tempfile::TempDir,
}

async fn world(manual_promotion: bool) -> World {
    let sb = Sandbox::start(
        SandboxConfig { tickets: TICKETS, seed: 11, anchor: Some(anchor()), ..Default::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut config_text = toml_of(&sb);
    if manual_promotion {
        config_text = config_text.replace("[thresholds]\n", "[thresholds]\nmanual_promotion = true\n");
    }
    let config = Config::parse(&config_text, "test").unwrap();
    let creds = Credentials {
        username: sb.config().user.clone(),
        secret: sb.config().secret.clone(),
        integration_code: sb.config().integration_code.clone(),
        impersonation_resource_id: None,
    };
    let client = Client::new(ClientConfig::new(creds, ZoneSource::Fixed { rest_url: sb.rest_url() })).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = State::new(Arc::new(EmbeddedStateStore::open(dir.path()).unwrap()));
    World { sb, client, state, config, _dir: dir }
}

fn toml_of(sb: &Sandbox) -> String {
    let f = sb.facts();
    format!(
        r#"
[autotask]
url = "sandbox"
api_budget_share = 0.5
[agent]
resource_id = {agent}
role_id = {role}
[billing_codes]
default = 1
[thresholds]
min_confidence_for_approval = 0.6
min_confidence_for_autonomy = 0.75
[statuses]
disengage = [7]
complete = 5
[categories.password-reset]
phase = "autonomous"
safe = true
runbook = "reply-only"
[categories.mfa-enrollment]
phase = "human-in-the-loop"
safe = true
runbook = "reply-only"
approvers = ["dispatch@msp.example"]
channels = ["teams"]
[categories.license-request]
phase = "internal-notes"
safe = true
[categories.network]
phase = "shadow"
[approvals]
base_url = "http://127.0.0.1:8080/approvals/"
[notifications]
email_from = "atpilot@msp.example"
finance = ["finance@msp.example"]
service_manager = ["manager@msp.example"]
"#,
        agent = f.agent_resource_id,
        role = f.agent_role_id
    )
}

/// What the test wrote to the state store, to compute the expectations from.
#[derive(Default)]
struct Prepared {
    /// ticket → (category, decided_at, autonomous)
    decisions: HashMap<i64, (String, DateTime<Utc>, bool)>,
    /// (ticket, category, state, at)
    approvals: Vec<(i64, String, ApprovalState, DateTime<Utc>)>,
    /// action id → created time entry id
    entries: Vec<(String, i64)>,
    /// Time entries the test tampered with: rounded, edited, deleted.
    tampered: Vec<i64>,
}

async fn decision(w: &World, p: &mut Prepared, ticket: i64, cat: &str, at: DateTime<Utc>, action: &str) -> String {
    let event_key = format!("test-{ticket}");
    let plan =
        json!({"complete_after_time_entry": false, "record_ticket_usage": false, "recheck_block_balance": false});
    let action_json = match action {
        "autonomous" | "request-approval" => json!({"action": action, "plan": plan}),
        other => json!({"action": other}),
    };
    let rec: DecisionRecord = serde_json::from_value(json!({
        "ticket_id": ticket, "event_key": event_key, "decided_at": ts(at), "phase": "shadow",
        "prediction": {"category": cat, "confidence": 0.9, "queue_id": null, "priority": null, "issue_type": null, "sub_issue_type": null, "multi_issue": false, "needs_physical_access": false, "calibrated": true},
        "action": action_json, "reasons": [], "explanation": [], "draft": null,
    }))
    .unwrap();
    w.state.save_decision(&rec).await.unwrap();
    p.decisions.insert(ticket, (cat.to_string(), at, action == "autonomous"));
    atpilot_agent::handlers::classify::action_id_for(&event_key).to_string()
}

#[allow(clippy::too_many_arguments)]
async fn approval(
    w: &World,
    p: &mut Prepared,
    id: &str,
    ticket: i64,
    cat: &str,
    created: DateTime<Utc>,
    state: ApprovalState,
    at: DateTime<Utc>,
) {
    let mut rec: ApprovalRecord = serde_json::from_value(json!({
        "id": id, "ticket_id": ticket, "category": cat, "action_id": id, "state": "pending", "created_at": ts(created),
        "expires_at": ts(created + Duration::hours(24)), "decision_event_key": format!("test-{ticket}"), "draft": null,
        "decided_by": null, "decided_at": null, "note": null,
    }))
    .unwrap();
    w.state.create_approval(&rec).await.unwrap();
    rec.state = state;
    rec.decided_at = Some(at);
    w.state.decide_approval(&rec).await.unwrap();
    p.approvals.push((ticket, cat.to_string(), state, at));
}

/// Writes the entry in Autotask as the agent would, and its ledger record.
async fn entry(
    w: &World,
    p: &mut Prepared,
    action: &str,
    ticket: i64,
    contract: i64,
    start: DateTime<Utc>,
    secs: i64,
) -> i64 {
    let span = atpilot_domain::WorkSpan::new(start, start + Duration::seconds(secs)).unwrap();
    let f = w.sb.facts();
    let te = TimeEntry {
        ticket_id: Some(ticket),
        resource_id: Some(f.agent_resource_id),
        role_id: Some(f.agent_role_id),
        billing_code_id: Some(1),
        contract_id: Some(contract),
        date_worked: Some(start.format("%Y-%m-%dT00:00:00Z").to_string()),
        start_date_time: Some(start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        end_date_time: Some(span.end().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        hours_worked: Some(span.hours().get()),
        summary_notes: Some("atpilot did it".into()),
        internal_notes: Some(format!("Logged by atpilot for its own work. [atpilot:{action}]")),
        ..Default::default()
    };
    let id = w.client.create(&te).await.unwrap();
    let l: LedgerRecord = serde_json::from_value(json!({"action_id": action, "ticket_id": ticket, "contract_id": contract, "span": {"start": ts(span.start()), "end": ts(span.end())}, "ledger": {"state": "pending"}})).unwrap();
    w.state.ledger_claim(&l).await.unwrap();
    w.state.ledger_written(&l, atpilot_domain::TimeEntryId::new(id).unwrap()).await.unwrap();
    p.entries.push((action.to_string(), id));
    id
}

/// The scenario. Week = 2026-03-02..08. In scope before the run: password-reset
/// (autonomous), mfa-enrollment (human-in-the-loop), license-request (moved to
/// human-in-the-loop at run time).
async fn prepare(w: &World) -> Prepared {
    let mut p = Prepared::default();
    let end = anchor();
    let week_start = end - Duration::days(7);
    let set = atpilot_store::records::PhaseRecord {
        category: "license-request".parse().unwrap(),
        phase: Phase::HumanInTheLoop,
        changed_at: end - Duration::days(40),
        changed_by: "test".into(),
        reason: "pilot".into(),
    };
    w.state.set_phase(&set).await.unwrap();
    let facts = w.sb.facts();
    // The week's tickets that have a contract, in id order.
    let week: Vec<_> = (facts.first_ticket_id..=facts.last_ticket_id)
        .filter_map(|id| w.sb.ticket_facts(id))
        .filter(|f| f.create >= week_start && f.create < end && f.contract.is_some())
        .take(30)
        .collect();
    assert_eq!(week.len(), 30, "the seeded week has enough tickets");
    for (k, f) in week.iter().enumerate() {
        let at = f.create + Duration::seconds(4);
        let contract = f.contract.unwrap();
        match k {
            // password-reset: 4 autonomous, then 3 approved, 2 rejected, 1 expired → 60% this week: back to shadow.
            0..=3 => {
                let a = decision(w, &mut p, f.id, "password-reset", at, "autonomous").await;
                entry(w, &mut p, &a, f.id, contract, at, 6 + k as i64).await;
            }
            4..=9 => {
                let a = decision(w, &mut p, f.id, "password-reset", at, "request-approval").await;
                let (state, when) = match k {
                    4..=6 => (ApprovalState::Approved, at + Duration::minutes(10)),
                    7 | 8 => (ApprovalState::Rejected, at + Duration::minutes(10)),
                    _ => (ApprovalState::Expired, at + Duration::hours(24)),
                };
                approval(w, &mut p, &a, f.id, "password-reset", at, state, when).await;
                if state == ApprovalState::Approved {
                    entry(w, &mut p, &a, f.id, contract, when, 20).await;
                }
            }
            // mfa-enrollment: 4 approved, 1 rejected this week (80%: stays) …
            10..=14 => {
                let a = decision(w, &mut p, f.id, "mfa-enrollment", at, "request-approval").await;
                let state = if k == 14 { ApprovalState::Rejected } else { ApprovalState::Approved };
                approval(w, &mut p, &a, f.id, "mfa-enrollment", at, state, at + Duration::minutes(10)).await;
                if state == ApprovalState::Approved {
                    entry(w, &mut p, &a, f.id, contract, at + Duration::minutes(10), 30).await;
                }
            }
            // network (shadow): decisions only.
            _ => {
                decision(w, &mut p, f.id, "network", at, "log-only").await;
            }
        }
    }
    // … and 15 more approved earlier in the 30 days: 19 of 20 = 95% → autonomous.
    for k in 0..15 {
        let at = end - Duration::days(8 + k % 20);
        decision(w, &mut p, 900_000 + k, "mfa-enrollment", at - Duration::minutes(1), "request-approval").await;
        approval(
            w,
            &mut p,
            &format!("old-mfa-{k}"),
            900_000 + k,
            "mfa-enrollment",
            at,
            ApprovalState::Approved,
            at + Duration::minutes(5),
        )
        .await;
    }
    // license-request: 18 approved, 2 rejected in the 30 days, none this week: exactly 90% with 20 → autonomous.
    for k in 0..20 {
        let at = end - Duration::days(9 + k % 15);
        let state = if k < 18 { ApprovalState::Approved } else { ApprovalState::Rejected };
        decision(w, &mut p, 910_000 + k, "license-request", at - Duration::minutes(1), "request-approval").await;
        approval(
            w,
            &mut p,
            &format!("old-lic-{k}"),
            910_000 + k,
            "license-request",
            at,
            state,
            at + Duration::minutes(5),
        )
        .await;
    }
    // Out of the 30 days: ignored.
    approval(
        w,
        &mut p,
        "ancient",
        920_000,
        "mfa-enrollment",
        end - Duration::days(40),
        ApprovalState::Rejected,
        end - Duration::days(40),
    )
    .await;

    // CSAT: surveyed tickets created between the decisions' look-back and the week: password-reset, touched when the id is even.
    let csat_from = end - Duration::days(30);
    for idx in 0..TICKETS as i64 {
        let Some(s) = w.sb.row("SurveyResults", SURVEY_RESULT_BASE + idx) else { continue };
        let Some(done) = date(s.get("completeDate")) else { continue };
        let t = i(s.get("ticketID")).unwrap();
        let f = w.sb.ticket_facts(t).unwrap();
        if done >= csat_from
            && done < end
            && f.create >= csat_from - Duration::days(14)
            && f.create < week_start
            && !p.decisions.contains_key(&t)
        {
            decision(
                w,
                &mut p,
                t,
                "password-reset",
                f.create + Duration::seconds(5),
                if t % 2 == 0 { "autonomous" } else { "request-approval" },
            )
            .await;
        }
    }

    // Tampering: tenant rounding on one new entry, a human edit, a deletion.
    let f0 = &week[0];
    w.sb.set_knobs(|k| k.time_rounding_minutes = Some(15));
    let a = "act-rounded-0001".to_string();
    decision_free_entry(w, &mut p, &a, f0.id, f0.contract.unwrap(), f0.create + Duration::seconds(30)).await;
    w.sb.set_knobs(|k| k.time_rounding_minutes = None);
    // These actions belong to the week: give them decisions' action ids by using approved requests.
    let edited = p.entries[1].1;
    let mut patch = TimeEntryPatch::new(edited);
    patch.hours_worked = Opt::Value(0.5);
    w.client.patch::<TimeEntry>(&patch).await.unwrap();
    let deleted = p.entries[2].1;
    w.client.delete::<TimeEntry>(deleted).await.unwrap();
    p.tampered = vec![*p.entries.last().map(|(_, id)| id).unwrap(), edited, deleted];
    p
}

/// An extra approved request this week whose entry the tenant rounds.
async fn decision_free_entry(w: &World, p: &mut Prepared, action: &str, ticket: i64, contract: i64, at: DateTime<Utc>) {
    let mut rec: ApprovalRecord = serde_json::from_value(json!({
        "id": action, "ticket_id": ticket, "category": "password-reset", "action_id": action, "state": "pending", "created_at": ts(at),
        "expires_at": ts(at + Duration::hours(24)), "decision_event_key": "none", "draft": null, "decided_by": null, "decided_at": null, "note": null,
    }))
    .unwrap();
    w.state.create_approval(&rec).await.unwrap();
    rec.state = ApprovalState::Approved;
    rec.decided_at = Some(at);
    w.state.decide_approval(&rec).await.unwrap();
    p.approvals.push((ticket, "password-reset".into(), ApprovalState::Approved, at));
    entry(w, p, action, ticket, contract, at, 7).await;
}

fn counts(p: &Prepared, cat: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> ApprovalCounts {
    let mut c = ApprovalCounts::default();
    for (_, k, s, at) in &p.approvals {
        if k == cat && *at >= from && *at < to {
            match s {
                ApprovalState::Approved => c.approved += 1,
                ApprovalState::Rejected => c.rejected += 1,
                ApprovalState::Expired => c.expired += 1,
                ApprovalState::Pending => {}
            }
        }
    }
    c
}

#[derive(Default, Debug, Clone)]
struct U {
    hours: f64,
    block: f64,
    tickets: u64,
    /// ticket → (hours, block hours, an agent entry on it): the significance test's unit.
    by_ticket: BTreeMap<i64, (f64, f64, bool)>,
}

impl U {
    /// (Σ per-ticket weight², tickets) over all tickets or the agent's, in hours or block hours.
    fn sq(&self, block: bool, agent_only: bool) -> (f64, f64, f64) {
        let t = self.by_ticket.values().filter(|t| !agent_only || t.2);
        t.fold((0.0, 0.0, 0.0), |(s, q, n), t| {
            let w = if block { t.1 } else { t.0 };
            (s + w, q + w * w, n + 1.0)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_report_figures_and_phase_moves_match_an_independent_computation() {
    let w = world(false).await;
    let p = prepare(&w).await;
    let end = anchor();
    let week_start = end - Duration::days(7);
    let month_start = end - Duration::days(30);
    let notifier = OutboxNotifier::new(w.state.clone());
    let src = Sources { state: &w.state, config: &w.config, client: &w.client };
    let o = Options::new(end, rollout());
    let out = weekly::run(&src, &notifier, &o, end + Duration::hours(6)).await.unwrap();
    let r = &out.report;
    assert_eq!(r.week, "2026-W10");

    // --- approval rates, each category, week and 30 days ---
    for row in &r.approvals {
        let c = row.category.as_str();
        assert_eq!(row.week, counts(&p, c, week_start, end), "{c} week");
        assert_eq!(row.month, counts(&p, c, month_start, end), "{c} month");
    }
    let pr = r.approvals.iter().find(|a| a.category.as_str() == "password-reset").unwrap();
    assert_eq!(pr.week, ApprovalCounts { approved: 4, rejected: 2, expired: 1 });

    // --- autonomy thresholds: every judged request of the 30 days, paired with its decision's
    // confidence (all 0.9 here, so a category covers all or nothing) ---
    assert!(!r.autonomy.is_empty());
    for row in &r.autonomy {
        let c = row.category.as_str();
        // Only requests asked by a decision on record count (not the decision-free one, on a ticket acted on alone).
        let asked = |s: ApprovalState| {
            p.approvals
                .iter()
                .filter(|(t, k, st, at)| {
                    k == c && *st == s && *at >= month_start && *at < end && p.decisions.get(t).is_some_and(|d| !d.2)
                })
                .count()
        };
        let (approved, rejected) = (asked(ApprovalState::Approved), asked(ApprovalState::Rejected));
        assert_eq!((row.judged, row.approved), (approved + rejected, approved), "{c}");
        let enough = row.judged >= weekly::autonomy::MIN_JUDGED;
        let covers = |precision: f64| enough && row.approved as f64 >= precision * row.judged as f64;
        assert_eq!(row.coverage_at_95, covers(0.95).then_some(1.0), "{c}");
        assert_eq!(row.threshold_at_98.is_some(), covers(0.98), "{c}");
    }
    let by: BTreeMap<&str, &weekly::autonomy::AutonomyRow> =
        r.autonomy.iter().map(|a| (a.category.as_str(), a)).collect();
    // mfa-enrollment: 19 of 20 approved at 0.9 → acts on all at 95%, never at 98%; license-request 18 of 20 → neither.
    assert_eq!((by["mfa-enrollment"].coverage_at_95, by["mfa-enrollment"].threshold_at_98), (Some(1.0), None));
    assert_eq!((by["license-request"].judged, by["license-request"].coverage_at_95), (20, None));

    // --- phase moves: stored with set_phase, with reasons ---
    let by: BTreeMap<&str, &weekly::ApprovalRow> = r.approvals.iter().map(|a| (a.category.as_str(), a)).collect();
    assert!(
        matches!(by["password-reset"].evaluation, PhaseMove::Demote { to: Phase::Shadow, .. }),
        "{:?}",
        by["password-reset"]
    );
    assert!(
        matches!(by["mfa-enrollment"].evaluation, PhaseMove::Promote { to: Phase::Autonomous, .. }),
        "{:?}",
        by["mfa-enrollment"]
    );
    assert!(
        matches!(by["license-request"].evaluation, PhaseMove::Promote { to: Phase::Autonomous, .. }),
        "{:?}",
        by["license-request"]
    );
    assert_eq!(by["network"].evaluation, PhaseMove::Stay);
    assert_eq!(out.moved, 3);
    let phases: HashMap<String, (Phase, String, String)> = w
        .state
        .phases()
        .await
        .unwrap()
        .into_iter()
        .map(|x| (x.category.to_string(), (x.phase, x.changed_by, x.reason)))
        .collect();
    assert_eq!(phases["password-reset"].0, Phase::Shadow);
    assert_eq!(phases["password-reset"].1, "weekly-metrics");
    assert!(phases["password-reset"].2.contains("66.7% of 6"), "{}", phases["password-reset"].2);
    assert_eq!(phases["mfa-enrollment"].0, Phase::Autonomous);
    assert!(phases["mfa-enrollment"].2.contains("95.0% of 20"), "{}", phases["mfa-enrollment"].2);
    assert_eq!(phases["license-request"].0, Phase::Autonomous);
    assert!(phases["license-request"].2.contains("90.0% of 20"), "{}", phases["license-request"].2);
    let history = w.state.phase_history(20).await.unwrap();
    assert_eq!(history.iter().filter(|h| h.changed_by == "weekly-metrics").count(), 3);

    // --- spot check: every written entry of the week (12 < 20), 3 tampered ---
    let rows = &r.spot_check.rows;
    assert_eq!(rows.len(), p.entries.len());
    let differing: HashSet<i64> = rows.iter().filter(|s| !s.matches()).map(|s| s.time_entry_id).collect();
    assert_eq!(differing, p.tampered.iter().copied().collect::<HashSet<_>>());
    let rounded = rows.iter().find(|s| s.time_entry_id == p.tampered[0]).unwrap();
    assert!(rounded.differences[0].contains("rounded up to 15 min"), "{:?}", rounded.differences);
    assert!(
        rows.iter().find(|s| s.time_entry_id == p.tampered[1]).unwrap().differences[0]
            .contains("0.500000 h in Autotask")
    );
    assert!(rows.iter().find(|s| s.time_entry_id == p.tampered[2]).unwrap().differences[0].contains("not found"));
    // The sample is seeded: the same order again.
    let again =
        weekly::collect(&src, &Options { apply_phase_moves: false, deliver: false, sample_size: 5, ..o.clone() }, end)
            .await
            .unwrap();
    let again2 =
        weekly::collect(&src, &Options { apply_phase_moves: false, deliver: false, sample_size: 5, ..o.clone() }, end)
            .await
            .unwrap();
    assert_eq!(again.spot_check.rows.len(), 5);
    assert_eq!(
        again.spot_check.rows.iter().map(|r| r.time_entry_id).collect::<Vec<_>>(),
        again2.spot_check.rows.iter().map(|r| r.time_entry_id).collect::<Vec<_>>()
    );
    assert!(again.baseline_cached, "the second run reads the cached baseline");

    // --- billing impact: from the sandbox's rows directly ---
    let facts = w.sb.facts();
    let periods = weekly::periods(&o);
    let (cur, base) = (periods.current, periods.baseline);
    assert_eq!(cur.start, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
    let mut factors: HashMap<(i64, i64), f64> = HashMap::new();
    for id in 1..500 {
        if let Some(f) = w.sb.row("ContractBlockHourFactors", id) {
            factors.insert(
                (i(f.get("contractID")).unwrap(), i(f.get("roleID")).unwrap()),
                f["blockHourMultiplier"].as_f64().unwrap(),
            );
        }
    }
    let mut expect: BTreeMap<i64, (U, U)> = BTreeMap::new();
    let agent = facts.agent_resource_id;
    let mut add_entry = |row: &serde_json::Map<String, Value>| {
        let (Some(c), Some(d), Some(t)) =
            (i(row.get("contractID")), date(row.get("dateWorked")), i(row.get("ticketID")))
        else {
            return;
        };
        let h = row["hoursWorked"].as_f64().unwrap();
        let f = factors.get(&(c, i(row.get("roleID")).unwrap())).copied().unwrap_or(1.0);
        let e = expect.entry(c).or_default();
        let slot = if cur.contains(d) {
            &mut e.0
        } else if base.contains(d) {
            &mut e.1
        } else {
            return;
        };
        slot.hours += h;
        slot.block += h * f;
        let per = slot.by_ticket.entry(t).or_default();
        per.0 += h;
        per.1 += h * f;
        per.2 |= i(row.get("resourceID")) == Some(agent);
    };
    for idx in 0..TICKETS as i64 * TE_SLOTS {
        if let Some(row) = w.sb.row("TimeEntries", TE_BASE + idx) {
            add_entry(&row);
        }
    }
    for (_, id) in &p.entries {
        if let Some(row) = w.sb.row("TimeEntries", *id) {
            add_entry(&row);
        }
    }
    for id in facts.first_ticket_id..=facts.last_ticket_id {
        let t = w.sb.row("Tickets", id).unwrap();
        let (Some(c), Some(d)) = (i(t.get("contractID")), date(t.get("createDate"))) else { continue };
        let e = expect.entry(c).or_default();
        if cur.contains(d) {
            e.0.tickets += 1;
        } else if base.contains(d) {
            e.1.tickets += 1;
        }
    }
    let scale = cur.days() / base.days();
    assert!((scale - 8.0 / 92.0).abs() < 1e-12, "8 days of March against 92 baseline days");
    let by_contract: HashMap<i64, &weekly::BillingRow> = r.billing.iter().map(|b| (b.contract, b)).collect();
    let block: HashSet<i64> = facts.contracts_by_type[&CT_BLOCK_HOURS].iter().copied().collect();
    let per_ticket: HashSet<i64> = facts.contracts_by_type[&CT_PER_TICKET].iter().copied().collect();
    let (mut flagged, mut within_chance, mut p_values) = (0, 0, vec![]);
    for (c, (now_u, base_u)) in &expect {
        if now_u.hours == 0.0 && base_u.hours == 0.0 && now_u.tickets == 0 && base_u.tickets == 0 {
            continue;
        }
        let row = by_contract.get(c).unwrap_or_else(|| panic!("contract {c} missing from the report"));
        assert!(
            (row.current.hours - now_u.hours).abs() < 1e-6,
            "contract {c} hours {} vs {}",
            row.current.hours,
            now_u.hours
        );
        assert!((row.expected.hours - base_u.hours * scale).abs() < 1e-6, "contract {c} expected hours");
        assert!((row.current.block_hours - now_u.block).abs() < 1e-6, "contract {c} block hours");
        assert_eq!(row.current.tickets, now_u.tickets, "contract {c} tickets");
        assert!((row.expected_tickets - base_u.tickets as f64 * scale).abs() < 1e-9);
        // Flagged: ±15% and ≥ 4 h (5 tickets on per-ticket contracts), and, unless new, a p-value
        // under the report's Benjamini–Hochberg cutoff (checked below). Tickets are the unit:
        // Var(total) = Σ (ticket's hours)² on each side (a compound Poisson total).
        let is_block = block.contains(c);
        let (now_m, base_m, floor) = if per_ticket.contains(c) {
            ((now_u.tickets as f64, now_u.tickets as f64), (base_u.tickets as f64, base_u.tickets as f64), 5.0)
        } else {
            let ((s1, q1, _), (s0, q0, _)) = (now_u.sq(is_block, false), base_u.sq(is_block, false));
            ((s1, q1), (s0, q0), 4.0)
        };
        let expected = base_m.0 * scale;
        let delta = now_m.0 - expected;
        let new = expected <= 1e-9 && now_m.0 > 0.0;
        let material = |x: f64| x.abs() >= floor - 1e-12 && (new || x.abs() / expected >= 0.15 - 1e-12);
        let passes = |p: Option<f64>| p.is_some_and(|p| r.screening.cutoff.is_some_and(|c| p <= c));
        let (a, qa, n) = now_u.sq(is_block, true);
        if n > 0.0 && !per_ticket.contains(c) {
            // The agent's tickets against as many at the baseline's cost per ticket.
            let (s0, _, w0) = base_u.sq(is_block, false);
            let want = if w0 > 0.0 { a - n * s0 / w0 } else { a };
            assert!((row.agent_change.unwrap() - want).abs() < 1e-9, "contract {c} agent change {want}: {row:?}");
            p_values.extend(row.agent_p_value);
        }
        let agent_change = row.agent_change.unwrap_or(0.0);
        let rest = delta - agent_change;
        let qa = if n > 0.0 && !per_ticket.contains(c) { qa } else { 0.0 };
        let var = (now_m.1 - qa).max(0.0) + scale * scale * base_m.1;
        let p = (!new && var > 0.0).then(|| libm::erfc(rest.abs() / var.sqrt() / std::f64::consts::SQRT_2));
        p_values.extend(p);
        let by_agent = row.agent_change.is_some_and(|x| material(x) && (new || passes(row.agent_p_value)));
        let want = by_agent || (material(rest) && (new || passes(p)));
        assert_eq!(row.flagged, want, "contract {c} flag (p {p:?}): {row:?}");
        assert_eq!(row.p_value.is_some(), p.is_some(), "contract {c}");
        assert!(p.is_none_or(|p| (row.p_value.unwrap() - p).abs() < 1e-9), "contract {c} p {p:?}: {row:?}");
        if delta.abs() >= 0.15 * expected && !want {
            within_chance += 1;
        }
        if want {
            flagged += 1;
            assert!(!row.explanation.is_empty());
        }
    }
    assert_eq!(r.flagged().count(), flagged);
    // Benjamini–Hochberg at 5%: the largest p₍ₖ₎ ≤ k/m · 0.05.
    p_values.sort_by(f64::total_cmp);
    let m = p_values.len();
    let cutoff =
        (1..=m).rev().map(|k| p_values[k - 1]).zip((1..=m).rev()).find(|(p, k)| *p <= *k as f64 / m as f64 * 0.05);
    assert_eq!(r.screening.tests, m);
    assert_eq!(r.screening.cutoff, cutoff.map(|(p, _)| p));
    assert!(within_chance > 0, "a 3000-ticket tenant has ±15% moves over 8 days that are chance: not flagged");

    // --- CSAT: from the survey rows and the records written here ---
    let mut touched: HashMap<i64, (String, bool)> =
        p.decisions.iter().map(|(t, (c, _, auto))| (*t, (c.clone(), *auto))).collect();
    for (t, _, s, at) in &p.approvals {
        if *s == ApprovalState::Approved && *at < end {
            if let Some(e) = touched.get_mut(t) {
                e.1 = true;
            }
        }
    }
    let mut want: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for idx in 0..TICKETS as i64 {
        let Some(s) = w.sb.row("SurveyResults", SURVEY_RESULT_BASE + idx) else { continue };
        let done = date(s.get("completeDate")).unwrap();
        if done < month_start || done >= end {
            continue;
        }
        let t = i(s.get("ticketID")).unwrap();
        let (cat, tch) = touched.get(&t).cloned().unwrap_or((UNSEEN.to_string(), false));
        let e = want.entry(cat).or_default();
        let rating = s["surveyRating"].as_f64().unwrap();
        if tch { e.0.push(rating) } else { e.1.push(rating) }
    }
    assert_eq!(r.csat.len(), want.len());
    for c in &r.csat {
        let (a, h) = &want[&c.category];
        assert_eq!((c.agent_n, c.human_n), (a.len(), h.len()), "{}", c.category);
        let mean = |v: &Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let delta = match (mean(a), mean(h)) {
            (Some(x), Some(y)) if a.len() >= 10 && h.len() >= 10 => Some(x - y),
            _ => None,
        };
        assert_eq!(c.delta.map(|d| (d * 1e9).round()), delta.map(|d| (d * 1e9).round()), "{}", c.category);
    }
    assert!(r.csat.iter().any(|c| c.delta.is_some()), "password-reset has enough surveys on both sides: {:?}", r.csat);

    // --- outcomes: in-scope tickets of the week, autonomous rate, first response ---
    let scope = ["password-reset", "mfa-enrollment", "license-request"];
    let mut n = 0u64;
    let mut auto = 0u64;
    let mut times = vec![];
    for (t, (c, at, a)) in &p.decisions {
        if !scope.contains(&c.as_str()) || *at < week_start || *at >= end {
            continue;
        }
        n += 1;
        let row = w.sb.row("Tickets", *t).unwrap();
        let created = date(row.get("createDate")).unwrap();
        let mut first = date(row.get("firstResponseDateTime"));
        let mut agent: Option<DateTime<Utc>> = a.then_some(*at);
        if *a {
            auto += 1;
        }
        for (tt, _, s, when) in &p.approvals {
            if tt == t && *s == ApprovalState::Approved {
                agent = Some(agent.map_or(*when, |x| x.min(*when)));
            }
        }
        first = match (first, agent) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        if let Some(f) = first {
            times.push((f - created).num_milliseconds() as f64 / 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |q: f64| times[((q * times.len() as f64).ceil() as usize).max(1) - 1];
    assert_eq!((r.outcomes.tickets, r.outcomes.autonomous), (n, auto));
    assert_eq!(n, 15);
    assert_eq!(r.outcomes.autonomous_rate, Some(auto as f64 / n as f64));
    assert_eq!(r.outcomes.first_response_p50_secs, Some(pct(0.5)));
    assert_eq!(r.outcomes.first_response_p90_secs, Some(pct(0.9)));

    // --- delivery: e-mail with charts and CSVs, Teams card, snapshot ---
    assert!(out.delivered);
    assert_eq!(out.email.to, vec!["finance@msp.example".to_string(), "manager@msp.example".to_string()]);
    assert_eq!(out.email.attachments.len(), 8);
    assert!(out.email.attachments.iter().any(|a| a.filename.contains("autonomy-thresholds")));
    assert!(out.email.attachments.iter().any(|a| a.filename.contains("status-updates")));
    assert!(out.email.attachments.iter().all(|a| a.filename.ends_with(".csv") && !a.bytes.is_empty()));
    let outbox = w.state.outbox(10).await.unwrap();
    assert!(outbox.iter().any(|m| m.channel == "email" && m.subject.contains("2026-W10") && m.attachments.len() == 8));
    assert!(outbox.iter().any(|m| m.channel == "teams" && m.body.contains("AdaptiveCard")));
    let snaps = w.state.snapshots(5).await.unwrap();
    assert_eq!(snaps[0].0, "2026-W10");
    assert!(snaps[0].1.get("delivered_at").is_some());
    assert_eq!(snaps[0].1["outcomes"]["tickets"], json!(15));
    // A second run the same week does not deliver twice, nor move anything again.
    let second = weekly::run(&src, &notifier, &o, end + Duration::hours(7)).await.unwrap();
    assert!(!second.delivered);
    assert_eq!(second.moved, 0);
    assert_eq!(w.state.outbox(10).await.unwrap().len(), outbox.len());

    // --- the charts: PNG images sent inline by Content-ID, as Outlook and Gmail show them ---
    let ids: Vec<&str> = out.email.inline.iter().map(|i| i.content_id.as_str()).collect();
    assert_eq!(ids, [weekly::APPROVAL_CHART_CID, weekly::BILLING_CHART_CID]);
    let pixels = |png_bytes: &[u8]| {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.color_type), (640, png::ColorType::Rgb));
        buf[..info.buffer_size()].chunks(3).map(|p| (p[0], p[1], p[2])).collect::<Vec<_>>()
    };
    let rgb = |c: weekly::render::Rgb| (c.0, c.1, c.2);
    let approval = pixels(&out.email.inline[0].bytes);
    assert!(approval.contains(&rgb(weekly::PALETTE[0])), "the first category's line is drawn");
    let billing = pixels(&out.email.inline[1].bytes);
    assert_eq!(billing.contains(&rgb(weekly::FLAGGED)), flagged > 0, "red bars exactly when contracts are flagged");
    let raw = atpilot_agent::adapters::notify::mime_message("atpilot@msp.example", &out.email).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).expect("MIME parses");
    let html_part = parsed.body_html(0).unwrap().into_owned();
    for id in &ids {
        assert!(html_part.contains(&format!("src=\"cid:{id}\"")), "the HTML shows {id}");
        let part =
            parsed.parts.iter().find(|p| mail_parser::MimeHeaders::content_id(*p) == Some(*id)).expect("sent inline");
        assert!(part.contents().starts_with(b"\x89PNG"), "{id}");
        let disposition = mail_parser::MimeHeaders::content_disposition(part).map(|d| d.ctype());
        assert_eq!(disposition, Some("inline"), "{id}");
    }
    assert!(
        parsed
            .parts
            .iter()
            .any(|p| mail_parser::MimeHeaders::content_type(p).and_then(|c| c.subtype()) == Some("related"))
    );

    // --- the e-mail in a browser: it renders and the charts are visible ---
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("weekly-report");
    std::fs::create_dir_all(&dir).unwrap();
    for i in &out.email.inline {
        std::fs::write(dir.join(format!("{}.png", i.content_id)), &i.bytes).unwrap();
    }
    let html = dir.join("report.html");
    std::fs::write(&html, out.email.html_with(|i| format!("{}.png", i.content_id))).unwrap();
    if let Some(b) = atpilot_e2e::browser::Browser::start().await {
        b.goto(&format!("file://{}", html.display())).await;
        assert_eq!(b.title().await, "atpilot weekly report 2026-W10");
        let widths =
            b.execute("return Array.from(document.images).map(i => i.complete ? i.naturalWidth : -1)", vec![]).await;
        assert_eq!(widths, json!([640, 640]), "both charts load and show");
        assert!(b.text("#summary").await.contains("Phase moves"));
        let png = dir.join("report.png");
        b.screenshot(&png).await;
        assert!(std::fs::metadata(&png).unwrap().len() > 10_000, "the screenshot has content");
        eprintln!("screenshot: {}", png.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_promotion_marks_eligible_without_moving() {
    let w = world(true).await;
    let _p = prepare(&w).await;
    let src = Sources { state: &w.state, config: &w.config, client: &w.client };
    let notifier = OutboxNotifier::new(w.state.clone());
    let o = Options::new(anchor(), rollout());
    let out = weekly::run(&src, &notifier, &o, anchor()).await.unwrap();
    let mfa = out.report.approvals.iter().find(|a| a.category.as_str() == "mfa-enrollment").unwrap();
    assert!(matches!(mfa.evaluation, PhaseMove::EligibleForAutonomy { .. }));
    assert!(mfa.reason.contains("eligible"));
    // Only the demotion is stored.
    assert_eq!(out.moved, 1);
    let phases: HashMap<String, Phase> =
        w.state.phases().await.unwrap().into_iter().map(|x| (x.category.to_string(), x.phase)).collect();
    assert_eq!(phases.get("mfa-enrollment"), None, "still the configured human-in-the-loop phase");
    assert_eq!(phases["license-request"], Phase::HumanInTheLoop);
    assert!(out.email.html.contains("eligible for autonomy"));
}
