//! One deployment, locally: moto with a fresh table whose stream is on, the stand-in
//! Management API, and a `taskapi-events` process per function, each wired to its own
//! Runtime API emulator through the variables Lambda sets.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use taskapi_store_dynamodb::DynamoStore;
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::runtime_api::{Outcome, RuntimeApi};
use taskapi_testkit::{CLIENT_ID, LocalServer, TestPool};

/// The stage the WebSocket API is deployed on; the Management API's paths start with it.
pub const STAGE: &str = "prod";

/// What the stand-in Management API was asked, and how it answers.
#[derive(Default)]
pub struct Sockets {
    /// Every frame posted, as (connection id, the frame as JSON), in arrival order.
    pub posted: Mutex<Vec<(String, Value)>>,
    /// Every connection closed with DELETE.
    pub closed: Mutex<Vec<String>>,
    /// Connections whose client went away: 410 Gone.
    pub gone: Mutex<HashSet<String>>,
    /// Connections whose posts fail with a 500.
    pub failing: Mutex<HashSet<String>>,
}

impl Sockets {
    /// The frames `connection` received.
    pub fn frames(&self, connection: &str) -> Vec<Value> {
        self.posted
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _)| id == connection)
            .map(|(_, frame)| frame.clone())
            .collect()
    }

    pub fn clear(&self) {
        self.posted.lock().unwrap().clear();
        self.closed.lock().unwrap().clear();
    }
}

fn error(status: StatusCode, kind: &'static str) -> Response {
    (
        status,
        [("x-amzn-ErrorType", kind)],
        json!({ "message": kind }).to_string(),
    )
        .into_response()
}

async fn post_to(
    State(sockets): State<Arc<Sockets>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if sockets.gone.lock().unwrap().contains(&id) {
        return error(StatusCode::GONE, "GoneException");
    }
    if sockets.failing.lock().unwrap().contains(&id) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError");
    }
    let frame = serde_json::from_slice(&body).expect("every frame is JSON");
    sockets.posted.lock().unwrap().push((id, frame));
    StatusCode::OK.into_response()
}

