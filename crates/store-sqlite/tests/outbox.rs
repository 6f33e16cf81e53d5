//! The outbox: each acknowledged change has exactly one event, written with it, in commit
//! order; a write that fails has none; the live feed hands on what committed.

use serde_json::Value;
use taskapi_domain::{
    Audience, Description, EventKind, Membership, NewTask, Priority, Project, ProjectName,
    ProjectStore, Role, Status, StoreError, Task, TaskPatch, TaskStore, TaskUpdate, Timestamp,
    Title,
};
use taskapi_store_sqlite::{Committed, SqliteStore};

fn task(title: &str) -> Task {
    Task::create(
        NewTask {
            title: Title::parse(title).unwrap(),
            description: Description::default(),
            status: Status::Pending,
            due_at: None,
            priority: Priority::None,
        },
        Timestamp::now(),
    )
}

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tasks.sqlite3")).unwrap();
    (dir, store)
}

/// A project Alice creates (and owns).
async fn alices_project(store: &SqliteStore) -> Project {
    let project = Project::create(ProjectName::parse("Launch").unwrap(), Timestamp::now());
    let owner = Membership {
        project_id: project.project_id.clone(),
        user_id: "alice".into(),
        email: None,
        role: Role::Owner,
        joined_at: project.created_at.clone(),
    };
    store.create_project(&project, &owner).await.unwrap();
    project
}

fn json(event: &Committed) -> Value {
    serde_json::from_str(&event.json).unwrap()
}

fn kinds(events: &[Committed]) -> Vec<EventKind> {
    events.iter().map(|event| event.kind).collect()
}

