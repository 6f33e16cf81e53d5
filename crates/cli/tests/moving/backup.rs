//! `taskapi backup` of a running server under load: the copy holds every write
//! acknowledged before the backup started, passes SQLite's integrity check, keeps the data
//! directory's modes, and is a working data directory (the same accounts and signing keys).

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use taskapi_testkit::ChildServer;

use crate::helpers::{run_failing, run_ok, taskapi};

const PASSWORD: &str = "TestPass123!";

/// `taskapi serve` on SQLite with its local user pool, in `data`, on `addr`.
fn serve(data: &Path, addr: &str) -> ChildServer {
    ChildServer::start(
        taskapi(None, "unused")
            .args(["serve", "--addr", addr, "--hosted-ui-addr", "127.0.0.1:0"])
            .args(["--rate-limit", "0", "--data-dir"])
            .arg(data),
        "taskapi listening on ",
    )
}

async fn cognito(client: &reqwest::Client, base: &str, action: &str, body: Value) -> Value {
    let response = client
        .post(format!("{base}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{action}: {status} {body}");
    body
}

async fn sign_in(client: &reqwest::Client, base: &str, client_id: &str, email: &str) -> String {
    let answer = cognito(
        client,
        base,
        "InitiateAuth",
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD}}),
    )
    .await;
    answer["AuthenticationResult"]["IdToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Signs a new user up on the pool at `base` (its outbox in `data`) and in.
async fn new_user(client: &reqwest::Client, base: &str, data: &Path, client_id: &str) -> String {
    let email = "mover@example.com";
    cognito(
        client,
        base,
        "SignUp",
        json!({"ClientId": client_id, "Username": email, "Password": PASSWORD}),
    )
    .await;
    let outbox = std::fs::read_to_string(data.join("outbox.jsonl")).unwrap();
    let code = outbox
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|message| message["to"] == email && message["purpose"] == "sign-up")
        .expect("a sign-up code in the outbox")["code"]
        .as_str()
        .unwrap()
        .to_owned();
    cognito(
        client,
        base,
        "ConfirmSignUp",
        json!({"ClientId": client_id, "Username": email, "ConfirmationCode": code}),
    )
    .await;
    sign_in(client, base, client_id, email).await
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_eight_writers_holds_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (data, copy) = (dir.path().join("data"), dir.path().join("copy"));
    let mut server = serve(&data, "127.0.0.1:0");
    let client = reqwest::Client::new();
    let config: Value = client
        .get(format!("{}/config.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = config["userPoolClientId"].as_str().unwrap().to_owned();
    let token = new_user(&client, &server.base, &data, &client_id).await;

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (client, base, token) = (client.clone(), server.base.clone(), token.clone());
            let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let response = client
                        .post(format!("{base}/tasks"))
                        .header("authorization", &token)
                        .json(&json!({"title": format!("writer {writer} task {n}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 201);
                    let task: Value = response.json().await.unwrap();
                    let id = task["task_id"].as_str().unwrap().to_owned();
                    acknowledged.lock().unwrap().push(id);
                    n += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;

    let before: HashSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    let backup = {
        let (data, copy) = (data.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            run_ok(
                taskapi(None, "unused")
                    .args(["backup", "--data-dir"])
                    .arg(&data)
                    .arg("--out")
                    .arg(&copy),
            )
        })
    };
    let summary = backup.await.unwrap();
    let during = acknowledged.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(summary.contains("integrity_check"), "{summary}");
    assert!(
        !before.is_empty(),
        "writes were acknowledged before the backup"
    );
    assert!(
        during > 0,
        "the server kept taking writes while the backup ran"
    );

    let db = rusqlite::Connection::open(copy.join("tasks.sqlite3")).unwrap();
    let verdict: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
    let copied: HashSet<String> = db
        .prepare("SELECT task_id FROM TaskApp")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let missing: Vec<_> = before.difference(&copied).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not in it: {missing:?}"
    );
    drop(db);

    assert_eq!(mode(&copy), 0o700);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&copy).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    for expected in [
        "tasks.sqlite3",
        "userpool.sqlite3",
        "credentials",
        "outbox.jsonl",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} in {names:?}"
        );
    }
    assert_eq!(
        std::fs::read(copy.join("credentials")).unwrap(),
        std::fs::read(data.join("credentials")).unwrap()
    );

    // Restoring is serving the copy (on the same address, which the tokens' issuer names):
    // the same account signs in, and a token the original server issued is still valid
    // (the signing keys came along).
    server.terminate(Duration::from_secs(10));
    let restored = serve(&copy, server.base.trim_start_matches("http://"));
    let fresh = sign_in(&client, &restored.base, &client_id, "mover@example.com").await;
    for token in [&token, &fresh] {
        let listed = client
            .get(format!("{}/tasks?limit=1", restored.base))
            .header("authorization", token)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status(), 200);
    }
    // A backup never overwrites: an existing directory is refused.
    let refused = run_failing(
        taskapi(None, "unused")
            .args(["backup", "--data-dir"])
            .arg(&data)
            .arg("--out")
            .arg(&copy),
    );
    assert!(refused.contains("exists already"), "{refused}");
}
