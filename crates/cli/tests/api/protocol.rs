//! HTTP-level behaviour: CORS, request ids, the OpenAPI document, unknown routes.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use taskapi_testkit::preflight;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn cors_headers_on_every_response_and_preflight_answered() {
    let app = spawn_app().await;
    let alice = app.user();
    let ok = app.get(&alice, "/tasks").await;
    assert_eq!(ok.headers()["access-control-allow-origin"], "*");
    let denied = app
        .anonymous(Method::GET, "/tasks")
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        denied.headers()["access-control-allow-origin"],
        "*",
        "errors carry CORS too"
    );

    let url = format!("{}/tasks/abc", app.base);
    let preflight = preflight(&url, "PATCH", "authorization, content-type, if-match").await;
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    // Method names are case-sensitive, header names are not.
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    let methods = header("access-control-allow-methods");
    let allowed_headers = header("access-control-allow-headers").to_ascii_lowercase();
    for (listed, wanted) in [
        (&methods, "PATCH"),
        (&methods, "DELETE"),
        (&allowed_headers, "authorization"),
        (&allowed_headers, "if-match"),
    ] {
        assert!(listed.contains(wanted), "{wanted} is not allowed: {listed}");
    }
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = spawn_app().await;
    let health = || app.anonymous(Method::GET, "/healthz");
    let response = health().send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let echoed = health()
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(
        echoed.headers()["x-request-id"],
        "trace-me-42",
        "a caller's id is kept"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    for (method, path, status, code) in [
        (Method::GET, "/nope", StatusCode::NOT_FOUND, "no_route"),
        (
            Method::PUT,
            "/tasks",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let response = app.anonymous(method.clone(), path).send().await.unwrap();
        assert_error(response, status, code, &format!("{method} {path}")).await;
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let response = app
        .anonymous(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = &document["paths"];
    for (path, method) in [
        ("/tasks", "post"),
        ("/tasks", "get"),
        ("/tasks/{taskId}", "get"),
        ("/tasks/{taskId}", "patch"),
        ("/tasks/{taskId}", "delete"),
        ("/admin/tasks", "get"),
        ("/upcoming", "get"),
        ("/projects", "post"),
        ("/projects", "get"),
        ("/projects/{projectId}", "get"),
        ("/projects/{projectId}", "patch"),
        ("/projects/{projectId}", "delete"),
        ("/projects/{projectId}/members", "get"),
        ("/projects/{projectId}/members/{userId}", "patch"),
        ("/projects/{projectId}/members/{userId}", "delete"),
        ("/projects/{projectId}/invitations", "post"),
        ("/projects/{projectId}/invitations", "get"),
        ("/invitations", "get"),
        ("/invitations/{invitationId}/accept", "post"),
        ("/invitations/{invitationId}", "delete"),
        ("/projects/{projectId}/tasks", "post"),
        ("/projects/{projectId}/tasks", "get"),
        ("/projects/{projectId}/tasks/{taskId}", "get"),
        ("/projects/{projectId}/tasks/{taskId}", "patch"),
        ("/projects/{projectId}/tasks/{taskId}", "delete"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} documented"
        );
    }
    let schemas = &document["components"]["schemas"];
    for schema in [
        "Task",
        "CreateTask",
        "UpdateTask",
        "TaskList",
        "ErrorBody",
        "Status",
        "Priority",
        "ProjectView",
        "Membership",
        "Invitation",
        "Role",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema}");
    }
    assert_eq!(
        schemas["Status"]["enum"],
        serde_json::json!(["pending", "in_progress", "done"])
    );
    assert_eq!(
        schemas["Priority"]["enum"],
        serde_json::json!(["none", "low", "medium", "high", "urgent"])
    );
    let task = &schemas["Task"]["properties"];
    assert_eq!(task["due_at"]["format"], "date-time");
    let sort = paths["/tasks"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sort")
        .expect("sort= is documented");
    assert_eq!(sort["schema"]["pattern"], "^(created_at|due_at)$");
    assert!(document["components"]["securitySchemes"]["cognito"].is_object());
}
