use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// The schema version this build reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// The column list of every query that reads a task, in `row_to_task` order. A macro so
/// queries are `concat!`-ed at compile time rather than formatted per request.
macro_rules! task_columns {
    () => {
        "task_id, title, description, status, created_at, updated_at"
    };
}
pub(crate) use task_columns;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the task database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot start the SQLite writer thread: {0}")]
    WriterThread(std::io::Error),
    #[error(
        "the task database {path} has schema version {found}, this taskapi knows {SCHEMA_VERSION}: it was written by a newer taskapi"
    )]
    NewerSchema { path: String, found: i64 },
}

/// Opens a connection with the settings every connection needs.
pub fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Opens the writer connection, switching the file to WAL and creating the table and the
/// GSI1 index on first use.
pub fn open_writer(path: &Path) -> Result<Connection, OpenError> {
    let err = |source| OpenError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let conn = connect(path, OpenFlags::default()).map_err(err)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, expected wal"
        ))));
    }
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(err)?;
    if version > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            path: path.display().to_string(),
            found: version,
        });
    }
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS TaskApp (
             PK TEXT NOT NULL,
             SK TEXT NOT NULL,
             GSI1PK TEXT,
             GSI1SK TEXT,
             task_id TEXT NOT NULL,
             title TEXT NOT NULL,
             description TEXT NOT NULL,
             status TEXT NOT NULL,
             created_at TEXT NOT NULL,
             updated_at TEXT NOT NULL,
             PRIMARY KEY (PK, SK)
         ) WITHOUT ROWID;
         -- GSI1: tasks by status, oldest first; PK and SK break ties as DynamoDB does.
         CREATE INDEX IF NOT EXISTS GSI1 ON TaskApp (GSI1PK, GSI1SK, PK, SK);
         -- Idempotency keys of POST /tasks: the task each key created, as answered then.
         -- Added without a version bump: a build that does not know it ignores it.
         CREATE TABLE IF NOT EXISTS Idempotency (
             PK TEXT NOT NULL,
             idem_key TEXT NOT NULL,
             fingerprint TEXT NOT NULL,
             expires_at INTEGER NOT NULL,
             task_id TEXT NOT NULL,
             title TEXT NOT NULL,
             description TEXT NOT NULL,
             status TEXT NOT NULL,
             created_at TEXT NOT NULL,
             updated_at TEXT NOT NULL,
             PRIMARY KEY (PK, idem_key)
         );
         CREATE INDEX IF NOT EXISTS IdempotencyExpiry ON Idempotency (expires_at);
         PRAGMA user_version = 1;
         COMMIT;",
    )
    .map_err(err)?;
    Ok(conn)
}
