//! The user pool over real HTTP, as the AWS SDKs talk to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use taskapi_userpool::{
    AccessKey, Clock, DefaultPool, PoolOpenError, PoolSettings, Tuning, UserPools,
};

/// A clock the test moves by hand.
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl ManualClock {
    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

struct Server {
    base: String,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    default: DefaultPool,
    key: AccessKey,
}

const PASSWORD: &str = "TestPass123!";

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Serves a user pool on a fresh port; `issuer_base` defaults to that port's URL.
async fn serve(
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    issuer_base: Option<String>,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let settings = PoolSettings::new(dir.path(), issuer_base.unwrap_or_else(|| base.clone()));
    let tuning = Tuning {
        clock: clock.clone(),
        ..Tuning::default()
    };
    let pools = UserPools::open_with(settings, tuning).unwrap();
    let default = pools.ensure_default_pool().unwrap();
    let key = pools.generated_credentials().0.clone();
    let router = pools.router();
    // With each client's address, as `taskapi serve` gives it: per-address limits apply.
    let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        clock,
        dir,
        http: reqwest::Client::new(),
        default,
        key,
    }
}

async fn start() -> Server {
    serve(
        tempfile::tempdir().unwrap(),
        Arc::new(ManualClock(AtomicI64::new(wall_clock()))),
        None,
    )
    .await
}

/// A fresh server whose default pool has `email` signed up and confirmed: where every test
/// of an existing user starts.
async fn start_with_confirmed_user(email: &str) -> Server {
    let server = start().await;
    server.confirmed_user(email).await;
    server
}

/// The answer to one action: the body, or the error type and message.
type Answer = Result<Value, (String, String)>;

/// The message of an answer that must be an error of type `kind`.
fn refusal(answer: Answer, kind: &str) -> String {
    let (actual, message) = answer.unwrap_err();
    assert_eq!(actual, kind, "{message}");
    message
}

impl Server {
    /// Calls an action, signed with the data directory's generated credentials as the AWS
    /// SDKs sign (public actions ignore the signature).
    async fn call(&self, action: &str, body: Value) -> Answer {
        let (url, body) = (format!("{}/", self.base), body.to_string());
        let target = format!("AWSCognitoIdentityProviderService.{action}");
        let signed = taskapi_testkit::sigv4::cognito_headers(
            (&self.key.id, &self.key.secret),
            &url,
            &target,
            body.as_bytes(),
            SystemTime::now(),
        );
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target);
        for (name, value) in signed {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let header = response
            .headers()
            .get("x-amzn-errortype")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(response.headers().contains_key("x-amzn-requestid"));
        assert_eq!(
            response.headers()["content-type"],
            "application/x-amz-json-1.1"
        );
        let body: Value = response.json().await.unwrap();
        if status == 200 {
            assert!(header.is_none());
            Ok(body)
        } else {
            assert_eq!(status, 400, "{body}");
            let kind = body["__type"].as_str().unwrap().to_owned();
            assert_eq!(header.as_deref(), Some(kind.as_str()));
            Err((kind, body["message"].as_str().unwrap().to_owned()))
        }
    }

    async fn ok(&self, action: &str, body: Value) -> Value {
        self.call(action, body).await.unwrap()
    }

    async fn err(&self, action: &str, body: Value) -> (String, String) {
        self.call(action, body).await.unwrap_err()
    }

    /// Calls an action that must fail with the error type `kind`; returns the message.
    async fn refused(&self, action: &str, body: Value, kind: &str) -> String {
        refusal(self.call(action, body).await, kind)
    }

    /// Calls an action that must fail with `error`, its type and exact message, as `err`
    /// answers; a failure names the call.
    async fn assert_refused(&self, action: &str, body: Value, error: (&str, &str)) {
        let (kind, message) = self.err(action, body.clone()).await;
        assert_eq!((kind.as_str(), message.as_str()), error, "{action} {body}");
    }

    /// The body naming a user to the default app client (public actions).
    fn client_user(&self, username: &str) -> Value {
        json!({"ClientId": self.default.client_id, "Username": username})
    }

    /// The body naming a user of the default pool (admin actions).
    fn pool_user(&self, username: &str) -> Value {
        json!({"UserPoolId": self.default.pool_id, "Username": username})
    }

