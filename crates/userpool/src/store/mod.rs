//! The user pool's persistent state: one SQLite file in WAL mode.
//!
//! Every method takes the connection lock for one statement or one transaction only, so slow
//! work (password hashing) never happens while it is held.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

mod codes;
mod groups;
mod oauth;
mod pools;
mod query;
mod sessions;
mod users;

use rusqlite::Connection;

pub(crate) use self::sessions::{Challenge, SrpBlock};
use crate::error::PoolOpenError;

/// Bumped whenever the schema changes; a file from a newer taskapi is refused, not rewritten.
/// Older files are brought up to date by [`MIGRATIONS`].
const SCHEMA_VERSION: i64 = 3;

/// `MIGRATIONS[i]` takes a file from version `i + 1` to `i + 2`.
const MIGRATIONS: [&str; 2] = [
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
    oauth::MIGRATION,
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

pub(crate) struct Store {
    conn: Mutex<Connection>,
}

/// A stored RSA signing key.
pub(crate) struct KeyRow {
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
        let conn = Connection::open(path).map_err(|e| corrupt(&e))?;
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
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
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
        assert!(store.take_srp_block("none").unwrap().is_none());
    }
}
