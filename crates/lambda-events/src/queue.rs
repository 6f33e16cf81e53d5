//! The webhook delivery queue (SQS): the router puts one message per endpoint and event on
//! it; the delivery function pushes a failed one back out of sight until its next attempt
//! is due.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::error::QueueError;

/// SQS takes at most 10 messages per `SendMessageBatch`.
const BATCH: usize = 10;
/// SQS hides a message for at most 12 hours.
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

pub struct Queue {
    client: Client,
    url: String,
}

impl Queue {
    pub fn new(sdk: &SdkConfig, url: String) -> Self {
        Self {
            client: Client::new(sdk),
            url,
        }
    }

    /// Puts every message in `bodies` on the queue; an error if any of them was not.
    pub async fn send(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        for chunk in bodies.chunks(BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body)
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| QueueError::of("SendMessageBatch", &err))?;
            if let Some(failed) = sent.failed.first() {
                return Err(QueueError {
                    operation: "SendMessageBatch",
                    message: format!(
                        "{} of {} messages refused: {} {}",
                        sent.failed.len(),
                        chunk.len(),
                        failed.code,
                        failed.message.as_deref().unwrap_or_default()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Keeps the message of `receipt` out of sight for `delay` (at most SQS's 12 hours):
    /// when its next attempt is due.
    pub async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let seconds = delay.min(MAX_VISIBILITY).as_secs();
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(i32::try_from(seconds).expect("12 hours fit an i32"))
            .send()
            .await
            .map_err(|err| QueueError::of("ChangeMessageVisibility", &err))?;
        Ok(())
    }
}
