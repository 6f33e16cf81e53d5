//! Planning: due dates and priorities stored and patched, lists sorted by due date or
//! filtered by `due_before` across pages, and the Upcoming view (its index holds a
//! user's open dated tasks and follows every change at once). The personal checks run in
//! [`conformance_tests!`](crate::conformance_tests), the project ones in
//! [`project_tests!`](crate::project_tests).

use taskapi_domain::{
    Priority, Sort, Status, Store, Task, TaskFilter, TaskPatch, TaskStore, TaskUpdate, Timestamp,
    parse_instant,
};

use crate::projects::{assign, join, project_of, project_task};
use crate::{all_pages, ids, new_task, owner, query, status_update};

/// An instant in 2030 (so every due date here is in the future), `minutes` past 09:00.
fn at(minutes: u32) -> Timestamp {
    let text = format!(
        "2030-05-01T{:02}:{:02}:00+00:00",
        9 + minutes / 60,
        minutes % 60
    );
    parse_instant("due_at", &text).unwrap()
}

fn dated(title: &str, status: Status, due: Option<u32>) -> Task {
    let mut task = new_task(title, status);
    task.due_at = due.map(at);
    task
}

fn patch(patch: TaskPatch) -> TaskUpdate {
    TaskUpdate {
        patch,
        updated_at: Timestamp::now(),
        expected_updated_at: None,
    }
}

fn due_patch(due: Option<u32>) -> TaskUpdate {
    patch(TaskPatch {
        due_at: Some(due.map(at)),
        ..TaskPatch::default()
    })
}

fn by_due() -> TaskFilter {
    TaskFilter {
        sort: Sort::DueAt,
        ..TaskFilter::default()
    }
}

/// The titles of `tasks`, in order.
fn titles(tasks: &[Task]) -> Vec<&str> {
    tasks.iter().map(|task| task.title.as_str()).collect()
}

async fn upcoming_titles(store: &dyn TaskStore, user: &str, limit: &str) -> Vec<String> {
    let tasks = all_pages(limit, async |q| store.upcoming(user, &q).await).await;
    tasks.into_iter().map(|task| task.title).collect()
}

#[doc(hidden)]
pub async fn planning_fields_round_trip(store: &dyn TaskStore) {
    let alice = owner();
    let plain = new_task("plain", Status::Pending);
    store.create(&alice, &plain).await.unwrap();
    let read = store.get(&alice, &plain.task_id).await.unwrap().unwrap();
    assert_eq!((read.due_at, read.priority), (None, Priority::None));

    let mut planned = dated("planned", Status::Pending, Some(30));
    planned.priority = Priority::Urgent;
    store.create(&alice, &planned).await.unwrap();
    let read = store.get(&alice, &planned.task_id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&planned), "stored as created");

    let moved = store
        .update(&alice, &planned.task_id, &due_patch(Some(45)))
        .await
        .unwrap();
    assert_eq!(moved.due_at, Some(at(45)));
    assert_eq!(moved.priority, Priority::Urgent, "priority untouched");
    let lowered = patch(TaskPatch {
        priority: Some(Priority::Low),
        ..TaskPatch::default()
    });
    let lowered = store
        .update(&alice, &planned.task_id, &lowered)
        .await
        .unwrap();
    assert_eq!(
        (lowered.due_at.clone(), lowered.priority),
        (Some(at(45)), Priority::Low),
        "due date untouched by a priority patch"
    );
    let cleared = store
        .update(&alice, &planned.task_id, &due_patch(None))
        .await
        .unwrap();
    assert_eq!(cleared.due_at, None, "null clears the due date");
    let read = store.get(&alice, &planned.task_id).await.unwrap();
    assert_eq!(read, Some(cleared), "the patches are stored");
}

