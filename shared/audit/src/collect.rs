//! The thin I/O part: reads what the audit needs through the API budget.
//!
//! Requests, in order (N = tickets since the cut-off, H = history sample):
//! 1. `Tickets/entityInformation/fields` (queues, statuses, issue types) and
//!    `Tickets/entityInformation/userDefinedFields`: 2.
//! 2. `Tickets/query/count`: 1.
//! 3. The tickets themselves, IncludeFields only: ⌈N/500⌉.
//! 4. Contract types of the model sample's contracts: 1 + ⌈contracts/500⌉.
//! 5. TicketHistory of H sampled tickets: H (it only takes one `ticketID eq` filter).
//! 6. Notes and SLA results of the same H tickets: `ticketID in` batches, ≈ ⌈H·notes/500⌉ + ⌈H/500⌉.
//! 7. Names of the resources who re-routed: 1.

use crate::rows::{
    BoundedSample, Collected, HistoryRow, NoteRow, SampleInfo, SlaRow, TICKET_FIELDS, TicketRow, UdfStats,
};
use atpilot_autotask::{Client, Filter, Query};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub since: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// Tickets whose TicketHistory (one request each), notes and SLA results are read.
    pub history_sample: usize,
    /// Tickets whose text goes into the content-vs-contract comparison.
    pub model_sample: usize,
    /// Characters of the description kept for the model sample.
    pub text_chars: usize,
    /// Concurrent history requests (Autotask allows 3 per endpoint).
    pub concurrency: usize,
}

impl CollectOptions {
    pub fn new(since: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        Self { since, now, history_sample: 500, model_sample: 3000, text_chars: 600, concurrency: 3 }
    }
}

/// Progress of the collection, for a progress bar.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A new stage; `total` units expected (0 when unknown).
    Stage { name: &'static str, total: u64 },
    /// `done` units of the current stage.
    Advance { done: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("Autotask ({stage}): {source}")]
    Api {
        stage: &'static str,
        #[source]
        source: atpilot_autotask::Error,
    },
}

pub(crate) fn at(stage: &'static str) -> impl Fn(atpilot_autotask::Error) -> CollectError {
    move |source| CollectError::Api { stage, source }
}

fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Collects the rows of an audit.
/// Collects the rows of an audit.
pub async fn collect(
    client: &Client,
    opts: &CollectOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Collected, CollectError> {
    let start_requests = client.stats().requests;
    let mut stages: Vec<(String, u64)> = vec![];
    let mut mark = {
        let mut last = start_requests;
        move |name: &str, client: &Client, stages: &mut Vec<(String, u64)>| {
            let now = client.stats().requests;
            stages.push((name.to_string(), now - last));
            last = now;
        }
    };

    // 1. metadata
    let meta = read_metadata(client, opts, progress).await?;
    mark("metadata and count", client, &mut stages);

    // 2. tickets (bounded memory: rows are small; texts only for the model sample)
    let Read { tickets, udfs, history_pick, texts } = read_tickets(client, opts, &meta, progress).await?;
    mark("tickets", client, &mut stages);

    // 3. contract types of the model sample's contracts
    let (contract_types, contract_type_labels) = read_contract_types(client, &tickets, &texts, progress).await?;
    mark("contract types", client, &mut stages);

    // 4. TicketHistory of the sample, one request per ticket
    let sample = history_pick.into_ids();
    progress(Progress::Stage { name: "ticket history", total: sample.len() as u64 });
    let history = read_history(client, &sample, opts.concurrency, progress).await?;
    mark("ticket history", client, &mut stages);

    // 5. notes and SLA results of the sample, in `ticketID in` batches
    let (notes, sla_results) = read_notes_and_sla(client, &sample, progress).await?;
    mark("notes and SLA results", client, &mut stages);

    // 6. who re-routes: names of the resources in queue-change rows
    let resources = read_mover_names(client, &history).await;
    mark("resource names", client, &mut stages);

    let sample_info = SampleInfo {
        history_tickets: history.len(),
        model_tickets: texts.len(),
        history_limit: opts.history_sample,
        model_limit: opts.model_sample,
    };
    Ok(Collected {
        since: opts.since,
        now: opts.now,
        queues: meta.queues,
        issue_types: meta.issue_types,
        complete_statuses: meta.complete_statuses,
        tickets,
        texts,
        history,
        notes,
        sla_results,
        contract_types,
        contract_type_labels,
        resources,
        udfs,
        sample: sample_info,
        api_requests: client.stats().requests - start_requests,
        requests_by_stage: stages,
    })
}

/// What the ticket fields, UDF definitions and the count say.
struct Metadata {
    queues: Vec<(i64, String, bool)>,
    issue_types: BTreeMap<i64, String>,
    complete_statuses: Vec<i64>,
    udf_names: Vec<String>,
    since_filter: Filter,
    expected: u64,
}

/// Step 1: picklists of the ticket fields, UDF definitions, and how many tickets to expect.
async fn read_metadata(
    client: &Client,
    opts: &CollectOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Metadata, CollectError> {
    progress(Progress::Stage { name: "metadata", total: 3 });
    let fields = client.fields("Tickets").await.map_err(at("ticket fields"))?;
    let pick = |name: &str| {
        fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)).map(|f| f.picklist_values.clone()).unwrap_or_default()
    };
    let queues: Vec<(i64, String, bool)> =
        pick("queueID").into_iter().filter_map(|p| Some((p.value.parse().ok()?, p.label, p.is_active))).collect();
    let issue_types: BTreeMap<i64, String> =
        pick("issueType").into_iter().filter_map(|p| Some((p.value.parse().ok()?, p.label))).collect();
    let complete_statuses = complete_values(&pick("status"));
    progress(Progress::Advance { done: 1 });
    let udf_defs = client.udf_definitions("Tickets").await.map_err(at("ticket UDF definitions"))?;
    progress(Progress::Advance { done: 2 });
    let since_filter = Filter::gte("createDate", ts(opts.since));
    let expected =
        client.count_path("Tickets", &Query::new().filter(since_filter.clone())).await.map_err(at("ticket count"))?;
    progress(Progress::Advance { done: 3 });
    Ok(Metadata {
        queues,
        issue_types,
        complete_statuses,
        udf_names: udf_defs.iter().map(|f| f.name.clone()).collect(),
        since_filter,
        expected,
    })
}

