//! Custom authentication (`CUSTOM_AUTH`): the `DefineAuthChallenge` function decides each
//! step from the challenges so far, `CreateAuthChallenge` makes a challenge, and
//! `VerifyAuthChallengeResponse` judges the answer. A challenge's private parameters and
//! the sign-in's history stay on the server, under the `Session` the client holds.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

use super::{Event, Trigger, flag, unrecognizable, user_attributes, with_metadata};
use crate::UserPools;
use crate::error::PoolError;
use crate::model::{Client, Pool, User};

/// The only challenge a custom flow may ask for locally.
pub const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";

/// Where a custom sign-in stands after a step.
#[derive(Debug)]
pub enum CustomStep {
    /// `issueTokens`: the user is signed in.
    SignedIn(Box<User>),
    /// Another challenge: its `Session` and public parameters (with `USERNAME`).
    Challenge {
        session: String,
        parameters: Map<String, Value>,
    },
}

/// A custom sign-in between steps.
#[derive(Debug, Clone)]
struct Pending {
    /// The `session` array the functions get: each challenge's name, result and metadata.
    history: Vec<Value>,
    private: Value,
}

/// Pending custom sign-ins by `Session`, in memory: they live three minutes, like every
/// challenge, and a restart ends them as an expired session would.
#[derive(Default)]
pub struct CustomChallenges(Mutex<HashMap<String, Pending>>);

impl CustomChallenges {
    fn put(&self, session: &str, pending: Pending) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(session.to_owned(), pending);
    }

    fn take(&self, session: &str) -> Option<Pending> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(session)
    }

    /// Drops sign-ins whose challenge is gone (answered, expired or never stored).
    fn retain(&self, live: impl Fn(&str) -> bool) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|session, _| live(session));
    }
}

impl UserPools {
    /// InitiateAuth with `CUSTOM_AUTH`: the user must exist and be able to sign in; then
    /// the functions decide.
    pub fn start_custom_auth(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        validation: Option<&Map<String, Value>>,
    ) -> Result<CustomStep, PoolError> {
        if super::lambda_config::function_of(&pool.config, Trigger::DefineAuthChallenge).is_none() {
            return Err(PoolError::InvalidParameter(
                "Custom auth lambda trigger is not configured for the user pool.".into(),
            ));
        }
        let user = match self.store.find_user(&pool.id, name)? {
            Some(user) => user,
            None if client.config.hides_user_existence() => {
                return Err(PoolError::incorrect_credentials());
            }
            None => return Err(PoolError::UserNotFound),
        };
        if self.needs_new_password(&user)? {
            return Err(PoolError::NotAuthorized(
                "The user must choose a new password first (NEW_PASSWORD_REQUIRED).".into(),
            ));
        }
        self.pre_authentication(client, pool, &user, validation)?;
        self.next_custom_step(client, pool, user, Vec::new(), None)
    }

    /// RespondToAuthChallenge with `CUSTOM_CHALLENGE`: the answer is judged and the sign-in
    /// goes on as `DefineAuthChallenge` decides.
    pub fn answer_custom_challenge(
        &self,
        client: &Client,
        pool: &Pool,
        session: Option<&str>,
        answer: &str,
        metadata: Option<&Map<String, Value>>,
    ) -> Result<CustomStep, PoolError> {
        let user = self.answer_challenge(CUSTOM_CHALLENGE, client, pool, session)?;
        let mut pending = session.and_then(|s| self.custom.take(s)).ok_or_else(|| {
            PoolError::NotAuthorized("Invalid session for the user, session is expired.".into())
        })?;
        let verdict = self
            .invoke_trigger(
                pool,
                Event {
                    trigger: Trigger::VerifyAuthChallengeResponse,
                    source: "VerifyAuthChallengeResponse_Authentication",
                    user_name: &user.username,
                    client_id: Some(&client.id),
                    request: with_metadata(
                        json!({
                            "userAttributes": user_attributes(&user),
                            "privateChallengeParameters": pending.private,
                            "challengeAnswer": answer,
                            "userNotFound": false,
                        }),
                        metadata,
                    ),
                },
            )?
            .ok_or_else(|| not_configured(Trigger::VerifyAuthChallengeResponse))?;
        if let Some(last) = pending.history.last_mut() {
            last["challengeResult"] = json!(flag(&verdict, "answerCorrect"));
        }
        self.next_custom_step(client, pool, user, pending.history, metadata)
    }

