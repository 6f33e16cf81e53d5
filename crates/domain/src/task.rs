use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::{Description, Priority, ProjectFields, Title, ValidationError};

/// A task as the API returns it. Key attributes (`PK`, `SK`, `GSI1*`) never leave the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub task_id: TaskId,
    pub title: String,
    pub description: String,
    pub status: Status,
    /// When the task is due (UTC); `null` when it is not. Absent from items the seed wrote.
    pub due_at: Option<Timestamp>,
    pub priority: Priority,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set for a task in a project; absent (not even `null`) on a personal task, which
    /// keeps the seed's shape.
    #[serde(flatten)]
    pub project: Option<ProjectFields>,
}

/// The OpenAPI schema of [`Task`]: its JSON as one object, the project fields optional
/// (utoipa would describe the flattened `Option` as "an object or null" beside it).
#[cfg(feature = "openapi")]
mod schema {
    use std::borrow::Cow;

    use utoipa::openapi::{RefOr, schema::Schema};

    use super::{Priority, Status, Task, TaskId};

    /// A task as the API returns it. Only its schema is used; no value is ever built.
    #[derive(utoipa::ToSchema)]
    #[allow(dead_code)]
    struct TaskShape {
        #[schema(schema_with = TaskId::schema)]
        task_id: String,
        title: String,
        description: String,
        status: Status,
        /// When the task is due, in UTC; `null` when it is not.
        #[schema(format = DateTime)]
        due_at: Option<String>,
        priority: Priority,
        #[schema(format = DateTime)]
        created_at: String,
        #[schema(format = DateTime)]
        updated_at: String,
        /// Project tasks only: the project.
        #[schema(nullable = false)]
        project_id: Option<String>,
        /// Project tasks only: the `sub` of who created it.
        #[schema(nullable = false)]
        created_by: Option<String>,
        /// Project tasks only: the member it is assigned to, or `null`.
        assignee: Option<String>,
    }

    impl utoipa::PartialSchema for Task {
        fn schema() -> RefOr<Schema> {
            <TaskShape as utoipa::PartialSchema>::schema()
        }
    }

    impl utoipa::ToSchema for Task {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("Task")
        }

        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            <TaskShape as utoipa::ToSchema>::schemas(schemas);
        }
    }
}

impl Task {
    /// A fresh task: a time-ordered id (UUIDv7, so a user's list comes back in creation
    /// order) and both timestamps set to `now`.
    pub fn create(new: NewTask, now: Timestamp) -> Self {
        Self {
            task_id: TaskId::generate(),
            title: new.title.into_inner(),
            description: new.description.into_inner(),
            status: new.status,
            due_at: new.due_at,
            priority: new.priority,
            created_at: now.clone(),
            updated_at: now,
            project: None,
        }
    }

    /// The entity tag of this version of the task. `updated_at` changes on every write,
    /// so it identifies the version; stores compare it in their conditional updates.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.updated_at.as_str())
    }
}

/// A validated request to create a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: Title,
    pub description: Description,
    pub status: Status,
    pub due_at: Option<Timestamp>,
    pub priority: Priority,
}

/// A validated partial update: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub status: Option<Status>,
    /// `Some(None)` clears the due date.
    pub due_at: Option<Option<Timestamp>>,
    pub priority: Option<Priority>,
    /// Project tasks only: `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.due_at.is_none()
            && self.priority.is_none()
            && self.assignee.is_none()
    }
}

/// The lifecycle of a task. The wire names are the seed's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Pending,
    InProgress,
    Done,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pending, Status::InProgress, Status::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InProgress => "in_progress",
            Status::Done => "done",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("status", "status must be one of pending, in_progress, done")
            })
    }
}

/// A task's identifier. New ids are UUIDv7; ids written by the seed are UUIDv4. Parsing
/// accepts any short id of URL-safe characters, so no id can smuggle a `#` into a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TaskId(String);

