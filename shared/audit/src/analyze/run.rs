//! Running the audit: tickets by queue, the history sample (initial queues,
//! moves, re-routes), notes and SLA results, content vs contract routing, then
//! each queue's findings and the recommendations.

use super::history::{first_touch, is_open, ticket_routing};
use super::recommend::{recommendations, udf_audit};
use super::stats::{hours, median, pct, share};
use super::{Audit, AuditConfig, QueueAudit, Reroute};
use crate::routing::{self, RoutingExample, RoutingResult, RoutingSignal};
use crate::rows::{Collected, TicketRow};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Runs the audit over collected rows.
pub fn audit(c: &Collected, cfg: &AuditConfig) -> Audit {
    let now = c.now;

    // --- tickets by current queue ---
    let mut by_queue: BTreeMap<i64, Vec<&TicketRow>> = BTreeMap::new();
    for t in &c.tickets {
        by_queue.entry(t.queue.unwrap_or(0)).or_default().push(t);
    }
    let tickets_by_id: BTreeMap<i64, &TicketRow> = c.tickets.iter().map(|t| (t.id, t)).collect();

    // --- history sample: initial queues, moves ---
    let hs = history_sample(c, &tickets_by_id);
    // --- notes and SLA results of the sample ---
    let (note_authors, sla_fr) = notes_and_sla(c, &tickets_by_id);
    // --- content vs contract routing ---
    let routing_result = content_vs_contract(c, &tickets_by_id, cfg);

    // --- per queue ---
    let mut queue_ids: Vec<i64> = c.queues.iter().map(|(v, _, _)| *v).collect();
    for q in by_queue.keys() {
        if !queue_ids.contains(q) {
            queue_ids.push(*q);
        }
    }
    let per = PerQueue {
        c,
        cfg,
        hs: &hs,
        tickets_by_id: &tickets_by_id,
        note_authors: &note_authors,
        sla_fr: &sla_fr,
        routing: &routing_result,
    };
    let mut issue_mix: BTreeMap<i64, BTreeMap<i64, usize>> = BTreeMap::new();
    let mut queues = vec![];
    for q in queue_ids {
        let ts: &[&TicketRow] = by_queue.get(&q).map(Vec::as_slice).unwrap_or(&[]);
        let (qa, mix) = per.queue(q, ts);
        issue_mix.insert(q, mix);
        queues.push(qa);
    }
    // Busiest first; empty queues last, in picklist order.
    queues.sort_by_key(|q| std::cmp::Reverse(q.tickets));

    let udfs = udf_audit(c, cfg);
    let mut a = Audit {
        since: c.since,
        now,
        tickets: c.tickets.len(),
        api_requests: c.api_requests,
        queues,
        reroutes: hs.reroutes,
        udfs,
        recommendations: vec![],
        sample: c.sample.clone(),
        rerouted_within_1h: (hs.rerouted, hs.sampled),
        history_rows_unread: hs.unread,
        routing: routing_result,
        resources: c.resources.clone(),
        requests_by_stage: c.requests_by_stage.clone(),
        config: cfg.clone(),
    };
    a.recommendations = recommendations(&a, &issue_mix);
    a
}

/// What the history sample says: by initial queue, how many tickets started
/// there, were moved within an hour, were moved at all; and the re-routes.
struct HistorySample {
    started: BTreeMap<i64, usize>,
    started_moved_early: BTreeMap<i64, usize>,
    started_moved_ever: BTreeMap<i64, usize>,
    /// Moved out later than an hour after creation (escalated).
    started_moved_later: BTreeMap<i64, usize>,
    /// The sampled tickets that entered each queue first (its intake).
    intake: BTreeMap<i64, Vec<i64>>,
    reroutes: Vec<Reroute>,
    sampled: usize,
    rerouted: usize,
    /// History rows that speak of the queue but could not be read.
    unread: usize,
}