async fn close(State(sockets): State<Arc<Sockets>>, Path(id): Path<String>) -> Response {
    sockets.closed.lock().unwrap().push(id.clone());
    if sockets.gone.lock().unwrap().contains(&id) {
        return error(StatusCode::GONE, "GoneException");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// One `taskapi-events` process and the Runtime API it polls.
pub struct Function {
    process: Child,
    pub runtime: RuntimeApi,
}

impl Function {
    pub async fn start(emulator: &Emulator, table: &str, env: &[(&str, String)]) -> Self {
        let runtime = RuntimeApi::start().await;
        let process = Command::new(env!("CARGO_BIN_EXE_taskapi-events"))
            .env_clear()
            .envs(runtime.lambda_environment())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_ENDPOINT_URL_DYNAMODB", emulator.endpoint_url())
            .env("TABLE_NAME", table)
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start taskapi-events");
        Self { process, runtime }
    }

    pub async fn invoke(&self, event: Value) -> Value {
        let id = uuid::Uuid::new_v4().to_string();
        match self.runtime.invoke(&id, event).await {
            Outcome::Response(response) => response,
            Outcome::Error(error) => panic!("the function failed the invocation: {error}"),
        }
    }

    /// The whole invocation's outcome, failures included.
    pub async fn outcome(&self, event: Value) -> Outcome {
        self.runtime
            .invoke(&uuid::Uuid::new_v4().to_string(), event)
            .await
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A store on a fresh table of `emulator` whose stream is on.
pub async fn streamed_store(emulator: &Emulator) -> DynamoStore {
    let store = emulator.fresh_store().await;
    emulator
        .client()
        .update_table()
        .table_name(store.table())
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("turn the table's stream on");
    store
}

/// Reads a table's stream on moto as Lambda's trigger would: the records written since
/// the last read.
pub struct StreamReader {
    endpoint: String,
    table: String,
    client: aws_sdk_dynamodb::Client,
    iterator: Mutex<Option<String>>,
}

impl StreamReader {
    pub fn new(emulator: &Emulator, table: &str) -> Self {
        Self {
            endpoint: emulator.endpoint_url(),
            table: table.to_owned(),
            client: emulator.client(),
            iterator: Mutex::new(None),
        }
    }

    async fn call(&self, target: &str, body: Value) -> Value {
        let answer = reqwest::Client::new()
            .post(&self.endpoint)
            .header("x-amz-target", format!("DynamoDBStreams_20120810.{target}"))
            .header("content-type", "application/x-amz-json-1.0")
            // moto routes by the credential scope's service; it checks no signature.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, \
                 SignedHeaders=host, Signature=00",
            )
            .body(body.to_string())
            .send()
            .await
            .expect("moto answers");
        assert!(
            answer.status().is_success(),
            "{target}: {}",
            answer.status()
        );
        answer.json().await.expect("JSON")
    }

    /// The stream records written since the last call, as Lambda hands them to a
    /// function (`{"Records":[...]}`, each with its `eventSourceARN`).
    pub async fn new_records(&self) -> Value {
        let table = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .unwrap();
        let arn = table
            .table()
            .and_then(|table| table.latest_stream_arn())
            .expect("the stream is on")
            .to_owned();
        let iterator = self.iterator.lock().unwrap().clone();
        let iterator = match iterator {
            Some(iterator) => iterator,
            None => {
                let stream = self
                    .call("DescribeStream", json!({ "StreamArn": arn }))
                    .await;
                let shard = stream["StreamDescription"]["Shards"][0]["ShardId"].clone();
                self.call(
                    "GetShardIterator",
                    json!({ "StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON" }),
                )
                .await["ShardIterator"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        let mut batch = self
            .call("GetRecords", json!({ "ShardIterator": iterator }))
            .await;
        *self.iterator.lock().unwrap() = batch["NextShardIterator"].as_str().map(str::to_owned);
        let mut records = batch["Records"].take();
        for record in records.as_array_mut().unwrap() {
            record["eventSourceARN"] = json!(arn);
        }
        json!({ "Records": records })
    }
}

pub struct Stack {
    pub pool: TestPool,
    pub store: DynamoStore,
    pub sockets: Arc<Sockets>,
    pub websocket: Function,
    pub fanout: Function,
    stream: StreamReader,
    _management: LocalServer,
    pub emulator: Emulator,
}

impl Stack {
    pub async fn start(env: &[(&str, String)]) -> Self {
        let emulator = Emulator::moto();
        let store = streamed_store(&emulator).await;
        let stream = StreamReader::new(&emulator, store.table());
        let sockets = Arc::new(Sockets::default());
        let management = LocalServer::start(
            Router::new()
                .route(
                    &format!("/{STAGE}/@connections/{{id}}"),
                    post(post_to).delete(close),
                )
                .with_state(Arc::clone(&sockets)),
        )
        .await;
        let pool = TestPool::start().await;
        let mut websocket_env = vec![
            ("TASKAPI_EVENTS_FUNCTION", "websocket".to_owned()),
            ("TASKAPI_JWT_ISSUER", pool.issuer.clone()),
            ("TASKAPI_JWT_AUDIENCE", CLIENT_ID.to_owned()),
        ];
        websocket_env.extend(env.iter().cloned());
        let websocket = Function::start(&emulator, store.table(), &websocket_env).await;
        let fanout = Function::start(
            &emulator,
            store.table(),
            &[
                ("TASKAPI_EVENTS_FUNCTION", "fanout".to_owned()),
                (
                    "TASKAPI_WEBSOCKET_ENDPOINT",
                    format!("{}/{STAGE}", management.url()),
                ),
            ],
        )
        .await;
        Self {
            pool,
            store,
            sockets,
            websocket,
            fanout,
            stream,
            _management: management,
            emulator,
        }
    }

    /// Opens a socket for `sub` through `$connect`; panics unless it is accepted.
    pub async fn connect(&self, sub: &str) -> String {
        let id = connection_id();
        let reply = self
            .websocket
            .invoke(connect_event(&id, Some(&self.pool.id_token(sub, &[]))))
            .await;
        assert_eq!(reply["statusCode"], 200, "{reply}");
        id
    }

    /// The stream records written since the last call.
    pub async fn new_records(&self) -> Value {
        self.stream.new_records().await
    }

    /// Feeds the new stream records to the fan-out; its partial batch response.
    pub async fn fan_out(&self) -> Value {
        let batch = self.new_records().await;
        self.fanout.invoke(batch).await
    }
}

/// An id as API Gateway makes them (base64, with `=`).
pub fn connection_id() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    format!("{}=", &raw[..11])
}

fn request_context(id: &str, route: &str, event_type: &str) -> Value {
    json!({
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": "Lx3WzG7RoAMFfYg=",
        "requestTime": "06/Dec/2026:23:59:59 +0000",
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": 1_796_601_599_000_u64,
        "requestTimeEpoch": 1_796_601_599_100_u64,
        "identity": { "userAgent": "Mozilla/5.0", "sourceIp": "203.0.113.7" },
        "requestId": "Lx3WzG7RoAMFfYg=",
        "domainName": "abc123def4.execute-api.us-east-1.amazonaws.com",
        "connectionId": id,
        "apiId": "abc123def4"
    })
}

/// The `$connect` event of a browser opening `wss://.../prod?token=<token>`.
pub fn connect_event(id: &str, token: Option<&str>) -> Value {
    let headers = json!({
        "Host": "abc123def4.execute-api.us-east-1.amazonaws.com",
        "Origin": "https://app.example.com",
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https"
    });
    let multi: serde_json::Map<String, Value> = headers
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), json!([value])))
        .collect();
    json!({
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": token.map(|token| json!({ "token": token })),
        "multiValueQueryStringParameters": token.map(|token| json!({ "token": [token] })),
        "requestContext": request_context(id, "$connect", "CONNECT"),
        "isBase64Encoded": false
    })
}

pub fn disconnect_event(id: &str) -> Value {
    let mut context = request_context(id, "$disconnect", "DISCONNECT");
    context["disconnectStatusCode"] = json!(1001);
    context["disconnectReason"] = json!("Going away");
    json!({
        "headers": {
            "Host": "abc123def4.execute-api.us-east-1.amazonaws.com",
            "x-api-key": "",
            "X-Forwarded-For": "",
            "x-restapi": ""
        },
        "multiValueHeaders": {},
        "requestContext": context,
        "isBase64Encoded": false
    })
}

/// A frame the client sent, which the `$default` route gets.
pub fn message_event(id: &str, body: &str) -> Value {
    let mut context = request_context(id, "$default", "MESSAGE");
    context["messageId"] = json!("Lx3W1cSqoAMCJ9g=");
    json!({ "requestContext": context, "body": body, "isBase64Encoded": false })
}
