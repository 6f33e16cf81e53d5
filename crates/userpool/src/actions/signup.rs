//! Self-service account actions: sign-up and its confirmation, and password recovery.

use serde::{Deserialize, Serialize};

use super::shapes::{CodeDeliveryDetails, Delivery, Empty};

use super::{Attribute, alias_email, attributes, check_secret_hash, new_identity};
use crate::UserPools;
use crate::error::CognitoError;
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

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SignUpResponse {
    user_confirmed: bool,
    user_sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_delivery_details: Option<CodeDeliveryDetails>,
}

impl UserPools {
    pub(super) fn sign_up(&self, req: SignUp) -> Result<SignUpResponse, CognitoError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        if pool.config.allow_admin_create_user_only {
            return Err(CognitoError::NotAuthorized(
                "SignUp is not permitted for this user pool".into(),
            ));
        }
        let password = req.password.ok_or_else(|| {
            CognitoError::InvalidParameter(
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
        let code_delivery_details = if pool.config.auto_verifies_email() && user.email().is_some() {
            Some(
                self.send_code(&user, CodePurpose::SignUp)?
                    .code_delivery_details,
            )
        } else {
            None
        };
        Ok(SignUpResponse {
            user_confirmed: false,
            user_sub: user.sub().to_owned(),
            code_delivery_details,
        })
    }

    pub(super) fn confirm_sign_up(&self, req: ConfirmSignUp) -> Result<Empty, CognitoError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let mut user = self.code_user(
            &client,
            &pool,
            &req.username,
            CodePurpose::SignUp,
            |user| match user.status {
                UserStatus::Unconfirmed => Ok(()),
                other => Err(CognitoError::NotAuthorized(format!(
                    "User cannot be confirmed. Current status is {}",
                    other.as_str()
                ))),
            },
        )?;
        self.redeem_code(&user, CodePurpose::SignUp, &req.confirmation_code)?;
        user.status = UserStatus::Confirmed;
        if pool.config.auto_verifies_email() && user.email().is_some() {
            user.attributes
                .insert("email_verified".into(), "true".into());
        }
        user.modified = self.now();
        self.store.update_user(&user)?;
        Ok(Empty {})
    }

    pub(super) fn resend_confirmation_code(
        &self,
        req: UserRequest,
    ) -> Result<Delivery, CognitoError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let purpose = CodePurpose::SignUp;
        let Some(user) = self.store.find_user(&pool.id, &req.username)? else {
            return self.hidden(&client, &pool, &req.username, purpose);
        };
        let refusal = if user.status != UserStatus::Unconfirmed {
            CognitoError::InvalidParameter("User is already confirmed.".into())
        } else if user.email().is_none() {
            CognitoError::InvalidParameter(
                "Cannot resend codes. Auto verification not turned on.".into(),
            )
        } else {
            return self.send_code(&user, purpose);
        };
        self.refuse_or_hide(&client, &user, &req.username, purpose, refusal)
    }

    pub(super) fn forgot_password(&self, req: UserRequest) -> Result<Delivery, CognitoError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        if pool.config.recovery_is_admin_only() {
            return Err(CognitoError::NotAuthorized(
                "Contact administrator to reset password.".into(),
            ));
        }
        let purpose = CodePurpose::ForgotPassword;
        let Some(user) = self.store.find_user(&pool.id, &req.username)? else {
            return self.hidden(&client, &pool, &req.username, purpose);
        };
        let refusal = if !user.enabled {
            CognitoError::NotAuthorized("User is disabled.".into())
        } else if user.status == UserStatus::ForceChangePassword {
            CognitoError::NotAuthorized(
                "User password cannot be reset in the current state.".into(),
            )
        } else if user.email().is_none()
            || user.attributes.get("email_verified").map(String::as_str) != Some("true")
        {
            CognitoError::InvalidParameter(
                "Cannot reset password for the user as there is no registered/verified email or phone_number"
                    .into(),
            )
        } else {
            return self.send_code(&user, purpose);
        };
        self.refuse_or_hide(&client, &user, &req.username, purpose, refusal)
    }

    /// The answer for an unknown user in a code-sending action: a plausible delivery when
    /// the client hides user existence, else the truth.
    fn hidden(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        purpose: CodePurpose,
    ) -> Result<Delivery, CognitoError> {
        if client.config.hides_user_existence() {
            self.pretend_code_sent(&pool.id, name, name, purpose)
        } else {
            Err(CognitoError::UserNotFound)
        }
    }

    /// A known user who cannot get a code: told why, unless the client hides user existence,
    /// in which case the answer is the one an unknown user gets.
    fn refuse_or_hide(
        &self,
        client: &Client,
        user: &User,
        name: &str,
        purpose: CodePurpose,
        refusal: CognitoError,
    ) -> Result<Delivery, CognitoError> {
        if client.config.hides_user_existence() {
            self.pretend_code_sent(&user.pool_id, &user.username, name, purpose)
        } else {
            Err(refusal)
        }
    }

    pub(super) fn confirm_forgot_password(
        &self,
        req: ConfirmForgotPassword,
    ) -> Result<Empty, CognitoError> {
        let (client, pool) = self.client(&req.client_id)?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        // The policy first: its answer must not depend on whether the user exists.
        password::check(&pool.config.password_policy, &req.password, Setter::User)?;
        let user = self.code_user(
            &client,
            &pool,
            &req.username,
            CodePurpose::ForgotPassword,
            |_| Ok(()),
        )?;
        self.redeem_code(&user, CodePurpose::ForgotPassword, &req.confirmation_code)?;
        let credentials = self.derive_password(&pool.id, &user.username, &req.password)?;
        self.store.set_password(
            &pool.id,
            &user.username,
            &credentials,
            UserStatus::Confirmed,
            self.now(),
        )?;
        Ok(Empty {})
    }
}

fn exists(pool: &Pool) -> CognitoError {
    if pool.config.email_is_username() {
        CognitoError::UsernameExists("An account with the given email already exists.".into())
    } else {
        CognitoError::UsernameExists("User already exists".into())
    }
}
