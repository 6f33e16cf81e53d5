//! The sign-in rules both doors apply, the AWS JSON actions and the hosted UI alike: a
//! password proven (with lockout after wrong guesses, and unknown users costing what known
//! ones do), the states that may not sign in, and the one decision of what follows a
//! proven password ([`SignInStep`]), which each door renders in its own format. Challenges
//! (`Session`s) carry a sign-in from one step to the next.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::UserPools;
use crate::attempts::lockout;
use crate::error::PoolError;
use crate::model::{Client, MfaConfiguration, Pool, User, UserStatus};
use crate::store::Challenge;

pub const NEW_PASSWORD_REQUIRED: &str = "NEW_PASSWORD_REQUIRED";
pub const SOFTWARE_TOKEN_MFA: &str = "SOFTWARE_TOKEN_MFA";
pub const MFA_SETUP: &str = "MFA_SETUP";
/// The `Session` VerifySoftwareToken hands back during MFA_SETUP, answered by
/// RespondToAuthChallenge(MFA_SETUP).
pub const MFA_SETUP_VERIFIED: &str = "MFA_SETUP_VERIFIED";

/// How long a challenge `Session` stays valid (Cognito's default, 3 minutes).
const CHALLENGE_TTL: i64 = 180;

/// What follows a proven password (or a temporary one just replaced): decided here once,
/// rendered by each door (a challenge or tokens on the AWS JSON door; a form or a redirect
/// in the hosted UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInStep {
    /// Nothing more: the user is signed in.
    SignedIn,
    /// An administrator created the user: a new password must be chosen first.
    NewPassword,
    /// The code of the user's authenticator app.
    SoftwareToken,
    /// MFA is required and the user has no authenticator yet: set one up first.
    MfaSetup,
}

impl UserPools {
    /// The step after a proven password; refuses users who may not sign in at all
    /// (disabled, unconfirmed, a reset owed).
    pub fn step_after_password(&self, pool: &Pool, user: &User) -> Result<SignInStep, PoolError> {
        Ok(if self.needs_new_password(user)? {
            SignInStep::NewPassword
        } else {
            factor_step(pool, user)
        })
    }

    /// The user whose password this is (USER_PASSWORD_AUTH and the hosted UI's sign-in
    /// form). Attempts for one user are decided one at a time, each on a fresh read, and
    /// wrong guesses count towards the lockout; an unknown user costs what a known one does.
    pub fn proven_user(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        password: &str,
        validation: Option<&Map<String, Value>>,
    ) -> Result<User, PoolError> {
        let Some(found) = self.store.find_user(&pool.id, name)? else {
            if let Some(migrated) =
                self.migrate_on_sign_in(client, pool, name, password, validation)?
            {
                return Ok(migrated);
            }
            return Err(self.unknown_user_sign_in(client, pool, name, password)?);
        };
        let _turn = self.attempts.turn(&pool.id, &found.username);
        let user = self
            .store
            .find_user(&pool.id, &found.username)?
            .filter(|u| u.username == found.username)
            .ok_or_else(PoolError::incorrect_credentials)?;
        if user.locked_until >= self.now() {
            return Err(attempts_exceeded());
        }
        self.pre_authentication(client, pool, &user, validation)?;
        self.check_password(pool, &user, password)?;
        Ok(user)
    }

