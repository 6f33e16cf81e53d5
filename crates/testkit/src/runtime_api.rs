//! The few endpoints of the Lambda Runtime API a custom runtime uses, enough to run the
//! real bootstrap outside AWS: it long-polls `invocation/next`, then posts the outcome to
//! `invocation/{id}/response` or `/error`; a failed init posts to `init/error`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";
/// The longest an invocation may take before the test calls it hung.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the function answered.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

struct Invocation {
    id: String,
    event: Value,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Value>>,
    first_poll: Mutex<Option<Instant>>,
}

pub struct RuntimeApi {
    address: String,
    shared: Arc<Shared>,
    sender: mpsc::UnboundedSender<Invocation>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            first_poll: Mutex::new(None),
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            address,
            shared,
            sender,
            server,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// When the function first asked for work, i.e. when its init finished.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }

    /// Hands `event` to the function under a fresh request id and waits for its outcome.
    pub async fn invoke(&self, id: &str, event: Value) -> Outcome {
        let (done, outcome) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .unwrap()
            .insert(id.to_owned(), done);
        self.sender
            .send(Invocation {
                id: id.to_owned(),
                event,
            })
            .unwrap();
        match tokio::time::timeout(INVOKE_TIMEOUT, outcome).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!(
                "invocation {id} got no answer within {INVOKE_TIMEOUT:?} (init error: {:?})",
                self.init_error()
            ),
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared
        .first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let invocation = shared
        .queue
        .lock()
        .await
        .recv()
        .await
        .expect("the test holds the sender");
    let deadline = SystemTime::now() + INVOKE_TIMEOUT;
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    };
    set("lambda-runtime-aws-request-id", invocation.id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:taskapi".to_owned(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-6743a1b0-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=0".to_owned(),
    );
    set("content-type", "application/json".to_owned());
    (headers, invocation.event.to_string())
}

fn settle(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match shared.waiting.lock().unwrap().remove(id) {
        Some(waiter) => {
            let _ = waiter.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    settle(&shared, &id, Outcome::Response(json(&body)))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    settle(&shared, &id, Outcome::Error(json(&body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap() = Some(json(&body));
    StatusCode::ACCEPTED
}
