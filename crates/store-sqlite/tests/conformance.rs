use taskapi_store_sqlite::SqliteStore;

async fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tasks.sqlite3")).unwrap();
    (dir, store)
}

mod conformance {
    taskapi_store_conformance::conformance_tests!(super::open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reopening() {
    use taskapi_domain::{Description, NewTask, Status, Task, TaskStore, Timestamp, Title};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/tasks.sqlite3");
    let task = Task::create(
        NewTask {
            title: Title::parse("durable").unwrap(),
            description: Description::default(),
            status: Status::Pending,
            due_at: None,
            priority: taskapi_domain::Priority::None,
        },
        Timestamp::now(),
    );
    {
        let store = SqliteStore::open(&path).unwrap();
        store.create("alice", &task).await.unwrap();
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(
        reopened.get("alice", &task.task_id).await.unwrap(),
        Some(task)
    );
}

mod projects {
    taskapi_store_conformance::project_tests!(super::open);
}

mod transfer {
    taskapi_store_conformance::transfer_tests!(super::open);
}

mod webhooks {
    taskapi_store_conformance::webhook_tests!(super::open);
}
