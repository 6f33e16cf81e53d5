//! Durability: kill -9 the real binary while clients write concurrently; after a restart,
//! every write it acknowledged is there, whole.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use taskapi_testkit::{ChildServer, TestPool};

use crate::helpers::follow_pages;

/// The `taskapi` binary, started as a user would start it.
fn start_server(data_dir: &Path, issuer: &str) -> ChildServer {
    ChildServer::start(
        Command::new(env!("CARGO_BIN_EXE_taskapi"))
            .args(["serve", "--addr", "127.0.0.1:0", "--jwt-issuer", issuer])
            // As fast as 8 writers can go: the per-caller limit would slow them down.
            .args(["--rate-limit", "0"])
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn"),
        "taskapi listening on ",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_concurrent_writes_loses_no_acknowledged_task() {
    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let token = pool.id_token("crash-test-user", &[]);
    let mut server = start_server(data.path(), &pool.issuer);

    let acknowledged = Arc::new(Mutex::new(Vec::<Value>::new()));
    let client = reqwest::Client::new();
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (client, token, base) = (client.clone(), token.clone(), server.base.clone());
            let acknowledged = Arc::clone(&acknowledged);
            tokio::spawn(async move {
                for n in 0.. {
                    let sent = client
                        .post(format!("{base}/tasks"))
                        .header("authorization", &token)
                        .json(&json!({"title": format!("writer {writer} task {n}"), "description": "d".repeat(500)}))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == StatusCode::CREATED => {
                            let task: Value = response.json().await.unwrap();
                            acknowledged.lock().unwrap().push(task);
                        }
                        // The server died mid-request: that write was never acknowledged.
                        _ => return,
                    }
                }
            })
        })
        .collect();

    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill_9();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 100,
        "only {} writes before the kill",
        acknowledged.len()
    );

    let server = start_server(data.path(), &pool.issuer);
    let stored = follow_pages(&client, &server.base, "/tasks?limit=100", &token).await;
    eprintln!(
        "{} tasks acknowledged before kill -9, {} stored after restart",
        acknowledged.len(),
        stored.len()
    );
    for task in &acknowledged {
        assert!(
            stored.contains(task),
            "acknowledged task {} lost or altered after kill -9",
            task["task_id"]
        );
    }
    for task in &stored {
        assert!(
            task["title"].as_str().unwrap().starts_with("writer "),
            "whole task: {task}"
        );
        assert_eq!(
            task["description"].as_str().unwrap().len(),
            500,
            "whole task: {task}"
        );
    }
}
