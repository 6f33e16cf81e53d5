//! Storage faults: which SQLite failures are the disk's (a 503 the caller may retry) rather
//! than a bug, whether the database file is still the one opened, and one log line per
//! episode of trouble instead of one per request.
//!
//! Public because the local user pool keeps its state in SQLite too and classifies and
//! reports its faults the same way (`taskapi-userpool` uses this module of the crate only).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rusqlite::ErrorCode;
use taskapi_domain::{NotReady, StoreError};

/// How long a caller is asked to wait before retrying a write the disk refused.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs `statement` (prepared once per connection) with `values`; the rows it changed, or
/// its failure mapped by [`sql`].
pub(crate) fn execute(
    conn: &rusqlite::Connection,
    statement: &str,
    values: &[&dyn rusqlite::ToSql],
) -> Result<usize, StoreError> {
    conn.prepare_cached(statement)
        .and_then(|mut statement| statement.execute(values))
        .map_err(sql)
}

/// Maps a SQLite failure: a full disk, an I/O error, a lock held too long, a file that
/// cannot be opened or no longer reads as a database are the storage's trouble
/// (`Unavailable`); anything else (a constraint, a bad statement) is a bug (`Internal`).
/// Corruption is marked as such ([`Corruption`]), for [`Health::observe`] to record it.
pub fn sql(err: rusqlite::Error) -> StoreError {
    if is_corruption(&err) {
        return StoreError::internal(Corruption(err));
    }
    if is_storage_fault(&err) {
        tracing::debug!(error = %err, "SQLite storage fault");
        StoreError::Unavailable {
            retry_after: RETRY_AFTER,
        }
    } else {
        StoreError::internal(err)
    }
}

pub fn is_storage_fault(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(
            ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
                | ErrorCode::DatabaseCorrupt
                | ErrorCode::NotADatabase
                | ErrorCode::FileLockingProtocolFailed
        )
    )
}

/// Whether `err` shows that the database holds something other than what was written:
/// SQLite found a malformed page or no database at all, or a stored value does not decode
/// as what the store writes there (text that is not UTF-8, a value of another type, a
/// field that does not parse). Pages can be damaged under a running server (a failing disk,
/// a stray write) and SQLite detects only part of it.
pub fn is_corruption(err: &rusqlite::Error) -> bool {
    use rusqlite::Error::{
        FromSqlConversionFailure, IntegralValueOutOfRange, InvalidColumnType, Utf8Error,
    };
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    ) || matches!(
        err,
        FromSqlConversionFailure(..)
            | IntegralValueOutOfRange(..)
            | InvalidColumnType(..)
            | Utf8Error(..)
    )
}

/// A failure that is corruption (see [`is_corruption`]): a storage fault that does not
/// clear by itself.
#[derive(Debug, thiserror::Error)]
#[error("the database is corrupt: {0}")]
pub struct Corruption(rusqlite::Error);

