//! The weekly report's billing flags on a tenant where only the agent's
//! contracts changed materially: the agent resolves most of two Time &
//! Materials contracts' tickets of the month (their human entries give way to
//! its own short ones). Those two are flagged as the agent's doing; the other
//! contracts, whose month-to-date figures swing by chance on a few entries,
//! are not.

use atpilot_autotask::entities::TimeEntry;
use atpilot_autotask_sandbox::SandboxConfig;
use atpilot_autotask_sandbox::tenant::{CT_TIME_MATERIALS, TE_BASE, TE_SLOTS};
use atpilot_store::State;
use atpilot_store::embedded::EmbeddedStateStore;
use atpilot_weekly::{self as weekly, Driver, Options, Sources};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_contracts_the_agent_changed_materially_are_flagged() {
    // A Monday: the month to date is 2026-03-01..30 (29 days).
    let end = Utc.with_ymd_and_hms(2026, 3, 30, 0, 0, 0).unwrap();
    let cfg = SandboxConfig { tickets: 6000, seed: 11, anchor: Some(end), ..Default::default() };
    let (sb, client) = atpilot_e2e::sandbox_client_with(cfg).await;
    let facts = sb.facts();
    let config = atpilot_local::demo_config(&facts, "http://127.0.0.1:8080").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = State::new(Arc::new(EmbeddedStateStore::open(dir.path()).unwrap()));
    let mut o = Options::new(end, NaiveDate::from_ymd_opt(2026, 2, 9).unwrap());
    o.deliver = false;
    o.apply_phase_moves = false;
    let month = weekly::periods(&o).current;

    // The month's tickets of each Time & Materials contract, with their human entries.
    let tm: HashSet<i64> = facts.contracts_by_type[&CT_TIME_MATERIALS].iter().copied().collect();
    let mut by_contract: BTreeMap<i64, Vec<(i64, Vec<i64>)>> = BTreeMap::new();
    for id in facts.first_ticket_id..=facts.last_ticket_id {
        let Some(f) = sb.ticket_facts(id) else { continue };
        let Some(c) = f.contract.filter(|c| tm.contains(c)) else { continue };
        let entries: Vec<i64> = (0..TE_SLOTS)
            .map(|j| TE_BASE + f.idx * TE_SLOTS + j)
            .filter(|e| {
                sb.row("TimeEntries", *e).is_some_and(|r| {
                    r["dateWorked"]
                        .as_str()
                        .and_then(atpilot_autotask::entities::parse_datetime)
                        .is_some_and(|d| month.contains(d))
                })
            })
            .collect();
        if month.contains(f.create) && !entries.is_empty() {
            by_contract.entry(c).or_default().push((id, entries));
        }
    }
    // The two busiest: the agent resolves two tickets in three, in 40 seconds each.
    let mut busiest: Vec<(i64, usize)> = by_contract.iter().map(|(c, t)| (*c, t.len())).collect();
    busiest.sort_by_key(|(c, n)| (std::cmp::Reverse(*n), *c));
    let agent_contracts: Vec<i64> = busiest.iter().take(2).map(|(c, _)| *c).collect();
    assert!(busiest[1].1 >= 20, "enough tickets to tell the agent's effect from chance: {busiest:?}");
    let mut resolved = 0;
    for c in &agent_contracts {
        for (k, (ticket, entries)) in by_contract[c].iter().enumerate() {
            if k % 3 == 2 {
                continue;
            }
            let first = sb.row("TimeEntries", entries[0]).unwrap();
            for e in entries {
                client.delete::<TimeEntry>(*e).await.unwrap();
            }
            let te = TimeEntry {
                ticket_id: Some(*ticket),
                resource_id: Some(facts.agent_resource_id),
                role_id: Some(facts.agent_role_id),
                billing_code_id: Some(1),
                contract_id: Some(*c),
                date_worked: first["dateWorked"].as_str().map(str::to_string),
                hours_worked: Some(40.0 / 3600.0),
                summary_notes: Some("atpilot resolved this request.".into()),
                ..Default::default()
            };
            client.create(&te).await.unwrap();
            resolved += 1;
        }
    }

    let src = Sources { state: &state, config: &config, client: &client };
    let r = weekly::collect(&src, &o, end + Duration::hours(6)).await.unwrap();
    let flagged: Vec<i64> = r.flagged().map(|b| b.contract).collect();
    let mut want = agent_contracts.clone();
    want.sort();
    assert_eq!(flagged, want, "exactly the agent's two contracts ({resolved} tickets resolved)");
    for b in r.flagged() {
        assert_eq!(b.driver, Driver::Agent, "{b:?}");
        let agent = b.agent_change.unwrap();
        assert!(agent < -4.0 && agent.abs() > b.background_change.abs(), "{b:?}");
        assert!(b.agent_p_value.unwrap() < 0.001 && b.p_value.unwrap() > 0.05, "the rest is chance: {b:?}");
        assert!(
            b.explanation.starts_with(&format!("the agent's {} tickets -", b.current.agent.tickets)),
            "{}",
            b.explanation
        );
        assert!(b.explanation.contains("p < 0.0001 (two-sample test of cost per ticket)"), "{}", b.explanation);
    }
    // The noise: contracts that moved 15% or more on too few entries, not flagged.
    let noisy: Vec<&weekly::BillingRow> =
        r.billing.iter().filter(|b| !b.flagged && b.headline_change().is_some_and(|c| c.abs() >= 0.15)).collect();
    assert!(noisy.len() >= 5, "the tenant has chance swings: {}", noisy.len());
    assert!(noisy.iter().all(|b| b.current.agent_entries == 0));

    // The e-mail says which test, who moved what, and how many swings were chance.
    let text = weekly::email(&r, &[], &["finance@msp.example".into()]).html;
    assert!(text.contains("2 of 37 contracts flagged"), "{text}");
    assert!(text.contains("2 by the agent&#39;s own tickets, 0 by background drift, 0 new"), "{text}");
    assert!(text.contains("Benjamini–Hochberg procedure at a 5% false discovery rate over 39 tests"), "{text}");
    assert!(text.contains(&format!("{} more moved 15% or more", noisy.len())), "{text}");
}
