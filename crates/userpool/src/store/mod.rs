//! The user pool's persistent state: one SQLite file in WAL mode.
//!
//! Every method takes the connection lock for one statement or one transaction only, so slow
//! work (password hashing) never happens while it is held.
//!
//! Storage faults are watched here, as the task store watches its own (one shared
//! [`Health`]): each time the lock is taken the file at the path must still be the one
//! opened, or the connection turns query-only, so reads go on and every write fails (and
//! answers 503) instead of being acknowledged into a deleted or replaced file; a fault
//! is logged once per episode, and the next commit that reaches the WAL ends the episode.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

mod codes;
mod groups;
mod oauth_state;
mod pools;
mod providers;
mod query;
mod sessions;
mod users;

use rusqlite::Connection;
use taskapi_domain::NotReady;
use taskapi_store_sqlite::fault::Health;

pub use self::sessions::Challenge;
pub use self::users::Sessions;
use crate::error::PoolOpenError;

/// Bumped whenever the schema changes; a file from a newer taskapi is refused, not rewritten.
/// Older files are brought up to date by [`MIGRATIONS`].
const SCHEMA_VERSION: i64 = 7;

/// WAL pages after which a commit checkpoints (SQLite's own automatic checkpoint, which
/// the WAL hook below replaces, uses the same threshold).
const CHECKPOINT_PAGES: i32 = 1000;

/// `MIGRATIONS[i]` takes a file from version `i + 1` to `i + 2`.
const MIGRATIONS: [&str; 6] = [
    "
ALTER TABLE challenges ADD COLUMN kind TEXT NOT NULL DEFAULT 'NEW_PASSWORD_REQUIRED';
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE srp_blocks (
    block TEXT PRIMARY KEY, pool_id TEXT NOT NULL, client_id TEXT NOT NULL,
    username TEXT NOT NULL, a_hex TEXT NOT NULL, b_hex TEXT NOT NULL,
    big_b_hex TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX srp_blocks_expiry ON srp_blocks (expires_at);
",
    oauth_state::MIGRATION,
    // One row `/readyz` writes and reads back.
    "CREATE TABLE readiness (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL);",
    // The sign-in generation: bumped by every sign-out everywhere and password reset, so
    // hosted-UI sessions started before it end (see `Store::session_epoch`).
    "ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;",
    // SRP exchanges moved to memory (`AwsDoor::srp_blocks`).
    "DROP TABLE srp_blocks;",
    providers::MIGRATION,
];

const SCHEMA: &str = "
CREATE TABLE pools (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL,
    created INTEGER NOT NULL, modified INTEGER NOT NULL);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES pools(id),
    token_use TEXT NOT NULL, pkcs8 BLOB NOT NULL, UNIQUE (pool_id, token_use));
CREATE TABLE clients (
    id TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES pools(id), name TEXT NOT NULL,
    secret TEXT, config TEXT NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL);
CREATE TABLE users (
    pool_id TEXT NOT NULL REFERENCES pools(id), username TEXT NOT NULL,
    alias_email TEXT, attributes TEXT NOT NULL, status TEXT NOT NULL, enabled INTEGER NOT NULL,
    password_hash TEXT, srp_salt TEXT, srp_verifier TEXT, password_set_at INTEGER NOT NULL,
    created INTEGER NOT NULL, modified INTEGER NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, username));
CREATE UNIQUE INDEX users_alias_email ON users (pool_id, alias_email);
CREATE TABLE codes (
    pool_id TEXT NOT NULL, username TEXT NOT NULL, purpose TEXT NOT NULL, code TEXT NOT NULL,
    expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pool_id, username, purpose));
CREATE TABLE groups (
    pool_id TEXT NOT NULL REFERENCES pools(id), name TEXT NOT NULL, description TEXT,
    precedence INTEGER, role_arn TEXT, created INTEGER NOT NULL, modified INTEGER NOT NULL,
    PRIMARY KEY (pool_id, name));
CREATE TABLE group_members (
    pool_id TEXT NOT NULL, group_name TEXT NOT NULL, username TEXT NOT NULL,
    PRIMARY KEY (pool_id, group_name, username));
