//! The same API on the DynamoDB store: the real binary, configured only through the
//! standard AWS environment, against dynalite; its table made by `taskapi table create`.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::{ChildServer, TestPool};

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

#[tokio::test]
async fn serves_the_api_on_dynamodb() {
    let dynalite = Emulator::dynalite();
    let table = "TaskAppCli";
    for attempt in ["creates", "finds it already there"] {
        let output = taskapi(&dynalite, table)
            .args(["table", "create"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "table create {attempt}: {output:?}"
        );
    }

    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let server = ChildServer::start(
        taskapi(&dynalite, table)
            .args(["serve", "--store", "dynamodb", "--addr", "127.0.0.1:0"])
            .args(["--jwt-issuer", &pool.issuer])
            .arg("--data-dir")
            .arg(data.path()),
        "taskapi listening on ",
    );
    let client = reqwest::Client::new();
    let (alice, bob) = (
        pool.id_token("alice", &[]),
        pool.id_token("bob", &["admins"]),
    );
    let mut ids = Vec::new();
    for n in 0..5 {
        let response = client
            .post(format!("{}/tasks", server.base))
            .header("authorization", &alice)
            .json(&json!({"title": format!("task {n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(response.json::<Value>().await.unwrap()["task_id"].clone());
    }

    let listed: Vec<Value> = follow_pages(&client, &server.base, "/tasks?limit=2", &alice)
        .await
        .iter()
        .map(|task| task["task_id"].clone())
        .collect();
    assert_eq!(listed, ids, "paged in creation order");

    let path = format!("{}/tasks/{}", server.base, ids[0].as_str().unwrap());
    let response = client
        .get(&path)
        .header("authorization", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "bob cannot read alice's task"
    );
    let response = client
        .patch(&path)
        .header("authorization", &alice)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let admin: Value = client
        .get(format!("{}/admin/tasks?status=done", server.base))
        .header("authorization", &bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        admin["tasks"][0]["task_id"], ids[0],
        "GSI1 moved with the status"
    );
    let response = client
        .delete(&path)
        .header("authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = client
        .delete(&path)
        .header("authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[test]
fn serve_refuses_to_start_without_its_table() {
    let dynalite = Emulator::dynalite();
    let data = tempfile::tempdir().unwrap();
    let output = taskapi(&dynalite, "NoSuchTable")
        .args(["serve", "--store", "dynamodb", "--addr", "127.0.0.1:0"])
        .args(["--jwt-issuer", "http://127.0.0.1:9/pool"])
        .arg("--data-dir")
        .arg(data.path())
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
    let output = taskapi(&dynalite, table)
        .args(["table", "create"])
        .output()
        .unwrap();
    assert!(output.status.success(), "table create: {output:?}");
    let pool = TestPool::start().await;
    let serve = |shards: &str| {
        let data = tempfile::tempdir().unwrap();
        let server = ChildServer::start(
            taskapi(&dynalite, table)
                .args(["serve", "--store", "dynamodb", "--addr", "127.0.0.1:0"])
                .args(["--status-shards", shards])
                .args(["--jwt-issuer", &pool.issuer])
                .arg("--data-dir")
                .arg(data.path()),
            "taskapi listening on ",
        );
        (server, data)
    };
    let client = reqwest::Client::new();
    let admin = pool.id_token("root", &["admins"]);

    let (server, _data) = serve("8");
    let mut ids = Vec::new();
    for n in 0..7 {
        let user = pool.id_token(&format!("user{n}"), &[]);
        let response = client
            .post(format!("{}/tasks", server.base))
            .header("authorization", &user)
            .json(&json!({"title": format!("task {n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(response.json::<Value>().await.unwrap()["task_id"].clone());
    }
    let listed: Vec<Value> = follow_pages(
        &client,
        &server.base,
        "/admin/tasks?status=pending&limit=2",
        &admin,
    )
    .await
    .iter()
    .map(|task| task["task_id"].clone())
    .collect();
    assert_eq!(
        listed, ids,
        "every user's task, across the shards, oldest first"
    );

    let first: Value = client
        .get(format!(
            "{}/admin/tasks?status=pending&limit=3",
            server.base
        ))
        .header("authorization", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
        let response = client
            .get(format!("{}{path}", server.base))
            .header("authorization", who)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{path}: a pending-view cursor elsewhere"
        );
    }
    drop(server);

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

    let (server, _data) = serve("1");
    let listed: Vec<Value> = follow_pages(
        &client,
        &server.base,
        "/admin/tasks?status=pending&limit=3",
        &admin,
    )
    .await
    .iter()
    .map(|task| task["task_id"].clone())
    .collect();
    assert_eq!(listed, ids, "the seed's layout again, the same tasks");
}
