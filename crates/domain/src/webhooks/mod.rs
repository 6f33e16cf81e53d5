//! Webhooks: endpoints a user (for their own tasks) or a project's owner (for the
//! project's) registers to receive events, the record of every delivery attempt, and the
//! retry schedule. Signing, the SSRF rule and the HTTP attempt live in the
//! `taskapi-webhooks` crate; the stores keep endpoints and attempts under the keys of
//! [`crate::keys`] and never see a secret in plain text ([`SealedSecret`]).

mod delivery;
mod model;
mod schedule;
mod store;

pub use delivery::{AttemptOutcome, DELIVERY_RETENTION, DeliveryAttempt, MAX_DELIVERIES_LISTED};
pub use model::{Disabled, MAX_WEBHOOKS, RetiringSecret, SealedSecret, Webhook, WebhookId};
pub use schedule::{RETRY_SCHEDULE, RetrySchedule};
pub use store::WebhookStore;
