//! Moving data in and out of the database (`taskapi export` and `import`): each table's rows
//! as the [`Record`]s the DynamoDB store keeps as items, and back. One function per entity
//! reads its rows and one writes them, with the row readers and writers the store itself
//! uses, so a column added to an entity is added here by the same edit.
//!
//! The DynamoDB table keeps a membership and an invitation twice (the item and its mirror
//! in the member's or invitee's partition) and a project's member counts on its item;
//! here those are one row each and counts of rows. An export writes the mirrors and counts
//! from the rows; an import takes the rows from the main items and reports mirrors as
//! [`ImportOutcome::Derived`].

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};
use taskapi_domain::{
    IdempotencyRecord, ImportOutcome, ImportRecords, Invitation, InvitationId, Membership,
    ProjectFields, ProjectId, Record, StoreError, Task, keys,
};

use crate::SqliteStore;
use crate::fault::{execute, sql};
use crate::projects::{
    INVITATION_COLUMNS, MEMBER_COLUMNS, insert_member, invitation_values, row_to_invitation,
    row_to_member, row_to_project, select_member, select_project,
};
use crate::rows::{row_to_any_task, row_to_task};
use crate::schema::{any_task_columns, task_columns};
use crate::store::{UPSERT_IDEMPOTENCY, insert_task, insert_with_task};

/// What [`SqliteStore::export`] hands each record to; an error stops the export.
pub type ExportError = Box<dyn std::error::Error + Send + Sync>;

impl SqliteStore {
    /// Hands every record the database holds to `each`, from one read transaction (so a
    /// consistent snapshot, however long the export takes, while the server goes on
    /// writing); idempotency records only while they hold at `now` (Unix seconds).
    /// Returns how many records were exported.
    pub fn export(
        &self,
        now: i64,
        mut each: impl FnMut(Record) -> Result<(), ExportError>,
    ) -> Result<u64, StoreError> {
        self.read(|conn| {
            conn.execute_batch("BEGIN").map_err(sql)?;
            let exported = export_all(conn, now, &mut each);
            // A read transaction has nothing to keep: end it whatever happened.
            conn.execute_batch("ROLLBACK").map_err(sql)?;
            exported
        })
    }
}

/// One transaction per call.
#[async_trait]
impl ImportRecords for SqliteStore {
    async fn import(
        &self,
        records: Vec<Record>,
        overwrite: bool,
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        self.write(move |conn| {
            records
                .iter()
                .map(|record| import_one(conn, record, overwrite))
                .collect()
        })
        .await
    }
}

fn export_all(
    conn: &Connection,
    now: i64,
    each: &mut impl FnMut(Record) -> Result<(), ExportError>,
) -> Result<u64, StoreError> {
    let mut count = 0;
    let mut emit = |record| {
        count += 1;
        each(record).map_err(StoreError::Internal)
    };
    for_each_row(
        conn,
        concat!(
            "SELECT ",
            any_task_columns!(),
            ", PK FROM TaskApp ORDER BY PK, SK"
        ),
        [],
        |row| {
            let task = row_to_any_task(row)?;
            // By name: the task's columns come first, however many there are.
            let pk: String = row.get("PK")?;
            match (&task.project, pk.strip_prefix(keys::USER_PREFIX)) {
                (None, Some(owner)) => Ok(Record::PersonalTask {
                    owner: owner.to_owned(),
                    task,
                }),
                (Some(_), _) => Ok(Record::ProjectTask(task)),
                (None, None) => Err(unreadable(format!(
                    "task row {pk} without a project outside a user's partition"
                ))),
            }
        },
        &mut emit,
    )?;
    for_each_row(
        conn,
        "SELECT project_id, name, created_at, updated_at,
            (SELECT count(*) FROM Members m WHERE m.project_id = p.project_id),
            (SELECT count(*) FROM Members m WHERE m.project_id = p.project_id AND m.role = 'owner')
         FROM Projects p ORDER BY project_id",
        [],
        |row| {
            Ok(Record::Project {
                project: row_to_project(row)?,
                members: row.get(4)?,
                owners: row.get(5)?,
            })
        },
        &mut emit,
    )?;
    for_each_row(
        conn,
        &format!("SELECT {MEMBER_COLUMNS} FROM Members ORDER BY project_id, user_id"),
        [],
        row_to_member,
        |member| {
            let mirror = Membership {
                email: None,
                ..member.clone()
            };
            emit(Record::Member(member))?;
            emit(Record::MemberMirror(mirror))
        },
    )?;
    for_each_row(
        conn,
        &format!("SELECT {INVITATION_COLUMNS} FROM Invitations ORDER BY invitation_id"),
        [],
        row_to_invitation,
        |invitation| {
            emit(Record::Invitation(invitation.clone()))?;
            emit(Record::InvitationMirror(invitation))
        },
    )?;
    for_each_row(
        conn,
        concat!(
            "SELECT ",
            task_columns!(),
            ", PK, idem_key, fingerprint, expires_at,
               (SELECT assignee FROM TaskApp t
                 WHERE t.PK = Idempotency.PK AND t.SK = 'TASK#' || Idempotency.task_id)
                 AS task_assignee
             FROM Idempotency WHERE expires_at > ?1 ORDER BY PK, idem_key"
        ),
        [now],
        row_to_idempotency,
        |record| emit(Record::Idempotency(record)),
    )?;
    Ok(count)
}

