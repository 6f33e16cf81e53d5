//! The behaviour every [`TaskStore`] adapter must have, written once. Each adapter's tests
//! invoke [`conformance_tests!`] with a function that opens a store of its kind: one
//! `#[test]` per check, so every failing behaviour is reported, not just the first. Checks
//! use fresh owners, so they can run on a table that already holds data.

pub mod idempotency;
pub mod planning;
pub mod project_tasks;
pub mod projects;
pub mod transfer;
pub mod webhooks;

use std::collections::HashSet;
use std::fmt::Debug;

use taskapi_domain::{
    Description, Limit, ListQuery, NewTask, Priority, Status, StoreError, Task, TaskFilter, TaskId,
    TaskPatch, TaskStore, TaskUpdate, Timestamp, Title,
};

/// One `#[tokio::test]` per conformance check. `$open` is an async function returning
/// `(guard, store)`: the guard (a temporary directory, an emulator) lives as long as the
/// test, the store is any [`TaskStore`].
#[macro_export]
macro_rules! conformance_tests {
    ($open:path) => {
        $crate::conformance_tests!(@each $open;
            create_then_get,
            create_refuses_to_overwrite,
            lists_a_users_tasks_in_creation_order_across_pages,
            filters_a_users_list_by_status,
            owners_are_isolated,
            updates_are_partial_and_move_the_status_index,
            updates_honour_the_expected_version,
            updating_or_deleting_a_missing_task_is_not_found,
            deletes,
            deletes_honour_the_expected_version,
            lists_by_status_across_users,
            is_ready,
        );
        $crate::conformance_tests!(@planning $open;
            planning_fields_round_trip,
            lists_by_due_date_across_pages,
            due_before_filters_either_order,
            upcoming_holds_open_dated_tasks_soonest_first,
        );
    };
    (@planning $open:path; $($check:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $open().await;
                $crate::planning::$check(&store).await;
            }
        )*
    };
    (@each $open:path; $($check:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $open().await;
                $crate::$check(&store).await;
            }
        )*
    };
}

/// An unconditional update, stamped now, that sets the status only.
pub fn status_update(status: Status) -> TaskUpdate {
    patch_now(TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    })
}

/// An unconditional update, stamped now, that sets the title only.
pub fn title_update(title: &str) -> TaskUpdate {
    patch_now(TaskPatch {
        title: Some(Title::parse(title).unwrap()),
        ..TaskPatch::default()
    })
}

fn patch_now(patch: TaskPatch) -> TaskUpdate {
    TaskUpdate {
        patch,
        updated_at: Timestamp::now(),
        expected_updated_at: None,
    }
}

/// A list of the tasks in `status`, in creation order.
pub fn in_status(status: Status) -> TaskFilter {
    TaskFilter {
        status: Some(status),
        ..TaskFilter::default()
    }
}

/// Asserts that `result` is `Err(StoreError::NotFound)`; `what` names the attempt.
fn assert_not_found<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "{what}: NotFound expected, got {result:?}"
    );
}

pub(crate) fn owner() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn new_task(title: &str, status: Status) -> Task {
    task_created_now(title, &format!("about {title}"), status)
}

/// A task as the API creates one now.
pub fn task_created_now(title: &str, description: &str, status: Status) -> Task {
    Task::create(
        NewTask {
            title: Title::parse(title).unwrap(),
            description: Description::parse(description).unwrap(),
            status,
            due_at: None,
            priority: Priority::None,
        },
        Timestamp::now(),
    )
}

async fn put(store: &dyn TaskStore, owner: &str, title: &str, status: Status) -> Task {
    let task = new_task(title, status);
    store.create(owner, &task).await.expect("create");
    task
}

pub(crate) fn query(limit: &str) -> ListQuery {
    ListQuery {
        limit: Limit::parse(limit).unwrap(),
        start_after: None,
    }
}

/// Follows `next` to the end, checking each page's size; returns every task in order.
pub(crate) async fn all_pages(
    limit: &str,
    mut fetch: impl AsyncFnMut(ListQuery) -> Result<taskapi_domain::Page, StoreError>,
) -> Vec<Task> {
    let mut query = query(limit);
    let mut tasks = Vec::new();
    for _ in 0..10_000 {
        let page = fetch(query.clone()).await.expect("list page");
        assert!(
            page.tasks.len() <= query.limit.get(),
            "a page of {} exceeds limit {}",
            page.tasks.len(),
            query.limit
        );
        tasks.extend(page.tasks);
        match page.next {
            Some(next) => query.start_after = Some(next),
            None => return tasks,
        }
    }
    panic!("paging did not end");
}

pub(crate) fn ids(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|task| task.task_id.as_str()).collect()
}

#[doc(hidden)]
pub async fn create_then_get(store: &dyn TaskStore) {
    let alice = owner();
    let task = put(store, &alice, "Ship feature X", Status::InProgress).await;
    let found = store.get(&alice, &task.task_id).await.expect("get");
    assert_eq!(
        found.as_ref(),
        Some(&task),
        "get returns the task as created"
    );
    let missing = store.get(&alice, &TaskId::generate()).await.expect("get");
    assert_eq!(missing, None, "an unknown id is None, not an error");
}

