//! The local delivery queue: the dispatcher turns each event past its cursor into one
//! queued delivery per endpoint that wants it, once, in the transaction that moves the
//! cursor; the sender's view of what is due; and how an attempt settles a delivery.

use taskapi_domain::{
    AttemptOutcome, Audience, DeliveryAttempt, Description, EventKind, Membership, NewTask,
    Priority, Project, ProjectName, ProjectStore, Role, SealedSecret, Status, Task, TaskStore,
    Timestamp, Title, Webhook, WebhookId, WebhookStore,
};
use taskapi_store_sqlite::{QueuedDelivery, Settle, Settled, SqliteStore, unix_millis};

const CURSOR: &str = "webhooks";

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tasks.sqlite3")).unwrap();
    (dir, store)
}

fn task(title: &str) -> Task {
    let new = NewTask {
        title: Title::parse(title).unwrap(),
        description: Description::default(),
        status: Status::Pending,
        due_at: None,
        priority: Priority::None,
    };
    Task::create(new, Timestamp::now())
}

async fn endpoint(store: &SqliteStore, audience: Audience, events: Vec<EventKind>) -> Webhook {
    let webhook = Webhook {
        webhook_id: WebhookId::generate(),
        created_by: "someone".to_owned(),
        audience,
        url: "https://hooks.example.com/".to_owned(),
        events,
        created_at: Timestamp::now(),
        disabled: None,
        secret: SealedSecret::from_stored("v1.sealed".to_owned()),
        retiring: None,
    };
    store.create_webhook(&webhook).await.unwrap();
    webhook
}

fn due(store: &SqliteStore) -> Vec<QueuedDelivery> {
    store.due_deliveries(unix_millis(), &[], &[], 100).unwrap()
}

fn attempt(delivery: &QueuedDelivery, outcome: AttemptOutcome) -> DeliveryAttempt {
    DeliveryAttempt {
        webhook_id: delivery.webhook_id.clone(),
        attempt_id: uuid_like(),
        event_id: delivery.event_id.clone(),
        event_type: delivery.event_type,
        attempt: delivery.attempt,
        at: Timestamp::now(),
        outcome,
        next_attempt_at: None,
    }
}

