//! CSAT deltas by category: survey ratings of agent-touched tickets against
//! human-only ones, shown only with enough samples on both sides.

use atpilot_domain::Category;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::cat;

    #[test]
    fn csat_needs_the_minimum_sample_on_both_sides() {
        let tickets: HashMap<i64, TicketAgent> =
            (1..=30).map(|i| (i, TicketAgent { category: cat("password-reset"), touched: i <= 12 })).collect();
        let surveys: Vec<(i64, f64)> =
            (1..=30).map(|i| (i, if i <= 12 { 5.0 } else { 4.0 })).chain([(99, 1.0)]).collect();
        let rows = csat(&surveys, &tickets, 10);
        let pr = rows.iter().find(|r| r.category == "password-reset").unwrap();
        assert_eq!((pr.agent_n, pr.human_n), (12, 18));
        assert_eq!(pr.delta, Some(1.0));
        let unseen = rows.iter().find(|r| r.category == UNSEEN).unwrap();
        assert_eq!((unseen.human_n, unseen.delta), (1, None));
        let rows = csat(&surveys, &tickets, 13);
        assert_eq!(rows.iter().find(|r| r.category == "password-reset").unwrap().delta, None);
    }
}
