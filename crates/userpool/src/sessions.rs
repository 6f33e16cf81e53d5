//! Sign-in sessions and their tokens, as both doors use them: the ID and access tokens
//! minted for a session, a refresh token resolved to its live session, an access token to
//! the user it speaks for, and a refresh token revoked with every token minted from it.

use crate::UserPools;
use crate::error::{KeyError, PoolError, PoolStoreError};
use crate::model::{Client, Pool, Session, User};
use crate::tokens::{self, ADMIN_SCOPE, AccessClaims, Grant, OAuthExtras};
use crate::triggers::claims::TokenSource;

impl UserPools {
    /// The ID token and the access token of a session, with its OAuth scopes if any, as
    /// the pool's pre token generation function (if any) changes them.
    pub fn mint_tokens(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
        session: &Session,
        oauth: Option<OAuthExtras<'_>>,
        source: TokenSource,
    ) -> Result<(String, String), PoolError> {
        let keys = self
            .pool_keys(&pool.id)
            .ok_or_else(|| PoolStoreError::from(KeyError::Missing(pool.id.clone())))?;
        let groups: Vec<String> = self
            .store
            .groups_of(&pool.id, &user.username)?
            .into_iter()
            .map(|g| g.name)
            .collect();
        let scopes = oauth.map_or_else(|| vec![ADMIN_SCOPE.to_owned()], |o| o.scopes.to_vec());
        let changes = self.token_changes(client, pool, user, &groups, &scopes, source)?;
        let issuer = self.issuer(&pool.id);
        Ok(tokens::mint(
            &keys,
            &Grant {
                issuer: &issuer,
                user,
                groups: &groups,
                client,
                session,
                now: self.now(),
                oauth,
                changes: &changes,
            },
        )?)
    }

    /// The live sign-in session a refresh token belongs to, for this client.
    pub fn refresh_session(
        &self,
        client: &Client,
        pool: &Pool,
        token: &str,
    ) -> Result<Session, PoolError> {
        let session = self
            .store
            .session_by_refresh(&tokens::refresh_digest(token))?
            .filter(|s| s.client_id == client.id && s.pool_id == pool.id)
            .ok_or_else(|| PoolError::NotAuthorized("Invalid Refresh Token.".into()))?;
        if session.revoked {
            return Err(PoolError::NotAuthorized(
                "Refresh Token has been revoked".into(),
            ));
        }
        if session.refresh_expires <= self.now() {
            return Err(PoolError::NotAuthorized("Refresh Token has expired".into()));
        }
        Ok(session)
    }

    /// The (still enabled) user of a sign-in session.
    pub fn session_user(&self, pool: &Pool, session: &Session) -> Result<User, PoolError> {
        let user = self
            .store
            .find_user(&pool.id, &session.username)?
            .filter(|u| u.username == session.username)
            .ok_or_else(|| PoolError::NotAuthorized("Invalid Refresh Token.".into()))?;
        if !user.enabled {
            return Err(PoolError::NotAuthorized("User is disabled.".into()));
        }
        Ok(user)
    }

    /// The enabled user an unrevoked access token speaks for, and the token's claims.
    pub fn access_token_user(&self, token: &str) -> Result<(User, AccessClaims), PoolError> {
        let invalid = || PoolError::NotAuthorized("Invalid Access Token".into());
        let kid = tokens::kid(token).ok_or_else(invalid)?;
        let (pool_id, keys) = self.pool_for_access_kid(&kid).ok_or_else(invalid)?;
        let claims =
            tokens::verify_access(&keys.access, &self.issuer(&pool_id), token, self.now())?;
        let session = self
            .store
            .session(&claims.origin_jti)?
            .ok_or_else(invalid)?;
        if session.revoked {
            return Err(PoolError::NotAuthorized(
                "Access Token has been revoked".into(),
            ));
        }
        if session.username != claims.username || session.client_id != claims.client_id {
            return Err(invalid());
        }
        let user = self
            .store
            .find_user(&pool_id, &claims.username)?
            .filter(|u| u.username == claims.username)
            .ok_or(PoolError::UserNotFound)?;
        if !user.enabled {
            return Err(PoolError::NotAuthorized("User is disabled.".into()));
        }
        Ok((user, claims))
    }

    /// Revokes a refresh token of `client_id` and every access token minted from it; an
    /// unknown token is not an error, as RFC 7009 asks (there is nothing to revoke).
    pub fn revoke_for_client(&self, client_id: &str, token: &str) -> Result<(), PoolError> {
        let (client, _) = self.client(client_id)?;
        if !client.config.enable_token_revocation {
            return Err(PoolError::Unauthorized(
                "Token revocation is not enabled for this client".into(),
            ));
        }
        if let Some(session) = self
            .store
            .session_by_refresh(&tokens::refresh_digest(token))?
        {
            if session.client_id != client.id {
                return Err(PoolError::Unauthorized(
                    "The token was not issued to this client".into(),
                ));
            }
            self.store.revoke_session(&session.origin_jti)?;
        }
        Ok(())
    }
}
