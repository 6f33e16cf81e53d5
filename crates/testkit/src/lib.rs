//! A stand-in Cognito user pool for tests: it serves the JWKS of a test key at
//! `<issuer>/.well-known/jwks.json` on 127.0.0.1 and mints ID tokens signed with it, and
//! forged ones the API must refuse. The keys live in `tests/fixtures/jwt` and are trusted
//! nowhere else.
//!
//! Also: [`ChildServer`] (a binary of ours as a child process), [`runtime_api`] (the Lambda
//! Runtime API emulator), [`apigw`] (API Gateway events and proxy responses) and
//! [`emulator`] (dynalite and moto server), shared by the tests and the benchmarks.

pub mod apigw;
pub mod emulator;
pub mod runtime_api;
pub mod sigv4;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const TRUSTED_PEM: &str = include_str!("../../../tests/fixtures/jwt/trusted.pem");
const TRUSTED_PUBLIC_PEM: &str = include_str!("../../../tests/fixtures/jwt/trusted.pub.pem");
const TRUSTED_JWKS: &str = include_str!("../../../tests/fixtures/jwt/trusted.jwks.json");
const FOREIGN_PEM: &str = include_str!("../../../tests/fixtures/jwt/foreign.pem");

pub const TRUSTED_KID: &str = "trusted-key";
pub const CLIENT_ID: &str = "testclient0000000000000000";

/// Which private key signs a token.
#[derive(Clone, Copy)]
pub enum Signer {
    Trusted,
    /// A key the pool never published.
    Foreign,
}

/// A router served in the background on a random port of 127.0.0.1, until dropped: the
/// stand-ins the tests talk to (the pool's JWKS, the Lambda Runtime API, fake endpoints).
pub struct LocalServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LocalServer {
    pub async fn start(app: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct TestPool {
    pub issuer: String,
    _server: LocalServer,
    jwks_fetches: Arc<AtomicUsize>,
}

impl TestPool {
    /// Serves the JWKS on a random port of 127.0.0.1 until dropped.
    pub async fn start() -> Self {
        let jwks: Value = serde_json::from_str(TRUSTED_JWKS).expect("fixture JWKS");
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&jwks_fetches);
        let app = Router::new().route(
            "/test-pool/.well-known/jwks.json",
            get(move || async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::Json(jwks)
            }),
        );
        let server = LocalServer::start(app).await;
        Self {
            issuer: format!("{}/test-pool", server.url()),
            _server: server,
            jwks_fetches,
        }
    }

    /// How many times the JWKS has been fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    /// The claims of a fresh ID token for `sub`, as Cognito issues them.
    pub fn claims(&self, sub: &str, groups: &[&str]) -> Value {
        let now = now();
        let mut claims = json!({
            "sub": sub,
            "email_verified": true,
            "iss": self.issuer,
            "cognito:username": sub,
            "origin_jti": "00000000-0000-4000-8000-000000000001",
            "aud": CLIENT_ID,
            "event_id": "00000000-0000-4000-8000-000000000002",
            "token_use": "id",
            "auth_time": now,
            "exp": now + 3600,
            "iat": now,
            "jti": "00000000-0000-4000-8000-000000000003",
            "email": format!("{sub}@example.com"),
        });
        if !groups.is_empty() {
            claims["cognito:groups"] = json!(groups);
        }
        claims
    }

    /// A valid ID token.
    pub fn id_token(&self, sub: &str, groups: &[&str]) -> String {
        sign(&self.claims(sub, groups), Signer::Trusted, TRUSTED_KID)
    }
}

/// Signs `claims` with RS256 and the given key, naming `kid` in the header.
pub fn sign(claims: &Value, signer: Signer, kid: &str) -> String {
    let pem = match signer {
        Signer::Trusted => TRUSTED_PEM,
        Signer::Foreign => FOREIGN_PEM,
    };
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("fixture key");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &key).expect("sign")
}

/// The classic key-confusion forgery: HS256 with the pool's public key as the secret.
pub fn sign_hs256_with_public_key(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(TRUSTED_KID.to_owned());
    let key = EncodingKey::from_secret(TRUSTED_PUBLIC_PEM.as_bytes());
    encode(&header, claims, &key).expect("sign")
}

/// An unsigned token (`alg: none`).
pub fn unsigned(claims: &Value) -> String {
    let header = json!({ "alg": "none", "kid": TRUSTED_KID });
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// `token` with its payload replaced by `claims`, keeping the original signature.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let (header, _, signature) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
    format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A browser's CORS preflight: `OPTIONS url` from a web app's origin (ours allow any),
/// announcing a `method` request with the request `headers`. Asserts that it is allowed, and
/// returns the answer to read its headers.
pub async fn preflight(url: &str, method: &str, headers: &str) -> reqwest::Response {
    let answer = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .expect("the preflight is answered");
    assert!(answer.status().is_success(), "{}", answer.status());
    answer
}

/// A real binary of ours running as a child process, started as a user would start it and
/// killed when dropped. It must print `<ready_prefix><base url>` on stdout once listening.
pub struct ChildServer {
    child: std::process::Child,
    pub base: String,
}

impl ChildServer {
    pub fn start(command: &mut std::process::Command, ready_prefix: &str) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the server printed its address before exiting")
                .expect("readable stdout");
            if let Some(base) = line.strip_prefix(ready_prefix) {
                break base.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, as a service manager stops it; waits up to `within` for the exit and
    /// returns its status, or `None` if it is still running (then it is killed).
    pub fn terminate(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM was delivered");
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.kill_9();
        None
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.kill_9();
    }
}
