//! A forgotten password reset with an e-mailed code, and a password changed by its owner.

use super::*;

const EMAIL: &str = "grace@example.com";

/// ConfirmForgotPassword's body: the e-mailed code and the new password.
fn reset(server: &Server, code: &str, password: &str) -> Value {
    json!({"ClientId": server.default.client_id, "Username": EMAIL,
           "ConfirmationCode": code, "Password": password})
}

#[tokio::test]
async fn a_reset_refuses_a_weak_password_and_then_takes_a_good_one() {
    let server = start_with_confirmed_user(EMAIL).await;
    server.ok("ForgotPassword", server.client_user(EMAIL)).await;
    let code = server.code_for(EMAIL);
    server
        .refused(
            "ConfirmForgotPassword",
            reset(&server, &code, "weakpassword"),
            "InvalidPasswordException",
        )
        .await;
    server
        .ok(
            "ConfirmForgotPassword",
            reset(&server, &code, "NewPass4567"),
        )
        .await;
    assert!(server.password_auth(EMAIL, PASSWORD).await.is_err());
    server.password_auth(EMAIL, "NewPass4567").await.unwrap();
}

#[tokio::test]
async fn a_password_change_needs_the_previous_password() {
    let server = start_with_confirmed_user(EMAIL).await;
    let access = server.sign_in(EMAIL).await["AccessToken"].clone();
    let (_, message) = server
        .err(
            "ChangePassword",
            json!({"AccessToken": access, "PreviousPassword": "Wrong12345A", "ProposedPassword": "Another789Pw"}),
        )
        .await;
    assert_eq!(message, "Incorrect username or password.");
    server
        .ok(
            "ChangePassword",
            json!({"AccessToken": access, "PreviousPassword": PASSWORD, "ProposedPassword": "Another789Pw",
                   "ClientMetadata": null}),
        )
        .await;
    server.password_auth(EMAIL, "Another789Pw").await.unwrap();
}

#[tokio::test]
async fn a_reset_code_lives_one_hour() {
    let server = start_with_confirmed_user(EMAIL).await;
    server.ok("ForgotPassword", server.client_user(EMAIL)).await;
    let code = server.code_for(EMAIL);
    server.clock.advance(3601);
    server
        .refused(
            "ConfirmForgotPassword",
            reset(&server, &code, "NewPass4567"),
            "ExpiredCodeException",
        )
        .await;
}
