//! The weekly metrics: approval rates and phase moves, the time-entry spot
//! check, the contract billing impact, CSAT deltas and the outcome figures,
//! delivered as an HTML e-mail (inline SVG charts, CSV attachments) and a
//! Teams card, and stored as the week's snapshot.
//!
//! Layout: every figure is a pure function over compact rows (unit-tested
//! below); [`collect`] is the thin I/O part that reads the state store and
//! streams Autotask pages (one page in memory at a time, aggregated as it
//! goes, requests counted); [`run`] applies the phase moves, stores the
//! snapshot and delivers.
//!
//! Autotask reads of one run (pages of 500):
//! * Contracts, the contract-type picklist, block hour factors (a few requests);
//! * TimeEntries and Tickets of the month to date (and, once per rollout date,
//!   of the baseline window, which is then cached in the state store);
//! * SurveyResults of the CSAT window; the sampled TimeEntries by id (one query).

use crate::notify::{Attachment, Email, Notifier, TeamsMessage};
use atpilot_autotask::entities as at;
use atpilot_autotask::{Client, Filter};
use atpilot_config::Config;
use atpilot_domain::contract::{ContractKind, kind_from_label};
use atpilot_domain::{Action, ActionId, ApprovalCounts, Category, Phase, PhaseMove, PhaseMoveReason, PromotionPolicy, evaluate_phase};
use atpilot_domain::time_entry::LedgerState;
use atpilot_store::State;
use atpilot_store::records::{ApprovalRecord, ApprovalState, DecisionRecord, PhaseRecord};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, SecondsFormat, TimeZone, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

/// Who phase moves are recorded as.
pub const CHANGED_BY: &str = "weekly-metrics";
/// The day-90 targets (PRODUCT.md).
pub const TARGET_AUTONOMOUS_MIN: f64 = 0.25;
pub const TARGET_AUTONOMOUS_MAX: f64 = 0.40;
pub const TARGET_FIRST_RESPONSE_SECS: f64 = 60.0;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("state store: {0}")]
    Store(#[from] atpilot_store::StoreError),
    #[error("Autotask: {0}")]
    Autotask(#[from] atpilot_autotask::Error),
    #[error("delivery: {0}")]
    Delivery(String),
    #[error("{0}")]
    Invalid(String),
}

impl MetricsError {
    /// Worth running again later (network, throttling, store unavailable).
    pub fn is_transient(&self) -> bool {
        match self {
            MetricsError::Store(atpilot_store::StoreError::Unavailable(_)) => true,
            MetricsError::Autotask(e) => e.is_retryable(),
            MetricsError::Delivery(_) => true,
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------
// options and periods
// ---------------------------------------------------------------------------

/// What a run computes and does.
#[derive(Debug, Clone)]
pub struct Options {
    /// Exclusive end of the reported week (normally Monday 00:00 UTC).
    pub end: DateTime<Utc>,
    /// The rollout date: each contract's baseline is the months before it.
    pub rollout: NaiveDate,
    /// Baseline length in months (default 3).
    pub baseline_months: u32,
    /// Time entries sampled for the spot check (default 20).
    pub sample_size: usize,
    pub sample_seed: u64,
    /// A billing change at least this large (in %) is flagged (default 15).
    pub flag_percent: f64,
    /// Survey results needed on each side before a CSAT delta is shown (default 10).
    pub min_csat_samples: usize,
    /// CSAT window in days (default 30).
    pub csat_days: i64,
    /// Store phase moves with `set_phase` (default true).
    pub apply_phase_moves: bool,
    /// Send the e-mail and the Teams card (default true).
    pub deliver: bool,
    /// Deliver even if this week's report was already delivered.
    pub resend: bool,
}

impl Options {
    pub fn new(end: DateTime<Utc>, rollout: NaiveDate) -> Self {
        Self {
            end,
            rollout,
            baseline_months: 3,
            sample_size: 20,
            sample_seed: 20,
            flag_percent: 15.0,
            min_csat_samples: 10,
            csat_days: 30,
            apply_phase_moves: true,
            deliver: true,
            resend: false,
        }
    }
}

/// Monday 00:00 UTC at or before `t`: the end of the week a Monday run reports.
pub fn week_end_for(t: DateTime<Utc>) -> DateTime<Utc> {
    let d = t.date_naive();
    let monday = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    midnight(monday)
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// A half-open period `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
    pub fn days(&self) -> f64 {
        (self.end - self.start).num_seconds().max(0) as f64 / 86_400.0
    }
    pub fn label(&self) -> String {
        let last = self.end - Duration::seconds(1);
        format!("{} to {}", self.start.format("%Y-%m-%d"), last.format("%Y-%m-%d"))
    }
}

/// The periods one run looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Periods {
    pub week: Period,
    /// The prior 30 days (promotion).
    pub month: Period,
    /// The calendar month to date (billing impact).
    pub current: Period,
    /// The months before the rollout (billing baseline).
    pub baseline: Period,
    pub csat: Period,
}

pub fn periods(o: &Options) -> Periods {
    let end = o.end;
    let last = (end - Duration::seconds(1)).date_naive();
    let month_start = NaiveDate::from_ymd_opt(last.year(), last.month(), 1).unwrap_or(last);
    let rollout = midnight(o.rollout);
    let baseline_start = o.rollout.checked_sub_months(Months::new(o.baseline_months)).map(midnight).unwrap_or(rollout);
    Periods {
        week: Period { start: end - Duration::days(7), end },
        month: Period { start: end - Duration::days(30), end },
        current: Period { start: midnight(month_start), end },
        baseline: Period { start: baseline_start, end: rollout },
        csat: Period { start: end - Duration::days(o.csat_days), end },
    }
}

/// ISO week label of the reported week, e.g. `2026-W10`.
pub fn week_label(end: DateTime<Utc>) -> String {
    let w = (end - Duration::days(1)).date_naive().iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

// ---------------------------------------------------------------------------
// compact rows (what the collector keeps)
// ---------------------------------------------------------------------------

/// An approval request's outcome, at the time it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalFact {
    pub ticket: i64,
    pub category: Category,
    pub state: ApprovalState,
    /// When it was approved or rejected, or when it expired.
    pub at: DateTime<Utc>,
    pub action_id: String,
}

impl ApprovalFact {
    pub fn of(a: &ApprovalRecord) -> Option<ApprovalFact> {
        let at = match a.state {
            ApprovalState::Pending => return None,
            ApprovalState::Approved | ApprovalState::Rejected => a.decided_at.unwrap_or(a.created_at),
            ApprovalState::Expired => a.decided_at.unwrap_or(a.expires_at),
        };
        Some(ApprovalFact { ticket: a.ticket_id.get(), category: a.category.clone(), state: a.state, at, action_id: a.action_id.to_string() })
    }
}

/// One decision of the agent about a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFact {
    pub ticket: i64,
    pub category: Category,
    pub at: DateTime<Utc>,
    /// The action id when the agent acted on its own.
    pub autonomous_action: Option<String>,
}

impl DecisionFact {
    pub fn of(d: &DecisionRecord) -> DecisionFact {
        let autonomous_action = matches!(d.action, Action::Autonomous { .. }).then(|| crate::classify::action_id_for(&d.event_key).to_string());
        DecisionFact { ticket: d.ticket_id.get(), category: d.prediction.category.clone(), at: d.decided_at, autonomous_action }
    }
}

/// A time entry as read from Autotask (only the fields the figures need).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub id: i64,
    pub ticket: Option<i64>,
    pub contract: Option<i64>,
    pub resource: Option<i64>,
    pub role: Option<i64>,
    pub hours: f64,
    pub date: Option<DateTime<Utc>>,
    pub created: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
}

impl EntryRow {
    pub fn of(e: &at::TimeEntry) -> EntryRow {
        let dt = |s: &Option<String>| s.as_deref().and_then(atpilot_autotask::entities::parse_datetime);
        EntryRow {
            id: e.id.unwrap_or(0),
            ticket: e.ticket_id,
            contract: e.contract_id,
            resource: e.resource_id,
            role: e.role_id,
            hours: e.hours_worked.unwrap_or(0.0),
            date: dt(&e.date_worked).or_else(|| dt(&e.start_date_time)),
            created: dt(&e.create_date_time),
            modified: dt(&e.last_modified_date_time),
        }
    }
}

/// A ticket as read from Autotask.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub id: i64,
    pub contract: Option<i64>,
    pub created: Option<DateTime<Utc>>,
    pub first_response: Option<DateTime<Utc>>,
}

impl TicketRow {
    pub fn of(t: &at::Ticket) -> TicketRow {
        let dt = |s: &Option<String>| s.as_deref().and_then(atpilot_autotask::entities::parse_datetime);
        TicketRow { id: t.id.unwrap_or(0), contract: t.contract_id, created: dt(&t.create_date), first_response: dt(&t.first_response_date_time) }
    }
}

/// A contract with what the figures need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractInfo {
    pub id: i64,
    pub name: String,
    pub kind: ContractKind,
}

// ---------------------------------------------------------------------------
// approval rates and phase moves
// ---------------------------------------------------------------------------

