//! The trigger rules of the core, with a scripted function behind the `LambdaInvoker` port:
//! which event each step sends, what each answer changes, and how each failure is reported.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use taskapi_userpool::hosted_ui::PasswordStep;
use taskapi_userpool::triggers::custom_auth::CustomStep;
use taskapi_userpool::{
    DefaultPool, InvokeError, LambdaInvoker, PoolError, PoolSettings, Tuning, UserPools,
};

const PASSWORD: &str = "TestPass123!";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:triggers";

/// What the function does with an event.
type Answer = fn(&Value) -> Result<Value, InvokeError>;

/// A function that answers as its script says and keeps every event it got.
struct Scripted {
    script: Answer,
    events: Mutex<Vec<(String, Value)>>,
}

impl LambdaInvoker for Scripted {
    fn invoke(&self, function: &str, event: &Value) -> Result<Value, InvokeError> {
        self.events
            .lock()
            .unwrap()
            .push((function.to_owned(), event.clone()));
        (self.script)(event)
    }
}

impl Scripted {
    fn sources(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e["triggerSource"].as_str().unwrap().to_owned())
            .collect()
    }
}

struct Core {
    pools: Arc<UserPools>,
    default: DefaultPool,
    function: Option<Arc<Scripted>>,
    _dir: tempfile::TempDir,
}

/// The default pool with `lambda_config`, and `script` as its function (none: no endpoint).
fn open(lambda_config: Value, script: Option<Answer>) -> Core {
    let dir = tempfile::tempdir().unwrap();
    let function = script.map(|script| {
        Arc::new(Scripted {
            script,
            events: Mutex::new(Vec::new()),
        })
    });
    let pools = UserPools::open_with(
        PoolSettings::new(dir.path(), "http://127.0.0.1:1"),
        Tuning {
            lambda: function.clone().map(|f| f as Arc<dyn LambdaInvoker>),
            ..Tuning::default()
        },
    )
    .unwrap();
    let default = pools.ensure_default_pool().unwrap();
    let mut pool = pools.pool(&default.pool_id).unwrap();
    pool.config
        .echo
        .insert("LambdaConfig".into(), lambda_config);
    pools.store().update_pool(&pool).unwrap();
    Core {
        pools,
        default,
        function,
        _dir: dir,
    }
}

/// The event back with `response` filled in, as a function returns it.
fn answer(event: &Value, response: Value) -> Result<Value, InvokeError> {
    let mut event = event.clone();
    event["response"] = response;
    Ok(event)
}

fn user_exists(core: &Core, email: &str) -> bool {
    core.pools
        .store()
        .find_user(&core.default.pool_id, email)
        .unwrap()
        .is_some()
}

#[test]
fn pre_sign_up_may_confirm_and_is_called_with_cognitos_event() {
    let core = open(
        json!({ "PreSignUp": ARN }),
        Some(|e| answer(e, json!({ "autoConfirmUser": true }))),
    );
    let confirmed = core
        .pools
        .self_sign_up(&core.default.client_id, "ann@example.com", PASSWORD)
        .unwrap();
    assert!(confirmed);
    let function = core.function.as_ref().unwrap();
    let events = function.events.lock().unwrap();
    let (name, event) = &events[0];
    assert_eq!(name, "triggers", "the Invoke API gets the function's name");
    assert_eq!(event["triggerSource"], "PreSignUp_SignUp");
    assert_eq!(event["version"], "1");
    assert_eq!(event["userPoolId"], json!(core.default.pool_id));
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(
        event["callerContext"]["clientId"],
        json!(core.default.client_id)
    );
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "ann@example.com"
    );
    assert_eq!(event["response"], json!({}));
}

#[test]
fn a_thrown_pre_sign_up_is_cognitos_message_and_stores_nothing() {
    let core = open(
        json!({ "PreSignUp": ARN }),
        Some(|_| Err(InvokeError::Function("Not on the list.".into()))),
    );
    let error = core
        .pools
        .self_sign_up(&core.default.client_id, "bob@example.com", PASSWORD)
        .unwrap_err();
    assert!(
        matches!(&error, PoolError::UserLambdaValidation(m) if m == "PreSignUp failed with error Not on the list."),
        "{error:?}"
    );
    assert!(!user_exists(&core, "bob@example.com"));
}

#[test]
fn a_timeout_and_a_missing_endpoint_are_unexpected_lambda_errors() {
    let core = open(
        json!({ "PreSignUp": ARN }),
        Some(|_| Err(InvokeError::Timeout)),
    );
    let error = core
        .pools
        .self_sign_up(&core.default.client_id, "cat@example.com", PASSWORD)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."
    );
    assert!(matches!(error, PoolError::UnexpectedLambda(_)));

    let core = open(json!({ "PreSignUp": ARN }), None);
    let error = core
        .pools
        .self_sign_up(&core.default.client_id, "dan@example.com", PASSWORD)
        .unwrap_err();
    assert!(matches!(error, PoolError::UnexpectedLambda(_)));
    assert!(error.to_string().contains("--lambda-endpoint"), "{error}");
    assert!(!user_exists(&core, "dan@example.com"));
}

#[test]
fn an_answer_that_is_not_the_event_is_unrecognizable() {
    let core = open(json!({ "PreSignUp": ARN }), Some(|_| Ok(json!([1, 2]))));
    let error = core
        .pools
        .self_sign_up(&core.default.client_id, "eve@example.com", PASSWORD)
        .unwrap_err();
    assert!(
        matches!(&error, PoolError::InvalidLambdaResponse(m) if m == "Unrecognizable lambda output")
    );
}

