//! Contract billing impact: each contract's month to date against its own
//! pre-rollout baseline (prorated to the same number of days), aggregated
//! from streamed rows, with changes that are material and unlikely to be
//! chance flagged ([`crate::drift`]) and explained.

use crate::drift::{Driver, FlagRule, Measure, Screening, Verdict, assess};
use crate::format::signed_pct;
use crate::period::{Period, Periods};
use crate::rows::{ContractInfo, EntryRow, TicketRow};
use atpilot_domain::contract::ContractKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Per-ticket sums of one period: the significance test's unit is the ticket,
/// since a ticket's entries rise and fall together ([`crate::drift`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketSums {
    /// Tickets with at least one entry (an entry without a ticket counts as one).
    pub tickets: u64,
    pub hours: f64,
    pub block_hours: f64,
    /// Σ over the tickets of (the ticket's hours)².
    pub hours_sq: f64,
    /// Σ over the tickets of (the ticket's block hours)².
    pub block_sq: f64,
}

impl TicketSums {
    pub(crate) fn add(&mut self, hours: f64, block: f64) {
        self.tickets += 1;
        self.hours += hours;
        self.block_hours += block;
        self.hours_sq += hours * hours;
        self.block_sq += block * block;
    }
}

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
    /// Every ticket worked on the contract (filled by [`BillingAccumulator::finish`]).
    #[serde(default)]
    pub worked: TicketSums,
    /// The tickets with at least one entry by the agent's resource, with
    /// everyone's hours on them.
    #[serde(default)]
    pub agent: TicketSums,
}

impl Usage {
    fn scaled(&self, f: f64) -> Usage {
        Usage {
            hours: self.hours * f,
            block_hours: self.block_hours * f,
            agent_hours: self.agent_hours * f,
            ..Default::default()
        }
    }
    fn hours_per_entry(&self) -> Option<f64> {
        (self.entries > 0).then(|| self.hours / self.entries as f64)
    }
}

/// A ticket's hours, block hours and whether the agent logged on it, while streaming.
#[derive(Debug, Clone, Copy, Default)]
struct OpenTicket {
    hours: f64,
    block: f64,
    agent: bool,
}

/// Aggregates streamed rows per contract and period: the totals as they
/// come, and per ticket until [`finish`](Self::finish) (bounded by the
/// tickets worked in the streamed periods).
#[derive(Debug, Clone, Default)]
pub struct BillingAccumulator {
    pub current_period: Option<Period>,
    pub baseline_period: Option<Period>,
    pub current: BTreeMap<i64, Usage>,
    pub baseline: BTreeMap<i64, Usage>,
    /// (contract, role) → block hour factor.
    pub factors: HashMap<(i64, i64), f64>,
    pub agent_resource: i64,
    /// (current period?, contract, ticket) → the ticket's sums so far.
    open: BTreeMap<(bool, i64, i64), OpenTicket>,
}

impl BillingAccumulator {
    pub fn new(
        current: Period,
        baseline: Option<Period>,
        agent_resource: i64,
        factors: HashMap<(i64, i64), f64>,
    ) -> Self {
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
        let factor = e
            .role
            .and_then(|r| self.factors.get(&(contract, r)).copied())
            .filter(|f| f.is_finite() && *f > 0.0)
            .unwrap_or(1.0);
        let agent = e.resource == Some(self.agent_resource);
        let current = self.current_period.is_some_and(|p| p.contains(date));
        let Some(map) = self.slot(date) else { return };
        let u = map.entry(contract).or_default();
        u.hours += e.hours;
        u.block_hours += e.hours * factor;
        u.entries += 1;
        if agent {
            u.agent_entries += 1;
            u.agent_hours += e.hours;
        }
        // An entry without a ticket is a ticket of its own (negative ids never collide with tickets).
        let ticket = e.ticket.unwrap_or(-e.id.abs() - 1);
        let t = self.open.entry((current, contract, ticket)).or_default();
        t.hours += e.hours;
        t.block += e.hours * factor;
        t.agent |= agent;
    }

    pub fn add_ticket(&mut self, t: &TicketRow) {
        let (Some(contract), Some(created)) = (t.contract, t.created) else { return };
        if let Some(map) = self.slot(created) {
            map.entry(contract).or_default().tickets += 1;
        }
    }