/// The device and inode of a file: what stays the same while it is the same file, and
/// changes when it is deleted and re-created or replaced by a rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(path: &Path) -> std::io::Result<Self> {
        let meta = fs::metadata(path)?;
        Ok(Self {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

#[cfg(target_os = "linux")]
impl FileId {
    /// Whether `/proc/locks` (its text in `table`) lists a lock of process `pid` on this
    /// file. Its lines read `1: POSIX  ADVISORY  READ 6561 fe:00:10010873 128 128`: the
    /// owner's pid, then the device's major and minor numbers in hex and the inode.
    fn locked_by(&self, pid: u32, table: &str) -> bool {
        let (major, minor) = (
            ((self.dev >> 8) & 0xfff) | ((self.dev >> 32) & !0xfff),
            (self.dev & 0xff) | ((self.dev >> 12) & !0xff),
        );
        let file = format!("{major:02x}:{minor:02x}:{}", self.ino);
        let pid = pid.to_string();
        table.lines().any(|line| {
            // A request still waiting for a lock is listed as `1: -> POSIX ...`: not held.
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) != Some(&"->")
                && fields.get(4) == Some(&pid.as_str())
                && fields.get(5) == Some(&file.as_str())
        })
    }
}

/// The database file as opened, and the store's current trouble if any.
pub struct Health {
    path: PathBuf,
    opened: FileId,
    /// The fault of the episode in progress; `None` while writes succeed.
    trouble: Mutex<Option<String>>,
    /// The first corruption seen: it does not heal, so it is never cleared.
    corruption: OnceLock<String>,
}

impl Health {
    /// Remembers which file `path` is now (call right after opening it).
    pub fn new(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            opened: FileId::of(path)?,
            trouble: Mutex::new(None),
            corruption: OnceLock::new(),
        })
    }

    /// Fails if the file at the path is no longer the one the store has open: deleted, or
    /// replaced by another. A write committed then would go to a file nobody will read.
    pub fn check_file(&self) -> Result<(), String> {
        match FileId::of(&self.path) {
            Ok(id) if id == self.opened => Ok(()),
            Ok(_) => Err(format!(
                "the database file {} was replaced while open; restart taskapi to use the new one",
                self.path.display()
            )),
            Err(err) => Err(format!(
                "the database file {} is gone ({err}); restore it or restart taskapi",
                self.path.display()
            )),
        }
    }

    /// Fails once a statement has met corruption: nothing more is written to the file (a
    /// write could spread the damage, and be lost with it), and it stays so until the file
    /// is restored and taskapi restarted.
    pub fn check_intact(&self) -> Result<(), String> {
        match self.corruption.get() {
            Some(cause) => Err(format!(
                "the database file {} is corrupt ({cause}); restore it from a backup and \
                 restart taskapi",
                self.path.display()
            )),
            None => Ok(()),
        }
    }

    /// Records corruption (logged once) and answers the caller's `Unavailable`.
    pub fn corrupt(&self, cause: impl std::fmt::Display) -> StoreError {
        let mut first = false;
        self.corruption.get_or_init(|| {
            first = true;
            cause.to_string()
        });
        if first {
            tracing::error!(
                path = %self.path.display(),
                error = %cause,
                "the database is corrupt: refusing writes with 503 and not ready until it is \
                 restored and taskapi restarted"
            );
        }
        StoreError::Unavailable {
            retry_after: RETRY_AFTER,
        }
    }

    /// Fails if this process no longer holds the locks its open connections put on the
    /// database file and its `-shm` (WAL mode holds a shared lock on each while a connection
    /// is open). Without them another process that opens the database believes it is alone,
    /// and deletes the live WAL when it closes: every later commit would be lost at the next
    /// crash. Read from `/proc/locks`, so only on Linux; a lost lock never comes back.
    pub fn check_locks(&self) -> Result<(), String> {
        #[cfg(target_os = "linux")]
        {
            let table = fs::read_to_string("/proc/locks")
                .map_err(|err| format!("cannot read /proc/locks to check SQLite's locks: {err}"))?;
            let pid = std::process::id();
            let shm = PathBuf::from(format!("{}-shm", self.path.display()));
            for file in [&self.path, &shm] {
                let id = FileId::of(file).map_err(|err| {
                    format!("cannot check the locks on {}: {err}", file.display())
                })?;
                if !id.locked_by(pid, &table) {
                    return Err(format!(
                        "this process no longer holds its SQLite lock on {}: another process \
                         could delete the live write-ahead log; restart taskapi now",
                        file.display()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Records a storage fault and answers the caller's `Unavailable`. Logs only the
    /// first fault of an episode.
    pub fn fault(&self, cause: impl std::fmt::Display) -> StoreError {
        let mut trouble = self.trouble.lock().expect("health lock");
        if trouble.is_none() {
            let cause = cause.to_string();
            tracing::warn!(
                path = %self.path.display(),
                error = %cause,
                "storage unavailable: refusing writes with 503 until it clears"
            );
            *trouble = Some(cause);
        }
        StoreError::Unavailable {
            retry_after: RETRY_AFTER,
        }
    }

    /// A write was committed: the episode, if any, is over.
    pub fn recovered(&self) {
        let mut trouble = self.trouble.lock().expect("health lock");
        if trouble.take().is_some() {
            tracing::info!(path = %self.path.display(), "storage available again");
        }
    }

    /// Passes a result through, recording an `Unavailable` as a fault of this episode and
    /// [`Corruption`] as corruption (answered `Unavailable` too: it is the storage's
    /// fault, not the caller's or a bug).
    pub fn observe<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match result {
            Err(StoreError::Unavailable { .. }) => Err(self.fault("a request met a storage fault")),
            Err(StoreError::Internal(err)) if err.is::<Corruption>() => Err(self.corrupt(err)),
            other => other,
        }
    }

    /// The current episode's fault, as `/readyz` reports it.
    pub fn trouble(&self) -> Option<NotReady> {
        self.trouble
            .lock()
            .expect("health lock")
            .clone()
            .map(NotReady)
    }
}
