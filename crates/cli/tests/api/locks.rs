//! Issue 28: the server keeps the SQLite locks of its databases for as long as it runs.
//! POSIX drops every lock a process holds on a file when the process closes *any*
//! descriptor of it, so a start-up step that opened and closed a database file after
//! SQLite had it open left the server lock-less; the next process to read the database
//! (an operator's `sqlite3`, a backup tool) then deleted the live WAL on close, and every
//! later write was lost at the next crash.

use std::path::Path;

use reqwest::StatusCode;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use taskapi_testkit::ChildServer;

use crate::pool_faults::{Cognito, serve};

const WRITES: usize = 30;

/// What an operator's glance does: another process opens the database, reads, closes.
fn glance(database: &Path) {
    let conn = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .unwrap();
    assert!(tables > 0, "{} has its schema", database.display());
    drop(conn);
}

/// The files whose locks WAL mode keeps while the server has the database open.
fn lock_files(data_dir: &Path) -> Vec<std::path::PathBuf> {
    ["tasks.sqlite3", "userpool.sqlite3"]
        .into_iter()
        .flat_map(|db| [data_dir.join(db), data_dir.join(format!("{db}-shm"))])
        .collect()
}

/// Whether `/proc/locks` lists a lock of process `pid` on `file` (by inode).
fn holds_lock(pid: u32, file: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(file).unwrap().ino().to_string();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) != Some(&"->")
                && fields.get(4) == Some(&pid.to_string().as_str())
                && fields
                    .get(5)
                    .is_some_and(|id| id.rsplit(':').next() == Some(inode.as_str()))
        })
}

async fn create_task(server: &ChildServer, token: &str, n: usize) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/tasks", server.base))
        .header("authorization", token)
        .json(&json!({"title": format!("after the glance {n}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_database_file_stays_locked_through_start_up_and_use() {
    let data = tempfile::tempdir().unwrap();
    // A second start opens files that exist already (the credentials, the outbox, the
    // hosted UI's certificate): the path where a stray open and close once happened.
    for _ in 0..2 {
        let mut server = serve(data.path(), "127.0.0.1:0", &[], None);
        let cognito = Cognito::of(&server).await;
        let token = cognito
            .id_token(&format!("{}@example.com", uuid::Uuid::new_v4()))
            .await;
        create_task(&server, &token, 0).await;
        for file in lock_files(data.path()) {
            assert!(
                holds_lock(server.pid(), &file),
                "the server holds its lock on {}",
                file.display()
            );
        }
        assert_eq!(cognito.ready().await.0, StatusCode::OK);
        server.kill_9();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glance_at_tasks_sqlite3_loses_no_acknowledged_task_at_a_crash() {
    let data = tempfile::tempdir().unwrap();
    let mut server = serve(data.path(), "127.0.0.1:0", &[], None);
    let token = Cognito::of(&server)
        .await
        .id_token("owner@example.com")
        .await;
    create_task(&server, &token, 0).await;
    glance(&data.path().join("tasks.sqlite3"));
    let mut acknowledged = Vec::new();
    for n in 1..=WRITES {
        acknowledged.push(create_task(&server, &token, n).await);
    }
    server.kill_9();

    let server = serve(data.path(), "127.0.0.1:0", &[], None);
    let token = Cognito::of(&server)
        .await
        .sign_in("owner@example.com")
        .await;
    let stored = crate::helpers::follow_pages(
        &reqwest::Client::new(),
        &server.base,
        "/tasks?limit=100",
        &token,
    )
    .await;
    let lost = acknowledged
        .iter()
        .filter(|task| !stored.contains(task))
        .count();
    assert_eq!(lost, 0, "{lost} of {WRITES} acknowledged tasks lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glance_at_userpool_sqlite3_loses_no_acknowledged_account_at_a_crash() {
    let data = tempfile::tempdir().unwrap();
    let mut server = serve(data.path(), "127.0.0.1:0", &[], None);
    let cognito = Cognito::of(&server).await;
    glance(&data.path().join("userpool.sqlite3"));
    let emails: Vec<String> = (0..WRITES)
        .map(|n| format!("after-glance-{n}@example.com"))
        .collect();
    for email in &emails {
        assert_eq!(cognito.sign_up(email).await.status(), StatusCode::OK);
    }
    server.kill_9();

    let server = serve(data.path(), "127.0.0.1:0", &[], None);
    let cognito = Cognito::of(&server).await;
    let mut lost = 0;
    for email in &emails {
        if !cognito.exists(email).await {
            lost += 1;
        }
    }
    assert_eq!(lost, 0, "{lost} of {WRITES} acknowledged sign-ups lost");
}
