//! The SQS FIFO queue adapter.

use crate::queue::*;
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use std::time::Duration;

/// An SQS FIFO queue and its dead-letter queue.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    url: String,
    dlq_url: Option<String>,
}

fn sdk_error<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(
    what: &str,
    e: SdkError<E, R>,
) -> QueueError {
    let text = format!("SQS {what}: {}", DisplayErrorContext(&e));
    match e {
        SdkError::ServiceError(_) => QueueError::Rejected(text),
        _ => QueueError::Unavailable(text),
    }
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>, dlq_url: Option<String>) -> Self {
        Self { client, url: url.into(), dlq_url }
    }

    /// From the SDK's standard environment configuration.
    pub async fn from_env(url: impl Into<String>, dlq_url: Option<String>) -> Self {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(Client::new(&conf), url, dlq_url)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Creates `<name>.fifo` with content-based de-duplication and its
    /// dead-letter queue `<name>-dlq.fifo` (redrive after `max_receives`).
    /// For tests and emulators; in AWS the template owns the queues.
    pub async fn create_fifo(
        client: Client,
        name: &str,
        visibility: Duration,
        max_receives: u32,
    ) -> Result<Self, QueueError> {
        let dlq = client
            .create_queue()
            .queue_name(format!("{name}-dlq.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .map_err(|e| sdk_error("CreateQueue (DLQ)", e))?;
        let dlq_url = dlq.queue_url().unwrap_or_default().to_string();
        let attrs = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", e))?;
        let dlq_arn = attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .ok_or_else(|| QueueError::Rejected("SQS returned no QueueArn for the DLQ".into()))?;
        let redrive =
            serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives.to_string() })
                .to_string();
        let q = client
            .create_queue()
            .queue_name(format!("{name}.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
            .attributes(QueueAttributeName::VisibilityTimeout, visibility.as_secs().to_string())
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .map_err(|e| sdk_error("CreateQueue", e))?;
        Ok(Self::new(client, q.queue_url().unwrap_or_default(), Some(dlq_url)))
    }

    async fn receive_from(&self, url: &str, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        if !(1..=10).contains(&max) {
            return Err(QueueError::InvalidMessage(format!("receive takes 1 to 10 messages, asked for {max}")));
        }
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| {
                let attr = |n: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&n)).cloned();
                Delivery {
                    message_id: m.message_id().unwrap_or_default().to_string(),
                    receipt: m.receipt_handle().unwrap_or_default().to_string(),
                    group_id: attr(MessageSystemAttributeName::MessageGroupId).unwrap_or_default(),
                    body: m.body().unwrap_or_default().to_string(),
                    receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                }
            })
            .collect())
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, message: OutMessage) -> Result<(), QueueError> {
        if message.body.is_empty() {
            return Err(QueueError::InvalidMessage("body must not be empty".into()));
        }
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_group_id(message.group_id)
            .message_deduplication_id(message.dedup_id)
            .message_body(message.body)
            .send()
            .await
            .map_err(|e| sdk_error("SendMessage", e))?;
        Ok(())
    }

    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        self.receive_from(&self.url, max, wait).await
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteMessage", e))?;
        Ok(())
    }

    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(delay.as_secs().min(43_200) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn dead_letters(&self, max: u32) -> Result<Vec<Delivery>, QueueError> {
        match &self.dlq_url {
            Some(url) => self.receive_from(url, max.clamp(1, 10), Duration::ZERO).await,
            None => Ok(Vec::new()),
        }
    }
}
