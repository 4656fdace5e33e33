//! What the collector gathers: plain rows, parsed from the API's JSON, that the
//! pure audit functions ([`crate::analyze`]) work on. Tests build these by hand.

use atpilot_autotask::entities::parse_datetime;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// The ticket fields the audit reads (the IncludeFields of the ticket query).
pub const TICKET_FIELDS: &[&str] = &[
    "id",
    "ticketNumber",
    "title",
    "description",
    "createDate",
    "queueID",
    "status",
    "issueType",
    "companyID",
    "contractID",
    "assignedResourceID",
    "firstResponseDateTime",
    "lastActivityDate",
    "resolvedDateTime",
    "completedDate",
    "serviceLevelAgreementID",
    "serviceLevelAgreementHasBeenMet",
    "userDefinedFields",
];

/// One audited ticket (descriptions are kept only for the model sample, in [`Collected::texts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub id: i64,
    pub number: Option<String>,
    pub title: String,
    pub created: DateTime<Utc>,
    pub queue: Option<i64>,
    pub status: Option<i64>,
    pub issue_type: Option<i64>,
    pub company: Option<i64>,
    pub contract: Option<i64>,
    pub assigned: Option<i64>,
    pub first_response: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
    pub completed: Option<DateTime<Utc>>,
    pub sla: Option<i64>,
    pub sla_met: Option<bool>,
}

pub(crate) fn int(v: &Value, k: &str) -> Option<i64> {
    match v.get(k)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
fn string(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}
fn date(v: &Value, k: &str) -> Option<DateTime<Utc>> {
    v.get(k).and_then(Value::as_str).and_then(parse_datetime)
}

impl TicketRow {
    /// Parses a raw ticket item; `None` without an id or a creation date.
    pub fn from_json(v: &Value) -> Option<TicketRow> {
        Some(TicketRow {
            id: int(v, "id")?,
            number: string(v, "ticketNumber"),
            title: string(v, "title").unwrap_or_default(),
            created: date(v, "createDate")?,
            queue: int(v, "queueID"),
            status: int(v, "status"),
            issue_type: int(v, "issueType"),
            company: int(v, "companyID"),
            contract: int(v, "contractID"),
            assigned: int(v, "assignedResourceID"),
            first_response: date(v, "firstResponseDateTime"),
            last_activity: date(v, "lastActivityDate"),
            resolved: date(v, "resolvedDateTime"),
            completed: date(v, "completedDate"),
            sla: int(v, "serviceLevelAgreementID"),
            sla_met: v.get("serviceLevelAgreementHasBeenMet").and_then(Value::as_bool),
        })
    }

    /// The model's text: title and the start of the description.
    pub fn text_of(v: &Value, max_chars: usize) -> String {
        let title = v.get("title").and_then(Value::as_str).unwrap_or_default();
        let desc = v.get("description").and_then(Value::as_str).unwrap_or_default();
        let mut s = String::with_capacity(title.len() + 1 + desc.len().min(max_chars));
        s.push_str(title);
        s.push('\n');
        s.extend(desc.chars().take(max_chars));
        s
    }
}

/// One TicketHistory row.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub ticket: i64,
    pub date: DateTime<Utc>,
    pub action: String,
    pub detail: String,
    pub resource: Option<i64>,
}

impl HistoryRow {
    pub fn from_json(v: &Value) -> Option<HistoryRow> {
        Some(HistoryRow {
            ticket: int(v, "ticketID")?,
            date: date(v, "date")?,
            action: string(v, "action").unwrap_or_default(),
            detail: string(v, "detail").unwrap_or_default(),
            resource: int(v, "resourceID"),
        })
    }
}

/// One ticket note (who wrote it and when).
#[derive(Debug, Clone, PartialEq)]
pub struct NoteRow {
    pub ticket: i64,
    pub created: DateTime<Utc>,
    pub resource: Option<i64>,
}

impl NoteRow {
    pub fn from_json(v: &Value) -> Option<NoteRow> {
        Some(NoteRow {
            ticket: int(v, "ticketID")?,
            created: date(v, "createDateTime")?,
            resource: int(v, "creatorResourceID"),
        })
    }
}

/// One ServiceLevelAgreementResults row.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaRow {
    pub ticket: i64,
    pub first_response_met: Option<bool>,
    pub resolution_met: Option<bool>,
}

impl SlaRow {
    pub fn from_json(v: &Value) -> Option<SlaRow> {
        Some(SlaRow {
            ticket: int(v, "ticketID")?,
            first_response_met: v.get("isFirstResponseMet").and_then(Value::as_bool),
            resolution_met: v.get("isResolutionMet").and_then(Value::as_bool),
        })
    }
}

/// What reading the tickets' UDFs showed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UdfStats {
    /// UDF names defined on Tickets (`entityInformation/userDefinedFields`).
    pub defined: Vec<String>,
    /// Tickets whose UDFs were read.
    pub tickets: u64,
    /// Tickets with a non-empty value, by UDF name.
    pub filled: BTreeMap<String, u64>,
    /// JSON bytes of the `userDefinedFields` arrays, and of the whole rows.
    pub udf_bytes: u64,
    pub row_bytes: u64,
}