fn uuid_like() -> String {
    WebhookId::generate().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_queued_once_for_each_endpoint_that_wants_it() {
    let (_dir, store) = open();
    store
        .create("alice", &task("before the cursor"))
        .await
        .unwrap();
    store.open_cursor(CURSOR).await.unwrap();
    let every = endpoint(&store, Audience::User("alice".into()), Vec::new()).await;
    let deletions = endpoint(
        &store,
        Audience::User("alice".into()),
        vec![EventKind::TaskDeleted],
    )
    .await;
    let bobs = endpoint(&store, Audience::User("bob".into()), Vec::new()).await;
    let created = task("after");
    store.create("alice", &created).await.unwrap();
    store.delete("alice", &created.task_id, None).await.unwrap();

    let dispatched = store.dispatch_webhooks(CURSOR, 100).await.unwrap();
    assert_eq!((dispatched.events, dispatched.deliveries), (2, 3));
    let queued = due(&store);
    let to = |hook: &Webhook| -> Vec<EventKind> {
        queued
            .iter()
            .filter(|d| d.webhook_id == hook.webhook_id)
            .map(|d| d.event_type)
            .collect()
    };
    assert_eq!(to(&every), [EventKind::TaskCreated, EventKind::TaskDeleted]);
    assert_eq!(to(&deletions), [EventKind::TaskDeleted]);
    assert!(
        to(&bobs).is_empty(),
        "not bob's: nor the event before the cursor"
    );
    let body: serde_json::Value = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(body["id"], queued[0].event_id.as_str());
    assert!(queued.iter().all(|d| d.attempt == 1));

    let again = store.dispatch_webhooks(CURSOR, 100).await.unwrap();
    assert_eq!(
        (again.events, again.deliveries),
        (0, 0),
        "the cursor moved past them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_event_reaches_the_project_and_the_members_own_endpoints() {
    let (_dir, store) = open();
    store.open_cursor(CURSOR).await.unwrap();
    let project = Project::create(ProjectName::parse("hooked").unwrap(), Timestamp::now());
    let owner = Membership {
        project_id: project.project_id.clone(),
        user_id: "alice".into(),
        email: Some("alice@example.com".into()),
        role: Role::Owner,
        joined_at: Timestamp::now(),
    };
    let own = endpoint(&store, Audience::User("alice".into()), Vec::new()).await;
    store.create_project(&project, &owner).await.unwrap();
    let project_hook = endpoint(
        &store,
        Audience::Project(project.project_id.clone()),
        Vec::new(),
    )
    .await;
    let name = ProjectName::parse("renamed").unwrap();
    store
        .rename_project(&project.project_id, &name, &Timestamp::now())
        .await
        .unwrap();
    store.dispatch_webhooks(CURSOR, 100).await.unwrap();
    let mut queued: Vec<_> = due(&store)
        .into_iter()
        .map(|d| (d.webhook_id.to_string(), d.event_type.as_str()))
        .collect();
    queued.sort();
    let (own, project) = (
        own.webhook_id.to_string(),
        project_hook.webhook_id.to_string(),
    );
    let mut expected = vec![
        (own.clone(), "member.added"),
        (project.clone(), "member.added"),
        (project, "project.updated"),
    ];
    expected.sort();
    // Routed when dispatched: the project's endpoint, added before the dispatch, hears
    // the member event too; the owner's own endpoint hears of their joining only.
    assert_eq!(queued, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settling_retries_finishes_or_disables() {
    let (dir, store) = open();
    store.open_cursor(CURSOR).await.unwrap();
    let slow = endpoint(&store, Audience::User("alice".into()), Vec::new()).await;
    let gone = endpoint(&store, Audience::User("alice".into()), Vec::new()).await;
    for title in ["one", "two"] {
        store.create("alice", &task(title)).await.unwrap();
    }
    store.dispatch_webhooks(CURSOR, 100).await.unwrap();
    let queued = due(&store);
    assert_eq!(queued.len(), 4);

    // The sender leaves out endpoints at their bound and deliveries in flight.
    let busy = [slow.webhook_id.as_str()];
    let free = store
        .due_deliveries(unix_millis(), &busy, &[], 100)
        .unwrap();
    assert!(free.iter().all(|d| d.webhook_id == gone.webhook_id));
    let sending = [free[0].delivery_id];
    let rest = store
        .due_deliveries(unix_millis(), &busy, &sending, 100)
        .unwrap();
    assert_eq!(rest.len(), 1);

    let first = queued
        .iter()
        .find(|d| d.webhook_id == slow.webhook_id)
        .unwrap();
    let later = unix_millis() + 60_000;
    let failed = attempt(first, AttemptOutcome::Status(500));
    store
        .settle_deliveries(vec![Settled {
            delivery_id: first.delivery_id,
            attempt: failed,
            settle: Settle::RetryAt(later),
        }])
        .await
        .unwrap();
    assert!(
        !due(&store)
            .iter()
            .any(|d| d.delivery_id == first.delivery_id)
    );
    assert_eq!(store.next_due_after(unix_millis()).unwrap(), Some(later));
    let retried = store.due_deliveries(later, &[], &[], 100).unwrap();
    let retried = retried
        .iter()
        .find(|d| d.delivery_id == first.delivery_id)
        .unwrap();
    assert_eq!(retried.attempt, 2);

    let to_gone = queued
        .iter()
        .find(|d| d.webhook_id == gone.webhook_id)
        .unwrap();
    let answered = attempt(to_gone, AttemptOutcome::Status(410));
    let reason = "the endpoint answered 410 Gone".to_owned();
    store
        .settle_deliveries(vec![Settled {
            delivery_id: to_gone.delivery_id,
            attempt: answered,
            settle: Settle::Disable(reason),
        }])
        .await
        .unwrap();
    let stored = store.webhook(&gone.webhook_id).await.unwrap().unwrap();
    assert!(stored.disabled.is_some());
    assert!(
        !due(&store).iter().any(|d| d.webhook_id == gone.webhook_id),
        "a disabled endpoint's queue is emptied"
    );

    let second = due(&store)
        .into_iter()
        .find(|d| d.webhook_id == slow.webhook_id)
        .unwrap();
    let delivered = attempt(&second, AttemptOutcome::Status(204));
    store
        .settle_deliveries(vec![Settled {
            delivery_id: second.delivery_id,
            attempt: delivered,
            settle: Settle::Done,
        }])
        .await
        .unwrap();
    assert!(due(&store).is_empty());
    let history = store.deliveries(&slow.webhook_id, 10).await.unwrap();
    assert_eq!(history.len(), 2);

    // The pending retry is on disk: a reopened store still has it, at its time.
    drop(store);
    let reopened = SqliteStore::open(&dir.path().join("tasks.sqlite3")).unwrap();
    let pending = reopened.due_deliveries(later, &[], &[], 100).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].delivery_id, first.delivery_id);
}
