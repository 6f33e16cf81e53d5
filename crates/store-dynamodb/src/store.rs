//! [`DynamoStore`]: every [`TaskStore`] call is exactly one DynamoDB request (one per page
//! for lists), with the existence checks written as conditions instead of extra reads.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TableStatus,
};
use taskapi_domain::keys::{self, StatusShards};
use taskapi_domain::{
    Created, IdempotentCreate, ListQuery, NotReady, Page, PageKey, Priority, Status, StoreError,
    Task, TaskFilter, TaskId, TaskPatch, TaskStore, TaskUpdate, Timestamp,
};

use crate::error::{conditional, from_sdk};
use crate::idempotency::RecordKey;
use crate::item::{self, Item, attr, s};
use crate::page_key;
use crate::planning::filtered;

/// The task table on DynamoDB (or anything that speaks its protocol).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    shards: StatusShards,
}

impl DynamoStore {
    /// The store in the seed's layout (one GSI1 partition per status).
    pub fn new(client: Client, table: String) -> Self {
        Self {
            client,
            table,
            shards: StatusShards::SEED,
        }
    }

    /// Writes status keys spread over `shards` GSI1 partitions, and reads them all.
    pub fn with_status_shards(self, shards: StatusShards) -> Self {
        Self { shards, ..self }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn status_shards(&self) -> StatusShards {
        self.shards
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Opens the connection (DNS, TCP, TLS) with a free `DescribeTable`, so the first real
    /// request does not pay for it. Lambda calls this at init, where the time is not billed
    /// to a caller; it also fails early when the table is missing or not allowed.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }

    /// Runs one page of a query of the table itself and reads its items.
    pub(crate) async fn page(
        &self,
        request: QueryFluentBuilder,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        let start = query.start_after.as_ref().map(page_key::to_start_key);
        self.page_at(
            request,
            query.limit.get(),
            start,
            page_key::from_last_evaluated,
        )
        .await
    }

    /// Runs one page of up to `limit` items of a query from `start`, and reads its items
    /// and, with `position`, where the next page starts. Items that cannot be shown as
    /// tasks are skipped with a warning rather than failing the whole list.
    pub(crate) async fn page_at(
        &self,
        request: QueryFluentBuilder,
        limit: usize,
        start: Option<Item>,
        position: impl FnOnce(Option<&Item>) -> Result<Option<PageKey>, StoreError>,
    ) -> Result<Page, StoreError> {
        let limit = i32::try_from(limit).expect("a page limit fits in i32");
        let output = request
            .table_name(&self.table)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(from_sdk)?;
        let tasks = output
            .items()
            .iter()
            .filter_map(|raw| {
                item::from_item(raw)
                    .inspect_err(|err| tracing::warn!(error = %err, "skipping unreadable item"))
                    .ok()
            })
            .collect();
        Ok(Page {
            tasks,
            next: position(output.last_evaluated_key())?,
        })
    }

    /// Tells a failed conditional update apart when DynamoDB did not return the old item
    /// (emulators such as dynalite ignore `ReturnValuesOnConditionCheckFailure`): one
    /// consistent read, on the failure path only.
    async fn missing_or_stale(&self, pk: String, id: &TaskId) -> StoreError {
        match self.get_in(pk, id).await {
            Ok(Some(_)) => StoreError::PreconditionFailed,
            Ok(None) => StoreError::NotFound,
            Err(err) => err,
        }
    }
}

#[async_trait]
impl TaskStore for DynamoStore {
    async fn create(&self, owner: &str, task: &Task) -> Result<(), StoreError> {
        self.create_in(keys::user_pk(owner), task).await
    }

    async fn create_once(
        &self,
        owner: &str,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError> {
        self.create_once_on_dynamodb(&RecordKey::personal(owner, once), task, once)
            .await
    }

    async fn get(&self, owner: &str, id: &TaskId) -> Result<Option<Task>, StoreError> {
        self.get_in(keys::user_pk(owner), id).await
    }

    async fn list_for_owner(
        &self,
        owner: &str,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        self.list_in(keys::user_pk(owner), filter, query).await
    }

    async fn upcoming(&self, user: &str, query: &ListQuery) -> Result<Page, StoreError> {
        self.upcoming_page(user, query).await
    }

    async fn list_by_status(&self, status: Status, query: &ListQuery) -> Result<Page, StoreError> {
        self.list_status_partitions(status, query).await
    }

    async fn update(
        &self,
        owner: &str,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> Result<Task, StoreError> {
        self.update_in(keys::user_pk(owner), id, update).await
    }

    async fn delete(
        &self,
        owner: &str,
        id: &TaskId,
        expected: Option<&Timestamp>,
    ) -> Result<(), StoreError> {
        self.delete_in(keys::user_pk(owner), id, expected).await
    }

    /// `DescribeTable`: the table exists, is reachable with these credentials, and ACTIVE.
    async fn ready(&self) -> Result<(), NotReady> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|err| NotReady(format!("DescribeTable {}: {}", self.table, from_sdk(err))))?;
        match described.table().and_then(|table| table.table_status()) {
            Some(TableStatus::Active) => Ok(()),
            status => Err(NotReady(format!(
                "table {} is {status:?}, not ACTIVE",
                self.table
            ))),
        }
    }
}

impl DynamoStore {
    /// Stores a new task in partition `pk`, refusing to overwrite.
    pub(crate) async fn create_in(&self, pk: String, task: &Task) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item::to_item_in(pk, task, self.shards)))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        conditional(result, StoreError::AlreadyExists).map(drop)
    }

    /// Task `id` in partition `pk` (a user's or a project's).
    pub(crate) async fn get_in(&self, pk: String, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item::key_in(pk, id)))
            // Read-your-writes: a task just created or changed must be seen as such.
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        output
            .item()
            .map(item::from_item)
            .transpose()
            .map_err(StoreError::internal)
    }

    /// A page of partition `pk`'s tasks in `filter`'s order, filtered as it says.
    pub(crate) async fn list_in(
        &self,
        pk: String,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        match filter.sort {
            taskapi_domain::Sort::CreatedAt => {
                let request = filtered(self.created_order(&pk), filter, Vec::new());
                self.page(request, query).await
            }
            taskapi_domain::Sort::DueAt => self.due_order_page(pk, filter, query).await,
        }
    }

    /// The query of partition `pk`'s tasks in creation (SK) order.
    pub(crate) fn created_order(&self, pk: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(keys::TASK_PREFIX))
            .consistent_read(true)
    }

    /// Updates task `id` in partition `pk`.
    pub(crate) async fn update_in(
        &self,
        pk: String,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> Result<Task, StoreError> {
        let expression = UpdateExpression::new(&pk, id, update, self.shards);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item::key_in(pk.clone(), id)))
            .update_expression(expression.update)
            .condition_expression(expression.condition)
            .set_expression_attribute_names(Some(expression.names))
            .set_expression_attribute_values(Some(expression.values))
            .return_values(ReturnValue::AllNew)
            // Saves the read that would tell "missing" (404) from "changed" (412).
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let stored = output.attributes().ok_or_else(|| {
                    StoreError::internal("UpdateItem with ALL_NEW returned no attributes")
                })?;
                let task = item::from_item(stored).map_err(StoreError::internal)?;
                self.reconcile_due_index(&pk, &task, stored).await?;
                Ok(task)
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    if update.expected_updated_at.is_none() {
                        Err(StoreError::NotFound)
                    } else if failed.item().is_some_and(|old| !old.is_empty()) {
                        Err(StoreError::PreconditionFailed)
                    } else {
                        Err(self.missing_or_stale(pk, id).await)
                    }
                }
                _ => Err(from_sdk(err)),
            },
        }
    }

    /// Deletes task `id` from partition `pk`.
    pub(crate) async fn delete_in(
        &self,
        pk: String,
        id: &TaskId,
        expected: Option<&Timestamp>,
    ) -> Result<(), StoreError> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key_in(pk.clone(), id)));
        let Some(expected) = expected else {
            let result = request
                .condition_expression("attribute_exists(PK)")
                .send()
                .await;
            return conditional(result, StoreError::NotFound).map(drop);
        };
        let mut values = Item::new();
        let condition = version_condition(expected, &mut values);
        let result = request
            .condition_expression(condition)
            .expression_attribute_names(format!("#{}", attr::UPDATED_AT), attr::UPDATED_AT)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    if failed.item().is_some_and(|old| !old.is_empty()) {
                        Err(StoreError::PreconditionFailed)
                    } else {
                        Err(self.missing_or_stale(pk, id).await)
                    }
                }
                _ => Err(from_sdk(err)),
            },
        }
    }
}

