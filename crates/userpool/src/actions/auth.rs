//! Sign-in and everything a signed-in user does with their tokens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::shapes::{AttributeType, AuthResponse, AuthenticationResult, Empty, attribute_list};
use super::{Params, check_secret_hash, param, required_param};
use crate::UserPools;
use crate::attempts::lockout;
use crate::error::{CognitoError, PoolStoreError};
use crate::model::{Client, Pool, Session, User, UserStatus};
use crate::password::{self, Setter};
use crate::store::Challenge;
use crate::tokens::{self, Grant};

/// How long a NEW_PASSWORD_REQUIRED `Session` stays valid (Cognito's default, 3 minutes).
const CHALLENGE_TTL: i64 = 180;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InitiateAuth {
    auth_flow: String,
    client_id: String,
    #[serde(default)]
    auth_parameters: Params,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RespondToAuthChallenge {
    client_id: String,
    challenge_name: String,
    session: Option<String>,
    #[serde(default)]
    challenge_responses: Params,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AccessTokenRequest {
    access_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RevokeToken {
    token: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ChangePassword {
    access_token: String,
    previous_password: Option<String>,
    proposed_password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetUserResponse {
    username: String,
    user_attributes: Vec<AttributeType>,
}

/// A user that an access token speaks for.
struct Bearer {
    pool: Pool,
    user: User,
}

impl UserPools {
    pub(super) fn initiate_auth(&self, req: InitiateAuth) -> Result<AuthResponse, CognitoError> {
        let (client, pool) = self.client(&req.client_id)?;
        let flow = req.auth_flow.as_str();
        match flow {
            "USER_PASSWORD_AUTH" => {
                require_flow(&client, flow)?;
                self.password_auth(&client, &pool, &req.auth_parameters)
            }
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
                require_flow(&client, "REFRESH_TOKEN_AUTH")?;
                self.refresh_auth(&client, &pool, &req.auth_parameters)
            }
            "USER_SRP_AUTH" | "CUSTOM_AUTH" | "USER_AUTH" => {
                require_flow(&client, flow)?;
                Err(CognitoError::InvalidParameter(format!(
                    "{flow} is not supported by the local user pool yet; use USER_PASSWORD_AUTH"
                )))
            }
            "ADMIN_NO_SRP_AUTH" | "ADMIN_USER_PASSWORD_AUTH" => {
                Err(CognitoError::InvalidParameter(format!(
                    "Initiate Auth method not supported: {flow}"
                )))
            }
            other => Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value '{other}' at 'authFlow' failed to satisfy \
                 constraint: Member must satisfy enum value set: [USER_SRP_AUTH, \
                 REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, USER_PASSWORD_AUTH, USER_AUTH]"
            ))),
        }
    }

    fn password_auth(
        &self,
        client: &Client,
        pool: &Pool,
        params: &Params,
    ) -> Result<AuthResponse, CognitoError> {
        let name = required_param(params, "USERNAME")?;
        let password = required_param(params, "PASSWORD")?;
        check_secret_hash(client, name, param(params, "SECRET_HASH"))?;
        let Some(found) = self.store.find_user(&pool.id, name)? else {
            return Err(self.unknown_user_sign_in(client, pool, name, password)?);
        };
        // Attempts for one user are decided one at a time, each on a fresh read.
        let _turn = self.attempts.turn(&pool.id, &found.username);
        let user = self
            .store
            .find_user(&pool.id, &found.username)?
            .filter(|u| u.username == found.username)
            .ok_or_else(CognitoError::incorrect_credentials)?;
        if user.locked_until >= self.now() {
            return Err(attempts_exceeded());
        }
        self.check_password(&user, password)?;
        // Only someone who knows the password learns the account's state.
        if !user.enabled {
            return Err(CognitoError::NotAuthorized("User is disabled.".into()));
        }
        match user.status {
            // Cognito says so only once the password is right (checked above).
            UserStatus::Unconfirmed => Err(CognitoError::UserNotConfirmed),
            UserStatus::ForceChangePassword => self.new_password_challenge(client, pool, &user),
            UserStatus::Confirmed => self.sign_in(client, pool, &user),
        }
    }

    /// Sign-in as a username that does not exist. While the client hides user existence it
    /// costs a (dummy) hash and locks out after the same number of failures as a real user,
    /// so neither the answer nor its timing tells the two apart. Returns the error to answer.
    fn unknown_user_sign_in(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        password: &str,
    ) -> Result<CognitoError, CognitoError> {
        if !client.config.hides_user_existence() {
            return Ok(CognitoError::UserNotFound);
        }
        let _turn = self.attempts.turn(&pool.id, &name.to_lowercase());
        if self.attempts.phantom_locked_until(&pool.id, name) >= self.now() {
            return Ok(attempts_exceeded());
        }
        self.verify_password(None, password)?;
        let limit = self.tuning.lockout_after;
        let failures = self
            .attempts
            .phantom_failure(&pool.id, name, self.now(), limit);
        Ok(match lockout(failures, limit) {
            Some(_) => attempts_exceeded(),
            None => CognitoError::incorrect_credentials(),
        })
    }

    /// Verifies a password, counting failures and locking out after too many in a row.
    /// Callers hold the user's turn.
    fn check_password(&self, user: &User, password: &str) -> Result<(), CognitoError> {
        let ok = self.verify_password(user.password_hash.as_deref(), password)?;
        if ok {
            if user.failed_logins > 0 {
                self.store
                    .clear_failed_logins(&user.pool_id, &user.username)?;
            }
            return Ok(());
        }
        let failures = self
            .store
            .record_failed_login(&user.pool_id, &user.username)?;
        match lockout(failures, self.tuning.lockout_after) {
            Some(seconds) => {
                self.store
                    .lock_user_until(&user.pool_id, &user.username, self.now() + seconds)?;
                Err(attempts_exceeded())
            }
            None => Err(CognitoError::incorrect_credentials()),
        }
    }

    fn new_password_challenge(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<AuthResponse, CognitoError> {
        let now = self.now();
        let validity_days = pool.config.password_policy.temporary_password_validity_days;
        if user.password_set_at + validity_days * 86_400 < now {
            return Err(CognitoError::NotAuthorized(
                "Temporary password has expired and must be reset by an administrator.".into(),
            ));
        }
        let session =
            format!("{}{}", crate::random::uuid(), crate::random::uuid()).replace('-', "");
        self.store.insert_challenge(
            &session,
            &Challenge {
                pool_id: pool.id.clone(),
                client_id: client.id.clone(),
                username: user.username.clone(),
                expires_at: now + CHALLENGE_TTL,
            },
        )?;
        let mut visible = user.attributes.clone();
        visible.remove("sub");
        // amazon-cognito-identity-js JSON.parses the last two: they are strings on purpose.
        let parameters = BTreeMap::from([
            ("USER_ID_FOR_SRP", user.username.clone()),
            ("requiredAttributes", "[]".to_owned()),
            (
                "userAttributes",
                serde_json::to_string(&visible).map_err(PoolStoreError::from)?,
            ),
        ]);
        Ok(AuthResponse::challenge(
            "NEW_PASSWORD_REQUIRED",
            Some(session),
            parameters,
        ))
    }

    /// Starts a session and returns all three tokens.
    fn sign_in(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<AuthResponse, CognitoError> {
        let now = self.now();
        let session = Session {
            origin_jti: crate::random::uuid(),
            pool_id: pool.id.clone(),
            client_id: client.id.clone(),
            username: user.username.clone(),
            auth_time: now,
            refresh_expires: now + client.config.validity.refresh,
            revoked: false,
        };
        let refresh = tokens::new_refresh_token();
        self.store
            .insert_session(&session, &tokens::refresh_digest(&refresh))?;
        let mut result = self.tokens(client, pool, user, &session)?;
        result.refresh_token = Some(refresh);
        Ok(AuthResponse::tokens(result))
    }

    /// ID and access tokens for a session (a sign-in or a refresh of it).
    fn tokens(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
        session: &Session,
    ) -> Result<AuthenticationResult, CognitoError> {
        let keys = self
            .pool_keys(&pool.id)
            .ok_or_else(|| PoolStoreError::Key(format!("no keys for {}", pool.id)))?;
        let groups: Vec<String> = self
            .store
            .groups_of(&pool.id, &user.username)?
            .into_iter()
            .map(|g| g.name)
            .collect();
        let issuer = self.issuer(&pool.id);
        let (id_token, access_token) = tokens::mint(
            &keys,
            &Grant {
                issuer: &issuer,
                user,
                groups: &groups,
                client,
                session,
                now: self.now(),
            },
        )?;
        Ok(AuthenticationResult {
            access_token,
            expires_in: client.config.validity.access,
            token_type: "Bearer",
            refresh_token: None,
            id_token,
        })
    }

    fn refresh_auth(
        &self,
        client: &Client,
        pool: &Pool,
        params: &Params,
    ) -> Result<AuthResponse, CognitoError> {
        let token = required_param(params, "REFRESH_TOKEN")?;
        let invalid = || CognitoError::NotAuthorized("Invalid Refresh Token.".into());
        let session = self
            .store
            .session_by_refresh(&tokens::refresh_digest(token))?
            .filter(|s| s.client_id == client.id && s.pool_id == pool.id)
            .ok_or_else(invalid)?;
        if session.revoked {
            return Err(CognitoError::NotAuthorized(
                "Refresh Token has been revoked".into(),
            ));
        }
        if session.refresh_expires <= self.now() {
            return Err(CognitoError::NotAuthorized(
                "Refresh Token has expired".into(),
            ));
        }
        let user = self
            .store
            .find_user(&pool.id, &session.username)?
            .ok_or_else(invalid)?;
        check_secret_hash(client, &user.username, param(params, "SECRET_HASH"))?;
        if !user.enabled {
            return Err(CognitoError::NotAuthorized("User is disabled.".into()));
        }
        Ok(AuthResponse::tokens(
            self.tokens(client, pool, &user, &session)?,
        ))
    }

    pub(super) fn respond_to_auth_challenge(
        &self,
        req: RespondToAuthChallenge,
    ) -> Result<AuthResponse, CognitoError> {
        let (client, pool) = self.client(&req.client_id)?;
        if req.challenge_name != "NEW_PASSWORD_REQUIRED" {
            return Err(CognitoError::InvalidParameter(format!(
                "The local user pool does not support the challenge {}",
                req.challenge_name
            )));
        }
        let responses = &req.challenge_responses;
        let name = required_param(responses, "USERNAME")?;
        let new_password = required_param(responses, "NEW_PASSWORD")?;
        check_secret_hash(&client, name, param(responses, "SECRET_HASH"))?;
        let expired = || {
            CognitoError::NotAuthorized("Invalid session for the user, session is expired.".into())
        };
        let session = req.session.as_deref().ok_or_else(expired)?;
        let challenge = self
            .store
            .take_challenge(session)?
            .filter(|c| c.client_id == client.id && c.expires_at > self.now())
            .ok_or_else(expired)?;
        let mut user = self
            .store
            .find_user(&pool.id, name)?
            .filter(|u| u.username == challenge.username && u.pool_id == challenge.pool_id)
            .ok_or_else(CognitoError::incorrect_credentials)?;
        password::check(&pool.config.password_policy, new_password, Setter::User)?;
        let updates: Vec<super::Attribute> = responses
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("userAttributes.").map(|n| super::Attribute {
                    name: n.to_owned(),
                    value: v.clone(),
                })
            })
            .collect();
        let updates = super::attributes(Some(updates))?;
        let credentials = self.derive_password(&pool.id, &user.username, new_password)?;
        let now = self.now();
        if !updates.is_empty() {
            user.attributes.extend(updates);
            user.modified = now;
            self.store.update_user(&user)?;
        }
        self.store.set_password(
            &pool.id,
            &user.username,
            &credentials,
            UserStatus::Confirmed,
            now,
        )?;
        user.status = UserStatus::Confirmed;
        self.sign_in(&client, &pool, &user)
    }

    /// Resolves an access token to its pool and user, refusing expired, forged, revoked and
    /// non-access tokens the way Cognito words it.
    fn bearer(&self, token: &str) -> Result<Bearer, CognitoError> {
        let invalid = || CognitoError::NotAuthorized("Invalid Access Token".into());
        let kid = tokens::kid(token).ok_or_else(invalid)?;
        let (pool_id, keys) = self.pool_for_access_kid(&kid).ok_or_else(invalid)?;
        let claims =
            tokens::verify_access(&keys.access, &self.issuer(&pool_id), token, self.now())?;
        let session = self
            .store
            .session(&claims.origin_jti)?
            .ok_or_else(invalid)?;
        if session.revoked {
            return Err(CognitoError::NotAuthorized(
                "Access Token has been revoked".into(),
            ));
        }
        if session.username != claims.username || session.client_id != claims.client_id {
            return Err(invalid());
        }
        let pool = self.pool(&pool_id)?;
        let user = self
            .store
            .find_user(&pool_id, &claims.username)?
            .filter(|u| u.username == claims.username)
            .ok_or(CognitoError::UserNotFound)?;
        if !user.enabled {
            return Err(CognitoError::NotAuthorized("User is disabled.".into()));
        }
        Ok(Bearer { pool, user })
    }

    pub(super) fn get_user(
        &self,
        req: AccessTokenRequest,
    ) -> Result<GetUserResponse, CognitoError> {
        let Bearer { user, .. } = self.bearer(&req.access_token)?;
        Ok(GetUserResponse {
            user_attributes: attribute_list(&user.attributes),
            username: user.username,
        })
    }

    pub(super) fn global_sign_out(&self, req: AccessTokenRequest) -> Result<Empty, CognitoError> {
        let Bearer { pool, user } = self.bearer(&req.access_token)?;
        self.store.revoke_user_sessions(&pool.id, &user.username)?;
        Ok(Empty {})
    }

    pub(super) fn revoke_token(&self, req: RevokeToken) -> Result<Empty, CognitoError> {
        let (client, _) = self.client(&req.client_id)?;
        if !client.config.enable_token_revocation {
            return Err(CognitoError::Unauthorized(
                "Token revocation is not enabled for this client".into(),
            ));
        }
        // As RFC 7009 asks, an unknown token is not an error: there is nothing to revoke.
        if let Some(session) = self
            .store
            .session_by_refresh(&tokens::refresh_digest(&req.token))?
        {
            if session.client_id != client.id {
                return Err(CognitoError::Unauthorized(
                    "The token was not issued to this client".into(),
                ));
            }
            self.store.revoke_session(&session.origin_jti)?;
        }
        Ok(Empty {})
    }

    pub(super) fn change_password(&self, req: ChangePassword) -> Result<Empty, CognitoError> {
        let Bearer { pool, user } = self.bearer(&req.access_token)?;
        let _turn = self.attempts.turn(&pool.id, &user.username);
        let user = self
            .store
            .find_user(&pool.id, &user.username)?
            .ok_or(CognitoError::UserNotFound)?;
        if user.locked_until >= self.now() {
            return Err(attempts_exceeded());
        }
        let previous = req.previous_password.unwrap_or_default();
        self.check_password(&user, &previous)?;
        password::check(
            &pool.config.password_policy,
            &req.proposed_password,
            Setter::User,
        )?;
        let credentials = self.derive_password(&pool.id, &user.username, &req.proposed_password)?;
        self.store.set_password(
            &pool.id,
            &user.username,
            &credentials,
            user.status,
            self.now(),
        )?;
        Ok(Empty {})
    }
}

/// The answer while a user (or an unknown username) is locked out.
fn attempts_exceeded() -> CognitoError {
    CognitoError::NotAuthorized("Password attempts exceeded".into())
}

/// Refuses a flow the app client does not allow, with Cognito's wording.
fn require_flow(client: &Client, flow: &str) -> Result<(), CognitoError> {
    if client.config.allows(flow) {
        Ok(())
    } else if flow == "REFRESH_TOKEN_AUTH" {
        Err(CognitoError::InvalidParameter(
            "Refresh Token flow not enabled for this client".into(),
        ))
    } else {
        Err(CognitoError::InvalidParameter(format!(
            "{flow} flow not enabled for this client"
        )))
    }
}
