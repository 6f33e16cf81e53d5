//! SQLite → file → DynamoDB (dynalite, moto) → file → SQLite: the same items, byte for
//! byte, and the same answers from the API on each store.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use taskapi_testkit::TestPool;
use taskapi_testkit::emulator::Emulator;

use crate::helpers::{Api, run_ok, sorted_lines, taskapi};

/// The tokens of the people in the data set.
struct People {
    alice: String,
    bob: String,
    carol: String,
    admin: String,
}

impl People {
    fn of(pool: &TestPool) -> Self {
        Self {
            alice: pool.id_token("alice", &[]),
            bob: pool.id_token("bob", &[]),
            carol: pool.id_token("carol", &[]),
            admin: pool.id_token("root", &["admins"]),
        }
    }
}

/// What a team typed in locally: personal tasks (one created with an Idempotency-Key, one
/// moved on), a project with an owner and an editor, a pending invitation, project tasks
/// (one assigned, one keyed). Returns the project's id.
async fn populate(api: &Api, people: &People) -> String {
    for (title, status) in [
        ("write", "pending"),
        ("review", "in_progress"),
        ("ship", "done"),
    ] {
        api.ok(
            Method::POST,
            "/tasks",
            &people.alice,
            Some(json!({"title": title, "description": "by alice", "status": status})),
            StatusCode::CREATED,
        )
        .await;
    }
    let (status, _) = api
        .call(
            Method::POST,
            "/tasks",
            &people.alice,
            Some(json!({"title": "keyed"})),
            &[("idempotency-key", "alice-key-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let bobs = api
        .ok(
            Method::POST,
            "/tasks",
            &people.bob,
            Some(json!({"title": "bob's"})),
            StatusCode::CREATED,
        )
        .await;
    api.ok(
        Method::PATCH,
        &format!("/tasks/{}", bobs["task_id"].as_str().unwrap()),
        &people.bob,
        Some(json!({"status": "done"})),
        StatusCode::OK,
    )
    .await;
    let project = api
        .ok(
            Method::POST,
            "/projects",
            &people.alice,
            Some(json!({"name": "Launch"})),
            StatusCode::CREATED,
        )
        .await;
    let project_id = project["project_id"].as_str().unwrap().to_owned();
    let invitations = format!("/projects/{project_id}/invitations");
    let invitation = api
        .ok(
            Method::POST,
            &invitations,
            &people.alice,
            Some(json!({"email": "bob@example.com", "role": "editor"})),
            StatusCode::CREATED,
        )
        .await;
    api.ok(
        Method::POST,
        &format!(
            "/invitations/{}/accept",
            invitation["invitation_id"].as_str().unwrap()
        ),
        &people.bob,
        None,
        StatusCode::OK,
    )
    .await;
    api.ok(
        Method::POST,
        &invitations,
        &people.alice,
        Some(json!({"email": "carol@example.com", "role": "viewer"})),
        StatusCode::CREATED,
    )
    .await;
    let tasks = format!("/projects/{project_id}/tasks");
    let (status, _) = api
        .call(
            Method::POST,
            &tasks,
            &people.alice,
            Some(json!({"title": "plan", "assignee": "bob", "due_at": "2030-01-01T09:00:00+01:00", "priority": "high"})),
            &[("idempotency-key", "alice-project-key")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    api.ok(
        Method::POST,
        &tasks,
        &people.bob,
        Some(json!({"title": "build"})),
        StatusCode::CREATED,
    )
    .await;
    project_id
}

/// Everything the API answers about the data set, read-only; with `replays`, also the
/// replays of the keyed creates (which write nothing; dynalite has no transactions, so no
/// keyed creates at all).
async fn answers(
    api: &Api,
    people: &People,
    project: &str,
    replays: bool,
) -> Vec<(String, StatusCode, Value)> {
    let mut seen = Vec::new();
    let reads = [
        (&people.alice, "/tasks".to_owned()),
        (&people.alice, "/tasks?status=done".to_owned()),
        (&people.bob, "/tasks".to_owned()),
        (&people.carol, "/tasks".to_owned()),
        (&people.alice, "/projects".to_owned()),
        (&people.bob, "/projects".to_owned()),
        (&people.carol, "/projects".to_owned()),
        (&people.carol, "/invitations".to_owned()),
        (&people.bob, format!("/projects/{project}")),
        (&people.bob, format!("/projects/{project}/members")),
        (&people.bob, format!("/projects/{project}/tasks")),
        (
            &people.bob,
            format!("/projects/{project}/tasks?assignee=bob"),
        ),
        (&people.alice, format!("/projects/{project}/invitations")),
        // The planning views read the due-date indexes, which the import must rebuild.
        (&people.bob, "/upcoming".to_owned()),
        (
            &people.bob,
            format!("/projects/{project}/tasks?sort=due_at"),
        ),
        (&people.carol, format!("/projects/{project}")),
        (&people.admin, "/admin/tasks?status=pending".to_owned()),
        (&people.admin, "/admin/tasks?status=done".to_owned()),
    ];
    for (token, path) in reads {
        let (status, body) = api.call(Method::GET, &path, token, None, &[]).await;
        seen.push((path, status, body));
    }
    if !replays {
        return seen;
    }
    let replays = [
        (
            "/tasks".to_owned(),
            json!({"title": "keyed"}),
            "alice-key-1",
        ),
        (
            format!("/projects/{project}/tasks"),
            json!({"title": "plan", "assignee": "bob", "due_at": "2030-01-01T09:00:00+01:00", "priority": "high"}),
            "alice-project-key",
        ),
    ];
    for (path, body, key) in replays {
        let (status, body) = api
            .call(
                Method::POST,
                &path,
                &people.alice,
                Some(body),
                &[("idempotency-key", key)],
            )
            .await;
        seen.push((format!("replay {path}"), status, body));
    }
    seen
}

/// The same answers, compared one by one so a difference names its call.
fn assert_same(
    seen: &[(String, StatusCode, Value)],
    expected: &[(String, StatusCode, Value)],
    on: &str,
) {
    assert_eq!(seen.len(), expected.len(), "{on}");
    for (seen, expected) in seen.iter().zip(expected) {
        assert_eq!(seen, expected, "{on}: {}", expected.0);
    }
}

/// Where a command reads or writes: the emulator (for DynamoDB) and the store flags.
struct Store<'a> {
    emulator: Option<&'a Emulator>,
    flags: Vec<std::ffi::OsString>,
}

impl Store<'_> {
    fn command(&self, subcommand: &str) -> std::process::Command {
        let mut command = taskapi(self.emulator, TABLE);
        command.arg(subcommand).args(&self.flags).arg("--quiet");
        command
    }

    fn export(&self, out: &Path, extra: &[&str]) -> String {
        run_ok(self.command("export").arg("--out").arg(out).args(extra))
    }

    fn import(&self, input: &Path) -> String {
        run_ok(self.command("import").arg("--in").arg(input))
    }
}

const TABLE: &str = "TaskAppMoved";

fn sqlite(dir: &Path) -> Store<'static> {
    Store {
        emulator: None,
        flags: vec!["--data-dir".into(), dir.into()],
    }
}

async fn round_trip_through(emulator: Emulator) {
    let pool = TestPool::start().await;
    let people = People::of(&pool);
    let dir = tempfile::tempdir().unwrap();
    let (first, second, server_files) = (
        dir.path().join("first"),
        dir.path().join("second"),
        dir.path().join("files"),
    );

    let local = Api::sqlite(&first, &pool);
    let project = populate(&local, &people).await;
    let expected = answers(&local, &people, &project, true).await;

    // Exported while the server runs.
    let from_sqlite = dir.path().join("from-sqlite.jsonl");
    sqlite(&first).export(&from_sqlite, &[]);
    let lines = sorted_lines(&from_sqlite);
    // 5 personal tasks, 2 idempotency records, the project, 2 members and their mirrors,
    // the pending invitation and its mirror, 2 project tasks.
    assert_eq!(lines.len(), 5 + 2 + 1 + 4 + 2 + 2, "{lines:#?}");

    run_ok(taskapi(Some(&emulator), TABLE).args(["table", "create"]));
    let dynamodb = Store {
        emulator: Some(&emulator),
        flags: vec!["--store".into(), "dynamodb".into()],
    };
    let summary = dynamodb.import(&from_sqlite);
    assert!(
        summary.contains("16 lines read; 16 written, 0 unchanged"),
        "{summary}"
    );
    let again = dynamodb.import(&from_sqlite);
    assert!(
        again.contains("0 written, 16 unchanged, 0 conflicts"),
        "{again}"
    );

    let from_dynamodb = dir.path().join("from-dynamodb.jsonl.gz");
    dynamodb.export(&from_dynamodb, &["--segments", "3", "--consistent"]);
    assert_eq!(
        sorted_lines(&from_dynamodb),
        lines,
        "the same items, byte for byte"
    );
    assert!(
        !Path::new(&format!("{}.checkpoint", from_dynamodb.display())).exists(),
        "a finished export leaves no checkpoint"
    );

    let summary = sqlite(&second).import(&from_dynamodb);
    assert!(
        summary.contains(
            "16 lines read; 13 written, 0 unchanged, 0 conflicts kept, 0 overwritten, 3 mirrors"
        ),
        "{summary}"
    );
    let again = sqlite(&second).import(&from_dynamodb);
    assert!(again.contains("0 written, 13 unchanged"), "{again}");
    let back = dir.path().join("back.jsonl");
    sqlite(&second).export(&back, &[]);
    assert_eq!(sorted_lines(&back), lines, "back on SQLite, the same items");

    let on_dynamodb = Api::dynamodb(&emulator, TABLE, &server_files, &pool);
    let transactions = emulator.name() != "dynalite";
    let mut without_replays = expected.clone();
    without_replays.truncate(expected.len() - 2);
    assert_same(
        &answers(&on_dynamodb, &people, &project, transactions).await,
        if transactions {
            &expected
        } else {
            &without_replays
        },
        emulator.name(),
    );
    let on_second = Api::sqlite(&second, &pool);
    assert_same(
        &answers(&on_second, &people, &project, true).await,
        &expected,
        "SQLite, imported",
    );
}

#[tokio::test]
async fn sqlite_to_dynalite_and_back() {
    round_trip_through(Emulator::dynalite()).await;
}

#[tokio::test]
async fn sqlite_to_moto_and_back() {
    round_trip_through(Emulator::moto()).await;
}
