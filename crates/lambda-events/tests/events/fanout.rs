//! The stream fan-out, end to end: real changes made through the DynamoDB store on moto,
//! the table's stream read back with `GetRecords` and handed to the fan-out over the
//! Runtime API as Lambda would; what each socket received is checked against what the API
//! returned for the same change, and against the events the SQLite store's outbox records
//! for the very same changes (the same JSON on both runtimes).

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use taskapi_domain::{
    Email, Invitation, Membership, NewTask, Project, ProjectFields, ProjectName, ProjectStore,
    Role, Task, TaskPatch, TaskStore, TaskUpdate, Timestamp, Title,
};
use taskapi_store_sqlite::SqliteStore;
use taskapi_testkit::runtime_api::Outcome;

use crate::harness::Stack;

fn task(title: &str) -> Task {
    Task::create(
        NewTask {
            title: Title::parse(title).unwrap(),
            description: Default::default(),
            status: Default::default(),
            due_at: None,
            priority: Default::default(),
        },
        Timestamp::now(),
    )
}

fn member(project: &Project, user: &str, role: Role) -> Membership {
    Membership {
        project_id: project.project_id.clone(),
        user_id: user.to_owned(),
        email: Some(format!("{user}@example.com")),
        role,
        joined_at: Timestamp::now(),
    }
}

fn rename(title: &str) -> TaskUpdate {
    TaskUpdate {
        patch: TaskPatch {
            title: Some(Title::parse(title).unwrap()),
            ..TaskPatch::default()
        },
        updated_at: Timestamp::now(),
        expected_updated_at: None,
    }
}

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// (type, data) of each frame, in arrival order.
fn kinds(frames: &[Value]) -> Vec<(String, Value)> {
    frames
        .iter()
        .map(|frame| {
            (
                frame["type"].as_str().unwrap().to_owned(),
                frame["data"].clone(),
            )
        })
        .collect()
}

/// (type, project_id, data) of the events the SQLite outbox recorded after `seq`, which
/// moves past them. `id` and `at` differ between stores (a stream record's id; a
/// deletion's time), everything else is the same.
fn outbox_since(sqlite: &SqliteStore, seq: &mut i64) -> Vec<(String, Value, Value)> {
    let events = sqlite.events_after(*seq, 100).unwrap();
    if let Some(last) = events.last() {
        *seq = last.seq;
    }
    events
        .iter()
        .map(|event| serde_json::from_str(&event.json).unwrap())
        .map(|json: Value| triple(&json))
        .collect()
}

fn triple(event: &Value) -> (String, Value, Value) {
    (
        event["type"].as_str().unwrap().to_owned(),
        event["project_id"].clone(),
        event["data"].clone(),
    )
}

/// The same triples of what a socket received.
fn as_outbox(frames: &[Value]) -> Vec<(String, Value, Value)> {
    frames.iter().map(triple).collect()
}

