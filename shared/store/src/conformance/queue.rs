//! The queue checks: every adapter of [`Queue`](crate::Queue) must pass each
//! of them; `queue_conformance_tests!` calls them by name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::queue::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The settings every conformance queue is created with.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub visibility: Duration,
    pub max_receives: u32,
}

impl Default for QueueSpec {
    fn default() -> Self {
        Self { visibility: Duration::from_secs(1), max_receives: 2 }
    }
}

const WAIT: Duration = Duration::from_secs(1);

fn msg(group: &str, body: &str) -> OutMessage {
    OutMessage::content_deduplicated(group, body)
}

/// Receives until `n` messages arrived or `tries` receives came back empty.
async fn drain(q: &dyn Queue, n: usize, ack: bool) -> Vec<Delivery> {
    let mut got = Vec::new();
    let mut empty = 0;
    while got.len() < n && empty < 4 {
        let batch = q.receive(10, WAIT).await.unwrap();
        if batch.is_empty() {
            empty += 1;
        }
        for d in batch {
            if ack {
                q.ack(&d.receipt).await.unwrap();
            }
            got.push(d);
        }
    }
    got
}

pub async fn duplicates_are_delivered_once(q: Arc<dyn Queue>) {
    for b in ["a", "a", "b"] {
        q.send(msg(&format!("g-{b}"), b)).await.unwrap();
    }
    let got = drain(q.as_ref(), 3, true).await;
    let mut bodies: Vec<_> = got.iter().map(|d| d.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies, ["a", "b"]);
}

pub async fn groups_are_delivered_in_order_one_at_a_time(q: Arc<dyn Queue>) {
    q.send(msg("ticket-1", "1-first")).await.unwrap();
    q.send(msg("ticket-1", "1-second")).await.unwrap();
    let first = q.receive(1, WAIT).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].body, "1-first");
    assert_eq!(first[0].group_id, "ticket-1");
    q.send(msg("ticket-2", "2-first")).await.unwrap();
    // While ticket-1's first message is in flight, its second must wait.
    let during = q.receive(10, WAIT).await.unwrap();
    assert!(
        during.iter().all(|d| d.group_id != "ticket-1"),
        "a group's next message was delivered while the previous one was in flight: {during:?}"
    );
    for d in &during {
        q.ack(&d.receipt).await.unwrap();
    }
    q.ack(&first[0].receipt).await.unwrap();
    let rest = drain(q.as_ref(), 1, true).await;
    assert_eq!(rest.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(), ["1-second"]);
}

pub async fn unacknowledged_messages_come_back(q: Arc<dyn Queue>) {
    q.send(msg("g", "lost-worker")).await.unwrap();
    let first = q.receive(1, WAIT).await.unwrap();
    assert_eq!(first[0].receive_count, 1);
    // Not acknowledged: after the visibility timeout it is delivered again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = drain(q.as_ref(), 1, true).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].body, "lost-worker");
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].receive_count, 2);
}

pub async fn released_messages_come_back_with_a_count(q: Arc<dyn Queue>) {
    q.send(msg("g", "retry-me")).await.unwrap();
    let d = q.receive(1, WAIT).await.unwrap().remove(0);
    q.release(&d.receipt, Duration::ZERO).await.unwrap();
    let d2 = drain(q.as_ref(), 1, true).await.remove(0);
    assert_eq!(d2.message_id, d.message_id);
    assert_eq!(d2.receive_count, 2);
    assert!(drain(q.as_ref(), 1, true).await.is_empty(), "an acknowledged message must not come back");
}

pub async fn poison_messages_go_to_the_dead_letter_queue(q: Arc<dyn Queue>) {
    q.send(msg("g", "poison")).await.unwrap();
    for _ in 0..2 {
        let d = drain(q.as_ref(), 1, false).await.remove(0);
        q.release(&d.receipt, Duration::ZERO).await.unwrap();
    }
    // The third receive finds it gone to the DLQ.
    assert!(q.receive(10, WAIT).await.unwrap().is_empty());
    let dead = q.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
}

pub async fn partial_batch_failure_retries_only_failures(q: Arc<dyn Queue>) {
    for t in ["ok-1", "bad", "ok-2"] {
        q.send(msg(t, t)).await.unwrap();
    }
    let calls = AtomicU32::new(0);
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    let mut empty = 0;
    while succeeded.len() + failed.len() < 3 && empty < 4 {
        let report = consume_batch(q.as_ref(), 10, WAIT, Duration::ZERO, |d| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { if d.body == "bad" { Err(format!("cannot handle {}", d.body)) } else { Ok(()) } }
        })
        .await
        .unwrap();
        if report.succeeded.is_empty() && report.failed.is_empty() {
            empty += 1;
        }
        succeeded.extend(report.succeeded);
        failed.extend(report.failed);
    }
    assert_eq!(succeeded.len(), 2);
    assert_eq!(failed.len(), 1);
    // Only the failure comes back.
    let back = drain(q.as_ref(), 1, true).await;
    assert_eq!(back.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(), ["bad"]);
    assert_eq!(back[0].receive_count, 2);
}

pub async fn invalid_messages_are_refused(q: Arc<dyn Queue>) {
    let empty = OutMessage { group_id: "g".into(), dedup_id: "d".into(), body: String::new() };
    assert!(q.send(empty).await.is_err());
    assert!(q.receive(0, WAIT).await.is_err());
    assert!(q.receive(11, WAIT).await.is_err());
}
