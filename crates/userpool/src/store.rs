//! The user pool's persistent state: one SQLite file in WAL mode.
//!
//! Every method takes the connection lock for one statement or one transaction only, so slow
//! work (password hashing) never happens while it is held.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

mod oauth;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{OpenError, StoreError};
use crate::model::{
    Client, CodePurpose, Credentials, Group, Pool, Session, StoredCode, User, UserStatus,
};

/// Bumped whenever the schema changes; a file from a newer taskapi is refused, not rewritten.
const SCHEMA_VERSION: i64 = 1;

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

/// A pending NEW_PASSWORD_REQUIRED challenge.
pub(crate) struct Challenge {
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub expires_at: i64,
}

impl Store {
    /// Opens the file, creating the schema on a fresh one. Anything unreadable is an error:
    /// the file is never truncated or recreated behind the user's back.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        let corrupt = |e: &dyn std::fmt::Display| OpenError::Corrupt {
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
                    "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(|e| corrupt(&e))?;
            }
            SCHEMA_VERSION => {}
            found if found > SCHEMA_VERSION => {
                return Err(OpenError::TooNew {
                    path: shown,
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            other => return Err(corrupt(&format!("unknown schema version {other}"))),
        }
        conn.execute_batch(oauth::SCHEMA).map_err(|e| corrupt(&e))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---- pools and keys -------------------------------------------------------------------

    pub fn insert_pool(&self, pool: &Pool, keys: &[KeyRow]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO pools (id, name, config, created, modified) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                pool.id,
                pool.name,
                serde_json::to_string(&pool.config)?,
                pool.created,
                pool.modified
            ],
        )?;
        for key in keys {
            tx.execute(
                "INSERT INTO signing_keys (kid, pool_id, token_use, pkcs8) VALUES (?1, ?2, ?3, ?4)",
                params![key.kid, key.pool_id, key.token_use, key.pkcs8],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn pool(&self, id: &str) -> Result<Option<Pool>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT id, name, config, created, modified FROM pools WHERE id = ?1",
                [id],
                pool_row,
            )
            .optional()?;
        row.map(finish_pool).transpose()
    }

    /// All pools, oldest first.
    pub fn pools(&self) -> Result<Vec<Pool>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, name, config, created, modified FROM pools ORDER BY rowid")?;
        let rows = stmt
            .query_map([], pool_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(finish_pool).collect()
    }

    pub fn keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT pool_id, token_use, kid, pkcs8 FROM signing_keys")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(KeyRow {
                    pool_id: r.get(0)?,
                    token_use: r.get(1)?,
                    kid: r.get(2)?,
                    pkcs8: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    // ---- app clients ----------------------------------------------------------------------

    pub fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO clients (id, pool_id, name, secret, config, created, modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                client.id,
                client.pool_id,
                client.name,
                client.secret,
                serde_json::to_string(&client.config)?,
                client.created,
                client.modified
            ],
        )?;
        Ok(())
    }

    pub fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT id, pool_id, name, secret, config, created, modified FROM clients WHERE id = ?1",
                [id],
                client_row,
            )
            .optional()?;
        row.map(finish_client).transpose()
    }

    /// A pool's clients, oldest first.
    pub fn clients(&self, pool_id: &str) -> Result<Vec<Client>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, pool_id, name, secret, config, created, modified FROM clients
             WHERE pool_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt
            .query_map([pool_id], client_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(finish_client).collect()
    }

    // ---- users ----------------------------------------------------------------------------

    /// Inserts a user; `Ok(false)` when the username or e-mail alias is taken.
    pub fn insert_user(
        &self,
        user: &User,
        alias_email: Option<&str>,
        credentials: Option<&Credentials>,
    ) -> Result<bool, StoreError> {
        let result = self.conn().execute(
            "INSERT INTO users (pool_id, username, alias_email, attributes, status, enabled,
                 password_hash, srp_salt, srp_verifier, password_set_at, created, modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                user.pool_id,
                user.username,
                alias_email,
                serde_json::to_string(&user.attributes)?,
                user.status.as_str(),
                user.enabled,
                credentials.map(|c| &c.argon2),
                credentials.map(|c| &c.srp_salt),
                credentials.map(|c| &c.srp_verifier),
                user.password_set_at,
                user.created,
                user.modified
            ],
        );
        match result {
            Ok(_) => Ok(true),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Finds a user by username, or by e-mail where e-mail addresses sign in.
    pub fn find_user(&self, pool_id: &str, name: &str) -> Result<Option<User>, StoreError> {
        let row = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE pool_id = ?1
                     AND (username = ?2 OR alias_email = lower(?2))
                     ORDER BY username = ?2 DESC LIMIT 1"
                ),
                params![pool_id, name],
                user_row,
            )
            .optional()?;
        row.map(finish_user).transpose()
    }

    /// A pool's users, oldest first.
    pub fn users(&self, pool_id: &str) -> Result<Vec<User>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE pool_id = ?1 ORDER BY created, rowid"
        ))?;
        let rows = stmt
            .query_map([pool_id], user_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(finish_user).collect()
    }

    pub fn update_user(&self, user: &User) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE users SET attributes = ?3, status = ?4, enabled = ?5, modified = ?6
             WHERE pool_id = ?1 AND username = ?2",
            params![
                user.pool_id,
                user.username,
                serde_json::to_string(&user.attributes)?,
                user.status.as_str(),
                user.enabled,
                user.modified
            ],
        )?;
        Ok(())
    }

    pub fn set_password(
        &self,
        pool_id: &str,
        username: &str,
        credentials: &Credentials,
        status: UserStatus,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE users SET password_hash = ?3, srp_salt = ?4, srp_verifier = ?5, status = ?6,
                 password_set_at = ?7, modified = ?7, failed_logins = 0, locked_until = 0
             WHERE pool_id = ?1 AND username = ?2",
            params![
                pool_id,
                username,
                credentials.argon2,
                credentials.srp_salt,
                credentials.srp_verifier,
                status.as_str(),
                now
            ],
        )?;
        Ok(())
    }

    /// Records a wrong password; returns the number of consecutive failures so far.
    pub fn record_failed_login(&self, pool_id: &str, username: &str) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "UPDATE users SET failed_logins = failed_logins + 1
             WHERE pool_id = ?1 AND username = ?2 RETURNING failed_logins",
            params![pool_id, username],
            |r| r.get(0),
        )?)
    }

    pub fn lock_user_until(
        &self,
        pool_id: &str,
        username: &str,
        until: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE users SET locked_until = ?3 WHERE pool_id = ?1 AND username = ?2",
            params![pool_id, username, until],
        )?;
        Ok(())
    }

    pub fn clear_failed_logins(&self, pool_id: &str, username: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE users SET failed_logins = 0, locked_until = 0
             WHERE pool_id = ?1 AND username = ?2",
            params![pool_id, username],
        )?;
        Ok(())
    }

    /// Deletes a user with everything that refers to them.
    pub fn delete_user(&self, pool_id: &str, username: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for table in ["users", "codes", "group_members", "sessions", "challenges"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE pool_id = ?1 AND username = ?2"),
                params![pool_id, username],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    // ---- one-time codes -------------------------------------------------------------------

    /// Stores a fresh code, replacing any earlier one for the same purpose.
    pub fn put_code(
        &self,
        pool_id: &str,
        username: &str,
        purpose: CodePurpose,
        code: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO codes (pool_id, username, purpose, code, expires_at, attempts)
             VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            params![pool_id, username, purpose.as_str(), code, expires_at],
        )?;
        Ok(())
    }

    pub fn code(
        &self,
        pool_id: &str,
        username: &str,
        purpose: CodePurpose,
    ) -> Result<Option<StoredCode>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT code, expires_at, attempts FROM codes
                 WHERE pool_id = ?1 AND username = ?2 AND purpose = ?3",
                params![pool_id, username, purpose.as_str()],
                |r| {
                    Ok(StoredCode {
                        code: r.get(0)?,
                        expires_at: r.get(1)?,
                        attempts: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn count_code_attempt(
        &self,
        pool_id: &str,
        username: &str,
        purpose: CodePurpose,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE codes SET attempts = attempts + 1
             WHERE pool_id = ?1 AND username = ?2 AND purpose = ?3",
            params![pool_id, username, purpose.as_str()],
        )?;
        Ok(())
    }

    pub fn delete_code(
        &self,
        pool_id: &str,
        username: &str,
        purpose: CodePurpose,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM codes WHERE pool_id = ?1 AND username = ?2 AND purpose = ?3",
            params![pool_id, username, purpose.as_str()],
        )?;
        Ok(())
    }

    // ---- groups ---------------------------------------------------------------------------

    /// Inserts a group; `Ok(false)` when the name is taken.
    pub fn insert_group(&self, group: &Group) -> Result<bool, StoreError> {
        let inserted = self.conn().execute(
            "INSERT OR IGNORE INTO groups (pool_id, name, description, precedence, role_arn, created, modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                group.pool_id,
                group.name,
                group.description,
                group.precedence,
                group.role_arn,
                group.created,
                group.modified
            ],
        )?;
        Ok(inserted == 1)
    }

    pub fn group_exists(&self, pool_id: &str, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM groups WHERE pool_id = ?1 AND name = ?2",
                params![pool_id, name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub fn add_member(&self, pool_id: &str, group: &str, username: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO group_members (pool_id, group_name, username) VALUES (?1, ?2, ?3)",
            params![pool_id, group, username],
        )?;
        Ok(())
    }

    pub fn remove_member(
        &self,
        pool_id: &str,
        group: &str,
        username: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM group_members WHERE pool_id = ?1 AND group_name = ?2 AND username = ?3",
            params![pool_id, group, username],
        )?;
        Ok(())
    }

    /// A user's groups ordered as `cognito:groups` lists them: by precedence (lowest first,
    /// groups without one last), then by name.
    pub fn groups_of(&self, pool_id: &str, username: &str) -> Result<Vec<Group>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT g.pool_id, g.name, g.description, g.precedence, g.role_arn, g.created, g.modified
             FROM groups g JOIN group_members m ON m.pool_id = g.pool_id AND m.group_name = g.name
             WHERE m.pool_id = ?1 AND m.username = ?2
             ORDER BY g.precedence IS NULL, g.precedence, g.name",
        )?;
        let rows = stmt
            .query_map(params![pool_id, username], |r| {
                Ok(Group {
                    pool_id: r.get(0)?,
                    name: r.get(1)?,
                    description: r.get(2)?,
                    precedence: r.get(3)?,
                    role_arn: r.get(4)?,
                    created: r.get(5)?,
                    modified: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    // ---- sign-in sessions -----------------------------------------------------------------

    pub fn insert_session(&self, session: &Session, refresh_hash: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO sessions (origin_jti, pool_id, client_id, username, auth_time,
                 refresh_hash, refresh_expires, revoked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                session.origin_jti,
                session.pool_id,
                session.client_id,
                session.username,
                session.auth_time,
                refresh_hash,
                session.refresh_expires,
                session.revoked
            ],
        )?;
        Ok(())
    }

    pub fn session(&self, origin_jti: &str) -> Result<Option<Session>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE origin_jti = ?1"),
                [origin_jti],
                session_row,
            )
            .optional()?)
    }

    pub fn session_by_refresh(&self, refresh_hash: &str) -> Result<Option<Session>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE refresh_hash = ?1"),
                [refresh_hash],
                session_row,
            )
            .optional()?)
    }

    pub fn revoke_session(&self, origin_jti: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sessions SET revoked = 1 WHERE origin_jti = ?1",
            [origin_jti],
        )?;
        Ok(())
    }

    pub fn revoke_user_sessions(&self, pool_id: &str, username: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sessions SET revoked = 1 WHERE pool_id = ?1 AND username = ?2",
            params![pool_id, username],
        )?;
        Ok(())
    }

    // ---- challenge sessions ---------------------------------------------------------------

    pub fn insert_challenge(&self, session: &str, c: &Challenge) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO challenges (session, pool_id, client_id, username, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![session, c.pool_id, c.client_id, c.username, c.expires_at],
        )?;
        Ok(())
    }

    /// Removes and returns a challenge: a `Session` answers exactly one challenge.
    pub fn take_challenge(&self, session: &str) -> Result<Option<Challenge>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "DELETE FROM challenges WHERE session = ?1
                 RETURNING pool_id, client_id, username, expires_at",
                [session],
                |r| {
                    Ok(Challenge {
                        pool_id: r.get(0)?,
                        client_id: r.get(1)?,
                        username: r.get(2)?,
                        expires_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}

type PoolRow = (String, String, String, i64, i64);

fn pool_row(r: &Row<'_>) -> rusqlite::Result<PoolRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn finish_pool((id, name, config, created, modified): PoolRow) -> Result<Pool, StoreError> {
    Ok(Pool {
        id,
        name,
        config: serde_json::from_str(&config)?,
        created,
        modified,
    })
}

type ClientRow = (String, String, String, Option<String>, String, i64, i64);

fn client_row(r: &Row<'_>) -> rusqlite::Result<ClientRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn finish_client(
    (id, pool_id, name, secret, config, created, modified): ClientRow,
) -> Result<Client, StoreError> {
    Ok(Client {
        id,
        pool_id,
        name,
        secret,
        config: serde_json::from_str(&config)?,
        created,
        modified,
    })
}

const USER_COLUMNS: &str = "pool_id, username, attributes, status, enabled, password_hash,
    password_set_at, created, modified, failed_logins, locked_until";

/// A user row with its attributes still as JSON text, decoded outside rusqlite's closure.
struct UserRow {
    user: User,
    attributes: String,
    status: String,
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        user: User {
            pool_id: r.get(0)?,
            username: r.get(1)?,
            attributes: Default::default(),
            status: UserStatus::Unconfirmed,
            enabled: r.get(4)?,
            password_hash: r.get(5)?,
            password_set_at: r.get(6)?,
            created: r.get(7)?,
            modified: r.get(8)?,
            failed_logins: r.get(9)?,
            locked_until: r.get(10)?,
        },
        attributes: r.get(2)?,
        status: r.get(3)?,
    })
}

fn finish_user(row: UserRow) -> Result<User, StoreError> {
    let mut user = row.user;
    user.attributes = serde_json::from_str(&row.attributes)?;
    user.status = UserStatus::parse(&row.status).ok_or_else(|| {
        StoreError::Json(serde::de::Error::custom(format!(
            "unknown user status {}",
            row.status
        )))
    })?;
    Ok(user)
}

const SESSION_COLUMNS: &str =
    "origin_jti, pool_id, client_id, username, auth_time, refresh_expires, revoked";

fn session_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        origin_jti: r.get(0)?,
        pool_id: r.get(1)?,
        client_id: r.get(2)?,
        username: r.get(3)?,
        auth_time: r.get(4)?,
        refresh_expires: r.get(5)?,
        revoked: r.get(6)?,
    })
}