#[doc(hidden)]
pub async fn create_refuses_to_overwrite(store: &dyn TaskStore) {
    let alice = owner();
    let task = put(store, &alice, "original", Status::Pending).await;
    let mut clash = new_task("impostor", Status::Done);
    clash.task_id = task.task_id.clone();
    let result = store.create(&alice, &clash).await;
    assert!(
        matches!(result, Err(StoreError::AlreadyExists)),
        "creating an existing id must fail with AlreadyExists, got {result:?}"
    );
    let kept = store.get(&alice, &task.task_id).await.unwrap().unwrap();
    assert_eq!(kept.title, "original", "the existing task is untouched");
}

#[doc(hidden)]
pub async fn lists_a_users_tasks_in_creation_order_across_pages(store: &dyn TaskStore) {
    let alice = owner();
    let mut created = Vec::new();
    for n in 0..27 {
        created.push(put(store, &alice, &format!("task {n:02}"), Status::Pending).await);
    }
    let listed = all_pages("7", async |q| {
        store
            .list_for_owner(&alice, &TaskFilter::default(), &q)
            .await
    })
    .await;
    assert_eq!(
        ids(&listed),
        ids(&created),
        "every task once, in creation order"
    );
    let first = store
        .list_for_owner(&alice, &TaskFilter::default(), &query("100"))
        .await
        .unwrap();
    assert_eq!(first.tasks, created, "one big page holds them all");
    assert_eq!(first.next, None, "a page that holds everything is the last");
}

#[doc(hidden)]
pub async fn filters_a_users_list_by_status(store: &dyn TaskStore) {
    let alice = owner();
    let mut done = Vec::new();
    for n in 0..12 {
        let status = if n % 3 == 0 {
            Status::Done
        } else {
            Status::Pending
        };
        let task = put(store, &alice, &format!("task {n}"), status).await;
        if status == Status::Done {
            done.push(task);
        }
    }
    let listed = all_pages("2", async |q| {
        store
            .list_for_owner(&alice, &in_status(Status::Done), &q)
            .await
    })
    .await;
    assert_eq!(ids(&listed), ids(&done), "only done tasks, in order");
    let none = all_pages("5", async |q| {
        store
            .list_for_owner(&alice, &in_status(Status::InProgress), &q)
            .await
    })
    .await;
    assert!(none.is_empty(), "no task is in progress");
}

#[doc(hidden)]
pub async fn owners_are_isolated(store: &dyn TaskStore) {
    let alice = owner();
    let mallory = owner();
    let task = put(store, &alice, "private", Status::Pending).await;
    assert_eq!(store.get(&mallory, &task.task_id).await.unwrap(), None);
    let listed = store
        .list_for_owner(&mallory, &TaskFilter::default(), &query("100"))
        .await
        .unwrap();
    assert!(listed.tasks.is_empty(), "another owner's list is empty");
    let update = title_update("hijacked");
    assert_not_found(
        store.update(&mallory, &task.task_id, &update).await,
        "another owner's update",
    );
    assert_not_found(
        store.delete(&mallory, &task.task_id, None).await,
        "another owner's delete",
    );
    let kept = store.get(&alice, &task.task_id).await.unwrap().unwrap();
    assert_eq!(kept, task, "the owner's task is unchanged");
}

#[doc(hidden)]
pub async fn updates_are_partial_and_move_the_status_index(store: &dyn TaskStore) {
    let alice = owner();
    let task = put(store, &alice, "draft", Status::Pending).await;
    let later = Timestamp::now();
    let update = TaskUpdate {
        updated_at: later.clone(),
        ..status_update(Status::Done)
    };
    let updated = store.update(&alice, &task.task_id, &update).await.unwrap();
    assert_eq!(updated.status, Status::Done);
    assert_eq!(
        updated.title, task.title,
        "title untouched by a status patch"
    );
    assert_eq!(updated.description, task.description);
    assert_eq!(updated.created_at, task.created_at);
    assert_eq!(updated.updated_at, later);
    assert_eq!(
        store.get(&alice, &task.task_id).await.unwrap().as_ref(),
        Some(&updated),
        "the update is stored"
    );
    let done = all_pages("100", async |q| {
        store.list_by_status(Status::Done, &q).await
    })
    .await;
    assert!(
        ids(&done).contains(&task.task_id.as_str()),
        "now under done"
    );
    let pending = all_pages("100", async |q| {
        store.list_by_status(Status::Pending, &q).await
    })
    .await;
    assert!(
        !ids(&pending).contains(&task.task_id.as_str()),
        "no longer under pending"
    );

    let retitle = patch_now(TaskPatch {
        title: Some(Title::parse("final").unwrap()),
        description: Some(Description::parse("").unwrap()),
        ..TaskPatch::default()
    });
    let retitled = store.update(&alice, &task.task_id, &retitle).await.unwrap();
    assert_eq!(
        (retitled.title.as_str(), retitled.description.as_str()),
        ("final", "")
    );
    assert_eq!(retitled.status, Status::Done, "status untouched");
}