/// The condition "exists, at version `expected`" (with `#updated_at` to be named). The ETag
/// carries `updated_at` as taskapi shows it; an item the seed wrote holds the same instant
/// without the `Z`. Either stored form is the expected version.
fn version_condition(expected: &Timestamp, values: &mut Item) -> String {
    let expected = expected.as_str();
    let mut accepted = vec![AttributeValue::S(expected.to_owned())];
    if let Some(naive) = expected.strip_suffix('Z') {
        accepted.push(AttributeValue::S(naive.to_owned()));
    }
    let placeholders: Vec<String> = accepted
        .into_iter()
        .enumerate()
        .map(|(n, value)| {
            let placeholder = format!(":expected{n}");
            values.insert(placeholder.clone(), value);
            placeholder
        })
        .collect();
    format!(
        "attribute_exists(PK) AND #{} IN ({})",
        attr::UPDATED_AT,
        placeholders.join(", ")
    )
}

/// Whose Upcoming view the task in partition `pk` is in after `patch`, when the patch alone
/// decides it: `Some(None)` for nobody's (done, no due date, unassigned), `Some(Some(sub))`
/// when it names an open status and a due date (and, in a project, the assignee). `None`
/// when that depends on what is stored.
fn decided_upcoming(pk: &str, patch: &TaskPatch) -> Option<Option<String>> {
    let owner = keys::owner_of_pk(pk);
    if patch.status == Some(Status::Done)
        || matches!(patch.due_at, Some(None))
        || (owner.is_none() && matches!(patch.assignee, Some(None)))
    {
        return Some(None);
    }
    if !matches!(patch.due_at, Some(Some(_))) || patch.status.is_none() {
        return None;
    }
    match (owner, &patch.assignee) {
        (Some(owner), _) => Some(Some(owner.to_owned())),
        (None, Some(assignee)) => Some(assignee.clone()),
        (None, None) => None,
    }
}

