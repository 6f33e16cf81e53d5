//! Sign-in sessions (behind refresh tokens) and pending challenges.

use rusqlite::{Row, params};

use super::Store;
use crate::error::PoolStoreError;
use crate::model::Session;

/// A pending challenge (`NEW_PASSWORD_REQUIRED`, `SOFTWARE_TOKEN_MFA`, `MFA_SETUP`), found
/// by its `Session`.
pub struct Challenge {
    pub kind: String,
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
        self.execute(
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
        )
    }

    pub fn session(&self, origin_jti: &str) -> Result<Option<Session>, PoolStoreError> {
        self.session_where("origin_jti", origin_jti)
    }

    pub fn session_by_refresh(
        &self,
        refresh_hash: &str,
    ) -> Result<Option<Session>, PoolStoreError> {
        self.session_where("refresh_hash", refresh_hash)
    }

    /// The session whose unique `column` holds `value`.
    fn session_where(&self, column: &str, value: &str) -> Result<Option<Session>, PoolStoreError> {
        self.optional_row(
            &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE {column} = ?1"),
            [value],
            session_row,
        )
    }

    /// Revokes one session (a refresh token and its access tokens), and ends its user's
    /// hosted-UI sign-ins: a browser's session cookie must not mint a new refresh token
    /// for what was just revoked.
    pub fn revoke_session(&self, origin_jti: &str) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE sessions SET revoked = 1 WHERE origin_jti = ?1",
                [origin_jti],
            )?;
            tx.execute(
                "UPDATE users SET session_epoch = session_epoch + 1
                 WHERE (pool_id, username) = (SELECT pool_id, username FROM sessions
                                               WHERE origin_jti = ?1)",
                [origin_jti],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Signs a user out everywhere: every refresh token and access token revoked, and
    /// every hosted-UI sign-in ended.
    pub fn revoke_user_sessions(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            end_user_sessions(&tx, pool_id, username)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The user's current sign-in generation, while the user exists and is enabled: a
    /// hosted-UI session is good only while the generation it started in is current.
    pub fn session_epoch(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Option<i64>, PoolStoreError> {
        self.optional_row(
            "SELECT session_epoch FROM users WHERE pool_id = ?1 AND username = ?2 AND enabled = 1",
            params![pool_id, username],
            |row| row.get(0),
        )
    }

    // ---- challenge sessions ---------------------------------------------------------------

    pub fn insert_challenge(&self, session: &str, c: &Challenge) -> Result<(), PoolStoreError> {
        self.execute(
            "INSERT INTO challenges (session, kind, pool_id, client_id, username, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                session,
                c.kind,
                c.pool_id,
                c.client_id,
                c.username,
                c.expires_at
            ],
        )
    }

    /// Removes and returns a challenge: a `Session` answers exactly one challenge.
    pub fn take_challenge(&self, session: &str) -> Result<Option<Challenge>, PoolStoreError> {
        self.optional_row(
            &format!("DELETE FROM challenges WHERE session = ?1 RETURNING {CHALLENGE_COLUMNS}"),
            [session],
            challenge_row,
        )
    }

    /// Reads a challenge without answering it (AssociateSoftwareToken during `MFA_SETUP`).
    pub fn peek_challenge(&self, session: &str) -> Result<Option<Challenge>, PoolStoreError> {
        self.optional_row(
            &format!("SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE session = ?1"),
            [session],
            challenge_row,
        )
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

const CHALLENGE_COLUMNS: &str = "kind, pool_id, client_id, username, expires_at";

fn challenge_row(r: &Row<'_>) -> rusqlite::Result<Challenge> {
    Ok(Challenge {
        kind: r.get(0)?,
        pool_id: r.get(1)?,
        client_id: r.get(2)?,
        username: r.get(3)?,
        expires_at: r.get(4)?,
    })
}

/// [`Store::revoke_user_sessions`] inside a transaction of the caller's (a password reset
/// ends every session in the same commit as the new password).
pub fn end_user_sessions(
    tx: &rusqlite::Transaction<'_>,
    pool_id: &str,
    username: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE sessions SET revoked = 1 WHERE pool_id = ?1 AND username = ?2",
        params![pool_id, username],
    )?;
    tx.execute(
        "UPDATE users SET session_epoch = session_epoch + 1 WHERE pool_id = ?1 AND username = ?2",
        params![pool_id, username],
    )?;
    Ok(())
}
