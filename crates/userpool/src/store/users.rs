//! Users, their credentials and their sign-in failure counters.

use rusqlite::{Connection, Row, params};

use super::Store;
use super::codes::insert_code;
use crate::error::PoolStoreError;
use crate::model::{Credentials, NewCode, Totp, User, UserStatus};

/// What a password change does to the sessions a user has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    /// The user changed it while signed in (ChangePassword, a first password): kept.
    Keep,
    /// A reset (forgotten password, an administrator's): every session revoked.
    End,
}

impl Store {
    /// Inserts a user; `Ok(false)` when the username or e-mail alias is taken.
    pub fn insert_user(
        &self,
        user: &User,
        alias_email: Option<&str>,
        credentials: Option<&Credentials>,
    ) -> Result<bool, PoolStoreError> {
        self.with_conn(|conn| insert_user_row(conn, user, alias_email, credentials))
    }

    /// Inserts a user and its first code in one transaction, so a failure (a full disk)
    /// leaves neither: a user without its confirmation code could neither confirm nor sign
    /// up again. `Ok(false)` when the username or e-mail alias is taken.
    pub fn insert_user_with_code(
        &self,
        user: &User,
        alias_email: Option<&str>,
        credentials: &Credentials,
        code: &NewCode,
    ) -> Result<bool, PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            if !insert_user_row(&tx, user, alias_email, Some(credentials))? {
                return Ok(false);
            }
            insert_code(&tx, user, code)?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Finds a user by username, or by e-mail where e-mail addresses sign in.
    pub fn find_user(&self, pool_id: &str, name: &str) -> Result<Option<User>, PoolStoreError> {
        let row = self.optional_row(
            &format!(
                "SELECT {USER_COLUMNS} FROM users WHERE pool_id = ?1
                 AND (username = ?2 OR alias_email = lower(?2))
                 ORDER BY username = ?2 DESC LIMIT 1"
            ),
            params![pool_id, name],
            user_row,
        )?;
        row.map(finish_user).transpose()
    }

    /// A pool's users, oldest first.
    pub fn users(&self, pool_id: &str) -> Result<Vec<User>, PoolStoreError> {
        self.all_rows(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE pool_id = ?1 ORDER BY created, rowid"),
            [pool_id],
            user_row,
        )?
        .into_iter()
        .map(finish_user)
        .collect()
    }

    pub fn update_user(&self, user: &User) -> Result<(), PoolStoreError> {
        self.execute(
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
        )
    }

