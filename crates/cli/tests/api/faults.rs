//! `taskapi serve` under real faults, as the binary a user runs: a slow client during
//! SIGTERM, hundreds of idle connections, a full disk (a small tmpfs), the database file
//! deleted, replaced or corrupt, a read-only data directory, a lost user pool, an oversized
//! body, a caller over its rate limit. Every acknowledged task is there after a restart.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use taskapi_testkit::{ChildServer, TestPool};

use crate::helpers::follow_pages;

/// The `taskapi` binary on `data_dir`, trusting `issuer` (or the local pool when `None`;
/// its hosted UI then listens on a free port too, so tests can run side by side).
pub(crate) fn taskapi(data_dir: &Path, issuer: Option<&str>, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskapi"));
    command
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(["--hosted-ui-addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "info");
    if let Some(issuer) = issuer {
        command.args(["--jwt-issuer", issuer]);
    }
    command
}

pub(crate) fn start(command: &mut Command) -> ChildServer {
    ChildServer::start(command, "taskapi listening on ")
}

/// Starts a server whose log goes to `log`.
fn start_logged(command: &mut Command, log: &Path) -> ChildServer {
    command.stderr(std::fs::File::create(log).unwrap());
    start(command)
}

/// A server that must refuse to start: its exit status and what it said.
fn refused(command: &mut Command) -> String {
    let output = command.output().expect("taskapi runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "taskapi started; it should not have:\n{stderr}"
    );
    stderr
}

pub(crate) struct Api {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Api {
    pub(crate) fn new(server: &ChildServer, token: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: server.base.clone(),
            token: token.to_owned(),
        }
    }

    pub(crate) async fn post(&self, title: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/tasks", self.base))
            .header("authorization", &self.token)
            .json(&json!({"title": title, "description": "d".repeat(3000)}))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn ready(&self) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// `/readyz` answers 503 with a reason that says `why`.
    pub(crate) async fn assert_not_ready(&self, why: &str) {
        let (status, body) = self.ready().await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body["reason"].as_str().unwrap().contains(why), "{body}");
    }

    async fn all(&self) -> Vec<Value> {
        follow_pages(&self.client, &self.base, "/tasks?limit=100", &self.token).await
    }
}

/// A 503 as the contract says: `storage_unavailable`, with `Retry-After`.
pub(crate) async fn assert_storage_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "storage_unavailable", "{body}");
}

