//! What both doors do to accounts: find a pool, client or user, sign up and confirm, send
//! and redeem codes for recovery, replace a temporary password, redeem an authenticator
//! code, list a pool's scopes. The AWS JSON door's actions and the hosted UI's pages call
//! these, each rendering the answer in its own format.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::UserPools;
use crate::codes::{CodeDeliveryDetails, Delivery};
use crate::error::PoolError;
use crate::identity::{alias_email, check_total, new_identity};
use crate::model::{Client, CodePurpose, Credentials, Pool, User, UserStatus};
use crate::password::{self, Setter};
use crate::signin::attempts_exceeded;
use crate::store::Sessions;
use crate::totp;
use crate::triggers::ClientData;
use crate::triggers::lifecycle::MessageSource;

impl UserPools {
    /// The pool an action names; an id that cannot be one is Cognito's validation error,
    /// not "does not exist".
    pub fn pool(&self, pool_id: &str) -> Result<Pool, PoolError> {
        check_pool_id(pool_id)?;
        self.store
            .pool(pool_id)?
            .ok_or_else(|| PoolError::pool_not_found(pool_id))
    }

    /// The app client and its pool, for the public (client-id authenticated) actions.
    pub fn client(&self, client_id: &str) -> Result<(Client, Pool), PoolError> {
        let client = self
            .store
            .client(client_id)?
            .ok_or_else(|| PoolError::client_not_found(client_id))?;
        let pool = self.pool(&client.pool_id)?;
        Ok((client, pool))
    }

    /// An app client of the pool named in a signed (admin) action.
    pub fn pool_client(&self, pool_id: &str, client_id: &str) -> Result<(Client, Pool), PoolError> {
        let pool = self.pool(pool_id)?;
        let client = self
            .store
            .client(client_id)?
            .filter(|c| c.pool_id == pool.id)
            .ok_or_else(|| PoolError::client_not_found(client_id))?;
        Ok((client, pool))
    }

    /// The pool an admin action names and the user in it, where existence is never hidden.
    pub fn admin_user(&self, pool_id: &str, username: &str) -> Result<(Pool, User), PoolError> {
        let pool = self.pool(pool_id)?;
        let user = self
            .store
            .find_user(pool_id, username)?
            .ok_or(PoolError::UserNotFound)?;
        Ok((pool, user))
    }

    /// Stores a changed user, stamped with the time of the change.
    pub fn save_user(&self, user: &mut User) -> Result<(), PoolError> {
        user.modified = self.now();
        self.store.update_user(user)?;
        Ok(())
    }