    /// Folds the per-ticket sums into each contract's [`Usage`] (`worked`,
    /// `agent`); call once every period has been streamed. Idempotent.
    pub fn finish(&mut self) {
        for ((current, contract, _), t) in std::mem::take(&mut self.open) {
            let map = if current { &mut self.current } else { &mut self.baseline };
            let u = map.entry(contract).or_default();
            u.worked.add(t.hours, t.block);
            if t.agent {
                u.agent.add(t.hours, t.block);
            }
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
    /// The change is material: over the percentage and over the floor in hours or tickets.
    #[serde(default)]
    pub material: bool,
    /// The figure tested: hours, block hours or tickets (the contract type's).
    #[serde(default = "hours")]
    pub measure: Measure,
    /// What the agent's own tickets changed, in the measure's unit, against as
    /// many tickets at the baseline's cost per ticket ([`crate::drift`]).
    #[serde(default)]
    pub agent_change: Option<f64>,
    /// Two-sided p-value of the agent's part.
    #[serde(default)]
    pub agent_p_value: Option<f64>,
    /// The rest of the change: the contract's background drift.
    #[serde(default)]
    pub background_change: f64,
    /// Two-sided p-value of the background part; `None` when there is nothing to test.
    #[serde(default)]
    pub p_value: Option<f64>,
    /// A part is material and unlikely to be chance (or the contract is new and material).
    pub flagged: bool,
    #[serde(default = "background")]
    pub driver: Driver,
    pub explanation: String,
}

fn background() -> Driver {
    Driver::Background
}

fn hours() -> Measure {
    Measure::Hours
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

/// The billing rows of every contract with activity in either period, and
/// the multiple-testing step that decided which changes are beyond chance.
pub fn billing_rows(
    contracts: &[ContractInfo],
    current: &BTreeMap<i64, Usage>,
    baseline: &BTreeMap<i64, Usage>,
    p: &Periods,
    rule: &FlagRule,
) -> (Vec<BillingRow>, Screening) {
    let scale = if p.baseline.days() > 0.0 { p.current.days() / p.baseline.days() } else { 0.0 };
    let names: HashMap<i64, &ContractInfo> = contracts.iter().map(|c| (c.id, c)).collect();
    let ids: BTreeSet<i64> = current.keys().chain(baseline.keys()).copied().collect();
    let of = |id: i64| {
        let kind = names.get(&id).map(|c| c.kind).unwrap_or(ContractKind::Unknown);
        (kind, current.get(&id).copied().unwrap_or_default(), baseline.get(&id).copied().unwrap_or_default())
    };
    let assessed: Vec<(i64, Verdict)> = ids
        .into_iter()
        .map(|id| {
            let (kind, cur, base) = of(id);
            (id, assess(kind, &cur, &base, scale, rule))
        })
        .collect();
    let screening = Screening::of(assessed.iter().flat_map(|(_, v)| v.p_values()).collect(), rule.alpha);
    let rows = assessed
        .into_iter()
        .map(|(id, v)| {
            let (kind, cur, base) = of(id);
            let v = v.judge(&screening);
            let mut row = BillingRow {
                contract: id,
                name: names.get(&id).map(|c| c.name.clone()).unwrap_or_else(|| format!("contract {id}")),
                kind,
                current: cur,
                expected: base.scaled(scale),
                expected_tickets: base.tickets as f64 * scale,
                expected_entries: base.entries as f64 * scale,
                hours_change: change(cur.hours, base.hours * scale),
                block_change: (kind == ContractKind::BlockHours)
                    .then(|| change(cur.block_hours, base.block_hours * scale))
                    .flatten(),
                tickets_change: change(cur.tickets as f64, base.tickets as f64 * scale),
                material: v.material,
                measure: v.measure,
                agent_change: v.agent_change,
                agent_p_value: v.agent_p_value,
                background_change: v.background_change,
                p_value: v.background_p_value,
                flagged: v.flagged,
                driver: v.driver,
                explanation: String::new(),
            };
            if row.flagged {
                row.explanation = explain(&row, &base).join("; ");
            }
            row
        })
        .collect();
    (rows, screening)
}

/// Why a flagged row moved: the test, who moved it, and the drivers seen in the counts.
fn explain(row: &BillingRow, base: &Usage) -> Vec<String> {
    let cur = &row.current;
    let unit = row.measure.unit();
    let mut why: Vec<String> = vec![];
    if row.driver == Driver::New {
        why.push(format!("{:.2} h logged with no baseline activity (nothing to test against)", cur.hours));
    }
    if let Some(a) = row.agent_change {
        let p = row.agent_p_value.map(|p| format!(", {} (two-sample test of cost per ticket)", p_phrase(p)));
        why.push(format!(
            "the agent's {} tickets {a:+.2} {unit} against as many at the contract's average cost per ticket before the rollout (an upper bound of its effect: it takes the simpler requests){}",
            cur.agent.tickets,
            p.unwrap_or_default()
        ));
    }
    if let Some(p) = row.p_value {
        why.push(format!(
            "{} {:+.2} {unit}, {} ({})",
            if row.agent_change.is_some() { "the rest" } else { "change" },
            row.background_change,
            p_phrase(p),
            row.measure.test_name()
        ));
    }
    if let Some(t) = row.tickets_change.filter(|t| t.abs() >= 0.05) {
        why.push(format!(
            "{} tickets ({} vs {:.1} expected, {})",
            if t > 0.0 { "more" } else { "fewer" },
            cur.tickets,
            row.expected_tickets,
            signed_pct(t)
        ));
    }
    if let (Some(a), Some(b)) = (cur.hours_per_entry(), base.hours_per_entry()) {
        if let Some(c) = change(a, b).filter(|c| c.abs() >= 0.05) {
            why.push(format!(
                "{} entries (average {:.2} h vs {:.2} h, {})",
                if c > 0.0 { "longer" } else { "shorter" },
                a,
                b,
                signed_pct(c)
            ));
        }
    }
    if let Some(c) = change(cur.entries as f64, row.expected_entries).filter(|c| c.abs() >= 0.05) {
        why.push(format!(
            "{} time entries ({} vs {:.1} expected, {})",
            if c > 0.0 { "more" } else { "fewer" },
            cur.entries,
            row.expected_entries,
            signed_pct(c)
        ));
    }
    if cur.agent_entries > 0 {
        why.push(format!(
            "{} agent entries ({:.3} h; {} before rollout)",
            cur.agent_entries, cur.agent_hours, base.agent_entries
        ));
    }
    why
}

/// `p = 0.0047`, or `p < 0.0001`.
fn p_phrase(p: f64) -> String {
    if p < 1e-4 { "p < 0.0001".into() } else { format!("p = {p:.4}") }
}

/// A p-value as the report prints it: `< 0.0001` below that.
pub fn p_text(p: f64) -> String {
    if p < 1e-4 { "< 0.0001".into() } else { format!("{p:.4}") }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{entry, t};
    use chrono::Duration;

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
        let mut add = |hours: f64, ticket: i64, contract: i64, day: DateTime<Utc>, resource: i64, role: i64| {
            acc.add_entry(&EntryRow { date: Some(day), ..entry(hours, ticket, contract, resource, role) });
        };
        let mut ticket = 0;
        let mut next = || {
            ticket += 1;
            ticket
        };
        for i in 0..40 {
            let d = p.baseline.start + Duration::days(i);
            for k in 0..10 {
                if k < 8 {
                    add(1.0, next(), 1, d, 7, 1);
                    add(1.0, next(), 3, d, 7, 1);
                }
                // contract 4: tickets of 0.5 h and 1.5 h (mean 1 h, variance 0.25).
                add(if k % 2 == 0 { 0.5 } else { 1.5 }, next(), 4, d, 7, 1);
            }
            add(1.0, next(), 2, d, 7, 1);
        }
        for i in 0..10 {
            let d = p.current.start + Duration::days(i);
            // contract 1: 8 tickets of 1.5 h a day (+50%), each in two entries.
            for _ in 0..8 {
                let t = next();
                add(0.75, t, 1, d, 7, 1);
                add(0.75, t, 1, d, 7, 1);
            }
            // contract 3: 100 h against 80 expected (+25%), but on 5 tickets of 20 h.
            if i < 5 {
                let t = next();
                for _ in 0..5 {
                    add(4.0, t, 3, d, 7, 1);
                }
            }
            // contract 2: a human hour and an agent entry (block factor 0.5) on each ticket.
            let t = next();
            add(1.0, t, 2, d, 7, 1);
            add(0.1, t, 2, d, 5, 8);
            // contract 4: 10 tickets a day as before, but the agent resolves 6 of them in 3 minutes.
            for k in 0..10 {
                match k {
                    0..6 => add(0.05, next(), 4, d, 5, 8),
                    _ => add(if k % 2 == 0 { 0.5 } else { 1.5 }, next(), 4, d, 7, 1),
                }
            }
        }
        // Outside both periods: ignored.
        add(9.0, next(), 1, t("2026-01-05T00:00:00Z"), 7, 1);
        acc.finish();
        let contracts = vec![
            ContractInfo { id: 1, name: "Acme T&M".into(), kind: ContractKind::TimeAndMaterials },
            ContractInfo { id: 2, name: "Globex Block".into(), kind: ContractKind::BlockHours },
            ContractInfo { id: 3, name: "Initech T&M".into(), kind: ContractKind::TimeAndMaterials },
            ContractInfo { id: 4, name: "Umbrella T&M".into(), kind: ContractKind::TimeAndMaterials },
        ];
        let (rows, screening) = billing_rows(&contracts, &acc.current, &acc.baseline, &p, &FlagRule::default());
        assert_eq!(screening.tests, 5, "one test per contract, two where the agent worked");
        let r1 = &rows[0];
        assert!((r1.expected.hours - 80.0).abs() < 1e-9 && (r1.current.hours - 120.0).abs() < 1e-9);
        assert!((r1.hours_change.unwrap() - 0.5).abs() < 1e-9);
        // Tickets are the unit: z = 40 / √(80 · 1.5² + 0.25² · 320) = 2.83, p = 0.0047.
        assert!((r1.p_value.unwrap() - 0.004_678).abs() < 1e-5, "{:?}", r1.p_value);
        assert!(r1.flagged && r1.driver == Driver::Background && r1.agent_change.is_none());
        assert!(r1.explanation.contains("p = 0.0047 (compound-Poisson"), "{}", r1.explanation);
        assert!(r1.explanation.contains("shorter entries"), "{}", r1.explanation);
        let r2 = &rows[1];
        assert!((r2.current.hours - 11.0).abs() < 1e-9);
        assert!((r2.current.block_hours - 10.5).abs() < 1e-9, "{}", r2.current.block_hours);
        assert!((r2.hours_change.unwrap() - 0.1).abs() < 1e-9);
        assert!((r2.block_change.unwrap() - 0.05).abs() < 1e-9);
        assert!(!r2.flagged);
        assert_eq!(r2.current.agent_entries, 10);
        // The human hour on each agent ticket counts as that ticket's cost.
        assert_eq!((r2.current.agent.tickets, r2.current.worked.tickets), (10, 10));
        assert!((r2.current.agent.hours - 11.0).abs() < 1e-9);
        assert!((r2.agent_change.unwrap() - 0.5).abs() < 1e-9, "10.5 block h against 10 tickets of 1: {r2:?}");
        let r3 = &rows[2];
        assert!((r3.hours_change.unwrap() - 0.25).abs() < 1e-9, "{r3:?}");
        // Five tickets of 20 h: z = 20 / √(5 · 400 + 0.25² · 320) = 0.445.
        assert!(r3.material && !r3.flagged, "{r3:?}");
        assert!((r3.p_value.unwrap() - 0.6563).abs() < 1e-3, "{r3:?}");
        let r4 = &rows[3];
        // 60 agent tickets cost 3 h against 60 at the baseline's 1 h: −57 h, z = −57 / √(60 · 0.25 · 1.15).
        assert!((r4.agent_change.unwrap() + 57.0).abs() < 1e-9, "{r4:?}");
        assert!(r4.agent_p_value.unwrap() < 1e-12 && r4.background_change.abs() < 1e-9, "{r4:?}");
        assert!(r4.flagged && r4.driver == Driver::Agent, "{r4:?}");
        assert!(r4.explanation.contains("the agent's 60 tickets -57.00 h"), "{}", r4.explanation);
    }
}
