//! Administrator-created users (a temporary password, then a new one) and groups, which
//! reach the tokens.

use super::*;

const EMAIL: &str = "frank@example.com";
const TEMPORARY: &str = "TempPass1234";

/// A server whose default pool has `EMAIL`, created by an administrator.
async fn with_created_user() -> (Server, Value) {
    let server = start().await;
    let created = server
        .ok(
            "AdminCreateUser",
            json!({"UserPoolId": server.default.pool_id, "Username": EMAIL,
                   "TemporaryPassword": TEMPORARY,
                   "UserAttributes": [{"Name": "email_verified", "Value": "true"}]}),
        )
        .await;
    (server, created)
}

fn new_password(server: &Server, session: &str, password: &str) -> Value {
    json!({"ClientId": server.default.client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED",
           "Session": session, "ChallengeResponses": {"USERNAME": EMAIL, "NEW_PASSWORD": password}})
}

/// A server whose default pool has `EMAIL`, created by an administrator and signed in
/// once with a password of their own.
async fn with_admin_created_user() -> Server {
    let (server, _) = with_created_user().await;
    let challenge = server.password_auth(EMAIL, TEMPORARY).await.unwrap();
    let session = challenge["Session"].as_str().unwrap();
    server
        .ok(
            "RespondToAuthChallenge",
            new_password(&server, session, PASSWORD),
        )
        .await;
    server
}

#[tokio::test]
async fn a_created_user_must_change_the_temporary_password_that_was_mailed() {
    let (server, created) = with_created_user().await;
    assert_eq!(created["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(server.code_for(EMAIL), TEMPORARY);
}

#[tokio::test]
async fn the_temporary_password_opens_a_new_password_challenge() {
    let (server, _) = with_created_user().await;
    let challenge = server.password_auth(EMAIL, TEMPORARY).await.unwrap();
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let params = &challenge["ChallengeParameters"];
    assert_eq!(params["requiredAttributes"], "[]");
    let attributes: Value =
        serde_json::from_str(params["userAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["email"], EMAIL);
    assert!(challenge["Session"].as_str().unwrap().len() >= 20);
}

/// A session answers one challenge, right or wrong.
#[tokio::test]
async fn a_weak_new_password_is_refused_and_spends_the_session() {
    let (server, _) = with_created_user().await;
    let challenge = server.password_auth(EMAIL, TEMPORARY).await.unwrap();
    let session = challenge["Session"].as_str().unwrap();
    server
        .refused(
            "RespondToAuthChallenge",
            new_password(&server, session, "weak"),
            "InvalidPasswordException",
        )
        .await;
    let (_, message) = server
        .err(
            "RespondToAuthChallenge",
            new_password(&server, session, PASSWORD),
        )
        .await;
    assert_eq!(message, "Invalid session for the user, session is expired.");
}

#[tokio::test]
async fn a_new_password_signs_in_and_confirms_the_user() {
    let (server, _) = with_created_user().await;
    let challenge = server.password_auth(EMAIL, TEMPORARY).await.unwrap();
    let session = challenge["Session"].as_str().unwrap();
    let done = server
        .ok(
            "RespondToAuthChallenge",
            new_password(&server, session, PASSWORD),
        )
        .await;
    assert!(done["AuthenticationResult"]["IdToken"].is_string());
    let user = server.ok("AdminGetUser", server.pool_user(EMAIL)).await;
    assert_eq!(user["UserStatus"], "CONFIRMED");
}

/// `admins` exists from the start, as in template.yaml.
#[tokio::test]
async fn the_admins_group_exists_from_the_start() {
    let server = start().await;
    server
        .assert_refused(
            "CreateGroup",
            json!({"UserPoolId": server.default.pool_id, "GroupName": "admins"}),
            (
                "GroupExistsException",
                "A group with the name already exists.",
            ),
        )
        .await;
}

#[tokio::test]
async fn a_user_cannot_join_a_group_that_does_not_exist() {
    let server = with_admin_created_user().await;
    server
        .refused(
            "AdminAddUserToGroup",
            json!({"UserPoolId": server.default.pool_id, "Username": EMAIL, "GroupName": "nope"}),
            "ResourceNotFoundException",
        )
        .await;
}

/// `EMAIL` in `editors` (created, precedence 5) and `admins`.
async fn in_two_groups(server: &Server) {
    let pool_id = &server.default.pool_id;
    let group = server
        .ok(
            "CreateGroup",
            json!({"UserPoolId": pool_id, "GroupName": "editors", "Precedence": 5}),
        )
        .await;
    assert_eq!(group["Group"]["Precedence"], 5);
    for group in ["editors", "admins"] {
        server
            .ok(
                "AdminAddUserToGroup",
                json!({"UserPoolId": pool_id, "Username": EMAIL, "GroupName": group}),
            )
            .await;
    }
}

#[tokio::test]
async fn a_users_groups_are_listed_and_reach_both_tokens() {
    let server = with_admin_created_user().await;
    in_two_groups(&server).await;
    let listed = server
        .ok("AdminListGroupsForUser", server.pool_user(EMAIL))
        .await;
    assert_eq!(listed["Groups"].as_array().unwrap().len(), 2);
    let tokens = server.sign_in(EMAIL).await;
    let id = decode_part(tokens["IdToken"].as_str().unwrap(), 1);
    assert_eq!(id["cognito:groups"], json!(["editors", "admins"]));
    let access = decode_part(tokens["AccessToken"].as_str().unwrap(), 1);
    assert_eq!(access["cognito:groups"], json!(["editors", "admins"]));
}

#[tokio::test]
async fn a_group_left_is_gone_from_the_next_tokens() {
    let server = with_admin_created_user().await;
    in_two_groups(&server).await;
    server
        .ok(
            "AdminRemoveUserFromGroup",
            json!({"UserPoolId": server.default.pool_id, "Username": EMAIL, "GroupName": "admins"}),
        )
        .await;
    let tokens = server.sign_in(EMAIL).await;
    let id = decode_part(tokens["IdToken"].as_str().unwrap(), 1);
    assert_eq!(id["cognito:groups"], json!(["editors"]));
}

#[tokio::test]
async fn a_deleted_user_is_not_found() {
    let server = with_admin_created_user().await;
    server.ok("AdminDeleteUser", server.pool_user(EMAIL)).await;
    server
        .refused(
            "AdminGetUser",
            server.pool_user(EMAIL),
            "UserNotFoundException",
        )
        .await;
}