    /// Self-service sign-up (the API's and the hosted UI's): the new, unconfirmed user, and
    /// where its confirmation code went, if one was e-mailed.
    pub fn register(
        &self,
        client: &Client,
        pool: &Pool,
        given_username: &str,
        password: Option<String>,
        mut attrs: BTreeMap<String, String>,
        data: &ClientData,
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
        // The function may refuse: then nothing of the sign-up is stored.
        let verdict = self.pre_sign_up(
            Some(&client.id),
            pool,
            &username,
            &attrs,
            "PreSignUp_SignUp",
            data,
        )?;
        if verdict.verify_email {
            attrs.insert("email_verified".into(), "true".into());
        }
        let status = if verdict.confirm {
            UserStatus::Confirmed
        } else {
            UserStatus::Unconfirmed
        };
        let credentials = self.derive_password(&pool.id, &username, &password)?;
        let now = self.now();
        let user = User::new(&pool.id, username, attrs, status, now);
        let alias = alias_email(pool, &user);
        if verdict.confirm || !(pool.config.auto_verifies_email() && user.email().is_some()) {
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
        let text = self.custom_text(
            Some(&client.id),
            pool,
            &user,
            &code.code,
            MessageSource::SignUp,
            data.metadata.as_ref(),
        )?;
        if !self
            .store
            .insert_user_with_code(&user, alias.as_deref(), &credentials, &code)?
        {
            return Err(exists(pool));
        }
        let delivery = self.deliver_code(&user, &code, &text);
        Ok((user, Some(delivery.code_delivery_details)))
    }

    /// Confirms a sign-up with the e-mailed code (the API's action and the hosted UI's page).
    pub fn confirm_registration(
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
        self.post_confirmation(
            Some(&client.id),
            pool,
            &user,
            "PostConfirmation_ConfirmSignUp",
        )
    }

    /// E-mails a new sign-up code, or a password-reset code, if the user may have one
    /// (the API's actions and the hosted UI's pages).
    pub fn send_user_code(
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
        let found = match self.store.find_user(&pool.id, username)? {
            None if purpose == CodePurpose::ForgotPassword => {
                self.migrate_on_forgot_password(client, pool, username)?
            }
            found => found,
        };
        let Some(user) = found else {
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
                || !user.email_verified() =>
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

    /// Finishes a password reset with the e-mailed code (the API's action and the hosted
    /// UI's page).
    pub fn reset_password(
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
        let user = self
            .store
            .find_user(&pool.id, &user.username)?
            .ok_or(PoolError::UserNotFound)?;
        self.post_confirmation(
            Some(&client.id),
            pool,
            &user,
            "PostConfirmation_ConfirmForgotPassword",
        )
    }

    /// Sets the password an administrator-created user chose (and any attributes asked for);
    /// the user is confirmed.
    pub fn replace_temporary_password(
        &self,
        pool: &Pool,
        user: &mut User,
        new_password: &str,
        updates: BTreeMap<String, String>,
    ) -> Result<(), PoolError> {
        password::check(&pool.config.password_policy, new_password, Setter::User)?;
        let changed = !updates.is_empty();
        let mut attributes = user.attributes.clone();
        attributes.extend(updates);
        check_total(&attributes)?;
        let credentials = self.derive_password(&pool.id, &user.username, new_password)?;
        let now = self.now();
        if changed {
            user.attributes = attributes;
            user.modified = now;
            self.store.update_user(user)?;
        }
        self.store.set_password(
            &pool.id,
            &user.username,
            &credentials,
            UserStatus::Confirmed,
            now,
            Sessions::Keep,
        )?;
        user.status = UserStatus::Confirmed;
        Ok(())
    }

    /// Checks a user's TOTP code and uses it up; a code of a step already used (or older)
    /// is refused.
    pub fn redeem_totp(&self, user: &User, secret: &str, code: &str) -> Result<(), PoolError> {
        let step = totp::matching_step(secret, code, self.now())
            .ok_or(PoolError::SoftwareTokenMismatch)?;
        if !self
            .store
            .use_totp_step(&user.pool_id, &user.username, step)?
        {
            return Err(PoolError::SoftwareTokenReused);
        }
        Ok(())
    }

    /// The authenticator code that completes a sign-in. A wrong code counts towards the
    /// same lockout as a wrong password (a six-digit code falls to guessing otherwise: a
    /// million codes, three good at any time); while locked, even the right code is refused.
    pub fn redeem_sign_in_totp(&self, user: &User, code: &str) -> Result<(), PoolError> {
        let _turn = self.attempts.turn(&user.pool_id, &user.username);
        let user = self
            .store
            .find_user(&user.pool_id, &user.username)?
            .filter(|u| u.username == user.username)
            .ok_or_else(PoolError::incorrect_credentials)?;
        if user.locked_until >= self.now() {
            return Err(attempts_exceeded());
        }
        let secret = user.totp.secret.clone().unwrap_or_default();
        match self.redeem_totp(&user, &secret, code) {
            Err(PoolError::SoftwareTokenMismatch) if self.count_failure(&user)? => {
                Err(attempts_exceeded())
            }
            Ok(()) if user.failed_logins > 0 => {
                self.store
                    .clear_failed_logins(&user.pool_id, &user.username)?;
                Ok(())
            }
            other => other,
        }
    }

    /// Every scope a pool's clients may be given: the standard ones and each resource
    /// server's `<identifier>/<scope name>`.
    pub fn custom_scopes_of(&self, pool_id: &str) -> Result<Vec<String>, PoolError> {
        Ok(self
            .store
            .resource_servers(pool_id)?
            .into_iter()
            .flat_map(|server| {
                server
                    .scopes
                    .into_iter()
                    .map(move |s| format!("{}/{}", server.identifier, s.scope_name))
            })
            .collect())
    }
}

fn exists(pool: &Pool) -> PoolError {
    if pool.config.email_is_username() {
        PoolError::UsernameExists("An account with the given email already exists.".into())
    } else {
        PoolError::UsernameExists("User already exists".into())
    }
}

/// The hash of a random password, verified for users that do not exist so that their
/// answer takes as long as a known user's.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    password::derive("dummy", "dummy", &crate::random::uuid())
        .map(|c| c.argon2)
        .unwrap_or_default()
});

impl UserPools {
    /// Derives what is stored for a new password, on the hashing pool.
    pub fn derive_password(
        &self,
        pool_id: &str,
        username: &str,
        new_password: &str,
    ) -> Result<Credentials, PoolError> {
        let (pool_id, username) = (pool_id.to_owned(), username.to_owned());
        let new_password = new_password.to_owned();
        Ok(self
            .hashing
            .run(move || password::derive(&pool_id, &username, &new_password))??)
    }

    /// Whether `given` matches the `stored` hash, on the hashing pool. Without a stored
    /// hash (an unknown user, or one without a password) a dummy hash is verified, so the
    /// time taken does not tell the cases apart.
    pub fn verify_password(&self, stored: Option<&str>, given: &str) -> Result<bool, PoolError> {
        let stored = stored.map(str::to_owned);
        let given = given.to_owned();
        self.hashing.run(move || match stored {
            Some(hash) => password::verify(&hash, &given),
            None => {
                password::verify(&DUMMY_HASH, &given);
                false
            }
        })
    }
}

/// Cognito's pattern for `UserPoolId` (`<region>_<letters and digits>`, 1 to 55 characters),
/// quoted in its error.
const POOL_ID_PATTERN: &str = "[\\w-]+_[0-9a-zA-Z]+";

fn check_pool_id(pool_id: &str) -> Result<(), PoolError> {
    let well_formed = pool_id.chars().count() <= 55
        && pool_id.rsplit_once('_').is_some_and(|(region, id)| {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                && !id.is_empty()
                && id.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if well_formed {
        Ok(())
    } else {
        Err(PoolError::InvalidParameter(format!(
            "1 validation error detected: Value '{pool_id}' at 'userPoolId' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: {POOL_ID_PATTERN}"
        )))
    }
}