/// The tickets read, with the UDF fill counts, the history sample and the model sample's texts.
struct Read {
    tickets: Vec<TicketRow>,
    udfs: UdfStats,
    history_pick: BoundedSample,
    texts: BTreeMap<i64, String>,
}

/// Step 2: the tickets since the cut-off, IncludeFields only.
async fn read_tickets(
    client: &Client,
    opts: &CollectOptions,
    meta: &Metadata,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Read, CollectError> {
    progress(Progress::Stage { name: "tickets", total: meta.expected });
    let q = Query::new().filter(meta.since_filter.clone()).include(TICKET_FIELDS.iter().copied());
    let mut stream = Box::pin(client.stream_values("Tickets", q));
    let mut tickets = vec![];
    let mut udfs = UdfStats { defined: meta.udf_names.clone(), ..Default::default() };
    let mut history_pick = BoundedSample::new(opts.history_sample);
    let mut model_pick = BoundedSample::new(opts.model_sample);
    let mut texts: BTreeMap<i64, String> = BTreeMap::new();
    while let Some(v) = stream.try_next().await.map_err(at("tickets"))? {
        udfs.observe(&v);
        let Some(t) = TicketRow::from_json(&v) else { continue };
        history_pick.offer(t.id);
        if t.queue.is_some() {
            let out = model_pick.offer(t.id);
            if out != Some(t.id) {
                texts.insert(t.id, TicketRow::text_of(&v, opts.text_chars));
            }
            if let Some(o) = out {
                texts.remove(&o);
            }
        }
        tickets.push(t);
        if tickets.len() % 500 == 0 {
            progress(Progress::Advance { done: tickets.len() as u64 });
        }
    }
    progress(Progress::Advance { done: tickets.len() as u64 });
    Ok(Read { tickets, udfs, history_pick, texts })
}

/// Step 3: the contract types of the model sample's contracts (and their labels).
async fn read_contract_types(
    client: &Client,
    tickets: &[TicketRow],
    texts: &BTreeMap<i64, String>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(BTreeMap<i64, i64>, BTreeMap<i64, String>), CollectError> {
    let by_id: BTreeMap<i64, &TicketRow> = tickets.iter().map(|t| (t.id, t)).collect();
    let contract_ids: BTreeSet<i64> = texts.keys().filter_map(|id| by_id.get(id).and_then(|t| t.contract)).collect();
    let mut contract_types = BTreeMap::new();
    let mut contract_type_labels = BTreeMap::new();
    if !contract_ids.is_empty() {
        progress(Progress::Stage { name: "contracts", total: contract_ids.len() as u64 });
        if let Ok(pl) = client.picklist("Contracts", "contractType").await {
            contract_type_labels =
                pl.values.into_iter().filter_map(|p| Some((p.value.parse::<i64>().ok()?, p.label))).collect();
        }
        let q = Query::new().filter(Filter::is_in("id", contract_ids.iter().copied())).include(["id", "contractType"]);
        let rows: Vec<Value> = client.stream_values("Contracts", q).try_collect().await.map_err(at("contracts"))?;
        for r in rows {
            if let (Some(id), Some(ty)) =
                (r.get("id").and_then(Value::as_i64), r.get("contractType").and_then(Value::as_i64))
            {
                contract_types.insert(id, ty);
            }
        }
        progress(Progress::Advance { done: contract_ids.len() as u64 });
    }
    Ok((contract_types, contract_type_labels))
}

/// Step 5: notes and SLA results of the history sample, in `ticketID in` batches.
async fn read_notes_and_sla(
    client: &Client,
    sample: &[i64],
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(Vec<NoteRow>, Vec<SlaRow>), CollectError> {
    progress(Progress::Stage { name: "notes and SLA results", total: 2 });
    let mut notes = vec![];
    let mut sla_results = vec![];
    if !sample.is_empty() {
        let q = Query::new().filter(Filter::is_in("ticketID", sample.iter().copied())).include([
            "id",
            "ticketID",
            "createDateTime",
            "creatorResourceID",
        ]);
        let rows: Vec<Value> =
            client.stream_values("TicketNotes", q).try_collect().await.map_err(at("ticket notes"))?;
        notes = rows.iter().filter_map(NoteRow::from_json).collect();
        progress(Progress::Advance { done: 1 });
        let q = Query::new().filter(Filter::is_in("ticketID", sample.iter().copied())).include([
            "id",
            "ticketID",
            "isFirstResponseMet",
            "isResolutionMet",
        ]);
        let rows: Vec<Value> =
            client.stream_values("ServiceLevelAgreementResults", q).try_collect().await.map_err(at("SLA results"))?;
        sla_results = rows.iter().filter_map(SlaRow::from_json).collect();
        progress(Progress::Advance { done: 2 });
    }
    Ok((notes, sla_results))
}

/// The status values that mean complete: those labelled Complete or
/// Completed, else 5 (Autotask's system value for Complete).
pub(crate) fn complete_values(status: &[atpilot_autotask::entities::PicklistValue]) -> Vec<i64> {
    let v: Vec<i64> = status
        .iter()
        .filter(|p| p.label.eq_ignore_ascii_case("complete") || p.label.eq_ignore_ascii_case("completed"))
        .filter_map(|p| p.value.parse().ok())
        .collect();
    if v.is_empty() { vec![5] } else { v }
}

/// Step 6: names of the resources who moved tickets between queues (best effort).
async fn read_mover_names(client: &Client, history: &BTreeMap<i64, Vec<HistoryRow>>) -> BTreeMap<i64, String> {
    let movers: BTreeSet<i64> = history
        .values()
        .flatten()
        .filter(|h| h.detail.to_lowercase().contains("queue"))
        .filter_map(|h| h.resource)
        .collect();
    let mut resources = BTreeMap::new();
    if !movers.is_empty() {
        let q =
            Query::new().filter(Filter::is_in("id", movers.iter().copied())).include(["id", "firstName", "lastName"]);
        if let Ok(rows) = client.stream_values("Resources", q).try_collect::<Vec<Value>>().await {
            for r in rows {
                let name = format!(
                    "{} {}",
                    r.get("firstName").and_then(Value::as_str).unwrap_or(""),
                    r.get("lastName").and_then(Value::as_str).unwrap_or("")
                )
                .trim()
                .to_string();
                if let Some(id) = r.get("id").and_then(Value::as_i64) {
                    resources.insert(id, name);
                }
            }
        }
    }
    resources
}

/// `ticketID eq` filter), `concurrency` at a time (Autotask allows 3 per
/// endpoint), reporting `Advance` as tickets complete.
pub async fn read_history(
    client: &Client,
    ids: &[i64],
    concurrency: usize,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<BTreeMap<i64, Vec<HistoryRow>>, CollectError> {
    let mut history: BTreeMap<i64, Vec<HistoryRow>> = BTreeMap::new();
    let mut s = futures::stream::iter(ids.iter().copied())
        .map(|id| {
            let client = client.clone();
            async move {
                let q = Query::new().filter(Filter::eq("ticketID", id));
                let rows: Vec<Value> = client.stream_values("TicketHistory", q).try_collect().await?;
                Ok::<_, atpilot_autotask::Error>((
                    id,
                    rows.iter().filter_map(HistoryRow::from_json).collect::<Vec<_>>(),
                ))
            }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(r) = s.next().await {
        let (id, rows) = r.map_err(at("ticket history"))?;
        history.insert(id, rows);
        progress(Progress::Advance { done: history.len() as u64 });
    }
    Ok(history)
}

/// Parses `90d`, `12w`, `48h`, or a date (`2024-01-31`) / RFC 3339 time into a cut-off.
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Some(d) = atpilot_autotask::entities::parse_datetime(s) {
        return Ok(d);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap().and_utc());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("--since {s:?}: use a period like 90d, 12w or 48h, or a date like 2024-01-31"))?;
    let d = match unit {
        "d" | "" => chrono::Duration::days(n),
        "w" => chrono::Duration::weeks(n),
        "h" => chrono::Duration::hours(n),
        _ => return Err(format!("--since {s:?}: the unit must be d (days), w (weeks) or h (hours)")),
    };
    Ok(now - d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_forms() {
        let now: DateTime<Utc> = "2024-06-01T00:00:00Z".parse().unwrap();
        assert_eq!(parse_since("90d", now).unwrap(), now - chrono::Duration::days(90));
        assert_eq!(parse_since("2w", now).unwrap(), now - chrono::Duration::days(14));
        assert_eq!(parse_since("2024-01-31", now).unwrap().to_rfc3339(), "2024-01-31T00:00:00+00:00");
        assert!(parse_since("90x", now).is_err());
        assert!(parse_since("soon", now).is_err());
    }
}
