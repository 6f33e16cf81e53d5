use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};

/// The schema version this build reads and writes (`PRAGMA user_version`). Version 2 adds
/// the owner-by-status index, the readiness probe's row and the idempotency keys; version 3
/// the projects (their tables, and a task's project columns); version 4 the planning
/// fields (a task's due date and priority, and the keys of the two due-date indexes);
/// version 5 the outbox of events and its consumers' cursors. All are created on open, so
/// an older file is upgraded in place.
const SCHEMA_VERSION: i64 = 5;

/// How long the integrity check at start may take. `quick_check` reads the whole file; on a
/// database too large to read in this time the server starts without it (and says so).
const QUICK_CHECK_BUDGET: Duration = Duration::from_secs(10);

/// The column list of every query that reads a task, in `row_to_task` order. A macro so
/// queries are `concat!`-ed at compile time rather than formatted per request.
macro_rules! task_columns {
    () => {
        "task_id, title, description, status, created_at, updated_at, due_at, priority"
    };
}
pub(crate) use task_columns;

/// [`task_columns!`] and a project task's columns (NULL for a personal task), in
/// `row_to_any_task` order.
macro_rules! any_task_columns {
    () => {
        "task_id, title, description, status, created_at, updated_at, due_at, priority, project_id, created_by, assignee"
    };
}
pub(crate) use any_task_columns;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "cannot write in the data directory {path} ({source}): SQLite keeps its -wal and -shm files next to the database"
    )]
    ReadOnlyDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the task database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the task database {path} cannot use write-ahead logging: journal_mode is {mode}")]
    JournalMode { path: String, mode: String },
    #[error(
        "the task database {path} is corrupt (PRAGMA quick_check: {detail}); restore it from a backup"
    )]
    Corrupt { path: String, detail: String },
    #[error("cannot identify the task database file {path}: {source}")]
    Identify {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the SQLite writer thread: {0}")]
    WriterThread(std::io::Error),
    #[error(
        "the task database {path} has schema version {found}, this taskapi knows {SCHEMA_VERSION}: it was written by a newer taskapi"
    )]
    NewerSchema { path: String, found: i64 },
}

/// Opens a connection with the settings every connection needs.
///
/// The query planner's stability guarantee (QPSG) keeps a statement's plan independent of
/// the values bound to it. Without it, SQLite treats a bound `LIMIT ?` (every page we read)
/// or a parameter the plan could use as a constant of that one execution, and re-prepares
/// the cached statement at every new binding: profiled, that was 12 % of a personal page's
/// time and 17 % of a project page's (BENCHMARKS.md part 9). Our statements never need a
/// plan that depends on their values: where one would, they are separate statements.
pub fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// The columns of a task as stored: the table's own rows and the copy an idempotency
/// record keeps of the task as first answered have the same ones.
macro_rules! task_columns {
    () => {
        "task_id TEXT NOT NULL,
             title TEXT NOT NULL,
             description TEXT NOT NULL,
             status TEXT NOT NULL,
             created_at TEXT NOT NULL,
             updated_at TEXT NOT NULL,
             due_at TEXT,
             priority TEXT,"
    };
}

