//! Retry-safe creates on DynamoDB: the task and the record of its idempotency key go in
//! one `TransactWriteItems`, so the happy path is one round trip and no task exists
//! without its record (or the reverse). The record is an item in the user's partition,
//! `SK = IDEMPOTENCY#<key>`, holding the fingerprint of the request, the task as it was
//! answered, and `expires_at`, the table's TTL attribute (the template enables TTL on it).
//!
//! A refused transaction is then read out: a record that still holds answers (replay or
//! `IdempotencyKeyReused`) with one consistent `GetItem`; a transaction that collided with
//! another on the same key (`TransactionConflict`) is tried again.

use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use taskapi_domain::keys::{self, StatusShards};
use taskapi_domain::{Created, IdempotentCreate, StoreError, Task};

use crate::DynamoStore;
use crate::error::from_sdk;
use crate::item::{self, Item, attr, s};

/// The table's TTL attribute (Unix seconds, type N).
pub const TTL_ATTRIBUTE: &str = "expires_at";
const FINGERPRINT: &str = "fingerprint";

/// Transactions collide when duplicates arrive together; each retry waits a little longer.
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(20);

/// How a transaction that did not commit was refused.
enum Refused {
    /// The key's record exists and was live when the transaction looked.
    KeyHeld,
    /// Another transaction on the same items was in flight; trying again will settle it.
    Conflict,
    Failed(StoreError),
}

/// Where a task and its key's record go: the task's partition (a user's or a project's)
/// and the record's sort key in it.
pub(crate) struct RecordKey {
    pub(crate) pk: String,
    pub(crate) sk: String,
}

impl RecordKey {
    /// A personal task's: `USER#<sub>`, `IDEMPOTENCY#<key>`.
    pub(crate) fn personal(owner: &str, once: &IdempotentCreate) -> Self {
        Self {
            pk: keys::user_pk(owner),
            sk: keys::idempotency_sk(&once.key),
        }
    }
}

impl DynamoStore {
    /// Stores `task` in partition `at.pk` with the record of its key at `at.sk`, unless
    /// the key still holds there.
    pub(crate) async fn create_once_on_dynamodb(
        &self,
        at: &RecordKey,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError> {
        let mut backoff = FIRST_BACKOFF;
        for _ in 0..ATTEMPTS {
            match self.write_with_record(at, task, once).await {
                Ok(()) => return Ok(Created::New),
                Err(Refused::Failed(err)) => return Err(err),
                Err(Refused::KeyHeld) => {
                    if let Some(answer) = self.answer_from_record(at, once).await? {
                        return answer;
                    }
                    // The record lapsed between the transaction and the read: write again.
                }
                Err(Refused::Conflict) => {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
        tracing::warn!("idempotent create kept colliding with concurrent duplicates");
        Err(StoreError::Unavailable {
            retry_after: Duration::from_secs(1),
        })
    }

    async fn write_with_record(
        &self,
        at: &RecordKey,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<(), Refused> {
        let put = |item: Item, condition: &str| {
            Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression(condition)
        };
        let task_put = put(
            item::to_item_in(at.pk.clone(), task, self.status_shards()),
            "attribute_not_exists(PK)",
        );
        // An expired record that TTL has not deleted yet does not hold the key.
        let record_put = put(
            to_record(at, task, once),
            "attribute_not_exists(PK) OR #expires_at <= :now",
        )
        .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
        .expression_attribute_values(":now", number(once.used_at));
        let items = [task_put, record_put]
            .into_iter()
            .map(|put| {
                put.build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
                    .map_err(|err| Refused::Failed(StoreError::internal(err)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        let refused = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                let reasons: Vec<_> = cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|reason| reason.code().unwrap_or("None"))
                    .collect();
                match reasons.as_slice() {
                    [_, "ConditionalCheckFailed"] => Some(Refused::KeyHeld),
                    ["ConditionalCheckFailed", _] => {
                        Some(Refused::Failed(StoreError::AlreadyExists))
                    }
                    reasons if reasons.contains(&"TransactionConflict") => Some(Refused::Conflict),
                    _ => None,
                }
            }
            _ => None,
        };
        Err(refused.unwrap_or_else(|| Refused::Failed(from_sdk(err))))
    }

    /// The answer a live record gives: `None` if there is no record, or it has expired.
    async fn answer_from_record(
        &self,
        at: &RecordKey,
        once: &IdempotentCreate,
    ) -> Result<Option<Result<Created, StoreError>>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(attr::PK, s(&at.pk))
            .key(attr::SK, s(&at.sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(record) = output.item() else {
            return Ok(None);
        };
        let (first, fingerprint, expires_at) = from_record(record)?;
        if !once.still_holds(expires_at) {
            return Ok(None);
        }
        Ok(Some(if fingerprint == once.fingerprint {
            Ok(Created::Replayed(Box::new(first)))
        } else {
            Err(StoreError::IdempotencyKeyReused)
        }))
    }
}

/// The record of `once` at `at`, holding `task`.
fn to_record(at: &RecordKey, task: &Task, once: &IdempotentCreate) -> Item {
    record_item(&at.pk, &at.sk, task, &once.fingerprint, once.expires_at)
}

/// A record: the task's own attributes (without its index keys, so no view ever lists it)
/// under sort key `sk` of partition `pk`, with the fingerprint and the expiry.
pub(crate) fn record_item(
    pk: &str,
    sk: &str,
    task: &Task,
    fingerprint: &str,
    expires_at: i64,
) -> Item {
    // The shard count only changes GSI1PK, which the record drops.
    let mut record = item::to_item_in(pk.to_owned(), task, StatusShards::SEED);
    record.remove(attr::GSI1PK);
    record.remove(attr::GSI1SK);
    for index_key in attr::DUE_INDEX_KEYS {
        record.remove(index_key);
    }
    record.insert(attr::SK.to_owned(), s(sk));
    record.insert(FINGERPRINT.to_owned(), s(fingerprint));
    record.insert(TTL_ATTRIBUTE.to_owned(), number(expires_at));
    record
}

/// Reads a record back: the task it holds is read as the task item it copies.
pub(crate) fn from_record(record: &Item) -> Result<(Task, String, i64), StoreError> {
    let broken = |what: &str| StoreError::internal(format!("idempotency record without {what}"));
    let text = |name: &str| record.get(name).and_then(|value| value.as_s().ok());
    let fingerprint = text(FINGERPRINT)
        .ok_or_else(|| broken(FINGERPRINT))?
        .clone();
    let expires_at = record
        .get(TTL_ATTRIBUTE)
        .and_then(|value| value.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| broken(TTL_ATTRIBUTE))?;
    let task_id = text(attr::TASK_ID).ok_or_else(|| broken(attr::TASK_ID))?;
    let mut as_task = record.clone();
    as_task.insert(
        attr::SK.to_owned(),
        s(format!("{}{task_id}", keys::TASK_PREFIX)),
    );
    let task = item::from_item(&as_task).map_err(StoreError::internal)?;
    Ok((task, fingerprint, expires_at))
}

fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
