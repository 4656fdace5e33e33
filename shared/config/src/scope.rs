//! `[scope]`: the Autotask queues the agent may act in. A ticket outside it
//! is only logged: no decision, no note, no approval request.
//!
//! ```toml
//! [scope]
//! queues = [29682833, 29682834]   # the queues it may act in (empty or absent: every queue)
//! excluded_queues = [29683001]    # never these, whatever `queues` says (e.g. a VIP or security queue)
//! ```

use atpilot_domain::QueueId;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    #[serde(default)]
    pub queues: BTreeSet<i64>,
    #[serde(default)]
    pub excluded_queues: BTreeSet<i64>,
}

impl ScopeConfig {
    /// Whether a ticket in `queue` is in scope (a ticket without a queue only when every queue is).
    pub fn allows(&self, queue: Option<QueueId>) -> bool {
        match queue.map(|q| q.get()) {
            Some(q) if self.excluded_queues.contains(&q) => false,
            Some(q) => self.queues.is_empty() || self.queues.contains(&q),
            None => self.queues.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_queues_are_in_and_excluded_ones_never() {
        let q = |v| QueueId::new(v).ok();
        assert!(ScopeConfig::default().allows(q(7)) && ScopeConfig::default().allows(None));
        let s = ScopeConfig { queues: [7, 8].into(), excluded_queues: [8].into() };
        assert!(s.allows(q(7)));
        assert!(!s.allows(q(8)), "excluded wins");
        assert!(!s.allows(q(9)) && !s.allows(None));
    }
}