    /// The newest code the outbox holds for `to`.
    fn code_for(&self, to: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("outbox.jsonl")).unwrap();
        let line = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .rfind(|l| l["to"] == to)
            .unwrap();
        line["code"].as_str().unwrap().to_owned()
    }

    async fn sign_up(&self, email: &str) -> Value {
        self.ok(
            "SignUp",
            json!({"ClientId": self.default.client_id, "Username": email, "Password": PASSWORD}),
        )
        .await
    }

    /// The body of `ConfirmSignUp` for `email` with `code`.
    fn confirmation(&self, email: &str, code: &str) -> Value {
        json!({"ClientId": self.default.client_id, "Username": email, "ConfirmationCode": code})
    }

    async fn confirmed_user(&self, email: &str) {
        self.sign_up(email).await;
        let code = self.code_for(email);
        self.ok("ConfirmSignUp", self.confirmation(email, &code))
            .await;
    }

    async fn password_auth(&self, email: &str, password: &str) -> Answer {
        self.call(
            "InitiateAuth",
            json!({
                "ClientId": self.default.client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": email, "PASSWORD": password},
            }),
        )
        .await
    }

    async fn sign_in(&self, email: &str) -> Value {
        self.password_auth(email, PASSWORD).await.unwrap()["AuthenticationResult"].clone()
    }

    async fn jwks(&self) -> jsonwebtoken::jwk::JwkSet {
        self.http
            .get(format!(
                "{}/{}/.well-known/jwks.json",
                self.base, self.default.pool_id
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn issuer(&self) -> String {
        format!("{}/{}", self.base, self.default.pool_id)
    }
}

fn decode_part(token: &str, index: usize) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn default_pool_looks_like_cognito_and_is_found_again_after_a_restart() {
    let server = start().await;
    let DefaultPool {
        pool_id,
        client_id,
        pool_name,
        client_name,
    } = server.default.clone();
    let (region, suffix) = pool_id.split_once('_').unwrap();
    assert_eq!(region, "us-east-1");
    assert_eq!(suffix.len(), 9);
    assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(client_id.len(), 26);
    assert!(
        client_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    assert_eq!(
        (pool_name.as_str(), client_name.as_str()),
        ("task-app-users", "task-app-web")
    );

    let pool = server
        .ok("DescribeUserPool", json!({"UserPoolId": pool_id}))
        .await;
    assert_eq!(pool["UserPool"]["UsernameAttributes"], json!(["email"]));
    assert_eq!(pool["UserPool"]["AutoVerifiedAttributes"], json!(["email"]));
    assert_eq!(
        pool["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"],
        10
    );
    assert!(pool["UserPool"]["CreationDate"].is_i64());
    let client = server
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool_id, "ClientId": client_id}),
        )
        .await;
    assert_eq!(
        client["UserPoolClient"]["ExplicitAuthFlows"],
        json!([
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_PASSWORD_AUTH"
        ])
    );
    assert!(client["UserPoolClient"].get("ClientSecret").is_none());

    let jwks = server.jwks().await;
    let kids: Vec<_> = jwks.keys.iter().map(|k| k.common.key_id.clone()).collect();
    let again = UserPools::open(PoolSettings::new(server.dir.path(), server.base.clone())).unwrap();
    assert_eq!(again.ensure_default_pool().unwrap(), server.default);
    let kids_again: Vec<_> = again
        .jwks(&pool_id)
        .unwrap()
        .keys
        .iter()
        .map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(kids, kids_again);
}

