//! Moving data in and out of the table (`taskapi export` and `import`).
//!
//! [`record_to_item`] and [`item_to_record`] are the one mapping between the table's items
//! and [`Record`]s: both use the builders and readers the store itself writes and reads
//! with, so an exported item is what the store wrote, and an imported one is what it would
//! write. [`item_to_record`] is also the import's validator: an item is accepted only if it
//! is one the layout has (its keys, attributes and types), which keeps a hostile file from
//! planting items the API would trip over.
//!
//! Exports are a parallel `Scan` (a one-off job, never on the request path); imports check
//! what the table holds with one `BatchGetItem` per batch and write with `BatchWriteItem`,
//! retrying unprocessed items.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use taskapi_domain::keys::{self, StatusShards};
use taskapi_domain::{IdempotencyRecord, ImportOutcome, ImportRecords, Record, StoreError};

use crate::DynamoStore;
use crate::error::from_sdk;
use crate::idempotency::{from_record, record_item};
use crate::item::{self, Item, as_key_text, attr};
use crate::project_item::{self as items, MEMBERS, OWNERS, Reader};

/// The largest item DynamoDB stores (400 KB, names and values counted).
const MAX_ITEM_BYTES: usize = 400 * 1024;
/// Items per `BatchWriteItem` (DynamoDB's limit) and so per import batch.
pub const BATCH_SIZE: usize = 25;
/// Items per scan page: pages small enough to be quick on an emulator and to resume from
/// often, large enough that the requests are few.
const SCAN_PAGE_ITEMS: i32 = 1000;
/// Rounds of retrying a batch's unprocessed items or keys before giving up.
const ATTEMPTS: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// Why an item is not one of the table's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidItem(String);

pub(crate) fn invalid(reason: impl Into<String>) -> InvalidItem {
    InvalidItem(reason.into())
}

/// The item the store writes for `record` (`shards` decides a task's `GSI1PK`).
pub fn record_to_item(record: &Record, shards: StatusShards) -> Item {
    match record {
        Record::PersonalTask { owner, task } => {
            item::to_item_in(keys::user_pk(owner), task, shards)
        }
        Record::ProjectTask(task) => item::to_item_in(record.key().0, task, shards),
        Record::Project {
            project,
            members,
            owners,
        } => {
            let mut item = items::meta_item(project);
            item.insert(MEMBERS.to_owned(), items::number(*members));
            item.insert(OWNERS.to_owned(), items::number(*owners));
            item
        }
        Record::Member(member) => items::member_item(member),
        Record::MemberMirror(member) => items::mirror_item(member),
        Record::Invitation(invitation) => {
            items::invitation_item(items::invitation_key(&invitation.invitation_id), invitation)
        }
        Record::InvitationMirror(invitation) => {
            items::invitation_item(items::invitation_mirror_key(invitation), invitation)
        }
        Record::Idempotency(record) => {
            let (pk, sk) = Record::Idempotency(record.clone()).key();
            record_item(
                &pk,
                &sk,
                &record.task,
                &record.fingerprint,
                record.expires_at,
            )
        }
    }
}

