//! Sign-in and everything a signed-in user does with their tokens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::shapes::{
    AttributeType, AuthResponse, AuthenticationResult, Empty, MfaSettings, attribute_list,
};
use super::{Metadata, Params, check_secret_hash, param, required_param};
use crate::door::AwsDoor;
use taskapi_userpool::error::{PoolError, PoolStoreError};
use taskapi_userpool::model::{Client, Pool, Session, User};
use taskapi_userpool::password::{self, Setter};
use taskapi_userpool::signin::{
    MFA_SETUP, MFA_SETUP_VERIFIED, NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, SignInStep,
    attempts_exceeded, factor_step, same_user,
};
use taskapi_userpool::store::Sessions;
use taskapi_userpool::tokens::{self, ADMIN_SCOPE, OAuthExtras};
use taskapi_userpool::triggers::claims::TokenSource;
use taskapi_userpool::triggers::custom_auth::{CUSTOM_CHALLENGE, CustomStep};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InitiateAuth {
    auth_flow: String,
    client_id: String,
    #[serde(default)]
    auth_parameters: Params,
    client_metadata: Option<Metadata>,
}

/// AdminInitiateAuth: InitiateAuth plus the pool id.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminInitiateAuth {
    user_pool_id: String,
    #[serde(flatten)]
    inner: InitiateAuth,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RespondToAuthChallenge {
    client_id: String,
    challenge_name: String,
    session: Option<String>,
    #[serde(default)]
    challenge_responses: Params,
    client_metadata: Option<Metadata>,
}

/// AdminRespondToAuthChallenge: RespondToAuthChallenge plus the pool id.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminRespondToAuthChallenge {
    user_pool_id: String,
    #[serde(flatten)]
    inner: RespondToAuthChallenge,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetTokensFromRefreshToken {
    client_id: String,
    refresh_token: String,
    client_secret: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TokensResponse {
    authentication_result: AuthenticationResult,
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
    #[serde(flatten)]
    mfa: MfaSettings,
}

/// One sign-in attempt (InitiateAuth or AdminInitiateAuth): through which client, into
/// which pool, with which `AuthParameters`.
#[derive(Clone, Copy)]
pub(super) struct SignIn<'a> {
    pub client: &'a Client,
    pub pool: &'a Pool,
    pub params: &'a Params,
    /// `ClientMetadata`: the trigger functions' `validationData`.
    pub metadata: Option<&'a Metadata>,
}

impl<'a> SignIn<'a> {
    /// `USERNAME` and the flow's own proof (`PASSWORD`, `SRP_A`), once `SECRET_HASH` over
    /// the username shows that the caller holds the client's secret.
    pub fn username_and(&self, proof: &str) -> Result<(&'a str, &'a str), PoolError> {
        let name = required_param(self.params, "USERNAME")?;
        let given = required_param(self.params, proof)?;
        check_secret_hash(self.client, name, param(self.params, "SECRET_HASH"))?;
        Ok((name, given))
    }
}

/// A user that an access token speaks for.
pub(super) struct Bearer {
    pub pool: Pool,
    pub user: User,
}

