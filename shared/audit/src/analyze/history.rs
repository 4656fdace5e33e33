//! What a ticket's own fields and its TicketHistory say: when it was first
//! touched, whether it is open, and the queue moves ("Queue changed from X to
//! Y") with those within an hour of creation.

use crate::rows::{HistoryRow, TicketRow};
use chrono::{DateTime, Duration, Utc};

/// The moment a ticket was first touched, from its own fields: first
/// response, resolution, completion, or a last activity after creation.
pub fn first_touch(t: &TicketRow) -> Option<DateTime<Utc>> {
    let after_create = t.last_activity.filter(|d| *d > t.created + Duration::seconds(60));
    [t.first_response, t.resolved, t.completed, after_create].into_iter().flatten().filter(|d| *d >= t.created).min()
}

pub fn is_open(t: &TicketRow, complete: &[i64]) -> bool {
    t.completed.is_none() && !t.status.is_some_and(|s| complete.contains(&s))
}

/// A queue change read from a TicketHistory row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueMove {
    pub from: i64,
    pub to: i64,
}

/// Parses "Queue changed from X to Y" (labels or ids) against the queue
/// picklist; longest labels win, so "A to B" labels cannot confuse it.
pub fn parse_queue_move(detail: &str, queues: &[(i64, String, bool)]) -> Option<QueueMove> {
    let lower = detail.to_lowercase();
    let qpos = lower.find("queue")?;
    let rest = &detail[qpos..];
    let rest_l = rest.to_lowercase();
    let fpos = rest_l.find(" from ")?;
    let after = &rest[fpos + 6..];
    let resolve = |s: &str| -> Vec<(i64, usize)> {
        // every queue whose label (or id) is a prefix of s, with its length
        let sl = s.to_lowercase();
        let mut v: Vec<(i64, usize)> = queues
            .iter()
            .flat_map(|(id, label, _)| {
                let l = label.to_lowercase();
                let ids = id.to_string();
                [
                    (sl.starts_with(&l) && !l.is_empty()).then_some((*id, label.len())),
                    sl.starts_with(&ids).then_some((*id, ids.len())),
                ]
            })
            .flatten()
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        v
    };
    for (from, len) in resolve(after) {
        let tail = &after[len..];
        if tail.len() >= 4 && tail[..4].eq_ignore_ascii_case(" to ") {
            let dest = tail[4..].trim_end_matches(['.', ' ']);
            if let Some((to, l2)) =
                resolve(dest).into_iter().find(|(_, l)| dest.len() == *l || dest[*l..].trim().is_empty())
            {
                let _ = l2;
                return Some(QueueMove { from, to });
            }
        }
    }
    None
}

/// What one sampled ticket's history says about routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub initial_queue: Option<i64>,
    /// Moves within an hour of creation, with who made them.
    pub early_moves: Vec<(QueueMove, Option<i64>)>,
    /// Moves at any time.
    pub moves: usize,
}

pub fn ticket_routing(t: &TicketRow, history: &[HistoryRow], queues: &[(i64, String, bool)]) -> Routing {
    let mut rows: Vec<&HistoryRow> = history.iter().collect();
    rows.sort_by_key(|h| h.date);
    let moves: Vec<(DateTime<Utc>, QueueMove, Option<i64>)> = rows
        .iter()
        .filter_map(|h| parse_queue_move(&h.detail, queues).filter(|m| m.from != m.to).map(|m| (h.date, m, h.resource)))
        .collect();
    let initial_queue = moves.first().map(|(_, m, _)| m.from).or(t.queue);
    let early_moves =
        moves.iter().filter(|(d, _, _)| *d - t.created <= Duration::hours(1)).map(|(_, m, r)| (*m, *r)).collect();
    Routing { initial_queue, early_moves, moves: moves.len() }
}
