//! The record of one delivery attempt: what `GET /webhooks/{id}/deliveries` lists (time,
//! status code or error, the next attempt), kept for [`DELIVERY_RETENTION`].

use std::time::Duration;

use crate::{EventKind, Timestamp};

use super::WebhookId;

/// How long attempts are kept (DynamoDB: the TTL attribute; SQLite: pruned).
pub const DELIVERY_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The most attempts one listing returns, newest first.
pub const MAX_DELIVERIES_LISTED: usize = 100;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered with this status (2xx: delivered; 410: the endpoint is
    /// disabled; anything else: tried again).
    Status(u16),
    /// No answer: the connection, TLS or the 15 s limit failed, or the address was
    /// refused by the SSRF rule. The text says which.
    Error(String),
}

impl AttemptOutcome {
    pub fn delivered(&self) -> bool {
        matches!(self, Self::Status(code) if (200..300).contains(code))
    }

    /// The endpoint said it is gone for good: deliveries to it stop.
    pub fn gone(&self) -> bool {
        matches!(self, Self::Status(410))
    }
}

/// One attempt to deliver one event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub webhook_id: WebhookId,
    /// Unique per attempt (UUIDv7: attempts sort in the order they were made).
    pub attempt_id: String,
    /// The event's id, which is the delivery's `webhook-id` on every attempt.
    pub event_id: String,
    pub event_type: EventKind,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub at: Timestamp,
    pub outcome: AttemptOutcome,
    /// When the next attempt is due; `None` once delivered, given up, or disabled.
    pub next_attempt_at: Option<Timestamp>,
}
