//! `POST /tasks` with `Idempotency-Key` against the real server (SQLite): retries answer
//! the first response, another body is a 422, concurrent duplicates make one task, and the
//! header is documented and allowed cross-origin.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use taskapi_testkit::preflight;

use crate::helpers::{TestApp, User, spawn_app};

async fn keyed_create(app: &TestApp, user: &User, key: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, "/tasks", user)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, user: &User) -> u64 {
    let list: Value = app.get(user, "/tasks").await.json().await.unwrap();
    list["count"].as_u64().unwrap()
}

#[tokio::test]
async fn a_retried_create_answers_the_first_response() {
    let app = spawn_app().await;
    let alice = app.user();
    let body = json!({ "title": "Pay the invoice" });

    let first = keyed_create(&app, &alice, "invoice-42", body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_etag = first.headers()["etag"].clone();
    let first: Value = first.json().await.unwrap();

    // The same request spelled differently is the same request.
    let retry = keyed_create(
        &app,
        &alice,
        "invoice-42",
        json!({ "status": "pending", "title": " Pay the invoice " }),
    )
    .await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.headers()["etag"], first_etag);
    assert_eq!(retry.json::<Value>().await.unwrap(), first);

    let other = keyed_create(
        &app,
        &alice,
        "invoice-42",
        json!({ "title": "Pay another" }),
    )
    .await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = other.json().await.unwrap();
    assert_eq!(error["code"], "idempotency_key_reused");

    // Another user's key space is their own.
    let bob = app.user();
    let bobs = keyed_create(&app, &bob, "invoice-42", json!({ "title": "Pay another" })).await;
    assert_eq!(bobs.status(), StatusCode::CREATED);
    assert!(bobs.headers().get("idempotent-replayed").is_none());

    assert_eq!(count(&app, &alice).await, 1);
    assert_eq!(count(&app, &bob).await, 1);
}

#[tokio::test]
async fn bad_keys_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let alice = app.user();
    let long = "k".repeat(256);
    for key in ["", "two words", long.as_str()] {
        let response = keyed_create(&app, &alice, key, json!({ "title": "t" })).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{key:?}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "invalid_idempotency_key");
    }
    let twice = app
        .request(Method::POST, "/tasks", &alice)
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(&json!({ "title": "t" }))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    // An invalid body with a key is a 400 and does not use up the key.
    let invalid = keyed_create(&app, &alice, "later", json!({ "title": "" })).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    let valid = keyed_create(&app, &alice, "later", json!({ "title": "now valid" })).await;
    assert_eq!(valid.status(), StatusCode::CREATED);
    assert_eq!(count(&app, &alice).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_duplicates_create_one_task() {
    let app = spawn_app().await;
    let alice = app.user();
    let body = json!({ "title": "Clicked twenty times" });
    let responses = futures::future::join_all(
        (0..20).map(|_| keyed_create(&app, &alice, "double-click", body.clone())),
    )
    .await;
    let mut tasks = Vec::new();
    for response in responses {
        assert_eq!(response.status(), StatusCode::CREATED);
        tasks.push(response.json::<Value>().await.unwrap());
    }
    assert!(
        tasks.iter().all(|task| task == &tasks[0]),
        "one task, answered 20 times"
    );
    assert_eq!(count(&app, &alice).await, 1);
}

#[tokio::test]
async fn the_key_is_documented_and_allowed_cross_origin() {
    let app = spawn_app().await;
    let document: Value = app
        .get(&app.user(), "/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let create = &document["paths"]["/tasks"]["post"];
    let parameters = create["parameters"].as_array().unwrap();
    let key = parameters
        .iter()
        .find(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
        .unwrap_or_else(|| panic!("{parameters:?}"));
    // What the server accepts, said where a client (or schemathesis) reads it.
    let schema = &key["schema"];
    assert_eq!(schema["pattern"], r"^[\x21-\x7E]+$", "{schema}");
    assert_eq!(
        (schema["minLength"].as_u64(), schema["maxLength"].as_u64()),
        (Some(1), Some(255))
    );
    assert!(create["responses"]["422"].is_object());
    assert!(create["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());

    let url = format!("{}/tasks", app.base);
    let preflight = preflight(&url, "POST", "content-type,idempotency-key").await;
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
}
