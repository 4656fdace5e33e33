//! Contract billing impact: each contract's month to date against its own
//! pre-rollout baseline (prorated to the same number of days), aggregated
//! from streamed rows, with material changes flagged and explained.

use crate::format::signed_pct;
use crate::period::{Period, Periods};
use crate::rows::{ContractInfo, EntryRow, TicketRow};
use atpilot_domain::contract::ContractKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// The billing rows of every contract with activity in either period.
pub fn billing_rows(
    contracts: &[ContractInfo],
    current: &BTreeMap<i64, Usage>,
    baseline: &BTreeMap<i64, Usage>,
    p: &Periods,
    flag_percent: f64,
) -> Vec<BillingRow> {
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
            let block_change =
                (kind == ContractKind::BlockHours).then(|| change(cur.block_hours, expected.block_hours)).flatten();
            let tickets_change = change(cur.tickets as f64, expected_tickets);
            let material = |c: Option<f64>| c.is_some_and(|c| c.abs() >= threshold - 1e-12);
            let mut flagged = material(hours_change)
                || (kind == ContractKind::BlockHours && material(block_change))
                || (kind == ContractKind::PerTicket && material(tickets_change));
            let mut why: Vec<String> = vec![];
            if expected.hours <= 1e-9 && cur.hours > 0.0 {
                flagged = true;
                why.push(format!("{:.2} h logged with no baseline activity", cur.hours));
            }
            if flagged {
                if let Some(t) = tickets_change.filter(|t| t.abs() >= 0.05) {
                    why.push(format!(
                        "{} tickets ({} vs {:.1} expected, {})",
                        if t > 0.0 { "more" } else { "fewer" },
                        cur.tickets,
                        expected_tickets,
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
                if let Some(c) = change(cur.entries as f64, expected_entries).filter(|c| c.abs() >= 0.05) {
                    why.push(format!(
                        "{} time entries ({} vs {:.1} expected, {})",
                        if c > 0.0 { "more" } else { "fewer" },
                        cur.entries,
                        expected_entries,
                        signed_pct(c)
                    ));
                }
                if cur.agent_entries > 0 {
                    why.push(format!(
                        "{} agent-resolved tickets ({} entries, {:.3} h, {} before rollout)",
                        cur.agent_entries, cur.agent_entries, cur.agent_hours, base.agent_entries
                    ));
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
        let contracts = vec![
            ContractInfo { id: 1, name: "Acme T&M".into(), kind: ContractKind::TimeAndMaterials },
            ContractInfo { id: 2, name: "Globex Block".into(), kind: ContractKind::BlockHours },
        ];
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
}