impl AwsDoor {
    pub(super) fn initiate_auth(&self, req: InitiateAuth) -> Result<AuthResponse, PoolError> {
        let (client, pool) = self.client(&req.client_id)?;
        let flow = req.auth_flow.as_str();
        let sign_in = SignIn {
            client: &client,
            pool: &pool,
            params: &req.auth_parameters,
            metadata: req.client_metadata.as_ref(),
        };
        match flow {
            "USER_PASSWORD_AUTH" => {
                require_flow(&client, flow)?;
                self.password_auth(sign_in)
            }
            "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
                self.shared_flow(flow, sign_in)
            }
            "CUSTOM_AUTH" => {
                require_flow(&client, flow)?;
                self.custom_auth(sign_in)
            }
            "USER_AUTH" => Err(PoolError::InvalidParameter(format!(
                "{flow} is not supported by the local user pool; use USER_SRP_AUTH, \
                 USER_PASSWORD_AUTH or CUSTOM_AUTH"
            ))),
            "ADMIN_NO_SRP_AUTH" | "ADMIN_USER_PASSWORD_AUTH" => Err(PoolError::InvalidParameter(
                format!("Initiate Auth method not supported: {flow}"),
            )),
            other => Err(PoolError::InvalidParameter(format!(
                "1 validation error detected: Value '{other}' at 'authFlow' failed to satisfy \
                 constraint: Member must satisfy enum value set: [USER_SRP_AUTH, \
                 REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, USER_PASSWORD_AUTH, USER_AUTH]"
            ))),
        }
    }

    /// Server-side sign-in (signed with IAM credentials on AWS).
    pub(super) fn admin_initiate_auth(
        &self,
        req: AdminInitiateAuth,
    ) -> Result<AuthResponse, PoolError> {
        let (client, pool) = self.pool_client(&req.user_pool_id, &req.inner.client_id)?;
        let flow = req.inner.auth_flow.as_str();
        let sign_in = SignIn {
            client: &client,
            pool: &pool,
            params: &req.inner.auth_parameters,
            metadata: req.inner.client_metadata.as_ref(),
        };
        match flow {
            "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
                require_flow(&client, "ADMIN_USER_PASSWORD_AUTH")?;
                self.password_auth(sign_in)
            }
            "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
                self.shared_flow(flow, sign_in)
            }
            "CUSTOM_AUTH" => {
                require_flow(&client, flow)?;
                self.custom_auth(sign_in)
            }
            "USER_AUTH" | "USER_PASSWORD_AUTH" => Err(PoolError::InvalidParameter(format!(
                "Initiate Auth method not supported: {flow}"
            ))),
            other => Err(PoolError::InvalidParameter(format!(
                "1 validation error detected: Value '{other}' at 'authFlow' failed to satisfy \
                 constraint: Member must satisfy enum value set: [USER_SRP_AUTH, \
                 REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, \
                 USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]"
            ))),
        }
    }

    /// Amplify's refresh (since 6.15): the same as REFRESH_TOKEN_AUTH, with the client
    /// secret itself instead of a SECRET_HASH.
    pub(super) fn get_tokens_from_refresh_token(
        &self,
        req: GetTokensFromRefreshToken,
    ) -> Result<TokensResponse, PoolError> {
        let (client, pool) = self.client(&req.client_id)?;
        require_flow(&client, "REFRESH_TOKEN_AUTH")?;
        if let Some(secret) = &client.secret {
            let given = req.client_secret.as_deref().unwrap_or_default();
            if !taskapi_userpool::hashing::constant_time_eq(given.as_bytes(), secret.as_bytes()) {
                return Err(PoolError::NotAuthorized(format!(
                    "Client {} is configured with secret but ClientSecret was not received",
                    client.id
                )));
            }
        }
        let session = self.refresh_session(&client, &pool, &req.refresh_token)?;
        let user = self.session_user(&pool, &session)?;
        Ok(TokensResponse {
            authentication_result: self.refreshed_tokens(&client, &pool, &user, &session)?,
        })
    }

    /// The flows InitiateAuth and AdminInitiateAuth share: SRP and refresh.
    fn shared_flow(&self, flow: &str, sign_in: SignIn<'_>) -> Result<AuthResponse, PoolError> {
        if flow == "USER_SRP_AUTH" {
            require_flow(sign_in.client, flow)?;
            self.srp_auth(sign_in)
        } else {
            require_flow(sign_in.client, "REFRESH_TOKEN_AUTH")?;
            Ok(AuthResponse::tokens(self.refresh_auth(sign_in)?))
        }
    }

    /// `CUSTOM_AUTH`: the pool's challenge functions decide; the first step may already
    /// sign the user in.
    fn custom_auth(&self, sign_in: SignIn<'_>) -> Result<AuthResponse, PoolError> {
        let SignIn { client, pool, .. } = sign_in;
        let name = required_param(sign_in.params, "USERNAME")?;
        check_secret_hash(client, name, param(sign_in.params, "SECRET_HASH"))?;
        let step = self.start_custom_auth(client, pool, name, sign_in.metadata)?;
        self.render_custom(step, client, pool)
    }

    /// A custom-authentication step as this door answers it: a `CUSTOM_CHALLENGE` with its
    /// public parameters, or the user's factors and tokens.
    fn render_custom(
        &self,
        step: CustomStep,
        client: &Client,
        pool: &Pool,
    ) -> Result<AuthResponse, PoolError> {
        match step {
            CustomStep::SignedIn(user) => {
                self.render_step(factor_step(pool, &user), client, pool, &user)
            }
            CustomStep::Challenge {
                session,
                parameters,
            } => {
                let parameters = parameters
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                    .collect::<BTreeMap<String, String>>();
                Ok(AuthResponse::challenge(
                    CUSTOM_CHALLENGE,
                    Some(session),
                    parameters,
                ))
            }
        }
    }

    fn password_auth(&self, sign_in: SignIn<'_>) -> Result<AuthResponse, PoolError> {
        let SignIn { client, pool, .. } = sign_in;
        let (name, password) = sign_in.username_and("PASSWORD")?;
        let user = self.proven_user(client, pool, name, password, sign_in.metadata)?;
        // Only someone who knows the password learns the account's state; Cognito says
        // UserNotConfirmed only once the password is right, too.
        let step = self.step_after_password(pool, &user)?;
        self.render_step(step, client, pool, &user)
    }

    fn new_password_challenge(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<AuthResponse, PoolError> {
        let session = self.new_password_session(client, pool, user)?;
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

    /// A sign-in step as this door answers it: a challenge with its `Session`, or the
    /// tokens.
    pub(super) fn render_step(
        &self,
        step: SignInStep,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<AuthResponse, PoolError> {
        let parameters = |extra: Option<(&'static str, String)>| {
            let mut map = BTreeMap::from([("USER_ID_FOR_SRP", user.username.clone())]);
            map.extend(extra);
            map
        };
        match step {
            SignInStep::SignedIn => self.sign_in(client, pool, user),
            SignInStep::NewPassword => self.new_password_challenge(client, pool, user),
            SignInStep::SoftwareToken => {
                let session = self.start_challenge(SOFTWARE_TOKEN_MFA, client, pool, user)?;
                Ok(AuthResponse::challenge(
                    SOFTWARE_TOKEN_MFA,
                    Some(session),
                    parameters(None),
                ))
            }
            SignInStep::MfaSetup => {
                let session = self.start_challenge(MFA_SETUP, client, pool, user)?;
                Ok(AuthResponse::challenge(
                    MFA_SETUP,
                    Some(session),
                    parameters(Some(("MFAS_CAN_SETUP", "[\"SOFTWARE_TOKEN_MFA\"]".into()))),
                ))
            }
        }
    }

    /// Starts a session and returns all three tokens.
    fn sign_in(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<AuthResponse, PoolError> {
        self.post_authentication(client, pool, user)?;
        let now = self.now();
        let session = Session {
            origin_jti: taskapi_userpool::random::uuid(),
            pool_id: pool.id.clone(),
            client_id: client.id.clone(),
            username: user.username.clone(),
            auth_time: now,
            refresh_expires: now + client.config.validity.refresh,
            revoked: false,
        };
        let refresh = tokens::new_refresh_token();
        self.store()
            .insert_session(&session, &tokens::refresh_digest(&refresh))?;
        let minted = self.mint_tokens(
            client,
            pool,
            user,
            &session,
            None,
            TokenSource::Authentication,
        )?;
        let mut result = AuthenticationResult::new(client, minted);
        result.refresh_token = Some(refresh);
        Ok(AuthResponse::tokens(result))
    }

    /// A refresh of a session: a hosted-UI sign-in keeps its OAuth scopes, whichever door
    /// the refresh comes through.
    pub(super) fn refreshed_tokens(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
        session: &Session,
    ) -> Result<AuthenticationResult, PoolError> {
        let scopes = self.store().session_scopes(&session.origin_jti)?;
        let oauth = scopes.as_deref().map(|scopes| OAuthExtras {
            scopes,
            nonce: None,
        });
        let minted = self.mint_tokens(
            client,
            pool,
            user,
            session,
            oauth,
            TokenSource::RefreshTokens,
        )?;
        Ok(AuthenticationResult::new(client, minted))
    }

    fn refresh_auth(&self, sign_in: SignIn<'_>) -> Result<AuthenticationResult, PoolError> {
        let SignIn {
            client,
            pool,
            params,
            ..
        } = sign_in;
        let token = required_param(params, "REFRESH_TOKEN")?;
        let session = self.refresh_session(client, pool, token)?;
        let user = self.session_user(pool, &session)?;
        // The hash may be over the internal username or the e-mail the user signs in with
        // (pycognito uses the latter).
        let given = param(params, "SECRET_HASH");
        check_secret_hash(client, &user.username, given).or_else(|error| match user.email() {
            Some(email) => check_secret_hash(client, email, given),
            None => Err(error),
        })?;
        self.refreshed_tokens(client, pool, &user, &session)
    }

    pub(super) fn respond_to_auth_challenge(
        &self,
        req: RespondToAuthChallenge,
    ) -> Result<AuthResponse, PoolError> {
        let (client, pool) = self.client(&req.client_id)?;
        self.answer(&client, &pool, &req)
    }

    pub(super) fn admin_respond_to_auth_challenge(
        &self,
        req: AdminRespondToAuthChallenge,
    ) -> Result<AuthResponse, PoolError> {
        let (client, pool) = self.pool_client(&req.user_pool_id, &req.inner.client_id)?;
        self.answer(&client, &pool, &req.inner)
    }

    fn answer(
        &self,
        client: &Client,
        pool: &Pool,
        req: &RespondToAuthChallenge,
    ) -> Result<AuthResponse, PoolError> {
        let responses = &req.challenge_responses;
        let name = required_param(responses, "USERNAME")?;
        check_secret_hash(client, name, param(responses, "SECRET_HASH"))?;
        let session = req.session.as_deref();
        match req.challenge_name.as_str() {
            "PASSWORD_VERIFIER" => self.password_verifier(client, pool, name, responses),
            NEW_PASSWORD_REQUIRED => {
                let user = self.answer_challenge(NEW_PASSWORD_REQUIRED, client, pool, session)?;
                same_user(self.store().find_user(&pool.id, name)?, &user)?;
                self.set_new_password(client, pool, user, responses)
            }
            SOFTWARE_TOKEN_MFA => {
                let code = required_param(responses, "SOFTWARE_TOKEN_MFA_CODE")?;
                let user = self.answer_challenge(SOFTWARE_TOKEN_MFA, client, pool, session)?;
                same_user(self.store().find_user(&pool.id, name)?, &user)?;
                self.redeem_sign_in_totp(&user, code)?;
                self.sign_in(client, pool, &user)
            }
            CUSTOM_CHALLENGE => {
                let answer = required_param(responses, "ANSWER")?;
                let step = self.answer_custom_challenge(
                    client,
                    pool,
                    session,
                    answer,
                    req.client_metadata.as_ref(),
                )?;
                self.render_custom(step, client, pool)
            }
            MFA_SETUP => {
                let user = self.answer_challenge(MFA_SETUP_VERIFIED, client, pool, session)?;
                same_user(self.store().find_user(&pool.id, name)?, &user)?;
                self.sign_in(client, pool, &user)
            }
            other => Err(PoolError::InvalidParameter(format!(
                "The local user pool does not support the challenge {other}"
            ))),
        }
    }

    fn set_new_password(
        &self,
        client: &Client,
        pool: &Pool,
        mut user: User,
        responses: &Params,
    ) -> Result<AuthResponse, PoolError> {
        let new_password = required_param(responses, "NEW_PASSWORD")?;
        let updates: Vec<super::Attribute> = responses
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("userAttributes.").map(|n| super::Attribute {
                    name: n.to_owned(),
                    value: v.clone(),
                })
            })
            .collect();
        let updates = super::attributes(pool, Some(updates))?;
        self.replace_temporary_password(pool, &mut user, new_password, updates)?;
        self.render_step(factor_step(pool, &user), client, pool, &user)
    }

    /// Resolves an access token to its pool and user, refusing expired, forged, revoked and
    /// non-access tokens the way Cognito words it.
    pub(super) fn bearer(&self, token: &str) -> Result<Bearer, PoolError> {
        let (user, claims) = self.access_token_user(token)?;
        // Hosted-UI tokens reach the user's own account actions only with this scope.
        if !claims.scope.split_whitespace().any(|s| s == ADMIN_SCOPE) {
            return Err(PoolError::NotAuthorized(
                "Access Token does not have required scopes".into(),
            ));
        }
        let pool = self.pool(&user.pool_id)?;
        Ok(Bearer { pool, user })
    }

    pub(super) fn get_user(&self, req: AccessTokenRequest) -> Result<GetUserResponse, PoolError> {
        let Bearer { user, .. } = self.bearer(&req.access_token)?;
        Ok(GetUserResponse {
            user_attributes: attribute_list(&user.attributes),
            mfa: MfaSettings::of(&user),
            username: user.username,
        })
    }

    pub(super) fn global_sign_out(&self, req: AccessTokenRequest) -> Result<Empty, PoolError> {
        let Bearer { pool, user } = self.bearer(&req.access_token)?;
        self.store()
            .revoke_user_sessions(&pool.id, &user.username)?;
        Ok(Empty {})
    }

    pub(super) fn revoke_token(&self, req: RevokeToken) -> Result<Empty, PoolError> {
        self.revoke_for_client(&req.client_id, &req.token)?;
        Ok(Empty {})
    }

    pub(super) fn change_password(&self, req: ChangePassword) -> Result<Empty, PoolError> {
        let Bearer { pool, user } = self.bearer(&req.access_token)?;
        let _turn = self.attempts().turn(&pool.id, &user.username);
        let user = self
            .store()
            .find_user(&pool.id, &user.username)?
            .ok_or(PoolError::UserNotFound)?;
        if user.locked_until >= self.now() {
            return Err(attempts_exceeded());
        }
        let previous = req.previous_password.unwrap_or_default();
        self.check_password(&pool, &user, &previous)?;
        password::check(
            &pool.config.password_policy,
            &req.proposed_password,
            Setter::User,
        )?;
        let credentials = self.derive_password(&pool.id, &user.username, &req.proposed_password)?;
        self.store().set_password(
            &pool.id,
            &user.username,
            &credentials,
            user.status,
            self.now(),
            Sessions::Keep,
        )?;
        Ok(Empty {})
    }
}

/// Refuses a flow the app client does not allow, with Cognito's wording.
fn require_flow(client: &Client, flow: &str) -> Result<(), PoolError> {
    if client.config.allows(flow) {
        Ok(())
    } else if flow == "REFRESH_TOKEN_AUTH" {
        Err(PoolError::InvalidParameter(
            "Refresh Token flow not enabled for this client".into(),
        ))
    } else {
        Err(PoolError::InvalidParameter(format!(
            "{flow} flow not enabled for this client"
        )))
    }
}
