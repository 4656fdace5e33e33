//! Collection, the I/O of a run: reads the state store (through typed
//! `State` methods) and streams Autotask pages (one page in memory at a time,
//! aggregated as it goes, requests counted), keeps compact rows and hands
//! them to the pure figures. No writes besides the baseline cache.

use crate::MetricsError;
use crate::approvals::{approval_counts, evaluate};
use crate::autonomy::autonomy_rows;
use crate::billing::{BillingAccumulator, BillingRow, Usage, billing_rows};
use crate::csat::{TicketAgent, csat};
use crate::drift::Screening;
use crate::outcomes::{TicketTimes, outcomes};
use crate::period::{Options, Period, Periods, days, months, periods, week_label};
use crate::report::WeeklyReport;
use crate::rows::{ApprovalFact, ContractInfo, DecisionFact, EntryRow, TicketRow};
use crate::spot_check::{LedgerFact, SpotCheck, compare_entry, seeded_order};
use atpilot_autotask::entities as at;
use atpilot_autotask::{Client, Filter};
use atpilot_config::Config;
use atpilot_domain::contract::{ContractKind, kind_from_label};
use atpilot_domain::time_entry::LedgerState;
use atpilot_domain::{ActionId, Category, Phase};
use atpilot_store::State;
use atpilot_store::records::ApprovalState;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use futures::TryStreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a run reads from.
pub struct Sources<'a> {
    pub state: &'a State,
    pub config: &'a Config,
    pub client: &'a Client,
}

fn wire_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn in_period(field: &str, p: Period) -> [Filter; 2] {
    [Filter::gte(field, wire_ts(p.start)), Filter::lt(field, wire_ts(p.end))]
}

// ---- the state store ----------------------------------------------------

/// Decisions made in `p`, read one day at a time (one day's items in memory).
async fn decisions_in(state: &State, p: Period, mut f: impl FnMut(DecisionFact)) -> Result<(), MetricsError> {
    for day in days(p) {
        for d in state.decisions_on(day).await? {
            if p.contains(d.decided_at) {
                f(DecisionFact::of(&d));
            }
        }
    }
    Ok(())
}

/// Approvals decided or expired in `p` (read by the month they were created in; a request lives at most 14 days).
async fn approvals_in(state: &State, p: Period) -> Result<Vec<ApprovalFact>, MetricsError> {
    let lookback = Period { start: p.start - Duration::days(15), end: p.end };
    let mut out = vec![];
    for st in [ApprovalState::Approved, ApprovalState::Rejected, ApprovalState::Expired] {
        for (year, month) in months(lookback) {
            for a in state.approvals_created_in_month(st, year, month).await? {
                if let Some(f) = ApprovalFact::of(&a).filter(|f| p.contains(f.at)) {
                    out.push(f);
                }
            }
        }
    }
    Ok(out)
}

/// Each category's phase before the run (run-time overrides over the configuration) and whether it is safe.
async fn current_phases(state: &State, config: &Config) -> Result<BTreeMap<Category, (Phase, bool)>, MetricsError> {
    let mut out: BTreeMap<Category, (Phase, bool)> =
        config.categories.iter().map(|(c, cc)| (c.clone(), (cc.phase, cc.safe))).collect();
    for p in state.phases().await? {
        let safe = config.categories.get(&p.category).is_some_and(|c| c.safe);
        out.insert(p.category, (p.phase, safe));
    }
    Ok(out)
}

/// What the agent did, as the figures need it.
struct Activity {
    /// The week's decisions.
    week_decisions: Vec<DecisionFact>,
    /// Every ticket decided on since far enough back for the surveyed tickets.
    ticket_agent: HashMap<i64, TicketAgent>,
    /// When the agent first answered a ticket (autonomous action this week or an approved request).
    agent_reply: HashMap<i64, DateTime<Utc>>,
    /// Decisions with a calibrated confidence that the prior 30 days' approvals may answer (the autonomy figures).
    calibrated: Vec<DecisionFact>,
}

