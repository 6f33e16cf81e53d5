//! Refusals carry Cognito's exception types and messages, which client code matches on.

use super::*;

fn sign_up_body(server: &Server, username: &str, password: &str) -> Value {
    json!({"ClientId": server.default.client_id, "Username": username, "Password": password})
}

#[tokio::test]
async fn a_taken_username_is_taken_whatever_its_case() {
    let server = start().await;
    server.sign_up("bob@example.com").await;
    server
        .refused(
            "SignUp",
            sign_up_body(&server, "BOB@example.com", PASSWORD),
            "UsernameExistsException",
        )
        .await;
}

#[tokio::test]
async fn a_missing_member_is_an_invalid_parameter() {
    let server = start().await;
    server
        .refused(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH"}),
            "InvalidParameterException",
        )
        .await;
}

#[tokio::test]
async fn a_weak_password_is_refused_with_the_rule_it_breaks() {
    let server = start().await;
    server
        .assert_refused(
            "SignUp",
            sign_up_body(&server, "weak@example.com", "alllowercase123"),
            (
                "InvalidPasswordException",
                "Password did not conform with policy: Password must have uppercase characters",
            ),
        )
        .await;
}

#[tokio::test]
async fn a_username_that_is_not_an_email_is_refused_where_emails_sign_in() {
    let server = start().await;
    server
        .assert_refused(
            "SignUp",
            sign_up_body(&server, "not-an-email", PASSWORD),
            ("InvalidParameterException", "Username should be an email."),
        )
        .await;
}

#[tokio::test]
async fn an_unknown_pool_is_not_found() {
    let server = start().await;
    server
        .assert_refused(
            "DescribeUserPool",
            json!({"UserPoolId": "us-east-1_nothere00"}),
            (
                "ResourceNotFoundException",
                "User pool us-east-1_nothere00 does not exist.",
            ),
        )
        .await;
}

#[tokio::test]
async fn an_unknown_action_is_named_in_its_refusal() {
    let server = start().await;
    let message = server
        .refused(
            "AdminLinkProviderForUser",
            json!({}),
            "UnknownOperationException",
        )
        .await;
    assert!(message.contains("AdminLinkProviderForUser"), "{message}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_serialization_error() {
    let server = start().await;
    let raw = server
        .http
        .post(format!("{}/", server.base))
        .header("x-amz-target", "AWSCognitoIdentityProviderService.SignUp")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["x-amzn-errortype"], "SerializationException");
}

/// The default client hides user existence: an unknown user looks like a wrong password,
/// and a code request for one looks sent.
#[tokio::test]
async fn unknown_users_look_like_known_ones_where_the_client_hides_existence() {
    let server = start().await;
    let answer = server.password_auth("nobody@example.com", PASSWORD).await;
    assert_eq!(
        refusal(answer, "NotAuthorizedException"),
        "Incorrect username or password."
    );
    let hidden = server
        .ok("ForgotPassword", server.client_user("nobody@example.com"))
        .await;
    assert_eq!(hidden["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
}

/// A client created without `PreventUserExistenceErrors` (LEGACY) reports unknown users,
/// and refuses a flow it was not given.
#[tokio::test]
async fn a_legacy_client_reports_unknown_users_and_refuses_flows_it_lacks() {
    let server = start_with_confirmed_user("bob@example.com").await;
    let legacy = server
        .ok(
            "CreateUserPoolClient",
            json!({"UserPoolId": server.default.pool_id, "ClientName": "legacy",
                   "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
    let legacy_id = legacy["UserPoolClient"]["ClientId"].as_str().unwrap();
    assert_eq!(
        legacy["UserPoolClient"]["PreventUserExistenceErrors"],
        "LEGACY"
    );
    server
        .assert_refused(
            "InitiateAuth",
            json!({"ClientId": legacy_id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "bob@example.com", "PASSWORD": PASSWORD}}),
            (
                "InvalidParameterException",
                "USER_PASSWORD_AUTH flow not enabled for this client",
            ),
        )
        .await;
    server
        .assert_refused(
            "ForgotPassword",
            json!({"ClientId": legacy_id, "Username": "nobody@example.com"}),
            ("UserNotFoundException", "User does not exist."),
        )
        .await;
}
