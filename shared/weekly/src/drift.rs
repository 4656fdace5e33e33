//! When a contract's change is worth finance's attention, and whose doing
//! it is. A change is split in two: what the agent's own tickets changed
//! (their cost now against as many tickets at the baseline's cost per
//! ticket) and the rest, the contract's background drift. Each part is
//! flagged when it is material (over a percentage of the expected figure
//! **and** a floor in hours or tickets) and unlikely to be chance given the
//! tickets it rests on. Pure functions over [`Usage`].
//!
//! The tests (the ticket is the unit: a ticket's entries move together):
//! * **Background**: tickets arrive as a Poisson process and each carries its
//!   hours, so a period's total `S = Σ Hₜ` has variance `Q = Σ Hₜ²` (compound
//!   Poisson). Against the baseline scaled to the same days (`scale` =
//!   current days ÷ baseline days):
//!   `z = (S₁ − scale·S₀) / √(Q₁ + scale²·Q₀)`, over the tickets the agent did
//!   not touch (and their expected share).
//! * **Agent**: its `n` tickets cost `A`; under "they cost like any baseline
//!   ticket" (`W₀` tickets, mean `μ₀`, variance `σ₀²`),
//!   `z = (A − n·μ₀) / √(n·σ₀²·(1 + n/W₀))` (a two-sample comparison of means).
//! * Per-ticket contracts: the created tickets themselves, a Poisson rate test
//!   (the same formula with unit weights).
//!
//! Each gives a two-sided p-value `erfc(|z| / √2)` (normal approximation).
//! A report tests every contract at once, so a part counts as unlikely to be
//! chance when its p-value passes the Benjamini–Hochberg procedure over all
//! the report's tests at the false discovery rate `alpha` ([`Screening`]):
//! of the flags, about `alpha` are expected to be chance, however many
//! contracts the MSP has.

use crate::billing::{TicketSums, Usage};
use atpilot_domain::contract::ContractKind;
use serde::{Deserialize, Serialize};

/// What makes a change flagged (the weekly report's options).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlagRule {
    /// The change is at least this many percent of the expected figure (default 15).
    pub percent: f64,
    /// …and at least this many hours (block hours on Block Hours contracts; default 4).
    pub min_hours: f64,
    /// …or, on per-ticket contracts, at least this many tickets (default 5).
    pub min_tickets: f64,
    /// …and it passes the Benjamini–Hochberg procedure at this false discovery rate (default 0.05).
    pub alpha: f64,
}

impl Default for FlagRule {
    fn default() -> Self {
        Self { percent: 15.0, min_hours: 4.0, min_tickets: 5.0, alpha: 0.05 }
    }
}

impl FlagRule {
    /// Refuses values that would flag everything or nothing by mistake.
    ///
    /// # Errors
    /// A sentence naming the value: a negative or non-finite percentage or
    /// floor, or an alpha outside (0, 1).
    pub fn check(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(self.percent) || !ok(self.min_hours) || !ok(self.min_tickets) {
            return Err(format!(
                "billing flags: the percentage ({}), hours ({}) and tickets ({}) must be zero or more",
                self.percent, self.min_hours, self.min_tickets
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(format!("billing flags: alpha must be between 0 and 1 (exclusive), not {}", self.alpha));
        }
        Ok(())
    }
}

/// The figure a contract type is billed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Hours,
    BlockHours,
    Tickets,
}

impl Measure {
    pub fn of(kind: ContractKind) -> Measure {
        match kind {
            ContractKind::BlockHours => Measure::BlockHours,
            ContractKind::PerTicket => Measure::Tickets,
            _ => Measure::Hours,
        }
    }
    /// `(total, Σ per-ticket weight²)` of one period.
    fn totals(self, u: &Usage) -> (f64, f64) {
        match self {
            Measure::Tickets => (u.tickets as f64, u.tickets as f64),
            _ => self.sums(&u.worked),
        }
    }
    /// `(total, Σ per-ticket weight²)` of some tickets, in hours or block hours.
    fn sums(self, t: &TicketSums) -> (f64, f64) {
        match self {
            Measure::BlockHours => (t.block_hours, t.block_sq),
            _ => (t.hours, t.hours_sq),
        }
    }
    pub fn unit(self) -> &'static str {
        match self {
            Measure::Hours => "h",
            Measure::BlockHours => "block h",
            Measure::Tickets => "tickets",
        }
    }
    /// The background test's name as the report prints it.
    pub fn test_name(self) -> &'static str {
        match self {
            Measure::Tickets => "Poisson rate test on tickets per day",
            _ => "compound-Poisson z-test on hours per day, tickets weighted by their hours",
        }
    }
}

/// Who moved the figure: the agent's own tickets, or everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    Agent,
    Background,
    /// No baseline activity: nothing to compare with.
    New,
}