#[tokio::test]
async fn sign_up_confirm_and_sign_in_yields_cognito_shaped_tokens() {
    let server = start().await;
    let email = "alice@example.com";
    let signed_up = server.sign_up(email).await;
    assert_eq!(signed_up["UserConfirmed"], false);
    assert_eq!(
        signed_up["CodeDeliveryDetails"],
        json!({"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    );
    let sub = signed_up["UserSub"].as_str().unwrap().to_owned();

    // Not confirmed: refused even with the right password.
    let answer = server.password_auth(email, PASSWORD).await;
    assert_eq!(
        refusal(answer, "UserNotConfirmedException"),
        "User is not confirmed."
    );

    let code = server.code_for(email);
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm = |code: &str| server.confirmation(email, code);
    let mismatch = "CodeMismatchException";
    server
        .refused("ConfirmSignUp", confirm(wrong), mismatch)
        .await;
    server.ok("ConfirmSignUp", confirm(&code)).await;
    // The default client hides user existence: a confirmed user answers as an unknown one.
    server
        .refused("ConfirmSignUp", confirm(&code), mismatch)
        .await;

    let result = server.sign_in(email).await;
    assert_eq!(result["ExpiresIn"], 3600);
    assert_eq!(result["TokenType"], "Bearer");
    let refresh = result["RefreshToken"].as_str().unwrap();
    assert_eq!(refresh.split('.').count(), 5);
    assert!(refresh.starts_with("eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ."));

    let id_token = result["IdToken"].as_str().unwrap();
    let access_token = result["AccessToken"].as_str().unwrap();
    let id_header = decode_part(id_token, 0);
    let access_header = decode_part(access_token, 0);
    assert_eq!(id_header.as_object().unwrap().len(), 2, "{id_header}");
    assert_eq!(id_header["alg"], "RS256");
    assert_ne!(id_header["kid"], access_header["kid"]);

    // Verify both against the served JWKS, as the API's verifier does.
    let jwks = server.jwks().await;
    assert_eq!(jwks.keys.len(), 2);
    let key_for = |header: &Value| {
        DecodingKey::from_jwk(jwks.find(header["kid"].as_str().unwrap()).unwrap()).unwrap()
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[server.issuer()]);
    validation.set_audience(&[&server.default.client_id]);
    let id = jsonwebtoken::decode::<Value>(id_token, &key_for(&id_header), &validation)
        .unwrap()
        .claims;
    assert_eq!(id["sub"], sub.as_str());
    assert_eq!(id["cognito:username"], sub.as_str());
    assert_eq!(id["email"], email);
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

    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[server.issuer()]);
    validation.validate_aud = false;
    let access = jsonwebtoken::decode::<Value>(access_token, &key_for(&access_header), &validation)
        .unwrap()
        .claims;
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], server.default.client_id.as_str());
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["username"], sub.as_str());
    assert_eq!(access["origin_jti"], id["origin_jti"]);
    assert_eq!(access["event_id"], id["event_id"]);
    assert!(access.get("aud").is_none());

    // The ID key does not verify access tokens: the keys really are separate.
    assert!(
        jsonwebtoken::decode::<Value>(access_token, &key_for(&id_header), &validation).is_err()
    );

    let me = server
        .ok("GetUser", json!({"AccessToken": access_token}))
        .await;
    assert_eq!(me["Username"], sub.as_str());
    server
        .assert_refused(
            "GetUser",
            json!({"AccessToken": id_token}),
            ("NotAuthorizedException", "Invalid Access Token"),
        )
        .await;
}

#[tokio::test]
async fn errors_use_cognitos_types_and_messages() {
    let server = start().await;
    server.sign_up("bob@example.com").await;
    let sign_up = |username: &str, password: &str| -> Value {
        json!({"ClientId": server.default.client_id, "Username": username, "Password": password})
    };
    server
        .refused(
            "SignUp",
            sign_up("BOB@example.com", PASSWORD),
            "UsernameExistsException",
        )
        .await;
    server
        .refused(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH"}),
            "InvalidParameterException",
        )
        .await;
    for (action, body, error) in [
        (
            "SignUp",
            sign_up("weak@example.com", "alllowercase123"),
            (
                "InvalidPasswordException",
                "Password did not conform with policy: Password must have uppercase characters",
            ),
        ),
        (
            "SignUp",
            sign_up("not-an-email", PASSWORD),
            ("InvalidParameterException", "Username should be an email."),
        ),
        (
            "DescribeUserPool",
            json!({"UserPoolId": "us-east-1_nothere00"}),
            (
                "ResourceNotFoundException",
                "User pool us-east-1_nothere00 does not exist.",
            ),
        ),
    ] {
        server.assert_refused(action, body, error).await;
    }

    let message = server
        .refused(
            "AdminLinkProviderForUser",
            json!({}),
            "UnknownOperationException",
        )
        .await;
    assert!(message.contains("AdminLinkProviderForUser"), "{message}");

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

    // Unknown users look like wrong passwords when the client hides existence...
    let answer = server.password_auth("nobody@example.com", PASSWORD).await;
    assert_eq!(
        refusal(answer, "NotAuthorizedException"),
        "Incorrect username or password."
    );
    let hidden = server
        .ok("ForgotPassword", server.client_user("nobody@example.com"))
        .await;
    assert_eq!(hidden["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");

    // ...and are reported by a LEGACY client, which also lacks USER_PASSWORD_AUTH here.
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
    for (action, body, error) in [
        (
            "InitiateAuth",
            json!({"ClientId": legacy_id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "bob@example.com", "PASSWORD": PASSWORD}}),
            (
                "InvalidParameterException",
                "USER_PASSWORD_AUTH flow not enabled for this client",
            ),
        ),
        (
            "ForgotPassword",
            json!({"ClientId": legacy_id, "Username": "nobody@example.com"}),
            ("UserNotFoundException", "User does not exist."),
        ),
    ] {
        server.assert_refused(action, body, error).await;
    }
}