/// Reads an item as a [`Record`], if it is one the layout has: keys where the layout puts
/// them, each attribute one the store writes for such an item and of the type it writes,
/// and no larger than DynamoDB allows.
pub fn item_to_record(item: &Item) -> Result<Record, InvalidItem> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "the item is {size} bytes, over DynamoDB's {MAX_ITEM_BYTES}"
        )));
    }
    let key = |name: &str| {
        as_key_text(item, name).ok_or_else(|| invalid(format!("{name} is missing or not a string")))
    };
    let (pk, sk) = (key(attr::PK)?, key(attr::SK)?);
    let record = read_record(item, &pk, &sk)?;
    let canonical = record_to_item(&record, StatusShards::SEED);
    if (
        as_key_text(&canonical, attr::PK),
        as_key_text(&canonical, attr::SK),
    ) != (Some(pk.clone()), Some(sk.clone()))
    {
        return Err(invalid(format!(
            "the key {pk}/{sk} does not match the item's own ids"
        )));
    }
    for (name, value) in item {
        let Some(expected) = canonical.get(name) else {
            return Err(invalid(format!(
                "attribute {name} is not part of a {} item",
                kind(&record)
            )));
        };
        // The seed's handlers stored whatever JSON they got: a number or boolean where a
        // string belongs is read as its text (as the store reads it), anything else is not.
        let as_text = matches!(expected, AttributeValue::S(_))
            && matches!(value, AttributeValue::N(_) | AttributeValue::Bool(_));
        if type_name(value) != type_name(expected) && !as_text {
            return Err(invalid(format!(
                "attribute {name} is {}, the layout has {}",
                type_name(value),
                type_name(expected)
            )));
        }
    }
    Ok(record)
}

fn read_record(item: &Item, pk: &str, sk: &str) -> Result<Record, InvalidItem> {
    let broken = |err: StoreError| invalid(format!("{pk}/{sk}: {}", describe(&err)));
    let reader = Reader(item);
    let outside = || invalid(format!("the key {pk}/{sk} is outside the table's layout"));
    if let Some(owner) = pk.strip_prefix(keys::USER_PREFIX) {
        if owner.is_empty() {
            return Err(outside());
        }
        if sk.starts_with(keys::TASK_PREFIX) {
            let task = item::from_item(item).map_err(|err| invalid(err.to_string()))?;
            if task.project.is_some() {
                return Err(invalid(format!(
                    "{pk}/{sk}: a personal task with a project_id"
                )));
            }
            return Ok(Record::PersonalTask {
                owner: owner.to_owned(),
                task,
            });
        }
        if sk.starts_with(keys::PROJECT_PREFIX) {
            return reader
                .mirror(owner)
                .map(Record::MemberMirror)
                .map_err(broken);
        }
    } else if pk.starts_with(keys::PROJECT_PREFIX) {
        if sk.starts_with(keys::TASK_PREFIX) {
            let task = item::from_item(item).map_err(|err| invalid(err.to_string()))?;
            if task.project.is_none() {
                return Err(invalid(format!(
                    "{pk}/{sk}: a project's task without project_id"
                )));
            }
            return Ok(Record::ProjectTask(task));
        }
        if sk == keys::PROJECT_META_SK {
            return Ok(Record::Project {
                project: reader.project().map_err(broken)?,
                members: reader.number(MEMBERS).map_err(broken)?,
                owners: reader.number(OWNERS).map_err(broken)?,
            });
        }
        if sk.starts_with(keys::MEMBER_PREFIX) {
            return reader.member().map(Record::Member).map_err(broken);
        }
        if sk.starts_with(keys::INVITATION_PREFIX) {
            return reader.invitation().map(Record::Invitation).map_err(broken);
        }
    } else if pk.starts_with("INVITEE#") && sk.starts_with(keys::INVITATION_PREFIX) {
        return reader
            .invitation()
            .map(Record::InvitationMirror)
            .map_err(broken);
    }
    if let Some(key) = sk.strip_prefix(keys::IDEMPOTENCY_PREFIX)
        && (pk.starts_with(keys::USER_PREFIX) || pk.starts_with(keys::PROJECT_PREFIX))
    {
        let (task, fingerprint, expires_at) = from_record(item).map_err(broken)?;
        return Ok(Record::Idempotency(IdempotencyRecord {
            pk: pk.to_owned(),
            key: key.to_owned(),
            fingerprint,
            expires_at,
            task,
        }));
    }
    Err(outside())
}

/// A store error's own words, without a wrapper's.
fn describe(err: &StoreError) -> String {
    match err {
        StoreError::Internal(source) => source.to_string(),
        other => other.to_string(),
    }
}

