//! Changes read back from the table's stream (DynamoDB Streams, `NEW_AND_OLD_IMAGES`): the
//! event source on AWS, as the outbox is on SQLite. Each record of an item that the API
//! shows (a task, a project, a membership) becomes the [`Change`] the SQLite store records
//! for the same write, with the same JSON; every other item (mirrors, invitations,
//! idempotency records, connections, webhooks) and every write that changes nothing the
//! API shows (a due-date index key set after the task, a project's member counts) becomes
//! none.
//!
//! The event's id is the stream record's `eventID`, so a record read twice (a retried
//! batch) is the same event, and a webhook receiver sees the same `webhook-id`.

use taskapi_domain::{Audience, Change, EventKind, Membership, Project, TaskId, Timestamp, keys};

use crate::item::{Item, as_key_text, attr, from_item};
use crate::project_item::Reader;

/// What happened to the item (the record's `eventName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemChange {
    Insert,
    Modify,
    Remove,
}

impl ItemChange {
    /// `INSERT`, `MODIFY` or `REMOVE`.
    pub fn parse(event_name: &str) -> Option<Self> {
        match event_name {
            "INSERT" => Some(Self::Insert),
            "MODIFY" => Some(Self::Modify),
            "REMOVE" => Some(Self::Remove),
            _ => None,
        }
    }
}

/// One stream record, its images already read into items.
#[derive(Debug, Clone)]
pub struct StreamRecord {
    pub event_id: String,
    pub change: ItemChange,
    /// When the change was made (`ApproximateCreationDateTime`): a deletion's `at`.
    pub at: Timestamp,
    pub old: Option<Item>,
    pub new: Option<Item>,
}

/// A record whose images cannot be read as the item their keys say they are.
#[derive(Debug, thiserror::Error)]
#[error("stream record {event_id} ({pk}/{sk}): {reason}")]
pub struct UnreadableRecord {
    event_id: String,
    pk: String,
    sk: String,
    reason: String,
}

/// The change a stream record is, if the API shows it.
pub fn change_of(record: &StreamRecord) -> Result<Option<Change>, UnreadableRecord> {
    let Some(item) = record.new.as_ref().or(record.old.as_ref()) else {
        return Ok(None);
    };
    let (Some(pk), Some(sk)) = (as_key_text(item, attr::PK), as_key_text(item, attr::SK)) else {
        return Ok(None);
    };
    let unreadable = |reason: String| UnreadableRecord {
        event_id: record.event_id.clone(),
        pk: pk.clone(),
        sk: sk.clone(),
        reason,
    };
    let Some(audience) = Audience::of_pk(&pk) else {
        return Ok(None);
    };
    let id = record.event_id.clone();
    if let Some(task_id) = sk.strip_prefix(keys::TASK_PREFIX) {
        return task_change(record, audience, id)
            .map_err(unreadable)
            .map(|change| change.or_else(|| deleted_task(record, &pk, task_id)));
    }
    let Audience::Project(_) = audience else {
        return Ok(None);
    };
    if sk == keys::PROJECT_META_SK {
        return project_change(record, id).map_err(unreadable);
    }
    if sk.starts_with(keys::MEMBER_PREFIX) {
        return member_change(record, id).map_err(unreadable);
    }
    Ok(None)
}

/// A task created or changed; `None` for a deletion (see [`deleted_task`]) and for a write
/// that left the task as the API shows it unchanged.
fn task_change(
    record: &StreamRecord,
    audience: Audience,
    id: String,
) -> Result<Option<Change>, String> {
    let read = |item: &Option<Item>| {
        item.as_ref()
            .map(|item| from_item(item).map_err(|err| err.to_string()))
            .transpose()
    };
    let (old, new) = (read(&record.old)?, read(&record.new)?);
    Ok(match (record.change, new) {
        (ItemChange::Insert, Some(task)) => {
            Some(Change::task(audience, id, EventKind::TaskCreated, &task))
        }
        (ItemChange::Modify, Some(task)) if old.as_ref() != Some(&task) => {
            Some(Change::task(audience, id, EventKind::TaskUpdated, &task))
        }
        _ => None,
    })
}

fn deleted_task(record: &StreamRecord, pk: &str, task_id: &str) -> Option<Change> {
    if record.change != ItemChange::Remove {
        return None;
    }
    let audience = Audience::of_pk(pk)?;
    let task_id = TaskId::parse(task_id).ok()?;
    Some(Change::task_deleted(
        audience,
        record.event_id.clone(),
        record.at.clone(),
        task_id,
    ))
}

fn project_change(record: &StreamRecord, id: String) -> Result<Option<Change>, String> {
    let read = |item: &Option<Item>| -> Result<Option<Project>, String> {
        item.as_ref()
            .map(|item| Reader(item).project().map_err(|err| err.to_string()))
            .transpose()
    };
    let (old, new) = (read(&record.old)?, read(&record.new)?);
    Ok(match (record.change, old, new) {
        (ItemChange::Modify, old, Some(project)) if old.as_ref() != Some(&project) => {
            Some(Change::project_updated(id, &project))
        }
        (ItemChange::Remove, Some(project), _) => Some(Change::project_deleted(
            id,
            record.at.clone(),
            project.project_id,
        )),
        // A project's creation reaches its creator as their membership's.
        _ => None,
    })
}

