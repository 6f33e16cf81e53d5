//! The table's items as entities, for moving data between stores (`taskapi export` and
//! `import`). Each store maps these to its own storage in one place: DynamoDB to the
//! single table's items, SQLite to its rows. A file of items read into a [`Record`] is
//! thereby checked against the layout, and two stores holding the same data export the
//! same items.

use async_trait::async_trait;

use crate::{Invitation, Membership, Project, StoreError, Task, keys};

/// One item of the single table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A personal task, in its owner's partition (`USER#<sub>`).
    PersonalTask { owner: String, task: Task },
    /// A project's task (`task.project` is set), in the project's partition.
    ProjectTask(Task),
    /// A project's own item, with how many members and owners it has.
    Project {
        project: Project,
        members: i64,
        owners: i64,
    },
    /// A membership, in the project's partition.
    Member(Membership),
    /// A membership's mirror in the member's partition ("my projects"): no e-mail.
    MemberMirror(Membership),
    /// An invitation, in the project's partition.
    Invitation(Invitation),
    /// An invitation's mirror in the invitee's partition ("my invitations").
    InvitationMirror(Invitation),
    /// The record of an idempotency key.
    Idempotency(IdempotencyRecord),
}

/// An idempotency key's record: in partition `pk` (a user's or a project's), named `key`
/// there (the client's key, or `<sub>#<key>` in a project), holding the task the first
/// request created until `expires_at` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub pk: String,
    pub key: String,
    pub fingerprint: String,
    pub expires_at: i64,
    pub task: Task,
}

impl Record {
    /// The item's primary key (`PK`, `SK`), from [`keys`].
    pub fn key(&self) -> (String, String) {
        match self {
            Self::PersonalTask { owner, task } => {
                (keys::user_pk(owner), keys::task_sk(&task.task_id))
            }
            Self::ProjectTask(task) => {
                let pk = task
                    .project
                    .as_ref()
                    .map_or_else(String::new, |project| keys::project_pk(&project.project_id));
                (pk, keys::task_sk(&task.task_id))
            }
            Self::Project { project, .. } => (
                keys::project_pk(&project.project_id),
                keys::PROJECT_META_SK.to_owned(),
            ),
            Self::Member(member) => (
                keys::project_pk(&member.project_id),
                keys::member_sk(&member.user_id),
            ),
            Self::MemberMirror(member) => (
                keys::user_pk(&member.user_id),
                keys::project_mirror_sk(&member.project_id),
            ),
            Self::Invitation(invitation) => (
                keys::project_pk(&invitation.project_id),
                keys::invitation_sk(&invitation.invitation_id),
            ),
            Self::InvitationMirror(invitation) => (
                keys::invitee_pk(&invitation.email),
                keys::invitation_sk(&invitation.invitation_id),
            ),
            Self::Idempotency(record) => (
                record.pk.clone(),
                format!("{}{}", keys::IDEMPOTENCY_PREFIX, record.key),
            ),
        }
    }
}

/// What importing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportOutcome {
    /// The store did not hold it; now it does.
    Written,
    /// The store held exactly this already.
    Unchanged,
    /// The store held something else under its key, and kept it.
    Conflict,
    /// The store held something else under its key; this replaced it (`--overwrite`).
    Overwritten,
    /// A mirror item, which this store keeps with its main item (one row in SQLite).
    Derived,
}

/// A store that takes records as a file brings them (`taskapi import`).
#[async_trait]
pub trait ImportRecords: Send + Sync + 'static {
    /// Imports `records`, whose keys are distinct: each is written unless the store holds
    /// it already (`Unchanged`) or holds something else under its key (`Conflict`, or
    /// `Overwritten` with `overwrite`). One outcome per record, in order.
    async fn import(
        &self,
        records: Vec<Record>,
        overwrite: bool,
    ) -> Result<Vec<ImportOutcome>, StoreError>;
}