/// Approval counts per category for the week and the prior 30 days.
pub fn approval_counts(facts: &[ApprovalFact], p: &Periods) -> BTreeMap<Category, (ApprovalCounts, ApprovalCounts)> {
    let mut out: BTreeMap<Category, (ApprovalCounts, ApprovalCounts)> = BTreeMap::new();
    for f in facts {
        let one = match f.state {
            ApprovalState::Approved => ApprovalCounts { approved: 1, ..Default::default() },
            ApprovalState::Rejected => ApprovalCounts { rejected: 1, ..Default::default() },
            ApprovalState::Expired => ApprovalCounts { expired: 1, ..Default::default() },
            ApprovalState::Pending => continue,
        };
        let e = out.entry(f.category.clone()).or_default();
        if p.week.contains(f.at) {
            e.0 = e.0.add(one);
        }
        if p.month.contains(f.at) {
            e.1 = e.1.add(one);
        }
    }
    out
}

/// One category's approval figures and what the evaluation did with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRow {
    pub category: Category,
    pub safe: bool,
    pub week: ApprovalCounts,
    pub month: ApprovalCounts,
    pub phase_before: Phase,
    pub phase_after: Phase,
    pub evaluation: PhaseMove,
    /// The reason in words (empty when nothing moved).
    pub reason: String,
}

