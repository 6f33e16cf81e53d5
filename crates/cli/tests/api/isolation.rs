//! A second user can neither read, list, page into, update nor delete the first user's tasks.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{error_of, spawn_app};

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
    let response = app
        .request(Method::PATCH, &path, &bob)
        .json(&json!({"title": "pwned"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "update");
    let response = app
        .request(Method::DELETE, &path, &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "delete");

    // Alice's cursor is bound to her list: bob presenting it is refused.
    let page: Value = app
        .get(&alice, "/tasks?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let token = page["next_token"].as_str().unwrap();
    let (status, body) = error_of(
        app.get(&bob, &format!("/tasks?limit=2&next_token={token}"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "page into alice's list");
    assert_eq!(body["code"], "invalid_next_token");
    let (status, _) = error_of(
        app.get(&bob, &format!("/tasks?next_token={token}&status=pending"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let stored: Value = app.get(&alice, &path).await.json().await.unwrap();
    assert_eq!(stored, task, "alice's task is intact");
    assert_eq!(app.tasks_of(&alice).await.len(), 6);
}
