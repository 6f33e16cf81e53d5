//! Tasks as DynamoDB items, in the seed's exact layout: every attribute a string (`S`),
//! keys built by [`taskapi_domain::keys`], `GSI1SK` = `created_at`. The planning fields
//! are written only when set (`due_at`, a `priority` other than `none`), with the keys of
//! the sparse due-date indexes, so a task without them is the seed's item byte for byte.
//!
//! Reading is lenient because the seed's handlers never validated what they stored: a JSON
//! number in `title` became an `N`, `description` may be missing, `status` may be any
//! string, and timestamps are naive `isoformat()` text. Such items are read, not rejected.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use taskapi_domain::keys::{self, StatusShards};
use taskapi_domain::{Priority, ProjectFields, ProjectId, Status, Task, TaskId, Timestamp};

/// An item as the SDK hands it over.
pub type Item = HashMap<String, AttributeValue>;

/// Attribute names, shared with the seed.
pub(crate) mod attr {
    pub const PK: &str = "PK";
    pub const SK: &str = "SK";
    pub const GSI1PK: &str = "GSI1PK";
    pub const GSI1SK: &str = "GSI1SK";
    pub const TASK_ID: &str = "task_id";
    pub const TITLE: &str = "title";
    pub const DESCRIPTION: &str = "description";
    pub const STATUS: &str = "status";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
    pub const PROJECT_ID: &str = "project_id";
    pub const CREATED_BY: &str = "created_by";
    pub const ASSIGNEE: &str = "assignee";
    pub const DUE_AT: &str = "due_at";
    pub const PRIORITY: &str = "priority";
    /// The sparse index of the Upcoming view ([`keys::GSI2`]).
    pub const GSI2PK: &str = "GSI2PK";
    pub const GSI2SK: &str = "GSI2SK";
    /// The sparse index of a due-date sorted list ([`keys::GSI3`]).
    pub const GSI3PK: &str = "GSI3PK";
    pub const GSI3SK: &str = "GSI3SK";
    /// Every attribute of the due-date indexes: what a copy of a task outside the
    /// partition's task list (an idempotency record) must not carry.
    pub const DUE_INDEX_KEYS: [&str; 4] = [GSI2PK, GSI2SK, GSI3PK, GSI3SK];
}

