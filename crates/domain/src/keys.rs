//! The single-table key design shared with the seed's Python handlers. Both stores build
//! their keys only through these functions, so an item written by one is found by the other.

use std::hash::Hasher;

use crate::{
    Email, IdempotencyKey, InvitationId, ProjectId, Status, TaskId, Timestamp, ValidationError,
    WebhookId,
};

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
    format!("{IDEMPOTENCY_PREFIX}{}", key.as_str())
}

/// Sort keys of idempotency records start with this.
pub const IDEMPOTENCY_PREFIX: &str = "IDEMPOTENCY#";

/// Every project's partition key starts with this; so does the sort key of each mirror of
/// a membership in the member's partition, so "my projects" is
/// `PK = USER#<sub> AND begins_with(SK, PROJECT_PREFIX)`.
pub const PROJECT_PREFIX: &str = "PROJECT#";
/// Sort key of a project's own item (name, timestamps, owner count) in its partition.
pub const PROJECT_META_SK: &str = "META";
/// Sort keys of a project's memberships start with this.
pub const MEMBER_PREFIX: &str = "MEMBER#";
/// Sort keys of invitations (in the project's and in the invitee's partition).
pub const INVITATION_PREFIX: &str = "INVITATION#";

/// Partition key of a project's items (meta, members, invitations, tasks): `PROJECT#<id>`.
/// Its tasks are `SK = TASK#<task_id>` with the usual GSI1 keys, so the admin view lists them.
pub fn project_pk(project: &ProjectId) -> String {
    format!("{PROJECT_PREFIX}{}", project.as_str())
}

/// Sort key of a membership in the project's partition: `MEMBER#<sub>`.
pub fn member_sk(sub: &str) -> String {
    format!("{MEMBER_PREFIX}{sub}")
}

/// Sort key of a membership's mirror in the member's partition (`USER#<sub>`):
/// `PROJECT#<id>`. Outside `begins_with(SK, "TASK#")` and without GSI1 keys, so no task
/// list sees it.
pub fn project_mirror_sk(project: &ProjectId) -> String {
    project_pk(project)
}

/// Sort key of an invitation, in the project's partition and in the invitee's.
pub fn invitation_sk(id: &InvitationId) -> String {
    format!("{INVITATION_PREFIX}{}", id.as_str())
}

/// Partition key of the invitations addressed to `email`: `INVITEE#<email>`, so "my
/// invitations" is one query.
pub fn invitee_pk(email: &Email) -> String {
    format!("INVITEE#{}", email.as_str())
}

/// Sort key of the record of `sub`'s idempotency key in a project's partition (keys are
/// per caller, as for personal tasks): `IDEMPOTENCY#<sub>#<key>`.
pub fn project_idempotency_sk(sub: &str, key: &IdempotencyKey) -> String {
    format!("{IDEMPOTENCY_PREFIX}{sub}#{}", key.as_str())
}

/// Sort keys of a user's open WebSocket connections (AWS live updates) start with this,
/// in the user's partition, so the fan-out finds a user's sockets with one Query; outside
/// `begins_with(SK, "TASK#")` and without index keys, so no list sees them.
pub const CONNECTION_PREFIX: &str = "CONNECTION#";

/// Sort key of WebSocket connection `id` in its user's partition: `CONNECTION#<id>`.
pub fn connection_sk(id: &str) -> String {
    format!("{CONNECTION_PREFIX}{id}")
}

/// Partition key of the lookup item of connection `id` (`SK = CONNECTION`), which names its
/// user: `$disconnect` knows only the connection's id.
pub fn connection_pk(id: &str) -> String {
    format!("{CONNECTION_PREFIX}{id}")
}

/// Sort key of a connection's lookup item.
pub const CONNECTION_LOOKUP_SK: &str = "CONNECTION";

/// Sort keys of webhook endpoints in their audience's partition (`USER#<sub>` or
/// `PROJECT#<id>`), and the prefix of a webhook's own partition.
pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";
/// Sort key of a webhook's pointer in its own partition: where the endpoint is kept.
pub const WEBHOOK_POINTER_SK: &str = "ENDPOINT";
/// Sort keys of a webhook's delivery attempts in its own partition.
pub const DELIVERY_PREFIX: &str = "DELIVERY#";