#[tokio::test]
async fn codes_expire_and_allow_a_bounded_number_of_attempts() {
    let server = start().await;
    let email = "carol@example.com";
    server.sign_up(email).await;
    let code = server.code_for(email);
    server.clock.advance(24 * 3600 + 1);
    let confirm = |code: String| server.confirmation(email, &code);
    // Asks for a new code, as the "send again" link does, and reads it from the outbox.
    let resend = async || {
        server
            .ok("ResendConfirmationCode", server.client_user(email))
            .await;
        server.code_for(email)
    };
    server
        .assert_refused(
            "ConfirmSignUp",
            confirm(code),
            (
                "ExpiredCodeException",
                "Invalid code provided, please request a code again.",
            ),
        )
        .await;

    let code = resend().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        server
            .refused(
                "ConfirmSignUp",
                confirm(wrong.into()),
                "CodeMismatchException",
            )
            .await;
    }
    server
        .assert_refused(
            "ConfirmSignUp",
            confirm(code),
            (
                "LimitExceededException",
                "Attempt limit exceeded, please try after some time.",
            ),
        )
        .await;

    // A new code does not renew the hour's wrong guesses; the next hour does.
    let code = resend().await;
    server
        .refused("ConfirmSignUp", confirm(code), "LimitExceededException")
        .await;
    server.clock.advance(3600);
    server
        .ok("ConfirmSignUp", confirm(server.code_for(email)))
        .await;
}

#[tokio::test]
async fn wrong_passwords_are_throttled_and_disabled_users_refused() {
    let email = "dave@example.com";
    let server = start_with_confirmed_user(email).await;
    for _ in 0..4 {
        let (_, message) = server
            .password_auth(email, "WrongPass123")
            .await
            .unwrap_err();
        assert_eq!(message, "Incorrect username or password.");
    }
    let answer = server.password_auth(email, "WrongPass123").await;
    assert_eq!(
        refusal(answer, "NotAuthorizedException"),
        "Password attempts exceeded"
    );
    let (_, message) = server.password_auth(email, PASSWORD).await.unwrap_err();
    assert_eq!(message, "Password attempts exceeded");
    server.clock.advance(2);
    let tokens = server.sign_in(email).await;

    let pool = server.pool_user(email);
    server.ok("AdminDisableUser", pool.clone()).await;
    let answer = server.password_auth(email, PASSWORD).await;
    assert_eq!(
        refusal(answer, "NotAuthorizedException"),
        "User is disabled."
    );
    let (_, message) = server
        .err("GetUser", json!({"AccessToken": tokens["AccessToken"]}))
        .await;
    assert_eq!(message, "Access Token has been revoked");
    let listed = server
        .ok(
            "ListUsers",
            json!({"UserPoolId": server.default.pool_id, "Filter": format!("email = \"{email}\"")}),
        )
        .await;
    assert_eq!(listed["Users"][0]["Enabled"], false);
    server.ok("AdminEnableUser", pool).await;
    server.sign_in(email).await;
}