#[doc(hidden)]
pub async fn lists_by_due_date_across_pages(store: &dyn TaskStore) {
    let alice = owner();
    // Created in an order unlike their due order; two due at the same instant.
    let plan = [
        ("undated a", Status::Pending, None),
        ("due 50", Status::Pending, Some(50)),
        ("due 10", Status::Done, Some(10)),
        ("undated b", Status::Done, None),
        ("due 30 x", Status::InProgress, Some(30)),
        ("due 90", Status::Pending, Some(90)),
        ("undated c", Status::Pending, None),
        ("due 30 y", Status::Pending, Some(30)),
        ("due 20", Status::Pending, Some(20)),
        ("undated d", Status::Pending, None),
    ];
    let mut created = Vec::new();
    for (title, status, due) in plan {
        let task = dated(title, status, due);
        store.create(&alice, &task).await.unwrap();
        created.push(task);
    }
    let mut dated_order: Vec<&Task> = created.iter().filter(|t| t.due_at.is_some()).collect();
    dated_order.sort_by_key(|task| (task.due_at.clone(), task.task_id.as_str().to_owned()));
    let expected: Vec<&str> = dated_order
        .iter()
        .map(|task| task.title.as_str())
        .chain(
            created
                .iter()
                .filter(|t| t.due_at.is_none())
                .map(|t| t.title.as_str()),
        )
        .collect();
    for limit in ["1", "3", "4", "100"] {
        let listed = all_pages(limit, async |q| {
            store.list_for_owner(&alice, &by_due(), &q).await
        })
        .await;
        assert_eq!(
            titles(&listed),
            expected,
            "soonest first, then undated in creation order (pages of {limit})"
        );
    }
    let pending = TaskFilter {
        status: Some(Status::Pending),
        ..by_due()
    };
    let listed = all_pages("2", async |q| {
        store.list_for_owner(&alice, &pending, &q).await
    })
    .await;
    let expected_pending: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|title| {
            created
                .iter()
                .any(|t| t.title == *title && t.status == Status::Pending)
        })
        .collect();
    assert_eq!(titles(&listed), expected_pending, "status= combines");
    let created_order = all_pages("3", async |q| {
        store
            .list_for_owner(&alice, &TaskFilter::default(), &q)
            .await
    })
    .await;
    assert_eq!(
        ids(&created_order),
        ids(&created),
        "the default order stays"
    );
}

#[doc(hidden)]
pub async fn due_before_filters_either_order(store: &dyn TaskStore) {
    let alice = owner();
    let mut created = Vec::new();
    for (title, due) in [
        ("late", Some(40)),
        ("none", None),
        ("early", Some(5)),
        ("edge", Some(20)),
        ("mid", Some(15)),
    ] {
        let task = dated(title, Status::Pending, due);
        store.create(&alice, &task).await.unwrap();
        created.push(task);
    }
    let before = |sort| TaskFilter {
        due_before: Some(at(20)),
        sort,
        ..TaskFilter::default()
    };
    let by_due = all_pages("1", async |q| {
        store.list_for_owner(&alice, &before(Sort::DueAt), &q).await
    })
    .await;
    assert_eq!(
        titles(&by_due),
        ["early", "mid"],
        "strictly before, soonest first, no undated task"
    );
    let by_creation = all_pages("1", async |q| {
        store
            .list_for_owner(&alice, &before(Sort::CreatedAt), &q)
            .await
    })
    .await;
    assert_eq!(titles(&by_creation), ["early", "mid"], "in creation order");
    // A position past the bound (no page of this list leads there): nothing follows.
    let mut past = query("5");
    let mut key = taskapi_domain::PageKey::table(
        taskapi_domain::keys::user_pk(&alice),
        taskapi_domain::keys::task_sk(&created[0].task_id),
    );
    key.due_sk = Some(taskapi_domain::keys::due_sk(&at(40), &created[0].task_id));
    past.start_after = Some(key);
    let page = store
        .list_for_owner(&alice, &before(Sort::DueAt), &past)
        .await
        .unwrap();
    assert_eq!((page.tasks.len(), page.next), (0, None));
}

#[doc(hidden)]
pub async fn upcoming_holds_open_dated_tasks_soonest_first(store: &dyn TaskStore) {
    let alice = owner();
    let mut by_title = std::collections::HashMap::new();
    for (title, status, due) in [
        ("b", Status::Pending, Some(20)),
        ("finished", Status::Done, Some(5)),
        ("someday", Status::Pending, None),
        ("a", Status::InProgress, Some(10)),
        ("c", Status::Pending, Some(30)),
        ("d", Status::Pending, Some(40)),
    ] {
        let task = dated(title, status, due);
        store.create(&alice, &task).await.unwrap();
        by_title.insert(title, task.task_id);
    }
    assert_eq!(
        upcoming_titles(store, &alice, "2").await,
        ["a", "b", "c", "d"]
    );
    assert!(
        upcoming_titles(store, &owner(), "5").await.is_empty(),
        "nobody else's view holds them"
    );
    let page = store.upcoming(&alice, &query("3")).await.unwrap();
    assert_eq!(
        page.tasks[0].due_at,
        Some(at(10)),
        "tasks as the API shows them"
    );

    store
        .update(&alice, &by_title["a"], &status_update(Status::Done))
        .await
        .unwrap();
    store
        .update(&alice, &by_title["b"], &due_patch(None))
        .await
        .unwrap();
    store.delete(&alice, &by_title["c"], None).await.unwrap();
    assert_eq!(
        upcoming_titles(store, &alice, "2").await,
        ["d"],
        "done, undated and deleted tasks leave at once"
    );
    store
        .update(
            &alice,
            &by_title["finished"],
            &status_update(Status::Pending),
        )
        .await
        .unwrap();
    store
        .update(&alice, &by_title["someday"], &due_patch(Some(50)))
        .await
        .unwrap();
    store
        .update(&alice, &by_title["d"], &due_patch(Some(60)))
        .await
        .unwrap();
    assert_eq!(
        upcoming_titles(store, &alice, "1").await,
        ["finished", "someday", "d"],
        "reopened and newly dated tasks enter, a moved one moves"
    );
    // One patch naming both the status and the due date (what an edit form sends).
    let both = patch(TaskPatch {
        status: Some(Status::InProgress),
        due_at: Some(Some(at(55))),
        ..TaskPatch::default()
    });
    store.update(&alice, &by_title["a"], &both).await.unwrap();
    assert_eq!(
        upcoming_titles(store, &alice, "2").await,
        ["finished", "someday", "a", "d"],
        "reopened and moved at once"
    );
}

