//! What the hosted UI and OAuth 2.0 endpoints ask of the user pool, as plain Rust: app
//! clients' OAuth settings, the password step of a sign-in, self-service accounts, and
//! minting OAuth tokens. The hosted UI (`taskapi-hosted-ui`) is a front door of its own and
//! calls these, never the AWS JSON actions; the rules are the same ones the actions apply.

use std::collections::BTreeMap;

use crate::UserPools;
use crate::actions::{PasswordOutcome, constant_time_eq};
use crate::error::{ApiError, StoreError};
use crate::model::{Client, CodePurpose, Session, UserStatus};
use crate::password::{self, Setter};
use crate::tokens::{self, OAuthExtras};

/// An app client as the OAuth endpoints see it.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub id: String,
    pub pool_id: String,
    pub has_secret: bool,
    pub callback_urls: Vec<String>,
    pub logout_urls: Vec<String>,
    pub default_redirect_uri: Option<String>,
    /// `code`, `implicit`, `client_credentials`.
    pub allowed_oauth_flows: Vec<String>,
    pub allowed_oauth_scopes: Vec<String>,
    /// `AllowedOAuthFlowsUserPoolClient`: without it no OAuth flow is allowed.
    pub oauth_enabled: bool,
    pub identity_providers: Vec<String>,
}

impl OAuthClient {
    fn new(client: &Client) -> Self {
        let oauth = &client.config.oauth;
        Self {
            id: client.id.clone(),
            pool_id: client.pool_id.clone(),
            has_secret: client.secret.is_some(),
            callback_urls: oauth.callback_urls.clone(),
            logout_urls: oauth.logout_urls.clone(),
            default_redirect_uri: oauth.default_redirect_uri.clone(),
            allowed_oauth_flows: oauth.flows.clone(),
            allowed_oauth_scopes: oauth.scopes.clone(),
            oauth_enabled: oauth.enabled,
            identity_providers: oauth.identity_providers.clone(),
        }
    }
}

/// Where a correct password leads.
#[derive(Debug)]
pub enum PasswordStep {
    /// Signed in: the user's internal username.
    SignedIn { username: String },
    /// An administrator created the user: a new password is needed first. `session` answers
    /// [`UserPools::complete_new_password`] once.
    NewPasswordRequired { session: String },
}

/// A sign-in through the hosted UI, to turn into tokens.
pub struct OAuthGrant<'a> {
    pub client_id: &'a str,
    /// The internal username.
    pub username: &'a str,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    /// Whether to issue a refresh token (the code flow) or not (the implicit flow).
    pub refresh: bool,
}

/// What `/oauth2/token` answers.
#[derive(Debug)]
pub struct OAuthTokens {
    /// Only with the `openid` scope.
    pub id_token: Option<String>,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

/// The user an access token speaks for, and what it was granted.
#[derive(Debug)]
pub struct UserInfo {
    pub username: String,
    pub scopes: Vec<String>,
    pub attributes: BTreeMap<String, String>,
}

impl UserPools {
    pub fn oauth_client(&self, client_id: &str) -> Result<Option<OAuthClient>, ApiError> {
        Ok(self.store.client(client_id)?.as_ref().map(OAuthClient::new))
    }

    /// Compares a client secret in constant time.
    pub fn client_secret_matches(&self, client_id: &str, secret: &str) -> Result<bool, ApiError> {
        Ok(self
            .store
            .client(client_id)?
            .and_then(|c| c.secret)
            .is_some_and(|s| constant_time_eq(s.as_bytes(), secret.as_bytes())))
    }

