//! The USER_SRP_AUTH state behind a SECRET_BLOCK: single use, bound to the client, and
//! short-lived (the full exchange is tested with real clients in tests/python and
//! tests/node; the arithmetic in the crate's unit tests).

use super::*;

const EMAIL: &str = "srp@example.com";

fn a_hex() -> String {
    "2".repeat(700)
}

/// Starts USER_SRP_AUTH for `username`; the PASSWORD_VERIFIER challenge.
async fn start_srp(server: &Server, username: &str) -> Value {
    server
        .ok(
            "InitiateAuth",
            json!({"ClientId": server.default.client_id, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": username, "SRP_A": a_hex(), "DEVICE_KEY": null}}),
        )
        .await
}

/// A PASSWORD_VERIFIER answer with a proof that is wrong.
fn wrong_proof(server: &Server, user_id: &Value, block: &Value) -> Value {
    json!({"ClientId": server.default.client_id, "ChallengeName": "PASSWORD_VERIFIER",
           "ChallengeResponses": {"USERNAME": user_id, "PASSWORD_CLAIM_SECRET_BLOCK": block,
               "TIMESTAMP": "Wed Nov 25 13:05:09 UTC 2026",
               "PASSWORD_CLAIM_SIGNATURE": "AAAA"}})
}

async fn refused_proof(server: &Server, challenge: &Value) -> String {
    let params = &challenge["ChallengeParameters"];
    let body = wrong_proof(server, &params["USER_ID_FOR_SRP"], &params["SECRET_BLOCK"]);
    server
        .refused("RespondToAuthChallenge", body, "NotAuthorizedException")
        .await
}

#[tokio::test]
async fn the_challenge_names_the_internal_user_and_its_salt() {
    let server = start_with_confirmed_user(EMAIL).await;
    let challenge = start_srp(&server, EMAIL).await;
    assert_eq!(challenge["ChallengeName"], "PASSWORD_VERIFIER");
    let params = &challenge["ChallengeParameters"];
    let user_id = params["USER_ID_FOR_SRP"].as_str().unwrap();
    assert_ne!(user_id, EMAIL, "the internal username, not the alias");
    assert_eq!(params["USERNAME"], user_id);
    assert!(!params["SALT"].as_str().unwrap().starts_with('0'));
}

/// A wrong proof is refused, like a wrong password, and spends the block either way.
#[tokio::test]
async fn a_secret_block_answers_once() {
    let server = start_with_confirmed_user(EMAIL).await;
    let challenge = start_srp(&server, EMAIL).await;
    assert_eq!(
        refused_proof(&server, &challenge).await,
        "Incorrect username or password."
    );
    let message = refused_proof(&server, &challenge).await;
    assert!(message.contains("session is expired"), "{message}");
}

#[tokio::test]
async fn a_secret_block_expires_after_three_minutes() {
    let server = start_with_confirmed_user(EMAIL).await;
    let challenge = start_srp(&server, EMAIL).await;
    server.clock.advance(181);
    let message = refused_proof(&server, &challenge).await;
    assert!(message.contains("session is expired"), "{message}");
}

#[tokio::test]
async fn an_unusable_srp_a_is_an_invalid_parameter() {
    let server = start_with_confirmed_user(EMAIL).await;
    server
        .refused(
            "InitiateAuth",
            json!({"ClientId": server.default.client_id, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": EMAIL, "SRP_A": "0"}}),
            "InvalidParameterException",
        )
        .await;
}

/// An unknown user gets a challenge too (the client hides user existence), which fails
/// exactly like a wrong password.
#[tokio::test]
async fn an_unknown_user_gets_a_challenge_that_fails_like_a_wrong_password() {
    let server = start().await;
    let decoy = start_srp(&server, "nobody@example.com").await;
    let body = wrong_proof(
        &server,
        &json!("nobody@example.com"),
        &decoy["ChallengeParameters"]["SECRET_BLOCK"],
    );
    let (_, message) = server.err("RespondToAuthChallenge", body).await;
    assert_eq!(message, "Incorrect username or password.");
}