#[doc(hidden)]
pub async fn upcoming_follows_the_assignee(store: &dyn Store) {
    let (project, owner) = project_of(store, "planning").await;
    let ann = join(store, &project, taskapi_domain::Role::Editor).await;
    let bob = join(store, &project, taskapi_domain::Role::Editor).await;
    let mut shared = project_task(&project, &owner.user_id, "shared", Status::Pending);
    shared.due_at = Some(at(15));
    store.create_project_task(&shared).await.unwrap();
    let mut unassigned = project_task(&project, &owner.user_id, "nobody's", Status::Pending);
    unassigned.due_at = Some(at(5));
    store.create_project_task(&unassigned).await.unwrap();
    let own = dated("own", Status::Pending, Some(30));
    store.create(&ann.user_id, &own).await.unwrap();
    assert!(
        upcoming_titles(store, &owner.user_id, "5").await.is_empty(),
        "an unassigned project task is in nobody's view"
    );

    let pid = &project.project_id;
    store
        .update_project_task(pid, &shared.task_id, &assign(Some(&ann.user_id)))
        .await
        .unwrap();
    let view = all_pages("1", async |q| store.upcoming(&ann.user_id, &q).await).await;
    assert_eq!(
        titles(&view),
        ["shared", "own"],
        "own and assigned tasks, soonest first"
    );
    assert_eq!(
        view[0].project.as_ref().map(|p| &p.project_id),
        Some(pid),
        "a project task carries its project"
    );

    store
        .update_project_task(pid, &shared.task_id, &assign(Some(&bob.user_id)))
        .await
        .unwrap();
    assert_eq!(
        upcoming_titles(store, &ann.user_id, "5").await,
        ["own"],
        "reassigned away"
    );
    assert_eq!(upcoming_titles(store, &bob.user_id, "5").await, ["shared"]);
    store
        .update_project_task(pid, &shared.task_id, &assign(None))
        .await
        .unwrap();
    assert!(
        upcoming_titles(store, &bob.user_id, "5").await.is_empty(),
        "unassigned"
    );

    let mut edit = assign(Some(&bob.user_id));
    edit.patch.status = Some(Status::InProgress);
    edit.patch.due_at = Some(Some(at(1)));
    store
        .update_project_task(pid, &unassigned.task_id, &edit)
        .await
        .unwrap();
    assert_eq!(
        upcoming_titles(store, &bob.user_id, "5").await,
        ["nobody's"],
        "assigned, dated and opened in one patch"
    );
    let page = store.upcoming(&bob.user_id, &query("5")).await.unwrap();
    assert_eq!(page.tasks[0].due_at, Some(at(1)));
    store.delete_project(pid).await.unwrap();
    assert!(
        upcoming_titles(store, &bob.user_id, "5").await.is_empty(),
        "a deleted project's tasks leave the view"
    );
}

#[doc(hidden)]
pub async fn project_lists_sort_by_due_date(store: &dyn Store) {
    let (project, owner) = project_of(store, "sorted").await;
    for (title, due) in [("undated", None), ("late", Some(50)), ("soon", Some(5))] {
        let mut task = project_task(&project, &owner.user_id, title, Status::Pending);
        task.due_at = due.map(at);
        store.create_project_task(&task).await.unwrap();
    }
    let listed = all_pages("1", async |q| {
        store
            .list_project_tasks(&project.project_id, &by_due(), &q)
            .await
    })
    .await;
    assert_eq!(titles(&listed), ["soon", "late", "undated"]);
    let before = TaskFilter {
        due_before: Some(at(10)),
        ..TaskFilter::default()
    };
    let listed = all_pages("2", async |q| {
        store
            .list_project_tasks(&project.project_id, &before, &q)
            .await
    })
    .await;
    assert_eq!(titles(&listed), ["soon"]);
}
