//! Durability: kill -9 the real binary while clients write concurrently; after a restart,
//! every write it acknowledged is there, whole.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use taskapi_testkit::TestPool;

/// The `taskapi` binary, started as a user would start it. Killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data_dir: &Path, issuer: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taskapi"))
            .args(["serve", "--addr", "127.0.0.1:0", "--jwt-issuer", issuer])
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("taskapi starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("taskapi printed its address before exiting")
                .unwrap();
            if let Some(base) = line.strip_prefix("taskapi listening on ") {
                break base.to_owned();
            }
        };
        Self { child, base }
    }

    fn kill_9(&mut self) {
        // Child::kill is SIGKILL on Unix: no shutdown code runs.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_concurrent_writes_loses_no_acknowledged_task() {
    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let token = pool.id_token("crash-test-user", &[]);
    let mut server = Server::start(data.path(), &pool.issuer);

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

    let server = Server::start(data.path(), &pool.issuer);
    let mut stored = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut url = format!("{}/tasks?limit=100", server.base);
        if let Some(token) = &next {
            url.push_str(&format!("&next_token={token}"));
        }
        let page: Value = client
            .get(url)
            .header("authorization", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stored.extend(page["tasks"].as_array().unwrap().iter().cloned());
        match page["next_token"].as_str() {
            Some(token) => next = Some(token.to_owned()),
            None => break,
        }
    }
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
