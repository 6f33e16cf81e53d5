//! DynamoDB-compatible servers for tests: dynalite (npm) and moto server (PyPI), started
//! on 127.0.0.1 on a free port and killed when the [`Emulator`] is dropped, even when the
//! test panics. A missing tool is a test failure with the fix in the message, never a skip.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

use taskapi_store_dynamodb::{DynamoStore, create_table};
use uuid::Uuid;

/// How long a server may take to accept connections (moto imports a lot of Python).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running emulator process.
pub struct Emulator {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl Emulator {
    /// dynalite from the repository's `node_modules` (`npm ci` at the root installs it).
    pub fn dynalite() -> Self {
        let cli = repo_root().join("node_modules/dynalite/cli.js");
        assert!(
            cli.is_file(),
            "dynalite is not installed ({} is missing): run `npm ci` in {}",
            cli.display(),
            repo_root().display()
        );
        let port = free_port();
        let mut command = Command::new("node");
        command
            .arg(cli)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            // CREATING lasts this long, so table creation really waits for ACTIVE.
            .args(["--createTableMs", "50"]);
        Self::start("dynalite", command, port)
    }

    /// moto server, found on `PATH` or in the repository's `.venv` (`pip install -r
    /// tests/requirements.txt` installs it).
    pub fn moto() -> Self {
        let program = find_program("moto_server").unwrap_or_else(|| {
            panic!(
                "moto_server is neither on PATH nor in {}/.venv/bin: install tests/requirements.txt into .venv",
                repo_root().display()
            )
        });
        let port = free_port();
        let mut command = Command::new(program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self::start("moto", command, port)
    }

    fn start(name: &'static str, mut command: Command, port: u16) -> Self {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {name} ({command:?}): {err}"));
        let mut emulator = Self {
            name,
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        };
        emulator.wait_until_listening();
        emulator
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        while TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited before listening: {status}", self.name);
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "{} did not listen on {} within {START_TIMEOUT:?}",
                self.name,
                self.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client for this emulator with fixed dummy credentials (emulators accept any).
    pub fn client(&self) -> Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.endpoint_url())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
            .build();
        Client::from_conf(config)
    }

    /// A store on a freshly created table with a unique name.
    pub async fn fresh_store(&self) -> DynamoStore {
        let client = self.client();
        let table = format!("TaskApp-{}", Uuid::new_v4());
        create_table(&client, &table)
            .await
            .unwrap_or_else(|err| panic!("create table on {}: {err}", self.name));
        DynamoStore::new(client, table)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace root, where `node_modules` and `.venv` live.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate sits at crates/<name>")
        .to_path_buf()
}

/// A port nobody listens on right now. The OS does not hand it out again at once, so the
/// server started next can take it.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([repo_root().join(".venv/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
