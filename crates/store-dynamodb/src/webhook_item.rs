//! Webhook endpoints and their delivery attempts as items of the one table (keys from
//! [`taskapi_domain::keys`]):
//!
//! | item | PK | SK |
//! |---|---|---|
//! | endpoint (url, kinds, sealed secrets, disabled state) | `USER#<sub>` or `PROJECT#<id>` | `WEBHOOK#<id>` |
//! | its pointer (where the endpoint is) | `WEBHOOK#<id>` | `ENDPOINT` |
//! | one delivery attempt, with the TTL attribute | `WEBHOOK#<id>` | `DELIVERY#<time>#<attempt id>` |
//!
//! None has index keys or sorts under `TASK#`, and the stream reader
//! ([`change_of`](crate::change_of)) turns none into an event.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use taskapi_domain::{
    AttemptOutcome, Audience, DeliveryAttempt, Disabled, EventKind, RetiringSecret, SealedSecret,
    StoreError, Timestamp, Webhook, WebhookId, keys,
};

use crate::TTL_ATTRIBUTE;
use crate::item::{Item, attr, s};
use crate::project_item::{key, number};

const WEBHOOK_ID: &str = "webhook_id";
const URL: &str = "url";
const EVENTS: &str = "events";
const SECRET: &str = "secret";
const RETIRING_SECRET: &str = "retiring_secret";
const RETIRING_UNTIL: &str = "retiring_until";
pub(crate) const DISABLED_AT: &str = "disabled_at";
pub(crate) const DISABLED_REASON: &str = "disabled_reason";
/// The pointer's: the partition key of the endpoint's item.
const ENDPOINT_PK: &str = "endpoint_pk";
const ATTEMPT_ID: &str = "attempt_id";
const EVENT_ID: &str = "event_id";
const EVENT_TYPE: &str = "event_type";
const ATTEMPT: &str = "attempt";
const AT: &str = "at";
const STATUS_CODE: &str = "status_code";
const ERROR: &str = "error";
const NEXT_ATTEMPT_AT: &str = "next_attempt_at";

pub(crate) fn endpoint_key(audience: &Audience, id: &WebhookId) -> Item {
    key(audience.pk(), keys::webhook_key(id))
}

pub(crate) fn pointer_key(id: &WebhookId) -> Item {
    key(keys::webhook_key(id), keys::WEBHOOK_POINTER_SK.to_owned())
}

pub(crate) fn endpoint_item(webhook: &Webhook) -> Item {
    let mut item = endpoint_key(&webhook.audience, &webhook.webhook_id);
    let events = webhook.events.iter().map(|kind| s(kind.as_str())).collect();
    item.extend([
        (WEBHOOK_ID.to_owned(), s(webhook.webhook_id.as_str())),
        (attr::CREATED_BY.to_owned(), s(&webhook.created_by)),
        (URL.to_owned(), s(&webhook.url)),
        (EVENTS.to_owned(), AttributeValue::L(events)),
        (attr::CREATED_AT.to_owned(), s(webhook.created_at.as_str())),
        (SECRET.to_owned(), s(webhook.secret.as_str())),
    ]);
    if let Some(disabled) = &webhook.disabled {
        item.insert(DISABLED_AT.to_owned(), s(disabled.at.as_str()));
        item.insert(DISABLED_REASON.to_owned(), s(&disabled.reason));
    }
    if let Some(retiring) = &webhook.retiring {
        item.insert(RETIRING_SECRET.to_owned(), s(retiring.secret.as_str()));
        item.insert(RETIRING_UNTIL.to_owned(), s(retiring.until.as_str()));
    }
    item
}

pub(crate) fn pointer_item(webhook: &Webhook) -> Item {
    let mut item = pointer_key(&webhook.webhook_id);
    item.insert(ENDPOINT_PK.to_owned(), s(webhook.audience.pk()));
    item
}

