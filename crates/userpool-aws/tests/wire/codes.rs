//! Confirmation codes: how long they live and how many wrong guesses they allow.

use super::*;

const EMAIL: &str = "carol@example.com";

/// A server with `EMAIL` signed up and not yet confirmed.
async fn signed_up() -> Server {
    let server = start().await;
    server.sign_up(EMAIL).await;
    server
}

/// Asks for a new code, as the "send again" link does, and reads it from the outbox.
async fn resend(server: &Server) -> String {
    server
        .ok("ResendConfirmationCode", server.client_user(EMAIL))
        .await;
    server.code_for(EMAIL)
}

/// Five wrong guesses at the current code.
async fn guess_wrong_five_times(server: &Server, code: &str) {
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        server
            .refused(
                "ConfirmSignUp",
                server.confirmation(EMAIL, wrong),
                "CodeMismatchException",
            )
            .await;
    }
}

#[tokio::test]
async fn a_sign_up_code_expires_after_a_day() {
    let server = signed_up().await;
    let code = server.code_for(EMAIL);
    server.clock.advance(24 * 3600 + 1);
    server
        .assert_refused(
            "ConfirmSignUp",
            server.confirmation(EMAIL, &code),
            (
                "ExpiredCodeException",
                "Invalid code provided, please request a code again.",
            ),
        )
        .await;
    let code = resend(&server).await;
    server
        .ok("ConfirmSignUp", server.confirmation(EMAIL, &code))
        .await;
}

#[tokio::test]
async fn after_five_wrong_guesses_even_the_right_code_is_refused() {
    let server = signed_up().await;
    let code = server.code_for(EMAIL);
    guess_wrong_five_times(&server, &code).await;
    server
        .assert_refused(
            "ConfirmSignUp",
            server.confirmation(EMAIL, &code),
            (
                "LimitExceededException",
                "Attempt limit exceeded, please try after some time.",
            ),
        )
        .await;
}

#[tokio::test]
async fn a_new_code_does_not_renew_the_hours_wrong_guesses() {
    let server = signed_up().await;
    guess_wrong_five_times(&server, &server.code_for(EMAIL)).await;
    let code = resend(&server).await;
    server
        .refused(
            "ConfirmSignUp",
            server.confirmation(EMAIL, &code),
            "LimitExceededException",
        )
        .await;
}

#[tokio::test]
async fn the_next_hour_renews_the_wrong_guesses() {
    let server = signed_up().await;
    guess_wrong_five_times(&server, &server.code_for(EMAIL)).await;
    // The guessed-at code is dead for good: a new one is needed.
    let code = resend(&server).await;
    server.clock.advance(3600);
    server
        .ok("ConfirmSignUp", server.confirmation(EMAIL, &code))
        .await;
}
