//! The table's items as entities, for moving data between stores (`taskapi export` and
//! `import`). Each store maps these to its own storage in one place: DynamoDB to the
//! single table's items, SQLite to its rows. A file of items read into a [`Record`] is
//! thereby checked against the layout, and two stores holding the same data export the
//! same items.

use std::collections::HashMap;

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

impl Record {
    /// Replaces every user id (a Cognito `sub`) the record holds that `users` maps: the
    /// owner of a personal task, a member, a project task's creator and assignee, the user
    /// in an idempotency record's key. Moving to another user pool gives every user a new
    /// `sub`; with the old and new ones mapped, their data follows them.
    pub fn rename_users(&mut self, users: &HashMap<String, String>) {
        let rename = |user: &mut String| {
            if let Some(new) = users.get(user.as_str()) {
                user.clone_from(new);
            }
        };
        let rename_in_task = |task: &mut Task| {
            if let Some(project) = &mut task.project {
                rename(&mut project.created_by);
                if let Some(assignee) = &mut project.assignee {
                    rename(assignee);
                }
            }
        };
        match self {
            Self::PersonalTask { owner, .. } => rename(owner),
            Self::ProjectTask(task) => rename_in_task(task),
            Self::Member(member) | Self::MemberMirror(member) => rename(&mut member.user_id),
            Self::Project { .. } | Self::Invitation(_) | Self::InvitationMirror(_) => {}
            Self::Idempotency(record) => {
                rename_in_task(&mut record.task);
                if let Some(user) = record.pk.strip_prefix(keys::USER_PREFIX) {
                    let mut user = user.to_owned();
                    rename(&mut user);
                    record.pk = keys::user_pk(&user);
                } else if let Some((user, key)) = record.key.split_once('#') {
                    let (mut user, key) = (user.to_owned(), key.to_owned());
                    rename(&mut user);
                    record.key = format!("{user}#{key}");
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProjectFields, ProjectId, Status, TaskId, Timestamp};

    fn task(project: Option<ProjectFields>) -> Task {
        Task {
            task_id: TaskId::generate(),
            project,
            title: "t".into(),
            description: String::new(),
            status: Status::Pending,
            due_at: None,
            priority: crate::Priority::None,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    #[test]
    fn renamed_users_take_their_records_along() {
        let users = HashMap::from([("old".to_owned(), "new".to_owned())]);
        let project = ProjectId::generate();
        let fields = |by: &str, to: Option<&str>| ProjectFields {
            project_id: project.clone(),
            created_by: by.to_owned(),
            assignee: to.map(str::to_owned),
        };
        let mut personal = Record::PersonalTask {
            owner: "old".into(),
            task: task(None),
        };
        personal.rename_users(&users);
        assert_eq!(personal.key().0, "USER#new");

        let mut in_project = Record::ProjectTask(task(Some(fields("old", Some("old")))));
        in_project.rename_users(&users);
        let Record::ProjectTask(renamed) = &in_project else {
            unreachable!()
        };
        assert_eq!(renamed.project, Some(fields("new", Some("new"))));

        let mut record = Record::Idempotency(IdempotencyRecord {
            pk: keys::project_pk(&project),
            key: "old#key-1".into(),
            fingerprint: "f".into(),
            expires_at: 1,
            task: task(Some(fields("old", None))),
        });
        record.rename_users(&users);
        assert_eq!(record.key().1, "IDEMPOTENCY#new#key-1");

        let mut untouched = Record::PersonalTask {
            owner: "someone".into(),
            task: task(None),
        };
        untouched.rename_users(&users);
        assert_eq!(untouched.key().0, "USER#someone");
    }
}
