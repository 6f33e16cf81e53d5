//! USER_SRP_AUTH: the PASSWORD_VERIFIER challenge and its answer. The arithmetic is in
//! `taskapi_userpool::srp`; this is the protocol around it (who may try, what is stored, what counts).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use num_bigint::BigUint;

use super::auth::SignIn;
use super::shapes::AuthResponse;
use super::{Params, required_param};
use crate::door::{AwsDoor, SrpBlock};
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{Client, Pool, User, UserStatus};
use taskapi_userpool::signin::attempts_exceeded;
use taskapi_userpool::srp::{self, Exchange};

/// How long a SECRET_BLOCK may be answered when the client sets no `AuthSessionValidity`
/// (Cognito's default, 3 minutes).
const DEFAULT_BLOCK_MINUTES: i64 = 3;

impl AwsDoor {
    /// InitiateAuth / AdminInitiateAuth with USER_SRP_AUTH: answers the client's `A` with
    /// the user's salt, our `B` and a single-use SECRET_BLOCK naming the stored exchange.
    /// Unknown users get a decoy that can never verify when the client hides user
    /// existence, so the answer does not tell who has an account.
    pub(super) fn srp_auth(&self, sign_in: SignIn<'_>) -> Result<AuthResponse, PoolError> {
        let SignIn { client, pool, .. } = sign_in;
        let (name, a_hex) = sign_in.username_and("SRP_A")?;
        if srp::parse_public(a_hex).is_none() {
            return Err(PoolError::InvalidParameter("Invalid SRP_A value.".into()));
        }
        let now = self.now();
        let user = match self.store().find_user(&pool.id, name)? {
            Some(user) => Some(user),
            None if client.config.hides_user_existence() => None,
            None => return Err(PoolError::UserNotFound),
        };
        // A locked-out name is refused alike, whether or not it exists.
        let locked_until = user.as_ref().map_or_else(
            || self.attempts().phantom_locked_until(&pool.id, name),
            |u| u.locked_until,
        );
        if locked_until >= now {
            return Err(attempts_exceeded());
        }
        if let Some(user) = &user {
            if !user.enabled {
                return Err(PoolError::NotAuthorized("User is disabled.".into()));
            }
            // Cognito refuses unconfirmed users here already, before any proof.
            if user.status == UserStatus::Unconfirmed {
                return Err(PoolError::UserNotConfirmed);
            }
            self.pre_authentication(client, pool, user, sign_in.metadata)?;
        }
        let (salt, verifier) = match user.as_ref().and_then(stored_verifier) {
            Some(pair) => pair,
            None => decoy_verifier(),
        };
        let (b_hex, big_b_hex) = srp::server_public(&verifier)
            .ok_or_else(|| PoolError::InvalidParameter("Invalid SRP state.".into()))?;
        let block = STANDARD.encode(taskapi_userpool::random::bytes::<96>());
        let minutes = client
            .config
            .auth_session_minutes()
            .unwrap_or(DEFAULT_BLOCK_MINUTES);
        let user_id = user
            .as_ref()
            .map_or_else(|| name.to_owned(), |u| u.username.clone());
        let expires_at = now + minutes * 60;
        self.srp_blocks.insert(
            block.clone(),
            &format!("{}/{}", pool.id, user_id.to_lowercase()),
            SrpBlock {
                pool_id: pool.id.clone(),
                client_id: client.id.clone(),
                username: user.map(|u| u.username).unwrap_or_default(),
                a_hex: a_hex.to_owned(),
                b_hex,
                big_b_hex: big_b_hex.clone(),
            },
            now,
            expires_at,
        );
        let parameters = BTreeMap::from([
            ("SALT", salt),
            ("SRP_B", big_b_hex),
            ("SECRET_BLOCK", block),
            ("USER_ID_FOR_SRP", user_id.clone()),
            ("USERNAME", user_id),
        ]);
        // The exchange lives behind SECRET_BLOCK (pycognito sends no Session); the Session
        // is handed out because Amplify and amazon-cognito-identity-js send it back.
        let session = STANDARD.encode(taskapi_userpool::random::bytes::<96>());
        Ok(AuthResponse::challenge(
            "PASSWORD_VERIFIER",
            Some(session),
            parameters,
        ))
    }

    /// RespondToAuthChallenge(PASSWORD_VERIFIER): checks PASSWORD_CLAIM_SIGNATURE against the
    /// stored exchange. A wrong proof counts toward the same lockout as a wrong password.
    pub(super) fn password_verifier(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        responses: &Params,
    ) -> Result<AuthResponse, PoolError> {
        let block = required_param(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
        let timestamp = required_param(responses, "TIMESTAMP")?;
        let signature = required_param(responses, "PASSWORD_CLAIM_SIGNATURE")?;
        let expired =
            || PoolError::NotAuthorized("Invalid session for the user, session is expired.".into());
        let state = self
            .srp_blocks
            .take(block, self.now())
            .filter(|s| s.client_id == client.id && s.pool_id == pool.id)
            .ok_or_else(expired)?;
        if state.username.is_empty() {
            // The decoy handed to a name that does not exist: it fails as a wrong proof
            // does, and locks out as one.
            let _turn = self.attempts().turn(&pool.id, &name.to_lowercase());
            return Err(self.unknown_user_failure(pool, name)?);
        }
        // Proofs for one user are decided one at a time, each on a fresh read.
        let _turn = self.attempts().turn(&pool.id, &state.username);
        let user = self
            .store()
            .find_user(&pool.id, name)?
            .filter(|u| u.username == state.username)
            .ok_or_else(PoolError::incorrect_credentials)?;
        if user.locked_until >= self.now() {
            return Err(attempts_exceeded());
        }
        let verifier = stored_verifier(&user).map(|(_, v)| v).unwrap_or_default();
        let proven = srp::verify_claim(
            &Exchange {
                pool_id: &pool.id,
                username: &user.username,
                verifier_hex: &verifier,
                a_hex: &state.a_hex,
                b_hex: &state.b_hex,
                big_b_hex: &state.big_b_hex,
                secret_block: &STANDARD.decode(block).unwrap_or_default(),
            },
            timestamp,
            &STANDARD.decode(signature).unwrap_or_default(),
        );
        if !proven {
            return Err(self.record_failure(&user)?);
        }
        self.password_proven(pool, &user)?;
        let step = self.step_after_password(pool, &user)?;
        self.render_step(step, client, pool, &user)
    }
}

/// The user's SALT (as the clients re-encode it: no leading zero digits) and verifier.
fn stored_verifier(user: &User) -> Option<(String, String)> {
    let salt = BigUint::parse_bytes(user.srp_salt.as_deref()?.as_bytes(), 16)?;
    Some((salt.to_str_radix(16), user.srp_verifier.clone()?))
}

/// A random salt and verifier for a user who does not exist.
fn decoy_verifier() -> (String, String) {
    let salt = BigUint::from_bytes_be(&taskapi_userpool::random::bytes::<16>()).to_str_radix(16);
    let verifier =
        BigUint::from_bytes_be(&taskapi_userpool::random::bytes::<384>()).to_str_radix(16);
    (salt, verifier)
}