/// The attempt's item; it expires `retention_secs` after the attempt.
pub(crate) fn attempt_item(attempt: &DeliveryAttempt, expires_at: i64) -> Item {
    let mut item = key(
        keys::webhook_key(&attempt.webhook_id),
        keys::delivery_sk(&attempt.at, &attempt.attempt_id),
    );
    item.extend([
        (WEBHOOK_ID.to_owned(), s(attempt.webhook_id.as_str())),
        (ATTEMPT_ID.to_owned(), s(&attempt.attempt_id)),
        (EVENT_ID.to_owned(), s(&attempt.event_id)),
        (EVENT_TYPE.to_owned(), s(attempt.event_type.as_str())),
        (ATTEMPT.to_owned(), number(i64::from(attempt.attempt))),
        (AT.to_owned(), s(attempt.at.as_str())),
        (TTL_ATTRIBUTE.to_owned(), number(expires_at)),
    ]);
    match &attempt.outcome {
        AttemptOutcome::Status(code) => {
            item.insert(STATUS_CODE.to_owned(), number(i64::from(*code)));
        }
        AttemptOutcome::Error(error) => {
            item.insert(ERROR.to_owned(), s(error));
        }
    }
    if let Some(next) = &attempt.next_attempt_at {
        item.insert(NEXT_ATTEMPT_AT.to_owned(), s(next.as_str()));
    }
    item
}

/// Reads the items above back; an item missing an attribute is a broken item (a 500).
pub(crate) struct WebhookReader<'a>(pub(crate) &'a Item);

impl WebhookReader<'_> {
    fn text(&self, name: &str) -> Result<String, StoreError> {
        self.optional(name)
            .ok_or_else(|| StoreError::internal(format!("webhook item without {name}")))
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .and_then(|value| value.as_s().ok())
            .cloned()
    }

    fn number(&self, name: &str) -> Option<i64> {
        self.0
            .get(name)
            .and_then(|value| value.as_n().ok())
            .and_then(|n| n.parse().ok())
    }

    fn id(&self) -> Result<WebhookId, StoreError> {
        WebhookId::parse(&self.text(WEBHOOK_ID)?).map_err(StoreError::internal)
    }

    fn kind(raw: &str) -> Result<EventKind, StoreError> {
        EventKind::parse(raw)
            .ok_or_else(|| StoreError::internal(format!("unknown event type {raw}")))
    }

    /// The partition key a pointer points to.
    pub(crate) fn endpoint_pk(&self) -> Result<String, StoreError> {
        self.text(ENDPOINT_PK)
    }

    pub(crate) fn webhook(&self) -> Result<Webhook, StoreError> {
        let pk = self.text(attr::PK)?;
        let audience = Audience::of_pk(&pk)
            .ok_or_else(|| StoreError::internal(format!("webhook in partition {pk}")))?;
        let events = match self.0.get(EVENTS) {
            Some(AttributeValue::L(list)) => list
                .iter()
                .map(|value| value.as_s().map_err(|_| StoreError::internal("event type")))
                .map(|raw| raw.and_then(|raw| Self::kind(raw)))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(StoreError::internal("webhook item without events")),
        };
        let disabled = match (self.optional(DISABLED_AT), self.optional(DISABLED_REASON)) {
            (Some(at), Some(reason)) => Some(Disabled {
                at: Timestamp::from_stored(at),
                reason,
            }),
            _ => None,
        };
        let retiring = match (
            self.optional(RETIRING_SECRET),
            self.optional(RETIRING_UNTIL),
        ) {
            (Some(secret), Some(until)) => Some(RetiringSecret {
                secret: SealedSecret::from_stored(secret),
                until: Timestamp::from_stored(until),
            }),
            _ => None,
        };
        Ok(Webhook {
            webhook_id: self.id()?,
            audience,
            created_by: self.text(attr::CREATED_BY)?,
            url: self.text(URL)?,
            events,
            created_at: Timestamp::from_stored(self.text(attr::CREATED_AT)?),
            disabled,
            secret: SealedSecret::from_stored(self.text(SECRET)?),
            retiring,
        })
    }

    pub(crate) fn attempt(&self) -> Result<DeliveryAttempt, StoreError> {
        let outcome = match (self.number(STATUS_CODE), self.optional(ERROR)) {
            (Some(code), _) => AttemptOutcome::Status(
                u16::try_from(code).map_err(|_| StoreError::internal("status code"))?,
            ),
            (None, Some(error)) => AttemptOutcome::Error(error),
            (None, None) => return Err(StoreError::internal("attempt without an outcome")),
        };
        let attempt = self
            .number(ATTEMPT)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| StoreError::internal("attempt without its number"))?;
        Ok(DeliveryAttempt {
            webhook_id: self.id()?,
            attempt_id: self.text(ATTEMPT_ID)?,
            event_id: self.text(EVENT_ID)?,
            event_type: Self::kind(&self.text(EVENT_TYPE)?)?,
            attempt,
            at: Timestamp::from_stored(self.text(AT)?),
            outcome,
            next_attempt_at: self.optional(NEXT_ATTEMPT_AT).map(Timestamp::from_stored),
        })
    }
}