fn no_failures(answer: &Value) {
    assert_eq!(answer, &json!({ "batchItemFailures": [] }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_reaches_the_sockets_of_whoever_may_see_it() {
    let stack = Stack::start(&[]).await;
    let store = &stack.store;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("tasks.sqlite3")).unwrap();
    let mut seq = 0;
    let (alice_tab, alice_phone) = (stack.connect("alice").await, stack.connect("alice").await);
    let bob = stack.connect("bob").await;
    let carol = stack.connect("carol").await;
    // The connections' own items are in the stream too, and are no events.
    no_failures(&stack.fan_out().await);
    assert!(stack.sockets.posted.lock().unwrap().is_empty());

    // A personal task: its owner's sockets only, every one of them.
    let mine = task("Personal");
    let renaming = rename("Personal, renamed");
    store.create("alice", &mine).await.unwrap();
    let renamed = store
        .update("alice", &mine.task_id, &renaming)
        .await
        .unwrap();
    store.delete("alice", &mine.task_id, None).await.unwrap();
    sqlite.create("alice", &mine).await.unwrap();
    sqlite
        .update("alice", &mine.task_id, &renaming)
        .await
        .unwrap();
    sqlite.delete("alice", &mine.task_id, None).await.unwrap();
    no_failures(&stack.fan_out().await);
    let expected = vec![
        ("task.created".to_owned(), json_of(&mine)),
        ("task.updated".to_owned(), json_of(&renamed)),
        (
            "task.deleted".to_owned(),
            json!({ "task_id": mine.task_id.as_str() }),
        ),
    ];
    for socket in [&alice_tab, &alice_phone] {
        let frames = stack.sockets.frames(socket);
        assert_eq!(kinds(&frames), expected);
        let first = &frames[0];
        assert_eq!(first["project_id"], Value::Null);
        assert_eq!(first["at"], json_of(&mine.updated_at));
        assert!(first["id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    assert!(stack.sockets.frames(&bob).is_empty());
    assert!(stack.sockets.frames(&carol).is_empty());
    assert_eq!(
        as_outbox(&stack.sockets.frames(&alice_tab)),
        outbox_since(&sqlite, &mut seq)
    );
    stack.sockets.clear();

    // A project: alice creates it, bob joins, a task is created in it.
    let project = Project::create(ProjectName::parse("Launch").unwrap(), Timestamp::now());
    let owner = member(&project, "alice", Role::Owner);
    store.create_project(&project, &owner).await.unwrap();
    let invitation = Invitation::create(
        &project,
        Email::parse("bob@example.com").unwrap(),
        Role::Editor,
        time::OffsetDateTime::now_utc(),
    );
    store.invite(&invitation).await.unwrap();
    let bob_member = member(&project, "bob", Role::Editor);
    store.accept(&invitation, &bob_member).await.unwrap();
    let mut shared = task("Shared");
    shared.project = Some(ProjectFields {
        project_id: project.project_id.clone(),
        created_by: "alice".into(),
        assignee: None,
    });
    store.create_project_task(&shared).await.unwrap();
    sqlite.create_project(&project, &owner).await.unwrap();
    sqlite.invite(&invitation).await.unwrap();
    sqlite.accept(&invitation, &bob_member).await.unwrap();
    sqlite.create_project_task(&shared).await.unwrap();
    no_failures(&stack.fan_out().await);
    let alice_frames = kinds(&stack.sockets.frames(&alice_tab));
    assert_eq!(
        alice_frames,
        vec![
            ("member.added".to_owned(), json_of(&owner)),
            ("member.added".to_owned(), json_of(&bob_member)),
            ("task.created".to_owned(), json_of(&shared)),
        ]
    );
    // Bob is a member when these reach him: he hears all three too.
    assert_eq!(kinds(&stack.sockets.frames(&bob)), alice_frames);
    assert_eq!(
        stack.sockets.frames(&bob)[2]["project_id"],
        json!(project.project_id.as_str())
    );
    assert!(stack.sockets.frames(&carol).is_empty(), "not a member");
    assert_eq!(
        as_outbox(&stack.sockets.frames(&alice_tab)),
        outbox_since(&sqlite, &mut seq)
    );
    stack.sockets.clear();

    // Bob is removed: he hears of it, then nothing more of the project.
    store.remove_member(&bob_member).await.unwrap();
    sqlite.remove_member(&bob_member).await.unwrap();
    no_failures(&stack.fan_out().await);
    let removed = vec![("member.removed".to_owned(), json_of(&bob_member))];
    assert_eq!(kinds(&stack.sockets.frames(&bob)), removed);
    assert_eq!(kinds(&stack.sockets.frames(&alice_tab)), removed);
    assert_eq!(
        as_outbox(&stack.sockets.frames(&alice_tab)),
        outbox_since(&sqlite, &mut seq)
    );
    stack.sockets.clear();
    let editing = rename("Shared, edited");
    let edited = store
        .update_project_task(&project.project_id, &shared.task_id, &editing)
        .await
        .unwrap();
    sqlite
        .update_project_task(&project.project_id, &shared.task_id, &editing)
        .await
        .unwrap();
    no_failures(&stack.fan_out().await);
    assert_eq!(
        as_outbox(&stack.sockets.frames(&alice_phone)),
        outbox_since(&sqlite, &mut seq)
    );
    assert_eq!(
        kinds(&stack.sockets.frames(&alice_phone)),
        vec![("task.updated".to_owned(), json_of(&edited))]
    );
    assert!(stack.sockets.frames(&bob).is_empty(), "no longer a member");
    stack.sockets.clear();

    // A socket whose client went away (410) is forgotten; one whose token expired is
    // closed and forgotten, without a frame.
    stack
        .sockets
        .gone
        .lock()
        .unwrap()
        .insert(alice_phone.clone());
    let expired = "Expired0000=";
    for (pk, sk, extra) in [
        (
            "USER#alice".to_owned(),
            format!("CONNECTION#{expired}"),
            None,
        ),
        (
            format!("CONNECTION#{expired}"),
            "CONNECTION".to_owned(),
            Some("alice"),
        ),
    ] {
        let mut put = stack
            .emulator
            .client()
            .put_item()
            .table_name(store.table())
            .item("PK", AttributeValue::S(pk))
            .item("SK", AttributeValue::S(sk))
            .item(
                "expires_at",
                AttributeValue::N((taskapi_testkit::now() - 60).to_string()),
            );
        if let Some(user) = extra {
            put = put.item("user", AttributeValue::S(user.to_owned()));
        }
        put.send().await.unwrap();
    }
    let another = task("Another");
    store.create("alice", &another).await.unwrap();
    no_failures(&stack.fan_out().await);
    assert_eq!(stack.sockets.frames(&alice_tab).len(), 1);
    assert!(stack.sockets.frames(expired).is_empty());
    assert_eq!(
        *stack.sockets.closed.lock().unwrap(),
        vec![expired.to_owned()]
    );
    let left: Vec<String> = stack
        .emulator
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S("USER#alice".into()))
        .expression_attribute_values(":prefix", AttributeValue::S("CONNECTION#".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
        .iter()
        .map(|item| item["SK"].as_s().unwrap().clone())
        .collect();
    assert_eq!(left, vec![format!("CONNECTION#{alice_tab}")]);
    stack.sockets.clear();

    // A post that fails for a reason that may pass hands the record back, and the batch
    // stops there so the later records keep their order.
    stack
        .sockets
        .failing
        .lock()
        .unwrap()
        .insert(alice_tab.clone());
    let first = task("First");
    let second = task("Second");
    store.create("alice", &first).await.unwrap();
    store.create("alice", &second).await.unwrap();
    let batch = stack.new_records().await;
    // The batch also holds the deletions of the connections forgotten above.
    let first_sequence = batch["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| {
            record["dynamodb"]["Keys"]["SK"]["S"]
                == json!(format!("TASK#{}", first.task_id.as_str()))
        })
        .expect("the first task's record")["dynamodb"]["SequenceNumber"]
        .clone();
    let answer = stack.fanout.invoke(batch.clone()).await;
    assert_eq!(
        answer,
        json!({ "batchItemFailures": [{ "itemIdentifier": first_sequence }] })
    );
    // The retry, once the socket is reachable again, delivers both in order.
    stack.sockets.failing.lock().unwrap().clear();
    no_failures(&stack.fanout.invoke(batch).await);
    assert_eq!(
        kinds(&stack.sockets.frames(&alice_tab)),
        vec![
            ("task.created".to_owned(), json_of(&first)),
            ("task.created".to_owned(), json_of(&second)),
        ]
    );

    // An event that is not a stream batch fails the invocation as a whole.
    assert!(matches!(
        stack.fanout.outcome(json!({ "requestContext": {} })).await,
        Outcome::Error(_)
    ));
}
