//! An example Cognito trigger function: one binary for every trigger source, so a pool can
//! name it in each `LambdaConfig` member. Run it with `cargo lambda watch`, and start
//! `taskapi serve --lambda-endpoint http://127.0.0.1:9000`.
//!
//! What it does is steered by the user's e-mail address (or username), so tests and
//! developers can pick each outcome: a tag such as `+reject` in `ann+reject@example.com`.
//! With `TRIGGER_LOG` set, every event is appended to that file as a JSON line, so the
//! events themselves can be inspected.

use std::io::Write;
use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// The password the made-up legacy system knows for every `legacy…` user.
const LEGACY_PASSWORD: &str = "LegacyPass123!";

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let mut event = event.payload;
    record(&event);
    let tags = who(&event);
    if tags.contains("+slow") {
        // Longer than Cognito waits (5 seconds): the pool must give up.
        tokio::time::sleep(Duration::from_secs(7)).await;
    }
    let source = event["triggerSource"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let trigger = source.split('_').next().unwrap_or_default();
    let response = match trigger {
        "PreSignUp" => pre_sign_up(&tags, &event["request"]["clientMetadata"])?,
        "PostConfirmation" if tags.contains("+postfail") => {
            return Err("The profile could not be written".into());
        }
        "PreAuthentication" if tags.contains("+blocked") => {
            return Err("This account is blocked".into());
        }
        "PostAuthentication" if tags.contains("+postauthfail") => {
            return Err("Sign-in audit unavailable".into());
        }
        "PostConfirmation" | "PreAuthentication" | "PostAuthentication" => json!({}),
        "TokenGeneration" => pre_token_generation(&event, &tags),
        "CustomMessage" => json!({
            "emailSubject": "Your Tasks code",
            "emailMessage": format!("Hello {{username}}, your code is {{####}} ({source})"),
        }),
        "UserMigration" => user_migration(&event)?,
        "DefineAuthChallenge" => define_auth_challenge(&event),
        "CreateAuthChallenge" => {
            let round = event["request"]["session"].as_array().map_or(0, Vec::len) + 1;
            json!({
                "publicChallengeParameters": { "question": "What is 6 times 7?" },
                "privateChallengeParameters": { "answer": "42" },
                "challengeMetadata": format!("QUESTION-{round}"),
            })
        }
        "VerifyAuthChallengeResponse" => {
            let expected = &event["request"]["privateChallengeParameters"]["answer"];
            json!({ "answerCorrect": event["request"]["challengeAnswer"] == *expected })
        }
        _ => return Err(format!("unknown trigger source {source}").into()),
    };
    if tags.contains("+garbage") {
        return Ok(json!("not an event"));
    }
    event["response"] = response;
    Ok(event)
}

/// The e-mail address (or else the username) the event is about, lower-cased: its tags
/// steer the outcome.
fn who(event: &Value) -> String {
    event["request"]["userAttributes"]["email"]
        .as_str()
        .or_else(|| event["userName"].as_str())
        .unwrap_or_default()
        .to_lowercase()
}

/// Refuses `+reject`; confirms `+autoconfirm`, `+autoverify` (which also verifies the
/// address) and sign-ups whose `ClientMetadata` has `"autoConfirm": "yes"`.
fn pre_sign_up(tags: &str, metadata: &Value) -> Result<Value, Error> {
    if tags.contains("+reject") {
        return Err("Sign-ups from this address are closed".into());
    }
    let verify = tags.contains("+autoverify");
    let asked = metadata["autoConfirm"] == "yes";
    Ok(json!({
        "autoConfirmUser": verify || asked || tags.contains("+autoconfirm"),
        "autoVerifyEmail": verify,
        "autoVerifyPhone": false,
    }))
}

/// Adds a tenant claim (V1: the ID token; V2: both tokens, a role list and a scope), and
/// with `+groups` replaces the groups, with `+suppress` drops the e-mail claim.
fn pre_token_generation(event: &Value, tags: &str) -> Value {
    let groups = tags
        .contains("+groups")
        .then(|| json!({ "groupsToOverride": ["from-trigger"] }));
    let suppress: Vec<&str> = if tags.contains("+suppress") {
        vec!["email"]
    } else {
        vec![]
    };
    if event["version"] == "1" {
        return json!({ "claimsOverrideDetails": {
            "claimsToAddOrOverride": { "tenant": "acme", "source": event["triggerSource"] },
            "claimsToSuppress": suppress,
            "groupOverrideDetails": groups,
        }});
    }
    json!({ "claimsAndScopeOverrideDetails": {
        "idTokenGeneration": {
            "claimsToAddOrOverride": { "tenant": "acme" },
            "claimsToSuppress": suppress,
        },
        "accessTokenGeneration": {
            "claimsToAddOrOverride": { "tenant": "acme", "roles": ["reader", "writer"] },
            "scopesToAdd": ["tasks/read"],
            "scopesToSuppress": [],
        },
        "groupOverrideDetails": groups,
    }})
}

/// The legacy system: every `legacy…` user exists there, with one password.
fn user_migration(event: &Value) -> Result<Value, Error> {
    let name = event["userName"].as_str().unwrap_or_default();
    if !name.to_lowercase().starts_with("legacy") {
        return Err("User not found in the legacy system".into());
    }
    if event["triggerSource"] == "UserMigration_Authentication"
        && event["request"]["password"] != LEGACY_PASSWORD
    {
        return Err("Bad password".into());
    }
    let email = if name.contains('@') {
        name.to_owned()
    } else {
        format!("{name}@legacy.example.com")
    };
    Ok(json!({
        "userAttributes": { "email": email, "email_verified": "true", "name": "Migrated User" },
        "finalUserStatus": "CONFIRMED",
        "messageAction": "SUPPRESS",
    }))
}

/// One question; a right answer signs in, three wrong ones fail the sign-in.
fn define_auth_challenge(event: &Value) -> Value {
    let session = event["request"]["session"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let passed = session
        .last()
        .is_some_and(|last| last["challengeResult"] == true);
    let failed = session.len() >= 3 && !passed;
    json!({
        "challengeName": if passed || failed { Value::Null } else { json!("CUSTOM_CHALLENGE") },
        "issueTokens": passed,
        "failAuthentication": failed,
    })
}

/// Appends the event to `TRIGGER_LOG`, if set.
fn record(event: &Value) {
    let Ok(path) = std::env::var("TRIGGER_LOG") else {
        return;
    };
    let line = format!("{event}\n");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!("cannot append to {path}: {error}");
    }
}