/// The agent's decisions (the week, and back far enough for the surveyed tickets) and its approved requests.
async fn agent_activity(state: &State, p: &Periods) -> Result<Activity, MetricsError> {
    // A request lives at most 14 days: the month's outcomes may answer decisions from before it.
    let judged_from = p.month.start - Duration::days(14);
    let decisions_from = p.week.start.min(p.csat.start - Duration::days(14)).min(judged_from);
    let mut week_decisions = vec![];
    let mut calibrated = vec![];
    let mut ticket_agent: HashMap<i64, TicketAgent> = HashMap::new();
    decisions_in(state, Period { start: decisions_from, end: p.week.end }, |d| {
        let touched = d.autonomous_action.is_some();
        let e = ticket_agent.entry(d.ticket).or_insert(TicketAgent { category: d.category.clone(), touched: false });
        e.touched |= touched;
        if d.at >= judged_from && d.confidence.is_some() {
            calibrated.push(d.clone());
        }
        if p.week.contains(d.at) {
            week_decisions.push(d);
        }
    })
    .await?;
    let approved_lookback = approvals_in(state, Period { start: decisions_from, end: p.week.end }).await?;
    let mut agent_reply: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for d in &week_decisions {
        if d.autonomous_action.is_some() {
            agent_reply.entry(d.ticket).and_modify(|t| *t = (*t).min(d.at)).or_insert(d.at);
        }
    }
    for a in approved_lookback.iter().filter(|a| a.state == ApprovalState::Approved) {
        if let Some(t) = ticket_agent.get_mut(&a.ticket) {
            t.touched = true;
        }
        agent_reply.entry(a.ticket).and_modify(|t| *t = (*t).min(a.at)).or_insert(a.at);
    }
    Ok(Activity { week_decisions, ticket_agent, agent_reply, calibrated })
}

// ---- Autotask -------------------------------------------------------------

async fn contracts(client: &Client) -> Result<Vec<ContractInfo>, MetricsError> {
    let types = client.picklist("Contracts", "contractType").await?;
    let rows = client
        .query::<at::Contract>(atpilot_autotask::Query::all().include(["id", "contractName", "contractType"]))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|c| {
            let id = c.id?;
            let kind =
                c.contract_type.and_then(|t| types.label_of(t)).map(kind_from_label).unwrap_or(ContractKind::Unknown);
            Some(ContractInfo { id, name: c.contract_name.unwrap_or_else(|| format!("contract {id}")), kind })
        })
        .collect())
}

async fn block_factors(client: &Client, block_contracts: &[i64]) -> Result<HashMap<(i64, i64), f64>, MetricsError> {
    if block_contracts.is_empty() {
        return Ok(HashMap::new());
    }
    let q = atpilot_autotask::Query::new()
        .filter(Filter::is_in("contractID", block_contracts.iter().copied()))
        .include(["contractID", "roleID", "blockHourMultiplier"]);
    let rows = client.query::<at::ContractBlockHourFactor>(q).await?;
    Ok(rows.into_iter().filter_map(|f| Some(((f.contract_id?, f.role_id?), f.block_hour_multiplier?))).collect())
}

/// Streams time entries and tickets of `p` into the accumulator (one page at a time).
async fn stream_usage(
    client: &Client,
    p: Period,
    acc: &mut BillingAccumulator,
    mut on_ticket: impl FnMut(&TicketRow),
) -> Result<(), MetricsError> {
    let [a, b] = in_period("dateWorked", p);
    let q = atpilot_autotask::Query::new().filter(a).filter(b).filter(Filter::exist("contractID")).include([
        "id",
        "ticketID",
        "contractID",
        "resourceID",
        "roleID",
        "hoursWorked",
        "dateWorked",
    ]);
    let mut s = std::pin::pin!(client.stream::<at::TimeEntry>(q));
    while let Some(e) = s.try_next().await? {
        acc.add_entry(&EntryRow::of(&e));
    }
    let [a, b] = in_period("createDate", p);
    let q = atpilot_autotask::Query::new().filter(a).filter(b).include([
        "contractID",
        "createDate",
        "firstResponseDateTime",
    ]);
    let mut s = std::pin::pin!(client.stream::<at::Ticket>(q));
    while let Some(t) = s.try_next().await? {
        let row = TicketRow::of(&t);
        acc.add_ticket(&row);
        on_ticket(&row);
    }
    Ok(())
}

