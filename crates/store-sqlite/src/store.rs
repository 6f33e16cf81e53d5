use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params, params_from_iter};
use taskapi_domain::{
    Created, EventKind, IdempotentCreate, ListQuery, NotReady, Page, PageKey, Priority, Sort,
    Status, StoreError, Task, TaskFilter, TaskId, TaskStore, TaskUpdate, Timestamp, keys,
};

use crate::OpenError;
use crate::fault::{Health, sql};
use crate::outbox::{self, Committed, Feed};
use crate::planning;
use crate::readers::Readers;
use crate::rows::{KeyedTask, paginate, row_to_any_task, row_to_task};
use crate::schema::{any_task_columns, open_writer, task_columns};
use crate::writer::Writer;

#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    health: Arc<Health>,
    feed: Feed,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, after checking its integrity.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let conn = open_writer(path)?;
        let health = Arc::new(Health::new(path).map_err(|source| OpenError::Identify {
            path: path.display().to_string(),
            source,
        })?);
        let feed = Feed::new();
        Ok(Self {
            writer: Writer::start(conn, Arc::clone(&health), feed.clone())?,
            readers: Readers::new(path),
            health,
            feed,
        })
    }

    /// The events of every change, as each batch of writes commits (see [`Feed`]).
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// The recorded events after number `seq`, oldest first, at most `limit`: where a
    /// consumer that keeps a cursor reads, and where a live subscriber that lagged resyncs.
    pub fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<Committed>, StoreError> {
        self.read(|conn| outbox::after(conn, seq, limit))
    }

    pub(crate) async fn write<T, F>(&self, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.health.observe(self.writer.write(write).await)
    }

    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.health.observe(self.readers.read(read))
    }
}

/// The upper bound of `begins_with(SK, "TASK#")`: the next string after every `TASK#...`.
const TASK_PREFIX_END: &str = "TASK$";

/// A page of a user's tasks: `?1` PK, after SK `?2`, below `?3`, at most `?4` rows.
const LIST_OWNER: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM TaskApp WHERE PK = ?1 AND SK > ?2 AND SK < ?3 ORDER BY SK LIMIT ?4"
);
/// The same, only tasks in status `?5`. Read through the owner-by-status index, so a page
/// costs the same however many tasks of other statuses the owner has; named, because
/// without statistics SQLite prefers the primary key (no lookups) and filters every row.
const LIST_OWNER_IN_STATUS: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM TaskApp INDEXED BY OwnerStatus",
    " WHERE PK = ?1 AND status = ?5 AND SK > ?2 AND SK < ?3 ORDER BY SK LIMIT ?4"
);

/// The record of idempotency key `?2` of `?1` if it still holds at `?3`: the task it
/// created, then the fingerprint of the request.
const SELECT_IDEMPOTENCY: &str = concat!(
    "SELECT ",
    task_columns!(),
    ", fingerprint FROM Idempotency WHERE PK = ?1 AND idem_key = ?2 AND expires_at > ?3"
);
/// Stores a new task (its keys last).
const INSERT_TASK: &str = concat!(
    "INSERT INTO TaskApp (",
    task_columns!(),
    ", PK, SK, GSI1PK, GSI1SK) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
     ON CONFLICT (PK, SK) DO NOTHING"
);
/// Stores a new project task: a task's columns, its keys, then its project's.
const INSERT_PROJECT_TASK: &str = concat!(
    "INSERT INTO TaskApp (",
    task_columns!(),
    ", PK, SK, GSI1PK, GSI1SK, project_id, created_by, assignee)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
     ON CONFLICT (PK, SK) DO NOTHING"
);
/// Records a key (the task, then the key); an expired record of the same key is replaced.
pub(crate) const UPSERT_IDEMPOTENCY: &str = concat!(
    "INSERT OR REPLACE INTO Idempotency (",
    task_columns!(),
    ", PK, idem_key, fingerprint, expires_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
);
/// Deletes a few expired records per keyed create, so the table stays about as large as
/// one window's keys without a sweeper of its own (DynamoDB's TTL does this there).
const PRUNE_IDEMPOTENCY: &str = "DELETE FROM Idempotency WHERE rowid IN
    (SELECT rowid FROM Idempotency WHERE expires_at <= ?1 ORDER BY expires_at LIMIT 8)";

#[async_trait]
impl TaskStore for SqliteStore {
    async fn create(&self, owner: &str, task: &Task) -> Result<(), StoreError> {
        let task = task.clone();
        let pk = keys::user_pk(owner);
        self.write(move |conn| insert_new_task(conn, &pk, &task))
            .await
    }

