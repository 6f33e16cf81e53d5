//! A second user can neither read, list, page into, update nor delete the first user's tasks.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, error_of, spawn_app};

#[tokio::test]
async fn users_never_see_or_touch_each_others_tasks() {
    let app = spawn_app().await;
    let alice = app.user();
    let bob = app.user();
    for n in 0..5 {
        app.create_ok(&alice, &format!("alice {n}")).await;
    }
    let bobs = app.create_ok(&bob, "bob's own").await;
    let task = app.create_ok(&alice, "secret").await;
    let path = format!("/tasks/{}", task["task_id"].as_str().unwrap());

    let listed = app.tasks_of(&bob).await;
    assert_eq!(listed, vec![bobs], "bob lists only his task");

    let (status, _) = error_of(app.get(&bob, &path).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "read");
    let response = app.patch(&bob, &path, json!({"title": "pwned"})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "update");
    let response = app.delete(&bob, &path).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "delete");

    // Alice's cursor is bound to her list: bob presenting it is refused.
    let page = app.get_json(&alice, "/tasks?limit=2").await;
    let token = page["next_token"].as_str().unwrap();
    let response = app
        .get(&bob, &format!("/tasks?limit=2&next_token={token}"))
        .await;
    let what = "page into alice's list";
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_next_token",
        what,
    )
    .await;
    let (status, _) = error_of(
        app.get(&bob, &format!("/tasks?next_token={token}&status=pending"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let stored = app.get_json(&alice, &path).await;
    assert_eq!(stored, task, "alice's task is intact");
    assert_eq!(app.tasks_of(&alice).await.len(), 6);
}
