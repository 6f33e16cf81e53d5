//! Refresh tokens, sign-out and revocation, expiry, and sessions across a restart.

use super::*;

const EMAIL: &str = "erin@example.com";

fn refresh(server: &Server, token: &Value) -> Value {
    json!({"ClientId": server.default.client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
           "AuthParameters": {"REFRESH_TOKEN": token, "DEVICE_KEY": null}})
}

#[tokio::test]
async fn a_refresh_continues_the_session_without_a_new_refresh_token() {
    let server = start_with_confirmed_user(EMAIL).await;
    let first = server.sign_in(EMAIL).await;
    let refreshed = server
        .ok("InitiateAuth", refresh(&server, &first["RefreshToken"]))
        .await;
    let refreshed = &refreshed["AuthenticationResult"];
    assert!(refreshed.get("RefreshToken").is_none());
    assert_eq!(
        decode_part(refreshed["IdToken"].as_str().unwrap(), 1)["origin_jti"],
        decode_part(first["IdToken"].as_str().unwrap(), 1)["origin_jti"]
    );
}

#[tokio::test]
async fn revoke_token_ends_one_session_only() {
    let server = start_with_confirmed_user(EMAIL).await;
    let first = server.sign_in(EMAIL).await;
    let second = server.sign_in(EMAIL).await;
    server
        .ok(
            "RevokeToken",
            json!({"ClientId": server.default.client_id, "Token": second["RefreshToken"]}),
        )
        .await;
    let (_, message) = server
        .err("InitiateAuth", refresh(&server, &second["RefreshToken"]))
        .await;
    assert_eq!(message, "Refresh Token has been revoked");
    server
        .ok("InitiateAuth", refresh(&server, &first["RefreshToken"]))
        .await;
}

#[tokio::test]
async fn global_sign_out_revokes_refresh_and_access_tokens() {
    let server = start_with_confirmed_user(EMAIL).await;
    let first = server.sign_in(EMAIL).await;
    let refreshed = server
        .ok("InitiateAuth", refresh(&server, &first["RefreshToken"]))
        .await;
    server
        .ok(
            "GlobalSignOut",
            json!({"AccessToken": first["AccessToken"]}),
        )
        .await;
    server
        .assert_refused(
            "InitiateAuth",
            refresh(&server, &first["RefreshToken"]),
            ("NotAuthorizedException", "Refresh Token has been revoked"),
        )
        .await;
    let (_, message) = server
        .err(
            "GetUser",
            json!({"AccessToken": refreshed["AuthenticationResult"]["AccessToken"]}),
        )
        .await;
    assert_eq!(message, "Access Token has been revoked");
}

#[tokio::test]
async fn a_refresh_token_that_is_not_ours_is_invalid() {
    let server = start().await;
    let (_, message) = server
        .err("InitiateAuth", refresh(&server, &json!("garbage")))
        .await;
    assert_eq!(message, "Invalid Refresh Token.");
}

#[tokio::test]
async fn an_access_token_expires_after_an_hour_and_its_refresh_token_does_not() {
    let server = start_with_confirmed_user(EMAIL).await;
    let tokens = server.sign_in(EMAIL).await;
    server.clock.advance(3601);
    let (_, message) = server
        .err("GetUser", json!({"AccessToken": tokens["AccessToken"]}))
        .await;
    assert_eq!(message, "Access Token has expired");
    server
        .ok("InitiateAuth", refresh(&server, &tokens["RefreshToken"]))
        .await;
}

#[tokio::test]
async fn accounts_and_tokens_survive_a_restart() {
    let email = "heidi@example.com";
    let first = start_with_confirmed_user(email).await;
    let tokens = first.sign_in(email).await;
    // Same data directory and issuer (a restart on the same address), fresh UserPools.
    let issuer_base = first.base.clone();
    let second = serve(first.dir, first.clock.clone(), Some(issuer_base)).await;
    assert_eq!(second.default, first.default);
    let me = second
        .ok("GetUser", json!({"AccessToken": tokens["AccessToken"]}))
        .await;
    assert!(me["Username"].is_string());
    let again = second
        .call(
            "InitiateAuth",
            json!({"ClientId": second.default.client_id, "AuthFlow": "REFRESH_TOKEN",
              "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}}),
        )
        .await
        .unwrap();
    assert!(again["AuthenticationResult"]["AccessToken"].is_string());
    second.sign_in(email).await;
}
