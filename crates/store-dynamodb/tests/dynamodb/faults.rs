//! What callers see when DynamoDB fails: throttling and faults are retried by the SDK and
//! then become `Unavailable` (503 + Retry-After); mistakes are `Internal`. The endpoint is a
//! fake that answers every request with one canned error and counts the attempts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::http::StatusCode;
use taskapi_domain::{StoreError, TaskId, TaskStore};
use taskapi_store_dynamodb::{Client, DynamoStore};
use taskapi_testkit::LocalServer;

/// A DynamoDB endpoint that fails every request the same way.
struct FakeDynamo {
    server: LocalServer,
    attempts: Arc<AtomicUsize>,
}

impl FakeDynamo {
    async fn failing_with(status: StatusCode, error_type: &'static str) -> Self {
        let attempts = Arc::new(AtomicUsize::new(0));
        let counter = attempts.clone();
        let app = axum::Router::new().fallback(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let body = format!(
                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"injected"}}"#
                );
                (
                    status,
                    [("content-type", "application/x-amz-json-1.0")],
                    body,
                )
            }
        });
        Self {
            server: LocalServer::start(app).await,
            attempts,
        }
    }

    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

/// A store whose SDK retries as in production (standard mode, 3 attempts) but with a
/// short backoff, so the test does not sleep for seconds.
fn store_at(endpoint: &str) -> DynamoStore {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    DynamoStore::new(Client::from_conf(config), "TaskApp".to_owned())
}

async fn get_once(store: &DynamoStore) -> Result<(), StoreError> {
    store.get("someone", &TaskId::generate()).await.map(|_| ())
}

#[tokio::test]
async fn throttling_is_retried_then_unavailable() {
    for error_type in [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ] {
        let fake = FakeDynamo::failing_with(StatusCode::BAD_REQUEST, error_type).await;
        let result = get_once(&store_at(&fake.server.url())).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable { retry_after }) if retry_after >= Duration::from_secs(1)),
            "{error_type}: {result:?}"
        );
        assert_eq!(fake.attempts(), 3, "{error_type}: the SDK retried");
    }
}

#[tokio::test]
async fn server_faults_are_retried_then_unavailable() {
    let fake =
        FakeDynamo::failing_with(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError").await;
    let result = get_once(&store_at(&fake.server.url())).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable { .. })),
        "{result:?}"
    );
    assert_eq!(fake.attempts(), 3);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let port = taskapi_testkit::emulator::free_port();
    let result = get_once(&store_at(&format!("http://127.0.0.1:{port}"))).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn client_side_mistakes_are_internal_and_not_retried() {
    let fake = FakeDynamo::failing_with(StatusCode::BAD_REQUEST, "ResourceNotFoundException").await;
    let result = get_once(&store_at(&fake.server.url())).await;
    assert!(matches!(result, Err(StoreError::Internal(_))), "{result:?}");
    assert_eq!(fake.attempts(), 1);
}