#[tokio::test]
async fn refresh_sign_out_and_revocation() {
    let email = "erin@example.com";
    let server = start_with_confirmed_user(email).await;
    let client_id = server.default.client_id.clone();
    let first = server.sign_in(email).await;
    let refresh = |token: &Value| {
        json!({"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": token, "DEVICE_KEY": null}})
    };
    let refreshed = server
        .ok("InitiateAuth", refresh(&first["RefreshToken"]))
        .await;
    let refreshed = &refreshed["AuthenticationResult"];
    assert!(refreshed.get("RefreshToken").is_none());
    assert_eq!(
        decode_part(refreshed["IdToken"].as_str().unwrap(), 1)["origin_jti"],
        decode_part(first["IdToken"].as_str().unwrap(), 1)["origin_jti"]
    );

    // RevokeToken ends one session only.
    let second = server.sign_in(email).await;
    server
        .ok(
            "RevokeToken",
            json!({"ClientId": client_id, "Token": second["RefreshToken"]}),
        )
        .await;
    let (_, message) = server
        .err("InitiateAuth", refresh(&second["RefreshToken"]))
        .await;
    assert_eq!(message, "Refresh Token has been revoked");
    server
        .ok("InitiateAuth", refresh(&first["RefreshToken"]))
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
            refresh(&first["RefreshToken"]),
            ("NotAuthorizedException", "Refresh Token has been revoked"),
        )
        .await;
    let (_, message) = server
        .err("GetUser", json!({"AccessToken": refreshed["AccessToken"]}))
        .await;
    assert_eq!(message, "Access Token has been revoked");

    let (_, message) = server.err("InitiateAuth", refresh(&json!("garbage"))).await;
    assert_eq!(message, "Invalid Refresh Token.");
    let third = server.sign_in(email).await;
    server.clock.advance(3601);
    let (_, message) = server
        .err("GetUser", json!({"AccessToken": third["AccessToken"]}))
        .await;
    assert_eq!(message, "Access Token has expired");
    server
        .ok("InitiateAuth", refresh(&third["RefreshToken"]))
        .await;
}

