//! The storage port. Adapters (SQLite, DynamoDB) implement [`TaskStore`] over the same
//! single-table keys (see [`crate::keys`]), and one conformance suite checks them all.

use std::time::Duration;

use async_trait::async_trait;

use crate::{
    Created, IdempotentCreate, Limit, Status, Task, TaskFilter, TaskId, TaskPatch, Timestamp,
};

/// Where a list left off: the key of the last item returned, in the table's own terms
/// (DynamoDB's `LastEvaluatedKey`). `gsi1pk`/`gsi1sk` are set for the admin (GSI1) view;
/// `due_sk` for a position in a due-date index (the Upcoming view, a due-date sorted list;
/// see [`keys::due_sk`](crate::keys::due_sk)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: Option<String>,
    pub gsi1sk: Option<String>,
    pub due_sk: Option<String>,
}

impl PageKey {
    /// A position in the table itself (its primary key only).
    pub fn table(pk: String, sk: String) -> Self {
        Self {
            pk,
            sk,
            gsi1pk: None,
            gsi1sk: None,
            due_sk: None,
        }
    }
}

/// One page of a list. `next` is `None` on the last page. A page may hold fewer than
/// `limit` tasks even when more follow (DynamoDB filters after it reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub tasks: Vec<Task>,
    pub next: Option<PageKey>,
}

/// A request for one page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub limit: Limit,
    pub start_after: Option<PageKey>,
}

/// A change to apply to an existing task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskUpdate {
    pub patch: TaskPatch,
    pub updated_at: Timestamp,
    /// Apply only if the stored `updated_at` still equals this (the `If-Match` ETag).
    pub expected_updated_at: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task not found")]
    NotFound,
    #[error("task was changed by someone else")]
    PreconditionFailed,
    #[error("a task with this id already exists")]
    AlreadyExists,
    /// The caller used this idempotency key, within its window, for another request.
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    /// The last owner of a project cannot leave it or stop being an owner.
    #[error("the project's last owner cannot leave or be demoted")]
    LastOwner,
    /// The user is a member of the project already.
    #[error("already a member of this project")]
    AlreadyMember,
    /// The project has as many members as it may have.
    #[error("the project has the most members it may have")]
    ProjectFull,
    /// The user or project has as many webhook endpoints as it may have.
    #[error("the most webhooks allowed are registered already")]
    TooManyWebhooks,
    /// What the change was based on changed meanwhile (another request won a race).
    #[error("changed concurrently")]
    Conflict,
    /// The backend is overloaded or unreachable and retries ran out; the caller may retry.
    #[error("store temporarily unavailable")]
    Unavailable { retry_after: Duration },
    #[error("store failure: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(err.into())
    }
}

/// The task table. Every operation is one request against the table (one per page for
/// lists), and every acknowledged write is durable when the future resolves.
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Stores a new task for `owner` (a Cognito `sub`). Fails with `AlreadyExists` rather
    /// than overwrite.
    async fn create(&self, owner: &str, task: &Task) -> Result<(), StoreError>;

    /// [`create`](Self::create), retry-safe: stores `task` and the record of `once.key` in
    /// one transaction, unless `owner` used that key before and it still holds. Then it
    /// stores nothing and returns the task the first request created, or
    /// `IdempotencyKeyReused` if that request was another (its fingerprint differs).
    async fn create_once(
        &self,
        owner: &str,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError>;

    async fn get(&self, owner: &str, id: &TaskId) -> Result<Option<Task>, StoreError>;

    /// `owner`'s tasks in `filter.sort` order, only those `filter` lets through (a
    /// personal task has no assignee: `filter.assignee` is for project lists).
    async fn list_for_owner(
        &self,
        owner: &str,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError>;

    /// `user`'s Upcoming view: their open tasks with a due date, own and assigned to them
    /// in projects, soonest first. Read from an index that holds only such tasks, so a
    /// page costs the same however many other tasks there are.
    async fn upcoming(&self, user: &str, query: &ListQuery) -> Result<Page, StoreError>;

    /// Every user's tasks in `status`, oldest first (the GSI1 admin view).
    async fn list_by_status(&self, status: Status, query: &ListQuery) -> Result<Page, StoreError>;

    /// Applies `update` and returns the task as stored; `NotFound` if there is no such
    /// task, `PreconditionFailed` if `expected_updated_at` no longer matches.
    async fn update(
        &self,
        owner: &str,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> Result<Task, StoreError>;

    /// Deletes the task; `NotFound` if there is none, `PreconditionFailed` if `expected`
    /// (the `If-Match` ETag) is given and no longer the stored `updated_at`.
    async fn delete(
        &self,
        owner: &str,
        id: &TaskId,
        expected: Option<&Timestamp>,
    ) -> Result<(), StoreError>;

    /// Whether the store can read and write right now (for `/readyz`); why not, if not.
    async fn ready(&self) -> Result<(), NotReady>;
}

/// Why a store cannot serve now, in words for an operator (`/readyz` answers with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotReady(pub String);