/// The keys of `task`'s due-date indexes, stored in partition `pk`: the GSI3 keys while it
/// has a due date, the GSI2 keys while it is in someone's Upcoming view
/// ([`Task::upcoming_for`]). An attribute not listed is one the item must not have.
pub(crate) fn due_index_keys(pk: &str, task: &Task) -> Vec<(&'static str, String)> {
    let Some(due) = &task.due_at else {
        return Vec::new();
    };
    let due_sk = keys::due_sk(due, &task.task_id);
    let mut index = vec![
        (attr::GSI3PK, keys::due_gsi3pk(pk)),
        (attr::GSI3SK, due_sk.clone()),
    ];
    if let Some(user) = task.upcoming_for(keys::owner_of_pk(pk)) {
        index.push((attr::GSI2PK, keys::upcoming_gsi2pk(user)));
        index.push((attr::GSI2SK, due_sk));
    }
    index
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The primary key of task `id` in partition `pk` (a user's or a project's).
pub(crate) fn key_in(pk: String, id: &TaskId) -> Item {
    HashMap::from([
        (attr::PK.to_owned(), s(pk)),
        (attr::SK.to_owned(), s(keys::task_sk(id))),
    ])
}

/// The full item for a new task in partition `pk`, as the seed's `create_task` handler
/// writes it (with `shards` = 1; else only `GSI1PK` differs); a project task also carries its
/// project's fields (`assignee` only when someone is assigned).
pub(crate) fn to_item_in(pk: String, task: &Task, shards: StatusShards) -> Item {
    let index = due_index_keys(&pk, task);
    let mut item = key_in(pk, &task.task_id);
    for (name, value) in index {
        item.insert(name.to_owned(), s(value));
    }
    if let Some(due) = &task.due_at {
        item.insert(attr::DUE_AT.to_owned(), s(due.as_str()));
    }
    if task.priority != Priority::None {
        item.insert(attr::PRIORITY.to_owned(), s(task.priority.as_str()));
    }
    if let Some(project) = &task.project {
        item.insert(attr::PROJECT_ID.to_owned(), s(project.project_id.as_str()));
        item.insert(attr::CREATED_BY.to_owned(), s(&project.created_by));
        if let Some(assignee) = &project.assignee {
            item.insert(attr::ASSIGNEE.to_owned(), s(assignee));
        }
    }
    for (name, value) in [
        (attr::GSI1PK, shards.gsi1pk(task.status, &task.task_id)),
        (attr::GSI1SK, task.created_at.as_str().to_owned()),
        (attr::TASK_ID, task.task_id.as_str().to_owned()),
        (attr::TITLE, task.title.clone()),
        (attr::DESCRIPTION, task.description.clone()),
        (attr::STATUS, task.status.as_str().to_owned()),
        (attr::CREATED_AT, task.created_at.as_str().to_owned()),
        (attr::UPDATED_AT, task.updated_at.as_str().to_owned()),
    ] {
        item.insert(name.to_owned(), s(value));
    }
    item
}

/// An item that cannot be shown as a task at all (no usable id or no timestamp).
#[derive(Debug, thiserror::Error)]
#[error("item {pk}/{sk} is not a readable task: {reason}")]
pub(crate) struct UnreadableItem {
    pk: String,
    sk: String,
    reason: &'static str,
}

/// Reads a task item, whatever wrote it.
pub(crate) fn from_item(item: &Item) -> Result<Task, UnreadableItem> {
    let text = |name: &str| item.get(name).and_then(as_text);
    let unreadable = |reason| UnreadableItem {
        pk: text(attr::PK).unwrap_or_default(),
        sk: text(attr::SK).unwrap_or_default(),
        reason,
    };
    // The sort key, not the `task_id` copy, is what routes address, so it is the authority.
    let task_id = text(attr::SK)
        .as_deref()
        .and_then(|sk| sk.strip_prefix(keys::TASK_PREFIX))
        .and_then(|id| TaskId::parse(id).ok())
        .ok_or_else(|| unreadable("its SK is not TASK#<id>"))?;
    let created_at = text(attr::CREATED_AT)
        .or_else(|| text(attr::GSI1SK))
        .or_else(|| text(attr::UPDATED_AT))
        .ok_or_else(|| unreadable("it has no timestamp"))?;
    let updated_at = text(attr::UPDATED_AT).unwrap_or_else(|| created_at.clone());
    let status = match text(attr::STATUS) {
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            tracing::warn!(task_id = %task_id, status = %raw, "unknown status read as pending");
            Status::Pending
        }),
        None => Status::Pending,
    };
    let project = text(attr::PROJECT_ID)
        .map(|project| {
            Ok(ProjectFields {
                project_id: ProjectId::parse(&project)
                    .map_err(|_| unreadable("its project_id is not a project id"))?,
                created_by: text(attr::CREATED_BY).unwrap_or_default(),
                assignee: text(attr::ASSIGNEE),
            })
        })
        .transpose()?;
    let priority = match text(attr::PRIORITY) {
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            tracing::warn!(task_id = %task_id, priority = %raw, "unknown priority read as none");
            Priority::None
        }),
        None => Priority::None,
    };
    Ok(Task {
        due_at: text(attr::DUE_AT).map(Timestamp::from_stored),
        priority,
        task_id,
        project,
        title: text(attr::TITLE).unwrap_or_default(),
        description: text(attr::DESCRIPTION).unwrap_or_default(),
        status,
        created_at: Timestamp::from_stored(created_at),
        updated_at: Timestamp::from_stored(updated_at),
    })
}