fn rename(title: &str, expected: Option<Timestamp>) -> TaskUpdate {
    TaskUpdate {
        patch: TaskPatch {
            title: Some(Title::parse(title).unwrap()),
            ..TaskPatch::default()
        },
        updated_at: Timestamp::now(),
        expected_updated_at: expected,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_tasks_life_is_three_events_for_its_owner_only() {
    let (_dir, store) = open();
    let created = task("Write the report");
    store.create("alice", &created).await.unwrap();
    let updated = store
        .update("alice", &created.task_id, &rename("Send the report", None))
        .await
        .unwrap();
    store.delete("alice", &created.task_id, None).await.unwrap();

    let events = store.events_after(0, 100).unwrap();
    assert_eq!(
        kinds(&events),
        [
            EventKind::TaskCreated,
            EventKind::TaskUpdated,
            EventKind::TaskDeleted
        ]
    );
    assert!(events.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    for event in &events {
        assert_eq!(event.audience, Audience::User("alice".into()));
        assert_eq!(event.member, None);
    }
    let first = json(&events[0]);
    assert_eq!(first["type"], "task.created");
    assert_eq!(first["project_id"], Value::Null);
    assert_eq!(first["data"], serde_json::to_value(&created).unwrap());
    assert_eq!(first["at"], created.updated_at.as_str());
    assert_eq!(json(&events[1])["data"]["title"], "Send the report");
    assert_eq!(json(&events[1])["at"], updated.updated_at.as_str());
    assert_eq!(
        json(&events[2])["data"],
        serde_json::json!({ "task_id": created.task_id.as_str() })
    );
    let ids: std::collections::HashSet<_> = events.iter().map(|e| json(e)["id"].clone()).collect();
    assert_eq!(ids.len(), 3, "every event has its own id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_fails_records_nothing() {
    let (_dir, store) = open();
    let created = task("Once");
    store.create("alice", &created).await.unwrap();
    let stale = Some(Timestamp::now());
    assert!(matches!(
        store
            .update("alice", &created.task_id, &rename("Twice", stale.clone()))
            .await,
        Err(StoreError::PreconditionFailed)
    ));
    assert!(matches!(
        store
            .delete("alice", &created.task_id, stale.as_ref())
            .await,
        Err(StoreError::PreconditionFailed)
    ));
    assert!(matches!(
        store.create("alice", &created).await,
        Err(StoreError::AlreadyExists)
    ));
    assert!(matches!(
        store.delete("bob", &created.task_id, None).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        kinds(&store.events_after(0, 100).unwrap()),
        [EventKind::TaskCreated]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_changes_go_to_the_project_and_name_the_member() {
    let (_dir, store) = open();
    let project = alices_project(&store).await;
    let renamed = ProjectName::parse("Launch day").unwrap();
    store
        .rename_project(&project.project_id, &renamed, &Timestamp::now())
        .await
        .unwrap();
    let mut in_project = task("Book the room");
    in_project.project = Some(taskapi_domain::ProjectFields {
        project_id: project.project_id.clone(),
        created_by: "alice".into(),
        assignee: None,
    });
    store.create_project_task(&in_project).await.unwrap();
    store.delete_project(&project.project_id).await.unwrap();

    let events = store.events_after(0, 100).unwrap();
    assert_eq!(
        kinds(&events),
        [
            EventKind::MemberAdded,
            EventKind::ProjectUpdated,
            EventKind::TaskCreated,
            EventKind::ProjectDeleted
        ]
    );
    for event in &events {
        assert_eq!(
            event.audience,
            Audience::Project(project.project_id.clone())
        );
        assert_eq!(json(event)["project_id"], project.project_id.as_str());
    }
    assert_eq!(events[0].member.as_deref(), Some("alice"));
    assert_eq!(json(&events[0])["data"]["role"], "owner");
    assert_eq!(json(&events[1])["data"]["name"], "Launch day");
    assert_eq!(
        json(&events[3])["data"],
        serde_json::json!({ "project_id": project.project_id.as_str() })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_hands_on_each_commit_in_order() {
    let (_dir, store) = open();
    let mut feed = store.feed().subscribe();
    let tasks: Vec<Task> = (0..20).map(|n| task(&format!("task {n}"))).collect();
    // Concurrent writes, so that they share the writer's batches.
    let writes: Vec<_> = tasks
        .iter()
        .map(|task| {
            let (store, task) = (store.clone(), task.clone());
            tokio::spawn(async move { store.create("alice", &task).await })
        })
        .collect();
    for write in writes {
        write.await.unwrap().unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < tasks.len() {
        let batch = feed.recv().await.unwrap();
        seen.extend(batch.iter().cloned());
    }
    assert!(seen.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert_eq!(
        seen.iter().map(|event| event.seq).collect::<Vec<_>>(),
        store
            .events_after(0, 100)
            .unwrap()
            .iter()
            .map(|event| event.seq)
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_outlive_a_restart_and_numbers_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.sqlite3");
    let last = {
        let store = SqliteStore::open(&path).unwrap();
        store.create("alice", &task("before")).await.unwrap();
        store.events_after(0, 10).unwrap()[0].seq
    };
    let store = SqliteStore::open(&path).unwrap();
    let mut feed = store.feed().subscribe();
    store.create("alice", &task("after")).await.unwrap();
    let batch = feed.recv().await.unwrap();
    assert_eq!(batch.len(), 1, "only what committed since the subscription");
    assert!(batch[0].seq > last);
    assert_eq!(store.events_after(0, 10).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_role_change_and_leaving_are_member_events_about_the_member() {
    let (_dir, store) = open();
    let project = alices_project(&store).await;
    let email = taskapi_domain::Email::parse("bob@example.com").unwrap();
    let invitation = taskapi_domain::Invitation::create(
        &project,
        email,
        Role::Viewer,
        time::OffsetDateTime::now_utc(),
    );
    store.invite(&invitation).await.unwrap();
    let bob = Membership {
        project_id: project.project_id.clone(),
        user_id: "bob".into(),
        email: Some("bob@example.com".into()),
        role: Role::Viewer,
        joined_at: Timestamp::now(),
    };
    store.accept(&invitation, &bob).await.unwrap();
    let editor = store.change_role(&bob, Role::Editor).await.unwrap();
    store.remove_member(&editor).await.unwrap();

    let events = store.events_after(0, 100).unwrap();
    assert_eq!(
        kinds(&events),
        [
            EventKind::MemberAdded,
            EventKind::MemberAdded,
            EventKind::MemberUpdated,
            EventKind::MemberRemoved
        ],
        "an invitation itself is no event"
    );
    assert!(
        events[1..]
            .iter()
            .all(|e| e.member.as_deref() == Some("bob"))
    );
    assert_eq!(json(&events[2])["data"]["role"], "editor");
    assert_eq!(json(&events[3])["data"]["user_id"], "bob");
}
