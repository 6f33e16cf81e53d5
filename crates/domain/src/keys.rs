//! The single-table key design shared with the seed's Python handlers. Both stores build
//! their keys only through these functions, so an item written by one is found by the other.

use crate::{IdempotencyKey, Status, TaskId};

/// Table name used by the seed.
pub const TABLE_NAME: &str = "TaskApp";
/// The global secondary index that serves the admin view (tasks by status).
pub const GSI1: &str = "GSI1";
/// Every user's partition key starts with this.
pub const USER_PREFIX: &str = "USER#";
/// Every task's sort key starts with this; a user's list is `begins_with(SK, TASK_PREFIX)`.
pub const TASK_PREFIX: &str = "TASK#";

/// Partition key of a user's items: `USER#<sub>`.
pub fn user_pk(sub: &str) -> String {
    format!("{USER_PREFIX}{sub}")
}

/// Sort key of a task: `TASK#<task_id>`.
pub fn task_sk(id: &TaskId) -> String {
    format!("{TASK_PREFIX}{}", id.as_str())
}

/// Sort key of the record of an idempotency key, in the user's partition beside their
/// tasks (outside `begins_with(SK, TASK_PREFIX)`, and with no GSI1 keys, so no list sees
/// it): `IDEMPOTENCY#<key>`.
pub fn idempotency_sk(key: &IdempotencyKey) -> String {
    format!("IDEMPOTENCY#{}", key.as_str())
}

/// GSI1 partition key of a task: `STATUS#<status>`.
pub fn status_gsi1pk(status: Status) -> String {
    format!("STATUS#{}", status.as_str())
}
