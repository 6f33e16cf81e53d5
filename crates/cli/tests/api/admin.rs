//! The GSI1 admin view: every user's tasks in a status, for the `admins` group only.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, error_of, spawn_app};

#[tokio::test]
async fn admins_see_every_users_tasks_by_status() {
    let app = spawn_app().await;
    let admin = app.user_in(&["admins"]);
    let (alice, bob) = (app.user(), app.user());
    let mut pending = Vec::new();
    for n in 0..4 {
        pending.push(app.create_ok(&alice, &format!("alice {n}")).await["task_id"].clone());
        pending.push(app.create_ok(&bob, &format!("bob {n}")).await["task_id"].clone());
    }
    let done = app.create_ok(&bob, "finished").await;
    let path = format!("/tasks/{}", done["task_id"].as_str().unwrap());
    let response = app.patch(&bob, &path, json!({"status": "done"})).await;
    assert_eq!(response.status(), StatusCode::OK);

    let listed = app
        .all_pages(&admin, "/admin/tasks?status=pending&limit=3")
        .await;
    let ids: Vec<_> = listed.iter().map(|task| task["task_id"].clone()).collect();
    assert_eq!(
        ids, pending,
        "both users' pending tasks, oldest first, over pages"
    );

    let default = app.all_pages(&admin, "/admin/tasks?limit=100").await;
    assert_eq!(default.len(), 8, "pending by default");

    let finished = app.all_pages(&admin, "/admin/tasks?status=done").await;
    assert_eq!(finished.len(), 1, "the update moved it to STATUS#done");
    assert_eq!(finished[0]["task_id"], done["task_id"]);
}

#[tokio::test]
async fn non_admins_are_forbidden() {
    let app = spawn_app().await;
    for user in [app.user(), app.user_in(&["editors"])] {
        let response = app.get(&user, "/admin/tasks").await;
        assert_error(
            response,
            StatusCode::FORBIDDEN,
            "forbidden",
            "not in admins",
        )
        .await;
    }
}

#[tokio::test]
async fn admin_cursors_stay_in_their_status_and_bad_input_is_400() {
    let app = spawn_app().await;
    let admin = app.user_in(&["admins"]);
    let alice = app.user();
    for n in 0..3 {
        app.create_ok(&alice, &format!("t{n}")).await;
    }
    let page = app.get_json(&admin, "/admin/tasks?limit=1").await;
    let token = page["next_token"].as_str().unwrap().to_owned();
    for path in [
        format!("/admin/tasks?status=done&next_token={token}"),
        format!("/tasks?next_token={token}"),
        "/admin/tasks?status=bogus".to_owned(),
        "/admin/tasks?limit=1000".to_owned(),
    ] {
        let (status, _) = error_of(app.get(&admin, &path).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
}