fn pct(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

/// Evaluates every category: `phases` gives each one's phase before the run and whether it is on the safe list.
pub fn evaluate(counts: &BTreeMap<Category, (ApprovalCounts, ApprovalCounts)>, phases: &BTreeMap<Category, (Phase, bool)>, policy: &PromotionPolicy) -> Vec<ApprovalRow> {
    let cats: BTreeSet<&Category> = counts.keys().chain(phases.keys()).collect();
    cats.into_iter()
        .map(|c| {
            let (week, month) = counts.get(c).copied().unwrap_or_default();
            let (phase, safe) = phases.get(c).copied().unwrap_or((Phase::Shadow, false));
            let evaluation = evaluate_phase(phase, safe, week, month, policy);
            let (phase_after, reason) = match &evaluation {
                PhaseMove::Stay => (phase, String::new()),
                PhaseMove::Demote { to, reason } | PhaseMove::Promote { to, reason } => (*to, reason_text(reason, Some(*to), policy)),
                PhaseMove::EligibleForAutonomy { reason } => (phase, reason_text(reason, None, policy)),
            };
            ApprovalRow { category: c.clone(), safe, week, month, phase_before: phase, phase_after, evaluation, reason }
        })
        .collect()
}

fn reason_text(r: &PhaseMoveReason, to: Option<Phase>, policy: &PromotionPolicy) -> String {
    match r {
        PhaseMoveReason::WeeklyRateBelowThreshold { rate, threshold_percent, decided } => {
            format!("approval rate this week {} of {decided} decided requests is under {threshold_percent}%: back to {}", pct(*rate), to.unwrap_or(Phase::Shadow))
        }
        PhaseMoveReason::MonthlyRateQualifies { rate, threshold_percent, decided } => {
            let base = format!("approval rate over the prior 30 days {} of {decided} decided requests (minimum {}) is at least {threshold_percent}%", pct(*rate), policy.min_decisions);
            match to {
                Some(p) => format!("{base}: promoted to {p}"),
                None => format!("{base}: eligible for autonomy; manual promotion is configured, so a person promotes it"),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// time-entry spot check
// ---------------------------------------------------------------------------

/// A deterministic generator (splitmix64) for the seeded sample.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A seeded shuffle of `items` (sorted first, so the order they were read in does not matter).
pub fn seeded_order<T: Ord + Clone>(items: &[T], seed: u64, salt: &str) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    let mut r = SplitMix(seed ^ hash_str(salt));
    for i in (1..v.len()).rev() {
        let j = (r.next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// What the ledger says was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerFact {
    pub action_id: String,
    pub ticket: i64,
    pub contract: i64,
    pub time_entry_id: i64,
    /// The measured hours the entry was written with.
    pub hours: f64,
}

/// One sampled entry compared with what Autotask holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotCheckRow {
    pub action_id: String,
    pub time_entry_id: i64,
    pub ticket: i64,
    pub ledger_hours: f64,
    pub autotask_hours: Option<f64>,
    pub contract: i64,
    pub autotask_contract: Option<i64>,
    pub autotask_ticket: Option<i64>,
    pub autotask_resource: Option<i64>,
    pub autotask_role: Option<i64>,
    pub differences: Vec<String>,
}

impl SpotCheckRow {
    pub fn matches(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Compares one ledger entry with its Autotask row (`None`: not found).
pub fn compare_entry(l: &LedgerFact, at: Option<&EntryRow>, resource: i64, role: i64) -> SpotCheckRow {
    let mut diffs = vec![];
    if let Some(e) = at {
        if (e.hours - l.hours).abs() > 1e-6 {
            let mins = e.hours * 60.0;
            let on_grid = (mins - mins.round()).abs() < 1e-6 && mins.round() as i64 > 0;
            let why = if e.hours > l.hours && on_grid {
                format!("duration {:.6} h in Autotask vs {:.6} h measured: rounded up to {} min (tenant rounding setting?)", e.hours, l.hours, mins.round() as i64)
            } else {
                format!("duration {:.6} h in Autotask vs {:.6} h measured", e.hours, l.hours)
            };
            diffs.push(why);
        }
        if e.ticket != Some(l.ticket) {
            diffs.push(format!("ticket {} in Autotask vs {} in the ledger", opt(e.ticket), l.ticket));
        }
        if e.contract != Some(l.contract) {
            diffs.push(format!("contract {} in Autotask vs {} in the ledger", opt(e.contract), l.contract));
        }
        if e.resource != Some(resource) {
            diffs.push(format!("resource {} in Autotask vs the agent resource {resource}", opt(e.resource)));
        }
        if e.role != Some(role) {
            diffs.push(format!("role {} in Autotask vs the agent role {role}", opt(e.role)));
        }
        if !diffs.is_empty() {
            if let (Some(c), Some(m)) = (e.created, e.modified) {
                if m - c > Duration::minutes(1) {
                    diffs.push(format!("changed after it was written (last modified {}): a human edit?", m.format("%Y-%m-%d %H:%M")));
                }
            }
        }
    } else {
        diffs.push("not found in Autotask (deleted?)".into());
    }
    SpotCheckRow {
        action_id: l.action_id.clone(),
        time_entry_id: l.time_entry_id,
        ticket: l.ticket,
        ledger_hours: l.hours,
        autotask_hours: at.map(|e| e.hours),
        contract: l.contract,
        autotask_contract: at.and_then(|e| e.contract),
        autotask_ticket: at.and_then(|e| e.ticket),
        autotask_resource: at.and_then(|e| e.resource),
        autotask_role: at.and_then(|e| e.role),
        differences: diffs,
    }
}

fn opt(v: Option<i64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "none".into())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpotCheck {
    /// Agent actions of the week that could carry an entry.
    pub candidates: usize,
    pub rows: Vec<SpotCheckRow>,
}

impl SpotCheck {
    pub fn differing(&self) -> usize {
        self.rows.iter().filter(|r| !r.matches()).count()
    }
}

// ---------------------------------------------------------------------------
// contract billing impact
// ---------------------------------------------------------------------------

/// Usage of one contract in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub hours: f64,
    /// Hours × the role's block hour factor (Block Hours contracts).
    pub block_hours: f64,
    pub entries: u64,
    pub agent_entries: u64,
    pub agent_hours: f64,
    /// Tickets created on the contract.
    pub tickets: u64,
}

impl Usage {
    fn scaled(&self, f: f64) -> Usage {
        Usage {
            hours: self.hours * f,
            block_hours: self.block_hours * f,
            entries: 0,
            agent_entries: 0,
            agent_hours: self.agent_hours * f,
            tickets: 0,
        }
    }
    fn hours_per_entry(&self) -> Option<f64> {
        (self.entries > 0).then(|| self.hours / self.entries as f64)
    }
}

/// Aggregates streamed rows per contract and period (bounded by the number of contracts).
#[derive(Debug, Clone, Default)]
pub struct BillingAccumulator {
    pub current_period: Option<Period>,
    pub baseline_period: Option<Period>,
    pub current: BTreeMap<i64, Usage>,
    pub baseline: BTreeMap<i64, Usage>,
    /// (contract, role) → block hour factor.
    pub factors: HashMap<(i64, i64), f64>,
    pub agent_resource: i64,
}

impl BillingAccumulator {
    pub fn new(current: Period, baseline: Option<Period>, agent_resource: i64, factors: HashMap<(i64, i64), f64>) -> Self {
        Self { current_period: Some(current), baseline_period: baseline, agent_resource, factors, ..Default::default() }
    }

    fn slot(&mut self, at: DateTime<Utc>) -> Option<&mut BTreeMap<i64, Usage>> {
        if self.current_period.is_some_and(|p| p.contains(at)) {
            Some(&mut self.current)
        } else if self.baseline_period.is_some_and(|p| p.contains(at)) {
            Some(&mut self.baseline)
        } else {
            None
        }
    }

    pub fn add_entry(&mut self, e: &EntryRow) {
        let (Some(contract), Some(date)) = (e.contract, e.date) else { return };
        let factor = e.role.and_then(|r| self.factors.get(&(contract, r)).copied()).filter(|f| f.is_finite() && *f > 0.0).unwrap_or(1.0);
        let agent = e.resource == Some(self.agent_resource);
        let Some(map) = self.slot(date) else { return };
        let u = map.entry(contract).or_default();
        u.hours += e.hours;
        u.block_hours += e.hours * factor;
        u.entries += 1;
        if agent {
            u.agent_entries += 1;
            u.agent_hours += e.hours;
        }
    }

    pub fn add_ticket(&mut self, t: &TicketRow) {
        let (Some(contract), Some(created)) = (t.contract, t.created) else { return };
        if let Some(map) = self.slot(created) {
            map.entry(contract).or_default().tickets += 1;
        }
    }
}

/// One contract's month to date against its own baseline (prorated to the same number of days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingRow {
    pub contract: i64,
    pub name: String,
    pub kind: ContractKind,
    pub current: Usage,
    /// The baseline's daily average × the days of the current period.
    pub expected: Usage,
    /// Expected tickets and entries (fractional).
    pub expected_tickets: f64,
    pub expected_entries: f64,
    pub hours_change: Option<f64>,
    pub block_change: Option<f64>,
    pub tickets_change: Option<f64>,
    pub flagged: bool,
    pub explanation: String,
}

impl BillingRow {
    /// The figure that matters most for this contract type.
    pub fn headline_change(&self) -> Option<f64> {
        match self.kind {
            ContractKind::BlockHours => self.block_change,
            ContractKind::PerTicket => self.tickets_change,
            _ => self.hours_change,
        }
    }
}

fn change(current: f64, expected: f64) -> Option<f64> {
    (expected > 1e-9).then(|| (current - expected) / expected)
}

fn signed_pct(r: f64) -> String {
    format!("{:+.0}%", r * 100.0)
}

/// The billing rows of every contract with activity in either period.
pub fn billing_rows(contracts: &[ContractInfo], current: &BTreeMap<i64, Usage>, baseline: &BTreeMap<i64, Usage>, p: &Periods, flag_percent: f64) -> Vec<BillingRow> {
    let scale = if p.baseline.days() > 0.0 { p.current.days() / p.baseline.days() } else { 0.0 };
    let threshold = flag_percent / 100.0;
    let names: HashMap<i64, &ContractInfo> = contracts.iter().map(|c| (c.id, c)).collect();
    let ids: BTreeSet<i64> = current.keys().chain(baseline.keys()).copied().collect();
    ids.into_iter()
        .map(|id| {
            let cur = current.get(&id).copied().unwrap_or_default();
            let base = baseline.get(&id).copied().unwrap_or_default();
            let expected = base.scaled(scale);
            let expected_tickets = base.tickets as f64 * scale;
            let expected_entries = base.entries as f64 * scale;
            let info = names.get(&id);
            let kind = info.map(|c| c.kind).unwrap_or(ContractKind::Unknown);
            let hours_change = change(cur.hours, expected.hours);
            let block_change = (kind == ContractKind::BlockHours).then(|| change(cur.block_hours, expected.block_hours)).flatten();
            let tickets_change = change(cur.tickets as f64, expected_tickets);
            let material = |c: Option<f64>| c.is_some_and(|c| c.abs() >= threshold - 1e-12);
            let mut flagged = material(hours_change) || (kind == ContractKind::BlockHours && material(block_change)) || (kind == ContractKind::PerTicket && material(tickets_change));
            let mut why: Vec<String> = vec![];
            if expected.hours <= 1e-9 && cur.hours > 0.0 {
                flagged = true;
                why.push(format!("{:.2} h logged with no baseline activity", cur.hours));
            }
            if flagged {
                if let Some(t) = tickets_change.filter(|t| t.abs() >= 0.05) {
                    why.push(format!("{} tickets ({} vs {:.1} expected, {})", if t > 0.0 { "more" } else { "fewer" }, cur.tickets, expected_tickets, signed_pct(t)));
                }
                if let (Some(a), Some(b)) = (cur.hours_per_entry(), base.hours_per_entry()) {
                    if let Some(c) = change(a, b).filter(|c| c.abs() >= 0.05) {
                        why.push(format!("{} entries (average {:.2} h vs {:.2} h, {})", if c > 0.0 { "longer" } else { "shorter" }, a, b, signed_pct(c)));
                    }
                }
                if let Some(c) = change(cur.entries as f64, expected_entries).filter(|c| c.abs() >= 0.05) {
                    why.push(format!("{} time entries ({} vs {:.1} expected, {})", if c > 0.0 { "more" } else { "fewer" }, cur.entries, expected_entries, signed_pct(c)));
                }
                if cur.agent_entries > 0 {
                    why.push(format!("{} agent-resolved tickets ({} entries, {:.3} h, {} before rollout)", cur.agent_entries, cur.agent_entries, cur.agent_hours, base.agent_entries));
                }
                if why.is_empty() {
                    why.push("no single driver found: check the contract's entries".into());
                }
            }
            BillingRow {
                contract: id,
                name: info.map(|c| c.name.clone()).unwrap_or_else(|| format!("contract {id}")),
                kind,
                current: cur,
                expected,
                expected_tickets,
                expected_entries,
                hours_change,
                block_change,
                tickets_change,
                flagged,
                explanation: why.join("; "),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// CSAT
// ---------------------------------------------------------------------------

/// What the agent did on one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketAgent {
    pub category: Category,
    /// The agent acted on it (autonomous action or an approved request).
    pub touched: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsatRow {
    /// A category, or "(not seen by the agent)".
    pub category: String,
    pub agent_n: usize,
    pub agent_mean: Option<f64>,
    pub human_n: usize,
    pub human_mean: Option<f64>,
    /// Agent-touched mean minus human-only mean; `None` below the minimum sample on either side.
    pub delta: Option<f64>,
}

pub const UNSEEN: &str = "(not seen by the agent)";

/// CSAT per category: `surveys` are (ticket, rating).
pub fn csat(surveys: &[(i64, f64)], tickets: &HashMap<i64, TicketAgent>, min_samples: usize) -> Vec<CsatRow> {
    let mut acc: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for (t, rating) in surveys {
        let (cat, touched) = match tickets.get(t) {
            Some(a) => (a.category.to_string(), a.touched),
            None => (UNSEEN.to_string(), false),
        };
        let e = acc.entry(cat).or_default();
        if touched { e.0.push(*rating) } else { e.1.push(*rating) }
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    acc.into_iter()
        .map(|(category, (a, h))| {
            let (am, hm) = (mean(&a), mean(&h));
            let delta = match (am, hm) {
                (Some(x), Some(y)) if a.len() >= min_samples && h.len() >= min_samples => Some(x - y),
                _ => None,
            };
            CsatRow { category, agent_n: a.len(), agent_mean: am, human_n: h.len(), human_mean: hm, delta }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// outcomes
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Categories in the human-in-the-loop or autonomous phase when the run started.
    pub in_scope: Vec<Category>,
    /// Tickets of those categories the agent decided on this week.
    pub tickets: u64,
    pub autonomous: u64,
    pub autonomous_rate: Option<f64>,
    /// Tickets with a first response (and a known creation time).
    pub responded: u64,
    pub first_response_p50_secs: Option<f64>,
    pub first_response_p90_secs: Option<f64>,
}

impl Outcomes {
    pub fn rate_verdict(&self) -> &'static str {
        match self.autonomous_rate {
            None => "no tickets in scope",
            Some(r) if r < TARGET_AUTONOMOUS_MIN => "below the 25–40% target",
            Some(r) if r > TARGET_AUTONOMOUS_MAX => "above the 25–40% target: check quality",
            Some(_) => "within the 25–40% target",
        }
    }
    pub fn response_verdict(&self) -> &'static str {
        match self.first_response_p50_secs {
            None => "no first responses",
            Some(s) if s < TARGET_FIRST_RESPONSE_SECS => "p50 under the 60 s target",
            Some(_) => "p50 over the 60 s target",
        }
    }
}

/// Ticket → (created, Autotask's first response).
pub type TicketTimes = HashMap<i64, (Option<DateTime<Utc>>, Option<DateTime<Utc>>)>;

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// `decisions`: the week's decisions (one per ticket); `agent_reply`: when the agent answered a ticket
/// (autonomous action or an approved request); `tickets`: creation and Autotask's first response.
pub fn outcomes(in_scope: &BTreeSet<Category>, decisions: &[DecisionFact], agent_reply: &HashMap<i64, DateTime<Utc>>, tickets: &TicketTimes) -> Outcomes {
    let mut seen = BTreeSet::new();
    let mut o = Outcomes { in_scope: in_scope.iter().cloned().collect(), ..Default::default() };
    let mut times = vec![];
    for d in decisions.iter().filter(|d| in_scope.contains(&d.category)) {
        if !seen.insert(d.ticket) {
            continue;
        }
        o.tickets += 1;
        if d.autonomous_action.is_some() {
            o.autonomous += 1;
        }
        let Some((Some(created), autotask_first)) = tickets.get(&d.ticket).copied() else { continue };
        let first = match (autotask_first, agent_reply.get(&d.ticket).copied()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(f) = first {
            times.push(((f - created).num_milliseconds().max(0) as f64) / 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    o.responded = times.len() as u64;
    o.autonomous_rate = (o.tickets > 0).then(|| o.autonomous as f64 / o.tickets as f64);
    o.first_response_p50_secs = percentile(&times, 0.5);
    o.first_response_p90_secs = percentile(&times, 0.9);
    o
}

// ---------------------------------------------------------------------------
// the report
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeeklyReport {
    pub week: String,
    pub generated_at: DateTime<Utc>,
    pub periods: Periods,
    pub rollout: NaiveDate,
    pub flag_percent: f64,
    pub min_csat_samples: usize,
    pub approvals: Vec<ApprovalRow>,
    pub spot_check: SpotCheck,
    pub billing: Vec<BillingRow>,
    /// Whether the baseline came from the state-store cache.
    pub baseline_cached: bool,
    pub csat: Vec<CsatRow>,
    pub outcomes: Outcomes,
    /// Autotask requests this run used.
    pub autotask_requests: u64,
    pub notes: Vec<String>,
}

impl WeeklyReport {
    pub fn moves(&self) -> impl Iterator<Item = &ApprovalRow> {
        self.approvals.iter().filter(|r| !matches!(r.evaluation, PhaseMove::Stay))
    }
    pub fn flagged(&self) -> impl Iterator<Item = &BillingRow> {
        self.billing.iter().filter(|r| r.flagged)
    }
}

// ---------------------------------------------------------------------------
// collection (I/O)
// ---------------------------------------------------------------------------

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

fn days(p: Period) -> Vec<String> {
    let mut out = vec![];
    let mut d = p.start.date_naive();
    while midnight(d) < p.end {
        out.push(d.format("%Y-%m-%d").to_string());
        d += Duration::days(1);
    }
    out
}

fn months(p: Period) -> Vec<String> {
    let mut out: Vec<String> = days(p).into_iter().map(|d| d[..7].to_string()).collect();
    out.dedup();
    out
}

/// Decisions made in `p`, read one day at a time (one day's items in memory).
async fn decisions_in(state: &State, p: Period, mut f: impl FnMut(DecisionFact)) -> Result<(), MetricsError> {
    for day in days(p) {
        let items = state.store().query(&atpilot_store::Query::gsi1("decisions").prefix(day)).await?;
        for item in items {
            let d: DecisionRecord = serde_json::from_value(item.data).map_err(|e| atpilot_store::StoreError::Corrupt { key: item.key.clone(), why: e.to_string() })?;
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
        for m in months(lookback) {
            let items = state.store().query(&atpilot_store::Query::gsi1(format!("approvals#{}", st.as_str())).prefix(m)).await?;
            for item in items {
                let a: ApprovalRecord = serde_json::from_value(item.data).map_err(|e| atpilot_store::StoreError::Corrupt { key: item.key.clone(), why: e.to_string() })?;
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
    let mut out: BTreeMap<Category, (Phase, bool)> = config.categories.iter().map(|(c, cc)| (c.clone(), (cc.phase, cc.safe))).collect();
    for p in state.phases().await? {
        let safe = config.categories.get(&p.category).is_some_and(|c| c.safe);
        out.insert(p.category, (p.phase, safe));
    }
    Ok(out)
}

async fn contracts(client: &Client) -> Result<Vec<ContractInfo>, MetricsError> {
    let types = client.picklist("Contracts", "contractType").await?;
    let rows = client.query::<at::Contract>(atpilot_autotask::Query::all().include(["id", "contractName", "contractType"])).await?;
    Ok(rows
        .into_iter()
        .filter_map(|c| {
            let id = c.id?;
            let kind = c.contract_type.and_then(|t| types.label_of(t)).map(kind_from_label).unwrap_or(ContractKind::Unknown);
            Some(ContractInfo { id, name: c.contract_name.unwrap_or_else(|| format!("contract {id}")), kind })
        })
        .collect())
}

async fn block_factors(client: &Client, block_contracts: &[i64]) -> Result<HashMap<(i64, i64), f64>, MetricsError> {
    if block_contracts.is_empty() {
        return Ok(HashMap::new());
    }
    let q = atpilot_autotask::Query::new().filter(Filter::is_in("contractID", block_contracts.iter().copied())).include(["contractID", "roleID", "blockHourMultiplier"]);
    let rows = client.query::<at::ContractBlockHourFactor>(q).await?;
    Ok(rows.into_iter().filter_map(|f| Some(((f.contract_id?, f.role_id?), f.block_hour_multiplier?))).collect())
}

/// Streams time entries and tickets of `p` into the accumulator (one page at a time).
async fn stream_usage(client: &Client, p: Period, acc: &mut BillingAccumulator, mut on_ticket: impl FnMut(&TicketRow)) -> Result<(), MetricsError> {
    let [a, b] = in_period("dateWorked", p);
    let q = atpilot_autotask::Query::new().filter(a).filter(b).filter(Filter::exist("contractID")).include(["ticketID", "contractID", "resourceID", "roleID", "hoursWorked", "dateWorked"]);
    let mut s = std::pin::pin!(client.stream::<at::TimeEntry>(q));
    while let Some(e) = s.try_next().await? {
        acc.add_entry(&EntryRow::of(&e));
    }
    let [a, b] = in_period("createDate", p);
    let q = atpilot_autotask::Query::new().filter(a).filter(b).include(["contractID", "createDate", "firstResponseDateTime"]);
    let mut s = std::pin::pin!(client.stream::<at::Ticket>(q));
    while let Some(t) = s.try_next().await? {
        let row = TicketRow::of(&t);
        acc.add_ticket(&row);
        on_ticket(&row);
    }
    Ok(())
}

fn baseline_key(o: &Options) -> String {
    format!("weekly-metrics-baseline#{}#{}", o.rollout, o.baseline_months)
}

/// Reads everything and computes the report (no writes besides the baseline cache).
pub async fn collect(src: &Sources<'_>, o: &Options, now: DateTime<Utc>) -> Result<WeeklyReport, MetricsError> {
    if o.sample_size > 500 {
        return Err(MetricsError::Invalid("the spot-check sample is at most 500 entries (one Autotask query)".into()));
    }
    let requests_before = src.client.stats().requests;
    let p = periods(o);
    let mut notes = vec![];

    // --- approvals and phases ---
    let approvals = approvals_in(src.state, p.month).await?;
    let phases = current_phases(src.state, src.config).await?;
    let counts = approval_counts(&approvals, &p);
    let rows = evaluate(&counts, &phases, src.config.promotion_policy());

    // --- the agent's decisions (week, and back far enough for the surveyed tickets) ---
    let decisions_from = p.week.start.min(p.csat.start - Duration::days(14));
    let mut week_decisions = vec![];
    let mut ticket_agent: HashMap<i64, TicketAgent> = HashMap::new();
    decisions_in(src.state, Period { start: decisions_from, end: p.week.end }, |d| {
        let touched = d.autonomous_action.is_some();
        let e = ticket_agent.entry(d.ticket).or_insert(TicketAgent { category: d.category.clone(), touched: false });
        e.touched |= touched;
        if p.week.contains(d.at) {
            week_decisions.push(d);
        }
    })
    .await?;
    let approved_lookback = approvals_in(src.state, Period { start: decisions_from, end: p.week.end }).await?;
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

    // --- spot check: a seeded sample of the week's agent entries ---
    let mut candidates: Vec<String> = week_decisions.iter().filter_map(|d| d.autonomous_action.clone()).collect();
    candidates.extend(approvals.iter().filter(|a| a.state == ApprovalState::Approved && p.week.contains(a.at)).map(|a| a.action_id.clone()));
    let order = seeded_order(&candidates, o.sample_seed, &week_label(o.end));
    let mut sampled: Vec<LedgerFact> = vec![];
    for action in &order {
        if sampled.len() >= o.sample_size {
            break;
        }
        let Ok(id) = ActionId::new(action.clone()) else { continue };
        if let Some(l) = src.state.ledger(&id).await? {
            if let LedgerState::Written { time_entry_id } = l.ledger {
                sampled.push(LedgerFact { action_id: action.clone(), ticket: l.ticket_id.get(), contract: l.contract_id.get(), time_entry_id: time_entry_id.get(), hours: l.span.hours().get() });
            }
        }
    }
    let mut read_back: HashMap<i64, EntryRow> = HashMap::new();
    if !sampled.is_empty() {
        let q = atpilot_autotask::Query::new()
            .filter(Filter::is_in("id", sampled.iter().map(|s| s.time_entry_id)))
            .include(["ticketID", "contractID", "resourceID", "roleID", "hoursWorked", "dateWorked", "createDateTime", "lastModifiedDateTime"]);
        for e in src.client.query::<at::TimeEntry>(q).await? {
            let r = EntryRow::of(&e);
            read_back.insert(r.id, r);
        }
    }
    let (agent_resource, agent_role) = (src.config.agent.resource_id.get(), src.config.agent.role_id.get());
    let spot_check = SpotCheck { candidates: order.len(), rows: sampled.iter().map(|l| compare_entry(l, read_back.get(&l.time_entry_id), agent_resource, agent_role)).collect() };

    // --- billing impact (and the tickets the outcome figures need) ---
    let contracts = contracts(src.client).await?;
    let block_ids: Vec<i64> = contracts.iter().filter(|c| c.kind == ContractKind::BlockHours).map(|c| c.id).collect();
    let factors = block_factors(src.client, &block_ids).await?;
    let key = baseline_key(o);
    let cached: Option<Vec<(i64, Usage)>> = src.state.cache_get(&key).await?;
    let baseline_cached = cached.is_some();
    let mut acc = BillingAccumulator::new(p.current, (!baseline_cached).then_some(p.baseline), agent_resource, factors);
    let mut week_tickets: TicketTimes = HashMap::new();
    let in_scope: BTreeSet<Category> = phases.iter().filter(|(_, (ph, _))| *ph >= Phase::HumanInTheLoop).map(|(c, _)| c.clone()).collect();
    let scope_tickets: BTreeSet<i64> = week_decisions.iter().filter(|d| in_scope.contains(&d.category)).map(|d| d.ticket).collect();
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
        let value: Vec<(i64, Usage)> = acc.baseline.iter().map(|(k, v)| (*k, *v)).collect();
        src.state.cache_put(&key, &value, now, 400 * 86_400).await?;
    } else {
        notes.push(format!("The rollout date {} is in the future: no baseline yet.", o.rollout));
    }
    let billing = billing_rows(&contracts, &acc.current, &acc.baseline, &p, o.flag_percent);
    // Tickets created before the scanned range but decided this week have no creation time: they count, without a response time.
    let missing = scope_tickets.iter().filter(|t| !week_tickets.contains_key(t)).count();
    if missing > 0 {
        notes.push(format!("{missing} in-scope tickets of the week were created before {}: no first-response time for them.", scan_start.format("%Y-%m-%d")));
    }

    // --- CSAT ---
    let [a, b] = in_period("completeDate", p.csat);
    let q = atpilot_autotask::Query::new().filter(a).filter(b).include(["ticketID", "surveyRating"]);
    let mut surveys = vec![];
    let mut s = std::pin::pin!(src.client.stream::<at::SurveyResult>(q));
    while let Some(r) = s.try_next().await? {
        if let (Some(t), Some(rating)) = (r.ticket_id, r.survey_rating) {
            surveys.push((t, rating));
        }
    }
    let csat_rows = csat(&surveys, &ticket_agent, o.min_csat_samples);

    let outcomes = outcomes(&in_scope, &week_decisions, &agent_reply, &week_tickets);
    Ok(WeeklyReport {
        week: week_label(o.end),
        generated_at: now,
        periods: p,
        rollout: o.rollout,
        flag_percent: o.flag_percent,
        min_csat_samples: o.min_csat_samples,
        approvals: rows,
        spot_check,
        billing,
        baseline_cached,
        csat: csat_rows,
        outcomes,
        autotask_requests: src.client.stats().requests - requests_before,
        notes,
    })
}

// ---------------------------------------------------------------------------
// the run: moves, snapshot, delivery
// ---------------------------------------------------------------------------

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub report: WeeklyReport,
    pub email: Email,
    pub teams: TeamsMessage,
    pub moved: usize,
    /// The provider's message id when the e-mail was sent.
    pub email_id: Option<String>,
    pub delivered: bool,
}

/// Computes, moves phases, stores the snapshot and delivers.
pub async fn run(src: &Sources<'_>, notifier: &dyn Notifier, o: &Options, now: DateTime<Utc>) -> Result<RunOutcome, MetricsError> {
    let report = collect(src, o, now).await?;
    let mut moved = 0;
    if o.apply_phase_moves {
        for r in report.moves() {
            if matches!(r.evaluation, PhaseMove::Demote { .. } | PhaseMove::Promote { .. }) {
                let rec = PhaseRecord { category: r.category.clone(), phase: r.phase_after, changed_at: now, changed_by: CHANGED_BY.into(), reason: r.reason.clone() };
                src.state.set_phase(&rec).await?;
                moved += 1;
            }
        }
    }
    let previous = src.state.snapshots(12).await?;
    let already = previous.iter().find(|(w, _)| *w == report.week).and_then(|(_, v)| v.get("delivered_at").cloned()).filter(|v| !v.is_null());
    let history: Vec<(String, serde_json::Value)> = previous.into_iter().filter(|(w, _)| *w != report.week).rev().collect();
    let email = email(&report, &history, &recipients(src.config));
    let teams = teams_card(&report);
    let mut snapshot = serde_json::to_value(&report).map_err(|e| MetricsError::Invalid(e.to_string()))?;
    src.state.put_snapshot(&report.week, &snapshot).await?;
    let mut email_id = None;
    let mut delivered = false;
    if o.deliver && (already.is_none() || o.resend) {
        if !email.to.is_empty() {
            email_id = Some(notifier.send_email(&email).await.map_err(|e| MetricsError::Delivery(e.to_string()))?);
        }
        notifier.post_teams(&teams).await.map_err(|e| MetricsError::Delivery(e.to_string()))?;
        delivered = true;
        snapshot["delivered_at"] = serde_json::Value::String(now.to_rfc3339());
        src.state.put_snapshot(&report.week, &snapshot).await?;
    }
    Ok(RunOutcome { report, email, teams, moved, email_id, delivered })
}

/// Finance and the service manager.
pub fn recipients(config: &Config) -> Vec<String> {
    let mut v: Vec<String> = config.notifications.finance.iter().chain(&config.notifications.service_manager).cloned().collect();
    v.sort();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------
// rendering: tables, CSV, SVG charts, e-mail, Teams
// ---------------------------------------------------------------------------

/// A table: the e-mail shows it and attaches it as CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub id: &'static str,
    pub title: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
            let v: Vec<String> = cells
                .map(|c| if c.contains([',', '"', '\n', '\r']) || c.starts_with(['=', '+', '-', '@']) && c.parse::<f64>().is_err() { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.to_string() })
                .collect();
            out.push_str(&v.join(","));
            out.push_str("\r\n");
        };
        line(&mut self.header.iter().copied(), &mut out);
        for r in &self.rows {
            line(&mut r.iter().map(String::as_str), &mut out);
        }
        out
    }
}

fn f2(v: f64) -> String {
    format!("{v:.2}")
}
fn opt_pct(v: Option<f64>) -> String {
    v.map(pct).unwrap_or_else(|| "n/a".into())
}
fn opt_change(v: Option<f64>) -> String {
    v.map(signed_pct).unwrap_or_else(|| "n/a".into())
}
fn opt_f(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_else(|| "n/a".into())
}

fn move_name(m: &PhaseMove) -> &'static str {
    match m {
        PhaseMove::Stay => "stay",
        PhaseMove::Demote { .. } => "demoted",
        PhaseMove::Promote { .. } => "promoted",
        PhaseMove::EligibleForAutonomy { .. } => "eligible for autonomy",
    }
}

/// Every table of the report.
pub fn tables(r: &WeeklyReport) -> Vec<Table> {
    let approvals = Table {
        id: "approval-rates",
        title: "Approval rate by category",
        header: vec!["category", "safe", "week approved", "week rejected", "week expired", "week rate", "30d approved", "30d rejected", "30d expired", "30d rate", "phase before", "phase after", "evaluation"],
        rows: r
            .approvals
            .iter()
            .map(|a| {
                vec![
                    a.category.to_string(),
                    a.safe.to_string(),
                    a.week.approved.to_string(),
                    a.week.rejected.to_string(),
                    a.week.expired.to_string(),
                    opt_pct(a.week.rate()),
                    a.month.approved.to_string(),
                    a.month.rejected.to_string(),
                    a.month.expired.to_string(),
                    opt_pct(a.month.rate()),
                    a.phase_before.to_string(),
                    a.phase_after.to_string(),
                    move_name(&a.evaluation).to_string(),
                ]
            })
            .collect(),
    };
    let moves = Table {
        id: "phase-moves",
        title: "Phase moves",
        header: vec!["category", "from", "to", "move", "reason"],
        rows: r.moves().map(|a| vec![a.category.to_string(), a.phase_before.to_string(), a.phase_after.to_string(), move_name(&a.evaluation).to_string(), a.reason.clone()]).collect(),
    };
    let spot = Table {
        id: "time-entry-spot-check",
        title: "Time-entry spot check",
        header: vec!["time entry", "action", "ticket", "ledger hours", "Autotask hours", "contract", "Autotask contract", "Autotask resource", "Autotask role", "result"],
        rows: r
            .spot_check
            .rows
            .iter()
            .map(|s| {
                vec![
                    s.time_entry_id.to_string(),
                    s.action_id.clone(),
                    s.ticket.to_string(),
                    format!("{:.6}", s.ledger_hours),
                    s.autotask_hours.map(|h| format!("{h:.6}")).unwrap_or_else(|| "missing".into()),
                    s.contract.to_string(),
                    opt(s.autotask_contract),
                    opt(s.autotask_resource),
                    opt(s.autotask_role),
                    if s.matches() { "match".into() } else { s.differences.join("; ") },
                ]
            })
            .collect(),
    };
    let billing = Table {
        id: "billing-impact",
        title: "Contract billing impact",
        header: vec!["contract", "name", "type", "hours", "expected hours", "hours change", "block hours", "expected block hours", "block change", "tickets", "expected tickets", "tickets change", "agent entries", "flagged", "explanation"],
        rows: r
            .billing
            .iter()
            .map(|b| {
                let block = b.kind == ContractKind::BlockHours;
                vec![
                    b.contract.to_string(),
                    b.name.clone(),
                    b.kind.to_string(),
                    f2(b.current.hours),
                    f2(b.expected.hours),
                    opt_change(b.hours_change),
                    if block { f2(b.current.block_hours) } else { String::new() },
                    if block { f2(b.expected.block_hours) } else { String::new() },
                    if block { opt_change(b.block_change) } else { String::new() },
                    b.current.tickets.to_string(),
                    format!("{:.1}", b.expected_tickets),
                    opt_change(b.tickets_change),
                    b.current.agent_entries.to_string(),
                    if b.flagged { "yes".into() } else { "no".into() },
                    b.explanation.clone(),
                ]
            })
            .collect(),
    };
    let csat = Table {
        id: "csat",
        title: "CSAT by category",
        header: vec!["category", "agent-touched n", "agent-touched mean", "human-only n", "human-only mean", "delta"],
        rows: r
            .csat
            .iter()
            .map(|c| {
                vec![
                    c.category.clone(),
                    c.agent_n.to_string(),
                    opt_f(c.agent_mean, 2),
                    c.human_n.to_string(),
                    opt_f(c.human_mean, 2),
                    c.delta.map(|d| format!("{d:+.2}")).unwrap_or_else(|| format!("not shown (fewer than {} on a side)", r.min_csat_samples)),
                ]
            })
            .collect(),
    };
    let o = &r.outcomes;
    let outcomes = Table {
        id: "outcomes",
        title: "Outcomes (categories in scope)",
        header: vec!["figure", "value", "target", "verdict"],
        rows: vec![
            vec!["categories in scope".into(), o.in_scope.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" "), String::new(), String::new()],
            vec!["tickets decided this week".into(), o.tickets.to_string(), String::new(), String::new()],
            vec!["resolved autonomously".into(), o.autonomous.to_string(), String::new(), String::new()],
            vec!["autonomous resolution rate".into(), opt_pct(o.autonomous_rate), "25%-40%".into(), o.rate_verdict().into()],
            vec!["first response p50 (s)".into(), opt_f(o.first_response_p50_secs, 1), "< 60".into(), o.response_verdict().into()],
            vec!["first response p90 (s)".into(), opt_f(o.first_response_p90_secs, 1), String::new(), format!("{} tickets with a first response", o.responded)],
        ],
    };
    vec![approvals, moves, spot, billing, csat, outcomes]
}

use crate::html::esc;

const PALETTE: &[&str] = &["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

/// Weekly approval rate per category over the stored snapshots and this week (inline SVG).
pub fn approval_chart(history: &[(String, serde_json::Value)], r: &WeeklyReport) -> String {
    let mut weeks: Vec<String> = history.iter().map(|(w, _)| w.clone()).collect();
    weeks.push(r.week.clone());
    let mut series: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let n = weeks.len();
    for (i, (_, snap)) in history.iter().enumerate() {
        for a in snap.get("approvals").and_then(|v| v.as_array()).into_iter().flatten() {
            let (Some(c), Some(w)) = (a.get("category").and_then(|v| v.as_str()), a.get("week")) else { continue };
            let counts: ApprovalCounts = serde_json::from_value(w.clone()).unwrap_or_default();
            if let Some(rate) = counts.rate() {
                series.entry(c.to_string()).or_insert_with(|| vec![None; n])[i] = Some(rate);
            }
        }
    }
    for a in &r.approvals {
        if let Some(rate) = a.week.rate() {
            series.entry(a.category.to_string()).or_insert_with(|| vec![None; n])[n - 1] = Some(rate);
        }
    }
    let (w, h, left, right, top, bottom) = (640.0, 280.0, 44.0, 16.0, 16.0, 40.0);
    let x = |i: usize| if n <= 1 { left + (w - left - right) / 2.0 } else { left + (w - left - right) * i as f64 / (n - 1) as f64 };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v);
    let mut s = format!("<svg id=\"approval-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"Weekly approval rate per category\" style=\"font-family:Arial,sans-serif;font-size:11px\">", h + 20.0 * series.len().div_ceil(3) as f64, h + 20.0 * series.len().div_ceil(3) as f64);
    s.push_str(&format!("<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"));
    for (v, dash, label) in [(0.0, "", "0%"), (0.5, "", "50%"), (0.8, "4 3", "80% demote"), (0.9, "4 3", "90% promote"), (1.0, "", "100%")] {
        let yy = y(v);
        let _ = write!(s, "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#cccccc\" stroke-dasharray=\"{dash}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>", w - right, left - 4.0, yy + 4.0, esc(label.split(' ').next().unwrap_or(label)));
    }
    for (i, wk) in weeks.iter().enumerate() {
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>", x(i), h - bottom + 16.0, esc(wk));
    }
    for (k, (cat, vals)) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let pts: Vec<String> = vals.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
        if pts.len() > 1 {
            let _ = write!(s, "<polyline class=\"series\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>", pts.join(" "));
        }
        for (i, v) in vals.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(s, "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"><title>{} {}: {}</title></circle>", x(i), y(*v), esc(cat), esc(&weeks[i]), pct(*v));
            }
        }
        let (lx, ly) = (left + 200.0 * (k % 3) as f64, h + 14.0 + 20.0 * (k / 3) as f64);
        let _ = write!(s, "<rect x=\"{lx}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{ly:.1}\" fill=\"#222\">{}</text>", ly - 9.0, lx + 14.0, esc(cat));
    }
    if series.is_empty() {
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">No decided approval requests yet</text>", w / 2.0, h / 2.0);
    }
    s.push_str("</svg>");
    s
}

/// Billing change per contract against its baseline, flagged bars in red (inline SVG).
pub fn billing_chart(r: &WeeklyReport) -> String {
    let mut rows: Vec<&BillingRow> = r.billing.iter().collect();
    rows.sort_by(|a, b| b.flagged.cmp(&a.flagged).then(b.headline_change().unwrap_or(0.0).abs().total_cmp(&a.headline_change().unwrap_or(0.0).abs())));
    rows.truncate(30);
    let (w, label_w, bar_h, top) = (640.0, 230.0, 18.0, 24.0);
    let h = top + bar_h * rows.len().max(1) as f64 + 24.0;
    let plot = w - label_w - 60.0;
    let cx = label_w + plot / 2.0;
    let scale = plot / 2.0; // ±100%
    let band = (r.flag_percent / 100.0).min(1.0) * scale;
    let mut s = format!("<svg id=\"billing-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Billing change per contract against its baseline\" style=\"font-family:Arial,sans-serif;font-size:11px\">");
    let _ = write!(s, "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/><rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#eef5ee\"/>", cx - band, 2.0 * band, h - top - 24.0);
    for (v, label) in [(-1.0, "-100%"), (-0.5, "-50%"), (0.0, "0"), (0.5, "+50%"), (1.0, "+100%")] {
        let xx = cx + v * scale;
        let _ = write!(s, "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{top}\" y2=\"{:.1}\" stroke=\"#dddddd\"/><text x=\"{xx:.1}\" y=\"14\" text-anchor=\"middle\" fill=\"#555\">{label}</text>", h - 24.0);
    }
    for (i, b) in rows.iter().enumerate() {
        let yy = top + bar_h * i as f64;
        let c = b.headline_change();
        let v = c.unwrap_or(0.0).clamp(-1.0, 1.0);
        let (x0, bw) = if v >= 0.0 { (cx, v * scale) } else { (cx + v * scale, -v * scale) };
        let color = if b.flagged { "#d62728" } else { "#8aa1b1" };
        let name: String = b.name.chars().take(34).collect();
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#222\">{}</text>", label_w - 6.0, yy + 13.0, esc(&name));
        let _ = write!(s, "<rect class=\"bar{}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {}</title></rect>", if b.flagged { " flagged" } else { "" }, yy + 3.0, bw.max(1.0), bar_h - 6.0, esc(&b.name), opt_change(c));
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\">{}</text>", w - 56.0, yy + 13.0, if c.is_some() { opt_change(c) } else { "new".into() });
    }
    if rows.is_empty() {
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">No contract activity</text>", w / 2.0, top + 14.0);
    }
    let _ = write!(s, "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">change against the contract's own baseline (green band: ±{}%)</text></svg>", h - 6.0, r.flag_percent);
    s
}

fn html_table(t: &Table) -> String {
    let mut s = format!("<table id=\"{}\" cellpadding=\"4\" cellspacing=\"0\" border=\"1\" style=\"border-collapse:collapse;border-color:#ccc;font-size:12px\"><tr>", t.id);
    for h in &t.header {
        let _ = write!(s, "<th style=\"background:#f2f2f2;text-align:left\">{}</th>", esc(h));
    }
    s.push_str("</tr>");
    if t.rows.is_empty() {
        let _ = write!(s, "<tr><td colspan=\"{}\">none</td></tr>", t.header.len());
    }
    for r in &t.rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// The e-mail: a summary, the charts (inline SVG), every table, and every table as a CSV attachment.
pub fn email(r: &WeeklyReport, history: &[(String, serde_json::Value)], to: &[String]) -> Email {
    let tables = tables(r);
    let o = &r.outcomes;
    let summary = summary_lines(r);
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>atpilot weekly report {week}</title></head>\
<body style=\"font-family:Arial,sans-serif;color:#222;margin:16px;max-width:980px\"><h1 style=\"font-size:20px\">atpilot weekly report {week}</h1>\
<p>Week {wp}. Billing: month to date {cp} against each contract's baseline {bp} (rollout {rollout}), prorated to the same number of days.</p><ul id=\"summary\">",
        week = esc(&r.week),
        wp = esc(&r.periods.week.label()),
        cp = esc(&r.periods.current.label()),
        bp = esc(&r.periods.baseline.label()),
        rollout = r.rollout,
    );
    for l in &summary {
        let _ = write!(html, "<li>{}</li>", esc(l));
    }
    html.push_str("</ul>");
    let _ = write!(html, "<h2 style=\"font-size:16px\">Approval rate per category, by week</h2>{}", approval_chart(history, r));
    let _ = write!(html, "<h2 style=\"font-size:16px\">Billing impact per contract</h2>{}", billing_chart(r));
    for t in &tables {
        let _ = write!(html, "<h2 style=\"font-size:16px\">{}</h2>{}", esc(t.title), html_table(t));
    }
    for n in &r.notes {
        let _ = write!(html, "<p style=\"color:#555\">{}</p>", esc(n));
    }
    let _ = write!(
        html,
        "<p style=\"color:#555;font-size:11px\">Targets by day 90: 25–40% autonomous, first response under 60 s (now {} / p50 {} s). {} Autotask requests used. Every table is attached as CSV.</p></body></html>",
        opt_pct(o.autonomous_rate),
        opt_f(o.first_response_p50_secs, 1),
        r.autotask_requests
    );
    let mut text = format!("atpilot weekly report {}\n\n", r.week);
    for l in &summary {
        let _ = writeln!(text, "- {l}");
    }
    text.push_str("\nThe tables are attached as CSV files.\n");
    let attachments = tables
        .iter()
        .map(|t| Attachment { filename: format!("{}-{}.csv", t.id, r.week), content_type: "text/csv; charset=utf-8".into(), bytes: t.csv().into_bytes() })
        .collect();
    let flagged = r.flagged().count();
    Email {
        to: to.to_vec(),
        subject: format!("atpilot weekly report {}: {} phase moves, {} contracts flagged, {} spot-check differences", r.week, r.moves().count(), flagged, r.spot_check.differing()),
        html,
        text,
        attachments,
    }
}

fn summary_lines(r: &WeeklyReport) -> Vec<String> {
    let mut v = vec![];
    let moves: Vec<String> = r.moves().map(|m| format!("{} {} ({} → {})", m.category, move_name(&m.evaluation), m.phase_before, m.phase_after)).collect();
    v.push(if moves.is_empty() { "No phase moves.".into() } else { format!("Phase moves: {}.", moves.join(", ")) });
    v.push(format!("Time-entry spot check: {} of {} sampled entries differ from the ledger ({} agent actions this week).", r.spot_check.differing(), r.spot_check.rows.len(), r.spot_check.candidates));
    let mut flagged: Vec<&BillingRow> = r.flagged().collect();
    flagged.sort_by(|a, b| b.headline_change().unwrap_or(f64::INFINITY).abs().total_cmp(&a.headline_change().unwrap_or(f64::INFINITY).abs()));
    let mut names: Vec<String> = flagged.iter().take(5).map(|b| format!("{} {}", b.name, b.headline_change().map(signed_pct).unwrap_or_else(|| "new".into()))).collect();
    if flagged.len() > 5 {
        names.push(format!("and {} more (see the table)", flagged.len() - 5));
    }
    v.push(if flagged.is_empty() { format!("No contract changed by {}% or more against its baseline.", r.flag_percent) } else { format!("{} of {} contracts flagged (±{}%): {}.", flagged.len(), r.billing.len(), r.flag_percent, names.join(", ")) });
    let shown: Vec<String> = r.csat.iter().filter_map(|c| c.delta.map(|d| format!("{} {d:+.2}", c.category))).collect();
    v.push(if shown.is_empty() { format!("CSAT: no category has {} surveys on both sides yet.", r.min_csat_samples) } else { format!("CSAT delta (agent-touched minus human-only): {}.", shown.join(", ")) });
    let o = &r.outcomes;
    v.push(format!(
        "Outcomes: {} autonomous of {} in-scope tickets ({}, {}); first response p50 {} s, p90 {} s ({}).",
        o.autonomous,
        o.tickets,
        opt_pct(o.autonomous_rate),
        o.rate_verdict(),
        opt_f(o.first_response_p50_secs, 1),
        opt_f(o.first_response_p90_secs, 1),
        o.response_verdict()
    ));
    v
}

/// The short Teams summary (an Adaptive Card).
pub fn teams_card(r: &WeeklyReport) -> TeamsMessage {
    let o = &r.outcomes;
    let moves: Vec<String> = r.moves().map(|m| format!("{}: {}", m.category, move_name(&m.evaluation))).collect();
    let facts = serde_json::json!([
        {"title": "Phase moves", "value": if moves.is_empty() { "none".to_string() } else { moves.join(", ") }},
        {"title": "Contracts flagged", "value": format!("{} (±{}%)", r.flagged().count(), r.flag_percent)},
        {"title": "Spot check", "value": format!("{} of {} differ", r.spot_check.differing(), r.spot_check.rows.len())},
        {"title": "Autonomous rate", "value": format!("{} ({})", opt_pct(o.autonomous_rate), o.rate_verdict())},
        {"title": "First response p50 / p90", "value": format!("{} s / {} s", opt_f(o.first_response_p50_secs, 1), opt_f(o.first_response_p90_secs, 1))},
    ]);
    let card = serde_json::json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": format!("atpilot weekly report {}", r.week), "wrap": true},
            {"type": "TextBlock", "text": format!("Week {}. The full report with charts and CSV files went to finance and the service manager.", r.periods.week.label()), "wrap": true, "isSubtle": true},
            {"type": "FactSet", "facts": facts},
        ],
    });
    TeamsMessage { summary: format!("atpilot weekly report {}: {} phase moves, {} contracts flagged", r.week, r.moves().count(), r.flagged().count()), card }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn cat(s: &str) -> Category {
        Category::new(s).unwrap()
    }
    fn opts() -> Options {
        Options::new(t("2026-03-09T00:00:00Z"), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap())
    }

    #[test]
    fn periods_follow_the_week_month_and_rollout() {
        let p = periods(&opts());
        assert_eq!(p.week.start, t("2026-03-02T00:00:00Z"));
        assert_eq!(p.month.start, t("2026-02-07T00:00:00Z"));
        assert_eq!(p.current.start, t("2026-03-01T00:00:00Z"));
        assert_eq!(p.baseline, Period { start: t("2025-11-01T00:00:00Z"), end: t("2026-02-01T00:00:00Z") });
        assert_eq!(week_label(t("2026-03-09T00:00:00Z")), "2026-W10");
        assert_eq!(week_end_for(t("2026-03-11T15:00:00Z")), t("2026-03-09T00:00:00Z"));
        // A run on the 1st reports the whole previous month.
        let p = periods(&Options::new(t("2026-06-01T00:00:00Z"), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()));
        assert_eq!(p.current.start, t("2026-05-01T00:00:00Z"));
    }

    fn fact(c: &str, state: ApprovalState, at: &str) -> ApprovalFact {
        ApprovalFact { ticket: 1, category: cat(c), state, at: t(at), action_id: "a".into() }
    }

    #[test]
    fn approval_counts_split_week_and_month_and_moves_follow_the_policy() {
        let p = periods(&opts());
        let mut f = vec![];
        // password-reset: 3 of 5 this week → demote.
        for i in 0..3 {
            f.push(fact("password-reset", ApprovalState::Approved, &format!("2026-03-0{}T10:00:00Z", 3 + i)));
        }
        f.push(fact("password-reset", ApprovalState::Rejected, "2026-03-04T10:00:00Z"));
        f.push(fact("password-reset", ApprovalState::Rejected, "2026-03-05T10:00:00Z"));
        f.push(fact("password-reset", ApprovalState::Expired, "2026-03-05T10:00:00Z"));
        // mfa: 19 approved + 1 rejected in the month (one this week), promote.
        for i in 0..19 {
            f.push(fact("mfa-enrollment", ApprovalState::Approved, &format!("2026-02-{:02}T10:00:00Z", 10 + i % 18)));
        }
        f.push(fact("mfa-enrollment", ApprovalState::Rejected, "2026-03-03T10:00:00Z"));
        // Outside the month: ignored.
        f.push(fact("mfa-enrollment", ApprovalState::Rejected, "2026-01-03T10:00:00Z"));
        let c = approval_counts(&f, &p);
        assert_eq!(c[&cat("password-reset")].0, ApprovalCounts { approved: 3, rejected: 2, expired: 1 });
        assert_eq!(c[&cat("mfa-enrollment")].1, ApprovalCounts { approved: 19, rejected: 1, expired: 0 });
        assert_eq!(c[&cat("mfa-enrollment")].0, ApprovalCounts { approved: 0, rejected: 1, expired: 0 });
        let phases: BTreeMap<Category, (Phase, bool)> =
            [(cat("password-reset"), (Phase::Autonomous, true)), (cat("mfa-enrollment"), (Phase::HumanInTheLoop, true)), (cat("hardware"), (Phase::Shadow, false))].into_iter().collect();
        let rows = evaluate(&c, &phases, &PromotionPolicy::default());
        let by: HashMap<&str, &ApprovalRow> = rows.iter().map(|r| (r.category.as_str(), r)).collect();
        assert_eq!(by["password-reset"].phase_after, Phase::Shadow);
        assert!(by["password-reset"].reason.contains("60.0% of 5"), "{}", by["password-reset"].reason);
        assert_eq!(by["mfa-enrollment"].phase_after, Phase::Autonomous);
        assert_eq!(by["hardware"].evaluation, PhaseMove::Stay);
        let manual = PromotionPolicy { manual_promotion: true, ..Default::default() };
        let rows = evaluate(&c, &phases, &manual);
        let mfa = rows.iter().find(|r| r.category.as_str() == "mfa-enrollment").unwrap();
        assert!(matches!(mfa.evaluation, PhaseMove::EligibleForAutonomy { .. }));
        assert_eq!(mfa.phase_after, Phase::HumanInTheLoop);
        assert!(mfa.reason.contains("eligible"));
    }

    #[test]
    fn the_sample_is_seeded_and_independent_of_read_order() {
        let a: Vec<String> = (0..50).map(|i| format!("act-{i:03}")).collect();
        let mut b = a.clone();
        b.reverse();
        assert_eq!(seeded_order(&a, 20, "2026-W10"), seeded_order(&b, 20, "2026-W10"));
        assert_ne!(seeded_order(&a, 20, "2026-W10"), seeded_order(&a, 21, "2026-W10"));
        let mut s = seeded_order(&a, 20, "2026-W10");
        s.sort();
        assert_eq!(s, a);
    }

    fn entry(hours: f64, ticket: i64, contract: i64, resource: i64, role: i64) -> EntryRow {
        EntryRow { id: 9, ticket: Some(ticket), contract: Some(contract), resource: Some(resource), role: Some(role), hours, date: None, created: Some(t("2026-03-03T10:00:00Z")), modified: Some(t("2026-03-03T10:00:00Z")) }
    }

    #[test]
    fn spot_check_reports_rounding_edits_and_missing_entries() {
        let l = LedgerFact { action_id: "a".into(), ticket: 7, contract: 3, time_entry_id: 9, hours: 0.002222 };
        assert!(compare_entry(&l, Some(&entry(0.002222, 7, 3, 5, 8)), 5, 8).matches());
        let r = compare_entry(&l, Some(&entry(0.25, 7, 3, 5, 8)), 5, 8);
        assert!(r.differences[0].contains("rounded up to 15 min"), "{:?}", r.differences);
        let mut edited = entry(0.002222, 7, 4, 6, 8);
        edited.modified = Some(t("2026-03-04T10:00:00Z"));
        let r = compare_entry(&l, Some(&edited), 5, 8);
        assert_eq!(r.differences.len(), 3, "{:?}", r.differences);
        assert!(r.differences[2].contains("human edit"));
        assert!(compare_entry(&l, None, 5, 8).differences[0].contains("not found"));
    }

    #[test]
    fn billing_compares_with_the_prorated_baseline_and_explains() {
        let p = Periods {
            week: Period { start: t("2026-03-02T00:00:00Z"), end: t("2026-03-09T00:00:00Z") },
            month: Period { start: t("2026-02-07T00:00:00Z"), end: t("2026-03-09T00:00:00Z") },
            current: Period { start: t("2026-03-01T00:00:00Z"), end: t("2026-03-11T00:00:00Z") },
            baseline: Period { start: t("2025-11-01T00:00:00Z"), end: t("2025-12-11T00:00:00Z") },
            csat: Period { start: t("2026-02-07T00:00:00Z"), end: t("2026-03-09T00:00:00Z") },
        };
        // Baseline 40 days, current 10 days: expected = a quarter of the baseline.
        let factors: HashMap<(i64, i64), f64> = [((2, 8), 0.5)].into_iter().collect();
        let mut acc = BillingAccumulator::new(p.current, Some(p.baseline), 5, factors);
        for i in 0..40 {
            let d = p.baseline.start + Duration::days(i);
            acc.add_entry(&EntryRow { date: Some(d), ..entry(1.0, 100 + i, 1, 7, 1) });
            acc.add_entry(&EntryRow { date: Some(d), ..entry(1.0, 100 + i, 2, 7, 1) });
            acc.add_ticket(&TicketRow { id: 100 + i, contract: Some(1), created: Some(d), first_response: None });
        }
        for i in 0..10 {
            let d = p.current.start + Duration::days(i);
            // contract 1: 1.5 h a day (+50%), same ticket count, longer entries.
            acc.add_entry(&EntryRow { date: Some(d), ..entry(1.5, 200 + i, 1, 7, 1) });
            acc.add_ticket(&TicketRow { id: 200 + i, contract: Some(1), created: Some(d), first_response: None });
            // contract 2: 1 h a day by humans, plus agent entries at factor 0.5.
            acc.add_entry(&EntryRow { date: Some(d), ..entry(1.0, 300 + i, 2, 7, 1) });
            acc.add_entry(&EntryRow { date: Some(d), ..entry(0.1, 300 + i, 2, 5, 8) });
        }
        // Outside both periods: ignored.
        acc.add_entry(&EntryRow { date: Some(t("2026-01-05T00:00:00Z")), ..entry(9.0, 1, 1, 7, 1) });
        let contracts = vec![ContractInfo { id: 1, name: "Acme T&M".into(), kind: ContractKind::TimeAndMaterials }, ContractInfo { id: 2, name: "Globex Block".into(), kind: ContractKind::BlockHours }];
        let rows = billing_rows(&contracts, &acc.current, &acc.baseline, &p, 15.0);
        let r1 = &rows[0];
        assert!((r1.expected.hours - 10.0).abs() < 1e-9 && (r1.current.hours - 15.0).abs() < 1e-9);
        assert!((r1.hours_change.unwrap() - 0.5).abs() < 1e-9);
        assert!(r1.flagged);
        assert!(r1.explanation.contains("longer entries"), "{}", r1.explanation);
        let r2 = &rows[1];
        assert!((r2.current.hours - 11.0).abs() < 1e-9);
        assert!((r2.current.block_hours - 10.5).abs() < 1e-9, "{}", r2.current.block_hours);
        assert!((r2.hours_change.unwrap() - 0.1).abs() < 1e-9);
        assert!((r2.block_change.unwrap() - 0.05).abs() < 1e-9);
        assert!(!r2.flagged);
        assert_eq!(r2.current.agent_entries, 10);
    }

    #[test]
    fn csat_needs_the_minimum_sample_on_both_sides() {
        let tickets: HashMap<i64, TicketAgent> = (1..=30).map(|i| (i, TicketAgent { category: cat("password-reset"), touched: i <= 12 })).collect();
        let surveys: Vec<(i64, f64)> = (1..=30).map(|i| (i, if i <= 12 { 5.0 } else { 4.0 })).chain([(99, 1.0)]).collect();
        let rows = csat(&surveys, &tickets, 10);
        let pr = rows.iter().find(|r| r.category == "password-reset").unwrap();
        assert_eq!((pr.agent_n, pr.human_n), (12, 18));
        assert_eq!(pr.delta, Some(1.0));
        let unseen = rows.iter().find(|r| r.category == UNSEEN).unwrap();
        assert_eq!((unseen.human_n, unseen.delta), (1, None));
        let rows = csat(&surveys, &tickets, 13);
        assert_eq!(rows.iter().find(|r| r.category == "password-reset").unwrap().delta, None);
    }

    #[test]
    fn outcomes_rate_and_first_response_percentiles() {
        let scope: BTreeSet<Category> = [cat("password-reset")].into_iter().collect();
        let base = t("2026-03-03T09:00:00Z");
        let mut decisions = vec![];
        let mut tickets = HashMap::new();
        let mut reply = HashMap::new();
        for i in 0..10i64 {
            let auto = i < 3;
            decisions.push(DecisionFact { ticket: i, category: cat("password-reset"), at: base + Duration::seconds(5), autonomous_action: auto.then(|| format!("act-{i}")) });
            tickets.insert(i, (Some(base), Some(base + Duration::seconds(100 * (i + 1)))));
            if auto {
                reply.insert(i, base + Duration::seconds(5 + i));
            }
        }
        decisions.push(DecisionFact { ticket: 50, category: cat("hardware"), at: base, autonomous_action: None });
        let o = outcomes(&scope, &decisions, &reply, &tickets);
        assert_eq!((o.tickets, o.autonomous), (10, 3));
        assert_eq!(o.autonomous_rate, Some(0.3));
        // Response times: 5, 6, 7, 400, 500, ..., 1000 s.
        assert_eq!(o.first_response_p50_secs, Some(500.0));
        assert_eq!(o.first_response_p90_secs, Some(900.0));
        assert_eq!(o.rate_verdict(), "within the 25–40% target");
        assert_eq!(percentile(&[1.0], 0.9), Some(1.0));
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table { id: "x", title: "x", header: vec!["a", "b"], rows: vec![vec!["1,5".into(), "say \"hi\"".into()], vec!["=cmd()".into(), "-3".into()]] };
        assert_eq!(t.csv(), "a,b\r\n\"1,5\",\"say \"\"hi\"\"\"\r\n\"=cmd()\",-3\r\n");
    }
}
