//! The time-entry spot check: a seeded sample of the week's agent entries,
//! each compared with what Autotask holds now (duration, ticket, contract,
//! resource, role), with the likely cause of a difference in words.

use crate::format::opt;
use crate::rows::EntryRow;
use chrono::Duration;
use serde::{Deserialize, Serialize};

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
                format!(
                    "duration {:.6} h in Autotask vs {:.6} h measured: rounded up to {} min (tenant rounding setting?)",
                    e.hours,
                    l.hours,
                    mins.round() as i64
                )
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
                    diffs.push(format!(
                        "changed after it was written (last modified {}): a human edit?",
                        m.format("%Y-%m-%d %H:%M")
                    ));
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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{entry, t};

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
}
