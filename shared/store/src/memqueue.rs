//! The in-process queue: SQS FIFO semantics without AWS. At-least-once,
//! one in-flight message per group (strict order), de-duplication window,
//! visibility timeout, redrive to a dead-letter list after `max_receives`.

use crate::queue::*;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Settings of an in-process queue (the same knobs as an SQS FIFO queue).
#[derive(Debug, Clone)]
pub struct MemQueueConfig {
    pub visibility_timeout: Duration,
    /// Receives after which a message moves to the dead-letter list.
    pub max_receives: u32,
    pub dedup_window: Duration,
}

impl Default for MemQueueConfig {
    fn default() -> Self {
        Self { visibility_timeout: Duration::from_secs(30), max_receives: 5, dedup_window: Duration::from_secs(300) }
    }
}

#[derive(Debug, Clone)]
struct Msg {
    id: String,
    group: String,
    body: String,
    receive_count: u32,
    visible_at: Instant,
    receipt: Option<String>,
}

#[derive(Default)]
struct Inner {
    messages: Vec<Msg>,
    dead: Vec<Msg>,
    dedup: HashMap<String, Instant>,
    seq: u64,
}

/// An in-process [`Queue`].
#[derive(Clone)]
pub struct MemQueue {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
    config: MemQueueConfig,
}

impl MemQueue {
    pub fn new(config: MemQueueConfig) -> Self {
        Self { inner: Arc::default(), notify: Arc::new(Notify::new()), config }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the queue inconsistent
        // (every mutation is a single step), so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Messages waiting or in flight (not dead).
    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn try_receive(&self, max: usize) -> Vec<Delivery> {
        let now = Instant::now();
        let mut inner = self.lock();
        let inner = &mut *inner;
        // Redrive: a visible message that has used all its receives goes to the DLQ.
        let max_receives = self.config.max_receives;
        let (dead, live): (Vec<Msg>, Vec<Msg>) = std::mem::take(&mut inner.messages)
            .into_iter()
            .partition(|m| m.visible_at <= now && m.receive_count >= max_receives);
        inner.messages = live;
        for mut m in dead {
            m.receipt = None;
            inner.dead.push(m);
        }
        let mut busy_groups: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for m in inner.messages.iter_mut() {
            if out.len() >= max {
                break;
            }
            if busy_groups.contains(&m.group) {
                continue;
            }
            // The first message of each group blocks the group until it is done.
            busy_groups.push(m.group.clone());
            if m.visible_at > now {
                continue;
            }
            inner.seq += 1;
            let receipt = format!("{}-{}", m.id, inner.seq);
            m.receive_count += 1;
            m.visible_at = now + self.config.visibility_timeout;
            m.receipt = Some(receipt.clone());
            out.push(Delivery {
                message_id: m.id.clone(),
                receipt,
                group_id: m.group.clone(),
                body: m.body.clone(),
                receive_count: m.receive_count,
            });
        }
        out
    }
}

fn check(message: &OutMessage) -> Result<(), QueueError> {
    let bad = |what: &str, v: &str| {
        v.is_empty() || v.len() > 128 || !v.chars().all(|c| c.is_ascii_graphic()) || what.is_empty()
    };
    if bad("group", &message.group_id) {
        return Err(QueueError::InvalidMessage(format!(
            "group id {:?} must be 1 to 128 printable ASCII characters",
            message.group_id
        )));
    }
    if bad("dedup", &message.dedup_id) {
        return Err(QueueError::InvalidMessage(format!(
            "de-duplication id {:?} must be 1 to 128 printable ASCII characters",
            message.dedup_id
        )));
    }
    if message.body.is_empty() || message.body.len() > 256 * 1024 {
        return Err(QueueError::InvalidMessage(format!(
            "body must be 1 byte to 256 KiB, got {} bytes",
            message.body.len()
        )));
    }
    Ok(())
}

#[async_trait]
impl Queue for MemQueue {
    async fn send(&self, message: OutMessage) -> Result<(), QueueError> {
        check(&message)?;
        let now = Instant::now();
        {
            let mut inner = self.lock();
            let window = self.config.dedup_window;
            inner.dedup.retain(|_, at| now.duration_since(*at) < window);
            if inner.dedup.contains_key(&message.dedup_id) {
                return Ok(());
            }
            inner.dedup.insert(message.dedup_id.clone(), now);
            inner.seq += 1;
            let id = format!("m{}", inner.seq);
            inner.messages.push(Msg {
                id,
                group: message.group_id,
                body: message.body,
                receive_count: 0,
                visible_at: now,
                receipt: None,
            });
        }
        self.notify.notify_waiters();
        Ok(())
    }

    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        if !(1..=10).contains(&max) {
            return Err(QueueError::InvalidMessage(format!("receive takes 1 to 10 messages, asked for {max}")));
        }
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.notify.notified();
            let got = self.try_receive(max as usize);
            if !got.is_empty() || Instant::now() >= deadline {
                return Ok(got);
            }
            // Wake on a send, or re-check soon for visibility timeouts.
            let _ = tokio::time::timeout(Duration::from_millis(50).min(deadline - Instant::now()), notified).await;
        }
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        let mut inner = self.lock();
        let before = inner.messages.len();
        inner.messages.retain(|m| m.receipt.as_deref() != Some(receipt));
        if inner.messages.len() == before {
            return Err(QueueError::UnknownReceipt(receipt.to_string()));
        }
        Ok(())
    }

    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        {
            let mut inner = self.lock();
            let m = inner
                .messages
                .iter_mut()
                .find(|m| m.receipt.as_deref() == Some(receipt))
                .ok_or_else(|| QueueError::UnknownReceipt(receipt.to_string()))?;
            m.visible_at = Instant::now() + delay;
        }
        self.notify.notify_waiters();
        Ok(())
    }

    async fn dead_letters(&self, max: u32) -> Result<Vec<Delivery>, QueueError> {
        let inner = self.lock();
        Ok(inner
            .dead
            .iter()
            .take(max as usize)
            .map(|m| Delivery {
                message_id: m.id.clone(),
                receipt: String::new(),
                group_id: m.group.clone(),
                body: m.body.clone(),
                receive_count: m.receive_count,
            })
            .collect())
    }
}
