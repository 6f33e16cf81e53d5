//! What the hosted UI and OAuth 2.0 endpoints ask of the user pool, as plain Rust: app
//! clients' OAuth settings, the password step of a sign-in, self-service accounts, and
//! minting OAuth tokens. The hosted UI (`taskapi-hosted-ui`) is a front door of its own and
//! calls these, never the AWS JSON actions; the rules are the same ones the actions apply.

use crate::triggers::ClientData;
use crate::triggers::claims::TokenSource;
use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::UserPools;
use crate::attempts::{CodeRequest, CodeStep};
use crate::error::{KeyError, PoolError, PoolStoreError};
use crate::hashing::constant_time_eq;
use crate::model::{Client, CodePurpose, OAuthSettings, Pool, Session, User, UserStatus};
use crate::password::{self, Setter};
use crate::quotas::Category;
use crate::signin::{
    NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, SignInStep, factor_step, same_user,
};
use crate::tokens::{self, OAuthExtras};

/// An app client as the OAuth endpoints see it.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub id: String,
    pub pool_id: String,
    pub has_secret: bool,
    pub oauth: OAuthSettings,
}

impl OAuthClient {
    fn new(client: &Client) -> Self {
        Self {
            id: client.id.clone(),
            pool_id: client.pool_id.clone(),
            has_secret: client.secret.is_some(),
            oauth: client.config.oauth.clone(),
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
    /// MFA: the authenticator app's code, for [`UserPools::answer_software_token`].
    SoftwareTokenMfa { session: String },
}

/// A sign-in through the hosted UI, to turn into tokens.
pub struct OAuthGrant<'a> {
    pub client_id: &'a str,
    /// The internal username.
    pub username: &'a str,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    /// The user's sign-in generation when they signed in ([`UserPools::session_epoch`]):
    /// a grant from a sign-in that was since ended is refused.
    pub epoch: i64,
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
    pub fn oauth_client(&self, client_id: &str) -> Result<Option<OAuthClient>, PoolError> {
        Ok(self.store.client(client_id)?.as_ref().map(OAuthClient::new))
    }

    /// Compares a client secret in constant time.
    pub fn client_secret_matches(&self, client_id: &str, secret: &str) -> Result<bool, PoolError> {
        Ok(self
            .store
            .client(client_id)?
            .and_then(|c| c.secret)
            .is_some_and(|s| constant_time_eq(s.as_bytes(), secret.as_bytes())))
    }

    /// The password step of a hosted-UI sign-in, with the same rules as USER_PASSWORD_AUTH
    /// (lockout, disabled and unconfirmed users, a new password owed, MFA). No SECRET_HASH:
    /// the hosted UI is the pool's own page, and a client's secret is proven at the token
    /// endpoint.
    pub fn password_sign_in(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<PasswordStep, PoolError> {
        let (client, pool) = self.metered_client(client_id, Category::UserAuthentication)?;
        let user = self.proven_user(&client, &pool, username, password, None)?;
        let step = self.step_after_password(&pool, &user)?;
        self.page_step(step, &client, &pool, user)
    }

    /// Sets the chosen password of an administrator-created user. A password the policy
    /// refuses leaves the challenge open, so the form can be sent again.
    pub fn complete_new_password(
        &self,
        client_id: &str,
        session: &str,
        username: &str,
        new_password: &str,
    ) -> Result<PasswordStep, PoolError> {
        let (client, pool) = self.metered_client(client_id, Category::UserAuthentication)?;
        password::check(&pool.config.password_policy, new_password, Setter::User)?;
        let mut user =
            self.answer_challenge(NEW_PASSWORD_REQUIRED, &client, &pool, Some(session))?;
        same_user(self.store.find_user(&pool.id, username)?, &user)?;
        self.replace_temporary_password(&pool, &mut user, new_password, BTreeMap::new())?;
        self.page_step(factor_step(&pool, &user), &client, &pool, user)
    }

    /// Answers the authenticator-app code a sign-in asked for; returns the internal
    /// username, signed in.
    pub fn answer_software_token(
        &self,
        client_id: &str,
        session: &str,
        username: &str,
        code: &str,
    ) -> Result<String, PoolError> {
        let (client, pool) = self.metered_client(client_id, Category::UserAuthentication)?;
        let user = self.answer_challenge(SOFTWARE_TOKEN_MFA, &client, &pool, Some(session))?;
        same_user(self.store.find_user(&pool.id, username)?, &user)?;
        self.redeem_sign_in_totp(&user, code)?;
        Ok(user.username)
    }

    /// A sign-in step as the hosted UI answers it: signed in, or the form of the next step
    /// with its `Session`. Setting up an authenticator is not offered here.
    fn page_step(
        &self,
        step: SignInStep,
        client: &Client,
        pool: &Pool,
        user: User,
    ) -> Result<PasswordStep, PoolError> {
        match step {
            SignInStep::SignedIn => {
                self.post_authentication(client, pool, &user)?;
                Ok(PasswordStep::SignedIn {
                    username: user.username,
                })
            }
            SignInStep::NewPassword => Ok(PasswordStep::NewPasswordRequired {
                session: self.new_password_session(client, pool, &user)?,
            }),
            SignInStep::SoftwareToken => Ok(PasswordStep::SoftwareTokenMfa {
                session: self.start_challenge(SOFTWARE_TOKEN_MFA, client, pool, &user)?,
            }),
            SignInStep::MfaSetup => Err(PoolError::NotAuthorized(
                "This pool requires MFA: set up an authenticator app first \
                 (AssociateSoftwareToken), then sign in here."
                    .into(),
            )),
        }
    }

    /// Signs up with an e-mail address as the username; `true` if the account needs no
    /// confirmation.
    pub fn self_sign_up(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<bool, PoolError> {
        let (client, pool) = self.metered_client(client_id, Category::UserCreation)?;
        let mut attributes = BTreeMap::new();
        if !pool.config.email_is_username() {
            attributes.insert("email".to_owned(), username.to_owned());
        }
        let (user, _) = self.register(
            &client,
            &pool,
            username,
            Some(password.to_owned()),
            attributes,
            &ClientData::default(),
        )?;
        Ok(user.status == UserStatus::Confirmed)
    }

    pub fn confirm_self_sign_up(
        &self,
        client_id: &str,
        username: &str,
        code: &str,
        caller: Option<IpAddr>,
    ) -> Result<(), PoolError> {
        let (client, pool) = self.metered_client(client_id, Category::UserCreation)?;
        let step = CodeRequest {
            caller,
            pool_id: &pool.id,
            name: username,
            purpose: CodePurpose::SignUp,
        };
        self.within_allowance(&step, CodeStep::Entry, || {
            self.confirm_registration(&client, &pool, username, code)
        })
    }

    /// E-mails a new sign-up confirmation code.
    pub fn resend_code(
        &self,
        client_id: &str,
        username: &str,
        caller: Option<IpAddr>,
    ) -> Result<(), PoolError> {
        self.email_code(client_id, username, CodePurpose::SignUp, caller)
    }

    /// E-mails a password-reset code (or, for unknown users of clients that hide their
    /// existence, pretends to).
    pub fn start_password_reset(
        &self,
        client_id: &str,
        username: &str,
        caller: Option<IpAddr>,
    ) -> Result<(), PoolError> {
        self.email_code(client_id, username, CodePurpose::ForgotPassword, caller)
    }

    /// E-mails a code for `purpose`, as the API's actions would (the delivery details they
    /// answer with have no use here), within `caller`'s allowance.
    fn email_code(
        &self,
        client_id: &str,
        username: &str,
        purpose: CodePurpose,
        caller: Option<IpAddr>,
    ) -> Result<(), PoolError> {
        let category = match purpose {
            CodePurpose::ForgotPassword => Category::UserAccountRecovery,
            CodePurpose::SignUp | CodePurpose::VerifyEmail => Category::UserCreation,
        };
        let (client, pool) = self.metered_client(client_id, category)?;
        let step = CodeRequest {
            caller,
            pool_id: &pool.id,
            name: username,
            purpose,
        };
        self.within_allowance(&step, CodeStep::Request, || {
            self.send_user_code(&client, &pool, username, purpose)
        })?;
        Ok(())
    }

    pub fn finish_password_reset(
        &self,
        client_id: &str,
        username: &str,
        code: &str,
        new_password: &str,
        caller: Option<IpAddr>,
    ) -> Result<(), PoolError> {
        let (client, pool) = self.metered_client(client_id, Category::UserAccountRecovery)?;
        let step = CodeRequest {
            caller,
            pool_id: &pool.id,
            name: username,
            purpose: CodePurpose::ForgotPassword,
        };
        self.within_allowance(&step, CodeStep::Entry, || {
            self.reset_password(&client, &pool, username, code, new_password)
        })
    }

    /// A pool's resource-server scopes (`<identifier>/<scope name>`).
    pub fn custom_scopes(&self, pool_id: &str) -> Result<Vec<String>, PoolError> {
        self.custom_scopes_of(pool_id)
    }

    /// Tokens for someone who signed in through the hosted UI, with the granted scopes; the
    /// ID token only with `openid`, carrying `nonce` and `at_hash`.
    pub fn oauth_tokens(&self, grant: &OAuthGrant<'_>) -> Result<OAuthTokens, PoolError> {
        let (client, pool) = self.client(grant.client_id)?;
        let user = self
            .store
            .find_user(&pool.id, grant.username)?
            .filter(|u| u.username == grant.username)
            .ok_or(PoolError::UserNotFound)?;
        if !user.enabled {
            return Err(PoolError::NotAuthorized("User is disabled.".into()));
        }
        if user.status != UserStatus::Confirmed {
            return Err(PoolError::UserNotConfirmed);
        }
        if self.store.session_epoch(&pool.id, &user.username)? != Some(grant.epoch) {
            return Err(PoolError::NotAuthorized(
                "The sign-in session has ended; sign in again".into(),
            ));
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
            TokenSource::HostedAuth,
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
    ) -> Result<OAuthTokens, PoolError> {
        let (client, pool) = self.client(client_id)?;
        let session = self.refresh_session(&client, &pool, refresh_token)?;
        let user = self.session_user(&pool, &session)?;
        let scopes = self.store.session_scopes(&session.origin_jti)?;
        let extras = scopes.as_deref().map(|scopes| OAuthExtras {
            scopes,
            nonce: None,
        });
        let openid = scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|s| s == "openid"));
        let (id, access) = self.mint_tokens(
            &client,
            &pool,
            &user,
            &session,
            extras,
            TokenSource::RefreshTokens,
        )?;
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
    ) -> Result<OAuthTokens, PoolError> {
        let (client, pool) = self.client(client_id)?;
        let keys = self
            .pool_keys(&pool.id)
            .ok_or_else(|| PoolStoreError::from(KeyError::Missing(pool.id.clone())))?;
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
    pub fn user_info(&self, access_token: &str) -> Result<UserInfo, PoolError> {
        let (user, claims) = self.access_token_user(access_token)?;
        Ok(UserInfo {
            username: user.username,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            attributes: user.attributes,
        })
    }

    /// Revokes a refresh token issued to `client_id` (and the access tokens minted from it).
    /// An unknown token is not an error (RFC 7009).
    pub fn revoke_refresh_token(&self, client_id: &str, token: &str) -> Result<(), PoolError> {
        self.revoke_for_client(client_id, token)
    }

    /// Takes one form of `category` from `caller`'s share of the pool of `client_id`, as the
    /// AWS door does for the public actions: a stranger's flood of forms from one address
    /// leaves the pool's other half to everybody else. Unknown clients are refused later,
    /// by the form itself.
    pub fn fair_share(
        &self,
        client_id: &str,
        category: Category,
        caller: IpAddr,
    ) -> Result<(), PoolError> {
        match self.store.client(client_id)? {
            Some(client) => self.quotas.check_share(category, &client.pool_id, caller),
            None => Ok(()),
        }
    }

    /// The app client and pool of a hosted-UI form, charged to the pool's quota for the
    /// form's category, as the same action through the AWS JSON door is.
    fn metered_client(
        &self,
        client_id: &str,
        category: Category,
    ) -> Result<(Client, Pool), PoolError> {
        let (client, pool) = self.client(client_id)?;
        self.meter(category, &pool.id, None)?;
        Ok((client, pool))
    }

    /// The sign-in generation of an enabled user, `None` for a user deleted or disabled. A
    /// hosted-UI session records it at sign-in and is good only while it is unchanged:
    /// sign-out everywhere, a revoked refresh token and a password reset each move it on.
    pub fn session_epoch(&self, pool_id: &str, username: &str) -> Result<Option<i64>, PoolError> {
        Ok(self.store.session_epoch(pool_id, username)?)
    }
}
