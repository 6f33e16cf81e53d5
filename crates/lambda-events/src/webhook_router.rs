//! The webhook router: each record of the table's stream that the API shows becomes its
//! event, and one SQS message per endpoint that wants it: the audience's endpoints (a
//! user's for their own tasks, a project's for the project's), and for a member event the
//! personal endpoints of the user it is about, as `taskapi serve`'s outbox routes them.
//! The delivery function takes it from there, so a slow endpoint never holds up the stream.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use taskapi_domain::{Audience, Change, WebhookStore};
use taskapi_store_dynamodb::DynamoStore;

use crate::error::{NotAStreamEvent, RouteError};
use crate::queue::Queue;
use crate::records::each_change;

/// One delivery on the queue: which endpoint, and the event JSON exactly as it is to be
/// sent and signed (text, so no re-serialization can change a byte of it).
#[derive(Debug, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub webhook_id: String,
    pub event: String,
}

pub struct WebhookRouter {
    store: DynamoStore,
    queue: Queue,
}

impl WebhookRouter {
    pub fn new(store: DynamoStore, queue: Queue) -> Self {
        Self { store, queue }
    }

    /// One stream batch; the answer is Lambda's partial batch response.
    pub async fn handle(&self, event: Value) -> Result<Value, NotAStreamEvent> {
        each_change(event, async |change| self.route(change).await).await
    }

    async fn route(&self, change: &Change) -> Result<(), RouteError> {
        let event = serde_json::to_string(&change.event).expect("an event serializes");
        let mut messages = Vec::new();
        for audience in audiences(change) {
            for webhook in self.store.webhooks_of(&audience).await? {
                if webhook.wants(change.event.kind) {
                    let message = DeliveryMessage {
                        webhook_id: webhook.webhook_id.as_str().to_owned(),
                        event: event.clone(),
                    };
                    messages.push(serde_json::to_string(&message).expect("a message serializes"));
                }
            }
        }
        if !messages.is_empty() {
            tracing::debug!(
                id = change.event.id,
                deliveries = messages.len(),
                "event queued"
            );
            self.queue.send(messages).await?;
        }
        Ok(())
    }
}

/// Whose endpoints hear `change`.
fn audiences(change: &Change) -> Vec<Audience> {
    let mut audiences = vec![change.audience.clone()];
    if let (Audience::Project(_), Some(user)) = (&change.audience, change.member_user()) {
        audiences.push(Audience::User(user.to_owned()));
    }
    audiences
}
