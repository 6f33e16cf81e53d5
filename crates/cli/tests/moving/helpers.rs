use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::{CLIENT_ID, ChildServer, TestPool};

/// The `taskapi` binary, pointed at `emulator` (if any) through the standard AWS
/// environment, with `TABLE_NAME` = `table`.
pub fn taskapi(emulator: Option<&Emulator>, table: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskapi"));
    command
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("TABLE_NAME", table)
        .env("RUST_LOG", "warn")
        .env_remove("TASKAPI_DATA_DIR")
        .env_remove("TASKAPI_STORE");
    match emulator {
        Some(emulator) => command.env("AWS_ENDPOINT_URL_DYNAMODB", emulator.endpoint_url()),
        // Nothing may leave the machine: an endpoint nobody listens on.
        None => command.env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
    };
    command
}

/// Runs `command`, asserting it succeeds; its standard output.
pub fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("taskapi runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        describe(&output)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Runs `command`, asserting it fails; its standard error.
pub fn run_failing(command: &mut Command) -> String {
    let output = command.output().expect("taskapi runs");
    assert!(
        !output.status.success(),
        "{command:?} succeeded: {}",
        describe(&output)
    );
    String::from_utf8(output.stderr).expect("UTF-8 output")
}

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A file's lines, sorted (gzip is read as such).
pub fn sorted_lines(path: &Path) -> Vec<String> {
    let raw = std::fs::read(path).unwrap();
    let mut text = String::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(raw).unwrap();
    }
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// `taskapi serve` as a child process, trusting `pool`'s tokens.
pub struct Api {
    server: ChildServer,
    client: reqwest::Client,
}

impl Api {
    /// On SQLite in `data_dir`.
    pub fn sqlite(data_dir: &Path, pool: &TestPool) -> Self {
        Self::start(
            taskapi(None, "unused")
                .args(["serve", "--store", "sqlite", "--data-dir"])
                .arg(data_dir),
            pool,
        )
    }

    /// On the DynamoDB table `table` of `emulator` (its local files in `data_dir`).
    pub fn dynamodb(emulator: &Emulator, table: &str, data_dir: &Path, pool: &TestPool) -> Self {
        Self::start(
            taskapi(Some(emulator), table)
                .args(["serve", "--store", "dynamodb", "--data-dir"])
                .arg(data_dir),
            pool,
        )
    }

    fn start(command: &mut Command, pool: &TestPool) -> Self {
        command
            .args(["--addr", "127.0.0.1:0", "--hosted-ui-addr", "127.0.0.1:0"])
            .args(["--jwt-issuer", &pool.issuer, "--jwt-audience", CLIENT_ID])
            .args(["--rate-limit", "0"]);
        Self {
            server: ChildServer::start(command, "taskapi listening on "),
            client: reqwest::Client::new(),
        }
    }

    /// One call as `token`, with `headers`; its status and JSON body (`null` if none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.server.base))
            .header("authorization", token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, body)
    }

    /// A call expected to answer `expected`; its body.
    pub async fn ok(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        let (status, body) = self.call(method, path, token, body, &[]).await;
        assert_eq!(status, expected, "{path}: {body}");
        body
    }
}

/// A personal task's line, as taskapi writes it.
pub fn task_line(owner: &str, task_id: &str, title: &str) -> String {
    let at = "2026-01-02T03:04:05.000006Z";
    format!(
        r#"{{"Item":{{"GSI1PK":{{"S":"STATUS#pending"}},"GSI1SK":{{"S":"{at}"}},"PK":{{"S":"USER#{owner}"}},"SK":{{"S":"TASK#{task_id}"}},"created_at":{{"S":"{at}"}},"description":{{"S":""}},"status":{{"S":"pending"}},"task_id":{{"S":"{task_id}"}},"title":{{"S":"{title}"}},"updated_at":{{"S":"{at}"}}}}}}"#
    )
}