/// A contract's change under the [`FlagRule`], in the [`Measure`]'s unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub measure: Measure,
    /// Current − expected.
    pub change: f64,
    /// The whole change is over the percentage and the floor.
    pub material: bool,
    /// What the agent's tickets changed (`None` without agent tickets).
    pub agent_change: Option<f64>,
    pub agent_p_value: Option<f64>,
    /// The rest of the change.
    pub background_change: f64,
    /// `None` when there is nothing to test (no baseline, or no variance).
    pub background_p_value: Option<f64>,
    /// The agent's part alone is over the percentage and the floor.
    pub agent_material: bool,
    /// The background part alone is over the percentage and the floor.
    pub background_material: bool,
    /// Flagged: a material part that is new or passes the report's screening
    /// (false until [`Verdict::judge`]).
    pub flagged: bool,
    pub driver: Driver,
}

/// The multiple-testing step of one report: how many p-values it computed
/// and the largest that still counts as significant (Benjamini–Hochberg:
/// the largest `p₍ₖ₎ ≤ k/m · alpha`; `None` when none does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub tests: usize,
    pub cutoff: Option<f64>,
}

impl Screening {
    /// Runs the procedure over the report's p-values.
    pub fn of(mut p_values: Vec<f64>, alpha: f64) -> Screening {
        p_values.retain(|p| p.is_finite());
        p_values.sort_by(f64::total_cmp);
        let m = p_values.len();
        let cutoff =
            p_values.iter().enumerate().rev().find(|(k, p)| **p <= (k + 1) as f64 / m as f64 * alpha).map(|(_, p)| *p);
        Screening { tests: m, cutoff }
    }
    /// Whether a p-value passes.
    pub fn passes(&self, p: Option<f64>) -> bool {
        matches!((p, self.cutoff), (Some(p), Some(c)) if p <= c)
    }
}

impl Verdict {
    /// The p-values this verdict computed (what the [`Screening`] runs over).
    pub fn p_values(&self) -> impl Iterator<Item = f64> {
        self.agent_p_value.into_iter().chain(self.background_p_value)
    }

    /// Flags the contract once the report's p-values were screened: a part
    /// is flagged when it is material and new or significant; the driver is
    /// the agent when its part is flagged and at least as large as a flagged
    /// background.
    pub fn judge(mut self, screening: &Screening) -> Verdict {
        let new = self.driver == Driver::New;
        let by_agent = self.agent_material && (new || screening.passes(self.agent_p_value));
        let by_background = self.background_material && (new || screening.passes(self.background_p_value));
        self.flagged = by_agent || by_background;
        self.driver = match self.agent_change {
            _ if new => Driver::New,
            Some(a) if by_agent && (!by_background || a.abs() >= self.background_change.abs()) => Driver::Agent,
            _ => Driver::Background,
        };
        self
    }
}

/// Two-sided p-value of a change with the given variance (module docs).
pub fn p_value(change: f64, variance: f64) -> Option<f64> {
    (variance > 0.0 && variance.is_finite())
        .then(|| libm::erfc((change / variance.sqrt()).abs() / std::f64::consts::SQRT_2))
}

/// The agent's part: `(A − n·μ₀, its p-value)`; all of `A` without a baseline.
fn agent_part(measure: Measure, current: &Usage, base: &Usage) -> Option<(f64, Option<f64>)> {
    let n = current.agent.tickets as f64;
    if n == 0.0 || measure == Measure::Tickets {
        return None;
    }
    let (a, _) = measure.sums(&current.agent);
    let w0 = base.worked.tickets as f64;
    if w0 == 0.0 {
        return Some((a, None));
    }
    let (s0, q0) = measure.sums(&base.worked);
    let mu0 = s0 / w0;
    let var0 = (q0 / w0 - mu0 * mu0).max(0.0);
    let change = a - n * mu0;
    Some((change, p_value(change, n * var0 * (1.0 + n / w0))))
}

