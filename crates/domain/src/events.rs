//! Changes as events: what live updates push to open sockets and webhooks deliver to
//! endpoints, in one JSON shape on both runtimes (`{"id","type","at","project_id","data"}`).
//!
//! An event is made where the change is stored, after the same rules decided it: the SQLite
//! store records it in the transaction of the change (an outbox), and on AWS it is read
//! back from the table's stream. Who may see it is its [`Audience`]: the partition the
//! change happened in, a user's own (`USER#<sub>`) or a project's (`PROJECT#<id>`), so both
//! runtimes route it from the key alone.

use serde::Serialize;

use crate::keys;
use crate::{Membership, Project, ProjectId, Task, TaskId, Timestamp};

/// What happened. `member.updated` (a role change) completes the contract's list: every
/// change is an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    #[serde(rename = "task.created")]
    TaskCreated,
    #[serde(rename = "task.updated")]
    TaskUpdated,
    #[serde(rename = "task.deleted")]
    TaskDeleted,
    #[serde(rename = "project.updated")]
    ProjectUpdated,
    #[serde(rename = "project.deleted")]
    ProjectDeleted,
    #[serde(rename = "member.added")]
    MemberAdded,
    #[serde(rename = "member.updated")]
    MemberUpdated,
    #[serde(rename = "member.removed")]
    MemberRemoved,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        Self::TaskCreated,
        Self::TaskUpdated,
        Self::TaskDeleted,
        Self::ProjectUpdated,
        Self::ProjectDeleted,
        Self::MemberAdded,
        Self::MemberUpdated,
        Self::MemberRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TaskCreated => "task.created",
            Self::TaskUpdated => "task.updated",
            Self::TaskDeleted => "task.deleted",
            Self::ProjectUpdated => "project.updated",
            Self::ProjectDeleted => "project.deleted",
            Self::MemberAdded => "member.added",
            Self::MemberUpdated => "member.updated",
            Self::MemberRemoved => "member.removed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// Who may see an event: the owner of a personal task, or whoever is a member of the
/// project when the event reaches them (so a removed member stops hearing at once).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Audience {
    User(String),
    Project(ProjectId),
}

impl Audience {
    /// The audience of a change in partition `pk`; `None` for a partition that is neither
    /// a user's nor a project's.
    pub fn of_pk(pk: &str) -> Option<Self> {
        if let Some(sub) = keys::owner_of_pk(pk) {
            return Some(Self::User(sub.to_owned()));
        }
        let id = pk.strip_prefix(keys::PROJECT_PREFIX)?;
        ProjectId::parse(id).ok().map(Self::Project)
    }

    /// The partition key this audience is (`USER#<sub>` or `PROJECT#<id>`).
    pub fn pk(&self) -> String {
        match self {
            Self::User(sub) => keys::user_pk(sub),
            Self::Project(project) => keys::project_pk(project),
        }
    }
}

/// What an event carries: the task, project or member as the API returns it, or, once
/// deleted, only its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    Task(Task),
    DeletedTask { task_id: TaskId },
    Project(Project),
    DeletedProject { project_id: ProjectId },
    Member(Membership),
}

/// One change, as the live sockets and the webhooks receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Unique per change, the same on every delivery of it (a webhook's `webhook-id`).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub at: Timestamp,
    pub project_id: Option<ProjectId>,
    pub data: EventData,
}

/// An event and who may see it: what a store records for each change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub audience: Audience,
    pub event: Event,
}

impl Change {
    /// An event in `audience`'s partition; its `project_id` is the project's, if it is one.
    pub fn new(
        audience: Audience,
        id: String,
        kind: EventKind,
        at: Timestamp,
        data: EventData,
    ) -> Self {
        let project_id = match &audience {
            Audience::Project(project) => Some(project.clone()),
            Audience::User(_) => None,
        };
        Self {
            audience,
            event: Event {
                id,
                kind,
                at,
                project_id,
                data,
            },
        }
    }

    /// A task was created (`kind` [`EventKind::TaskCreated`]) or changed in `audience`'s
    /// partition: `task` as stored now.
    pub fn task(audience: Audience, id: String, kind: EventKind, task: &Task) -> Self {
        let at = task.updated_at.clone();
        Self::new(audience, id, kind, at, EventData::Task(task.clone()))
    }

    /// Task `task_id` in `audience`'s partition was deleted at `at`.
    pub fn task_deleted(audience: Audience, id: String, at: Timestamp, task_id: TaskId) -> Self {
        let data = EventData::DeletedTask { task_id };
        Self::new(audience, id, EventKind::TaskDeleted, at, data)
    }

    pub fn project_updated(id: String, project: &Project) -> Self {
        let audience = Audience::Project(project.project_id.clone());
        let at = project.updated_at.clone();
        let data = EventData::Project(project.clone());
        Self::new(audience, id, EventKind::ProjectUpdated, at, data)
    }

    pub fn project_deleted(id: String, at: Timestamp, project: ProjectId) -> Self {
        let audience = Audience::Project(project.clone());
        let data = EventData::DeletedProject {
            project_id: project,
        };
        Self::new(audience, id, EventKind::ProjectDeleted, at, data)
    }

    /// A membership was added, changed or removed (`kind`), at `at`.
    pub fn member(id: String, kind: EventKind, at: Timestamp, member: &Membership) -> Self {
        let audience = Audience::Project(member.project_id.clone());
        Self::new(audience, id, kind, at, EventData::Member(member.clone()))
    }

    /// The user a member event is about: they hear of their own joining and leaving even
    /// while they are not (or no longer) a member.
    pub fn member_user(&self) -> Option<&str> {
        match &self.event.data {
            EventData::Member(member) => Some(&member.user_id),
            _ => None,
        }
    }
}

/// A fresh event id (UUIDv7: ids of one store sort in the order they were made).
pub fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
