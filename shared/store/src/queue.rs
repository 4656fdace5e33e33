//! The queue port: at-least-once delivery, FIFO per message group, content
//! de-duplication, redelivery after a visibility timeout, and redrive to a
//! dead-letter queue after a number of receives. SQS FIFO in AWS; an
//! in-process queue with the same semantics locally.

use async_trait::async_trait;
use std::future::Future;
use std::time::Duration;

/// A message to send. Messages of one group (one ticket) are delivered in
/// order, one at a time; two sends with the same `dedup_id` within the
/// de-duplication window (5 minutes) deliver once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub group_id: String,
    pub dedup_id: String,
    pub body: String,
}

impl OutMessage {
    /// A message de-duplicated on its content (SHA-256 of the body), as SQS's
    /// `ContentBasedDeduplication` does.
    pub fn content_deduplicated(group_id: impl Into<String>, body: impl Into<String>) -> Self {
        use sha2::{Digest, Sha256};
        let body = body.into();
        let digest = Sha256::digest(body.as_bytes());
        let dedup_id = digest.iter().map(|b| format!("{b:02x}")).collect();
        Self { group_id: group_id.into(), dedup_id, body }
    }
}

/// A received message. Acknowledge it when done, or release it to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: String,
    /// Opaque handle for [`Queue::ack`] / [`Queue::release`]; new on each receive.
    pub receipt: String,
    pub group_id: String,
    pub body: String,
    /// 1 on the first delivery.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("queue refused the request: {0}")]
    Rejected(String),
    #[error("message is invalid for this queue: {0}")]
    InvalidMessage(String),
    #[error("receipt {0:?} is unknown or expired (the message may have been redelivered)")]
    UnknownReceipt(String),
}

/// The queue port.
#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, message: OutMessage) -> Result<(), QueueError>;
    /// Up to `max` (1..=10) visible messages, waiting up to `wait` for the first.
    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError>;
    /// Done: delete the message.
    async fn ack(&self, receipt: &str) -> Result<(), QueueError>;
    /// Failed: make the message visible again after `delay`.
    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError>;
    /// Up to `max` messages from the dead-letter queue (they stay there, invisible for a moment).
    async fn dead_letters(&self, max: u32) -> Result<Vec<Delivery>, QueueError>;
}

/// The outcome of one batch: which messages succeeded and which failed
/// (the SQS partial-batch-failure response lists the failed message ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub succeeded: Vec<String>,
    pub failed: Vec<String>,
}

/// Receives one batch and runs `handler` on each message: successes are
/// acknowledged; failures are released for redelivery (and reach the
/// dead-letter queue after the redrive limit). Within a group, once a message
/// fails the later ones of that group are released unprocessed, preserving
/// FIFO order, as Lambda does for FIFO sources.
pub async fn consume_batch<F, Fut, E>(
    queue: &dyn Queue,
    max: u32,
    wait: Duration,
    retry_delay: Duration,
    mut handler: F,
) -> Result<BatchReport, QueueError>
where
    F: FnMut(Delivery) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let batch = queue.receive(max, wait).await?;
    let mut report = BatchReport::default();
    let mut failed_groups: Vec<String> = Vec::new();
    for d in batch {
        let (id, receipt, group) = (d.message_id.clone(), d.receipt.clone(), d.group_id.clone());
        if failed_groups.contains(&group) {
            queue.release(&receipt, retry_delay).await?;
            report.failed.push(id);
            continue;
        }
        match handler(d).await {
            Ok(()) => {
                queue.ack(&receipt).await?;
                report.succeeded.push(id);
            }
            Err(e) => {
                tracing::warn!(message_id = %id, error = %e, "message failed; it will be redelivered");
                queue.release(&receipt, retry_delay).await?;
                failed_groups.push(group);
                report.failed.push(id);
            }
        }
    }
    Ok(report)
}
