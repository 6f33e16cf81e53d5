//! Lambda triggers: a pool's `LambdaConfig` honoured as Cognito honours it. Each trigger is
//! one invocation through [`LambdaInvoker`] with Cognito's event (`version`,
//! `triggerSource`, `region`, `userPoolId`, `userName`, `callerContext`, `request`,
//! `response`); what each response changes is decided where the trigger fires (sign-up,
//! confirmation, sign-in, codes, tokens, migration, custom challenges), and its failures
//! become Cognito's three Lambda exceptions here, in one place.

pub mod claims;
pub mod custom_auth;
pub mod lambda_config;
pub mod lifecycle;
mod migration;
pub mod port;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

pub use port::{InvokeError, LambdaInvoker};

use crate::UserPools;
use crate::error::PoolError;
use crate::model::{Pool, User};

/// A trigger, by its `LambdaConfig` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    CustomMessage,
    UserMigration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
}

impl Trigger {
    /// Its `LambdaConfig` member, and the word Cognito's errors start with.
    pub fn name(self) -> &'static str {
        match self {
            Self::PreSignUp => "PreSignUp",
            Self::PostConfirmation => "PostConfirmation",
            Self::PreAuthentication => "PreAuthentication",
            Self::PostAuthentication => "PostAuthentication",
            Self::PreTokenGeneration => "PreTokenGeneration",
            Self::CustomMessage => "CustomMessage",
            Self::UserMigration => "UserMigration",
            Self::DefineAuthChallenge => "DefineAuthChallenge",
            Self::CreateAuthChallenge => "CreateAuthChallenge",
            Self::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
        }
    }
}

/// One invocation: the trigger and its `triggerSource`, the user it is about, the app
/// client (absent for administrator actions) and the event's `request`.
pub struct Event<'a> {
    pub trigger: Trigger,
    pub source: &'static str,
    pub user_name: &'a str,
    pub client_id: Option<&'a str>,
    pub request: Value,
}

impl UserPools {
    /// Invokes the pool's function for `event.trigger`, if it has one, and returns the
    /// event's `response` as the function answered it (`None` when no function is set).
    pub fn invoke_trigger(
        &self,
        pool: &Pool,
        event: Event<'_>,
    ) -> Result<Option<Value>, PoolError> {
        let Some(arn) = lambda_config::function_of(&pool.config, event.trigger) else {
            return Ok(None);
        };
        let version = match event.trigger {
            Trigger::PreTokenGeneration => match lambda_config::token_event_version(&pool.config) {
                lambda_config::TokenEventVersion::V1 => "1",
                lambda_config::TokenEventVersion::V2 => "2",
            },
            _ => "1",
        };
        let payload = json!({
            "version": version,
            "triggerSource": event.source,
            "region": pool.id.split('_').next().unwrap_or_default(),
            "userPoolId": pool.id,
            "userName": event.user_name,
            "callerContext": {
                "awsSdkVersion": "aws-sdk-unknown-unknown",
                "clientId": event.client_id.unwrap_or("CLIENT_ID_NOT_APPLICABLE"),
            },
            "request": event.request,
            "response": {},
        });
        let trigger = event.trigger;
        let answer = self
            .invoker()
            .ok_or(InvokeError::NoEndpoint)
            .and_then(|invoker| invoker.invoke(lambda_config::function_name(arn), &payload))
            .map_err(|error| {
                tracing::warn!(trigger = trigger.name(), source = event.source, %error, "a Lambda trigger failed");
                failed(trigger, error)
            })?;
        match answer.get("response") {
            Some(Value::Object(response)) => Ok(Some(Value::Object(response.clone()))),
            Some(Value::Null) | None if answer.is_object() => Ok(Some(json!({}))),
            _ => Err(unrecognizable()),
        }
    }

    fn invoker(&self) -> Option<&dyn LambdaInvoker> {
        self.tuning.lambda.as_deref()
    }
}

/// A trigger's failure as Cognito reports it: the function's own error as
/// `UserLambdaValidationException` ("PreSignUp failed with error <message>."), a timeout or
/// an endpoint that cannot run it as `UnexpectedLambdaException`, output that is not an
/// event as `InvalidLambdaResponseException`.
pub(crate) fn failed(trigger: Trigger, error: InvokeError) -> PoolError {
    match error {
        InvokeError::Function(message) => PoolError::UserLambdaValidation(format!(
            "{} failed with error {}.",
            trigger.name(),
            message.trim_end_matches('.')
        )),
        InvokeError::Unreadable => unrecognizable(),
        other => PoolError::UnexpectedLambda(format!(
            "{} invocation failed due to error {other}.",
            trigger.name()
        )),
    }
}

/// An answer that is not the event with a usable `response`.
pub fn unrecognizable() -> PoolError {
    PoolError::InvalidLambdaResponse("Unrecognizable lambda output".into())
}

/// What a request hands the functions: its `ClientMetadata` (InitiateAuth's reaches them
/// as `validationData`, as in Cognito) and SignUp's `ValidationData`.
#[derive(Debug, Clone, Default)]
pub struct ClientData {
    pub metadata: Option<Map<String, Value>>,
    pub validation: Option<Map<String, Value>>,
}

/// Adds `clientMetadata` to an event's request, where the request had some.
fn with_metadata(mut request: Value, metadata: Option<&Map<String, Value>>) -> Value {
    if let Some(metadata) = metadata {
        request["clientMetadata"] = Value::Object(metadata.clone());
    }
    request
}

/// A user's attributes as events carry them (`userAttributes`): every attribute as a
/// string, with `cognito:user_status` beside them once the user exists.
pub fn user_attributes(user: &User) -> Value {
    let mut attributes: Map<String, Value> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    attributes.insert("cognito:user_status".into(), json!(user.status.as_str()));
    Value::Object(attributes)
}

/// Attributes before the user exists (PreSignUp), as given.
pub fn given_attributes(attributes: &BTreeMap<String, String>) -> Value {
    json!(attributes)
}

/// A boolean member of a response: JSON `true` only (a function that sends `"true"` means
/// nothing Cognito reads).
pub fn flag(response: &Value, name: &str) -> bool {
    response.get(name).and_then(Value::as_bool) == Some(true)
}
