//! Retry-safe creates ([`TaskStore::create_once`]): what every store must do with an
//! idempotency key. [`idempotency_tests!`](crate::idempotency_tests) makes one test of each
//! check for a store; DynamoDB runs them on moto (dynalite has no transactions).

use taskapi_domain::{
    Created, Description, IdempotencyKey, IdempotentCreate, ListQuery, NewTask, Priority, Status,
    StoreError, Task, TaskFilter, TaskStore, Timestamp, Title, parse_instant,
};

/// One test per check for the store that `$setup` (an async fn) returns, with whatever
/// must outlive the test (an emulator, a directory) as the second item of its tuple.
#[macro_export]
macro_rules! idempotency_tests {
    ($setup:path) => {
        $crate::idempotency_tests!(@each $setup,
            a_retry_replays_the_first_answer_and_creates_nothing,
            the_same_key_with_another_body_is_refused,
            keys_belong_to_their_owner,
            an_expired_key_may_be_used_again,
            concurrent_duplicates_create_one_task,
        );
    };
    (@each $setup:path, $($check:ident,)+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, _keep) = $setup().await;
                $crate::idempotency::$check(&store).await;
            }
        )+
    };
}

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn request(title: &str) -> NewTask {
    NewTask {
        title: Title::parse(title).unwrap(),
        description: Description::parse("retried").unwrap(),
        status: Status::Pending,
        // Planning fields too, so a replay is seen to keep them.
        due_at: Some(parse_instant("due_at", "2030-01-02T03:04:05+02:00").unwrap()),
        priority: Priority::High,
    }
}

/// A fresh task for `request`, as the handler makes one for every attempt.
fn attempt(request: &NewTask) -> Task {
    Task::create(request.clone(), Timestamp::now())
}

fn keyed(key: &str, request: &NewTask, used_at: i64) -> IdempotentCreate {
    IdempotentCreate::new(IdempotencyKey::parse(key).unwrap(), request, used_at)
}

fn owner() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn tasks_of(store: &dyn TaskStore, owner: &str) -> Vec<Task> {
    store
        .list_for_owner(owner, &TaskFilter::default(), &ListQuery::default())
        .await
        .expect("list")
        .tasks
}

/// A fresh attempt at `asked` for `owner` under `key` at `used_at`: the attempt's task and
/// what the store answered.
async fn create_keyed(
    store: &dyn TaskStore,
    owner: &str,
    asked: &NewTask,
    key: &str,
    used_at: i64,
) -> (Task, Created) {
    let task = attempt(asked);
    let answer = store
        .create_once(owner, &task, &keyed(key, asked, used_at))
        .await
        .unwrap();
    (task, answer)
}

pub async fn a_retry_replays_the_first_answer_and_creates_nothing(store: &dyn TaskStore) {
    let owner = owner();
    let asked = request("Pay the invoice");
    let (first, answer) = create_keyed(store, &owner, &asked, "retry-1", NOW).await;
    assert_eq!(answer, Created::New);

    for later in [NOW + 1, NOW + DAY - 1] {
        let (retry, answer) = create_keyed(store, &owner, &asked, "retry-1", later).await;
        assert_eq!(
            answer,
            Created::Replayed(Box::new(first.clone())),
            "at +{}s",
            later - NOW
        );
        assert_eq!(store.get(&owner, &retry.task_id).await.unwrap(), None);
    }
    assert_eq!(tasks_of(store, &owner).await, [first]);
}

pub async fn the_same_key_with_another_body_is_refused(store: &dyn TaskStore) {
    let owner = owner();
    let asked = request("Pay the invoice");
    let (first, _) = create_keyed(store, &owner, &asked, "reused", NOW).await;
    let other = request("Pay another invoice");
    let refused = store
        .create_once(&owner, &attempt(&other), &keyed("reused", &other, NOW + 5))
        .await;
    assert!(
        matches!(refused, Err(StoreError::IdempotencyKeyReused)),
        "{refused:?}"
    );
    assert_eq!(tasks_of(store, &owner).await, [first]);
}

pub async fn keys_belong_to_their_owner(store: &dyn TaskStore) {
    let asked = request("Same key, two users");
    for owner in [owner(), owner()] {
        let (task, answer) = create_keyed(store, &owner, &asked, "shared-key", NOW).await;
        assert_eq!(answer, Created::New);
        assert_eq!(tasks_of(store, &owner).await, [task]);
    }
}

pub async fn an_expired_key_may_be_used_again(store: &dyn TaskStore) {
    let owner = owner();
    let asked = request("Every other day");
    create_keyed(store, &owner, &asked, "daily", NOW - DAY - 1).await;
    let (new, answer) = create_keyed(store, &owner, &asked, "daily", NOW).await;
    assert_eq!(answer, Created::New, "a key lapses after its window");
    assert_eq!(tasks_of(store, &owner).await.len(), 2);
    let (_, again) = create_keyed(store, &owner, &asked, "daily", NOW + 1).await;
    assert_eq!(
        again,
        Created::Replayed(Box::new(new)),
        "and then holds again"
    );
}

pub async fn concurrent_duplicates_create_one_task(store: &dyn TaskStore) {
    let owner = owner();
    let asked = request("Clicked twenty times");
    let once = keyed("burst", &asked, NOW);
    let attempts: Vec<Task> = (0..20).map(|_| attempt(&asked)).collect();
    let answers = futures::future::join_all(
        attempts
            .iter()
            .map(|task| store.create_once(&owner, task, &once)),
    )
    .await;

    let stored = tasks_of(store, &owner).await;
    assert_eq!(stored.len(), 1, "20 duplicates made {} tasks", stored.len());
    let created = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(Created::New)))
        .count();
    assert_eq!(created, 1, "{answers:?}");
    for answer in answers {
        match answer.unwrap() {
            Created::New => {}
            Created::Replayed(task) => assert_eq!(*task, stored[0]),
        }
    }
}