    async fn create_once(
        &self,
        owner: &str,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError> {
        let key = once.key.as_str().to_owned();
        self.create_once_in(keys::user_pk(owner), key, task, once)
            .await
    }

    async fn get(&self, owner: &str, id: &TaskId) -> Result<Option<Task>, StoreError> {
        let (pk, sk) = (keys::user_pk(owner), keys::task_sk(id));
        self.read(|conn| select_task(conn, &pk, &sk))
    }

    async fn list_for_owner(
        &self,
        owner: &str,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        let pk = keys::user_pk(owner);
        let plain = filter.sort == Sort::CreatedAt
            && filter.due_before.is_none()
            && filter.assignee.is_none();
        if !plain {
            return self.read(|conn| planning::list(conn, &pk, filter, query));
        }
        let status = filter.status;
        let after = query
            .start_after
            .as_ref()
            .map_or_else(|| keys::TASK_PREFIX.to_owned(), |key| key.sk.clone());
        let limit = query.limit.get();
        // Two fixed statements rather than one with `(?5 IS NULL OR status = ?5)`: SQLite
        // re-prepares a statement whose plan depends on a bound value at every execution
        // (it showed as SQL parsing in every list request's profile).
        let rows_wanted = (limit + 1) as i64;
        self.read(|conn| {
            // The page key is derived, not read: PK is the owner's, SK the task's.
            let keyed = |row: &Row<'_>| {
                let task = row_to_task(row)?;
                let sk = keys::task_sk(&task.task_id);
                Ok(KeyedTask {
                    task,
                    key: PageKey::table(pk.clone(), sk),
                })
            };
            let mut select = conn
                .prepare_cached(status.map_or(LIST_OWNER, |_| LIST_OWNER_IN_STATUS))
                .map_err(sql)?;
            let rows = match status {
                None => select.query_map(params![pk, after, TASK_PREFIX_END, rows_wanted], &keyed),
                Some(status) => select.query_map(
                    params![pk, after, TASK_PREFIX_END, rows_wanted, status.as_str()],
                    &keyed,
                ),
            }
            .map_err(sql)?;
            paginate(rows, limit)
        })
    }

    async fn list_by_status(&self, status: Status, query: &ListQuery) -> Result<Page, StoreError> {
        let gsi1pk = keys::status_gsi1pk(status);
        let (after_gsi1sk, after_pk, after_sk) = match &query.start_after {
            Some(key) => (
                key.gsi1sk.clone().unwrap_or_default(),
                key.pk.clone(),
                key.sk.clone(),
            ),
            None => Default::default(),
        };
        let limit = query.limit.get();
        self.read(|conn| {
            let mut select = conn
                .prepare_cached(concat!(
                    "SELECT ",
                    any_task_columns!(),
                    ", PK, SK, GSI1PK, GSI1SK FROM TaskApp
                         WHERE GSI1PK = ?1 AND (GSI1SK, PK, SK) > (?2, ?3, ?4)
                         ORDER BY GSI1SK, PK, SK LIMIT ?5"
                ))
                .map_err(sql)?;
            let rows = select
                .query_map(
                    params![gsi1pk, after_gsi1sk, after_pk, after_sk, (limit + 1) as i64],
                    |row| {
                        Ok(KeyedTask {
                            task: row_to_any_task(row)?,
                            key: PageKey {
                                pk: row.get(11)?,
                                sk: row.get(12)?,
                                gsi1pk: row.get(13)?,
                                gsi1sk: row.get(14)?,
                                due_sk: None,
                            },
                        })
                    },
                )
                .map_err(sql)?;
            paginate(rows, limit)
        })
    }

    async fn upcoming(&self, user: &str, query: &ListQuery) -> Result<Page, StoreError> {
        let gsi2pk = keys::upcoming_gsi2pk(user);
        self.read(|conn| planning::upcoming(conn, &gsi2pk, query))
    }