#[test]
fn pre_authentication_refuses_before_the_password_is_checked_and_post_follows_success() {
    let core = open(
        json!({ "PreSignUp": ARN, "PreAuthentication": ARN, "PostAuthentication": ARN }),
        Some(|e| match e["triggerSource"].as_str() {
            Some("PreSignUp_SignUp") => answer(e, json!({ "autoConfirmUser": true })),
            Some("PreAuthentication_Authentication")
                if e["request"]["userAttributes"]["email"] == "blocked@example.com" =>
            {
                Err(InvokeError::Function("Blocked".into()))
            }
            _ => answer(e, json!({})),
        }),
    );
    for email in ["ok@example.com", "blocked@example.com"] {
        core.pools
            .self_sign_up(&core.default.client_id, email, PASSWORD)
            .unwrap();
    }
    let error = core
        .pools
        .password_sign_in(&core.default.client_id, "blocked@example.com", "wrong")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "PreAuthentication failed with error Blocked."
    );
    let step = core
        .pools
        .password_sign_in(&core.default.client_id, "ok@example.com", PASSWORD)
        .unwrap();
    assert!(matches!(step, PasswordStep::SignedIn { .. }));
    let sources = core.function.as_ref().unwrap().sources();
    assert_eq!(
        sources[2..],
        [
            "PreAuthentication_Authentication",
            "PreAuthentication_Authentication",
            "PostAuthentication_Authentication"
        ]
    );
}

#[test]
fn user_migration_creates_the_user_the_function_vouches_for() {
    let core = open(
        json!({ "UserMigration": ARN }),
        Some(|e| {
            if e["request"]["password"] != PASSWORD {
                return Err(InvokeError::Function("Bad password".into()));
            }
            answer(
                e,
                json!({
                    "userAttributes": { "email": e["userName"], "email_verified": "true" },
                    "finalUserStatus": "CONFIRMED",
                }),
            )
        }),
    );
    // The default client hides user existence: a refusal is the unknown user's answer.
    let refused = core
        .pools
        .password_sign_in(&core.default.client_id, "old@example.com", "wrong")
        .unwrap_err();
    assert_eq!(refused.to_string(), "Incorrect username or password.");
    assert!(!user_exists(&core, "old@example.com"));
    let step = core
        .pools
        .password_sign_in(&core.default.client_id, "old@example.com", PASSWORD)
        .unwrap();
    assert!(matches!(step, PasswordStep::SignedIn { .. }));
    assert!(user_exists(&core, "old@example.com"));
}

#[test]
fn custom_auth_follows_define_create_and_verify() {
    let core = open(
        json!({
            "PreSignUp": ARN, "DefineAuthChallenge": ARN, "CreateAuthChallenge": ARN,
            "VerifyAuthChallengeResponse": ARN
        }),
        Some(|e| match e["triggerSource"].as_str().unwrap() {
            "PreSignUp_SignUp" => answer(e, json!({ "autoConfirmUser": true })),
            "DefineAuthChallenge_Authentication" => {
                let passed = e["request"]["session"]
                    .as_array()
                    .and_then(|s| s.last())
                    .is_some_and(|last| last["challengeResult"] == true);
                answer(
                    e,
                    json!({ "issueTokens": passed, "challengeName": "CUSTOM_CHALLENGE" }),
                )
            }
            "CreateAuthChallenge_Authentication" => answer(
                e,
                json!({
                    "publicChallengeParameters": { "hint": "colour" },
                    "privateChallengeParameters": { "answer": "blue" },
                    "challengeMetadata": "COLOUR"
                }),
            ),
            _ => answer(
                e,
                json!({ "answerCorrect": e["request"]["challengeAnswer"] == e["request"]["privateChallengeParameters"]["answer"] }),
            ),
        }),
    );
    core.pools
        .self_sign_up(&core.default.client_id, "fay@example.com", PASSWORD)
        .unwrap();
    let (client, pool) = core.pools.client(&core.default.client_id).unwrap();
    let step = core
        .pools
        .start_custom_auth(&client, &pool, "fay@example.com", None)
        .unwrap();
    let CustomStep::Challenge {
        session,
        parameters,
    } = step
    else {
        panic!("{step:?}")
    };
    assert_eq!(parameters["hint"], "colour");
    assert!(parameters.contains_key("USERNAME"));
    let step = core
        .pools
        .answer_custom_challenge(&client, &pool, Some(&session), "red", None)
        .unwrap();
    let CustomStep::Challenge { session, .. } = step else {
        panic!("{step:?}")
    };
    let step = core
        .pools
        .answer_custom_challenge(&client, &pool, Some(&session), "blue", None)
        .unwrap();
    assert!(matches!(step, CustomStep::SignedIn(user) if user.email() == Some("fay@example.com")));
    let events = core
        .function
        .as_ref()
        .unwrap()
        .events
        .lock()
        .unwrap()
        .clone();
    let last_define = events
        .iter()
        .rev()
        .find(|(_, e)| e["triggerSource"] == "DefineAuthChallenge_Authentication")
        .unwrap();
    assert_eq!(
        last_define.1["request"]["session"],
        json!([
            { "challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "COLOUR" },
            { "challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "COLOUR" }
        ])
    );
    // A spent session cannot be answered again.
    assert!(
        core.pools
            .answer_custom_challenge(&client, &pool, Some(&session), "blue", None)
            .is_err()
    );
}

#[test]
fn custom_auth_needs_a_define_function() {
    let core = open(json!({}), None);
    let (client, pool) = core.pools.client(&core.default.client_id).unwrap();
    let error = core
        .pools
        .start_custom_auth(&client, &pool, "x@example.com", None)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Custom auth lambda trigger is not configured for the user pool."
    );
}