/// Sort key of an endpoint in its audience's partition, and the partition key of its
/// pointer and attempts: `WEBHOOK#<id>`.
pub fn webhook_key(id: &WebhookId) -> String {
    format!("{WEBHOOK_PREFIX}{}", id.as_str())
}

/// Sort key of one delivery attempt: `DELIVERY#<time>#<attempt id>`, so a query in
/// descending order lists the newest first.
pub fn delivery_sk(at: &Timestamp, attempt_id: &str) -> String {
    format!("{DELIVERY_PREFIX}{}#{attempt_id}", at.as_str())
}

/// The sparse global secondary index of the Upcoming view: only open tasks with a due
/// date carry its keys, under the user whose view they are in (a personal task's owner, a
/// project task's assignee), so a page of it reads only such tasks.
pub const GSI2: &str = "GSI2";
/// The sparse global secondary index of a due-date sorted list: every task with a due
/// date carries its keys, under its own partition (`USER#<sub>` or `PROJECT#<id>`).
pub const GSI3: &str = "GSI3";

/// GSI2 partition key of the tasks in `sub`'s Upcoming view: `UPCOMING#<sub>`.
pub fn upcoming_gsi2pk(sub: &str) -> String {
    format!("UPCOMING#{sub}")
}

/// GSI3 partition key of the tasks with a due date in partition `pk`: `DUE#<pk>`, so a
/// GSI3 key never looks like a table key.
pub fn due_gsi3pk(pk: &str) -> String {
    format!("DUE#{pk}")
}

/// The sort key of a task in both due-date indexes: `<due_at>#<task_id>`. Due dates are
/// fixed-width UTC text, so text order is time order; the id orders tasks due at the same
/// instant the same way in every store.
pub fn due_sk(due_at: &Timestamp, id: &TaskId) -> String {
    format!("{}#{}", due_at.as_str(), id.as_str())
}

/// The user a partition key names, for a personal task's partition (`USER#<sub>`).
pub fn owner_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix(USER_PREFIX)
}

/// GSI1 partition key of a task: `STATUS#<status>`.
pub fn status_gsi1pk(status: Status) -> String {
    format!("STATUS#{}", status.as_str())
}

/// How many GSI1 partition keys each status is spread over (write sharding).
///
/// A DynamoDB partition takes about 1,000 write units per second, and with the seed's keys
/// every new task lands on `STATUS#pending`. With `N` shards a task's GSI1 key is
/// `STATUS#<status>#<n>`, `n` a stable hash of its id modulo `N`, so creates spread over
/// `N` partitions. `N = 1` (the default) keeps the seed's `STATUS#<status>` byte for byte.
/// Readers of a sharded table also read the seed's key, where the seed's own handlers go
/// on writing (see [`StatusShards::partitions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusShards(u16);

impl StatusShards {
    /// The seed's layout: one GSI1 partition per status.
    pub const SEED: Self = Self(1);
    /// The admin view reads every shard for each page, so `N` is kept small.
    pub const MAX: u16 = 64;