/// Opens the writer connection: checks the file's integrity, switches it to WAL and creates
/// the table and its indexes on first use.
pub fn open_writer(path: &Path) -> Result<Connection, OpenError> {
    let display = path.display().to_string();
    let err = |source| OpenError::Sqlite {
        path: display.clone(),
        source,
    };
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    // SQLite says only "unable to open database file" or "readonly database" when the
    // directory is not writable; name the directory and the system's reason instead.
    let explain = |source: rusqlite::Error| {
        if is_corrupt(&source) {
            return OpenError::Corrupt {
                path: display.clone(),
                detail: source.to_string(),
            };
        }
        let dir = dir.unwrap_or(Path::new("."));
        match writable(dir) {
            Err(io) if is_read_only(&source) => OpenError::ReadOnlyDir {
                path: dir.display().to_string(),
                source: io,
            },
            _ => err(source),
        }
    };
    let mut conn = connect(path, OpenFlags::default()).map_err(explain)?;
    quick_check(&mut conn, &display)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(explain)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::JournalMode {
            path: display,
            mode,
        });
    }
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(err)?;
    if version > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            path: display,
            found: version,
        });
    }
    conn.execute_batch(concat!(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS TaskApp (
             PK TEXT NOT NULL,
             SK TEXT NOT NULL,
             GSI1PK TEXT,
             GSI1SK TEXT,
             ",
        task_columns!(),
        "
             project_id TEXT,
             created_by TEXT,
             assignee TEXT,
             GSI2PK TEXT,
             GSI2SK TEXT,
             GSI3SK TEXT,
             PRIMARY KEY (PK, SK)
         ) WITHOUT ROWID;
         -- GSI1: tasks by status, oldest first; PK and SK break ties as DynamoDB does.
         CREATE INDEX IF NOT EXISTS GSI1 ON TaskApp (GSI1PK, GSI1SK, PK, SK);
         -- A user's tasks in one status, in SK order: a filtered page reads only its rows,
         -- however many tasks of other statuses the user has.
         CREATE INDEX IF NOT EXISTS OwnerStatus ON TaskApp (PK, status, SK);
         -- The one row /readyz rewrites to prove a write reaches the disk.
         CREATE TABLE IF NOT EXISTS Readiness (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             checked_at TEXT NOT NULL
         );
         -- Idempotency keys of POST /tasks: the task each key created, as answered then.
         CREATE TABLE IF NOT EXISTS Idempotency (
             PK TEXT NOT NULL,
             idem_key TEXT NOT NULL,
             fingerprint TEXT NOT NULL,
             expires_at INTEGER NOT NULL,
             ",
        task_columns!(),
        "
             PRIMARY KEY (PK, idem_key)
         );
         CREATE INDEX IF NOT EXISTS IdempotencyExpiry ON Idempotency (expires_at);
         -- Projects: the project, its members (by user: the mirror that 'my projects' reads)
         -- and its invitations (by invitee: 'my invitations').
         CREATE TABLE IF NOT EXISTS Projects (
             project_id TEXT PRIMARY KEY,
             name TEXT NOT NULL,
             created_at TEXT NOT NULL,
             updated_at TEXT NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS Members (
             project_id TEXT NOT NULL,
             user_id TEXT NOT NULL,
             email TEXT,
             role TEXT NOT NULL,
             joined_at TEXT NOT NULL,
             PRIMARY KEY (project_id, user_id)
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS MembersByUser ON Members (user_id, project_id);
         CREATE TABLE IF NOT EXISTS Invitations (
             invitation_id TEXT PRIMARY KEY,
             project_id TEXT NOT NULL,
             project_name TEXT NOT NULL,
             email TEXT NOT NULL,
             role TEXT NOT NULL,
             created_at TEXT NOT NULL,
             expires_at TEXT NOT NULL
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS InvitationsByProject ON Invitations (project_id);
         CREATE INDEX IF NOT EXISTS InvitationsByEmail ON Invitations (email);
         -- The outbox: each change's event, written with the change (outbox.rs).
         -- AUTOINCREMENT: a number is never reused, even after the newest event is pruned,
         -- so a consumer's cursor never skips an event.
         CREATE TABLE IF NOT EXISTS Events (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             audience TEXT NOT NULL,
             kind TEXT NOT NULL,
             member TEXT,
             recorded_at INTEGER NOT NULL,
             body TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS EventsByAge ON Events (recorded_at);
         -- How far each durable consumer of the outbox has read.
         CREATE TABLE IF NOT EXISTS EventCursors (
             name TEXT PRIMARY KEY,
             seq INTEGER NOT NULL
         ) WITHOUT ROWID;
         -- Webhook endpoints (webhooks.rs): `audience` is the partition whose events
         -- they receive (USER#<sub> or PROJECT#<id>); `events` the kinds, space-separated,
         -- empty for every kind; secrets sealed by the API, never in plain text.
         CREATE TABLE IF NOT EXISTS Webhooks (
             webhook_id TEXT PRIMARY KEY,
             audience TEXT NOT NULL,
             created_by TEXT NOT NULL,
             url TEXT NOT NULL,
             events TEXT NOT NULL,
             created_at TEXT NOT NULL,
             disabled_at TEXT,
             disabled_reason TEXT,
             secret TEXT NOT NULL,
             retiring_secret TEXT,
             retiring_until TEXT
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS WebhooksByAudience
             ON Webhooks (audience, created_at, webhook_id);
         -- Every delivery attempt, kept 30 days (`expires_at`, Unix seconds).
         CREATE TABLE IF NOT EXISTS WebhookAttempts (
             webhook_id TEXT NOT NULL,
             at TEXT NOT NULL,
             attempt_id TEXT NOT NULL,
             event_id TEXT NOT NULL,
             event_type TEXT NOT NULL,
             attempt INTEGER NOT NULL,
             status_code INTEGER,
             error TEXT,
             next_attempt_at TEXT,
             expires_at INTEGER NOT NULL,
             PRIMARY KEY (webhook_id, at, attempt_id)
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS WebhookAttemptsByExpiry ON WebhookAttempts (expires_at);
         -- Deliveries not yet done (webhook_queue.rs): the event as sent, the number of
         -- the next attempt and when it is due (Unix milliseconds). A row goes when its
         -- event is delivered, given up, or its endpoint is disabled or deleted.
         CREATE TABLE IF NOT EXISTS WebhookQueue (
             delivery_id INTEGER PRIMARY KEY AUTOINCREMENT,
             webhook_id TEXT NOT NULL,
             event_id TEXT NOT NULL,
             event_type TEXT NOT NULL,
             body TEXT NOT NULL,
             attempt INTEGER NOT NULL,
             due_at INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS WebhookQueueByDue ON WebhookQueue (due_at);
         CREATE INDEX IF NOT EXISTS WebhookQueueByWebhook ON WebhookQueue (webhook_id);
         COMMIT;"
    ))
    .map_err(err)?;
    add_project_columns(&conn).map_err(err)?;
    add_planning_columns(&conn).map_err(err)?;
    conn.execute_batch(
        "-- GSI2, the Upcoming view: only open tasks with a due date have its keys, so the
         -- index holds nothing else (DynamoDB's sparse GSI2).
         CREATE INDEX IF NOT EXISTS GSI2 ON TaskApp (GSI2PK, GSI2SK, PK, SK)
             WHERE GSI2PK IS NOT NULL;
         -- GSI3, a partition's tasks with a due date in due order (DynamoDB's sparse GSI3,
         -- whose partition key is the task's own PK here).
         CREATE INDEX IF NOT EXISTS GSI3 ON TaskApp (PK, GSI3SK) WHERE GSI3SK IS NOT NULL;",
    )
    .map_err(err)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(err)?;
    Ok(conn)
}

/// A task table created before version 3 lacks a project task's columns: add them (NULL,
/// as for every personal task).
fn add_project_columns(conn: &Connection) -> rusqlite::Result<()> {
    let has_them: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('TaskApp') WHERE name = 'assignee'",
        [],
        |row| row.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if has_them {
        return Ok(());
    }
    conn.execute_batch(
        "ALTER TABLE TaskApp ADD COLUMN project_id TEXT;
         ALTER TABLE TaskApp ADD COLUMN created_by TEXT;
         ALTER TABLE TaskApp ADD COLUMN assignee TEXT;",
    )
}

/// Tables created before version 4 lack the planning columns: add them (NULL: no due date,
/// priority `none`, in no due-date index), to the tasks and to the copies idempotency
/// records keep of them.
fn add_planning_columns(conn: &Connection) -> rusqlite::Result<()> {
    let has_them: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('TaskApp') WHERE name = 'GSI3SK'",
        [],
        |row| row.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if has_them {
        return Ok(());
    }
    conn.execute_batch(
        "BEGIN;
         ALTER TABLE TaskApp ADD COLUMN due_at TEXT;
         ALTER TABLE TaskApp ADD COLUMN priority TEXT;
         ALTER TABLE TaskApp ADD COLUMN GSI2PK TEXT;
         ALTER TABLE TaskApp ADD COLUMN GSI2SK TEXT;
         ALTER TABLE TaskApp ADD COLUMN GSI3SK TEXT;
         ALTER TABLE Idempotency ADD COLUMN due_at TEXT;
         ALTER TABLE Idempotency ADD COLUMN priority TEXT;
         COMMIT;",
    )
}

/// `PRAGMA quick_check`, interrupted after [`QUICK_CHECK_BUDGET`]. Names the first problem.
fn quick_check(conn: &mut Connection, path: &str) -> Result<(), OpenError> {
    let started = Instant::now();
    let sqlite = |source| OpenError::Sqlite {
        path: path.to_owned(),
        source,
    };
    conn.progress_handler(10_000, Some(move || started.elapsed() > QUICK_CHECK_BUDGET))
        .map_err(sqlite)?;
    let result = conn.query_row("PRAGMA quick_check(1)", [], |row| row.get::<_, String>(0));
    conn.progress_handler(0, None::<fn() -> bool>)
        .map_err(sqlite)?;
    match result {
        Ok(verdict) if verdict == "ok" => Ok(()),
        Ok(detail) => Err(OpenError::Corrupt {
            path: path.to_owned(),
            detail,
        }),
        Err(err) if err.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) => {
            tracing::warn!(
                path,
                budget_s = QUICK_CHECK_BUDGET.as_secs(),
                "the integrity check did not finish in its budget; starting without it"
            );
            Ok(())
        }
        Err(err) if is_corrupt(&err) => Err(OpenError::Corrupt {
            path: path.to_owned(),
            detail: err.to_string(),
        }),
        Err(source) => Err(sqlite(source)),
    }
}

fn is_corrupt(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

/// SQLite reports a directory it cannot create files in as "unable to open" or read-only.
fn is_read_only(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen)
    )
}

/// Whether a file can be created in `dir` (permission bits do not tell for root, nor for a
/// read-only mount).
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".taskapi-write-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}
