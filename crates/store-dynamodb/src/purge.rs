//! Deleting a project, however many tasks it has, so that nothing of it can be read once
//! the call returns:
//!
//! 1. One transaction deletes the project's item and every membership (at most
//!    [`MAX_MEMBERS`](taskapi_domain::MAX_MEMBERS), so it fits DynamoDB's 100 items),
//!    conditioned on the member count it read: an invitation accepted meanwhile makes it
//!    fail and start over. From this write on, every request about the project finds no
//!    membership and answers 404, so it is gone for its members at once.
//! 2. The rest (the members' mirrors, invitations and their mirrors, tasks) is deleted
//!    with `BatchWriteItem`, 25 items a request, [`PARALLEL_BATCHES`] requests at a time,
//!    page by page of a keys-only `Query` of the project's partition until it is empty.
//!    Only then does the call return (and the API answer 204), so the admin view lists
//!    none of its tasks either. A stray mirror left by an interrupted purge lists nothing:
//!    "my projects" reads each project's own item, which is gone.

use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use futures_util::future::try_join_all;
use taskapi_domain::{Email, ProjectId, StoreError, keys};

use crate::DynamoStore;
use crate::error::from_sdk;
use crate::item::{Item, as_key_text, attr, s};
use crate::project_item::{EMAIL, MEMBERS, Reader, key, member_key, meta_key, mirror_key};
use crate::transact::Write;

/// `BatchWriteItem`'s limit.
const BATCH: usize = 25;
/// Batches in flight at once: a project of 10,000 tasks is 400 batches, 25 rounds.
const PARALLEL_BATCHES: usize = 16;
/// Member counts change when an invitation is accepted during the delete; it starts over.
const ATTEMPTS: u32 = 5;

impl DynamoStore {
    pub(crate) async fn purge_project(&self, project: &ProjectId) -> Result<(), StoreError> {
        let members = self.end_access(project).await?;
        let mirrors = members
            .iter()
            .map(|user| mirror_key(project, user))
            .collect();
        self.delete_keys(mirrors).await?;
        loop {
            let keys = self.remaining_keys(project).await?;
            if keys.is_empty() {
                return Ok(());
            }
            self.delete_keys(keys).await?;
        }
    }

    /// Step 1: deletes the project's item and its memberships in one transaction; the
    /// members' ids, for their mirrors.
    async fn end_access(&self, project: &ProjectId) -> Result<Vec<String>, StoreError> {
        for _ in 0..ATTEMPTS {
            let members: Vec<String> = self
                .items_under(keys::project_pk(project), keys::MEMBER_PREFIX)
                .await?
                .iter()
                .map(|item| Reader(item).member().map(|member| member.user_id))
                .collect::<Result<_, _>>()?;
            let count = i64::try_from(members.len()).expect("members are few");
            let mut writes = vec![
                Write::delete(meta_key(project))
                    .when(format!("attribute_exists(PK) AND #{MEMBERS} = :count"))
                    .name(MEMBERS)
                    .number(":count", count),
            ];
            writes.extend(
                members
                    .iter()
                    .map(|user| Write::delete(member_key(project, user))),
            );
            match self.transact(writes).await {
                Ok(()) => return Ok(members),
                Err(refused) if refused.at(0) => {
                    if self.get_item(meta_key(project)).await?.is_none() {
                        return Err(StoreError::NotFound);
                    }
                }
                Err(refused) => return Err(refused.otherwise()),
            }
        }
        Err(StoreError::Conflict)
    }

    /// One page of the keys left in the project's partition, with the invitee's mirror of
    /// each invitation.
    async fn remaining_keys(&self, project: &ProjectId) -> Result<Vec<Item>, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::project_pk(project)))
            .projection_expression("PK, SK, #email")
            .expression_attribute_names("#email", EMAIL)
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let mut found = Vec::new();
        for item in output.items() {
            let (Some(pk), Some(sk)) = (as_key_text(item, attr::PK), as_key_text(item, attr::SK))
            else {
                continue;
            };
            if sk.starts_with(keys::INVITATION_PREFIX) {
                let email = as_key_text(item, EMAIL).unwrap_or_default();
                let email = Email::parse(&email).map_err(StoreError::internal)?;
                found.push(key(keys::invitee_pk(&email), sk.clone()));
            }
            found.push(key(pk, sk));
        }
        Ok(found)
    }

    /// Deletes these items, [`PARALLEL_BATCHES`] batches at a time.
    async fn delete_keys(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let batches: Vec<Vec<Item>> = keys.chunks(BATCH).map(<[Item]>::to_vec).collect();
        for round in batches.chunks(PARALLEL_BATCHES) {
            try_join_all(round.iter().map(|batch| self.delete_batch(batch.clone()))).await?;
        }
        Ok(())
    }

    async fn delete_batch(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = keys
            .into_iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map(|delete| WriteRequest::builder().delete_request(delete).build())
                    .map_err(StoreError::internal)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut backoff = Duration::from_millis(20);
        // Items DynamoDB did not get to (throttling) come back unprocessed: send them again.
        while !requests.is_empty() {
            let output = self
                .client()
                .batch_write_item()
                .request_items(self.table(), requests)
                .send()
                .await
                .map_err(from_sdk)?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(self.table()))
                .unwrap_or_default();
            if !requests.is_empty() {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
        Ok(())
    }
}