/// The `UpdateItem` expressions for a [`TaskUpdate`]. Every attribute goes through a `#name`
/// placeholder (`status` is a reserved word, and no other name can then collide with one).
struct UpdateExpression {
    update: String,
    condition: String,
    names: HashMap<String, String>,
    values: Item,
}

impl UpdateExpression {
    fn new(pk: &str, id: &TaskId, update: &TaskUpdate, shards: StatusShards) -> Self {
        let mut this = Self {
            update: String::new(),
            condition: "attribute_exists(PK)".to_owned(),
            names: HashMap::new(),
            values: HashMap::new(),
        };
        let patch = &update.patch;
        let mut sets = vec![this.bind(attr::UPDATED_AT, update.updated_at.as_str())];
        let mut removes: Vec<&str> = Vec::new();
        if let Some(title) = &patch.title {
            sets.push(this.bind(attr::TITLE, title.as_str()));
        }
        if let Some(description) = &patch.description {
            sets.push(this.bind(attr::DESCRIPTION, description.as_str()));
        }
        if let Some(status) = patch.status {
            sets.push(this.bind(attr::STATUS, status.as_str()));
            sets.push(this.bind(attr::GSI1PK, &shards.gsi1pk(status, id)));
        }
        match &patch.assignee {
            Some(Some(assignee)) => sets.push(this.bind(attr::ASSIGNEE, assignee)),
            Some(None) => removes.push(attr::ASSIGNEE),
            None => {}
        }
        match patch.priority {
            // `none` is the absence of the attribute, as on the seed's items.
            Some(Priority::None) => removes.push(attr::PRIORITY),
            Some(priority) => sets.push(this.bind(attr::PRIORITY, priority.as_str())),
            None => {}
        }
        match &patch.due_at {
            Some(Some(due)) => {
                sets.push(this.bind(attr::DUE_AT, due.as_str()));
                sets.push(this.bind(attr::GSI3PK, &keys::due_gsi3pk(pk)));
                sets.push(this.bind(attr::GSI3SK, &keys::due_sk(due, id)));
            }
            Some(None) => removes.extend([attr::DUE_AT, attr::GSI3PK, attr::GSI3SK]),
            None => {}
        }
        // The Upcoming keys. Where the patch alone decides them they are written here, so
        // the update is one request; else a task leaves a view with this write when it may
        // (another assignee) and [`DynamoStore::reconcile_due_index`] then puts it where
        // it now belongs, if anywhere.
        match decided_upcoming(pk, patch) {
            Some(None) => removes.extend([attr::GSI2PK, attr::GSI2SK]),
            Some(Some(user)) => {
                let due = patch
                    .due_at
                    .clone()
                    .flatten()
                    .expect("decided with a due date");
                sets.push(this.bind(attr::GSI2PK, &keys::upcoming_gsi2pk(&user)));
                sets.push(this.bind(attr::GSI2SK, &keys::due_sk(&due, id)));
            }
            None if patch.assignee.is_some() => removes.extend([attr::GSI2PK, attr::GSI2SK]),
            None => {
                if let Some(Some(due)) = &patch.due_at {
                    // Moves the task within the view in place (harmless when it is not in
                    // it: without GSI2PK the item is not in the index).
                    sets.push(this.bind(attr::GSI2SK, &keys::due_sk(due, id)));
                }
            }
        }
        this.update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            for name in &removes {
                this.names.insert(format!("#{name}"), (*name).to_owned());
            }
            let removes: Vec<String> = removes.iter().map(|name| format!("#{name}")).collect();
            this.update = format!("{} REMOVE {}", this.update, removes.join(", "));
        }
        if let Some(expected) = &update.expected_updated_at {
            this.names.insert(
                format!("#{}", attr::UPDATED_AT),
                attr::UPDATED_AT.to_owned(),
            );
            this.condition = version_condition(expected, &mut this.values);
        }
        this
    }

    /// `#name = :name`, registering both placeholders.
    fn bind(&mut self, name: &str, value: &str) -> String {
        self.names.insert(format!("#{name}"), name.to_owned());
        self.values.insert(format!(":{name}"), s(value));
        format!("#{name} = :{name}")
    }
}