/// Survey results completed in `p`: (ticket, rating).
async fn surveys(client: &Client, p: Period) -> Result<Vec<(i64, f64)>, MetricsError> {
    let [a, b] = in_period("completeDate", p);
    let q = atpilot_autotask::Query::new().filter(a).filter(b).include(["ticketID", "surveyRating"]);
    let mut surveys = vec![];
    let mut s = std::pin::pin!(client.stream::<at::SurveyResult>(q));
    while let Some(r) = s.try_next().await? {
        if let (Some(t), Some(rating)) = (r.ticket_id, r.survey_rating) {
            surveys.push((t, rating));
        }
    }
    Ok(surveys)
}

// ---- the figures that need both ---------------------------------------------

/// A seeded sample of the week's agent entries (ledger in the state store), read back from Autotask in one query.
async fn spot_check(
    src: &Sources<'_>,
    o: &Options,
    p: &Periods,
    week_decisions: &[DecisionFact],
    approvals: &[ApprovalFact],
) -> Result<SpotCheck, MetricsError> {
    let mut candidates: Vec<String> = week_decisions.iter().filter_map(|d| d.autonomous_action.clone()).collect();
    candidates.extend(
        approvals
            .iter()
            .filter(|a| a.state == ApprovalState::Approved && p.week.contains(a.at))
            .map(|a| a.action_id.clone()),
    );
    let order = seeded_order(&candidates, o.sample_seed, &week_label(o.end));
    let mut sampled: Vec<LedgerFact> = vec![];
    for action in &order {
        if sampled.len() >= o.sample_size {
            break;
        }
        let Ok(id) = ActionId::new(action.clone()) else { continue };
        if let Some(l) = src.state.ledger(&id).await? {
            if let LedgerState::Written { time_entry_id } = l.ledger {
                sampled.push(LedgerFact {
                    action_id: action.clone(),
                    ticket: l.ticket_id.get(),
                    contract: l.contract_id.get(),
                    time_entry_id: time_entry_id.get(),
                    hours: l.span.hours().get(),
                });
            }
        }
    }
    let mut read_back: HashMap<i64, EntryRow> = HashMap::new();
    if !sampled.is_empty() {
        let q = atpilot_autotask::Query::new()
            .filter(Filter::is_in("id", sampled.iter().map(|s| s.time_entry_id)))
            .include([
                "ticketID",
                "contractID",
                "resourceID",
                "roleID",
                "hoursWorked",
                "dateWorked",
                "createDateTime",
                "lastModifiedDateTime",
            ]);
        for e in src.client.query::<at::TimeEntry>(q).await? {
            let r = EntryRow::of(&e);
            read_back.insert(r.id, r);
        }
    }
    let (agent_resource, agent_role) = (src.config.agent.resource_id.get(), src.config.agent.role_id.get());
    Ok(SpotCheck {
        candidates: order.len(),
        rows: sampled
            .iter()
            .map(|l| compare_entry(l, read_back.get(&l.time_entry_id), agent_resource, agent_role))
            .collect(),
    })
}

fn baseline_key(o: &Options) -> String {
    format!("weekly-metrics-baseline-v2#{}#{}", o.rollout, o.baseline_months)
}

/// The billing figures, and the in-scope tickets' creation and first-response times seen on the way.
struct Billing {
    rows: Vec<BillingRow>,
    screening: Screening,
    /// Whether the baseline came from the state-store cache.
    baseline_cached: bool,
    week_tickets: TicketTimes,
}

