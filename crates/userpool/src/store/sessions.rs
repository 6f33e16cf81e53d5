//! Sign-in sessions (behind refresh tokens) and pending challenges.

use rusqlite::{OptionalExtension, Row, params};

use super::Store;
use crate::error::PoolStoreError;
use crate::model::Session;

/// A pending NEW_PASSWORD_REQUIRED challenge.
pub(crate) struct Challenge {
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub expires_at: i64,
}

impl Store {
    pub fn insert_session(
        &self,
        session: &Session,
        refresh_hash: &str,
    ) -> Result<(), PoolStoreError> {
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

    pub fn session(&self, origin_jti: &str) -> Result<Option<Session>, PoolStoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE origin_jti = ?1"),
                [origin_jti],
                session_row,
            )
            .optional()?)
    }

    pub fn session_by_refresh(
        &self,
        refresh_hash: &str,
    ) -> Result<Option<Session>, PoolStoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE refresh_hash = ?1"),
                [refresh_hash],
                session_row,
            )
            .optional()?)
    }

    pub fn revoke_session(&self, origin_jti: &str) -> Result<(), PoolStoreError> {
        self.conn().execute(
            "UPDATE sessions SET revoked = 1 WHERE origin_jti = ?1",
            [origin_jti],
        )?;
        Ok(())
    }

    pub fn revoke_user_sessions(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), PoolStoreError> {
        self.conn().execute(
            "UPDATE sessions SET revoked = 1 WHERE pool_id = ?1 AND username = ?2",
            params![pool_id, username],
        )?;
        Ok(())
    }

    // ---- challenge sessions ---------------------------------------------------------------

    pub fn insert_challenge(&self, session: &str, c: &Challenge) -> Result<(), PoolStoreError> {
        self.conn().execute(
            "INSERT INTO challenges (session, pool_id, client_id, username, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![session, c.pool_id, c.client_id, c.username, c.expires_at],
        )?;
        Ok(())
    }

    /// Removes and returns a challenge: a `Session` answers exactly one challenge.
    pub fn take_challenge(&self, session: &str) -> Result<Option<Challenge>, PoolStoreError> {
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