#[cfg(test)]
mod tests {
    use taskapi_domain::parse_instant;

    use super::*;

    #[test]
    fn a_patch_decides_the_upcoming_view_only_when_it_names_what_it_depends_on() {
        let due = Some(Some(
            parse_instant("due_at", "2030-01-01T00:00:00Z").unwrap(),
        ));
        let (mine, project) = (keys::user_pk("ann"), "PROJECT#p");
        let patch = |status, due_at: &Option<Option<Timestamp>>, assignee| TaskPatch {
            status,
            due_at: due_at.clone(),
            assignee,
            ..TaskPatch::default()
        };
        let open = Some(Status::Pending);
        let bob = Some(Some("bob".to_owned()));
        for (pk, patch, decided) in [
            (mine.as_str(), patch(open, &due, None), Some(Some("ann"))),
            (
                mine.as_str(),
                patch(Some(Status::Done), &due, None),
                Some(None),
            ),
            (mine.as_str(), patch(open, &Some(None), None), Some(None)),
            (mine.as_str(), patch(None, &due, None), None),
            (mine.as_str(), patch(open, &None, None), None),
            (project, patch(open, &due, bob.clone()), Some(Some("bob"))),
            (project, patch(open, &due, None), None),
            (project, patch(None, &None, Some(None)), Some(None)),
            (project, patch(None, &None, bob), None),
        ] {
            let expected = decided.map(|user| user.map(str::to_owned));
            assert_eq!(decided_upcoming(pk, &patch), expected, "{pk} {patch:?}");
        }
    }
}
