//! The storage port of projects. Both adapters keep a project's items together (DynamoDB:
//! `PK = PROJECT#<id>`) with a mirror of each membership in the member's own partition
//! and of each invitation in the invitee's, so "my projects" and "my invitations" are one
//! query each; a membership and its mirror are always written in one transaction.

use async_trait::async_trait;

use super::{
    Email, Invitation, InvitationId, Membership, Project, ProjectId, ProjectName, ProjectView, Role,
};
use crate::{
    Created, IdempotentCreate, ListQuery, Page, PageKey, Sort, Status, StoreError, Task, TaskId,
    TaskStore, TaskUpdate, Timestamp, WebhookStore,
};

/// The most members a project has. It bounds what one request reads or writes for a
/// whole project: its members fit one query page, and the transaction that deletes a
/// project with every membership (DynamoDB takes 100 items in one).
pub const MAX_MEMBERS: usize = 50;

/// One page of "my projects"; `next` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPage {
    pub projects: Vec<ProjectView>,
    pub next: Option<PageKey>,
}

/// Which tasks a list returns, and in which order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub status: Option<Status>,
    /// Only the tasks assigned to this member (project lists).
    pub assignee: Option<String>,
    /// Only the tasks due before this instant (so none without a due date).
    pub due_before: Option<Timestamp>,
    pub sort: Sort,
}

#[async_trait]
pub trait ProjectStore: Send + Sync + 'static {
    /// Stores a new project with its creator as owner (and the membership's mirror), in
    /// one transaction.
    async fn create_project(&self, project: &Project, owner: &Membership)
    -> Result<(), StoreError>;

    /// The projects `user` is a member of, with their role, oldest first.
    async fn list_projects(&self, user: &str, query: &ListQuery)
    -> Result<ProjectPage, StoreError>;

    /// `user`'s membership of `project`, if any: the check before every project call.
    async fn membership(
        &self,
        project: &ProjectId,
        user: &str,
    ) -> Result<Option<Membership>, StoreError>;

    async fn project(&self, project: &ProjectId) -> Result<Option<Project>, StoreError>;

    /// The project and `user`'s membership of it, in one read: `None` unless both exist.
    /// The check before a call that also needs the project (its name, its timestamps).
    async fn project_for(
        &self,
        project: &ProjectId,
        user: &str,
    ) -> Result<Option<(Project, Membership)>, StoreError>;

    /// Renames the project; `NotFound` if it is gone.
    async fn rename_project(
        &self,
        project: &ProjectId,
        name: &ProjectName,
        at: &Timestamp,
    ) -> Result<Project, StoreError>;

    /// Deletes the project, its members, invitations and tasks. Access ends before the
    /// call returns, at its first write; the rest is gone when it returns.
    async fn delete_project(&self, project: &ProjectId) -> Result<(), StoreError>;

    /// Every member of the project (at most [`MAX_MEMBERS`]), in the order they joined.
    async fn members(&self, project: &ProjectId) -> Result<Vec<Membership>, StoreError>;

    /// Gives `member` the role `role`. `Conflict` if their membership changed since it was
    /// read; `LastOwner` if they are the project's only owner and `role` is not owner.
    async fn change_role(&self, member: &Membership, role: Role) -> Result<Membership, StoreError>;

    /// Removes `member` (and their mirror). `Conflict` and `LastOwner` as for a role change.
    async fn remove_member(&self, member: &Membership) -> Result<(), StoreError>;

    /// Stores an invitation and its mirror in the invitee's partition.
    async fn invite(&self, invitation: &Invitation) -> Result<(), StoreError>;

    /// The project's invitations, open or expired.
    async fn project_invitations(&self, project: &ProjectId)
    -> Result<Vec<Invitation>, StoreError>;

    /// The invitations addressed to `email`, open or expired (one query).
    async fn invitations_for(&self, email: &Email) -> Result<Vec<Invitation>, StoreError>;

    async fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>, StoreError>;

    /// Turns the invitation into `member`'s membership, in one transaction. `NotFound` if
    /// the invitation or the project is gone; `AlreadyMember` if the user is a member;
    /// `ProjectFull` if it has [`MAX_MEMBERS`].
    async fn accept(&self, invitation: &Invitation, member: &Membership) -> Result<(), StoreError>;

    /// Deletes the invitation and its mirror; `NotFound` if it is gone.
    async fn withdraw_invitation(&self, invitation: &Invitation) -> Result<(), StoreError>;

    /// Stores a new task in its project (`task.project`), refusing to overwrite.
    async fn create_project_task(&self, task: &Task) -> Result<(), StoreError>;

    /// [`create_project_task`](Self::create_project_task), retry-safe, with `caller`'s
    /// idempotency key: as [`TaskStore::create_once`], in the project.
    async fn create_project_task_once(
        &self,
        caller: &str,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError>;

    async fn project_task(
        &self,
        project: &ProjectId,
        id: &TaskId,
    ) -> Result<Option<Task>, StoreError>;

    /// The project's tasks in `filter.sort` order, filtered.
    async fn list_project_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError>;

    /// As [`TaskStore::update`], in the project.
    async fn update_project_task(
        &self,
        project: &ProjectId,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> Result<Task, StoreError>;

    /// As [`TaskStore::delete`], in the project.
    async fn delete_project_task(
        &self,
        project: &ProjectId,
        id: &TaskId,
        expected: Option<&Timestamp>,
    ) -> Result<(), StoreError>;
}

/// Everything the API stores: personal tasks, projects and webhook endpoints, in one table.
pub trait Store: TaskStore + ProjectStore + WebhookStore {}

impl<T: TaskStore + ProjectStore + WebhookStore> Store for T {}
