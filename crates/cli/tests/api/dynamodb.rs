//! The same API on the DynamoDB store: the real binary, configured only through the
//! standard AWS environment, against dynalite; its table made by `taskapi table create`.

use std::process::Command;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::{ChildServer, TestPool};
use tempfile::TempDir;

use crate::helpers::follow_pages;

fn taskapi(dynalite: &Emulator, table: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_taskapi"));
    command
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynalite.endpoint_url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("TABLE_NAME", table)
        .env("RUST_LOG", "warn");
    command
}

/// `taskapi table create`, asserted to succeed (`attempt` says which, when it fails).
fn create_table(dynalite: &Emulator, table: &str, attempt: &str) {
    let output = taskapi(dynalite, table)
        .args(["table", "create"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "table create {attempt}: {output:?}"
    );
}

/// `taskapi serve` on the DynamoDB store, trusting `issuer`, with its local files in `data`.
fn serve_command(dynalite: &Emulator, table: &str, issuer: &str, data: &TempDir) -> Command {
    let mut command = taskapi(dynalite, table);
    command
        .args(["serve", "--store", "dynamodb", "--addr", "127.0.0.1:0"])
        .args(["--jwt-issuer", issuer])
        .arg("--data-dir")
        .arg(data.path());
    command
}

/// A running `taskapi serve` on dynalite, and HTTP to it.
struct Served {
    server: ChildServer,
    client: reqwest::Client,
    _data: TempDir,
}

impl Served {
    /// Serves `table`, trusting the tokens of `pool`; `extra` adds flags.
    fn start(dynalite: &Emulator, table: &str, pool: &TestPool, extra: &[&str]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let server = ChildServer::start(
            serve_command(dynalite, table, &pool.issuer, &data).args(extra),
            "taskapi listening on ",
        );
        Served {
            server,
            client: reqwest::Client::new(),
            _data: data,
        }
    }

    fn request(&self, method: Method, path: &str, authorization: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.server.base))
            .header("authorization", authorization)
    }

    async fn send(&self, method: Method, path: &str, authorization: &str) -> Response {
        let request = self.request(method, path, authorization);
        request.send().await.unwrap()
    }

    async fn get_json(&self, path: &str, authorization: &str) -> Value {
        let response = self.send(Method::GET, path, authorization).await;
        response.json().await.unwrap()
    }

    /// Creates a task titled `title` as the caller `authorization`; returns its id.
    async fn create(&self, authorization: &str, title: &str) -> Value {
        let response = self
            .request(Method::POST, "/tasks", authorization)
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["task_id"].clone()
    }

    /// The ids of the tasks `path` lists, page after page.
    async fn listed_ids(&self, path: &str, authorization: &str) -> Vec<Value> {
        let tasks = follow_pages(&self.client, &self.server.base, path, authorization).await;
        tasks.iter().map(|task| task["task_id"].clone()).collect()
    }
}

#[tokio::test]
async fn serves_the_api_on_dynamodb() {
    let dynalite = Emulator::dynalite();
    let table = "TaskAppCli";
    for attempt in ["creates", "finds it already there"] {
        create_table(&dynalite, table, attempt);
    }

    let pool = TestPool::start().await;
    let api = Served::start(&dynalite, table, &pool, &[]);
    let (alice, bob) = (
        pool.id_token("alice", &[]),
        pool.id_token("bob", &["admins"]),
    );
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(api.create(&alice, &format!("task {n}")).await);
    }

    let listed = api.listed_ids("/tasks?limit=2", &alice).await;
    assert_eq!(listed, ids, "paged in creation order");

    let path = format!("/tasks/{}", ids[0].as_str().unwrap());
    assert_eq!(
        api.send(Method::GET, &path, &bob).await.status(),
        StatusCode::NOT_FOUND,
        "bob cannot read alice's task"
    );
    let response = api
        .request(Method::PATCH, &path, &alice)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let admin = api.get_json("/admin/tasks?status=done", &bob).await;
    assert_eq!(
        admin["tasks"][0]["task_id"], ids[0],
        "GSI1 moved with the status"
    );
    let response = api.send(Method::DELETE, &path, &alice).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = api.send(Method::DELETE, &path, &alice).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[test]
fn serve_refuses_to_start_without_its_table() {
    let dynalite = Emulator::dynalite();
    let data = tempfile::tempdir().unwrap();
    let issuer = "http://127.0.0.1:9/pool";
    let output = serve_command(&dynalite, "NoSuchTable", issuer, &data)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("taskapi table create"), "{stderr}");
}

/// `--status-shards 8`: the admin view pages across the shards in creation order behind a
/// cursor bound to its status; `taskapi table reshard` moves the keys back to the seed's
/// layout, and a server with the seed's layout lists the same tasks.
#[tokio::test]
async fn sharded_status_keys_and_reshard() {
    let dynalite = Emulator::dynalite();
    let table = "TaskAppShards";
    create_table(&dynalite, table, "creates");
    let pool = TestPool::start().await;
    let admin = pool.id_token("root", &["admins"]);

    let api = Served::start(&dynalite, table, &pool, &["--status-shards", "8"]);
    let mut ids = Vec::new();
    for n in 0..7 {
        let user = pool.id_token(&format!("user{n}"), &[]);
        ids.push(api.create(&user, &format!("task {n}")).await);
    }
    let pending = "/admin/tasks?status=pending&limit=2";
    assert_eq!(
        api.listed_ids(pending, &admin).await,
        ids,
        "every user's task, across the shards, oldest first"
    );

    let first = api
        .get_json("/admin/tasks?status=pending&limit=3", &admin)
        .await;
    assert_eq!(first["count"], 3);
    let token = first["next_token"].as_str().expect("more follow");
    for (path, who) in [
        (
            format!("/admin/tasks?status=done&next_token={token}"),
            &admin,
        ),
        (
            format!("/tasks?next_token={token}"),
            &pool.id_token("user0", &[]),
        ),
    ] {
        assert_eq!(
            api.send(Method::GET, &path, who).await.status(),
            StatusCode::BAD_REQUEST,
            "{path}: a pending-view cursor elsewhere"
        );
    }
    drop(api);

    let work = tempfile::tempdir().unwrap();
    let output = taskapi(&dynalite, table)
        .current_dir(work.path())
        .args(["table", "reshard", "--shards", "1", "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "reshard: {output:?}");
    assert!(stdout.contains("7 moved"), "{stdout}");
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        0,
        "the checkpoint is removed once done"
    );

    let api = Served::start(&dynalite, table, &pool, &["--status-shards", "1"]);
    let pending = "/admin/tasks?status=pending&limit=3";
    assert_eq!(
        api.listed_ids(pending, &admin).await,
        ids,
        "the seed's layout again, the same tasks"
    );
}