/// Measures one contract's month to date (`current`) against its baseline
/// under the rule: the changes, whether each is material, and their
/// p-values. Not flagged yet: [`Verdict::judge`] does that once every
/// contract's p-values were screened together.
pub fn assess(kind: ContractKind, current: &Usage, base: &Usage, scale: f64, rule: &FlagRule) -> Verdict {
    let measure = Measure::of(kind);
    let ((s1, q1), (s0, q0)) = (measure.totals(current), measure.totals(base));
    let expected = s0 * scale;
    let change = s1 - expected;
    let floor = if measure == Measure::Tickets { rule.min_tickets } else { rule.min_hours };
    let new = expected <= 1e-9 && s1 > 0.0;
    let material =
        |x: f64| x.abs() >= floor - 1e-12 && (new || x.abs() / expected.max(1e-12) >= rule.percent / 100.0 - 1e-12);
    let agent = agent_part(measure, current, base);
    let (agent_change, agent_p_value) = (agent.map(|a| a.0), agent.and_then(|a| a.1));
    let background_change = change - agent_change.unwrap_or(0.0);
    let agent_q = if agent.is_some() { measure.sums(&current.agent).1 } else { 0.0 };
    let background_p_value =
        if new { None } else { p_value(background_change, (q1 - agent_q).max(0.0) + scale * scale * q0) };
    Verdict {
        measure,
        change,
        material: material(change),
        agent_change,
        agent_p_value,
        background_change,
        background_p_value,
        agent_material: agent_change.is_some_and(material),
        background_material: material(background_change),
        flagged: false,
        driver: if new { Driver::New } else { Driver::Background },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tickets of the given hours, one entry each.
    fn usage(tickets: &[f64]) -> Usage {
        let mut u = Usage { tickets: tickets.len() as u64, ..Default::default() };
        for h in tickets {
            u.hours += h;
            u.block_hours += h;
            u.entries += 1;
            u.worked.add(*h, *h);
        }
        u
    }

    /// The verdict on a report of one contract.
    fn alone(kind: ContractKind, current: &Usage, base: &Usage) -> Verdict {
        let rule = FlagRule::default();
        let v = assess(kind, current, base, 0.1, &rule);
        let screening = Screening::of(v.p_values().collect(), rule.alpha);
        v.judge(&screening)
    }

    #[test]
    fn benjamini_hochberg_keeps_the_largest_p_under_its_rank_line() {
        // m = 5, alpha = 0.05: lines 0.01, 0.02, 0.03, 0.04, 0.05.
        let s = Screening::of(vec![0.5, 0.012, 0.001, 0.029, 0.2], 0.05);
        assert_eq!(s, Screening { tests: 5, cutoff: Some(0.029) }, "0.012 > 0.01 passes through 0.029 ≤ 0.03");
        assert!(s.passes(Some(0.012)) && !s.passes(Some(0.2)) && !s.passes(None));
        assert_eq!(Screening::of(vec![0.02, 0.5], 0.01).cutoff, None);
        assert_eq!(Screening::of(vec![], 0.05), Screening { tests: 0, cutoff: None });
    }

    #[test]
    fn p_values_match_the_normal_tail() {
        // z = 10 / √50 = 1.414…, two-sided p = 0.1573 (normal table).
        assert!((p_value(10.0, 50.0).unwrap() - 0.157_299_2).abs() < 1e-6);
        let z: f64 = 1.959_963_985;
        assert!((p_value(-z, 1.0).unwrap() - 0.05).abs() < 1e-6);
        assert_eq!(p_value(1.0, 0.0), None);
    }

    #[test]
    fn a_large_percentage_on_few_tickets_is_chance_not_a_flag() {
        // Three tickets of 1 h against an expected 2 h: +50% but only 1 h.
        let v = alone(ContractKind::TimeAndMaterials, &usage(&[1.0; 3]), &usage(&[1.0; 20]));
        assert!(!v.material && !v.flagged, "{v:?}");
        // Two 5-hour tickets against an expected 6 h: material (+67%, 4 h) but z = 4 / √(50 + 0.6) = 0.56.
        let v = alone(ContractKind::TimeAndMaterials, &usage(&[5.0; 2]), &usage(&[1.0; 60]));
        assert!(v.material && !v.flagged && v.background_p_value.unwrap() > 0.5, "{v:?}");
        // Many small tickets: +50% of 40 h is far from chance: z = 20 / √(30 + 0.1² · 200) = 3.54.
        let v = alone(ContractKind::TimeAndMaterials, &usage(&[0.5; 120]), &usage(&[0.5; 800]));
        assert!(v.flagged && v.driver == Driver::Background, "{v:?}");
        assert!((v.background_p_value.unwrap() - 0.000_407).abs() < 1e-5, "{v:?}");
    }

    #[test]
    fn per_ticket_contracts_are_judged_on_tickets_and_new_contracts_on_the_floor() {
        let v = alone(ContractKind::PerTicket, &usage(&[1.0; 4]), &usage(&[1.0; 20]));
        assert_eq!(v.measure, Measure::Tickets);
        assert!(!v.material, "2 tickets more is under the 5-ticket floor: {v:?}");
        let v = alone(ContractKind::TimeAndMaterials, &usage(&[2.5, 2.5]), &Usage::default());
        assert!(v.flagged && v.driver == Driver::New && v.background_p_value.is_none(), "{v:?}");
        let v = alone(ContractKind::TimeAndMaterials, &usage(&[0.5]), &Usage::default());
        assert!(!v.flagged, "half an hour on a new contract is not material: {v:?}");
    }

    #[test]
    fn bad_rules_are_refused_with_the_value() {
        let e = FlagRule { alpha: 1.0, ..Default::default() }.check().unwrap_err();
        assert!(e.contains("not 1"), "{e}");
        assert!(FlagRule { min_hours: f64::NAN, ..Default::default() }.check().is_err());
        assert!(FlagRule::default().check().is_ok());
    }
}