impl TaskId {
    const MAX_LEN: usize = 64;
    /// What [`TaskId::parse`] accepts, as a JSON Schema `pattern` for the OpenAPI document.
    pub const PATTERN: &'static str = "^[A-Za-z0-9_-]{1,64}$";

    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// What [`TaskId::parse`] accepts, as an OpenAPI schema.
    #[cfg(feature = "openapi")]
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(Self::PATTERN))
            .min_length(Some(1))
            .max_length(Some(Self::MAX_LEN))
            .examples(["01936a4e-7c1a-7d4e-9b7e-2f1c3d4e5f60"])
            .build()
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if is_key_safe_id(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(
                "taskId",
                "taskId must be 1 to 64 letters, digits, '-' or '_'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `raw` may be an id (of a task, a project): 1 to 64 letters, digits, `-` or `_`,
/// so no id can smuggle a `#` (the key separator) into a key.
pub(crate) fn is_key_safe_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= TaskId::MAX_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A time-ordered identifier (UUIDv7, so lists of them come back in creation order) that
/// is parsed with the rules of [`is_key_safe_id`]; `$field` names it in a refusal.
macro_rules! key_safe_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::ValidationError> {
                if $crate::task::is_key_safe_id(raw) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err($crate::ValidationError::new(
                        $field,
                        concat!($field, " must be 1 to 64 letters, digits, '-' or '_'"),
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use key_safe_id;

/// An RFC 3339 UTC instant with fixed microsecond precision, so that the text order of two
/// timestamps (used as `GSI1SK`) is their time order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(at: OffsetDateTime) -> Self {
        /// RFC 3339 with exactly six fractional digits, so text order is time order.
        const FORMAT: &[BorrowedFormatItem<'_>] = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        let at = at.to_offset(time::UtcOffset::UTC);
        Self(
            at.format(FORMAT)
                .expect("a UTC date-time formats with its own fields"),
        )
    }

    /// A timestamp as found in the store. Items written by the seed carry Python's
    /// `datetime.utcnow().isoformat()`, which has no offset: it is UTC, so we say so.
    pub fn from_stored(raw: String) -> Self {
        // Ours always end in `Z`: no need to parse them (lists read two per task).
        if raw.ends_with('Z') {
            return Self(raw);
        }
        if OffsetDateTime::parse(&raw, &Rfc3339).is_err()
            && OffsetDateTime::parse(&format!("{raw}Z"), &Rfc3339).is_ok()
        {
            return Self(format!("{raw}Z"));
        }
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as stored: the same text, so it can be compared in a conditional write.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_text_in_time_order() {
        let early =
            Timestamp::from_datetime(time::macros::datetime!(2026-01-02 03:04:05.000007 UTC));
        let late = Timestamp::from_datetime(time::macros::datetime!(2026-01-02 03:04:05.12 UTC));
        assert_eq!(early.as_str(), "2026-01-02T03:04:05.000007Z");
        assert_eq!(late.as_str(), "2026-01-02T03:04:05.120000Z");
        assert!(early < late);
    }

    #[test]
    fn seed_timestamps_are_read_as_utc() {
        let seed = Timestamp::from_stored("2026-01-02T03:04:05.123456".into());
        assert_eq!(seed.as_str(), "2026-01-02T03:04:05.123456Z");
        let ours = Timestamp::from_stored("2026-01-02T03:04:05.123456Z".into());
        assert_eq!(ours.as_str(), "2026-01-02T03:04:05.123456Z");
    }

    #[test]
    fn generated_ids_are_time_ordered() {
        let ids: Vec<_> = (0..1000).map(|_| TaskId::generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        assert_eq!(ids, sorted);
    }

    #[test]
    fn task_ids_reject_key_separators() {
        assert!(TaskId::parse("abc-DEF_123").is_ok());
        for bad in ["", "a#b", "a/b", "a b", &"x".repeat(65)] {
            assert!(TaskId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn status_round_trips_its_wire_names() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>().unwrap(), status);
        }
        assert!("Pending".parse::<Status>().is_err());
        assert!("".parse::<Status>().is_err());
    }
}
