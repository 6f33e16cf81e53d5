//! What a webhook endpoint is: whose events it receives, where they go, which kinds, and
//! the sealed secrets it signs with.

use std::fmt;

use crate::task::key_safe_id;
use crate::{Audience, EventKind, Timestamp};

/// The most endpoints one user (their own tasks) or one project may have. It bounds the
/// fan-out of one event, and an endpoint list is one query page.
pub const MAX_WEBHOOKS: usize = 10;

key_safe_id!(
    /// A webhook's identifier: an audience's endpoints list in creation order.
    WebhookId,
    "webhookId"
);

/// A signing secret as the store keeps it: encrypted under a key the store's table does
/// not hold (see `taskapi_webhooks::SecretCipher`), so a table read alone reveals nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(String);

impl SealedSecret {
    /// Text as the sealing produced it, or as read back from the store.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sealed text is not secret, but it has no business in logs either.
impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

/// The secret a rotation replaced: deliveries carry its signature beside the new one
/// until `until`, so receivers can switch without missing a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiringSecret {
    pub secret: SealedSecret,
    pub until: Timestamp,
}

/// One endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub webhook_id: WebhookId,
    /// Whose events: a user's own tasks (`USER#<sub>`) or a project's (`PROJECT#<id>`),
    /// the partition the endpoint is kept in.
    pub audience: Audience,
    /// Who registered it (for a project webhook, an owner of the project then).
    pub created_by: String,
    pub url: String,
    /// The kinds delivered; empty for every kind.
    pub events: Vec<EventKind>,
    pub created_at: Timestamp,
    /// When and why deliveries stopped (the endpoint answered 410 Gone); `None` while on.
    pub disabled: Option<Disabled>,
    pub secret: SealedSecret,
    pub retiring: Option<RetiringSecret>,
}

/// Why an endpoint receives nothing any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    pub at: Timestamp,
    pub reason: String,
}

impl Webhook {
    /// Whether this endpoint is to receive an event of `kind`.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.disabled.is_none() && (self.events.is_empty() || self.events.contains(&kind))
    }

    /// The retiring secret while it still signs at `now`.
    pub fn retiring_at(&self, now: &Timestamp) -> Option<&SealedSecret> {
        self.retiring
            .as_ref()
            .filter(|retiring| retiring.until > *now)
            .map(|retiring| &retiring.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(events: Vec<EventKind>) -> Webhook {
        Webhook {
            webhook_id: WebhookId::generate(),
            audience: Audience::User("alice".into()),
            created_by: "alice".into(),
            url: "https://example.com/hook".into(),
            events,
            created_at: Timestamp::now(),
            disabled: None,
            secret: SealedSecret::from_stored("sealed".into()),
            retiring: None,
        }
    }

    #[test]
    fn an_empty_filter_wants_every_kind_and_a_list_only_its_own() {
        let every = webhook(Vec::new());
        assert!(EventKind::ALL.into_iter().all(|kind| every.wants(kind)));
        let some = webhook(vec![EventKind::TaskCreated]);
        assert!(some.wants(EventKind::TaskCreated));
        assert!(!some.wants(EventKind::TaskDeleted));
    }

    #[test]
    fn a_disabled_endpoint_wants_nothing() {
        let mut gone = webhook(Vec::new());
        gone.disabled = Some(Disabled {
            at: Timestamp::now(),
            reason: "410".into(),
        });
        assert!(!gone.wants(EventKind::TaskCreated));
    }

    #[test]
    fn a_retiring_secret_signs_until_its_time() {
        let mut hook = webhook(Vec::new());
        hook.retiring = Some(RetiringSecret {
            secret: SealedSecret::from_stored("old".into()),
            until: Timestamp::from_stored("2026-01-02T00:00:00.000000Z".into()),
        });
        let before = Timestamp::from_stored("2026-01-01T23:59:59.000000Z".into());
        let after = Timestamp::from_stored("2026-01-02T00:00:00.000001Z".into());
        assert!(hook.retiring_at(&before).is_some());
        assert!(hook.retiring_at(&after).is_none());
    }
}