/// A key attribute's string value; keys are always `S` in this table.
pub(crate) fn as_key_text(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

/// A scalar as text: strings as they are, numbers in their decimal form, booleans as
/// `true`/`false`. Nulls, sets, lists and maps have no text form and count as absent.
fn as_text(value: &AttributeValue) -> Option<String> {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => Some(text.clone()),
        AttributeValue::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_item() -> Item {
        HashMap::from([
            ("PK".into(), s("USER#abc")),
            ("SK".into(), s("TASK#0d4c5a8e-8f6e-4b9a-9a3b-2b8f3c1d2e4f")),
            ("GSI1PK".into(), s("STATUS#pending")),
            ("GSI1SK".into(), s("2026-01-02T03:04:05.123456")),
            ("task_id".into(), s("0d4c5a8e-8f6e-4b9a-9a3b-2b8f3c1d2e4f")),
            ("title".into(), AttributeValue::N("42".into())),
            ("status".into(), s("pending")),
            ("created_at".into(), s("2026-01-02T03:04:05.123456")),
            ("updated_at".into(), s("2026-01-02T03:04:06")),
        ])
    }

    #[test]
    fn reads_what_the_seed_wrote() {
        let task = from_item(&seed_item()).unwrap();
        assert_eq!(
            task.task_id.as_str(),
            "0d4c5a8e-8f6e-4b9a-9a3b-2b8f3c1d2e4f"
        );
        assert_eq!(task.title, "42");
        assert_eq!(task.description, "");
        assert_eq!(task.status, Status::Pending);
        assert_eq!(task.created_at.as_str(), "2026-01-02T03:04:05.123456Z");
        assert_eq!(task.updated_at.as_str(), "2026-01-02T03:04:06Z");
    }

    #[test]
    fn unknown_status_reads_as_pending() {
        let mut item = seed_item();
        item.insert("status".into(), s("blocked"));
        assert_eq!(from_item(&item).unwrap().status, Status::Pending);
    }

    #[test]
    fn an_item_without_a_task_key_is_unreadable() {
        let mut item = seed_item();
        item.insert("SK".into(), s("PROFILE#abc"));
        let err = from_item(&item).unwrap_err();
        assert!(err.to_string().contains("USER#abc/PROFILE#abc"), "{err}");
    }

    #[test]
    fn round_trips_our_own_items() {
        let task = Task {
            task_id: TaskId::generate(),
            title: "Ship".into(),
            description: "it".into(),
            status: Status::InProgress,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            due_at: None,
            priority: Priority::None,
            project: None,
        };
        let item = to_item_in(keys::user_pk("abc"), &task, StatusShards::SEED);
        assert_eq!(item["GSI1PK"], s("STATUS#in_progress"));
        let sharded = to_item_in(keys::user_pk("abc"), &task, StatusShards::new(8).unwrap());
        let shard = StatusShards::new(8)
            .unwrap()
            .shard_of(&task.task_id)
            .unwrap();
        assert_eq!(sharded["GSI1PK"], s(format!("STATUS#in_progress#{shard}")));
        assert_eq!(item["GSI1SK"], s(task.created_at.as_str()));
        assert!(
            item.values().all(|value| value.is_s()),
            "every attribute is S"
        );
        assert_eq!(from_item(&item).unwrap(), task);
        let names: std::collections::BTreeSet<&str> = item.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            std::collections::BTreeSet::from([
                "PK",
                "SK",
                "GSI1PK",
                "GSI1SK",
                "task_id",
                "title",
                "description",
                "status",
                "created_at",
                "updated_at"
            ]),
            "an unplanned task has the seed's attributes, no more"
        );
    }

    #[test]
    fn a_seed_item_reads_as_unplanned() {
        let task = from_item(&seed_item()).unwrap();
        assert_eq!((task.due_at, task.priority), (None, Priority::None));
    }

    #[test]
    fn planned_tasks_carry_their_due_index_keys() {
        let mut task = from_item(&seed_item()).unwrap();
        task.due_at = Some(Timestamp::from_stored("2030-01-01T00:00:00.000000Z".into()));
        task.priority = Priority::High;
        let item = to_item_in(keys::user_pk("abc"), &task, StatusShards::SEED);
        let due_sk = format!("2030-01-01T00:00:00.000000Z#{}", task.task_id);
        assert_eq!(item["GSI2PK"], s("UPCOMING#abc"));
        assert_eq!(item["GSI2SK"], s(&due_sk));
        assert_eq!(item["GSI3PK"], s("DUE#USER#abc"));
        assert_eq!(item["GSI3SK"], s(&due_sk));
        assert_eq!(item["priority"], s("high"));
        assert_eq!(from_item(&item).unwrap(), task);
        task.status = Status::Done;
        let done = to_item_in(keys::user_pk("abc"), &task, StatusShards::SEED);
        assert!(!done.contains_key("GSI2PK") && !done.contains_key("GSI2SK"));
        assert!(done.contains_key("GSI3PK"), "still in the due-sorted list");
    }
}
