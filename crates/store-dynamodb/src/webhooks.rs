//! Webhook endpoints on DynamoDB (items in [`webhook_item`](crate::webhook_item)): an
//! endpoint and its pointer are written and deleted together in one transaction; a
//! project's endpoint only while the project exists. The cap per audience is checked by
//! a query before the write, so two creations racing at the cap may both pass: the cap
//! bounds fan-out, it is not a quota to the unit.

use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use taskapi_domain::{
    Audience, DELIVERY_RETENTION, DeliveryAttempt, MAX_WEBHOOKS, RetiringSecret, SealedSecret,
    StoreError, Timestamp, Webhook, WebhookId, WebhookStore, keys,
};

use crate::DynamoStore;
use crate::error::{conditional, from_sdk};
use crate::item::s;
use crate::project_item::{key, meta_key};
use crate::transact::Write;
use crate::webhook_item::{
    DISABLED_AT, DISABLED_REASON, ROTATION, ROTATION_NAMES, WebhookReader, attempt_item,
    endpoint_item, endpoint_key, pointer_item, pointer_key, rotation_values,
};

/// Unix seconds now.
fn unix_now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

#[async_trait]
impl WebhookStore for DynamoStore {
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let existing = self
            .items_under(webhook.audience.pk(), keys::WEBHOOK_PREFIX)
            .await?;
        if existing.len() >= MAX_WEBHOOKS {
            return Err(StoreError::TooManyWebhooks);
        }
        let mut writes = vec![
            Write::put(endpoint_item(webhook)).when("attribute_not_exists(PK)"),
            Write::put(pointer_item(webhook)).when("attribute_not_exists(PK)"),
        ];
        if let Audience::Project(project) = &webhook.audience {
            // A project deleted meanwhile gets no endpoint.
            writes.push(Write::check(meta_key(project)).when("attribute_exists(PK)"));
        }
        self.transact(writes).await.map_err(|refused| {
            if refused.at(2) {
                StoreError::NotFound
            } else if refused.at(0) || refused.at(1) {
                StoreError::AlreadyExists
            } else {
                refused.otherwise()
            }
        })
    }

    async fn webhook(&self, id: &WebhookId) -> Result<Option<Webhook>, StoreError> {
        let Some(pointer) = self.get_item(pointer_key(id)).await? else {
            return Ok(None);
        };
        let pk = WebhookReader(&pointer).endpoint_pk()?;
        // The endpoint is gone while its pointer is not when its project was deleted.
        self.get_item(key(pk, keys::webhook_key(id)))
            .await?
            .map(|item| WebhookReader(&item).webhook())
            .transpose()
    }

    async fn webhooks_of(&self, audience: &Audience) -> Result<Vec<Webhook>, StoreError> {
        let mut webhooks = self
            .items_under(audience.pk(), keys::WEBHOOK_PREFIX)
            .await?
            .iter()
            .map(|item| WebhookReader(item).webhook())
            .collect::<Result<Vec<_>, _>>()?;
        webhooks.sort_by(|a, b| {
            (&a.created_at, a.webhook_id.as_str()).cmp(&(&b.created_at, b.webhook_id.as_str()))
        });
        Ok(webhooks)
    }

    async fn delete_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let writes = vec![
            Write::delete(endpoint_key(&webhook.audience, &webhook.webhook_id))
                .when("attribute_exists(PK)"),
            Write::delete(pointer_key(&webhook.webhook_id)),
        ];
        self.transact(writes).await.map_err(|refused| {
            if refused.at(0) {
                StoreError::NotFound
            } else {
                refused.otherwise()
            }
        })
    }

    async fn disable_webhook(
        &self,
        webhook: &Webhook,
        at: &Timestamp,
        reason: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(endpoint_key(&webhook.audience, &webhook.webhook_id)))
            .update_expression("SET #at = :at, #reason = :reason")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#at", DISABLED_AT)
            .expression_attribute_names("#reason", DISABLED_REASON)
            .expression_attribute_values(":at", s(at.as_str()))
            .expression_attribute_values(":reason", s(reason))
            .send()
            .await;
        conditional(result, StoreError::NotFound).map(|_| ())
    }

    async fn rotate_secret(
        &self,
        webhook: &Webhook,
        secret: &SealedSecret,
        retiring: &RetiringSecret,
    ) -> Result<Webhook, StoreError> {
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(endpoint_key(&webhook.audience, &webhook.webhook_id)))
            .update_expression(ROTATION)
            .condition_expression("attribute_exists(PK)")
            .set_expression_attribute_values(Some(rotation_values(secret, retiring)))
            .return_values(ReturnValue::AllNew);
        for (placeholder, name) in ROTATION_NAMES {
            update = update.expression_attribute_names(placeholder, name);
        }
        let output = conditional(update.send().await, StoreError::NotFound)?;
        let item = output
            .attributes
            .ok_or_else(|| StoreError::internal("a rotation returned no item"))?;
        WebhookReader(&item).webhook()
    }

    async fn record_attempt(&self, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        let retention = i64::try_from(DELIVERY_RETENTION.as_secs()).expect("days fit in i64");
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(attempt_item(attempt, unix_now() + retention)))
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }

    async fn deliveries(
        &self,
        id: &WebhookId,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::webhook_key(id)))
            .expression_attribute_values(":prefix", s(keys::DELIVERY_PREFIX))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(from_sdk)?;
        output
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| WebhookReader(item).attempt())
            .collect()
    }
}