    /// Asks `DefineAuthChallenge` what follows the challenges so far, and makes the next
    /// one with `CreateAuthChallenge` if it asks for one.
    fn next_custom_step(
        &self,
        client: &Client,
        pool: &Pool,
        user: User,
        mut history: Vec<Value>,
        metadata: Option<&Map<String, Value>>,
    ) -> Result<CustomStep, PoolError> {
        let decision = self
            .invoke_trigger(
                pool,
                Event {
                    trigger: Trigger::DefineAuthChallenge,
                    source: "DefineAuthChallenge_Authentication",
                    user_name: &user.username,
                    client_id: Some(&client.id),
                    request: with_metadata(
                        json!({
                            "userAttributes": user_attributes(&user),
                            "session": history,
                            "userNotFound": false,
                        }),
                        metadata,
                    ),
                },
            )?
            .ok_or_else(|| not_configured(Trigger::DefineAuthChallenge))?;
        if flag(&decision, "failAuthentication") {
            return Err(PoolError::incorrect_credentials());
        }
        if flag(&decision, "issueTokens") {
            return Ok(CustomStep::SignedIn(Box::new(user)));
        }
        match decision["challengeName"].as_str() {
            Some(CUSTOM_CHALLENGE) => {}
            Some(other) => {
                return Err(PoolError::InvalidParameter(format!(
                    "DefineAuthChallenge asked for {other}; the local user pool's custom \
                     authentication supports CUSTOM_CHALLENGE"
                )));
            }
            None => return Err(unrecognizable()),
        }
        let created = self
            .invoke_trigger(
                pool,
                Event {
                    trigger: Trigger::CreateAuthChallenge,
                    source: "CreateAuthChallenge_Authentication",
                    user_name: &user.username,
                    client_id: Some(&client.id),
                    request: with_metadata(
                        json!({
                            "userAttributes": user_attributes(&user),
                            "challengeName": CUSTOM_CHALLENGE,
                            "session": history,
                            "userNotFound": false,
                        }),
                        metadata,
                    ),
                },
            )?
            .ok_or_else(|| not_configured(Trigger::CreateAuthChallenge))?;
        let mut parameters = match &created["publicChallengeParameters"] {
            Value::Null => Map::new(),
            Value::Object(public) if public.values().all(Value::is_string) => public.clone(),
            _ => return Err(unrecognizable()),
        };
        parameters.insert("USERNAME".into(), json!(user.username));
        history.push(json!({
            "challengeName": CUSTOM_CHALLENGE,
            "challengeResult": false,
            "challengeMetadata": created.get("challengeMetadata").cloned().unwrap_or(Value::Null),
        }));
        let session = self.start_challenge(CUSTOM_CHALLENGE, client, pool, &user)?;
        let now = self.now();
        self.custom.retain(|s| {
            s == session
                || self
                    .store
                    .peek_challenge(s)
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.expires_at > now)
        });
        self.custom.put(
            &session,
            Pending {
                history,
                private: created
                    .get("privateChallengeParameters")
                    .cloned()
                    .unwrap_or_else(|| json!({})),
            },
        );
        Ok(CustomStep::Challenge {
            session,
            parameters,
        })
    }
}

/// A custom flow needs all three functions; Cognito refuses the flow without them.
fn not_configured(trigger: Trigger) -> PoolError {
    PoolError::InvalidParameter(format!(
        "Custom auth lambda trigger is not configured for the user pool ({} is missing).",
        trigger.name()
    ))
}
