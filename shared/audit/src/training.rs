//! Training examples straight from a tenant (`atpilot model train --from-autotask`).
//!
//! The labels are the dispatchers' final decisions: each ticket's current
//! queue, priority, issue type or sub-issue type, named by its picklist label.
//! Tickets whose queue was changed by hand within an hour of creation are
//! found the way the routing audit finds them ([`crate::analyze::ticket_routing`]
//! over [`crate::collect::read_history`]), reported, and by default down-weighted:
//! their first queue was noise, and a quick re-route says the text was ambiguous.
//!
//! Requests (N = tickets since the cut-off, H = tickets whose history is read,
//! at most `history_limit`): the ticket field metadata (1, cached by the
//! client's picklist cache), the count (1), the tickets with only the fields
//! the label needs (⌈N/500⌉), and TicketHistory (H, one per ticket).

use crate::analyze::ticket_routing;
use crate::collect::{CollectError, Progress, at, read_history};
use crate::rows::{BoundedSample, TicketRow, int};
use crate::training_scope::{LeftOut, QueueFlags, tally};
use atpilot_autotask::{Client, Filter, Picklist, Query};
use chrono::{DateTime, Duration, Utc};
use futures::TryStreamExt;

/// Which decision the model learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Queue,
    Priority,
    IssueType,
    SubIssueType,
    /// The automation category: the sub-issue type's label, else the issue
    /// type's (the category model's labels become category names, e.g.
    /// "Password Reset" → `password-reset`).
    Category,
}

impl std::str::FromStr for LabelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "queue" => LabelKind::Queue,
            "priority" => LabelKind::Priority,
            "issue-type" => LabelKind::IssueType,
            "sub-issue-type" => LabelKind::SubIssueType,
            "category" => LabelKind::Category,
            other => {
                return Err(format!("--label {other:?}: use queue, priority, issue-type, sub-issue-type or category"));
            }
        })
    }
}

impl LabelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LabelKind::Queue => "queue",
            LabelKind::Priority => "priority",
            LabelKind::IssueType => "issue-type",
            LabelKind::SubIssueType => "sub-issue-type",
            LabelKind::Category => "category",
        }
    }

    /// The ticket fields holding the label (the category falls back from the first to the second).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            LabelKind::Queue => &["queueID"],
            LabelKind::Priority => &["priority"],
            LabelKind::IssueType => &["issueType"],
            LabelKind::SubIssueType => &["subIssueType"],
            LabelKind::Category => &["subIssueType", "issueType"],
        }
    }
}

/// What to do with tickets re-routed by hand within an hour of creation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReroutePolicy {
    /// Leave them out.
    Drop,
    /// Keep them with this weight (0..1).
    Downweight(f32),
    /// Keep them as any other ticket.
    Keep,
}

/// The default weight of a re-routed ticket.
pub const DEFAULT_REROUTED_WEIGHT: f32 = 0.25;

#[derive(Debug, Clone)]
pub struct TrainingOptions {
    pub since: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub label: LabelKind,
    /// Tickets whose TicketHistory is read (one request each); beyond it, a
    /// deterministic sample (the others cannot be checked for re-routes).
    pub history_limit: usize,
    /// Concurrent history requests (Autotask allows 3 per endpoint).
    pub concurrency: usize,
    /// Characters of the description kept in the text.
    pub text_chars: usize,
}

impl TrainingOptions {
    pub fn new(since: DateTime<Utc>, now: DateTime<Utc>, label: LabelKind) -> Self {
        Self { since, now, label, history_limit: 4_000, concurrency: 3, text_chars: 2_000 }
    }
}

/// A ticket re-routed by hand within an hour of creation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReroutedTicket {
    pub id: i64,
    /// Ticket number, else the id.
    pub number: String,
    pub title: String,
    /// Queue labels, first and last move within the hour.
    pub from: String,
    pub to: String,
}

