//! The webhook delivery function: an SQS batch of [`DeliveryMessage`]s, each one attempt
//! at its endpoint, signed as Standard Webhooks says with the endpoint's secrets (sealed
//! in the table, opened with the key the function read from Secrets Manager at init),
//! through the SSRF-checked sender of `taskapi-webhooks`, and recorded in the endpoint's
//! delivery history.
//!
//! The queue is the retry schedule: the message's receive count is the attempt's number;
//! a failed attempt hides its message until the next attempt is due (about 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h, 10 h, with jitter) and is reported as the batch's item failure,
//! so SQS hands it out again then. After the last attempt the message is left to the
//! queue's redrive policy (`maxReceiveCount`), which moves it to the dead-letter queue. A
//! 2xx settles it; a 410 disables the endpoint and settles it; an endpoint deleted or
//! disabled meanwhile drops it. The messages of a batch are attempted at once, so one
//! slow endpoint holds up none of the others.

use std::hash::{BuildHasher, RandomState};

use bytes::Bytes;
use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{Value, json};
use taskapi_domain::{
    AttemptOutcome, DeliveryAttempt, EventKind, RetrySchedule, Timestamp, Webhook, WebhookId,
    WebhookStore, new_event_id,
};
use taskapi_store_dynamodb::DynamoStore;
use taskapi_webhooks::{Delivery, SealError, SecretCipher, Sender, SigningSecret, sign};
use time::OffsetDateTime;

use crate::error::NotAStreamEvent;
use crate::queue::Queue;
use crate::webhook_router::DeliveryMessage;

#[derive(Deserialize)]
struct Batch {
    #[serde(rename = "Records")]
    records: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsRecord {
    message_id: String,
    receipt_handle: String,
    body: String,
    attributes: Attributes,
}

#[derive(Deserialize)]
struct Attributes {
    #[serde(rename = "ApproximateReceiveCount")]
    receive_count: String,
}

/// What became of one message.
enum Settled {
    /// Delivered, disabled, or undeliverable for good: SQS deletes it.
    Done,
    /// Tried again later (or moved to the dead-letter queue after the last attempt).
    Again,
}

pub struct Deliverer {
    store: DynamoStore,
    queue: Queue,
    cipher: SecretCipher,
    sender: Sender,
    schedule: RetrySchedule,
}

impl Deliverer {
    pub fn new(
        store: DynamoStore,
        queue: Queue,
        cipher: SecretCipher,
        sender: Sender,
        schedule: RetrySchedule,
    ) -> Self {
        Self {
            store,
            queue,
            cipher,
            sender,
            schedule,
        }
    }

    /// One SQS batch; the answer is Lambda's partial batch response.
    pub async fn handle(&self, event: Value) -> Result<Value, NotAStreamEvent> {
        let batch: Batch =
            serde_json::from_value(event).map_err(|err| NotAStreamEvent(err.to_string()))?;
        let settled = join_all(batch.records.into_iter().map(|raw| self.settle(raw))).await;
        let failures: Vec<Value> = settled
            .into_iter()
            .flatten()
            .map(|message_id| json!({ "itemIdentifier": message_id }))
            .collect();
        Ok(json!({ "batchItemFailures": failures }))
    }

    /// The message id if the message is to be handed out again.
    async fn settle(&self, raw: Value) -> Option<String> {
        let record: SqsRecord = match serde_json::from_value(raw) {
            Ok(record) => record,
            Err(err) => {
                tracing::error!(error = %err, "not an SQS record; dropped");
                return None;
            }
        };
        match self.deliver(&record).await {
            Settled::Done => None,
            Settled::Again => Some(record.message_id),
        }
    }