CREATE TABLE sessions (
    origin_jti TEXT PRIMARY KEY, pool_id TEXT NOT NULL, client_id TEXT NOT NULL,
    username TEXT NOT NULL, auth_time INTEGER NOT NULL, refresh_hash TEXT NOT NULL UNIQUE,
    refresh_expires INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX sessions_user ON sessions (pool_id, username);
CREATE TABLE challenges (
    session TEXT PRIMARY KEY, pool_id TEXT NOT NULL, client_id TEXT NOT NULL,
    username TEXT NOT NULL, expires_at INTEGER NOT NULL);
";

pub struct Store {
    conn: Mutex<Connection>,
    health: Arc<Health>,
    /// Whether the connection is query-only now (changed under the connection lock).
    query_only: AtomicBool,
}

/// The connection, locked; see [`Store::conn`].
pub struct Conn<'a>(MutexGuard<'a, Connection>);

impl Deref for Conn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

/// A stored RSA signing key.
pub struct KeyRow {
    pub pool_id: String,
    pub token_use: String,
    pub kid: String,
    pub pkcs8: Vec<u8>,
}

impl Store {
    /// Opens the file, creating the schema on a fresh one. Anything unreadable is an error:
    /// the file is never truncated or recreated behind the user's back.
    pub fn open(path: &Path) -> Result<Self, PoolOpenError> {
        let shown = path.display().to_string();
        let corrupt = |e: &dyn std::fmt::Display| PoolOpenError::Corrupt {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let mut conn = Connection::open(path).map_err(|e| corrupt(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| corrupt(&e))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| corrupt(&e))?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| corrupt(&e))?;
        if check != "ok" {
            return Err(corrupt(&check));
        }
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| corrupt(&e))?;
        match version {
            0 => {
                let tables: i64 = conn
                    .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                    .map_err(|e| corrupt(&e))?;
                if tables != 0 {
                    return Err(corrupt(&"not a taskapi user pool database"));
                }
                conn.execute_batch(&format!(
                    "BEGIN; {SCHEMA} {} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;",
                    MIGRATIONS.join("")
                ))
                .map_err(|e| corrupt(&e))?;
            }
            SCHEMA_VERSION => {}
            found @ 1.. if found < SCHEMA_VERSION => {
                let steps = MIGRATIONS[usize::try_from(found - 1).unwrap_or(0)..].join("");
                conn.execute_batch(&format!(
                    "BEGIN; {steps} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(|e| corrupt(&e))?;
            }
            found if found > SCHEMA_VERSION => {
                return Err(PoolOpenError::TooNew {
                    path: shown,
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            other => return Err(corrupt(&format!("unknown schema version {other}"))),
        }
        let health = Arc::new(Health::new(path).map_err(|e| corrupt(&e))?);
        let committed = Arc::clone(&health);
        conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
            committed.recovered();
            if pages >= CHECKPOINT_PAGES {
                // The commit is done whatever the checkpoint does: a failure here (the
                // disk full) only leaves the WAL longer, to be checkpointed next time.
                let _ = wal.checkpoint();
            }
            Ok(())
        }))
        .map_err(|e| corrupt(&e))?;
        Ok(Self {
            conn: Mutex::new(conn),
            health,
            query_only: AtomicBool::new(false),
        })
    }

    /// The connection, locked, after checking that the file at the path is still the one
    /// opened: if it is not, the connection is made query-only, so reads go on and writes
    /// fail with `SQLITE_READONLY` (a storage fault, 503) until a restart opens the new file.
    fn conn(&self) -> Conn<'_> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is still safe to use.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let lost = self.health.check_file().err();
        if let Some(lost) = &lost {
            self.health.fault(lost);
        }
        // Set only when it changes; a failed pragma leaves the flag as it was, so the next
        // lock tries again.
        let refuse_writes = lost.is_some();
        if self.query_only.load(Ordering::Relaxed) != refuse_writes
            && conn
                .pragma_update(None, "query_only", refuse_writes)
                .is_ok()
        {
            self.query_only.store(refuse_writes, Ordering::Relaxed);
        }
        Conn(conn)
    }

