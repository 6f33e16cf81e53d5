//! Fast tests of the router alone, with `tower::ServiceExt::oneshot` (no server process, no
//! sockets): the parts of the contract that need nothing but the router and a store.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use http::request::Parts;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use taskapi_domain::{
    Created, IdempotentCreate, ListQuery, NotReady, Page, Status, Store, StoreError, Task, TaskId,
    TaskStore, TaskUpdate, Timestamp,
};
use taskapi_http::{
    AppState, Authenticator, CallerLimits, HttpConfig, Principal, Unauthorized, api_router,
    with_service_layers,
};
use taskapi_store_sqlite::SqliteStore;
use tower::ServiceExt;

/// Trusts the bare `Authorization` value as the caller's `sub`: these tests are about the
/// router; token checks have tests of their own.
struct SubIsTheToken;

#[async_trait]
impl Authenticator for SubIsTheToken {
    async fn authenticate(&self, parts: &Parts) -> Result<Principal, Unauthorized> {
        let sub = taskapi_http::auth::authorization_token(&parts.headers).ok_or(Unauthorized)?;
        Ok(Principal {
            sub: sub.to_owned(),
            email: None,
            email_verified: false,
            groups: Vec::new(),
        })
    }
}

fn router(store: Arc<dyn Store>, limits: Option<CallerLimits>) -> Router {
    serve(AppState::new(store, Arc::new(SubIsTheToken)), limits)
}

fn serve(mut state: AppState, limits: Option<CallerLimits>) -> Router {
    state.limits = limits.map(Arc::new);
    with_service_layers(api_router(state), &HttpConfig::default())
}

fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tasks.sqlite3")).unwrap();
    (dir, Arc::new(store))
}

/// A request from the caller `alice`.
fn request(method: &str, uri: &str) -> http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, "alice")
        .header(header::CONTENT_TYPE, "application/json")
}

async fn send(router: &Router, request: Request<Body>) -> (Response<()>, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (Response::from_parts(parts, ()), json)
}

async fn post(router: &Router, body: &str) -> (Response<()>, Value) {
    let request = request("POST", "/tasks").body(Body::from(body.to_owned()));
    send(router, request.unwrap()).await
}

async fn get(router: &Router, uri: &str) -> (Response<()>, Value) {
    send(router, request("GET", uri).body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn get_with_the_current_etag_is_304_without_a_body() {
    let (_dir, store) = sqlite();
    let router = router(store, None);
    let (created, task) = post(&router, &json!({"title": "cached"}).to_string()).await;
    let etag = created.headers()[header::ETAG].clone();
    let path = format!("/tasks/{}", task["task_id"].as_str().unwrap());
    let conditional = request("GET", &path).header(header::IF_NONE_MATCH, etag.clone());
    let (response, body) = send(&router, conditional.body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()[header::ETAG], etag);
    assert_eq!(body, Value::Null);
}

#[tokio::test]
async fn bad_input_is_a_json_400_naming_what_is_wrong() {
    let (_dir, store) = sqlite();
    let router = router(store, None);
    let cases = [
        (
            "POST",
            "/tasks",
            r#"{"title": "a", "title": "b"}"#,
            "duplicate_field",
        ),
        ("GET", "/tasks?status=", "", "invalid_status"),
        ("GET", "/tasks/%FF%FE", "", "invalid_taskId"),
        ("GET", "/tasks/not.an.id", "", "invalid_taskId"),
    ];
    for (method, uri, body, code) in cases {
        let request = request(method, uri).body(Body::from(body)).unwrap();
        let (response, body) = send(&router, request).await;
        let answer = (response.status(), body["code"].as_str());
        assert_eq!(
            answer,
            (StatusCode::BAD_REQUEST, Some(code)),
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn a_caller_over_its_limit_gets_429_with_retry_after() {
    let (_dir, store) = sqlite();
    let limits = CallerLimits::new(1.try_into().unwrap(), 2.try_into().unwrap());
    let router = router(store, Some(limits));
    for _ in 0..2 {
        assert_eq!(get(&router, "/tasks").await.0.status(), StatusCode::OK);
    }
    let (response, body) = get(&router, "/tasks").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    assert_eq!(body["code"], "too_many_requests");
}

/// A store whose disk is gone: every call is a storage fault.
struct DiskGone;

fn fault() -> StoreError {
    StoreError::Unavailable {
        retry_after: Duration::from_millis(1500),
    }
}

#[async_trait]
impl TaskStore for DiskGone {
    async fn create(&self, _: &str, _: &Task) -> Result<(), StoreError> {
        Err(fault())
    }
    async fn create_once(
        &self,
        _: &str,
        _: &Task,
        _: &IdempotentCreate,
    ) -> Result<Created, StoreError> {
        Err(fault())
    }
    async fn get(&self, _: &str, _: &TaskId) -> Result<Option<Task>, StoreError> {
        Err(fault())
    }
    async fn list_for_owner(
        &self,
        _: &str,
        _: &taskapi_domain::TaskFilter,
        _: &ListQuery,
    ) -> Result<Page, StoreError> {
        Err(fault())
    }
    async fn upcoming(&self, _: &str, _: &ListQuery) -> Result<Page, StoreError> {
        Err(fault())
    }
    async fn list_by_status(&self, _: Status, _: &ListQuery) -> Result<Page, StoreError> {
        Err(fault())
    }
    async fn update(&self, _: &str, _: &TaskId, _: &TaskUpdate) -> Result<Task, StoreError> {
        Err(fault())
    }
    async fn delete(&self, _: &str, _: &TaskId, _: Option<&Timestamp>) -> Result<(), StoreError> {
        Err(fault())
    }
    async fn ready(&self) -> Result<(), NotReady> {
        Err(NotReady("the disk is gone".into()))
    }
}

#[tokio::test]
async fn storage_faults_are_503_storage_unavailable_and_readyz_says_why() {
    let (_dir, store) = sqlite();
    let mut state = AppState::new(store, Arc::new(SubIsTheToken));
    state.store = Arc::new(DiskGone);
    let router = serve(state, None);
    let (response, body) = post(&router, r#"{"title": "t"}"#).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "2", "rounded up");
    assert_eq!(body["code"], "storage_unavailable");
    let (response, body) = get(&router, "/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "the disk is gone");
    let (response, _) = get(&router, "/healthz").await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "liveness does not need the store"
    );
}