/// Labelled tickets, in id order, and what was left out or flagged.
#[derive(Debug, Clone, Default)]
pub struct TrainingSet {
    pub label: Option<LabelKind>,
    pub ids: Vec<i64>,
    pub texts: Vec<String>,
    pub labels: Vec<String>,
    /// Re-routed by hand within an hour of creation (parallel to `ids`).
    pub rerouted: Vec<bool>,
    /// Tickets read since the cut-off.
    pub tickets_read: usize,
    /// Tickets without the label field, or created less than an hour ago (routing not final).
    pub unlabelled: usize,
    pub too_recent: usize,
    /// Tickets whose history was read.
    pub history_checked: usize,
    /// The re-routed tickets, in id order.
    pub reroutes: Vec<ReroutedTicket>,
    /// Labelled tickets not learned from, by label and reason
    /// ([`crate::training_scope`]): not completed, an inactive label value,
    /// a queue nobody works or a triage queue.
    pub left_out: Vec<LeftOut>,
    pub api_requests: u64,
}

impl TrainingSet {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Texts, labels and per-example weights under a re-route policy
    /// (`None` weights when every kept ticket weighs 1).
    pub fn apply(&self, policy: ReroutePolicy) -> (Vec<String>, Vec<String>, Option<Vec<f32>>) {
        let keep = |i: usize| !(self.rerouted[i] && policy == ReroutePolicy::Drop);
        let idx: Vec<usize> = (0..self.len()).filter(|&i| keep(i)).collect();
        let texts = idx.iter().map(|&i| self.texts[i].clone()).collect();
        let labels = idx.iter().map(|&i| self.labels[i].clone()).collect();
        let weights = match policy {
            ReroutePolicy::Downweight(w) if idx.iter().any(|&i| self.rerouted[i]) => {
                Some(idx.iter().map(|&i| if self.rerouted[i] { w } else { 1.0 }).collect())
            }
            _ => None,
        };
        (texts, labels, weights)
    }
}

/// A picklist value named for the model: `Label (value)` for queues,
/// priorities and (sub-)issue types, so the label reads well and the classify
/// function can still take the value; the bare value when the picklist does
/// not know it (an inactive or deleted value).
pub fn picklist_label(pl: &Picklist, value: i64) -> String {
    match pl.label_of(value) {
        Some(l) if !l.trim().is_empty() => format!("{} ({value})", l.trim()),
        _ => value.to_string(),
    }
}

