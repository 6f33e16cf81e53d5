//! Moving every task's status key to another shard count (`taskapi table reshard`).
//!
//! A one-off migration, so it scans the table (the request path never does): page by page,
//! consistent reads of the keys only, and for each task whose `GSI1PK` is not the one
//! [`StatusShards::gsi1pk`](taskapi_domain::keys::StatusShards::gsi1pk) gives, one `UpdateItem` conditioned on the `GSI1PK` it read.
//! A task changed or deleted meanwhile fails that condition and is read again, never
//! overwritten, so the command is safe under traffic. Each finished page ends at a table key
//! the caller may save: starting again from it resumes the scan, and starting from scratch
//! is merely slower (a task already moved is left alone).

use std::num::NonZeroU16;
use std::ops::ControlFlow;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use taskapi_domain::keys;
use taskapi_domain::{StoreError, TaskId};

use crate::DynamoStore;
use crate::error::from_sdk;
use crate::item::{Item, as_key_text, attr, s};

/// Items read per scan page by default: small enough for a steady progress bar and a
/// fine-grained resume point, large enough that the scan's own requests are few.
pub const DEFAULT_PAGE_SIZE: NonZeroU16 = NonZeroU16::new(500).expect("not zero");
/// Key moves in flight at once.
const CONCURRENT_MOVES: usize = 16;
/// Times one task is read again after a concurrent change before it is left for a rerun.
const ATTEMPTS: usize = 3;

/// A table key (`PK`, `SK`): where a scan resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableKey {
    pub pk: String,
    pub sk: String,
}

/// Counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReshardProgress {
    /// Items read.
    pub scanned: u64,
    /// Tasks whose status key was rewritten.
    pub moved: u64,
    /// Tasks whose status key already was the target.
    pub in_place: u64,
    /// Items left alone: not tasks, no or an unknown status, deleted meanwhile, or changed
    /// more than [`ATTEMPTS`] times while being moved (a rerun picks those up).
    pub skipped: u64,
}

/// What happened to one task.
enum Outcome {
    Moved,
    InPlace,
    Skipped,
}

impl DynamoStore {
    /// Rewrites every task's `GSI1PK` for this store's shard count, `page_size` items read
    /// at a time, starting after `resume_after` if given. After each page `on_page` gets the
    /// counts so far and the key to resume after (`None` once the scan is complete), and
    /// may stop there (`Break`), e.g. on Ctrl-C.
    pub async fn reshard(
        &self,
        resume_after: Option<TableKey>,
        page_size: NonZeroU16,
        mut on_page: impl FnMut(&ReshardProgress, Option<&TableKey>) -> ControlFlow<()>,
    ) -> Result<ReshardProgress, StoreError> {
        let mut progress = ReshardProgress::default();
        let mut start = resume_after;
        loop {
            let output = self
                .client()
                .scan()
                .table_name(self.table())
                .projection_expression("PK, SK, GSI1PK")
                .consistent_read(true)
                .limit(i32::from(page_size.get()))
                .set_exclusive_start_key(start.as_ref().map(|key| {
                    Item::from([
                        (attr::PK.to_owned(), s(&key.pk)),
                        (attr::SK.to_owned(), s(&key.sk)),
                    ])
                }))
                .send()
                .await
                .map_err(from_sdk)?;
            let items = output.items();
            progress.scanned += items.len() as u64;
            let outcomes: Vec<Outcome> = stream::iter(items.iter().map(|item| self.place(item)))
                .buffer_unordered(CONCURRENT_MOVES)
                .try_collect()
                .await?;
            for outcome in outcomes {
                match outcome {
                    Outcome::Moved => progress.moved += 1,
                    Outcome::InPlace => progress.in_place += 1,
                    Outcome::Skipped => progress.skipped += 1,
                }
            }
            start = output.last_evaluated_key().and_then(|key| {
                Some(TableKey {
                    pk: as_key_text(key, attr::PK)?,
                    sk: as_key_text(key, attr::SK)?,
                })
            });
            let flow = on_page(&progress, start.as_ref());
            if start.is_none() || flow.is_break() {
                return Ok(progress);
            }
        }
    }

    /// Puts one scanned item's status key where it belongs, reading it again when someone
    /// changed it between the scan and the write.
    async fn place(&self, scanned: &Item) -> Result<Outcome, StoreError> {
        let (Some(pk), Some(sk)) = (
            as_key_text(scanned, attr::PK),
            as_key_text(scanned, attr::SK),
        ) else {
            return Ok(Outcome::Skipped);
        };
        let Some(id) = sk
            .strip_prefix(keys::TASK_PREFIX)
            .and_then(|id| TaskId::parse(id).ok())
        else {
            return Ok(Outcome::Skipped);
        };
        let mut current = as_key_text(scanned, attr::GSI1PK);
        for _ in 0..ATTEMPTS {
            let Some(old) = current.as_deref() else {
                return Ok(Outcome::Skipped);
            };
            let Some(status) = keys::status_of_gsi1pk(old) else {
                return Ok(Outcome::Skipped);
            };
            let target = self.status_shards().gsi1pk(status, &id);
            if old == target {
                return Ok(Outcome::InPlace);
            }
            let result = self
                .client()
                .update_item()
                .table_name(self.table())
                .key(attr::PK, s(&pk))
                .key(attr::SK, s(&sk))
                .update_expression("SET GSI1PK = :target")
                .condition_expression("GSI1PK = :old")
                .expression_attribute_values(":target", s(&target))
                .expression_attribute_values(":old", s(old))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Outcome::Moved),
                Err(err)
                    if matches!(
                        err.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) =>
                {
                    current = self.current_gsi1pk(&pk, &sk).await?;
                }
                Err(err) => return Err(from_sdk(err)),
            }
        }
        Ok(Outcome::Skipped)
    }

    async fn current_gsi1pk(&self, pk: &str, sk: &str) -> Result<Option<String>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(attr::PK, s(pk))
            .key(attr::SK, s(sk))
            .projection_expression("GSI1PK")
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(output
            .item()
            .and_then(|item| as_key_text(item, attr::GSI1PK)))
    }

    /// The table's item count as DynamoDB last published it (about every six hours): the
    /// length of a progress bar, not a promise.
    pub async fn approximate_item_count(&self) -> Result<Option<u64>, StoreError> {
        let output = self
            .client()
            .describe_table()
            .table_name(self.table())
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(output
            .table()
            .and_then(|table| table.item_count())
            .and_then(|count| u64::try_from(count).ok()))
    }
}
