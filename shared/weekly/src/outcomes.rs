//! Outcomes for the categories in scope: the autonomous resolution rate and
//! the first-response percentiles, against the day-90 targets.

use crate::rows::DecisionFact;
use atpilot_domain::Category;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

pub use atpilot_domain::targets::{TARGET_AUTONOMOUS_MAX, TARGET_AUTONOMOUS_MIN, TARGET_FIRST_RESPONSE_SECS};

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
pub fn outcomes(
    in_scope: &BTreeSet<Category>,
    decisions: &[DecisionFact],
    agent_reply: &HashMap<i64, DateTime<Utc>>,
    tickets: &TicketTimes,
) -> Outcomes {
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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cat, t};
    use chrono::Duration;

    #[test]
    fn outcomes_rate_and_first_response_percentiles() {
        let scope: BTreeSet<Category> = [cat("password-reset")].into_iter().collect();
        let base = t("2026-03-03T09:00:00Z");
        let mut decisions = vec![];
        let mut tickets = HashMap::new();
        let mut reply = HashMap::new();
        for i in 0..10i64 {
            let auto = i < 3;
            decisions.push(DecisionFact {
                ticket: i,
                category: cat("password-reset"),
                at: base + Duration::seconds(5),
                autonomous_action: auto.then(|| format!("act-{i}")),
                confidence: None,
                event_key: format!("e{i}"),
            });
            tickets.insert(i, (Some(base), Some(base + Duration::seconds(100 * (i + 1)))));
            if auto {
                reply.insert(i, base + Duration::seconds(5 + i));
            }
        }
        decisions.push(DecisionFact {
            ticket: 50,
            category: cat("hardware"),
            at: base,
            autonomous_action: None,
            confidence: None,
            event_key: "e50".into(),
        });
        let o = outcomes(&scope, &decisions, &reply, &tickets);
        assert_eq!((o.tickets, o.autonomous), (10, 3));
        assert_eq!(o.autonomous_rate, Some(0.3));
        // Response times: 5, 6, 7, 400, 500, ..., 1000 s.
        assert_eq!(o.first_response_p50_secs, Some(500.0));
        assert_eq!(o.first_response_p90_secs, Some(900.0));
        assert_eq!(o.rate_verdict(), "within the 25–40% target");
        assert_eq!(percentile(&[1.0], 0.9), Some(1.0));
    }
}