    /// Ready when the file is still the one opened, this process still holds its locks on
    /// it, no fault is in progress, and a one-row write commits and reads back (`/readyz`).
    pub fn ready(&self, now: i64) -> Result<(), NotReady> {
        let not_ready = |why: String| NotReady(format!("user pool: {why}"));
        self.health.check_file().map_err(not_ready)?;
        self.health.check_locks().map_err(not_ready)?;
        let conn = self.conn();
        let probe = conn
            .execute(
                "INSERT INTO readiness (id, checked_at) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                [now],
            )
            .and_then(|_| {
                conn.query_row("SELECT checked_at FROM readiness WHERE id = 1", [], |row| {
                    row.get::<_, i64>(0)
                })
            });
        drop(conn);
        match probe {
            Ok(read) if read == now => Ok(()),
            Ok(read) => Err(not_ready(format!(
                "the readiness row read back {read}, not the {now} just written"
            ))),
            Err(err) => {
                if taskapi_store_sqlite::fault::is_storage_fault(&err) {
                    self.health.fault(&err);
                }
                Err(self.health.trouble().map_or_else(
                    || not_ready(format!("a probe write failed: {err}")),
                    |trouble| not_ready(trouble.0),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written by the first release (schema 1) is brought up to date in place and
    /// keeps its users; their stored SRP verifiers are what USER_SRP_AUTH uses.
    #[test]
    fn version_one_files_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("userpool.sqlite3");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!("{SCHEMA} PRAGMA user_version = 1;"))
            .unwrap();
        conn.execute_batch(
            "INSERT INTO pools VALUES ('us-east-1_AbC123xyz', 'p', '{}', 0, 0);
             INSERT INTO users (pool_id, username, attributes, status, enabled, srp_salt,
                 srp_verifier, password_set_at, created, modified)
             VALUES ('us-east-1_AbC123xyz', 'alice', '{}', 'CONFIRMED', 1, '0a1b', 'ff', 0, 0, 0);",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let user = store
            .find_user("us-east-1_AbC123xyz", "alice")
            .unwrap()
            .unwrap();
        assert_eq!(user.srp_salt.as_deref(), Some("0a1b"));
        assert!(!user.totp.enabled);
    }

    /// A sign-up stores the user and its code together: when the code cannot be written,
    /// the user is not left behind (it could neither confirm nor sign up again).
    #[test]
    fn a_user_whose_code_fails_is_not_stored() {
        use crate::model::{CodePurpose, Credentials, NewCode, User, UserStatus};

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("userpool.sqlite3")).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO pools VALUES ('p', 'p', '{}', 0, 0);
                 CREATE TEMP TRIGGER no_codes BEFORE INSERT ON codes
                 BEGIN SELECT RAISE(FAIL, 'as if the disk were full'); END;",
            )
            .unwrap();
        let user = User::new(
            "p",
            "alice".into(),
            Default::default(),
            UserStatus::Unconfirmed,
            0,
        );
        let credentials = Credentials {
            argon2: "hash".into(),
            srp_salt: "00".into(),
            srp_verifier: "ff".into(),
        };
        let code = NewCode {
            purpose: CodePurpose::SignUp,
            code: "123456".into(),
            expires_at: 99,
        };
        assert!(
            store
                .insert_user_with_code(&user, None, &credentials, &code)
                .is_err()
        );
        assert!(store.find_user("p", "alice").unwrap().is_none());

        store.conn().execute_batch("DROP TRIGGER no_codes").unwrap();
        assert!(
            store
                .insert_user_with_code(&user, None, &credentials, &code)
                .unwrap()
        );
        assert!(store.find_user("p", "alice").unwrap().is_some());
        let stored = store.code(&user, CodePurpose::SignUp).unwrap().unwrap();
        assert_eq!(stored.code, "123456");
    }

    /// A file deleted or replaced under the open store: writes fail as a storage fault
    /// (503), reads go on, and readiness names the user pool and says why.
    #[test]
    fn a_lost_file_refuses_writes_but_not_reads() {
        use crate::error::PoolStoreError;
        use crate::model::{CodePurpose, NewCode, User, UserStatus};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("userpool.sqlite3");
        let store = Store::open(&path).unwrap();
        let alice = User::new(
            "p",
            "alice".into(),
            Default::default(),
            UserStatus::Unconfirmed,
            0,
        );
        let put = |code: &str| {
            let code = NewCode {
                purpose: CodePurpose::SignUp,
                code: code.to_owned(),
                expires_at: 99,
            };
            store.put_code(&alice, &code)
        };
        put("111111").unwrap();
        assert_eq!(store.ready(7), Ok(()));

        std::fs::remove_file(&path).unwrap();
        assert!(matches!(put("222222"), Err(PoolStoreError::Unavailable(_))));
        assert!(store.pools().unwrap().is_empty(), "reads go on");
        let NotReady(why) = store.ready(8).unwrap_err();
        assert!(
            why.starts_with("user pool: ") && why.contains("is gone"),
            "{why}"
        );

        std::fs::write(&path, b"").unwrap();
        assert!(matches!(put("333333"), Err(PoolStoreError::Unavailable(_))));
        let NotReady(why) = store.ready(9).unwrap_err();
        assert!(why.contains("replaced"), "{why}");
        let code: String = store
            .conn()
            .query_row("SELECT code FROM codes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(code, "111111", "nothing written after the file was lost");
    }
}