fn kind(record: &Record) -> &'static str {
    match record {
        Record::PersonalTask { .. } => "personal task",
        Record::ProjectTask(_) => "project task",
        Record::Project { .. } => "project",
        Record::Member(_) => "membership",
        Record::MemberMirror(_) => "membership mirror",
        Record::Invitation(_) => "invitation",
        Record::InvitationMirror(_) => "invitation mirror",
        Record::Idempotency(_) => "idempotency record",
    }
}

/// Whether an export leaves `item` out: an idempotency record whose window closed by `now`
/// (Unix seconds; DynamoDB's TTL deletes such items late), or a WebSocket connection's
/// items, which mean nothing once their socket is gone.
pub fn lapsed(item: &Item, now: i64) -> bool {
    let connection = as_key_text(item, attr::PK)
        .is_some_and(|pk| pk.starts_with(keys::CONNECTION_PREFIX))
        || as_key_text(item, attr::SK).is_some_and(|sk| sk.starts_with(keys::CONNECTION_PREFIX));
    connection
        || as_key_text(item, attr::SK).is_some_and(|sk| sk.starts_with(keys::IDEMPOTENCY_PREFIX))
            && item
                .get(crate::TTL_ATTRIBUTE)
                .and_then(|value| value.as_n().ok())
                .and_then(|n| n.parse::<i64>().ok())
                .is_some_and(|expires_at| expires_at <= now)
}

/// Whether `item` is a webhook's (an endpoint, its pointer or a delivery attempt): an
/// export leaves them out, since their secrets are sealed under a key of the deployment
/// they were made in (docs/webhooks.md), so they are registered anew where the data goes.
pub fn is_webhook_item(item: &Item) -> bool {
    [attr::PK, attr::SK].into_iter().any(|name| {
        as_key_text(item, name).is_some_and(|key| key.starts_with(keys::WEBHOOK_PREFIX))
    })
}

/// DynamoDB's name for a value's type.
fn type_name(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::L(_) => "L",
        AttributeValue::M(_) => "M",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        _ => "an unknown type",
    }
}

/// An item's size as DynamoDB counts it: names and values in bytes, a number at most 21
/// bytes, containers 3 bytes plus their elements (plus one per element).
fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number.len().min(21),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Ns(numbers) => numbers.iter().map(|n| n.len().min(21)).sum(),
        AttributeValue::Bs(blobs) => blobs.iter().map(|blob| blob.as_ref().len()).sum(),
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// One page of one segment of a parallel scan.
pub struct ScanPage {
    pub items: Vec<Item>,
    /// Where the segment goes on; `None` when it is done.
    pub next: Option<Item>,
}

impl DynamoStore {
    /// One page of segment `segment` of `segments` of a scan of the whole table, from
    /// `start` (a previous page's `next`).
    pub async fn scan_page(
        &self,
        segment: i32,
        segments: i32,
        consistent: bool,
        start: Option<Item>,
    ) -> Result<ScanPage, StoreError> {
        let output = self
            .client()
            .scan()
            .table_name(self.table())
            .segment(segment)
            .total_segments(segments)
            .consistent_read(consistent)
            .limit(SCAN_PAGE_ITEMS)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(ScanPage {
            items: output.items.unwrap_or_default(),
            next: output.last_evaluated_key.filter(|key| !key.is_empty()),
        })
    }