/// Runs `select` and hands each row, read by `read`, to `each`, one at a time.
fn for_each_row<T, P: rusqlite::Params>(
    conn: &Connection,
    select: &str,
    params: P,
    read: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    mut each: impl FnMut(T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut statement = conn.prepare(select).map_err(sql)?;
    let mut rows = statement.query(params).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        each(read(row).map_err(sql)?)?;
    }
    Ok(())
}

/// An idempotency record's row: the task's columns, then (read by name) `PK`, the key,
/// the fingerprint, the expiry and the assignee of the task it created. The DynamoDB
/// record of a project task carries the task's project fields; here they are the
/// partition's project, the caller in the key (`<sub>#<key>`) and the task's assignee.
fn row_to_idempotency(row: &Row<'_>) -> rusqlite::Result<IdempotencyRecord> {
    let mut task = row_to_task(row)?;
    let pk: String = row.get("PK")?;
    let key: String = row.get("idem_key")?;
    if let Some(project) = pk.strip_prefix(keys::PROJECT_PREFIX) {
        task.project = Some(ProjectFields {
            project_id: ProjectId::parse(project).map_err(|err| unreadable(err.to_string()))?,
            created_by: key
                .split_once('#')
                .map(|(sub, _)| sub.to_owned())
                .unwrap_or_default(),
            assignee: row.get("task_assignee")?,
        });
    }
    Ok(IdempotencyRecord {
        pk,
        key,
        fingerprint: row.get("fingerprint")?,
        expires_at: row.get("expires_at")?,
        task,
    })
}

/// A row no record can be made of.
fn unreadable(reason: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, reason.into())
}

/// What to do with a record, given whether the database holds it (`Some(true)`) or
/// something else under its key (`Some(false)`).
fn decide(held: Option<bool>, overwrite: bool) -> ImportOutcome {
    match held {
        None => ImportOutcome::Written,
        Some(true) => ImportOutcome::Unchanged,
        Some(false) if overwrite => ImportOutcome::Overwritten,
        Some(false) => ImportOutcome::Conflict,
    }
}

fn import_one(
    conn: &Connection,
    record: &Record,
    overwrite: bool,
) -> Result<ImportOutcome, StoreError> {
    match record {
        Record::PersonalTask { task, .. } | Record::ProjectTask(task) => {
            import_task(conn, &record.key().0, task, overwrite)
        }
        Record::Project { project, .. } => {
            let held = select_project(conn, &project.project_id)?;
            let outcome = decide(held.map(|held| held == *project), overwrite);
            if writes(outcome) {
                execute(
                    conn,
                    "INSERT OR REPLACE INTO Projects (project_id, name, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    &[
                        &project.project_id.as_str(),
                        &project.name,
                        &project.created_at.as_str(),
                        &project.updated_at.as_str(),
                    ],
                )?;
            }
            Ok(outcome)
        }
        Record::Member(member) => {
            let held = select_member(conn, &member.project_id, &member.user_id)?;
            let outcome = decide(held.map(|held| held == *member), overwrite);
            if writes(outcome) {
                execute(
                    conn,
                    "DELETE FROM Members WHERE project_id = ?1 AND user_id = ?2",
                    &[&member.project_id.as_str(), &member.user_id],
                )?;
                insert_member(conn, member)?;
            }
            Ok(outcome)
        }
        Record::Invitation(invitation) => import_invitation(conn, invitation, overwrite),
        Record::MemberMirror(_) | Record::InvitationMirror(_) => Ok(ImportOutcome::Derived),
        Record::Idempotency(record) => import_idempotency(conn, record, overwrite),
    }
}

