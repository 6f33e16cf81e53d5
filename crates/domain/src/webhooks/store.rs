//! The storage port of webhooks. An endpoint lives in its audience's partition
//! (`PK = USER#<sub>` or `PROJECT#<id>`, `SK = WEBHOOK#<id>`), so the endpoints an event
//! goes to are one query; a pointer at `PK = WEBHOOK#<id>` finds it by id, and the
//! attempts are kept beside the pointer, newest last, until they expire.

use async_trait::async_trait;

use super::{DeliveryAttempt, RetiringSecret, SealedSecret, Webhook, WebhookId};
use crate::{Audience, StoreError, Timestamp};

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Stores a new endpoint; `TooManyWebhooks` if its audience has
    /// [`MAX_WEBHOOKS`](super::MAX_WEBHOOKS) already.
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;

    /// The endpoint with this id, whoever's it is (the caller checks access).
    async fn webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError>;

    /// Every endpoint of `audience`, oldest first: where one of its events goes.
    async fn webhooks_of(&self, audience: &Audience) -> Result<Vec<Webhook>, StoreError>;

    /// Deletes the endpoint; `NotFound` if it is gone. Its attempts expire with time.
    async fn delete_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;

    /// Stops deliveries to the endpoint (it answered 410 Gone); `NotFound` if it is gone.
    async fn disable_webhook(
        &self,
        webhook: &Webhook,
        at: &Timestamp,
        reason: &str,
    ) -> Result<(), StoreError>;

    /// Replaces the signing secret, keeping `retiring` (the one replaced) beside it for a
    /// while; returns the endpoint as stored, `NotFound` if it is gone.
    async fn rotate_secret(
        &self,
        webhook: &Webhook,
        secret: &SealedSecret,
        retiring: &RetiringSecret,
    ) -> Result<Webhook, StoreError>;

    /// Records one delivery attempt.
    async fn record_attempt(&self, attempt: &DeliveryAttempt) -> Result<(), StoreError>;

    /// The endpoint's most recent attempts, newest first, at most `limit`.
    async fn deliveries(
        &self,
        id: &WebhookId,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError>;
}