    /// The items the table holds under `records`' keys (consistent reads).
    async fn existing(
        &self,
        records: &[Record],
    ) -> Result<HashMap<(String, String), Item>, StoreError> {
        let unique: HashSet<_> = records.iter().map(Record::key).collect();
        let mut wanted: Vec<Item> = unique
            .into_iter()
            .map(|(pk, sk)| items::key(pk, sk))
            .collect();
        let mut found = HashMap::new();
        let mut backoff = FIRST_BACKOFF;
        for _ in 0..ATTEMPTS {
            if wanted.is_empty() {
                return Ok(found);
            }
            let keys = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut wanted)))
                .consistent_read(true)
                .build()
                .map_err(StoreError::internal)?;
            let output = self
                .client()
                .batch_get_item()
                .request_items(self.table(), keys)
                .send()
                .await
                .map_err(from_sdk)?;
            for item in output
                .responses
                .and_then(|mut tables| tables.remove(self.table()))
                .unwrap_or_default()
            {
                if let (Some(pk), Some(sk)) =
                    (as_key_text(&item, attr::PK), as_key_text(&item, attr::SK))
                {
                    found.insert((pk, sk), item);
                }
            }
            wanted = output
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(self.table()))
                .map(|left| left.keys)
                .unwrap_or_default();
            if !wanted.is_empty() {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        if wanted.is_empty() {
            Ok(found)
        } else {
            Err(StoreError::Unavailable {
                retry_after: Duration::from_secs(1),
            })
        }
    }

    /// Writes `requests` (at most [`BATCH_SIZE`]), retrying what DynamoDB leaves
    /// unprocessed with growing pauses.
    async fn write_all(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut backoff = FIRST_BACKOFF;
        for _ in 0..ATTEMPTS {
            if requests.is_empty() {
                return Ok(());
            }
            let output = self
                .client()
                .batch_write_item()
                .request_items(self.table(), std::mem::take(&mut requests))
                .send()
                .await
                .map_err(from_sdk)?;
            requests = output
                .unprocessed_items
                .and_then(|mut tables| tables.remove(self.table()))
                .unwrap_or_default();
            if !requests.is_empty() {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        if requests.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Unavailable {
                retry_after: Duration::from_secs(1),
            })
        }
    }
}

/// Up to [`BATCH_SIZE`] records per call: one `BatchGetItem` to see what the table holds,
/// one `BatchWriteItem` (and its retries) for what is to be written.
#[async_trait]
impl ImportRecords for DynamoStore {
    async fn import(
        &self,
        records: Vec<Record>,
        overwrite: bool,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        let existing = self.existing(&records).await?;
        let mut outcomes = Vec::with_capacity(records.len());
        let mut puts = Vec::new();
        for record in &records {
            let outcome = match existing.get(&record.key()) {
                None => ImportOutcome::Written,
                Some(held) if item_to_record(held).as_ref() == Ok(record) => {
                    ImportOutcome::Unchanged
                }
                Some(_) if overwrite => ImportOutcome::Overwritten,
                Some(_) => ImportOutcome::Conflict,
            };
            if matches!(outcome, ImportOutcome::Written | ImportOutcome::Overwritten) {
                let item = record_to_item(record, self.status_shards());
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(StoreError::internal)?;
                puts.push(WriteRequest::builder().put_request(put).build());
            }
            outcomes.push(outcome);
        }
        self.write_all(puts).await?;
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::s;

    fn item(pk: &str, sk: &str, expires_at: Option<i64>) -> Item {
        let mut item = Item::from([(attr::PK.to_owned(), s(pk)), (attr::SK.to_owned(), s(sk))]);
        if let Some(at) = expires_at {
            item.insert(
                crate::TTL_ATTRIBUTE.to_owned(),
                AttributeValue::N(at.to_string()),
            );
        }
        item
    }

    #[test]
    fn an_export_leaves_out_lapsed_idempotency_records_and_every_connection() {
        let now = 1_800_000_000;
        assert!(lapsed(&item("USER#a", "IDEMPOTENCY#k", Some(now - 1)), now));
        assert!(!lapsed(
            &item("USER#a", "IDEMPOTENCY#k", Some(now + 60)),
            now
        ));
        // A socket's items, live or not: they mean nothing without the socket.
        assert!(lapsed(
            &item("USER#a", "CONNECTION#c1=", Some(now + 60)),
            now
        ));
        assert!(lapsed(
            &item("CONNECTION#c1=", "CONNECTION", Some(now + 60)),
            now
        ));
        assert!(!lapsed(&item("USER#a", "TASK#t1", None), now));
    }
}