#[tokio::test]
async fn admin_created_users_must_choose_a_password_and_groups_reach_the_tokens() {
    let server = start().await;
    let pool_id = server.default.pool_id.clone();
    let client_id = server.default.client_id.clone();
    let email = "frank@example.com";
    let created = server
        .ok(
            "AdminCreateUser",
            json!({"UserPoolId": pool_id, "Username": email, "TemporaryPassword": "TempPass1234",
                   "UserAttributes": [{"Name": "email_verified", "Value": "true"}]}),
        )
        .await;
    assert_eq!(created["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(server.code_for(email), "TempPass1234");

    let challenge = server.password_auth(email, "TempPass1234").await.unwrap();
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let params = &challenge["ChallengeParameters"];
    assert_eq!(params["requiredAttributes"], "[]");
    let attributes: Value =
        serde_json::from_str(params["userAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["email"], email);
    let session = challenge["Session"].as_str().unwrap();
    assert!(session.len() >= 20);

    let respond = |password: &str| {
        json!({"ClientId": client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": email, "NEW_PASSWORD": password}})
    };
    server
        .refused(
            "RespondToAuthChallenge",
            respond("weak"),
            "InvalidPasswordException",
        )
        .await;
    // A session answers one challenge, right or wrong.
    let (_, message) = server
        .err("RespondToAuthChallenge", respond(PASSWORD))
        .await;
    assert_eq!(message, "Invalid session for the user, session is expired.");
    let challenge = server.password_auth(email, "TempPass1234").await.unwrap();
    let session = challenge["Session"].as_str().unwrap();
    let done = server
        .ok(
            "RespondToAuthChallenge",
            json!({"ClientId": client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                   "ChallengeResponses": {"USERNAME": email, "NEW_PASSWORD": PASSWORD}}),
        )
        .await;
    assert!(done["AuthenticationResult"]["IdToken"].is_string());

    // `admins` exists from the start, as in template.yaml.
    server
        .assert_refused(
            "CreateGroup",
            json!({"UserPoolId": pool_id, "GroupName": "admins"}),
            (
                "GroupExistsException",
                "A group with the name already exists.",
            ),
        )
        .await;
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
                json!({"UserPoolId": pool_id, "Username": email, "GroupName": group}),
            )
            .await;
    }
    server
        .refused(
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool_id, "Username": email, "GroupName": "nope"}),
            "ResourceNotFoundException",
        )
        .await;
    let listed = server
        .ok("AdminListGroupsForUser", server.pool_user(email))
        .await;
    assert_eq!(listed["Groups"].as_array().unwrap().len(), 2);

    let tokens = server.sign_in(email).await;
    let id = decode_part(tokens["IdToken"].as_str().unwrap(), 1);
    assert_eq!(id["cognito:groups"], json!(["editors", "admins"]));
    let access = decode_part(tokens["AccessToken"].as_str().unwrap(), 1);
    assert_eq!(access["cognito:groups"], json!(["editors", "admins"]));

    server
        .ok(
            "AdminRemoveUserFromGroup",
            json!({"UserPoolId": pool_id, "Username": email, "GroupName": "admins"}),
        )
        .await;
    let tokens = server.sign_in(email).await;
    let id = decode_part(tokens["IdToken"].as_str().unwrap(), 1);
    assert_eq!(id["cognito:groups"], json!(["editors"]));

    let user = server.ok("AdminGetUser", server.pool_user(email)).await;
    assert_eq!(user["UserStatus"], "CONFIRMED");
    server.ok("AdminDeleteUser", server.pool_user(email)).await;
    server
        .refused(
            "AdminGetUser",
            server.pool_user(email),
            "UserNotFoundException",
        )
        .await;
}

#[tokio::test]
async fn forgot_and_change_password() {
    let email = "grace@example.com";
    let server = start_with_confirmed_user(email).await;
    let client_id = server.default.client_id.clone();
    // ConfirmForgotPassword's body: the emailed code and the new password.
    let reset = |code: &str, password: &str| json!({"ClientId": client_id, "Username": email, "ConfirmationCode": code, "Password": password});
    server.ok("ForgotPassword", server.client_user(email)).await;
    let code = server.code_for(email);
    let weak = reset(&code, "weakpassword");
    server
        .refused("ConfirmForgotPassword", weak, "InvalidPasswordException")
        .await;
    server
        .ok("ConfirmForgotPassword", reset(&code, "NewPass4567"))
        .await;
    assert!(server.password_auth(email, PASSWORD).await.is_err());
    let tokens = server.password_auth(email, "NewPass4567").await.unwrap();
    let access = tokens["AuthenticationResult"]["AccessToken"].clone();

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
            json!({"AccessToken": access, "PreviousPassword": "NewPass4567", "ProposedPassword": "Another789Pw",
                   "ClientMetadata": null}),
        )
        .await;
    server.password_auth(email, "Another789Pw").await.unwrap();

    // Forgot-password codes live one hour.
    server.ok("ForgotPassword", server.client_user(email)).await;
    let code = server.code_for(email);
    server.clock.advance(3601);
    let late = reset(&code, "NewPass4567");
    server
        .refused("ConfirmForgotPassword", late, "ExpiredCodeException")
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

#[tokio::test]
async fn unreadable_state_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("userpool.sqlite3");
    std::fs::write(
        &path,
        b"this is not a database, and it is not ours to delete",
    )
    .unwrap();
    let result = UserPools::open(PoolSettings::new(dir.path(), "http://127.0.0.1:1"));
    let error = result.err().expect("garbage must not open");
    assert!(matches!(error, PoolOpenError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("userpool.sqlite3"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"this is not a database, and it is not ours to delete"
    );
}

#[tokio::test]
async fn jwks_and_router_composition() {
    // The discovery document is the hosted UI's (crates/hosted-ui), which serves the
    // endpoints it lists.
    let server = start().await;
    let jwks: Value = server
        .http
        .get(format!("{}/.well-known/jwks.json", server.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    let missing = server
        .http
        .get(format!(
            "{}/us-east-1_nothere00/.well-known/jwks.json",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The lead merges this router with the API's; their routes must not collide.
    let pools = UserPools::open(PoolSettings::new(server.dir.path(), server.base.clone())).unwrap();
    let api = axum::Router::new()
        .route("/tasks", axum::routing::get(|| async { "tasks" }))
        .route("/tasks/{task_id}", axum::routing::get(|| async { "task" }))
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    let _merged = api.merge(pools.router());
}

/// The USER_SRP_AUTH state behind a SECRET_BLOCK: single use, bound to the client, and
/// short-lived (the full exchange is tested with real clients in tests/python and
/// tests/node; the arithmetic in the crate's unit tests).
#[tokio::test]
async fn srp_secret_blocks_are_single_use_bound_and_expire() {
    let email = "srp@example.com";
    let server = start_with_confirmed_user(email).await;
    let client_id = &server.default.client_id;
    let a_hex = "2".repeat(700);
    let start_srp = || {
        server.ok(
            "InitiateAuth",
            json!({"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": email, "SRP_A": a_hex, "DEVICE_KEY": null}}),
        )
    };
    let challenge = start_srp().await;
    assert_eq!(challenge["ChallengeName"], "PASSWORD_VERIFIER");
    let params = &challenge["ChallengeParameters"];
    let user_id = params["USER_ID_FOR_SRP"].as_str().unwrap();
    assert_ne!(user_id, email, "the internal username, not the alias");
    assert_eq!(params["USERNAME"], user_id);
    assert!(!params["SALT"].as_str().unwrap().starts_with('0'));
    let answer = |block: &str| {
        json!({"ClientId": client_id, "ChallengeName": "PASSWORD_VERIFIER",
               "ChallengeResponses": {"USERNAME": user_id, "PASSWORD_CLAIM_SECRET_BLOCK": block,
                   "TIMESTAMP": "Wed Nov 25 13:05:09 UTC 2026",
                   "PASSWORD_CLAIM_SIGNATURE": "AAAA"}})
    };
    // A wrong proof is refused, like a wrong password, and spends the block either way.
    let refuse = async |block: &str| {
        let kind = "NotAuthorizedException";
        server
            .refused("RespondToAuthChallenge", answer(block), kind)
            .await
    };
    let block = params["SECRET_BLOCK"].as_str().unwrap();
    let message = refuse(block).await;
    assert_eq!(message, "Incorrect username or password.");
    let message = refuse(block).await;
    assert!(message.contains("session is expired"), "{message}");

    let challenge = start_srp().await;
    let block = challenge["ChallengeParameters"]["SECRET_BLOCK"]
        .as_str()
        .unwrap();
    server.clock.advance(181);
    let message = refuse(block).await;
    assert!(message.contains("session is expired"), "{message}");

    server
        .refused(
            "InitiateAuth",
            json!({"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": email, "SRP_A": "0"}}),
            "InvalidParameterException",
        )
        .await;
    // An unknown user gets a challenge too (the client hides user existence), which fails
    // exactly like a wrong password.
    let decoy = server
        .ok(
            "InitiateAuth",
            json!({"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH",
                   "AuthParameters": {"USERNAME": "nobody@example.com", "SRP_A": a_hex}}),
        )
        .await;
    let block = decoy["ChallengeParameters"]["SECRET_BLOCK"]
        .as_str()
        .unwrap();
    let mut body = answer(block);
    body["ChallengeResponses"]["USERNAME"] = json!("nobody@example.com");
    let (_, message) = server.err("RespondToAuthChallenge", body).await;
    assert_eq!(message, "Incorrect username or password.");
}

/// Browsers call the pool from any origin with the headers their library chooses: the
/// preflight echoes them, and scripts may read the error and request-id headers.
#[tokio::test]
async fn browser_preflight_and_exposed_error_headers() {
    let server = start().await;
    let (url, asked) = (
        format!("{}/", server.base),
        "cache-control,content-type,x-amz-target,x-amz-user-agent",
    );
    let preflight = taskapi_testkit::preflight(&url, "POST", asked).await;
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(
        headers["access-control-allow-headers"],
        "cache-control,content-type,x-amz-target,x-amz-user-agent"
    );
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let failed = server
        .http
        .post(format!("{}/", server.base))
        .header("origin", "http://localhost:5173")
        .header("x-amz-target", "AWSCognitoIdentityProviderService.GetUser")
        .body(r#"{"AccessToken":"nope"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 400);
    let exposed = failed.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "x-amzn-errortype",
        "x-amzn-errormessage",
        "x-amzn-requestid",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
}