fn writes(outcome: ImportOutcome) -> bool {
    matches!(outcome, ImportOutcome::Written | ImportOutcome::Overwritten)
}

fn import_task(
    conn: &Connection,
    pk: &str,
    task: &Task,
    overwrite: bool,
) -> Result<ImportOutcome, StoreError> {
    let sk = keys::task_sk(&task.task_id);
    let held = conn
        .prepare_cached(concat!(
            "SELECT ",
            any_task_columns!(),
            " FROM TaskApp WHERE PK = ?1 AND SK = ?2"
        ))
        .and_then(|mut select| {
            select
                .query_row(params![pk, sk], row_to_any_task)
                .optional()
        })
        .map_err(sql)?;
    let outcome = decide(held.map(|held| held == *task), overwrite);
    if writes(outcome) {
        execute(
            conn,
            "DELETE FROM TaskApp WHERE PK = ?1 AND SK = ?2",
            &[&pk, &sk],
        )?;
        insert_task(conn, pk, task)?;
    }
    Ok(outcome)
}

fn import_invitation(
    conn: &Connection,
    invitation: &Invitation,
    overwrite: bool,
) -> Result<ImportOutcome, StoreError> {
    let held = select_invitation(conn, &invitation.invitation_id)?;
    let outcome = decide(held.map(|held| held == *invitation), overwrite);
    if writes(outcome) {
        let values = invitation_values(invitation);
        execute(
            conn,
            &format!(
                "INSERT OR REPLACE INTO Invitations ({INVITATION_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            &values.each_ref().map(|value| value as &dyn ToSql),
        )?;
    }
    Ok(outcome)
}

fn select_invitation(
    conn: &Connection,
    id: &InvitationId,
) -> Result<Option<Invitation>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {INVITATION_COLUMNS} FROM Invitations WHERE invitation_id = ?1"
    ))
    .and_then(|mut select| {
        select
            .query_row([id.as_str()], row_to_invitation)
            .optional()
    })
    .map_err(sql)
}

/// A record's task is kept without its project fields: a replay here answers with those of
/// the attempt (see `SqliteStore::create_once_in`).
fn import_idempotency(
    conn: &Connection,
    record: &IdempotencyRecord,
    overwrite: bool,
) -> Result<ImportOutcome, StoreError> {
    let task = Task {
        project: None,
        ..record.task.clone()
    };
    let held = conn
        .prepare_cached(concat!(
            "SELECT ",
            task_columns!(),
            ", fingerprint, expires_at FROM Idempotency WHERE PK = ?1 AND idem_key = ?2"
        ))
        .and_then(|mut select| {
            select
                .query_row(params![record.pk, record.key], |row| {
                    Ok((
                        row_to_task(row)?,
                        row.get::<_, String>("fingerprint")?,
                        row.get::<_, i64>("expires_at")?,
                    ))
                })
                .optional()
        })
        .map_err(sql)?;
    let outcome = decide(
        held.map(|held| held == (task.clone(), record.fingerprint.clone(), record.expires_at)),
        overwrite,
    );
    if writes(outcome) {
        let rest: [&dyn ToSql; 4] = [
            &record.pk,
            &record.key,
            &record.fingerprint,
            &record.expires_at,
        ];
        insert_with_task(conn, UPSERT_IDEMPOTENCY, &task, &rest).map_err(sql)?;
    }
    Ok(outcome)
}