    async fn deliver(&self, record: &SqsRecord) -> Settled {
        let Some((id, message, kind, event_id)) = read_message(&record.body) else {
            tracing::error!(
                message = record.message_id,
                "not a delivery message; dropped"
            );
            return Settled::Done;
        };
        let webhook = match self.store.webhook(&id).await {
            Ok(Some(webhook)) if webhook.disabled.is_none() => webhook,
            Ok(_) => {
                tracing::info!(webhook = %id, "endpoint deleted or disabled; delivery dropped");
                return Settled::Done;
            }
            Err(err) => {
                tracing::warn!(webhook = %id, error = %err, "endpoint unreadable; retried");
                return Settled::Again;
            }
        };
        let attempt: u32 = record.attributes.receive_count.parse().unwrap_or(1);
        let now = OffsetDateTime::now_utc();
        let at = Timestamp::from_datetime(now);
        let outcome = match self.secrets(&webhook, &at) {
            Ok(secrets) => {
                let secrets: Vec<&SigningSecret> = secrets.iter().collect();
                let headers = sign(
                    &secrets,
                    &event_id,
                    now.unix_timestamp(),
                    message.event.as_bytes(),
                );
                self.sender
                    .send(Delivery {
                        url: &webhook.url,
                        headers: &headers,
                        body: Bytes::from(message.event),
                    })
                    .await
            }
            Err(err) => AttemptOutcome::Error(format!("the signing secret did not open: {err}")),
        };
        let settled = outcome.delivered() || outcome.gone();
        let delay = if settled {
            None
        } else {
            self.schedule.delay_after(attempt, jitter())
        };
        let recorded = DeliveryAttempt {
            webhook_id: id.clone(),
            attempt_id: new_event_id(),
            event_id,
            event_type: kind,
            attempt,
            at: at.clone(),
            outcome: outcome.clone(),
            next_attempt_at: delay.map(|delay| Timestamp::from_datetime(now + delay)),
        };
        if let Err(err) = self.store.record_attempt(&recorded).await {
            tracing::warn!(webhook = %id, error = %err, "attempt not recorded in the history");
        }
        if outcome.gone()
            && let Err(err) = self
                .store
                .disable_webhook(&webhook, &at, "the endpoint answered 410 Gone")
                .await
        {
            tracing::warn!(webhook = %id, error = %err, "endpoint not disabled");
        }
        if settled {
            return Settled::Done;
        }
        match delay {
            Some(delay) => {
                if let Err(err) = self.queue.retry_after(&record.receipt_handle, delay).await {
                    // The message comes back after the queue's own visibility timeout.
                    tracing::warn!(webhook = %id, error = %err, "next attempt not scheduled");
                }
            }
            None => tracing::warn!(
                webhook = %id,
                attempt,
                "last attempt failed; the message goes to the dead-letter queue"
            ),
        }
        Settled::Again
    }

    /// The secrets that sign now: the current one, and the one a rotation retired while
    /// it still signs.
    fn secrets(&self, webhook: &Webhook, now: &Timestamp) -> Result<Vec<SigningSecret>, SealError> {
        let mut secrets = vec![self.cipher.open(&webhook.webhook_id, &webhook.secret)?];
        if let Some(retiring) = webhook.retiring_at(now) {
            secrets.push(self.cipher.open(&webhook.webhook_id, retiring)?);
        }
        Ok(secrets)
    }
}

/// The message, its endpoint's id, and the event's type and id, if it is one.
fn read_message(body: &str) -> Option<(WebhookId, DeliveryMessage, EventKind, String)> {
    let message: DeliveryMessage = serde_json::from_str(body).ok()?;
    let id = WebhookId::parse(&message.webhook_id).ok()?;
    let event: Value = serde_json::from_str(&message.event).ok()?;
    let kind = EventKind::parse(event["type"].as_str()?)?;
    let event_id = event["id"].as_str()?.to_owned();
    Some((id, message, kind, event_id))
}

/// A uniform number in `[0, 1)` for the retry delay's jitter.
fn jitter() -> f64 {
    let random = RandomState::new().hash_one(std::time::SystemTime::now());
    (random >> 11) as f64 / (1_u64 << 53) as f64
}
