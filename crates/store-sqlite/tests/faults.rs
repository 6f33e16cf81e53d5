//! The store under storage faults it can meet on a laptop: its file deleted or replaced
//! while open, a corrupt file at start, a file from the previous schema. (A full disk is
//! exercised end to end, on a small tmpfs, by the server's tests.)

use std::path::Path;

use taskapi_domain::{Description, NewTask, Status, StoreError, Task, TaskStore, Timestamp, Title};
use taskapi_store_sqlite::{OpenError, SqliteStore};

fn task(title: &str) -> Task {
    Task::create(
        NewTask {
            title: Title::parse(title).unwrap(),
            description: Description::default(),
            status: Status::Pending,
            due_at: None,
            priority: taskapi_domain::Priority::None,
        },
        Timestamp::now(),
    )
}

async fn assert_writes_refused(store: &SqliteStore, what: &str) {
    let refused = store.create("alice", &task("after")).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable { .. })),
        "a write after the file was {what} is refused as unavailable, got {refused:?}"
    );
    let not_ready = store.ready().await.expect_err("not ready");
    assert!(
        not_ready.0.contains("tasks.sqlite3"),
        "the reason names the file: {not_ready}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_file_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    store.create("alice", &task("before")).await.unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_writes_refused(&store, "deleted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_file_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    let kept = task("before");
    store.create("alice", &kept).await.unwrap();
    // A restore from a backup: a copy renamed over the open file.
    let copy = dir.path().join("copy.sqlite3");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::rename(&copy, &path).unwrap();
    assert_writes_refused(&store, "replaced").await;
}

#[test]
fn a_corrupt_file_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    fill_then_corrupt(&path);
    let err = SqliteStore::open(&path)
        .err()
        .expect("a corrupt file is refused");
    assert!(matches!(err, OpenError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("tasks.sqlite3"), "{err}");
}

/// A database with a valid header whose table pages are overwritten with garbage.
fn fill_then_corrupt(path: &Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(path).unwrap();
        for n in 0..200 {
            store
                .create("alice", &task(&format!("task {n} {}", "x".repeat(100))))
                .await
                .unwrap();
        }
    });
    drop(runtime);
    // Fold the WAL into the file, then scribble over every page after the first.
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 8192, "the file has several pages");
    for (n, byte) in bytes[4096..].iter_mut().enumerate() {
        *byte = (n % 251) as u8;
    }
    std::fs::write(path, bytes).unwrap();
}

/// Waits for a dropped store's writer thread to close its connection: a server opens its
/// database once, but these tests open one file twice in one process, and the old writer's
/// late close must not overlap the new store's first readiness check of its locks.
async fn closed() {
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_file_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    let old = task("from version 1");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.create("alice", &old).await.unwrap();
    }
    closed().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP INDEX OwnerStatus; DROP TABLE Readiness; PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get("alice", &old.task_id).await.unwrap(), Some(old));
    store.ready().await.expect("ready after the upgrade");
}

/// A version 2 file (no projects) gains the project tables and a task's project columns,
/// its tasks untouched, and then holds projects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_file_gains_projects_in_place() {
    use taskapi_domain::{
        Membership, Project, ProjectFields, ProjectName, ProjectStore, Role, Timestamp,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    let old = task("from version 2");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.create("alice", &old).await.unwrap();
    }
    closed().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE Projects; DROP TABLE Members; DROP TABLE Invitations;
         DROP TABLE Events; DROP TABLE EventCursors;
         ALTER TABLE TaskApp DROP COLUMN project_id;
         ALTER TABLE TaskApp DROP COLUMN created_by;
         ALTER TABLE TaskApp DROP COLUMN assignee;
         PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.get("alice", &old.task_id).await.unwrap(), Some(old));
    let project = Project::create(ProjectName::parse("new").unwrap(), Timestamp::now());
    let owner = Membership {
        project_id: project.project_id.clone(),
        user_id: "alice".into(),
        email: None,
        role: Role::Owner,
        joined_at: Timestamp::now(),
    };
    store.create_project(&project, &owner).await.unwrap();
    let mut shared = task("in the project");
    shared.project = Some(ProjectFields {
        project_id: project.project_id.clone(),
        created_by: "alice".into(),
        assignee: None,
    });
    store.create_project_task(&shared).await.unwrap();
    let read = store
        .project_task(&project.project_id, &shared.task_id)
        .await;
    assert_eq!(read.unwrap(), Some(shared));
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 5);
}

/// A version 3 file (no planning fields) gains them and the due-date indexes in place:
/// its tasks read as undated with priority `none`, and new ones are planned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_file_gains_planning_in_place() {
    use taskapi_domain::{ListQuery, Priority, parse_instant};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    let old = task("from version 3");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.create("alice", &old).await.unwrap();
    }
    closed().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP INDEX GSI2; DROP INDEX GSI3; DROP TABLE Events; DROP TABLE EventCursors;
         ALTER TABLE TaskApp DROP COLUMN due_at;
         ALTER TABLE TaskApp DROP COLUMN priority;
         ALTER TABLE TaskApp DROP COLUMN GSI2PK;
         ALTER TABLE TaskApp DROP COLUMN GSI2SK;
         ALTER TABLE TaskApp DROP COLUMN GSI3SK;
         ALTER TABLE Idempotency DROP COLUMN due_at;
         ALTER TABLE Idempotency DROP COLUMN priority;
         PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    let read = store.get("alice", &old.task_id).await.unwrap().unwrap();
    assert_eq!((read.due_at.clone(), read.priority), (None, Priority::None));
    assert_eq!(read, old);
    let mut planned = task("planned");
    planned.due_at = Some(parse_instant("due_at", "2030-01-01T00:00:00Z").unwrap());
    planned.priority = Priority::High;
    store.create("alice", &planned).await.unwrap();
    let upcoming = store
        .upcoming("alice", &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(upcoming.tasks, [planned]);
    assert_eq!(
        store.events_after(0, 10).unwrap().len(),
        1,
        "the outbox is there too"
    );
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 5);
}

/// The Upcoming view reads its partial index, in its order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_reads_use_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            taskapi_store_sqlite::UPCOMING
        ))
        .unwrap()
        .query_map(["UPCOMING#u", "", "", "", "1"], |row| row.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let plan = plan.join("; ");
    assert!(plan.contains("USING INDEX GSI2"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

/// A stored value that does not decode as what the store wrote (here text that is not
/// UTF-8, as a damaged page can hold without SQLite noticing) is corruption, not a bug: the
/// read is `Unavailable` (503), not `Internal` (500), and the store stays not ready and
/// refuses writes even though nothing fails to commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_does_not_decode_is_corruption_and_it_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    let damaged = task("before");
    store.create("alice", &damaged).await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE TaskApp SET title = CAST(X'FFFE' AS TEXT)", [])
        .unwrap();
    let read = store.get("alice", &damaged.task_id).await;
    assert!(
        matches!(read, Err(StoreError::Unavailable { .. })),
        "{read:?}"
    );
    assert_writes_refused(&store, "corrupted").await;
    let not_ready = store.ready().await.expect_err("still not ready");
    assert!(not_ready.0.contains("corrupt"), "{not_ready}");
}
