//! Self-service account actions: sign-up and its confirmation, and password recovery.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::shapes::{CodeDeliveryDetails, Delivery, Empty};

use super::{Attribute, alias_email, attributes, check_secret_hash, new_identity};
use crate::UserPools;
use crate::error::PoolError;
use crate::model::{Client, CodePurpose, Pool, User, UserStatus};
use crate::password::{self, Setter};
use crate::store::Sessions;

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
    pub(super) fn sign_up(&self, req: SignUp) -> Result<SignUpResponse, PoolError> {
        let (_, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        let attrs = attributes(&pool, req.user_attributes)?;
        let (user, code_delivery_details) =
            self.register(&pool, &req.username, req.password, attrs)?;
        Ok(SignUpResponse {
            user_confirmed: false,
            user_sub: user.sub().to_owned(),
            code_delivery_details,
        })
    }

    /// Self-service sign-up (the API's and the hosted UI's): the new, unconfirmed user, and
    /// where its confirmation code went, if one was e-mailed.
    pub(crate) fn register(
        &self,
        pool: &Pool,
        given_username: &str,
        password: Option<String>,
        mut attrs: BTreeMap<String, String>,
    ) -> Result<(User, Option<CodeDeliveryDetails>), PoolError> {
        if pool.config.allow_admin_create_user_only {
            return Err(PoolError::NotAuthorized(
                "SignUp is not permitted for this user pool".into(),
            ));
        }
        let password = password.ok_or_else(|| {
            PoolError::InvalidParameter(
                "1 validation error detected: Value null at 'password' failed to satisfy \
                 constraint: Member must not be null"
                    .into(),
            )
        })?;
        attrs.remove("email_verified");
        attrs.remove("phone_number_verified");
        let username = new_identity(pool, given_username, &mut attrs)?;
        password::check(&pool.config.password_policy, &password, Setter::User)?;
        if self.store.find_user(&pool.id, given_username)?.is_some() {
            return Err(exists(pool));
        }
        let credentials = self.derive_password(&pool.id, &username, &password)?;
        let now = self.now();
        let user = User::new(&pool.id, username, attrs, UserStatus::Unconfirmed, now);
        let alias = alias_email(pool, &user);
        if !(pool.config.auto_verifies_email() && user.email().is_some()) {
            if !self
                .store
                .insert_user(&user, alias.as_deref(), Some(&credentials))?
            {
                return Err(exists(pool));
            }
            return Ok((user, None));
        }
        // The user and its confirmation code are stored together: a user saved without
        // its code could neither confirm nor sign up again.
        let code = self.issue_code(&user, CodePurpose::SignUp)?;
        if !self
            .store
            .insert_user_with_code(&user, alias.as_deref(), &credentials, &code)?
        {
            return Err(exists(pool));
        }
        let delivery = self.deliver_code(&user, &code);
        Ok((user, Some(delivery.code_delivery_details)))
    }

    pub(super) fn confirm_sign_up(&self, req: ConfirmSignUp) -> Result<Empty, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.confirm_registration(&client, &pool, &req.username, &req.confirmation_code)?;
        Ok(Empty {})
    }

    /// Confirms a sign-up with the e-mailed code (the API's action and the hosted UI's page).
    pub(crate) fn confirm_registration(
        &self,
        client: &Client,
        pool: &Pool,
        username: &str,
        code: &str,
    ) -> Result<(), PoolError> {
        let mut user =
            self.code_user(
                client,
                pool,
                username,
                CodePurpose::SignUp,
                |user| match user.status {
                    UserStatus::Unconfirmed => Ok(()),
                    other => Err(PoolError::NotAuthorized(format!(
                        "User cannot be confirmed. Current status is {}",
                        other.as_str()
                    ))),
                },
            )?;
        self.redeem_code(&user, CodePurpose::SignUp, code)?;
        user.status = UserStatus::Confirmed;
        if pool.config.auto_verifies_email() && user.email().is_some() {
            user.attributes
                .insert("email_verified".into(), "true".into());
        }
        self.save_user(&mut user)?;
        Ok(())
    }

    pub(super) fn resend_confirmation_code(&self, req: UserRequest) -> Result<Delivery, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.send_user_code(&client, &pool, &req.username, CodePurpose::SignUp)
    }

    pub(super) fn forgot_password(&self, req: UserRequest) -> Result<Delivery, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.send_user_code(&client, &pool, &req.username, CodePurpose::ForgotPassword)
    }

    /// The app client and its pool for a public action about `username`, once `SECRET_HASH`
    /// proves the caller holds the client's secret (where it has one).
    fn signed_client(
        &self,
        client_id: &str,
        username: &str,
        secret_hash: Option<&str>,
    ) -> Result<(Client, Pool), PoolError> {
        let (client, pool) = self.client(client_id)?;
        check_secret_hash(&client, username, secret_hash)?;
        Ok((client, pool))
    }

    /// E-mails a new sign-up code, or a password-reset code, if the user may have one
    /// (the API's actions and the hosted UI's pages).
    pub(crate) fn send_user_code(
        &self,
        client: &Client,
        pool: &Pool,
        username: &str,
        purpose: CodePurpose,
    ) -> Result<Delivery, PoolError> {
        if purpose == CodePurpose::ForgotPassword && pool.config.recovery_is_admin_only() {
            return Err(PoolError::NotAuthorized(
                "Contact administrator to reset password.".into(),
            ));
        }
        let Some(user) = self.store.find_user(&pool.id, username)? else {
            return self.hidden(client, pool, username, purpose);
        };
        let refusal = match purpose {
            CodePurpose::SignUp if user.status != UserStatus::Unconfirmed => Some(
                PoolError::InvalidParameter("User is already confirmed.".into()),
            ),
            CodePurpose::SignUp if user.email().is_none() => Some(PoolError::InvalidParameter(
                "Cannot resend codes. Auto verification not turned on.".into(),
            )),
            CodePurpose::SignUp => None,
            _ if !user.enabled => Some(PoolError::NotAuthorized("User is disabled.".into())),
            _ if user.status == UserStatus::ForceChangePassword => {
                Some(PoolError::NotAuthorized(
                    "User password cannot be reset in the current state.".into(),
                ))
            }
            _ if user.email().is_none()
                || user.attributes.get("email_verified").map(String::as_str) != Some("true") =>
            {
                Some(PoolError::InvalidParameter(
                    "Cannot reset password for the user as there is no registered/verified email or phone_number"
                        .into(),
                ))
            }
            _ => None,
        };
        match refusal {
            None => self.send_code(&user, purpose),
            Some(refusal) => self.refuse_or_hide(client, &user, username, purpose, refusal),
        }
    }

    /// The answer for an unknown user in a code-sending action: a plausible delivery when
    /// the client hides user existence, else the truth.
    fn hidden(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        purpose: CodePurpose,
    ) -> Result<Delivery, PoolError> {
        if client.config.hides_user_existence() {
            self.pretend_code_sent(&pool.id, name, name, purpose)
        } else {
            Err(PoolError::UserNotFound)
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
        refusal: PoolError,
    ) -> Result<Delivery, PoolError> {
        if client.config.hides_user_existence() {
            self.pretend_code_sent(&user.pool_id, &user.username, name, purpose)
        } else {
            Err(refusal)
        }
    }

    pub(super) fn confirm_forgot_password(
        &self,
        req: ConfirmForgotPassword,
    ) -> Result<Empty, PoolError> {
        let (client, pool) =
            self.signed_client(&req.client_id, &req.username, req.secret_hash.as_deref())?;
        self.reset_password(
            &client,
            &pool,
            &req.username,
            &req.confirmation_code,
            &req.password,
        )?;
        Ok(Empty {})
    }

    /// Finishes a password reset with the e-mailed code (the API's action and the hosted
    /// UI's page).
    pub(crate) fn reset_password(
        &self,
        client: &Client,
        pool: &Pool,
        username: &str,
        code: &str,
        new_password: &str,
    ) -> Result<(), PoolError> {
        // The policy first: its answer must not depend on whether the user exists.
        password::check(&pool.config.password_policy, new_password, Setter::User)?;
        let user = self.code_user(client, pool, username, CodePurpose::ForgotPassword, |_| {
            Ok(())
        })?;
        self.redeem_code(&user, CodePurpose::ForgotPassword, code)?;
        let credentials = self.derive_password(&pool.id, &user.username, new_password)?;
        self.store.set_password(
            &pool.id,
            &user.username,
            &credentials,
            UserStatus::Confirmed,
            self.now(),
            Sessions::End,
        )?;
        Ok(())
    }
}

fn exists(pool: &Pool) -> PoolError {
    if pool.config.email_is_username() {
        PoolError::UsernameExists("An account with the given email already exists.".into())
    } else {
        PoolError::UsernameExists("User already exists".into())
    }
}