/// The billing impact: the month to date streamed, the baseline streamed once per rollout date and cached.
async fn billing(
    src: &Sources<'_>,
    o: &Options,
    p: &Periods,
    now: DateTime<Utc>,
    scope_tickets: &BTreeSet<i64>,
    notes: &mut Vec<String>,
) -> Result<Billing, MetricsError> {
    let contracts = contracts(src.client).await?;
    let block_ids: Vec<i64> = contracts.iter().filter(|c| c.kind == ContractKind::BlockHours).map(|c| c.id).collect();
    let factors = block_factors(src.client, &block_ids).await?;
    let key = baseline_key(o);
    let cached: Option<Vec<(i64, Usage)>> = src.state.cache_get(&key).await?;
    let baseline_cached = cached.is_some();
    let mut acc = BillingAccumulator::new(
        p.current,
        (!baseline_cached).then_some(p.baseline),
        src.config.agent.resource_id.get(),
        factors,
    );
    let mut week_tickets: TicketTimes = HashMap::new();
    let mut keep = |t: &TicketRow| {
        if scope_tickets.contains(&t.id) {
            week_tickets.insert(t.id, (t.created, t.first_response));
        }
    };
    let scan_start = p.current.start.min(p.week.start);
    stream_usage(src.client, Period { start: scan_start, end: p.current.end }, &mut acc, &mut keep).await?;
    if let Some(c) = cached {
        acc.baseline = c.into_iter().collect();
    } else if p.baseline.end <= now && p.baseline.start < p.baseline.end {
        // The baseline is computed once per rollout date and cached: its months never change.
        let scan = Period { start: p.baseline.start, end: p.baseline.end.min(scan_start) };
        if scan.start < scan.end {
            stream_usage(src.client, scan, &mut acc, |_| {}).await?;
        }
        acc.finish();
        let value: Vec<(i64, Usage)> = acc.baseline.iter().map(|(k, v)| (*k, *v)).collect();
        src.state.cache_put(&key, &value, now, 400 * 86_400).await?;
    } else {
        notes.push(format!("The rollout date {} is in the future: no baseline yet.", o.rollout));
    }
    acc.finish();
    let (rows, screening) = billing_rows(&contracts, &acc.current, &acc.baseline, p, &o.flag);
    // Tickets created before the scanned range but decided this week have no creation time: they count, without a response time.
    let missing = scope_tickets.iter().filter(|t| !week_tickets.contains_key(t)).count();
    if missing > 0 {
        notes.push(format!(
            "{missing} in-scope tickets of the week were created before {}: no first-response time for them.",
            scan_start.format("%Y-%m-%d")
        ));
    }
    Ok(Billing { rows, screening, baseline_cached, week_tickets })
}

/// Reads everything and computes the report (no writes besides the baseline cache).
pub async fn collect(src: &Sources<'_>, o: &Options, now: DateTime<Utc>) -> Result<WeeklyReport, MetricsError> {
    if o.sample_size > 500 {
        return Err(MetricsError::Invalid("the spot-check sample is at most 500 entries (one Autotask query)".into()));
    }
    o.flag.check().map_err(MetricsError::Invalid)?;
    let requests_before = src.client.stats().requests;
    let p = periods(o);
    let mut notes = vec![];

    let approvals = approvals_in(src.state, p.month).await?;
    let phases = current_phases(src.state, src.config).await?;
    let counts = approval_counts(&approvals, &p);
    let rows = evaluate(&counts, &phases, src.config.promotion_policy());

    let activity = agent_activity(src.state, &p).await?;
    let spot_check = spot_check(src, o, &p, &activity.week_decisions, &approvals).await?;

    let in_scope: BTreeSet<Category> =
        phases.iter().filter(|(_, (ph, _))| *ph >= Phase::HumanInTheLoop).map(|(c, _)| c.clone()).collect();
    let scope_tickets: BTreeSet<i64> =
        activity.week_decisions.iter().filter(|d| in_scope.contains(&d.category)).map(|d| d.ticket).collect();
    let billing = billing(src, o, &p, now, &scope_tickets, &mut notes).await?;

    let surveys = surveys(src.client, p.csat).await?;
    let csat_rows = csat(&surveys, &activity.ticket_agent, o.min_csat_samples);

    let outcomes = outcomes(&in_scope, &activity.week_decisions, &activity.agent_reply, &billing.week_tickets);
    let quiet = src.state.cache_get(atpilot_agent::handlers::status_updates::QUIET_SUMMARY).await?;
    let updates = src.state.status_updates(5_000).await?;
    let status_updates = crate::status_updates::figures(&updates, p.week, quiet.as_ref());
    Ok(WeeklyReport {
        week: week_label(o.end),
        generated_at: now,
        periods: p,
        rollout: o.rollout,
        flag: o.flag,
        screening: billing.screening,
        min_csat_samples: o.min_csat_samples,
        approvals: rows,
        autonomy: autonomy_rows(&approvals, &activity.calibrated, p.month.start),
        spot_check,
        billing: billing.rows,
        baseline_cached: billing.baseline_cached,
        csat: csat_rows,
        outcomes,
        status_updates,
        autotask_requests: src.client.stats().requests - requests_before,
        notes,
    })
}