fn member_change(record: &StreamRecord, id: String) -> Result<Option<Change>, String> {
    let read = |item: &Option<Item>| -> Result<Option<Membership>, String> {
        item.as_ref()
            .map(|item| Reader(item).member().map_err(|err| err.to_string()))
            .transpose()
    };
    let (old, new) = (read(&record.old)?, read(&record.new)?);
    let at = record.at.clone();
    Ok(match (record.change, old, new) {
        (ItemChange::Insert, _, Some(member)) => {
            let joined = member.joined_at.clone();
            Some(Change::member(id, EventKind::MemberAdded, joined, &member))
        }
        (ItemChange::Modify, old, Some(member)) if old.as_ref() != Some(&member) => {
            Some(Change::member(id, EventKind::MemberUpdated, at, &member))
        }
        (ItemChange::Remove, Some(member), _) => {
            Some(Change::member(id, EventKind::MemberRemoved, at, &member))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use taskapi_domain::{
        EventData, NewTask, ProjectFields, ProjectName, Role, Task, Title, keys::StatusShards,
    };

    use super::*;
    use crate::item::to_item_in;
    use crate::project_item::{member_item, meta_item};

    fn record(change: ItemChange, old: Option<Item>, new: Option<Item>) -> StreamRecord {
        StreamRecord {
            event_id: "e1".into(),
            change,
            at: Timestamp::now(),
            old,
            new,
        }
    }

    fn task() -> Task {
        Task::create(
            NewTask {
                title: Title::parse("Write").unwrap(),
                description: Default::default(),
                status: Default::default(),
                due_at: None,
                priority: Default::default(),
            },
            Timestamp::now(),
        )
    }

    fn item(pk: &str, task: &Task) -> Item {
        to_item_in(pk.to_owned(), task, StatusShards::SEED)
    }

    #[test]
    fn a_personal_task_is_created_changed_and_deleted_for_its_owner() {
        let pk = keys::user_pk("alice");
        let created = task();
        let change = change_of(&record(ItemChange::Insert, None, Some(item(&pk, &created))))
            .unwrap()
            .unwrap();
        assert_eq!(change.audience, Audience::User("alice".into()));
        assert_eq!(change.event.kind, EventKind::TaskCreated);
        assert_eq!(change.event.project_id, None);
        assert_eq!(change.event.data, EventData::Task(created.clone()));
        assert_eq!(change.event.id, "e1");

        let mut renamed = created.clone();
        renamed.title = "Rewrite".into();
        let modify = record(
            ItemChange::Modify,
            Some(item(&pk, &created)),
            Some(item(&pk, &renamed)),
        );
        let change = change_of(&modify).unwrap().unwrap();
        assert_eq!(change.event.kind, EventKind::TaskUpdated);
        assert_eq!(change.event.data, EventData::Task(renamed.clone()));

        let remove = record(ItemChange::Remove, Some(item(&pk, &renamed)), None);
        let change = change_of(&remove).unwrap().unwrap();
        assert_eq!(change.event.kind, EventKind::TaskDeleted);
        assert_eq!(
            change.event.data,
            EventData::DeletedTask {
                task_id: renamed.task_id
            }
        );
    }

    #[test]
    fn a_write_the_api_does_not_show_is_no_event() {
        let pk = keys::user_pk("alice");
        let task = task();
        let mut indexed = item(&pk, &task);
        indexed.insert(attr::GSI2PK.into(), crate::item::s("UPCOMING#alice"));
        let modify = record(ItemChange::Modify, Some(item(&pk, &task)), Some(indexed));
        assert!(change_of(&modify).unwrap().is_none());

        let mut mirror = item(&pk, &task);
        mirror.insert(attr::SK.into(), crate::item::s("PROJECT#p1"));
        assert!(
            change_of(&record(ItemChange::Insert, None, Some(mirror)))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn project_tasks_projects_and_members_go_to_the_project() {
        let project = Project::create(ProjectName::parse("Launch").unwrap(), Timestamp::now());
        let pk = keys::project_pk(&project.project_id);
        let mut in_project = task();
        in_project.project = Some(ProjectFields {
            project_id: project.project_id.clone(),
            created_by: "alice".into(),
            assignee: None,
        });
        let change = change_of(&record(
            ItemChange::Insert,
            None,
            Some(item(&pk, &in_project)),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            change.audience,
            Audience::Project(project.project_id.clone())
        );
        assert_eq!(change.event.project_id, Some(project.project_id.clone()));

        let mut renamed = project.clone();
        renamed.name = ProjectName::parse("Renamed").unwrap().into_inner();
        let modify = record(
            ItemChange::Modify,
            Some(meta_item(&project)),
            Some(meta_item(&renamed)),
        );
        let change = change_of(&modify).unwrap().unwrap();
        assert_eq!(change.event.kind, EventKind::ProjectUpdated);
        // A new project is announced by its owner's membership, not by its item.
        assert!(
            change_of(&record(ItemChange::Insert, None, Some(meta_item(&project))))
                .unwrap()
                .is_none()
        );

        let member = Membership {
            project_id: project.project_id.clone(),
            user_id: "bob".into(),
            email: Some("bob@example.com".into()),
            role: Role::Editor,
            joined_at: Timestamp::now(),
        };
        let added = change_of(&record(
            ItemChange::Insert,
            None,
            Some(member_item(&member)),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(added.event.kind, EventKind::MemberAdded);
        assert_eq!(added.member_user(), Some("bob"));
        let removed = change_of(&record(
            ItemChange::Remove,
            Some(member_item(&member)),
            None,
        ))
        .unwrap()
        .unwrap();
        assert_eq!(removed.event.kind, EventKind::MemberRemoved);
    }
}