    /// Sets a user's password; with [`Sessions::End`], every session the user has is
    /// revoked in the same commit (a reset must lock out whoever knew the old password).
    pub fn set_password(
        &self,
        pool_id: &str,
        username: &str,
        credentials: &Credentials,
        status: UserStatus,
        now: i64,
        sessions: Sessions,
    ) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
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
            if sessions == Sessions::End {
                super::sessions::end_user_sessions(&tx, pool_id, username)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Records a wrong password; returns the number of consecutive failures so far.
    pub fn record_failed_login(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<i64, PoolStoreError> {
        self.with_conn(|conn| {
            Ok(conn.query_row(
                "UPDATE users SET failed_logins = failed_logins + 1
             WHERE pool_id = ?1 AND username = ?2 RETURNING failed_logins",
                params![pool_id, username],
                |r| r.get(0),
            )?)
        })
    }

    pub fn lock_user_until(
        &self,
        pool_id: &str,
        username: &str,
        until: i64,
    ) -> Result<(), PoolStoreError> {
        self.execute(
            "UPDATE users SET locked_until = ?3 WHERE pool_id = ?1 AND username = ?2",
            params![pool_id, username, until],
        )
    }

    pub fn clear_failed_logins(&self, pool_id: &str, username: &str) -> Result<(), PoolStoreError> {
        self.execute(
            "UPDATE users SET failed_logins = 0, locked_until = 0
             WHERE pool_id = ?1 AND username = ?2",
            params![pool_id, username],
        )
    }

    /// Changes the lower-cased e-mail that must be unique in the pool; `Ok(false)` when
    /// another user has it.
    pub fn set_alias_email(
        &self,
        pool_id: &str,
        username: &str,
        alias: Option<&str>,
    ) -> Result<bool, PoolStoreError> {
        self.with_conn(|conn| {
            unless_taken(conn.execute(
                "UPDATE users SET alias_email = ?3 WHERE pool_id = ?1 AND username = ?2",
                params![pool_id, username, alias],
            ))
        })
    }

    /// Stores a user's software-token (TOTP) state.
    pub fn set_totp(
        &self,
        pool_id: &str,
        username: &str,
        totp: &Totp,
    ) -> Result<(), PoolStoreError> {
        self.execute(
            "UPDATE users SET totp_secret = ?3, totp_pending = ?4, totp_enabled = ?5,
                 totp_last_step = ?6
             WHERE pool_id = ?1 AND username = ?2",
            params![
                pool_id,
                username,
                totp.secret,
                totp.pending,
                totp.enabled,
                totp.last_step
            ],
        )
    }

    /// Records that the TOTP code of `step` was used, unless a code of that step or a later
    /// one already was; `Ok(false)` then (each code signs in once).
    pub fn use_totp_step(
        &self,
        pool_id: &str,
        username: &str,
        step: i64,
    ) -> Result<bool, PoolStoreError> {
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
                "UPDATE users SET totp_last_step = ?3
             WHERE pool_id = ?1 AND username = ?2 AND totp_last_step < ?3",
                params![pool_id, username, step],
            )?)
        })?;
        Ok(changed == 1)
    }

    /// Deletes a user with everything that refers to them.
    pub fn delete_user(&self, pool_id: &str, username: &str) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            for table in USER_TABLES {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE pool_id = ?1 AND username = ?2"),
                    params![pool_id, username],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

/// The tables that hold a user's rows, keyed by `pool_id` and `username`: deleting a user
/// (or their pool) clears them all.
pub const USER_TABLES: [&str; 5] = ["users", "codes", "group_members", "sessions", "challenges"];

/// `Ok(false)` when a write broke a uniqueness rule (a username or sign-in alias taken).
/// The row of [`Store::insert_user`], on `conn` (which may be in a transaction);
/// `Ok(false)` when the username or e-mail alias is taken.
fn insert_user_row(
    conn: &Connection,
    user: &User,
    alias_email: Option<&str>,
    credentials: Option<&Credentials>,
) -> Result<bool, PoolStoreError> {
    let attributes = serde_json::to_string(&user.attributes)?;
    let result = conn.execute(
        "INSERT INTO users (pool_id, username, alias_email, attributes, status, enabled,
             password_hash, srp_salt, srp_verifier, password_set_at, created, modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            user.pool_id,
            user.username,
            alias_email,
            attributes,
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
    unless_taken(result)
}

fn unless_taken(result: rusqlite::Result<usize>) -> Result<bool, PoolStoreError> {
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

const USER_COLUMNS: &str = "pool_id, username, attributes, status, enabled, password_hash,
    password_set_at, created, modified, failed_logins, locked_until, srp_salt, srp_verifier,
    totp_secret, totp_pending, totp_enabled, totp_last_step";

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
            srp_salt: r.get(11)?,
            srp_verifier: r.get(12)?,
            totp: Totp {
                secret: r.get(13)?,
                pending: r.get(14)?,
                enabled: r.get(15)?,
                last_step: r.get(16)?,
            },
        },
        attributes: r.get(2)?,
        status: r.get(3)?,
    })
}

fn finish_user(row: UserRow) -> Result<User, PoolStoreError> {
    let mut user = row.user;
    user.attributes = serde_json::from_str(&row.attributes)?;
    user.status =
        UserStatus::parse(&row.status).ok_or(PoolStoreError::UnknownUserStatus(row.status))?;
    Ok(user)
}