    async fn update(
        &self,
        owner: &str,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> Result<Task, StoreError> {
        self.update_in(keys::user_pk(owner), id, update).await
    }

    async fn delete(
        &self,
        owner: &str,
        id: &TaskId,
        expected: Option<&Timestamp>,
    ) -> Result<(), StoreError> {
        self.delete_in(keys::user_pk(owner), id, expected).await
    }

    /// Ready when the file is still the one opened and no statement has found it corrupt,
    /// this process still holds its locks on it, no storage fault is in progress, and a
    /// one-row write commits and reads back.
    async fn ready(&self) -> Result<(), NotReady> {
        self.health.check_file().map_err(NotReady)?;
        self.health.check_intact().map_err(NotReady)?;
        self.health.check_locks().map_err(NotReady)?;
        let now = Timestamp::now();
        let written = now.clone();
        let probe = self
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO Readiness (id, checked_at) VALUES (1, ?1)
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                )
                .and_then(|mut upsert| upsert.execute([written.as_str()]))
                .map_err(sql)
            })
            .await
            .and_then(|_| {
                self.read(|conn| {
                    conn.query_row("SELECT checked_at FROM Readiness WHERE id = 1", [], |row| {
                        row.get::<_, String>(0)
                    })
                    .map_err(sql)
                })
            });
        match probe {
            Ok(read) if read == now.as_str() => Ok(()),
            Ok(read) => Err(NotReady(format!(
                "the readiness row read back {read}, not the {now:?} just written"
            ))),
            Err(err) => Err(self
                .health
                .trouble()
                .unwrap_or_else(|| NotReady(format!("a probe write failed: {err}")))),
        }
    }
}

impl SqliteStore {
    /// Stores `task` in partition `pk` with the record of idempotency key `key` (as the
    /// `Idempotency` table names it in that partition), unless the key still holds.
    pub(crate) async fn create_once_in(
        &self,
        pk: String,
        key: String,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError> {
        let (task, once) = (task.clone(), once.clone());
        // The writer runs one request at a time, so the check and the inserts below see
        // every earlier request with the same key, committed or in the same transaction.
        self.write(move |conn| {
            let held = conn
                .prepare_cached(SELECT_IDEMPOTENCY)
                .and_then(|mut select| {
                    select
                        .query_row(params![pk, key, once.used_at], |row| {
                            Ok((row_to_task(row)?, row.get::<_, String>(8)?))
                        })
                        .optional()
                })
                .map_err(sql)?;
            if let Some((mut first, fingerprint)) = held {
                if fingerprint != once.fingerprint {
                    return Err(StoreError::IdempotencyKeyReused);
                }
                // The record keeps a task's own columns; a project task's project, creator
                // and assignee are this attempt's, as the fingerprint matched (it covers
                // the assignee) and keys are per caller.
                first.project = task.project.clone();
                return Ok(Created::Replayed(Box::new(first)));
            }
            insert_new_task(conn, &pk, &task)?;
            let record: [&dyn ToSql; 4] = [&pk, &key, &once.fingerprint, &once.expires_at];
            insert_with_task(conn, UPSERT_IDEMPOTENCY, &task, &record)
                .and_then(|_| conn.prepare_cached(PRUNE_IDEMPOTENCY))
                .and_then(|mut prune| prune.execute(params![once.used_at]))
                .map_err(sql)?;
            Ok(Created::New)
        })
        .await
    }

    /// Updates task `id` in partition `pk` (a user's or a project's).
    pub(crate) async fn update_in(
        &self,
        pk: String,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> Result<Task, StoreError> {
        let sk = keys::task_sk(id);
        let update = update.clone();
        self.write(move |conn| {
            let current = stored_version(conn, &pk, &sk)?;
            check_version(current, update.expected_updated_at.as_ref())?;
            let patch = &update.patch;
            conn.prepare_cached(concat!(
                "UPDATE TaskApp SET
                         title = coalesce(?3, title),
                         description = coalesce(?4, description),
                         status = coalesce(?5, status),
                         GSI1PK = coalesce(?6, GSI1PK),
                         updated_at = ?7,
                         assignee = CASE WHEN ?8 THEN ?9 ELSE assignee END,
                         due_at = CASE WHEN ?10 THEN ?11 ELSE due_at END,
                         priority = coalesce(?12, priority)
                     WHERE PK = ?1 AND SK = ?2
                     RETURNING ",
                any_task_columns!(),
                ""
            ))
            .and_then(|mut set| {
                set.query_row(
                    params![
                        pk,
                        sk,
                        patch.title.as_ref().map(|title| title.as_str()),
                        patch.description.as_ref().map(|text| text.as_str()),
                        patch.status.map(Status::as_str),
                        patch.status.map(keys::status_gsi1pk),
                        update.updated_at.as_str(),
                        patch.assignee.is_some(),
                        patch.assignee.clone().flatten(),
                        patch.due_at.is_some(),
                        patch.due_at.clone().flatten().map(Timestamp::into_inner),
                        patch.priority.map(Priority::as_str),
                    ],
                    row_to_any_task,
                )
            })
            .map_err(sql)
            .and_then(|task| {
                planning::index(conn, &pk, &task)?;
                outbox::record_task(conn, &pk, EventKind::TaskUpdated, &task)?;
                Ok(task)
            })
        })
        .await
    }

    /// Deletes task `id` from partition `pk`.
    pub(crate) async fn delete_in(
        &self,
        pk: String,
        id: &TaskId,
        expected: Option<&Timestamp>,
    ) -> Result<(), StoreError> {
        let (sk, id) = (keys::task_sk(id), id.clone());
        let expected = expected.cloned();
        self.write(move |conn| {
            check_version(stored_version(conn, &pk, &sk)?, expected.as_ref())?;
            conn.prepare_cached("DELETE FROM TaskApp WHERE PK = ?1 AND SK = ?2")
                .and_then(|mut delete| delete.execute(params![pk, sk]))
                .map_err(sql)?;
            outbox::record_task_deleted(conn, &pk, &id)
        })
        .await
    }
}

/// Stores a task a caller created, and its `task.created` event.
pub(crate) fn insert_new_task(conn: &Connection, pk: &str, task: &Task) -> Result<(), StoreError> {
    insert_task(conn, pk, task)?;
    outbox::record_task(conn, pk, EventKind::TaskCreated, task)
}

/// Stores a task (a caller's, or an imported one) as it is.
pub(crate) fn insert_task(conn: &Connection, pk: &str, task: &Task) -> Result<(), StoreError> {
    let sk = keys::task_sk(&task.task_id);
    let gsi1pk = keys::status_gsi1pk(task.status);
    let keys: [&dyn ToSql; 4] = [&pk, &sk, &gsi1pk, &task.created_at.as_str()];
    let inserted = match &task.project {
        None => insert_with_task(conn, INSERT_TASK, task, &keys),
        Some(project) => {
            let fields: [&dyn ToSql; 3] = [
                &project.project_id.as_str(),
                &project.created_by,
                &project.assignee,
            ];
            let rest: Vec<&dyn ToSql> = keys.iter().chain(&fields).copied().collect();
            insert_with_task(conn, INSERT_PROJECT_TASK, task, &rest)
        }
    }
    .map_err(sql)?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists);
    }
    // Only a task with a due date is in a due-date index; the others have no keys to set.
    if task.due_at.is_some() {
        planning::index(conn, pk, task)?;
    }
    Ok(())
}