fn history_sample(c: &Collected, tickets_by_id: &BTreeMap<i64, &TicketRow>) -> HistorySample {
    let mut started: BTreeMap<i64, usize> = BTreeMap::new();
    let mut started_moved_early: BTreeMap<i64, usize> = BTreeMap::new();
    let mut started_moved_ever: BTreeMap<i64, usize> = BTreeMap::new();
    let mut pairs: BTreeMap<(i64, i64), Reroute> = BTreeMap::new();
    let mut started_moved_later: BTreeMap<i64, usize> = BTreeMap::new();
    let mut intake: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let (mut sampled, mut rerouted, mut unread) = (0usize, 0usize, 0usize);
    for (id, hist) in &c.history {
        let Some(t) = tickets_by_id.get(id) else { continue };
        sampled += 1;
        let r = ticket_routing(t, hist, &c.queues);
        unread += r.unread;
        let q0 = r.initial_queue.unwrap_or(0);
        *started.entry(q0).or_default() += 1;
        intake.entry(q0).or_default().push(*id);
        if r.moves > 0 {
            *started_moved_ever.entry(q0).or_default() += 1;
        }
        if !r.early_moves.is_empty() {
            rerouted += 1;
            *started_moved_early.entry(q0).or_default() += 1;
        } else if r.later_moves > 0 {
            *started_moved_later.entry(q0).or_default() += 1;
        }
        for (m, who) in &r.early_moves {
            let e = pairs.entry((m.from, m.to)).or_insert_with(|| Reroute {
                from_queue_id: m.from,
                to_queue_id: m.to,
                count: 0,
                examples: vec![],
                by: vec![],
            });
            e.count += 1;
            if e.examples.len() < 3 {
                e.examples.push((t.number.clone().unwrap_or_else(|| t.id.to_string()), t.title.clone()));
            }
            if let Some(w) = who {
                match e.by.iter_mut().find(|(r, _)| r == w) {
                    Some(x) => x.1 += 1,
                    None => e.by.push((*w, 1)),
                }
            }
        }
    }
    let mut reroutes: Vec<Reroute> = pairs.into_values().collect();
    for r in &mut reroutes {
        r.by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    reroutes.sort_by(|a, b| {
        b.count.cmp(&a.count).then((a.from_queue_id, a.to_queue_id).cmp(&(b.from_queue_id, b.to_queue_id)))
    });
    HistorySample {
        started,
        started_moved_early,
        started_moved_ever,
        started_moved_later,
        intake,
        reroutes,
        sampled,
        rerouted,
        unread,
    }
}

/// Note authors by queue, and (met, total) first-response SLA results by queue.
#[allow(clippy::type_complexity)]
fn notes_and_sla(
    c: &Collected,
    tickets_by_id: &BTreeMap<i64, &TicketRow>,
) -> (BTreeMap<i64, BTreeSet<i64>>, BTreeMap<i64, (usize, usize)>) {
    let mut note_authors: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for n in &c.notes {
        if let (Some(t), Some(r)) = (tickets_by_id.get(&n.ticket), n.resource) {
            note_authors.entry(t.queue.unwrap_or(0)).or_default().insert(r);
        }
    }
    let mut sla_fr: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for s in &c.sla_results {
        if let (Some(t), Some(met)) = (tickets_by_id.get(&s.ticket), s.first_response_met) {
            let e = sla_fr.entry(t.queue.unwrap_or(0)).or_default();
            e.1 += 1;
            if met {
                e.0 += 1;
            }
        }
    }
    (note_authors, sla_fr)
}

/// Content vs contract routing, cross-validated over the model sample.
fn content_vs_contract(c: &Collected, tickets_by_id: &BTreeMap<i64, &TicketRow>, cfg: &AuditConfig) -> RoutingResult {
    let examples: Vec<RoutingExample> = c
        .texts
        .iter()
        .filter_map(|(id, text)| {
            let t = tickets_by_id.get(id)?;
            Some(RoutingExample {
                id: *id,
                text: text.clone(),
                company: t.company,
                contract: t.contract,
                contract_type: t.contract.and_then(|k| c.contract_types.get(&k).copied()),
                queue: t.queue?,
            })
        })
        .collect();
    if examples.len() >= 2 * routing::MIN_SUPPORT {
        routing::compare(&examples, cfg.folds)
    } else {
        RoutingResult::default()
    }
}

/// What every queue's findings are read against.
struct PerQueue<'a> {
    c: &'a Collected,
    cfg: &'a AuditConfig,
    hs: &'a HistorySample,
    tickets_by_id: &'a BTreeMap<i64, &'a TicketRow>,
    note_authors: &'a BTreeMap<i64, BTreeSet<i64>>,
    sla_fr: &'a BTreeMap<i64, (usize, usize)>,
    routing: &'a RoutingResult,
}

/// Why a queue is flagged (or not): the signs, for the reasons.
struct Signs {
    touched_share: Option<f64>,
    actively_monitored: bool,
    recent_touched: usize,
    recent: usize,
    mixed: bool,
    types_over: usize,
    old_sign: bool,
    old_untouched: usize,
    moved_sign: bool,
    rerouted_share: Option<f64>,
    escalated_share: Option<f64>,
}