    /// The password step of a hosted-UI sign-in, with the same rules as USER_PASSWORD_AUTH
    /// (lockout, disabled and unconfirmed users). No SECRET_HASH: the hosted UI is the pool's
    /// own page, and a client's secret is proven at the token endpoint.
    pub fn password_sign_in(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<PasswordStep, ApiError> {
        let (client, pool) = self.client(client_id)?;
        Ok(
            match self.password_outcome(&client, &pool, username, password)? {
                PasswordOutcome::SignedIn(user) => PasswordStep::SignedIn {
                    username: user.username,
                },
                PasswordOutcome::NewPasswordRequired(user) => PasswordStep::NewPasswordRequired {
                    session: self.new_password_session(&client, &pool, &user)?,
                },
            },
        )
    }

    /// Sets the chosen password of an administrator-created user; returns the internal
    /// username, now signed in. A password the policy refuses leaves the challenge open.
    pub fn complete_new_password(
        &self,
        client_id: &str,
        session: &str,
        username: &str,
        new_password: &str,
    ) -> Result<String, ApiError> {
        let (client, pool) = self.client(client_id)?;
        // Checked before the challenge is spent, so the form can be sent again.
        password::check(&pool.config.password_policy, new_password, Setter::User)?;
        let user = self.answer_new_password(
            &client,
            &pool,
            session,
            username,
            new_password,
            BTreeMap::new(),
        )?;
        Ok(user.username)
    }

    /// Signs up with an e-mail address as the username; `true` if the account needs no
    /// confirmation.
    pub fn self_sign_up(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<bool, ApiError> {
        let (_, pool) = self.client(client_id)?;
        let mut attributes = BTreeMap::new();
        if !pool.config.email_is_username() {
            attributes.insert("email".to_owned(), username.to_owned());
        }
        let (user, _) = self.register(&pool, username, Some(password.to_owned()), attributes)?;
        Ok(user.status == UserStatus::Confirmed)
    }

    pub fn confirm_self_sign_up(
        &self,
        client_id: &str,
        username: &str,
        code: &str,
    ) -> Result<(), ApiError> {
        let (client, pool) = self.client(client_id)?;
        self.confirm_registration(&client, &pool, username, code)
    }

    /// E-mails a new sign-up confirmation code.
    pub fn resend_code(&self, client_id: &str, username: &str) -> Result<(), ApiError> {
        let (client, pool) = self.client(client_id)?;
        self.send_user_code(&client, &pool, username, CodePurpose::SignUp)?;
        Ok(())
    }

    /// E-mails a password-reset code (or, for unknown users of clients that hide their
    /// existence, pretends to).
    pub fn start_password_reset(&self, client_id: &str, username: &str) -> Result<(), ApiError> {
        let (client, pool) = self.client(client_id)?;
        self.send_user_code(&client, &pool, username, CodePurpose::ForgotPassword)?;
        Ok(())
    }

    pub fn finish_password_reset(
        &self,
        client_id: &str,
        username: &str,
        code: &str,
        new_password: &str,
    ) -> Result<(), ApiError> {
        let (client, pool) = self.client(client_id)?;
        self.reset_password(&client, &pool, username, code, new_password)
    }

    /// A pool's resource-server scopes (`<identifier>/<scope name>`).
    pub fn custom_scopes(&self, pool_id: &str) -> Result<Vec<String>, ApiError> {
        self.custom_scopes_of(pool_id)
    }

    /// Tokens for someone who signed in through the hosted UI, with the granted scopes; the
    /// ID token only with `openid`, carrying `nonce` and `at_hash`.
    pub fn oauth_tokens(&self, grant: &OAuthGrant<'_>) -> Result<OAuthTokens, ApiError> {
        let (client, pool) = self.client(grant.client_id)?;
        let user = self
            .store
            .find_user(&pool.id, grant.username)?
            .filter(|u| u.username == grant.username)
            .ok_or(ApiError::UserNotFound)?;
        if !user.enabled {
            return Err(ApiError::NotAuthorized("User is disabled.".into()));
        }
        if user.status != UserStatus::Confirmed {
            return Err(ApiError::UserNotConfirmed);
        }
        let session = Session {
            origin_jti: crate::random::uuid(),
            pool_id: pool.id.clone(),
            client_id: client.id.clone(),
            username: user.username.clone(),
            auth_time: grant.auth_time,
            refresh_expires: self.now() + client.config.validity.refresh,
            revoked: false,
        };
        let refresh = tokens::new_refresh_token();
        self.store
            .insert_session(&session, &tokens::refresh_digest(&refresh))?;
        self.store
            .set_session_scopes(&session.origin_jti, grant.scopes)?;
        let (id, access) = self.mint_tokens(
            &client,
            &pool,
            &user,
            &session,
            Some(OAuthExtras {
                scopes: grant.scopes,
                nonce: grant.nonce,
            }),
        )?;
        Ok(OAuthTokens {
            id_token: grant.scopes.iter().any(|s| s == "openid").then_some(id),
            access_token: access,
            refresh_token: grant.refresh.then_some(refresh),
            expires_in: client.config.validity.access,
        })
    }

    /// `grant_type=refresh_token`: new ID and access tokens with the sign-in's scopes.
    pub fn oauth_refresh(
        &self,
        client_id: &str,
        refresh_token: &str,
    ) -> Result<OAuthTokens, ApiError> {
        let (client, pool) = self.client(client_id)?;
        let (user, session) = self.refreshable(&client, &pool, refresh_token)?;
        let scopes = self.store.session_scopes(&session.origin_jti)?;
        let extras = scopes.as_deref().map(|scopes| OAuthExtras {
            scopes,
            nonce: None,
        });
        let openid = scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|s| s == "openid"));
        let (id, access) = self.mint_tokens(&client, &pool, &user, &session, extras)?;
        Ok(OAuthTokens {
            id_token: openid.then_some(id),
            access_token: access,
            refresh_token: None,
            expires_in: client.config.validity.access,
        })
    }

    /// `grant_type=client_credentials`: an access token for the client itself. The scopes
    /// are checked by the caller against the client's.
    pub fn client_credentials(
        &self,
        client_id: &str,
        scopes: &[String],
    ) -> Result<OAuthTokens, ApiError> {
        let (client, pool) = self.client(client_id)?;
        let keys = self
            .pool_keys(&pool.id)
            .ok_or_else(|| StoreError::Key(format!("no keys for {}", pool.id)))?;
        let access =
            tokens::mint_client_token(&keys, &self.issuer(&pool.id), &client, scopes, self.now())?;
        Ok(OAuthTokens {
            id_token: None,
            access_token: access,
            refresh_token: None,
            expires_in: client.config.validity.access,
        })
    }

    /// The user behind an access token and its scopes, for `/oauth2/userInfo`.
    pub fn user_info(&self, access_token: &str) -> Result<UserInfo, ApiError> {
        let (user, claims) = self.access_token_user(access_token)?;
        Ok(UserInfo {
            username: user.username,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            attributes: user.attributes,
        })
    }

    /// Revokes a refresh token issued to `client_id` (and the access tokens minted from it).
    /// An unknown token is not an error (RFC 7009).
    pub fn revoke_refresh_token(&self, client_id: &str, token: &str) -> Result<(), ApiError> {
        self.revoke_for_client(client_id, token)
    }
}
