//! Tasks as DynamoDB items, in the seed's exact layout: every attribute a string (`S`),
//! keys built by [`taskapi_domain::keys`], `GSI1SK` = `created_at`.
//!
//! Reading is lenient because the seed's handlers never validated what they stored: a JSON
//! number in `title` became an `N`, `description` may be missing, `status` may be any
//! string, and timestamps are naive `isoformat()` text. Such items are read, not rejected.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use taskapi_domain::keys::{self, StatusShards};
use taskapi_domain::{ProjectFields, ProjectId, Status, Task, TaskId, Timestamp};

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
    let mut item = key_in(pk, &task.task_id);
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
    Ok(Task {
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
    }
}
