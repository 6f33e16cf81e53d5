//! The few endpoints of the Lambda Runtime API a custom runtime uses, enough to run the
//! real bootstrap outside AWS: it long-polls `invocation/next`, then posts the outcome to
//! `invocation/{id}/response` or `/error`; a failed init posts to `init/error`. Shared by
//! the Lambda binary's tests and the benchmarks, which also read how long each invocation
//! took as Lambda would bill it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::LocalServer;

const PREFIX: &str = "/2018-06-01/runtime";
/// The longest an invocation may take before the caller calls it hung.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);
/// The function the emulator pretends to run, as in the ARN it hands out.
const FUNCTION_NAME: &str = "taskapi";
/// The X-Ray trace of every invocation, sampled: a function with a daemon address traces.
pub const TRACE_ID: &str =
    "Root=1-6743a1b0-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";

/// What the function answered.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

/// An outcome and how long the function worked for it.
#[derive(Debug)]
pub struct Invoked {
    pub outcome: Outcome,
    /// From the event leaving `invocation/next` to the outcome arriving: what Lambda bills
    /// as Duration, without the caller's side of the emulator.
    pub duration: Duration,
}

struct Invocation {
    id: String,
    event: Value,
}

/// An invocation handed out to the function and not yet answered.
struct Waiting {
    done: oneshot::Sender<Invoked>,
    handed_out: Option<Instant>,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    waiting: Mutex<HashMap<String, Waiting>>,
    init_error: Mutex<Option<Value>>,
    first_poll: Mutex<Option<Instant>>,
}

pub struct RuntimeApi {
    address: String,
    shared: Arc<Shared>,
    sender: mpsc::UnboundedSender<Invocation>,
    _server: LocalServer,
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
                &format!("{PREFIX}/invocation/{{id}}/{{outcome}}"),
                post(outcome),
            )
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let server = LocalServer::start(app).await;
        Self {
            address: server.addr.to_string(),
            shared,
            sender,
            _server: server,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The variables Lambda sets for a function with 128 MB; the function reaches this
    /// emulator through `AWS_LAMBDA_RUNTIME_API`.
    pub fn lambda_environment(&self) -> [(&'static str, String); 8] {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address.clone()),
            ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{FUNCTION_NAME}"),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/24/[$LATEST]0123456789abcdef".to_owned(),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            // Lambda sets both; boto3 reads only this one.
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ]
    }

    /// When the function first asked for work, i.e. when its init finished.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }

    /// Hands `event` to the function under request id `id` and waits for its outcome.
    pub async fn invoke(&self, id: &str, event: Value) -> Outcome {
        self.invoke_timed(id, event).await.outcome
    }

    /// [`Self::invoke`], also telling how long the function worked on the event.
    pub async fn invoke_timed(&self, id: &str, event: Value) -> Invoked {
        let (done, outcome) = oneshot::channel();
        self.shared.waiting.lock().unwrap().insert(
            id.to_owned(),
            Waiting {
                done,
                handed_out: None,
            },
        );
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

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared
        .first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let Some(invocation) = shared.queue.lock().await.recv().await else {
        // The emulator was dropped while the function waited: it is being stopped.
        return StatusCode::GONE.into_response();
    };
    if let Some(waiting) = shared.waiting.lock().unwrap().get_mut(&invocation.id) {
        waiting.handed_out = Some(Instant::now());
    }
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
        format!("arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"),
    );
    set("lambda-runtime-trace-id", TRACE_ID.to_owned());
    set("content-type", "application/json".to_owned());
    (headers, invocation.event.to_string()).into_response()
}

fn settle(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    let arrived = Instant::now();
    match shared.waiting.lock().unwrap().remove(id) {
        Some(Waiting {
            done,
            handed_out: Some(handed_out),
        }) => {
            let _ = done.send(Invoked {
                outcome,
                duration: arrived.duration_since(handed_out),
            });
            StatusCode::ACCEPTED
        }
        // Never handed out (or already answered): not an invocation the function holds.
        _ => StatusCode::NOT_FOUND,
    }
}

fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// `invocation/{id}/response` or `invocation/{id}/error`: how the function ended `id`.
async fn outcome(
    State(shared): State<Arc<Shared>>,
    Path((id, outcome)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    let outcome = match outcome.as_str() {
        "response" => Outcome::Response(json(&body)),
        "error" => Outcome::Error(json(&body)),
        _ => return StatusCode::NOT_FOUND,
    };
    settle(&shared, &id, outcome)
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap() = Some(json(&body));
    StatusCode::ACCEPTED
}