fn assert_all_present(acknowledged: &[Value], stored: &[Value]) {
    for task in acknowledged {
        assert!(
            stored.contains(task),
            "acknowledged task {} lost",
            task["task_id"]
        );
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
pub(crate) struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (after saying why) where this machine cannot mount: not root, or no
    /// mount permission in a container.
    pub(crate) fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        if !output.status.success() {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs here ({}); this fault needs one",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return None;
        }
        Some(Self { dir })
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    fn remount_read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount read-only");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_slow_client_exits_within_the_grace_period() {
    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let mut server = start(&mut taskapi(
        data.path(),
        Some(&pool.issuer),
        &["--shutdown-grace", "2", "--header-read-timeout", "30"],
    ));
    let api = Api::new(&server, &pool.id_token("slow-client-user", &[]));
    let acknowledged: Value = api.post("before shutdown").await.json().await.unwrap();
    // Half a request header, then nothing: the client that kept the old server up.
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut slow = TcpStream::connect(&address).unwrap();
    slow.write_all(b"POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Ty")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let stopping = Instant::now();
    let status = server
        .terminate(Duration::from_secs(3))
        .expect("taskapi exits within the grace period plus one second");
    assert!(status.success(), "a graceful stop exits 0: {status}");
    assert!(
        stopping.elapsed() >= Duration::from_millis(1500),
        "it waited for the grace period"
    );
    drop(slow);

    let server = start(&mut taskapi(data.path(), Some(&pool.issuer), &[]));
    let api = Api::new(&server, &api.token);
    assert_all_present(&[acknowledged], &api.all().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_idle_connections_are_capped_and_closed() {
    let data = tempfile::tempdir().unwrap();
    let pool = TestPool::start().await;
    let mut server = start(&mut taskapi(
        data.path(),
        Some(&pool.issuer),
        // All from one address, which may have more than the listener takes: the
        // listener's cap is under test, not an address's share.
        &[
            "--max-connections",
            "50",
            "--max-connections-per-address",
            "200",
            "--header-read-timeout",
            "1",
        ],
    ));
    let address = server.base.trim_start_matches("http://").to_owned();
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(&address).expect("the backlog takes the connection"))
        .collect();
    // Each idle connection is closed after the header-read timeout; 50 at a time, all
    // 200 are gone within a few rounds, and a real request is served.
    let started = Instant::now();
    for mut connection in idle {
        connection
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let mut byte = [0u8; 1];
        let read = connection.read(&mut byte);
        assert!(
            matches!(read, Ok(0))
                || read.is_err_and(|err| err.kind() == std::io::ErrorKind::ConnectionReset),
            "an idle connection is closed by the server"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "closed in {:?}",
        started.elapsed()
    );
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let status = server.terminate(Duration::from_secs(11)).expect("exits");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_writes_resume_when_it_clears() {
    let Some(disk) = Tmpfs::mount("3m") else {
        return;
    };
    let pool = TestPool::start().await;
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("taskapi.log");
    let mut server = start_logged(
        &mut taskapi(&disk.path(), Some(&pool.issuer), &["--rate-limit", "0"]),
        &log,
    );
    let api = Api::new(&server, &pool.id_token("full-disk-user", &[]));
    let mut acknowledged = Vec::new();
    for n in 0..5 {
        let response = api.post(&format!("before {n}")).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        acknowledged.push(response.json::<Value>().await.unwrap());
    }
    // Fill the disk to the last byte.
    let filler = disk.path().join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    for _ in 0..512 {
        if file.write_all(&[0u8; 512]).is_err() {
            break;
        }
    }
    drop(file);
    // Writes go on until the WAL needs a page it cannot have; from then on, 503s.
    let mut refused = 0;
    for n in 0..2000 {
        let response = api.post(&format!("while full {n}")).await;
        match response.status() {
            StatusCode::CREATED => acknowledged.push(response.json().await.unwrap()),
            _ => {
                assert_storage_unavailable(response).await;
                refused += 1;
                if refused == 5 {
                    break;
                }
            }
        }
    }
    assert_eq!(refused, 5, "a full disk refuses writes");

    std::fs::remove_file(&filler).unwrap();
    let response = api.post("after the disk was freed").await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "writes resume by themselves"
    );
    acknowledged.push(response.json().await.unwrap());
    assert_eq!(api.ready().await.0, StatusCode::OK);
    assert!(
        server
            .terminate(Duration::from_secs(11))
            .is_some_and(|s| s.success())
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        log.matches("storage unavailable").count(),
        1,
        "one episode, one warning:\n{log}"
    );
    assert_eq!(log.matches("storage available again").count(), 1, "{log}");
    assert!(
        !log.contains("response failed"),
        "no error line per refused request:\n{log}"
    );

    let server = start(&mut taskapi(
        &disk.path(),
        Some(&pool.issuer),
        &["--rate-limit", "0"],
    ));
    let api = Api::new(&server, &api.token);
    assert_all_present(&acknowledged, &api.all().await);
}

/// A ready server on a fresh data directory, and a caller who has stored one task there: how
/// the tests that break the database file under a running server begin.
pub(crate) async fn ready_with_one_task(
    user: &str,
) -> (TestPool, tempfile::TempDir, ChildServer, Api) {
    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let server = start(&mut taskapi(data.path(), Some(&pool.issuer), &[]));
    let api = Api::new(&server, &pool.id_token(user, &[]));
    assert_eq!(api.ready().await.0, StatusCode::OK);
    assert_eq!(api.post("before").await.status(), StatusCode::CREATED);
    (pool, data, server, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_database_refuses_writes_and_readyz_says_why() {
    let (_pool, data, _server, api) = ready_with_one_task("deleted-db-user").await;
    std::fs::remove_file(data.path().join("tasks.sqlite3")).unwrap();
    for n in 0..3 {
        assert_storage_unavailable(api.post(&format!("into the void {n}")).await).await;
    }
    api.assert_not_ready("tasks.sqlite3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_database_refuses_writes() {
    let (_pool, data, _server, api) = ready_with_one_task("replaced-db-user").await;
    let path = data.path().join("tasks.sqlite3");
    let copy = data.path().join("restored.sqlite3");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::rename(&copy, &path).unwrap();
    assert_storage_unavailable(api.post("after").await).await;
    api.assert_not_ready("replaced").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_database_is_named_at_start() {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("tasks.sqlite3");
    // A valid header, then garbage.
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend_from_slice(&[0x10, 0x00, 0x01, 0x01, 0x00, 0x40, 0x20, 0x20]);
    bytes.resize(4 * 4096, 0x5a);
    std::fs::write(&path, bytes).unwrap();
    let said = refused(&mut taskapi(data.path(), Some("http://127.0.0.1:9"), &[]));
    assert!(
        said.contains("tasks.sqlite3") && said.contains("corrupt"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_data_directory_is_named() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    disk.remount_read_only();
    let said = refused(&mut taskapi(&disk.path(), Some("http://127.0.0.1:9"), &[]));
    assert!(
        said.contains(&disk.path().display().to_string()) && said.contains("Read-only file system"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_missing_one_database_is_refused_unless_starting_afresh() {
    let data = tempfile::tempdir().unwrap();
    let mut server = start(&mut taskapi(data.path(), None, &[]));
    assert!(
        server
            .terminate(Duration::from_secs(11))
            .is_some_and(|s| s.success())
    );
    let (tasks, pool) = (
        data.path().join("tasks.sqlite3"),
        data.path().join("userpool.sqlite3"),
    );
    let aside = data.path().join("aside");

    std::fs::rename(&pool, &aside).unwrap();
    let said = refused(&mut taskapi(data.path(), None, &[]));
    assert!(
        said.contains("userpool.sqlite3 is missing") && said.contains("--start-afresh"),
        "{said}"
    );
    std::fs::rename(&aside, &pool).unwrap();

    std::fs::rename(&tasks, &aside).unwrap();
    let said = refused(&mut taskapi(data.path(), None, &[]));
    assert!(said.contains("tasks.sqlite3 is missing"), "{said}");
    // A zero-length file (a crash before the schema's first commit) holds nothing either.
    std::fs::write(&tasks, b"").unwrap();
    let said = refused(&mut taskapi(data.path(), None, &[]));
    assert!(said.contains("tasks.sqlite3 is missing or empty"), "{said}");
    std::fs::remove_file(&tasks).unwrap();

    let mut server = start(&mut taskapi(data.path(), None, &["--start-afresh"]));
    assert!(tasks.exists(), "started afresh with an empty task database");
    assert!(
        server
            .terminate(Duration::from_secs(11))
            .is_some_and(|s| s.success())
    );
}

/// A 2 MB POST, sent whole as urllib does before it reads: the 413 must be readable every
/// time, not a broken pipe because the server closed while the client was still sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_gets_a_readable_413() {
    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let server = start(&mut taskapi(data.path(), Some(&pool.issuer), &[]));
    let address = server.base.trim_start_matches("http://").to_owned();
    let token = pool.id_token("big-body-user", &[]);
    tokio::task::spawn_blocking(move || {
        let body = format!(
            "{{\"title\": \"t\", \"description\": \"{}\"}}",
            "d".repeat(2_000_000)
        );
        for attempt in 0..12 {
            let mut stream = TcpStream::connect(&address).unwrap();
            let head = format!(
                "POST /tasks HTTP/1.1\r\nHost: {address}\r\nAuthorization: {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream
                .write_all(body.as_bytes())
                .unwrap_or_else(|err| panic!("attempt {attempt}: sending the body failed: {err}"));
            let mut answer = [0u8; 12];
            stream.read_exact(&mut answer).unwrap();
            assert_eq!(&answer, b"HTTP/1.1 413", "attempt {attempt}");
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_its_rate_limit_gets_429_and_others_do_not() {
    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let server = start(&mut taskapi(
        data.path(),
        Some(&pool.issuer),
        &["--rate-limit", "1", "--rate-limit-burst", "3"],
    ));
    let greedy = Api::new(&server, &pool.id_token("greedy", &[]));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = greedy
            .client
            .get(format!("{}/tasks", greedy.base))
            .header("authorization", &greedy.token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "too_many_requests");
        }
    }
    assert_eq!(&statuses[..3], [StatusCode::OK; 3], "the burst is served");
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    let other = Api::new(&server, &pool.id_token("patient", &[]));
    assert_eq!(other.post("mine").await.status(), StatusCode::CREATED);
}