/// The attributes a rotation sets, as `:placeholder` values.
pub(crate) fn rotation_values(secret: &SealedSecret, retiring: &RetiringSecret) -> Item {
    HashMap::from([
        (":secret".to_owned(), s(secret.as_str())),
        (":retiring".to_owned(), s(retiring.secret.as_str())),
        (":until".to_owned(), s(retiring.until.as_str())),
    ])
}

/// The names of the rotation's attributes.
pub(crate) const ROTATION: &str = "SET #secret = :secret, #retiring = :retiring, #until = :until";
pub(crate) const ROTATION_NAMES: [(&str, &str); 3] = [
    ("#secret", SECRET),
    ("#retiring", RETIRING_SECRET),
    ("#until", RETIRING_UNTIL),
];

#[cfg(test)]
mod tests {
    use taskapi_domain::ProjectId;

    use super::*;
    use crate::is_webhook_item;

    fn webhook() -> Webhook {
        Webhook {
            webhook_id: WebhookId::generate(),
            audience: Audience::Project(ProjectId::generate()),
            created_by: "alice".to_owned(),
            url: "https://hooks.example.com/a".to_owned(),
            events: vec![EventKind::TaskCreated, EventKind::MemberRemoved],
            created_at: Timestamp::now(),
            disabled: Some(Disabled {
                at: Timestamp::now(),
                reason: "410".to_owned(),
            }),
            secret: SealedSecret::from_stored("v1.new".to_owned()),
            retiring: Some(RetiringSecret {
                secret: SealedSecret::from_stored("v1.old".to_owned()),
                until: Timestamp::now(),
            }),
        }
    }

    #[test]
    fn endpoints_and_attempts_read_back_as_written() {
        let hook = webhook();
        assert_eq!(
            WebhookReader(&endpoint_item(&hook)).webhook().unwrap(),
            hook
        );
        let attempt = DeliveryAttempt {
            webhook_id: hook.webhook_id.clone(),
            attempt_id: "a1".to_owned(),
            event_id: "e1".to_owned(),
            event_type: EventKind::TaskCreated,
            attempt: 3,
            at: Timestamp::now(),
            outcome: AttemptOutcome::Error("timed out".to_owned()),
            next_attempt_at: Some(Timestamp::now()),
        };
        let item = attempt_item(&attempt, 1_900_000_000);
        assert_eq!(WebhookReader(&item).attempt().unwrap(), attempt);
        assert_eq!(
            item[TTL_ATTRIBUTE],
            AttributeValue::N("1900000000".to_owned())
        );
    }

    #[test]
    fn webhook_items_are_no_events_on_the_stream() {
        use crate::{ItemChange, StreamRecord, change_of};
        let hook = webhook();
        let attempt = DeliveryAttempt {
            webhook_id: hook.webhook_id.clone(),
            attempt_id: "a1".to_owned(),
            event_id: "e1".to_owned(),
            event_type: EventKind::TaskCreated,
            attempt: 1,
            at: Timestamp::now(),
            outcome: AttemptOutcome::Status(204),
            next_attempt_at: None,
        };
        let items = [
            endpoint_item(&hook),
            pointer_item(&hook),
            attempt_item(&attempt, 1),
        ];
        for item in items {
            for change in [ItemChange::Insert, ItemChange::Modify, ItemChange::Remove] {
                let record = StreamRecord {
                    event_id: "r1".to_owned(),
                    change,
                    at: Timestamp::now(),
                    old: Some(item.clone()),
                    new: Some(item.clone()),
                };
                assert!(change_of(&record).unwrap().is_none(), "{item:?}");
            }
        }
    }

    #[test]
    fn an_export_can_tell_webhook_items_apart() {
        let hook = webhook();
        assert!(is_webhook_item(&endpoint_item(&hook)));
        assert!(is_webhook_item(&pointer_item(&hook)));
        let task_key = key("USER#alice".to_owned(), "TASK#t1".to_owned());
        assert!(!is_webhook_item(&task_key));
    }
}
