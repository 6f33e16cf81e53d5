//! Self-service account actions: sign-up and its confirmation, and password recovery.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Attribute, attributes, check_secret_hash, delivery};
use crate::UserPools;
use crate::error::ApiError;
use crate::model::{Client, CodePurpose, Pool, User, UserStatus};
use crate::password::{self, Setter};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SignUp {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    password: Option<String>,
    user_attributes: Option<Vec<Attribute>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConfirmSignUp {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
}

/// ResendConfirmationCode and ForgotPassword take the same members.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserRequest {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ConfirmForgotPassword {
    client_id: String,
    secret_hash: Option<String>,
    username: String,
    confirmation_code: String,
    password: String,
}

/// A new user's internal username, with `sub` (and, where the pool signs in by e-mail,
/// `email`) added to `attrs`. In such a pool the given username must be an address and the
/// internal username is the `sub`, as in Cognito.
pub(super) fn new_identity(
    pool: &Pool,
    given: &str,
    attrs: &mut BTreeMap<String, String>,
) -> Result<String, ApiError> {
    let sub = crate::random::uuid();
    let username = if pool.config.email_is_username() {
        if !looks_like_email(given) {
            return Err(ApiError::InvalidParameter(
                "Username should be an email.".into(),
            ));
        }
        attrs.insert("email".into(), given.to_owned());
        sub.clone()
    } else {
        given.to_owned()
    };
    attrs.insert("sub".into(), sub);
    Ok(username)
}

/// A light check that a username is an e-mail address, as Cognito applies to pools that
/// sign in by e-mail.
pub(super) fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

impl UserPools {
    pub(super) fn sign_up(&self, req: SignUp) -> Result<Value, ApiError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        if pool.config.allow_admin_create_user_only {
            return Err(ApiError::NotAuthorized(
                "SignUp is not permitted for this user pool".into(),
            ));
        }
        let password = req.password.ok_or_else(|| {
            ApiError::InvalidParameter(
                "1 validation error detected: Value null at 'password' failed to satisfy \
                 constraint: Member must not be null"
                    .into(),
            )
        })?;
        let mut attrs = attributes(req.user_attributes)?;
        attrs.remove("email_verified");
        attrs.remove("phone_number_verified");
        let username = new_identity(&pool, &req.username, &mut attrs)?;
        password::check(&pool.config.password_policy, &password, Setter::User)?;
        if self.store.find_user(&pool.id, &req.username)?.is_some() {
            return Err(exists(&pool));
        }
        let credentials = self.derive_password(&pool.id, &username, &password)?;
        let now = self.now();
        let user = User::new(&pool.id, username, attrs, UserStatus::Unconfirmed, now);
        let alias = alias_email(&pool, &user);
        if !self
            .store
            .insert_user(&user, alias.as_deref(), Some(&credentials))?
        {
            return Err(exists(&pool));
        }
        let mut out = json!({ "UserConfirmed": false, "UserSub": user.attributes["sub"] });
        if pool.config.auto_verifies_email() && user.email().is_some() {
            let details = self.send_code(&user, CodePurpose::SignUp)?;
            out["CodeDeliveryDetails"] = details["CodeDeliveryDetails"].clone();
        }
        Ok(out)
    }

    pub(super) fn confirm_sign_up(&self, req: ConfirmSignUp) -> Result<Value, ApiError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let mut user = self.public_user(&client, &pool, &req.username, ApiError::CodeMismatch)?;
        if user.status != UserStatus::Unconfirmed {
            return Err(ApiError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        self.redeem_code(&user, CodePurpose::SignUp, &req.confirmation_code)?;
        user.status = UserStatus::Confirmed;
        if pool.config.auto_verifies_email() && user.email().is_some() {
            user.attributes
                .insert("email_verified".into(), "true".into());
        }
        user.modified = self.now();
        self.store.update_user(&user)?;
        Ok(json!({}))
    }

    pub(super) fn resend_confirmation_code(&self, req: UserRequest) -> Result<Value, ApiError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let Some(user) = self.store.find_user(&pool.id, &req.username)? else {
            return hidden(&client, &req.username);
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(ApiError::InvalidParameter(
                "User is already confirmed.".into(),
            ));
        }
        if user.email().is_none() {
            return Err(ApiError::InvalidParameter(
                "Cannot resend codes. Auto verification not turned on.".into(),
            ));
        }
        self.send_code(&user, CodePurpose::SignUp)
    }

    pub(super) fn forgot_password(&self, req: UserRequest) -> Result<Value, ApiError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let Some(user) = self.store.find_user(&pool.id, &req.username)? else {
            return hidden(&client, &req.username);
        };
        if !user.enabled {
            return Err(ApiError::NotAuthorized("User is disabled.".into()));
        }
        if user.status == UserStatus::ForceChangePassword {
            return Err(ApiError::NotAuthorized(
                "User password cannot be reset in the current state.".into(),
            ));
        }
        if user.email().is_none()
            || user.attributes.get("email_verified").map(String::as_str) != Some("true")
        {
            return Err(ApiError::InvalidParameter(
                "Cannot reset password for the user as there is no registered/verified email or phone_number"
                    .into(),
            ));
        }
        self.send_code(&user, CodePurpose::ForgotPassword)
    }

    pub(super) fn confirm_forgot_password(
        &self,
        req: ConfirmForgotPassword,
    ) -> Result<Value, ApiError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let user = self.public_user(&client, &pool, &req.username, ApiError::CodeMismatch)?;
        password::check(&pool.config.password_policy, &req.password, Setter::User)?;
        self.redeem_code(&user, CodePurpose::ForgotPassword, &req.confirmation_code)?;
        let credentials = self.derive_password(&pool.id, &user.username, &req.password)?;
        self.store.set_password(
            &pool.id,
            &user.username,
            &credentials,
            UserStatus::Confirmed,
            self.now(),
        )?;
        Ok(json!({}))
    }

    /// Looks a user up for a public action. With `PreventUserExistenceErrors` enabled, an
    /// unknown user gets `hidden_as` (the error a wrong code or password would get).
    pub(super) fn public_user(
        &self,
        client: &Client,
        pool: &Pool,
        username: &str,
        hidden_as: ApiError,
    ) -> Result<User, ApiError> {
        match self.store.find_user(&pool.id, username)? {
            Some(user) => Ok(user),
            None if client.config.hides_user_existence() => Err(hidden_as),
            None => Err(ApiError::UserNotFound),
        }
    }
}

/// The answer for an unknown user in a code-sending action: a plausible delivery when the
/// client hides user existence, else the truth.
fn hidden(client: &Client, username: &str) -> Result<Value, ApiError> {
    if client.config.hides_user_existence() {
        Ok(delivery(username))
    } else {
        Err(ApiError::UserNotFound)
    }
}

fn exists(pool: &Pool) -> ApiError {
    if pool.config.email_is_username() {
        ApiError::UsernameExists("An account with the given email already exists.".into())
    } else {
        ApiError::UsernameExists("User already exists".into())
    }
}

/// The lowercased e-mail that must be unique in the pool, where e-mail addresses sign in.
pub(super) fn alias_email(pool: &Pool, user: &User) -> Option<String> {
    pool.config
        .email_signs_in()
        .then(|| user.email().map(str::to_lowercase))
        .flatten()
}
