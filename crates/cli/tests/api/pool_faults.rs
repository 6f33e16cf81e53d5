//! The local user pool under real faults, as `taskapi serve` runs it: a full disk, its
//! `userpool.sqlite3` deleted and replaced while the server runs, and the hosted UI's HTTPS
//! listener facing slow TLS clients during SIGTERM and more connections than its cap.
//! Every acknowledged account is there after a restart.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use taskapi_testkit::ChildServer;
use taskapi_testkit::emulator::free_port;
use taskapi_testkit::sigv4::cognito_headers;
use tokio::io::AsyncWriteExt;

use crate::faults::Tmpfs;

/// The key pair the servers below trust for signed (admin) actions, from their environment.
pub(crate) const KEY: (&str, &str) = (
    "AKIAPOOLFAULTS00TEST",
    "pool-faults-test-secret-0123456789abcdef",
);
const PASSWORD: &str = "TestPass123!";

/// `taskapi serve` with the local user pool on `data_dir`, its hosted UI on `hosted_ui`,
/// no per-caller rate limit, trusting [`KEY`]; its log goes to `log` when given.
pub(crate) fn serve(
    data_dir: &Path,
    hosted_ui: &str,
    extra: &[&str],
    log: Option<&Path>,
) -> ChildServer {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskapi"));
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--rate-limit", "0"])
        .args(["--hosted-ui-addr", hosted_ui, "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .env("AWS_ACCESS_KEY_ID", KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", KEY.1);
    if let Some(log) = log {
        command.stderr(std::fs::File::create(log).unwrap());
    }
    ChildServer::start(&mut command, "taskapi listening on ")
}

/// SIGTERM, and a clean exit within the default grace period.
fn stop(server: &mut ChildServer) {
    let status = server.terminate(Duration::from_secs(11));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

/// The pool's AWS JSON door, as an SDK calls it.
pub(crate) struct Cognito {
    http: reqwest::Client,
    base: String,
    pool_id: String,
    client_id: String,
}

impl Cognito {
    /// Finds the default pool and client through the (signed) API.
    pub(crate) async fn of(server: &ChildServer) -> Self {
        let mut cognito = Self {
            http: reqwest::Client::new(),
            base: server.base.clone(),
            pool_id: String::new(),
            client_id: String::new(),
        };
        let (_, pools) = cognito
            .admin("ListUserPools", json!({"MaxResults": 10}))
            .await;
        cognito.pool_id = pools["UserPools"][0]["Id"].as_str().unwrap().to_owned();
        let (_, clients) = cognito
            .admin(
                "ListUserPoolClients",
                json!({"UserPoolId": cognito.pool_id}),
            )
            .await;
        cognito.client_id = clients["UserPoolClients"][0]["ClientId"]
            .as_str()
            .unwrap()
            .to_owned();
        cognito
    }

    async fn call(&self, action: &str, body: &Value, signed: bool) -> reqwest::Response {
        let target = format!("AWSCognitoIdentityProviderService.{action}");
        let body = body.to_string();
        let url = format!("{}/", self.base);
        let mut request = self
            .http
            .post(&url)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", &target);
        if signed {
            for (name, value) in
                cognito_headers(KEY, &url, &target, body.as_bytes(), SystemTime::now())
            {
                request = request.header(name, value);
            }
        }
        request.body(body).send().await.unwrap()
    }

    pub(crate) async fn admin(&self, action: &str, body: Value) -> (StatusCode, Value) {
        let response = self.call(action, &body, true).await;
        (response.status(), response.json().await.unwrap())
    }

    pub(crate) async fn sign_up(&self, email: &str) -> reqwest::Response {
        let body = json!({
            "ClientId": self.client_id, "Username": email, "Password": PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": email}],
        });
        self.call("SignUp", &body, false).await
    }

    async fn admin_create_user(&self, email: &str) -> reqwest::Response {
        let body = json!({
            "UserPoolId": self.pool_id, "Username": email, "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": "email", "Value": email}],
        });
        self.call("AdminCreateUser", &body, true).await
    }

    /// Signs `email` up, confirms it (AdminConfirmSignUp) and signs in with its password:
    /// an ID token for the API.
    pub(crate) async fn id_token(&self, email: &str) -> String {
        assert_eq!(self.sign_up(email).await.status(), StatusCode::OK);
        let body = json!({"UserPoolId": self.pool_id, "Username": email});
        let (status, confirmed) = self.admin("AdminConfirmSignUp", body).await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        self.sign_in(email).await
    }

    /// Signs a confirmed `email` in with its password: an ID token for the API (whose
    /// issuer names this server's address, so a restarted server needs a new one).
    pub(crate) async fn sign_in(&self, email: &str) -> String {
        let body = json!({
            "ClientId": self.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD},
        });
        let signed_in: Value = self
            .call("InitiateAuth", &body, false)
            .await
            .json()
            .await
            .unwrap();
        signed_in["AuthenticationResult"]["IdToken"]
            .as_str()
            .unwrap_or_else(|| panic!("signed in: {signed_in}"))
            .to_owned()
    }

    /// Whether the pool knows `email` (AdminGetUser).
    pub(crate) async fn exists(&self, email: &str) -> bool {
        let (status, body) = self
            .admin(
                "AdminGetUser",
                json!({"UserPoolId": self.pool_id, "Username": email}),
            )
            .await;
        match status {
            StatusCode::OK => true,
            _ => {
                assert_eq!(body["__type"], "UserNotFoundException", "{body}");
                false
            }
        }
    }

    /// A read goes on whatever happens to writes.
    async fn assert_reads_work(&self) {
        let (status, body) = self
            .admin("ListUsers", json!({"UserPoolId": self.pool_id}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub(crate) async fn ready(&self) -> (StatusCode, Value) {
        let answer = reqwest::get(format!("{}/readyz", self.base)).await.unwrap();
        (answer.status(), answer.json().await.unwrap())
    }
}

/// The pool's storage-fault answer: 503, `Retry-After`, AWS's `ServiceUnavailableException`.
async fn assert_pool_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let headers = response.headers();
    assert_eq!(headers["retry-after"], "1", "the task store's wait");
    assert_eq!(headers["x-amzn-errortype"], "ServiceUnavailableException");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["__type"], "ServiceUnavailableException", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_sign_ups_with_503_and_they_resume_when_it_clears() {
    let Some(disk) = Tmpfs::mount("3m") else {
        return;
    };
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("taskapi.log");
    let mut server = serve(&disk.path(), "127.0.0.1:0", &[], Some(&log));
    let cognito = Cognito::of(&server).await;
    let mut acknowledged = Vec::new();
    for n in 0..3 {
        let email = format!("before{n}@example.com");
        assert_eq!(cognito.sign_up(&email).await.status(), StatusCode::OK);
        acknowledged.push(email);
    }
    // Fill the disk to the last block.
    let filler = disk.path().join("filler");
    let filled = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", filler.display()))
        .output()
        .expect("dd runs");
    assert!(
        String::from_utf8_lossy(&filled.stderr).contains("No space left"),
        "the disk is full"
    );
    let mut refused = Vec::new();
    for n in 0..500 {
        let email = format!("full{n}@example.com");
        let response = cognito.sign_up(&email).await;
        if response.status() == StatusCode::OK {
            acknowledged.push(email);
        } else {
            assert_pool_unavailable(response).await;
            refused.push(email);
            if refused.len() == 3 {
                break;
            }
        }
    }
    assert_eq!(refused.len(), 3, "a full disk refuses sign-ups");
    cognito.assert_reads_work().await;
    for email in &refused {
        assert!(!cognito.exists(email).await, "{email} was half-written");
    }

    std::fs::remove_file(&filler).unwrap();
    for email in refused {
        let response = cognito.sign_up(&email).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "sign-ups resume by themselves"
        );
        acknowledged.push(email);
    }
    assert_eq!(cognito.ready().await.0, StatusCode::OK);
    stop(&mut server);
    let log = std::fs::read_to_string(&log).unwrap();
    let pool_lines = |what: &str| {
        log.lines()
            .filter(|line| line.contains(what) && line.contains("userpool.sqlite3"))
            .count()
    };
    assert_eq!(
        pool_lines("storage unavailable"),
        1,
        "one episode, one warning:\n{log}"
    );
    assert_eq!(pool_lines("storage available again"), 1, "{log}");
    assert!(
        !log.contains("response failed"),
        "no error line per refused request:\n{log}"
    );

    let server = serve(&disk.path(), "127.0.0.1:0", &[], None);
    let cognito = Cognito::of(&server).await;
    for email in &acknowledged {
        assert!(
            cognito.exists(email).await,
            "acknowledged account {email} lost"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_replaced_pool_file_refuses_writes_and_readyz_names_it() {
    let data = tempfile::tempdir().unwrap();
    let mut server = serve(data.path(), "127.0.0.1:0", &[], None);
    let cognito = Cognito::of(&server).await;
    assert_eq!(
        cognito.sign_up("signed@example.com").await.status(),
        StatusCode::OK
    );
    let created = cognito.admin_create_user("created@example.com").await;
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(cognito.ready().await.0, StatusCode::OK);

    // A consistent copy (WAL included), as a backup tool makes, then the file is deleted.
    let path = data.path().join("userpool.sqlite3");
    let backup = data.path().join("backup.sqlite3");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_pool_unavailable(cognito.sign_up("void1@example.com").await).await;
    assert_pool_unavailable(cognito.admin_create_user("void2@example.com").await).await;
    cognito.assert_reads_work().await;
    assert_not_ready(&cognito, "userpool.sqlite3").await;

    // Restored under the same name: another file than the one open, still refused.
    std::fs::rename(&backup, &path).unwrap();
    assert_pool_unavailable(cognito.sign_up("void3@example.com").await).await;
    assert_pool_unavailable(cognito.admin_create_user("void4@example.com").await).await;
    assert_not_ready(&cognito, "replaced").await;

    stop(&mut server);
    let server = serve(data.path(), "127.0.0.1:0", &[], None);
    let cognito = Cognito::of(&server).await;
    assert!(cognito.exists("signed@example.com").await);
    assert!(cognito.exists("created@example.com").await);
    for n in 1..=4 {
        assert!(!cognito.exists(&format!("void{n}@example.com")).await);
    }
    assert_eq!(cognito.ready().await.0, StatusCode::OK);
}

/// `/readyz` answers 503 naming the user pool and `why`.
async fn assert_not_ready(cognito: &Cognito, why: &str) {
    let (status, body) = cognito.ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("user pool: ") && reason.contains(why),
        "{body}"
    );
}

/// A TLS client that trusts the server's own certificate (from its data directory).
fn tls_connector(data_dir: &Path) -> tokio_rustls::TlsConnector {
    let pem = std::fs::read(data_dir.join("hosted-ui-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A whole HTTPS request to the hosted UI, proving the listener serves.
async fn https_answers(data_dir: &Path, https: &str) {
    let pem = std::fs::read(data_dir.join("hosted-ui-cert.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let answer = client
        .get(format!("https://{https}/oauth2/authorize"))
        .send();
    let status = answer.await.unwrap().status();
    assert_eq!(status, StatusCode::BAD_REQUEST, "an answer, over TLS");
}

/// A server whose hosted UI listens on a port known in advance, with these settings: its
/// data directory, that address, and the server.
fn serve_https(extra: &[&str]) -> (tempfile::TempDir, String, ChildServer) {
    let data = tempfile::tempdir().unwrap();
    let https = format!("127.0.0.1:{}", free_port());
    let server = serve(data.path(), &https, extra, None);
    (data, https, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_slow_tls_clients_exits_within_the_grace_period() {
    let (data, https, mut server) =
        serve_https(&["--shutdown-grace", "2", "--header-read-timeout", "30"]);
    https_answers(data.path(), &https).await;
    // One client connects and never starts its handshake; another finishes it and sends
    // half a request header.
    let silent = TcpStream::connect(&https).unwrap();
    let tcp = tokio::net::TcpStream::connect(&https).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut half = tls_connector(data.path()).connect(name, tcp).await.unwrap();
    half.write_all(b"GET /oauth2/authorize HTTP/1.1\r\nHost: x\r\nAcc")
        .await
        .unwrap();
    half.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = Instant::now();
    let status = server
        .terminate(Duration::from_secs(3))
        .expect("taskapi exits within the grace period plus one second");
    assert!(status.success(), "a graceful stop exits 0: {status}");
    assert!(stopping.elapsed() < Duration::from_secs(3));
    drop((silent, half));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_https_listener_caps_its_connections() {
    // All from one address, which may have more than the listener takes: the listener's
    // cap is under test, not an address's share.
    let (data, https, mut server) = serve_https(&[
        "--max-connections",
        "5",
        "--max-connections-per-address",
        "20",
        "--header-read-timeout",
        "1",
    ]);
    let started = Instant::now();
    let idle: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&https).expect("the backlog takes the connection"))
        .collect();
    // Five at a time, each closed when its handshake does not come within a second: after
    // one and a half seconds only the first round is gone.
    tokio::time::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed())).await;
    let closed = |connections: &[TcpStream]| {
        connections
            .iter()
            .filter(|connection| {
                let mut stream: &TcpStream = connection;
                stream.set_nonblocking(true).unwrap();
                let mut byte = [0u8; 1];
                match stream.read(&mut byte) {
                    Ok(0) => true,
                    Err(err) => err.kind() != std::io::ErrorKind::WouldBlock,
                    Ok(_) => panic!("no bytes before a handshake"),
                }
            })
            .count()
    };
    let first_round = closed(&idle);
    assert!(
        (1..=10).contains(&first_round),
        "{first_round} of 20 closed after 1.5 s: the cap of 5 lets a round at a time in"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while closed(&idle) < idle.len() {
        assert!(Instant::now() < deadline, "every idle connection is closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    https_answers(data.path(), &https).await;
    stop(&mut server);
}