impl PerQueue<'_> {
    fn label_of(&self, q: i64) -> String {
        self.c
            .queues
            .iter()
            .find(|(v, _, _)| *v == q)
            .map(|(_, l, _)| l.clone())
            .unwrap_or_else(|| format!("Queue {q}"))
    }

    fn issue_label(&self, i: Option<i64>) -> String {
        match i {
            Some(i) => self.c.issue_types.get(&i).cloned().unwrap_or_else(|| format!("Issue type {i}")),
            None => "(no issue type)".to_string(),
        }
    }

    /// Issue types of `q`'s intake (known ones, by value) and how many had none.
    fn intake_mix(&self, q: i64, ts: &[&TicketRow]) -> (BTreeMap<i64, usize>, usize) {
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        let entered = self.hs.intake.get(&q).into_iter().flatten().filter_map(|id| self.tickets_by_id.get(id).copied());
        let (mut mix, mut unknown) = (BTreeMap::new(), 0usize);
        for t in ts.iter().copied().chain(entered) {
            if !seen.insert(t.id) {
                continue;
            }
            match t.issue_type {
                Some(i) => *mix.entry(i).or_default() += 1,
                None => unknown += 1,
            }
        }
        (mix, unknown)
    }

    /// Queue `q`'s findings over its tickets `ts`, and its issue-type mix.
    fn queue(&self, q: i64, ts: &[&TicketRow]) -> (QueueAudit, BTreeMap<i64, usize>) {
        let (c, cfg, now) = (self.c, self.cfg, self.c.now);
        let n = ts.len();
        let open: Vec<&&TicketRow> = ts.iter().filter(|t| is_open(t, &c.complete_statuses)).collect();
        let touches: Vec<Option<DateTime<Utc>>> = ts.iter().map(|t| first_touch(t)).collect();
        let first_touch_h: Vec<f64> =
            ts.iter().zip(&touches).filter_map(|(t, d)| d.map(|d| hours(d - t.created))).collect();
        let eligible: Vec<usize> = (0..n).filter(|i| now - ts[*i].created >= Duration::hours(24)).collect();
        let untouched_24h =
            eligible.iter().filter(|i| touches[**i].is_none_or(|d| d - ts[**i].created > Duration::hours(24))).count();
        let touched_eligible = eligible.iter().filter(|i| touches[**i].is_some()).count();
        let recent: Vec<&usize> = eligible.iter().filter(|i| now - ts[**i].created <= Duration::days(30)).collect();
        let recent_touched = recent.iter().filter(|i| touches[***i].is_some()).count();
        let touched_share = if eligible.is_empty() {
            share(touches.iter().filter(|d| d.is_some()).count(), n)
        } else {
            share(touched_eligible, eligible.len())
        };
        let recent_ok = recent.len() < 5 || recent_touched as f64 / recent.len() as f64 >= cfg.monitored_recent_share;
        let actively_monitored = n > 0 && touched_share.is_some_and(|s| s >= cfg.monitored_touched_share) && recent_ok;

        let open_ages: Vec<f64> = open.iter().map(|t| hours(now - t.created) / 24.0).collect();
        let old_untouched = ts
            .iter()
            .zip(&touches)
            .filter(|(t, d)| {
                d.is_none() && is_open(t, &c.complete_statuses) && now - t.created > Duration::days(cfg.old_days)
            })
            .count();

        // The queue is judged on its intake: the tickets in it now and the sampled
        // tickets that entered it first (moved on since); a missing issue type is unknown.
        let (mix, unknown) = self.intake_mix(q, ts);
        let known: usize = mix.values().sum();
        let mut issue_types: Vec<(String, usize)> = mix.iter().map(|(i, k)| (self.issue_label(Some(*i)), *k)).collect();
        issue_types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if unknown > 0 {
            issue_types.push((self.issue_label(None), unknown));
        }
        let top_issue_share = mix.values().max().and_then(|k| share(*k, known));
        let types_over = mix.values().filter(|k| **k as f64 >= cfg.mixed_type_share * known as f64).count();

        let s_here = *self.hs.started.get(&q).unwrap_or(&0);
        let moved_out_share = share(*self.hs.started_moved_ever.get(&q).unwrap_or(&0), s_here);
        let rerouted_share = share(*self.hs.started_moved_early.get(&q).unwrap_or(&0), s_here);
        let escalated_share = share(*self.hs.started_moved_later.get(&q).unwrap_or(&0), s_here);

        let sla_done: Vec<&&TicketRow> =
            ts.iter().filter(|t| t.sla.is_some() && !is_open(t, &c.complete_statuses)).collect();
        let sla_met = sla_done.iter().filter(|t| t.sla_met == Some(true)).count();

        let mixed = known >= cfg.min_tickets
            && top_issue_share.is_some_and(|s| s < cfg.mixed_top_share)
            && types_over >= cfg.mixed_min_types;
        let old_sign = n >= cfg.min_tickets && share(old_untouched, n).is_some_and(|s| s >= cfg.old_untouched_share);
        // Moved out by hand within the hour is routing noise; escalated hours or days later is normal work.
        let moved_sign = s_here >= 5 && rerouted_share.is_some_and(|s| s >= cfg.moved_out_share);
        let dumping_ground = mixed && (old_sign || moved_sign);

        let signs = Signs {
            touched_share,
            actively_monitored,
            recent_touched,
            recent: recent.len(),
            mixed,
            types_over,
            old_sign,
            old_untouched,
            moved_sign,
            rerouted_share,
            escalated_share,
        };
        let reasons = self.reasons(n, &signs);
        let qa = QueueAudit {
            queue_id: q,
            queue: self.label_of(q),
            active_in_picklist: c.queues.iter().find(|(v, _, _)| *v == q).is_none_or(|(_, _, a)| *a),
            tickets: n,
            open: open.len(),
            median_first_touch_hours: median(first_touch_h),
            untouched_24h_share: share(untouched_24h, eligible.len()),
            actively_monitored,
            dumping_ground,
            rerouted_within_1h_share: rerouted_share,
            sla_met_share: share(sla_met, sla_done.len()),
            routing_signal: self.routing.by_queue.get(&q).map(|r| r.signal).unwrap_or(RoutingSignal::Mixed),
            touched_share,
            median_open_age_days: median(open_ages.clone()),
            oldest_open_days: open_ages.iter().copied().reduce(f64::max),
            issue_types,
            top_issue_share,
            old_untouched_share: share(old_untouched, n),
            sampled_started_here: s_here,
            moved_out_share,
            sla_tickets: ts.iter().filter(|t| t.sla.is_some()).count(),
            sla_first_response_met_share: self.sla_fr.get(&q).and_then(|(m, k)| share(*m, *k)),
            routing: self.routing.by_queue.get(&q).copied(),
            note_authors: self.note_authors.get(&q).map_or(0, BTreeSet::len),
            reasons,
        };
        (qa, mix)
    }

    /// The reasons a queue is (or is not) worked and flagged, in plain words.
    fn reasons(&self, n: usize, s: &Signs) -> Vec<String> {
        let cfg = self.cfg;
        let mut reasons = vec![];
        if n == 0 {
            reasons.push(format!("no tickets since {}", self.c.since.format("%Y-%m-%d")));
        } else {
            match s.touched_share {
                Some(t) if s.actively_monitored => {
                    reasons.push(format!("{} of its tickets older than a day were touched", pct(t)))
                }
                Some(t) if t < cfg.monitored_touched_share => {
                    reasons.push(format!("only {} of its tickets older than a day were ever touched", pct(t)))
                }
                Some(t) => reasons.push(format!(
                    "{} of its tickets were touched, but only {} of the {} from the last 30 days",
                    pct(t),
                    s.recent_touched,
                    s.recent
                )),
                None => {}
            }
            if s.mixed {
                reasons.push(format!(
                    "{} unrelated issue types of at least {} each, none over {}",
                    s.types_over,
                    pct(cfg.mixed_type_share),
                    pct(cfg.mixed_top_share)
                ));
            }
            if s.old_sign {
                reasons.push(format!(
                    "{} open tickets older than {} days were never touched",
                    s.old_untouched, cfg.old_days
                ));
            }
            if s.moved_sign {
                reasons.push(format!(
                    "{} of the sampled tickets that enter it are moved out by hand within the hour (routing noise)",
                    pct(s.rerouted_share.unwrap_or(0.0))
                ));
            }
            if let Some(e) = s.escalated_share.filter(|e| *e > 0.0) {
                reasons.push(format!(
                    "{} are escalated to another queue hours or days later (normal for a first-line queue, not a dumping-ground sign)",
                    pct(e)
                ));
            }
        }
        reasons
    }
}
