//! Codes sent to users (sign-up confirmation, password reset, e-mail verification): issued
//! within each user's hourly allowance, "e-mailed" through the outbox, and redeemed with
//! their own guesses and the user's allowance of wrong ones counted.

use crate::UserPools;
use crate::attempts::{CodeRequest, CodeStep};
use crate::error::PoolError;
use crate::hashing::constant_time_eq;
use crate::model::{Client, CodePurpose, NewCode, Pool, User};
use crate::outbox::{Message, mask};
use crate::triggers::lifecycle::{CustomText, MessageSource};
use serde::Serialize;

/// `CodeDeliveryDetailsType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeDeliveryDetails {
    pub destination: String,
    pub delivery_medium: &'static str,
    pub attribute_name: String,
}

impl CodeDeliveryDetails {
    /// A code sent by e-mail to `address` for the attribute `attribute`.
    pub fn email(address: &str, attribute: &str) -> Self {
        Self {
            destination: mask(address),
            delivery_medium: "EMAIL",
            attribute_name: attribute.to_owned(),
        }
    }
}

/// The answer of actions that send a code (ResendConfirmationCode, ForgotPassword, ...).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Delivery {
    pub code_delivery_details: CodeDeliveryDetails,
}

impl UserPools {
    /// A code step (requesting or entering a code about `name`) within `code.caller`'s
    /// allowance: a request is counted before it runs, a wrong code after. Without an
    /// address (a router called in-process) only each user's allowance applies.
    pub fn within_allowance<T>(
        &self,
        code: &CodeRequest<'_>,
        step: CodeStep,
        run: impl FnOnce() -> Result<T, PoolError>,
    ) -> Result<T, PoolError> {
        let Some(caller) = code.caller else {
            return run();
        };
        let allowance = self
            .attempts
            .caller_codes(caller, code.pool_id, code.name, code.purpose);
        let now = self.now();
        match step {
            CodeStep::Request => allowance.request(now)?,
            CodeStep::Entry => allowance.may_enter(now)?,
        }
        let result = run();
        if matches!(result, Err(PoolError::CodeMismatch)) {
            allowance.wrong(now);
        }
        result
    }

    /// E-mails a new code for `purpose`; returns `CodeDeliveryDetails`. Each user may
    /// request only so many codes an hour.
    pub fn send_code(&self, user: &User, purpose: CodePurpose) -> Result<Delivery, PoolError> {
        let code = self.issue_code(user, purpose)?;
        let pool = self
            .store
            .pool(&user.pool_id)?
            .ok_or_else(|| PoolError::pool_not_found(&user.pool_id))?;
        let text = self.custom_text(
            None,
            &pool,
            user,
            &code.code,
            MessageSource::of_resent(purpose),
            None,
        )?;
        self.store.put_code(user, &code)?;
        Ok(self.deliver_code(user, &code, &text))
    }

    /// A fresh code for `user`, charged to its allowance of codes; not yet stored or sent.
    pub fn issue_code(&self, user: &User, purpose: CodePurpose) -> Result<NewCode, PoolError> {
        let now = self.now();
        self.attempts
            .codes(&user.pool_id, &user.username, purpose)
            .request(now)?;
        let ttl = match purpose {
            CodePurpose::SignUp | CodePurpose::VerifyEmail => self.tuning.sign_up_code_ttl,
            CodePurpose::ForgotPassword => self.tuning.reset_code_ttl,
        };
        Ok(NewCode {
            purpose,
            code: crate::random::code(),
            expires_at: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
        })
    }

    /// "E-mails" a stored code: the outbox's log line and file, with the text a
    /// `CustomMessage` function wrote for it, if any.
    pub fn deliver_code(&self, user: &User, code: &NewCode, text: &CustomText) -> Delivery {
        self.outbox.send(&Message {
            user,
            purpose: code.purpose.as_str(),
            code: &code.code,
            now: self.now(),
            subject: text.subject.as_deref(),
            text: text.message.as_deref(),
        });
        delivery(user.email().unwrap_or_default())
    }

    /// The answer to a code request that must not reveal whether `name` can get a code (an
    /// unknown user, or one in no state to get one): the same allowance (that of `user`, the
    /// internal username if known) is charged and a delivery to `name` is reported, but
    /// nothing is sent.
    pub fn pretend_code_sent(
        &self,
        pool_id: &str,
        user: &str,
        name: &str,
        purpose: CodePurpose,
    ) -> Result<Delivery, PoolError> {
        self.attempts
            .codes(pool_id, user, purpose)
            .request(self.now())?;
        Ok(delivery(name))
    }

    /// The user a code is being entered for. While the client hides user existence, an
    /// unknown user (or one `eligible` refuses) gets what a wrong code gets, and uses up the
    /// same hourly allowance of wrong codes.
    pub fn code_user(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        purpose: CodePurpose,
        eligible: impl FnOnce(&User) -> Result<(), PoolError>,
    ) -> Result<User, PoolError> {
        let hides = client.config.hides_user_existence();
        match self.store.find_user(&pool.id, name)? {
            Some(user) => match eligible(&user) {
                Ok(()) => Ok(user),
                Err(_) if hides => Err(self.wrong_code(&pool.id, &user.username, purpose)),
                Err(refused) => Err(refused),
            },
            None if hides => Err(self.wrong_code(&pool.id, name, purpose)),
            None => Err(PoolError::UserNotFound),
        }
    }

    /// The answer to a wrong code, counted against the hourly allowance of `user`.
    pub fn wrong_code(&self, pool_id: &str, user: &str, purpose: CodePurpose) -> PoolError {
        let (codes, now) = (self.attempts.codes(pool_id, user, purpose), self.now());
        match codes.may_enter(now) {
            Ok(()) => {
                codes.wrong(now);
                PoolError::CodeMismatch
            }
            Err(limit) => limit,
        }
    }

    /// Checks a code and consumes it. Each user may enter only so many wrong codes an hour,
    /// and a new code does not renew that; a code whose own wrong guesses ran out is dead,
    /// refusing even the right value, until a new one is requested.
    pub fn redeem_code(
        &self,
        user: &User,
        purpose: CodePurpose,
        given: &str,
    ) -> Result<(), PoolError> {
        let (pool_id, username) = (&user.pool_id, &user.username);
        self.attempts
            .codes(pool_id, username, purpose)
            .may_enter(self.now())?;
        // No code, or a dead one, answers as a wrong code does: a user who never asked for
        // a code must look like one who does not exist.
        let stored = match self.store.code(user, purpose)? {
            Some(stored) if stored.attempts < self.tuning.max_code_attempts => stored,
            _ => return Err(self.wrong_code(pool_id, username, purpose)),
        };
        if stored.expires_at <= self.now() {
            return Err(PoolError::ExpiredCode);
        }
        if !constant_time_eq(stored.code.as_bytes(), given.trim().as_bytes()) {
            self.store.count_code_attempt(user, purpose)?;
            return Err(self.wrong_code(pool_id, username, purpose));
        }
        self.store.delete_code(user, purpose)?;
        Ok(())
    }
}

/// The answer for a code e-mailed to `email`.
pub fn delivery(email: &str) -> Delivery {
    Delivery {
        code_delivery_details: CodeDeliveryDetails::email(email, "email"),
    }
}