/// Runs `insert`, whose first eight values are a task's, in [`task_columns!`] order, and the
/// next ones `rest`.
pub(crate) fn insert_with_task(
    conn: &Connection,
    insert: &str,
    task: &Task,
    rest: &[&dyn ToSql],
) -> rusqlite::Result<usize> {
    let fields: [&dyn ToSql; 8] = [
        &task.task_id.as_str(),
        &task.title,
        &task.description,
        &task.status.as_str(),
        &task.created_at.as_str(),
        &task.updated_at.as_str(),
        &task.due_at.as_ref().map(Timestamp::as_str),
        &task.priority.as_str(),
    ];
    conn.prepare_cached(insert)?
        .execute(params_from_iter(fields.iter().chain(rest.iter())))
}

pub(crate) fn select_task(
    conn: &Connection,
    pk: &str,
    sk: &str,
) -> Result<Option<Task>, StoreError> {
    conn.prepare_cached(concat!(
        "SELECT ",
        task_columns!(),
        " FROM TaskApp WHERE PK = ?1 AND SK = ?2"
    ))
    .and_then(|mut select| select.query_row(params![pk, sk], row_to_task).optional())
    .map_err(sql)
}

/// The stored `updated_at` of a task: its version, which `If-Match` names.
fn stored_version(conn: &Connection, pk: &str, sk: &str) -> Result<Timestamp, StoreError> {
    conn.prepare_cached("SELECT updated_at FROM TaskApp WHERE PK = ?1 AND SK = ?2")
        .and_then(|mut select| {
            select
                .query_row(params![pk, sk], |row| row.get(0))
                .optional()
        })
        .map_err(sql)?
        .map(Timestamp::from_stored)
        .ok_or(StoreError::NotFound)
}

/// `PreconditionFailed` unless the stored version is the expected one (when one is).
fn check_version(stored: Timestamp, expected: Option<&Timestamp>) -> Result<(), StoreError> {
    match expected {
        Some(expected) if *expected != stored => Err(StoreError::PreconditionFailed),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::{LIST_OWNER_IN_STATUS, SqliteStore};

    /// A status-filtered page reads the owner-by-status index, not every task of the owner.
    #[test]
    fn status_filtered_lists_use_the_owner_status_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tasks.sqlite3");
        drop(SqliteStore::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {LIST_OWNER_IN_STATUS}"))
            .unwrap()
            .query_map(["u", "a", "b", "1", "done"], |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("; ");
        assert!(plan.contains("USING INDEX OwnerStatus"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
    }
}
