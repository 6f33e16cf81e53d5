//! One-time codes (sign-up confirmation, password reset).

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::PoolStoreError;
use crate::model::{CodePurpose, StoredCode};

impl Store {
    /// Stores a fresh code, replacing any earlier one for the same purpose.
    pub fn put_code(
        &self,
        pool_id: &str,
        username: &str,
        purpose: CodePurpose,
        code: &str,
        expires_at: i64,
    ) -> Result<(), PoolStoreError> {
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
    ) -> Result<Option<StoredCode>, PoolStoreError> {
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
    ) -> Result<(), PoolStoreError> {
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
    ) -> Result<(), PoolStoreError> {
        self.conn().execute(
            "DELETE FROM codes WHERE pool_id = ?1 AND username = ?2 AND purpose = ?3",
            params![pool_id, username, purpose.as_str()],
        )?;
        Ok(())
    }
}
