use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, spawn_with_task};

const TASK_FIELDS: [&str; 8] = [
    "task_id",
    "title",
    "description",
    "status",
    "due_at",
    "priority",
    "created_at",
    "updated_at",
];

fn assert_task_shape(task: &Value) {
    let keys: BTreeSet<&str> = task
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(TASK_FIELDS),
        "a task exposes exactly its fields, no keys"
    );
    for stamp in ["created_at", "updated_at"] {
        let text = task[stamp].as_str().unwrap();
        assert!(
            text.ends_with('Z') && text.contains('T'),
            "{stamp} is RFC 3339 UTC: {text}"
        );
    }
}

#[tokio::test]
async fn create_then_get_round_trips() {
    let app = spawn_app().await;
    let alice = app.user();
    let response = app
        .create(&alice, json!({"title": "  Ship feature X ", "description": "by Friday", "status": "in_progress"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_task_shape(&created);
    assert_eq!(created["title"], "Ship feature X", "title is trimmed");
    assert_eq!(created["description"], "by Friday");
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["created_at"], created["updated_at"]);

    let id = created["task_id"].as_str().unwrap();
    let response = app.get(&alice, &format!("/tasks/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], etag.as_str());
    let fetched: Value = response.json().await.unwrap();
    assert_eq!(fetched, created);
}

#[tokio::test]
async fn create_defaults_to_pending_and_an_empty_description() {
    let app = spawn_app().await;
    let alice = app.user();
    let task = app.create_ok(&alice, "Minimal").await;
    assert_eq!(task["status"], "pending");
    assert_eq!(task["description"], "");
}

#[tokio::test]
async fn lists_page_through_every_task_in_creation_order() {
    let app = spawn_app().await;
    let alice = app.user();
    let mut created = Vec::new();
    for n in 0..27 {
        created.push(app.create_ok(&alice, &format!("task {n:02}")).await["task_id"].clone());
    }
    let first = app.get_json(&alice, "/tasks?limit=10").await;
    assert_eq!(first["count"], 10);
    assert!(first["next_token"].is_string());
    let listed = app.all_pages(&alice, "/tasks?limit=10").await;
    let ids: Vec<Value> = listed.iter().map(|task| task["task_id"].clone()).collect();
    assert_eq!(ids, created, "27 tasks over 3 pages, in creation order");
    listed.iter().for_each(assert_task_shape);

    let default_page = app.get_json(&alice, "/tasks").await;
    assert_eq!(default_page["count"], 20, "20 per page by default");
}

#[tokio::test]
async fn lists_filter_by_status() {
    let app = spawn_app().await;
    let alice = app.user();
    for n in 0..6 {
        let status = if n % 2 == 0 { "done" } else { "pending" };
        let response = app
            .create(&alice, json!({"title": format!("t{n}"), "status": status}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let done = app.all_pages(&alice, "/tasks?status=done&limit=2").await;
    assert_eq!(done.len(), 3);
    assert!(done.iter().all(|task| task["status"] == "done"));
    let all = app.all_pages(&alice, "/tasks?limit=100").await;
    assert_eq!(all.len(), 6, "no status filter lists every status");
}

#[tokio::test]
async fn patch_is_partial_and_bumps_updated_at() {
    let (app, alice, task, path) = spawn_with_task("Draft").await;
    let response = app.patch(&alice, &path, json!({"status": "done"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let updated = &body["task"];
    assert_task_shape(updated);
    assert_eq!(updated["status"], "done");
    assert_eq!(updated["title"], "Draft", "untouched");
    assert_eq!(updated["created_at"], task["created_at"]);
    assert!(updated["updated_at"].as_str() > task["updated_at"].as_str());
    assert_eq!(
        etag,
        format!("\"{}\"", updated["updated_at"].as_str().unwrap())
    );

    assert_eq!(&app.get_json(&alice, &path).await, updated);
    let done = app.all_pages(&alice, "/tasks?status=done").await;
    assert_eq!(done.len(), 1);
}

#[tokio::test]
async fn if_match_stops_a_lost_update() {
    let (app, alice, _, path) = spawn_with_task("Shared").await;
    let etag = app.get(&alice, &path).await.headers()["etag"].clone();
    let etag = etag.to_str().unwrap();

    let first = app
        .patch_if_match(&alice, &path, etag, json!({"title": "Editor one"}))
        .await;
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "the current ETag is accepted"
    );

    let second = app
        .patch_if_match(&alice, &path, etag, json!({"title": "Editor two"}))
        .await;
    let stale = StatusCode::PRECONDITION_FAILED;
    assert_error(second, stale, "precondition_failed", "a stale ETag").await;
    assert_eq!(
        app.get_json(&alice, &path).await["title"],
        "Editor one",
        "the stale edit changed nothing"
    );

    for bad in ["not-quoted", "\"a\", \"b\""] {
        let response = app
            .patch_if_match(&alice, &path, bad, json!({"title": "x"}))
            .await;
        let what = format!("If-Match {bad} names no version");
        assert_error(response, stale, "precondition_failed", &what).await;
    }
    let any = app
        .patch_if_match(&alice, &path, "*", json!({"title": "Anyone"}))
        .await;
    assert_eq!(
        any.status(),
        StatusCode::OK,
        "If-Match: * matches any existing task"
    );
}

#[tokio::test]
async fn if_none_match_gives_304_and_if_match_guards_delete() {
    let (app, alice, _, path) = spawn_with_task("Cached").await;
    let etag = app.get(&alice, &path).await.headers()["etag"].clone();
    let conditional = |value: &str| {
        app.request(Method::GET, &path, &alice)
            .header("if-none-match", value.to_owned())
            .send()
    };
    let unchanged = conditional(etag.to_str().unwrap()).await.unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.headers()["etag"], etag);
    assert!(
        unchanged.bytes().await.unwrap().is_empty(),
        "a 304 has no body"
    );
    let weak_in_a_list = format!("\"other\", W/{}", etag.to_str().unwrap());
    assert_eq!(
        conditional(&weak_in_a_list).await.unwrap().status(),
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        conditional("\"other\"").await.unwrap().status(),
        StatusCode::OK
    );

    let old = "\"2000-01-01T00:00:00.000000Z\"";
    let stale = app.delete_if_match(&alice, &path, old).await;
    let failed = StatusCode::PRECONDITION_FAILED;
    assert_error(stale, failed, "precondition_failed", "an old ETag").await;
    assert_eq!(
        app.get(&alice, &path).await.status(),
        StatusCode::OK,
        "not deleted"
    );
    let current = app
        .delete_if_match(&alice, &path, etag.to_str().unwrap())
        .await;
    assert_eq!(current.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn delete_then_everything_is_404() {
    let (app, alice, _, path) = spawn_with_task("Temporary").await;
    let response = app.delete(&alice, &path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    assert!(app.tasks_of(&alice).await.is_empty());
    assert_missing_everywhere(&app, &alice, &path).await;
}

#[tokio::test]
async fn a_task_that_never_existed_is_404_on_every_verb() {
    let app = spawn_app().await;
    let alice = app.user();
    assert_missing_everywhere(&app, &alice, "/tasks/0193f0e4-0000-7000-8000-000000000000").await;
}

async fn assert_missing_everywhere(
    app: &crate::helpers::TestApp,
    user: &crate::helpers::User,
    path: &str,
) {
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let mut request = app.request(method.clone(), path, user);
        if method == Method::PATCH {
            request = request.json(&json!({"status": "done"}));
        }
        let response = request.send().await.unwrap();
        let what = format!("{method} {path}");
        let body = assert_error(response, StatusCode::NOT_FOUND, "not_found", &what).await;
        assert!(body["message"].is_string());
    }
    assert!(
        app.tasks_of(user).await.is_empty(),
        "a PATCH of a missing task creates nothing"
    );
}

#[tokio::test]
async fn a_malformed_task_id_is_a_400_naming_it() {
    let app = spawn_app().await;
    let alice = app.user();
    for path in [
        "/tasks/a%23b",
        "/tasks/has%20space",
        &format!("/tasks/{}", "x".repeat(65)),
    ] {
        let response = app.get(&alice, path).await;
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_taskId", path).await;
    }
}
