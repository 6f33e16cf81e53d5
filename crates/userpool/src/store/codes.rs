//! One-time codes (sign-up confirmation, password reset): at most one per user and purpose.

use rusqlite::{Connection, params};

use super::Store;
use crate::error::PoolStoreError;
use crate::model::{CodePurpose, NewCode, StoredCode, User};

impl Store {
    /// Stores a fresh code, replacing any earlier one for the same purpose.
    pub fn put_code(&self, user: &User, code: &NewCode) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| Ok(insert_code(conn, user, code)?))
    }

    pub fn code(
        &self,
        user: &User,
        purpose: CodePurpose,
    ) -> Result<Option<StoredCode>, PoolStoreError> {
        self.optional_row(
            &format!("SELECT code, expires_at, attempts FROM codes {THE_CODE}"),
            params![user.pool_id, user.username, purpose.as_str()],
            |r| {
                Ok(StoredCode {
                    code: r.get(0)?,
                    expires_at: r.get(1)?,
                    attempts: r.get(2)?,
                })
            },
        )
    }

    pub fn count_code_attempt(
        &self,
        user: &User,
        purpose: CodePurpose,
    ) -> Result<(), PoolStoreError> {
        self.on_code("UPDATE codes SET attempts = attempts + 1", user, purpose)
    }

    pub fn delete_code(&self, user: &User, purpose: CodePurpose) -> Result<(), PoolStoreError> {
        self.on_code("DELETE FROM codes", user, purpose)
    }

    /// Runs `statement` on the user's code for `purpose`.
    fn on_code(
        &self,
        statement: &str,
        user: &User,
        purpose: CodePurpose,
    ) -> Result<(), PoolStoreError> {
        self.execute(
            &format!("{statement} {THE_CODE}"),
            params![user.pool_id, user.username, purpose.as_str()],
        )
    }
}

/// Picks a user's code for a purpose: `?1` the pool, `?2` the username, `?3` the purpose.
const THE_CODE: &str = "WHERE pool_id = ?1 AND username = ?2 AND purpose = ?3";

/// The row of [`Store::put_code`], on `conn` (which may be in a transaction).
pub fn insert_code(conn: &Connection, user: &User, code: &NewCode) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO codes (pool_id, username, purpose, code, expires_at, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        params![
            user.pool_id,
            user.username,
            code.purpose.as_str(),
            code.code,
            code.expires_at
        ],
    )?;
    Ok(())
}
