//! Signing up, confirming and signing in, and the tokens a sign-in yields.

use super::*;

const EMAIL: &str = "alice@example.com";

/// A differing six-digit code.
fn other_than(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[tokio::test]
async fn a_sign_up_is_unconfirmed_and_says_where_the_code_went() {
    let server = start().await;
    let signed_up = server.sign_up(EMAIL).await;
    assert_eq!(signed_up["UserConfirmed"], false);
    assert_eq!(
        signed_up["CodeDeliveryDetails"],
        json!({"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    );
    assert!(signed_up["UserSub"].is_string());
    assert_eq!(server.code_for(EMAIL).len(), 6);
}

#[tokio::test]
async fn an_unconfirmed_user_is_refused_even_with_the_right_password() {
    let server = start().await;
    server.sign_up(EMAIL).await;
    let answer = server.password_auth(EMAIL, PASSWORD).await;
    assert_eq!(
        refusal(answer, "UserNotConfirmedException"),
        "User is not confirmed."
    );
}

#[tokio::test]
async fn a_wrong_confirmation_code_is_a_mismatch_and_the_right_one_confirms() {
    let server = start().await;
    server.sign_up(EMAIL).await;
    let code = server.code_for(EMAIL);
    server
        .refused(
            "ConfirmSignUp",
            server.confirmation(EMAIL, other_than(&code)),
            "CodeMismatchException",
        )
        .await;
    server
        .ok("ConfirmSignUp", server.confirmation(EMAIL, &code))
        .await;
    server.sign_in(EMAIL).await;
}

/// The default client hides user existence: confirming a confirmed user again answers as
/// for an unknown one.
#[tokio::test]
async fn confirming_twice_answers_as_a_wrong_code() {
    let server = start().await;
    server.sign_up(EMAIL).await;
    let code = server.code_for(EMAIL);
    let confirm = server.confirmation(EMAIL, &code);
    server.ok("ConfirmSignUp", confirm.clone()).await;
    server
        .refused("ConfirmSignUp", confirm, "CodeMismatchException")
        .await;
}

#[tokio::test]
async fn a_sign_in_answers_cognitos_token_shapes() {
    let server = start_with_confirmed_user(EMAIL).await;
    let result = server.sign_in(EMAIL).await;
    assert_eq!(result["ExpiresIn"], 3600);
    assert_eq!(result["TokenType"], "Bearer");
    let refresh = result["RefreshToken"].as_str().unwrap();
    assert_eq!(refresh.split('.').count(), 5);
    assert!(refresh.starts_with("eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ."));
    let id_header = decode_part(result["IdToken"].as_str().unwrap(), 0);
    let access_header = decode_part(result["AccessToken"].as_str().unwrap(), 0);
    assert_eq!(id_header.as_object().unwrap().len(), 2, "{id_header}");
    assert_eq!(id_header["alg"], "RS256");
    assert_ne!(id_header["kid"], access_header["kid"]);
}

/// Tokens verified against the served JWKS, as the API's verifier does: the ID key, the
/// access key, and never one for the other.
struct Verified {
    id: Value,
    access: Value,
    sub: String,
}

async fn verified_tokens(server: &Server) -> Verified {
    let sub = server.sign_up(EMAIL).await["UserSub"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = server.code_for(EMAIL);
    server
        .ok("ConfirmSignUp", server.confirmation(EMAIL, &code))
        .await;
    let result = server.sign_in(EMAIL).await;
    let (id_token, access_token) = (
        result["IdToken"].as_str().unwrap(),
        result["AccessToken"].as_str().unwrap(),
    );
    let jwks = server.jwks().await;
    assert_eq!(jwks.keys.len(), 2);
    let key_for = |token: &str| {
        let header = decode_part(token, 0);
        DecodingKey::from_jwk(jwks.find(header["kid"].as_str().unwrap()).unwrap()).unwrap()
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[server.issuer()]);
    validation.set_audience(&[&server.default.client_id]);
    let id = jsonwebtoken::decode::<Value>(id_token, &key_for(id_token), &validation)
        .unwrap()
        .claims;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[server.issuer()]);
    validation.validate_aud = false;
    let access = jsonwebtoken::decode::<Value>(access_token, &key_for(access_token), &validation)
        .unwrap()
        .claims;
    assert!(
        jsonwebtoken::decode::<Value>(access_token, &key_for(id_token), &validation).is_err(),
        "the ID key does not verify access tokens: the keys really are separate"
    );
    Verified { id, access, sub }
}

#[tokio::test]
async fn the_id_token_carries_cognitos_claims() {
    let server = start().await;
    let Verified { id, sub, .. } = verified_tokens(&server).await;
    assert_eq!(id["sub"], sub.as_str());
    assert_eq!(id["cognito:username"], sub.as_str());
    assert_eq!(id["email"], EMAIL);
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["aud"], server.default.client_id.as_str());
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        3600
    );
    for claim in ["auth_time", "jti", "origin_jti", "event_id"] {
        assert!(id.get(claim).is_some(), "ID token lacks {claim}");
    }
    assert!(id.get("cognito:groups").is_none());
}

#[tokio::test]
async fn the_access_token_carries_cognitos_claims_and_the_id_tokens_session() {
    let server = start().await;
    let Verified { id, access, sub } = verified_tokens(&server).await;
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], server.default.client_id.as_str());
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["username"], sub.as_str());
    assert_eq!(access["origin_jti"], id["origin_jti"]);
    assert_eq!(access["event_id"], id["event_id"]);
    assert!(access.get("aud").is_none());
}

#[tokio::test]
async fn get_user_takes_the_access_token_and_not_the_id_token() {
    let server = start_with_confirmed_user(EMAIL).await;
    let result = server.sign_in(EMAIL).await;
    let me = server
        .ok("GetUser", json!({"AccessToken": result["AccessToken"]}))
        .await;
    let sub = decode_part(result["IdToken"].as_str().unwrap(), 1)["sub"].clone();
    assert_eq!(me["Username"], sub);
    server
        .assert_refused(
            "GetUser",
            json!({"AccessToken": result["IdToken"]}),
            ("NotAuthorizedException", "Invalid Access Token"),
        )
        .await;
}
