//! Wrong passwords lock sign-in for a while; a disabled user cannot sign in or use tokens.

use super::*;

const EMAIL: &str = "dave@example.com";

/// Four wrong passwords are told as such; the fifth locks sign-in.
async fn lock_out(server: &Server) {
    for _ in 0..4 {
        let (_, message) = server
            .password_auth(EMAIL, "WrongPass123")
            .await
            .unwrap_err();
        assert_eq!(message, "Incorrect username or password.");
    }
    let answer = server.password_auth(EMAIL, "WrongPass123").await;
    assert_eq!(
        refusal(answer, "NotAuthorizedException"),
        "Password attempts exceeded"
    );
}

#[tokio::test]
async fn a_locked_user_is_refused_even_the_right_password() {
    let server = start_with_confirmed_user(EMAIL).await;
    lock_out(&server).await;
    let (_, message) = server.password_auth(EMAIL, PASSWORD).await.unwrap_err();
    assert_eq!(message, "Password attempts exceeded");
}

#[tokio::test]
async fn the_first_lockout_lasts_a_second() {
    let server = start_with_confirmed_user(EMAIL).await;
    lock_out(&server).await;
    server.clock.advance(2);
    server.sign_in(EMAIL).await;
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_tokens_are_revoked() {
    let server = start_with_confirmed_user(EMAIL).await;
    let tokens = server.sign_in(EMAIL).await;
    server.ok("AdminDisableUser", server.pool_user(EMAIL)).await;
    let answer = server.password_auth(EMAIL, PASSWORD).await;
    assert_eq!(
        refusal(answer, "NotAuthorizedException"),
        "User is disabled."
    );
    let (_, message) = server
        .err("GetUser", json!({"AccessToken": tokens["AccessToken"]}))
        .await;
    assert_eq!(message, "Access Token has been revoked");
}

#[tokio::test]
async fn a_disabled_user_is_listed_as_such_and_signs_in_again_once_enabled() {
    let server = start_with_confirmed_user(EMAIL).await;
    server.ok("AdminDisableUser", server.pool_user(EMAIL)).await;
    let listed = server
        .ok(
            "ListUsers",
            json!({"UserPoolId": server.default.pool_id, "Filter": format!("email = \"{EMAIL}\"")}),
        )
        .await;
    assert_eq!(listed["Users"][0]["Enabled"], false);
    server.ok("AdminEnableUser", server.pool_user(EMAIL)).await;
    server.sign_in(EMAIL).await;
}
