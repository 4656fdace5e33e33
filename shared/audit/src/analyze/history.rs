//! What a ticket's own fields and its TicketHistory say: when it was first
//! touched, whether it is open, and the queue moves (in the wordings tenants
//! use) with those within an hour of creation told from later escalations.

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

/// Parses a queue move out of a TicketHistory row's `detail`, in any of the
/// wordings seen on live tenants (none is documented as the one):
/// "Queue changed from X to Y", "Queue: X -> Y", "queueID changed: 5 → 8",
/// or the field named in `action` ("Queue", "queueID") with "X -> Y",
/// "X → Y", "X to Y" or "from X to Y" in `detail`. X and Y are queue labels
/// or ids; every split point is tried, so a label holding " to " cannot
/// confuse it. `None` when the row is not a readable queue move.
pub fn parse_queue_move(action: &str, detail: &str, queues: &[(i64, String, bool)]) -> Option<QueueMove> {
    let text = if mentions_queue(action) && !mentions_queue(detail) { detail } else { after_queue_word(detail)? };
    let text = strip_lead(text);
    for sep in [" -> ", " \u{2192} ", "->", "\u{2192}", " => ", " to ", " To ", " TO "] {
        for (i, _) in text.match_indices(sep) {
            let (from, to) = (&text[..i], &text[i + sep.len()..]);
            if let (Some(from), Some(to)) = (resolve_queue(from, queues), resolve_queue(to, queues)) {
                return Some(QueueMove { from, to });
            }
        }
    }
    None
}

/// Whether a history text reads like a change of value (an arrow, "changed",
/// "moved", "reassigned", "from … to"), as opposed to a mention such as "created in queue X".
pub fn looks_like_a_change(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("->")
        || t.contains('\u{2192}')
        || t.contains("=>")
        || t.contains("chang")
        || t.contains("moved")
        || t.contains("assign")
        || (t.contains("from ") && t.contains(" to "))
}

/// Whether a history text speaks of the queue at all.
pub fn mentions_queue(text: &str) -> bool {
    text.to_ascii_lowercase().contains("queue")
}

/// The text after the word "queue" (and an "ID" right after it).
fn after_queue_word(detail: &str) -> Option<&str> {
    let pos = detail.to_ascii_lowercase().find("queue")?;
    let rest = &detail[pos + 5..];
    Some(
        rest.strip_prefix("ID").or_else(|| rest.strip_prefix("Id")).or_else(|| rest.strip_prefix("id")).unwrap_or(rest),
    )
}

/// Drops a leading "changed", ":", "from" (in any case and order).
fn strip_lead(mut t: &str) -> &str {
    loop {
        let trimmed = t.trim_start_matches([' ', ':', '=']);
        let lower = trimmed.to_ascii_lowercase();
        let next = ["changed ", "changed:", "from ", "was "]
            .iter()
            .find(|w| lower.starts_with(*w))
            .map(|w| &trimmed[w.len()..]);
        match next {
            Some(n) => t = n,
            None => return trimmed,
        }
    }
}

/// A queue by its label or id (case-insensitive, quotes and a final period ignored).
fn resolve_queue(s: &str, queues: &[(i64, String, bool)]) -> Option<i64> {
    let s = s.trim().trim_end_matches('.').trim().trim_matches(['"', '\'', '\u{201c}', '\u{201d}']).trim();
    if s.is_empty() {
        return None;
    }
    queues.iter().find(|(id, label, _)| label.eq_ignore_ascii_case(s) || id.to_string() == s).map(|(id, _, _)| *id)
}

/// What one sampled ticket's history says about routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub initial_queue: Option<i64>,
    /// Moves within an hour of creation, with who made them.
    pub early_moves: Vec<(QueueMove, Option<i64>)>,
    /// Moves at any time.
    pub moves: usize,
    /// Moves out of the first queue later than an hour after creation (escalations).
    pub later_moves: usize,
    /// Rows that speak of the queue but could not be read as a move.
    pub unread: usize,
}

pub fn ticket_routing(t: &TicketRow, history: &[HistoryRow], queues: &[(i64, String, bool)]) -> Routing {
    let mut rows: Vec<&HistoryRow> = history.iter().collect();
    rows.sort_by_key(|h| h.date);
    let mut unread = 0;
    let mut moves: Vec<(DateTime<Utc>, QueueMove, Option<i64>)> = vec![];
    for h in rows.iter().filter(|h| mentions_queue(&h.action) || mentions_queue(&h.detail)) {
        match parse_queue_move(&h.action, &h.detail, queues) {
            Some(m) if m.from != m.to => moves.push((h.date, m, h.resource)),
            Some(_) => {}
            // Only a row that reads like a change is an unread move ("created in queue X" is not).
            None if looks_like_a_change(&h.detail) => unread += 1,
            None => {}
        }
    }
    let initial_queue = moves.first().map(|(_, m, _)| m.from).or(t.queue);
    let early = |d: &DateTime<Utc>| *d - t.created <= Duration::hours(1);
    let early_moves = moves.iter().filter(|(d, _, _)| early(d)).map(|(_, m, r)| (*m, *r)).collect();
    let later_moves = moves.iter().filter(|(d, _, _)| !early(d)).count();
    Routing { initial_queue, early_moves, moves: moves.len(), later_moves, unread }
}
