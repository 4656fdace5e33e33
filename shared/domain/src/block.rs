//! Block Hours balance, per Autotask's documented rules: a block counts only
//! while it is active and the work date falls within its start and end
//! dates; blocks are used in order of start date; an hour worked debits
//! `hours × factor` block hours, the factor being the contract's block hour
//! factor for the role (1 when none is set).

use crate::measure::Hours;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One purchased block (`ContractBlocks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub hours: Hours,
    /// Hours already approved and posted against the block.
    pub hours_approved: Hours,
    pub active: bool,
}

/// Block hours left for work done on `on`: the sum over active blocks whose
/// dates include `on`, minus the agent's own entries not yet posted.
pub fn remaining(blocks: &[Block], on: NaiveDate, pending_block_hours: Hours) -> Hours {
    let mut usable: Vec<&Block> = blocks.iter().filter(|b| b.active && b.start <= on && on <= b.end).collect();
    usable.sort_by_key(|b| b.start);
    let left: f64 = usable.iter().map(|b| b.hours.saturating_sub(b.hours_approved).get()).sum();
    Hours::new(left).unwrap_or(Hours::ZERO).saturating_sub(pending_block_hours)
}

/// Block hours debited for `worked` hours in a role with this factor.
pub fn debit(worked: Hours, factor: Option<f64>) -> Hours {
    let f = factor.filter(|f| f.is_finite() && *f > 0.0).unwrap_or(1.0);
    Hours::new(worked.get() * f).unwrap_or(Hours::ZERO)
}

/// Which block the next debit lands in: the earliest-starting usable block with hours left.
pub fn debited_block(blocks: &[Block], on: NaiveDate) -> Option<usize> {
    let mut idx: Vec<usize> = (0..blocks.len())
        .filter(|&i| {
            let b = &blocks[i];
            b.active && b.start <= on && on <= b.end && b.hours.get() > b.hours_approved.get()
        })
        .collect();
    idx.sort_by_key(|&i| blocks[i].start);
    idx.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }
    fn h(v: f64) -> Hours {
        Hours::new(v).unwrap()
    }
    fn block(start: NaiveDate, end: NaiveDate, hours: f64, approved: f64, active: bool) -> Block {
        Block { start, end, hours: h(hours), hours_approved: h(approved), active }
    }

    /// Worked example: two 10-hour blocks, the first half used; an inactive
    /// and an expired block do not count.
    #[test]
    fn balance_counts_active_in_date_blocks_only() {
        let blocks = vec![
            block(d(10, 1), d(12, 31), 10.0, 5.0, true),
            block(d(11, 1), d(12, 31), 10.0, 0.0, true),
            block(d(1, 1), d(6, 30), 40.0, 0.0, true),
            block(d(10, 1), d(12, 31), 40.0, 0.0, false),
        ];
        assert_eq!(remaining(&blocks, d(11, 15), Hours::ZERO), h(15.0));
        // Before the second block starts only the first counts.
        assert_eq!(remaining(&blocks, d(10, 15), Hours::ZERO), h(5.0));
        // The agent's own unposted entries are taken off.
        assert_eq!(remaining(&blocks, d(11, 15), h(1.5)), h(13.5));
        // Blocks are used in start-date order.
        assert_eq!(debited_block(&blocks, d(11, 15)), Some(0));
        let used_up = vec![block(d(10, 1), d(12, 31), 10.0, 10.0, true), block(d(11, 1), d(12, 31), 10.0, 0.0, true)];
        assert_eq!(debited_block(&used_up, d(11, 15)), Some(1));
    }

    /// Autotask's example: contract rate $60, Engineer rate $120, factor 2:
    /// an hour worked debits two block hours.
    #[test]
    fn factor_scales_the_debit() {
        assert_eq!(debit(h(1.0), Some(2.0)), h(2.0));
        assert_eq!(debit(h(0.5), None), h(0.5));
        assert_eq!(debit(h(0.5), Some(f64::NAN)), h(0.5));
    }

    #[test]
    fn over_approved_block_is_never_negative() {
        let blocks = vec![block(d(10, 1), d(12, 31), 10.0, 12.0, true)];
        assert_eq!(remaining(&blocks, d(11, 1), h(3.0)), Hours::ZERO);
    }
}