    /// Whether a user with a proven password must choose a new one first (an administrator
    /// created them); refuses users who may not sign in at all.
    pub fn needs_new_password(&self, user: &User) -> Result<bool, PoolError> {
        if !user.enabled {
            return Err(PoolError::NotAuthorized("User is disabled.".into()));
        }
        match user.status {
            UserStatus::Unconfirmed => Err(PoolError::UserNotConfirmed),
            UserStatus::ResetRequired => Err(PoolError::PasswordResetRequired),
            UserStatus::ForceChangePassword => Ok(true),
            UserStatus::Confirmed => Ok(false),
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
    ) -> Result<PoolError, PoolError> {
        if !client.config.hides_user_existence() {
            return Ok(PoolError::UserNotFound);
        }
        let _turn = self.attempts.turn(&pool.id, &name.to_lowercase());
        if self.attempts.phantom_locked_until(&pool.id, name) >= self.now() {
            return Ok(attempts_exceeded());
        }
        self.verify_password(None, password)?;
        self.unknown_user_failure(pool, name)
    }

    /// Counts a failed sign-in as a name that does not exist, locking it out as a known
    /// user would be; returns the error to answer. Callers hold the name's turn.
    pub fn unknown_user_failure(&self, pool: &Pool, name: &str) -> Result<PoolError, PoolError> {
        if self.attempts.phantom_locked_until(&pool.id, name) >= self.now() {
            return Ok(attempts_exceeded());
        }
        let limit = self.tuning.lockout_after;
        let failures = self
            .attempts
            .phantom_failure(&pool.id, name, self.now(), limit);
        Ok(match lockout(failures, limit) {
            Some(_) => attempts_exceeded(),
            None => PoolError::incorrect_credentials(),
        })
    }

    /// Verifies a password, counting failures and locking out after too many in a row.
    /// Callers hold the user's turn.
    pub fn check_password(
        &self,
        pool: &Pool,
        user: &User,
        password: &str,
    ) -> Result<(), PoolError> {
        let ok = self.verify_password(user.password_hash.as_deref(), password)?;
        if ok {
            return self.password_proven(pool, user);
        }
        Err(self.record_failure(user)?)
    }

    /// A right password (or SRP proof) ends a run of failures, unless an authenticator code
    /// is still to come: then only the right code does, so that wrong codes add up to the
    /// same lockout as wrong passwords. Callers hold the user's turn.
    pub fn password_proven(&self, pool: &Pool, user: &User) -> Result<(), PoolError> {
        let code_follows = matches!(factor_step(pool, user), SignInStep::SoftwareToken);
        if user.failed_logins > 0 && !code_follows {
            self.store
                .clear_failed_logins(&user.pool_id, &user.username)?;
        }
        Ok(())
    }

    /// Counts a wrong password (or SRP proof) and returns the error to answer: after too
    /// many in a row, sign-in is locked for a doubling time. Callers hold the user's turn.
    pub fn record_failure(&self, user: &User) -> Result<PoolError, PoolError> {
        Ok(if self.count_failure(user)? {
            attempts_exceeded()
        } else {
            PoolError::incorrect_credentials()
        })
    }

    /// Counts a wrong secret (a password, an SRP proof, an authenticator code) towards the
    /// user's lockout; `true` when the user is now locked. Callers hold the user's turn.
    pub fn count_failure(&self, user: &User) -> Result<bool, PoolError> {
        let failures = self
            .store
            .record_failed_login(&user.pool_id, &user.username)?;
        let Some(seconds) = lockout(failures, self.tuning.lockout_after) else {
            return Ok(false);
        };
        self.store
            .lock_user_until(&user.pool_id, &user.username, self.now() + seconds)?;
        Ok(true)
    }

    /// Opens a NEW_PASSWORD_REQUIRED challenge, unless the temporary password has expired.
    pub fn new_password_session(
        &self,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<String, PoolError> {
        let validity_days = pool.config.password_policy.temporary_password_validity_days;
        if user.password_set_at + validity_days * 86_400 < self.now() {
            return Err(PoolError::NotAuthorized(
                "Temporary password has expired and must be reset by an administrator.".into(),
            ));
        }
        self.start_challenge(NEW_PASSWORD_REQUIRED, client, pool, user)
    }

    /// Stores a pending challenge and returns its `Session`.
    pub fn start_challenge(
        &self,
        kind: &str,
        client: &Client,
        pool: &Pool,
        user: &User,
    ) -> Result<String, PoolError> {
        let session = STANDARD.encode(crate::random::bytes::<96>());
        self.store.insert_challenge(
            &session,
            &Challenge {
                kind: kind.to_owned(),
                pool_id: pool.id.clone(),
                client_id: client.id.clone(),
                username: user.username.clone(),
                expires_at: self.now() + CHALLENGE_TTL,
            },
        )?;
        Ok(session)
    }

    /// Takes the pending challenge of this kind behind `session`, for this client, and its
    /// user; an unknown, used, expired or foreign session is Cognito's "session is expired".
    pub fn answer_challenge(
        &self,
        kind: &str,
        client: &Client,
        pool: &Pool,
        session: Option<&str>,
    ) -> Result<User, PoolError> {
        let expired =
            || PoolError::NotAuthorized("Invalid session for the user, session is expired.".into());
        let challenge = self
            .store
            .take_challenge(session.ok_or_else(expired)?)?
            .filter(|c| {
                c.kind == kind
                    && c.client_id == client.id
                    && c.pool_id == pool.id
                    && c.expires_at > self.now()
            })
            .ok_or_else(expired)?;
        self.store
            .find_user(&pool.id, &challenge.username)?
            .filter(|u| u.username == challenge.username)
            .ok_or_else(expired)
    }
}

/// With MFA on (or optional and set up by the user), a settled password leads to the
/// software-token challenge, or to setting one up when the user has none yet.
pub fn factor_step(pool: &Pool, user: &User) -> SignInStep {
    let has_totp = user.totp.enabled && user.totp.secret.is_some();
    match pool.config.mfa_configuration {
        MfaConfiguration::Off => SignInStep::SignedIn,
        _ if has_totp => SignInStep::SoftwareToken,
        MfaConfiguration::On => SignInStep::MfaSetup,
        MfaConfiguration::Optional => SignInStep::SignedIn,
    }
}

/// The answer while a user (or an unknown username) is locked out.
pub fn attempts_exceeded() -> PoolError {
    PoolError::NotAuthorized("Password attempts exceeded".into())
}

/// The user named in a challenge answer must be the one the challenge was for.
pub fn same_user(named: Option<User>, expected: &User) -> Result<(), PoolError> {
    match named {
        Some(user) if user.username == expected.username => Ok(()),
        _ => Err(PoolError::incorrect_credentials()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PoolConfig;

    fn pool(mfa: MfaConfiguration) -> Pool {
        Pool {
            id: "us-east-1_Test".into(),
            name: "test".into(),
            config: PoolConfig {
                mfa_configuration: mfa,
                ..PoolConfig::default()
            },
            created: 0,
            modified: 0,
        }
    }

    fn user(with_authenticator: bool) -> User {
        let mut user = User::new(
            "us-east-1_Test",
            "alice".into(),
            Default::default(),
            UserStatus::Confirmed,
            0,
        );
        if with_authenticator {
            user.totp.secret = Some("JBSWY3DPEHPK3PXP".into());
            user.totp.enabled = true;
        }
        user
    }

    /// The one decision both doors render: with MFA off no second step; an authenticator
    /// app's code whenever the user has one set up (MFA on or optional); setting one up
    /// when MFA is on and the user has none.
    #[test]
    fn the_step_after_a_settled_password() {
        use MfaConfiguration::{Off, On, Optional};
        let cases = [
            (Off, false, SignInStep::SignedIn),
            (Off, true, SignInStep::SignedIn),
            (Optional, false, SignInStep::SignedIn),
            (Optional, true, SignInStep::SoftwareToken),
            (On, false, SignInStep::MfaSetup),
            (On, true, SignInStep::SoftwareToken),
        ];
        for (mfa, authenticator, step) in cases {
            assert_eq!(
                factor_step(&pool(mfa), &user(authenticator)),
                step,
                "{mfa:?}, authenticator: {authenticator}"
            );
        }
    }

    /// An authenticator that was never verified does not count.
    #[test]
    fn a_pending_authenticator_is_no_second_factor() {
        let mut pending = user(false);
        pending.totp.pending = Some("JBSWY3DPEHPK3PXP".into());
        assert_eq!(
            factor_step(&pool(MfaConfiguration::Optional), &pending),
            SignInStep::SignedIn
        );
        assert_eq!(
            factor_step(&pool(MfaConfiguration::On), &pending),
            SignInStep::MfaSetup
        );
    }
}