/// Streams the labelled tickets since the cut-off and flags the quick re-routes.
pub async fn collect_training(
    client: &Client,
    opts: &TrainingOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<TrainingSet, CollectError> {
    let start_requests = client.stats().requests;
    progress(Progress::Stage { name: "picklists", total: 1 });
    let queue_pl = client.picklist("Tickets", "queueID").await.map_err(at("ticket picklists"))?;
    let label_pls: Vec<Picklist> = {
        let mut v = vec![];
        for f in opts.label.fields() {
            v.push(client.picklist("Tickets", f).await.map_err(at("ticket picklists"))?);
        }
        v
    };
    let queues: Vec<(i64, String, bool)> =
        queue_pl.values.iter().filter_map(|p| Some((p.value.parse().ok()?, p.label.clone(), p.is_active))).collect();
    let since_filter = Filter::gte("createDate", opts.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let expected =
        client.count_path("Tickets", &Query::new().filter(since_filter.clone())).await.map_err(at("ticket count"))?;
    progress(Progress::Advance { done: 1 });

    progress(Progress::Stage { name: "tickets", total: expected });
    let mut fields: Vec<&str> =
        vec!["id", "ticketNumber", "title", "description", "createDate", "status", "completedDate", "queueID"];
    fields.extend(opts.label.fields().iter().filter(|f| **f != "queueID"));
    let q = Query::new().filter(since_filter).include(fields);
    let mut stream = Box::pin(client.stream_values("Tickets", q));
    let routing_closed = opts.now - Duration::hours(1);
    let mut set = TrainingSet { label: Some(opts.label), ..Default::default() };
    let mut rows: Vec<(TicketRow, String, Label)> = vec![];
    while let Some(v) = stream.try_next().await.map_err(at("tickets"))? {
        set.tickets_read += 1;
        if set.tickets_read % 500 == 0 {
            progress(Progress::Advance { done: set.tickets_read as u64 });
        }
        let Some(t) = TicketRow::from_json(&v) else { continue };
        if t.created > routing_closed {
            set.too_recent += 1;
            continue;
        }
        let label = opts.label.fields().iter().zip(&label_pls).find_map(|(f, pl)| {
            let value = int(&v, f)?;
            let active = pl.values.iter().find(|p| p.value == value.to_string()).is_none_or(|p| p.is_active);
            let label = if opts.label == LabelKind::Category {
                pl.label_of(value).map(|l| l.trim().to_string()).filter(|l| !l.is_empty())?
            } else {
                picklist_label(pl, value)
            };
            Some(Label { text: label, active, field: f })
        });
        let Some(label) = label else {
            set.unlabelled += 1;
            continue;
        };
        let text = TicketRow::text_of(&v, opts.text_chars);
        rows.push((t, text, label));
    }
    progress(Progress::Advance { done: set.tickets_read as u64 });
    rows.sort_by_key(|(t, _, _)| t.id);
    rows.dedup_by_key(|(t, _, _)| t.id);

    let mut pick = BoundedSample::new(opts.history_limit);
    for (t, _, _) in &rows {
        pick.offer(t.id);
    }
    let sample = pick.into_ids();
    progress(Progress::Stage { name: "ticket history", total: sample.len() as u64 });
    let history = read_history(client, &sample, opts.concurrency, progress).await?;
    set.history_checked = history.len();

    let qlabel =
        |q: i64| queues.iter().find(|(v, _, _)| *v == q).map(|(_, l, _)| l.clone()).unwrap_or_else(|| q.to_string());
    let complete = complete_statuses(client).await?;
    let flags = QueueFlags::judge(&rows.iter().map(|(t, _, _)| t).collect::<Vec<_>>(), &history, &queues, &complete);
    let mut left = vec![];
    for (t, text, label) in rows {
        if let Some(why) = flags.why_left_out(&t, label.active, label.field, &complete) {
            left.push((label.text, why));
            continue;
        }
        let label = label.text;
        let early = history.get(&t.id).map(|h| ticket_routing(&t, h, &queues).early_moves).unwrap_or_default();
        let rerouted = !early.is_empty();
        if let (Some((first, _)), Some((last, _))) = (early.first(), early.last()) {
            set.reroutes.push(ReroutedTicket {
                id: t.id,
                number: t.number.clone().unwrap_or_else(|| t.id.to_string()),
                title: t.title.clone(),
                from: qlabel(first.from),
                to: qlabel(last.to),
            });
        }
        set.ids.push(t.id);
        set.texts.push(text);
        set.labels.push(label);
        set.rerouted.push(rerouted);
    }
    set.left_out = tally(left);
    set.api_requests = client.stats().requests - start_requests;
    Ok(set)
}

/// A ticket's label, whether its picklist value is active, and its field.
struct Label {
    text: String,
    active: bool,
    field: &'static str,
}

/// Status values meaning complete ([`crate::collect::complete_values`]).
async fn complete_statuses(client: &Client) -> Result<Vec<i64>, CollectError> {
    let pl = client.picklist("Tickets", "status").await.map_err(at("ticket picklists"))?;
    Ok(crate::collect::complete_values(&pl.values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_kinds_parse() {
        assert_eq!("queue".parse::<LabelKind>().unwrap(), LabelKind::Queue);
        assert_eq!("Sub-Issue-Type".parse::<LabelKind>().unwrap(), LabelKind::SubIssueType);
        let e = "queues".parse::<LabelKind>().unwrap_err();
        assert!(e.contains("queue, priority, issue-type, sub-issue-type or category"), "{e}");
    }

    #[test]
    fn policies_drop_weigh_or_keep() {
        let set = TrainingSet {
            ids: vec![1, 2, 3],
            texts: vec!["a".into(), "b".into(), "c".into()],
            labels: vec!["x".into(), "y".into(), "x".into()],
            rerouted: vec![false, true, false],
            ..Default::default()
        };
        let (t, _, w) = set.apply(ReroutePolicy::Drop);
        assert_eq!((t.len(), w), (2, None));
        let (t, _, w) = set.apply(ReroutePolicy::Downweight(0.25));
        assert_eq!((t.len(), w), (3, Some(vec![1.0, 0.25, 1.0])));
        let (t, _, w) = set.apply(ReroutePolicy::Keep);
        assert_eq!((t.len(), w), (3, None));
    }

    #[test]
    fn picklist_labels_keep_the_value() {
        let pl = Picklist {
            values: vec![atpilot_autotask::entities::PicklistValue {
                value: "7".into(),
                label: "Service Desk".into(),
                is_active: true,
                ..Default::default()
            }],
        };
        assert_eq!(picklist_label(&pl, 7), "Service Desk (7)");
        assert_eq!(picklist_label(&pl, 8), "8");
    }
}