    pub fn new(count: u16) -> Result<Self, ValidationError> {
        if (1..=Self::MAX).contains(&count) {
            Ok(Self(count))
        } else {
            Err(ValidationError::new(
                "statusShards",
                format!("status shards must be 1 to {}", Self::MAX),
            ))
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// The shard of task `id`, or `None` in the seed's layout. FNV-1a of the id's bytes:
    /// a fixed function (not `std`'s seeded hasher), so every process, version and
    /// `taskapi table reshard` agrees on it.
    pub fn shard_of(self, id: &TaskId) -> Option<u16> {
        if self == Self::SEED {
            return None;
        }
        let mut hasher = fnv::FnvHasher::default();
        hasher.write(id.as_str().as_bytes());
        let shard = hasher.finish() % u64::from(self.0);
        Some(u16::try_from(shard).expect("a shard is below a u16 count"))
    }

    /// The GSI1 partition key of task `id` in `status`: `STATUS#<status>` or
    /// `STATUS#<status>#<n>`. Every writer of `GSI1PK` uses this.
    pub fn gsi1pk(self, status: Status, id: &TaskId) -> String {
        match self.shard_of(id) {
            None => status_gsi1pk(status),
            Some(shard) => format!("{}#{shard}", status_gsi1pk(status)),
        }
    }

    /// Every GSI1 partition that may hold tasks in `status`, the seed's key first: with
    /// `N = 1` just that one; else it too, for items the seed's handlers (or taskapi before
    /// sharding) wrote, then the `N` shards.
    pub fn partitions(self, status: Status) -> Vec<String> {
        let seed = status_gsi1pk(status);
        if self == Self::SEED {
            return vec![seed];
        }
        std::iter::once(seed.clone())
            .chain((0..self.0).map(|shard| format!("{seed}#{shard}")))
            .collect()
    }
}

impl Default for StatusShards {
    fn default() -> Self {
        Self::SEED
    }
}

impl std::fmt::Display for StatusShards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for StatusShards {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let count = raw.trim().parse::<u16>().map_err(|_| {
            ValidationError::new(
                "statusShards",
                format!("status shards must be a number from 1 to {}", Self::MAX),
            )
        })?;
        Self::new(count)
    }
}

/// The status a GSI1 partition key names, sharded or not (`STATUS#done`, `STATUS#done#3`);
/// `None` for anything else, e.g. a status the seed stored unvalidated.
pub fn status_of_gsi1pk(gsi1pk: &str) -> Option<Status> {
    let rest = gsi1pk.strip_prefix("STATUS#")?;
    let (status, shard) = match rest.split_once('#') {
        Some((status, shard)) => (status, Some(shard)),
        None => (rest, None),
    };
    if shard.is_some_and(|shard| shard.is_empty() || !shard.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    status.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> TaskId {
        TaskId::parse(raw).unwrap()
    }

    #[test]
    fn one_shard_is_the_seeds_key() {
        let task = id("0d4c5a8e-8f6e-4b9a-9a3b-2b8f3c1d2e4f");
        assert_eq!(
            StatusShards::SEED.gsi1pk(Status::Pending, &task),
            "STATUS#pending"
        );
        assert_eq!(StatusShards::SEED.partitions(Status::Done), ["STATUS#done"]);
    }

    #[test]
    fn shards_are_a_fixed_function_of_the_id() {
        let eight = StatusShards::new(8).unwrap();
        // FNV-1a 64 of the id's bytes, mod 8: pinned, since stored keys depend on it.
        let task = id("0d4c5a8e-8f6e-4b9a-9a3b-2b8f3c1d2e4f");
        let expected = {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for byte in task.as_str().bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            hash % 8
        };
        assert_eq!(
            eight.gsi1pk(Status::InProgress, &task),
            format!("STATUS#in_progress#{expected}")
        );
        assert_eq!(
            eight.partitions(Status::Pending),
            [
                "STATUS#pending",
                "STATUS#pending#0",
                "STATUS#pending#1",
                "STATUS#pending#2",
                "STATUS#pending#3",
                "STATUS#pending#4",
                "STATUS#pending#5",
                "STATUS#pending#6",
                "STATUS#pending#7"
            ]
        );
    }

    #[test]
    fn generated_ids_spread_over_every_shard() {
        let eight = StatusShards::new(8).unwrap();
        let mut counts = [0u32; 8];
        for _ in 0..8000 {
            counts[usize::from(eight.shard_of(&TaskId::generate()).unwrap())] += 1;
        }
        assert!(
            counts.iter().all(|&n| (800..1200).contains(&n)),
            "{counts:?}"
        );
    }

    #[test]
    fn shard_counts_are_bounded() {
        assert!(StatusShards::new(0).is_err());
        assert!("65".parse::<StatusShards>().is_err());
        assert!("x".parse::<StatusShards>().is_err());
        assert_eq!("8".parse::<StatusShards>().unwrap().get(), 8);
    }

    #[test]
    fn gsi1_keys_name_their_status() {
        assert_eq!(status_of_gsi1pk("STATUS#done"), Some(Status::Done));
        assert_eq!(status_of_gsi1pk("STATUS#pending#7"), Some(Status::Pending));
        for other in [
            "STATUS#blocked",
            "STATUS#done#",
            "STATUS#done#x",
            "USER#a",
            "",
        ] {
            assert_eq!(status_of_gsi1pk(other), None, "{other:?}");
        }
    }
}