impl UdfStats {
    /// Counts one raw ticket item.
    pub fn observe(&mut self, v: &Value) {
        self.tickets += 1;
        self.row_bytes += v.to_string().len() as u64;
        if let Some(udfs) = v.get("userDefinedFields") {
            self.udf_bytes += udfs.to_string().len() as u64;
            for u in udfs.as_array().into_iter().flatten() {
                let Some(name) = u.get("name").and_then(Value::as_str) else { continue };
                let filled = match u.get("value") {
                    None | Some(Value::Null) => false,
                    Some(Value::String(s)) => !s.trim().is_empty(),
                    Some(_) => true,
                };
                if filled {
                    let key = self
                        .defined
                        .iter()
                        .find(|d| d.eq_ignore_ascii_case(name))
                        .cloned()
                        .unwrap_or_else(|| name.to_string());
                    *self.filled.entry(key).or_default() += 1;
                }
            }
        }
    }
}

/// How the history sample was drawn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleInfo {
    /// Tickets whose TicketHistory, notes and SLA results were read.
    pub history_tickets: usize,
    /// Tickets used to compare content and contract routing.
    pub model_tickets: usize,
    /// The `--history-sample` and `--model-sample` limits.
    pub history_limit: usize,
    pub model_limit: usize,
}

/// Everything the audit needs, collected through the API (or built by a test).
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub since: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// Queue picklist (value, label), in picklist order; `active` as the picklist says.
    pub queues: Vec<(i64, String, bool)>,
    pub issue_types: BTreeMap<i64, String>,
    /// Status values that mean "complete" (label Complete / value 5).
    pub complete_statuses: Vec<i64>,
    pub tickets: Vec<TicketRow>,
    /// Texts of the model sample, by ticket id.
    pub texts: BTreeMap<i64, String>,
    /// TicketHistory of the sampled tickets (an empty list means "read, nothing found").
    pub history: BTreeMap<i64, Vec<HistoryRow>>,
    pub notes: Vec<NoteRow>,
    pub sla_results: Vec<SlaRow>,
    /// Contract id → contract type value, and contract type labels.
    pub contract_types: BTreeMap<i64, i64>,
    pub contract_type_labels: BTreeMap<i64, String>,
    /// Resource id → display name (for who re-routes).
    pub resources: BTreeMap<i64, String>,
    pub udfs: UdfStats,
    pub sample: SampleInfo,
    /// Requests sent to Autotask (from the client's counters).
    pub api_requests: u64,
    /// Requests by stage, for the report.
    pub requests_by_stage: Vec<(String, u64)>,
}

/// A stable per-id hash for deterministic samples (splitmix64).
pub fn sample_hash(id: i64) -> u64 {
    let mut z = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_mul(0xA24B_AED4_963E_E407);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The deterministic sample: the `n` ids with the smallest [`sample_hash`],
/// returned in ascending id order. Independent of the order ids arrive in.
pub fn sample_ids(ids: impl IntoIterator<Item = i64>, n: usize) -> Vec<i64> {
    let mut b = BoundedSample::new(n);
    for id in ids {
        b.offer(id);
    }
    b.into_ids()
}

/// [`sample_ids`] in bounded memory, while streaming.
#[derive(Debug, Clone)]
pub struct BoundedSample {
    n: usize,
    set: std::collections::BTreeSet<(u64, i64)>,
}

impl BoundedSample {
    pub fn new(n: usize) -> Self {
        Self { n, set: Default::default() }
    }
    /// Offers an id; returns the id that left the sample (or this one if it did not enter).
    pub fn offer(&mut self, id: i64) -> Option<i64> {
        if self.n == 0 {
            return Some(id);
        }
        self.set.insert((sample_hash(id), id));
        if self.set.len() > self.n { self.set.pop_last().map(|(_, i)| i) } else { None }
    }
    pub fn contains(&self, id: i64) -> bool {
        self.set.contains(&(sample_hash(id), id))
    }
    pub fn into_ids(self) -> Vec<i64> {
        let mut v: Vec<i64> = self.set.into_iter().map(|(_, i)| i).collect();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sample_is_order_independent_and_bounded() {
        let a = sample_ids(1..=1000, 50);
        let b = sample_ids((1..=1000).rev(), 50);
        assert_eq!(a, b);
        assert_eq!(a.len(), 50);
        assert!(sample_ids(1..=10, 50).len() == 10);
        assert!(sample_ids(1..=10, 0).is_empty());
    }

    #[test]
    fn parses_ticket_rows_and_udfs() {
        let v = json!({"id": 7, "createDate": "2024-05-01T10:00:00.000Z", "queueID": 3, "status": "5", "title": "Printer",
                       "serviceLevelAgreementHasBeenMet": true, "userDefinedFields": [{"name": "A", "value": "x"}, {"name": "B", "value": " "}]});
        let t = TicketRow::from_json(&v).unwrap();
        assert_eq!((t.id, t.queue, t.status, t.sla_met), (7, Some(3), Some(5), Some(true)));
        let mut u = UdfStats { defined: vec!["A".into(), "B".into()], ..Default::default() };
        u.observe(&v);
        assert_eq!(u.filled.get("A"), Some(&1));
        assert_eq!(u.filled.get("B"), None);
        assert!(u.udf_bytes > 0 && u.row_bytes > u.udf_bytes);
        assert!(TicketRow::from_json(&json!({"id": 1})).is_none());
    }
}
