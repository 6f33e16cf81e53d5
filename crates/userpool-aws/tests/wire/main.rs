//! The user pool over real HTTP, as the AWS SDKs talk to it: one behaviour per test, each
//! on a server of its own. The harness is here; the behaviours are grouped by topic.

mod admin;
mod codes;
mod errors;
mod lockout;
mod passwords;
mod pools;
mod sessions;
mod sign_up;
mod srp;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use taskapi_userpool::{Clock, DefaultPool, PoolOpenError, PoolSettings, Tuning, UserPools};
use taskapi_userpool_aws::{AccessKey, AwsDoor};

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
    let door = AwsDoor::open(pools, Vec::new()).unwrap();
    let key = door.generated_credentials().0.clone();
    let router = taskapi_userpool_aws::router(door);
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
