//! Every bad input gets a clear 4xx naming what is wrong, and changes nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, error_of, spawn_app, spawn_with_task};

/// (what, content type, body, expected status, expected code)
fn bad_creates() -> Vec<(&'static str, &'static str, String, StatusCode, &'static str)> {
    let json = "application/json";
    let bad = StatusCode::BAD_REQUEST;
    let refused = |what, body: &str, code| (what, json, body.to_owned(), bad, code);
    // 200 characters once trimmed; the limit is on the title as sent.
    let padded = json!({"title": format!(" {} ", "x".repeat(200))}).to_string();
    vec![
        ("no body", json, String::new(), bad, "missing_body"),
        ("whitespace body", json, "  \n".into(), bad, "missing_body"),
        ("not JSON", json, "title=x".into(), bad, "invalid_json"),
        (
            "truncated JSON",
            json,
            r#"{"title": "x""#.into(),
            bad,
            "invalid_json",
        ),
        (
            "two documents",
            json,
            r#"{"title":"x"} {}"#.into(),
            bad,
            "invalid_json",
        ),
        ("JSON null", json, "null".into(), bad, "invalid_body"),
        ("an array", json, r#"["x"]"#.into(), bad, "invalid_body"),
        ("a string", json, r#""x""#.into(), bad, "invalid_body"),
        (
            "no title",
            json,
            r#"{"description": "d"}"#.into(),
            bad,
            "invalid_title",
        ),
        (
            "null title",
            json,
            r#"{"title": null}"#.into(),
            bad,
            "invalid_title",
        ),
        (
            "numeric title",
            json,
            r#"{"title": 5}"#.into(),
            bad,
            "invalid_title",
        ),
        (
            "empty title",
            json,
            r#"{"title": ""}"#.into(),
            bad,
            "invalid_title",
        ),
        (
            "blank title",
            json,
            r#"{"title": "   "}"#.into(),
            bad,
            "invalid_title",
        ),
        refused(
            "zero-width title",
            r#"{"title": "\u200b\ufeff\u2060"}"#,
            "invalid_title",
        ),
        refused(
            "NUL in the title",
            r#"{"title": "a\u0000b"}"#,
            "invalid_title",
        ),
        refused(
            "line break in the title",
            r#"{"title": "a\nb"}"#,
            "invalid_title",
        ),
        refused("202 characters as sent", &padded, "invalid_title"),
        refused(
            "duplicate title",
            r#"{"title": "a", "title": "b"}"#,
            "duplicate_field",
        ),
        refused(
            "null description",
            r#"{"title": "t", "description": null}"#,
            "invalid_description",
        ),
        (
            "201-character title",
            json,
            json!({"title": "x".repeat(201)}).to_string(),
            bad,
            "invalid_title",
        ),
        (
            "object description",
            json,
            r#"{"title": "t", "description": {}}"#.into(),
            bad,
            "invalid_description",
        ),
        (
            "4001-character description",
            json,
            json!({"title": "t", "description": "d".repeat(4001)}).to_string(),
            bad,
            "invalid_description",
        ),
        (
            "unknown status",
            json,
            r#"{"title": "t", "status": "archived"}"#.into(),
            bad,
            "invalid_status",
        ),
        (
            "numeric status",
            json,
            r#"{"title": "t", "status": 1}"#.into(),
            bad,
            "invalid_status",
        ),
        (
            "misspelt field",
            json,
            r#"{"titel": "t"}"#.into(),
            bad,
            "unknown_field",
        ),
        (
            "read-only field",
            json,
            r#"{"title": "t", "task_id": "mine"}"#.into(),
            bad,
            "unknown_field",
        ),
        (
            "form body",
            "application/x-www-form-urlencoded",
            "title=x".into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "huge body",
            json,
            json!({"title": "t", "description": "d".repeat(100_000)}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ]
}

#[tokio::test]
async fn bad_creates_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let alice = app.user();
    for (what, content_type, body, expected_status, expected_code) in bad_creates() {
        let response = app
            .request(Method::POST, "/tasks", &alice)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let error = assert_error(response, expected_status, expected_code, what).await;
        assert!(
            !error["message"].as_str().unwrap().is_empty(),
            "{what}: a message"
        );
    }
    assert!(app.tasks_of(&alice).await.is_empty(), "nothing was written");
}

#[tokio::test]
async fn error_messages_name_the_field() {
    let app = spawn_app().await;
    let alice = app.user();
    for (body, field) in [
        (json!({"title": "t", "status": "archived"}), "status"),
        (json!({"title": 7}), "title"),
    ] {
        let (_, error) = error_of(app.create(&alice, body).await).await;
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(field), "{field}: {error}");
    }
}

#[tokio::test]
async fn a_body_without_content_type_is_read_as_json() {
    let app = spawn_app().await;
    let alice = app.user();
    let response = app
        .request(Method::POST, "/tasks", &alice)
        .body(r#"{"title": "from a bare client"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn bad_patches_are_refused_and_change_nothing() {
    let (app, alice, task, path) = spawn_with_task("Original").await;
    let cases: [(&str, String, &str); 11] = [
        ("no body", String::new(), "missing_body"),
        ("empty patch", "{}".into(), "empty_patch"),
        (
            "explicit null",
            r#"{"title": null, "status": "done"}"#.into(),
            "invalid_title",
        ),
        ("blank title", r#"{"title": " "}"#.into(), "invalid_title"),
        (
            "invisible title",
            r#"{"title": "\u200b\u200b"}"#.into(),
            "invalid_title",
        ),
        (
            "NUL in title",
            r#"{"title": "a\u0000b"}"#.into(),
            "invalid_title",
        ),
        (
            "duplicate key",
            r#"{"status": "done", "status": "pending"}"#.into(),
            "duplicate_field",
        ),
        (
            "unknown status",
            r#"{"status": "archived"}"#.into(),
            "invalid_status",
        ),
        (
            "numeric description",
            r#"{"description": 3}"#.into(),
            "invalid_description",
        ),
        (
            "read-only field",
            r#"{"created_at": "2020-01-01T00:00:00Z"}"#.into(),
            "unknown_field",
        ),
        ("not JSON", "{".into(), "invalid_json"),
    ];
    for (what, body, expected_code) in cases {
        let response = app
            .request(Method::PATCH, &path, &alice)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::BAD_REQUEST, expected_code, what).await;
    }
    let stored = app.get_json(&alice, &path).await;
    assert_eq!(stored, task, "the task is unchanged");
}

#[tokio::test]
async fn bad_list_queries_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    let alice = app.user();
    app.create_ok(&alice, "one").await;
    let cases = [
        ("/tasks?limit=0", "invalid_limit"),
        ("/tasks?limit=101", "invalid_limit"),
        ("/tasks?limit=ten", "invalid_limit"),
        ("/tasks?limit=-5", "invalid_limit"),
        ("/tasks?status=archived", "invalid_status"),
        ("/tasks?status=", "invalid_status"),
        ("/tasks?next_token=", "invalid_next_token"),
        ("/tasks?next_token=garbage", "invalid_next_token"),
        (
            "/tasks?next_token=eyJwayI6IlVTRVIjeCIsInNrIjoiVEFTSyN5In0",
            "invalid_next_token",
        ),
    ];
    for (path, expected_code) in cases {
        let response = app.get(&alice, path).await;
        assert_error(response, StatusCode::BAD_REQUEST, expected_code, path).await;
    }
}