#[doc(hidden)]
pub async fn updates_honour_the_expected_version(store: &dyn TaskStore) {
    let alice = owner();
    let task = put(store, &alice, "contended", Status::Pending).await;
    let edit = |title: &str, expected: &Timestamp| TaskUpdate {
        expected_updated_at: Some(expected.clone()),
        ..title_update(title)
    };
    let first = store
        .update(
            &alice,
            &task.task_id,
            &edit("first editor", &task.updated_at),
        )
        .await
        .expect("the current version is accepted");
    let stale = store
        .update(
            &alice,
            &task.task_id,
            &edit("second editor", &task.updated_at),
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::PreconditionFailed)),
        "a stale version is refused, got {stale:?}"
    );
    let stored = store.get(&alice, &task.task_id).await.unwrap().unwrap();
    assert_eq!(stored, first, "the refused edit changed nothing");
    let gone = store
        .update(&alice, &TaskId::generate(), &edit("x", &task.updated_at))
        .await;
    assert_not_found(gone, "a missing task with If-Match");
}

#[doc(hidden)]
pub async fn updating_or_deleting_a_missing_task_is_not_found(store: &dyn TaskStore) {
    let alice = owner();
    let id = TaskId::generate();
    let update = status_update(Status::Done);
    assert_not_found(
        store.update(&alice, &id, &update).await,
        "an update of a missing task",
    );
    assert_eq!(
        store.get(&alice, &id).await.unwrap(),
        None,
        "a failed update creates nothing"
    );
    assert_not_found(
        store.delete(&alice, &id, None).await,
        "a delete of a missing task",
    );
}

#[doc(hidden)]
pub async fn deletes(store: &dyn TaskStore) {
    let alice = owner();
    let keep = put(store, &alice, "keep", Status::Pending).await;
    let drop = put(store, &alice, "drop", Status::Pending).await;
    store
        .delete(&alice, &drop.task_id, None)
        .await
        .expect("delete");
    assert_eq!(store.get(&alice, &drop.task_id).await.unwrap(), None);
    assert_not_found(
        store.delete(&alice, &drop.task_id, None).await,
        "a second delete",
    );
    let listed = store
        .list_for_owner(&alice, &TaskFilter::default(), &query("10"))
        .await
        .unwrap();
    assert_eq!(listed.tasks, vec![keep]);
}

#[doc(hidden)]
pub async fn lists_by_status_across_users(store: &dyn TaskStore) {
    let mut ours = Vec::new();
    for n in 0..9 {
        let who = owner();
        ours.push(put(store, &who, &format!("in progress {n}"), Status::InProgress).await);
    }
    let listed = all_pages("4", async |q| {
        store.list_by_status(Status::InProgress, &q).await
    })
    .await;
    assert!(
        listed.iter().all(|task| task.status == Status::InProgress),
        "only in-progress tasks"
    );
    let seen: HashSet<&str> = ids(&listed).into_iter().collect();
    assert_eq!(seen.len(), listed.len(), "no task twice across pages");
    let positions: Vec<usize> = ours
        .iter()
        .map(|task| {
            listed
                .iter()
                .position(|t| t.task_id == task.task_id)
                .expect("every user's task appears")
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert!(
        listed
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at),
        "ordered by created_at"
    );
}

#[doc(hidden)]
pub async fn deletes_honour_the_expected_version(store: &dyn TaskStore) {
    let alice = owner();
    let task = put(store, &alice, "contended", Status::Pending).await;
    let edit = status_update(Status::Done);
    let edited = store.update(&alice, &task.task_id, &edit).await.unwrap();
    let stale = store
        .delete(&alice, &task.task_id, Some(&task.updated_at))
        .await;
    assert!(
        matches!(stale, Err(StoreError::PreconditionFailed)),
        "a delete of a stale version is refused, got {stale:?}"
    );
    assert_eq!(
        store.get(&alice, &task.task_id).await.unwrap().as_ref(),
        Some(&edited),
        "the refused delete removed nothing"
    );
    store
        .delete(&alice, &task.task_id, Some(&edited.updated_at))
        .await
        .expect("the current version is deleted");
    assert_eq!(store.get(&alice, &task.task_id).await.unwrap(), None);
    let gone = store
        .delete(&alice, &task.task_id, Some(&edited.updated_at))
        .await;
    assert_not_found(gone, "a missing task with If-Match");
}

#[doc(hidden)]
pub async fn is_ready(store: &dyn TaskStore) {
    store.ready().await.expect("a working store is ready");
    put(store, &owner(), "after the probe", Status::Pending).await;
    store.ready().await.expect("and stays ready");
}
