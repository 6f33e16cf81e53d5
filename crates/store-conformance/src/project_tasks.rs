//! What every [`ProjectStore`](taskapi_domain::ProjectStore) must do with a project's
//! tasks: they live in their project's partition, list and filter like personal ones, and
//! keyed creates are retry-safe. Part of [`project_tests!`](crate::project_tests).

use std::collections::HashSet;

use taskapi_domain::{
    Created, Description, IdempotencyKey, IdempotentCreate, NewTask, Priority, ProjectFields, Role,
    Status, Store, StoreError, Task, TaskFilter, Timestamp, Title,
};

use crate::projects::{assign, join, project_of, project_task};
use crate::{all_pages, ids, query, status_update};

#[doc(hidden)]
pub async fn project_tasks_live_in_their_project(store: &dyn Store) {
    let (project, owner) = project_of(store, "work").await;
    let pid = &project.project_id;
    let task = project_task(&project, &owner.user_id, "shared", Status::InProgress);
    store.create_project_task(&task).await.unwrap();
    let clash = store.create_project_task(&task).await;
    assert!(matches!(clash, Err(StoreError::AlreadyExists)), "{clash:?}");
    assert_eq!(
        store
            .project_task(pid, &task.task_id)
            .await
            .unwrap()
            .as_ref(),
        Some(&task)
    );
    let (elsewhere, _) = project_of(store, "elsewhere").await;
    assert_eq!(
        store
            .project_task(&elsewhere.project_id, &task.task_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get(&owner.user_id, &task.task_id).await.unwrap(),
        None,
        "not a personal task"
    );
    assert!(
        store
            .list_for_owner(&owner.user_id, &TaskFilter::default(), &query("100"))
            .await
            .unwrap()
            .tasks
            .is_empty()
    );

    let admin = all_pages("100", async |q| {
        store.list_by_status(Status::InProgress, &q).await
    })
    .await;
    assert!(
        admin.contains(&task),
        "the admin view lists it with its project"
    );

    let editor = join(store, &project, Role::Editor).await;
    let assigned = store
        .update_project_task(pid, &task.task_id, &assign(Some(&editor.user_id)))
        .await
        .unwrap();
    assert_eq!(
        assigned.project.as_ref().unwrap().assignee.as_deref(),
        Some(editor.user_id.as_str())
    );
    assert_eq!(assigned.title, "shared", "other fields stay");
    let moved = store
        .update_project_task(pid, &task.task_id, &status_update(Status::Done))
        .await
        .unwrap();
    assert_eq!(
        moved.project, assigned.project,
        "a status change keeps the assignee"
    );
    let cleared = store
        .update_project_task(pid, &task.task_id, &assign(None))
        .await
        .unwrap();
    assert_eq!(cleared.project.as_ref().unwrap().assignee, None);
    assert_eq!(cleared.project.as_ref().unwrap().created_by, owner.user_id);

    let stale = store
        .delete_project_task(pid, &task.task_id, Some(&task.updated_at))
        .await;
    assert!(
        matches!(stale, Err(StoreError::PreconditionFailed)),
        "{stale:?}"
    );
    store
        .delete_project_task(pid, &task.task_id, None)
        .await
        .unwrap();
    assert_eq!(store.project_task(pid, &task.task_id).await.unwrap(), None);
    let gone = store
        .update_project_task(pid, &task.task_id, &assign(None))
        .await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
    let gone = store.delete_project_task(pid, &task.task_id, None).await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
}

#[doc(hidden)]
pub async fn project_tasks_filter_by_status_and_assignee(store: &dyn Store) {
    let (project, owner) = project_of(store, "work").await;
    let pid = &project.project_id;
    let mut created = Vec::new();
    for n in 0..9 {
        let status = if n % 3 == 0 {
            Status::Done
        } else {
            Status::Pending
        };
        let task = project_task(&project, &owner.user_id, &format!("t{n}"), status);
        store.create_project_task(&task).await.unwrap();
        let task = if n % 2 == 0 {
            store
                .update_project_task(pid, &task.task_id, &assign(Some(&owner.user_id)))
                .await
                .unwrap()
        } else {
            task
        };
        created.push(task);
    }
    let list = async |filter: TaskFilter| {
        all_pages("2", async |q| {
            store.list_project_tasks(pid, &filter, &q).await
        })
        .await
    };
    assert_eq!(
        list(TaskFilter::default()).await,
        created,
        "all, in creation order"
    );
    let done = list(TaskFilter {
        status: Some(Status::Done),
        ..TaskFilter::default()
    })
    .await;
    assert_eq!(
        ids(&done),
        ["t0", "t3", "t6"].map(|t| created
            .iter()
            .find(|c| c.title == t)
            .unwrap()
            .task_id
            .as_str())
    );
    let mine = list(TaskFilter {
        assignee: Some(owner.user_id.clone()),
        ..TaskFilter::default()
    })
    .await;
    assert_eq!(mine.len(), 5);
    let mine_done = list(TaskFilter {
        status: Some(Status::Done),
        assignee: Some(owner.user_id.clone()),
        ..TaskFilter::default()
    })
    .await;
    let titles: HashSet<_> = mine_done.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, HashSet::from(["t0", "t6"]));
}

#[doc(hidden)]
pub async fn keyed_project_task_creates_are_retry_safe(store: &dyn Store) {
    let (project, owner) = project_of(store, "retries").await;
    let editor = join(store, &project, Role::Editor).await;
    let request = NewTask {
        title: Title::parse("once").unwrap(),
        description: Description::default(),
        status: Status::Pending,
        due_at: None,
        priority: Priority::None,
    };
    let key = IdempotencyKey::parse("retry-1").unwrap();
    let keyed = |assignee: Option<&str>| {
        IdempotentCreate::for_project_task(key.clone(), &request, assignee, 1_800_000_000)
    };
    let attempt = |by: &str, assignee: Option<&str>| {
        let mut task = Task::create(request.clone(), Timestamp::now());
        task.project = Some(ProjectFields {
            project_id: project.project_id.clone(),
            created_by: by.to_owned(),
            assignee: assignee.map(str::to_owned),
        });
        task
    };
    let first = attempt(&editor.user_id, Some(&owner.user_id));
    let once = keyed(Some(&owner.user_id));
    let created = store
        .create_project_task_once(&editor.user_id, &first, &once)
        .await;
    assert_eq!(created.unwrap(), Created::New);
    let retry = attempt(&editor.user_id, Some(&owner.user_id));
    let replayed = store
        .create_project_task_once(&editor.user_id, &retry, &once)
        .await;
    assert_eq!(
        replayed.unwrap(),
        Created::Replayed(Box::new(first.clone())),
        "the first task, as it was"
    );
    let other = attempt(&editor.user_id, None);
    let reused = store
        .create_project_task_once(&editor.user_id, &other, &keyed(None))
        .await;
    assert!(
        matches!(reused, Err(StoreError::IdempotencyKeyReused)),
        "{reused:?}"
    );
    let owners = attempt(&owner.user_id, None);
    let theirs = store
        .create_project_task_once(&owner.user_id, &owners, &keyed(None))
        .await;
    assert_eq!(theirs.unwrap(), Created::New, "keys are per caller");
    let listed = store
        .list_project_tasks(&project.project_id, &TaskFilter::default(), &query("100"))
        .await
        .unwrap();
    assert_eq!(
        listed.tasks,
        vec![first, owners],
        "one task per key and caller"
    );
}
