//! A counting proxy between a taskapi binary and dynalite: it counts DynamoDB requests by
//! operation (`X-Amz-Target`), asks for `"ReturnConsumedCapacity":"TOTAL"` on every data
//! operation (dynalite checks no signatures, so the rewritten body passes), and sums the
//! `ConsumedCapacity` dynalite returns, as read or write units by operation. Responses go
//! back untouched, checksum header included.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use taskapi_testkit::LocalServer;

/// Operations that read, and so consume read units.
const READS: [&str; 4] = ["GetItem", "Query", "Scan", "BatchGetItem"];
/// Operations that write, and so consume write units.
const WRITES: [&str; 4] = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"];

/// The mean requests by operation over `tallies`, one tally a call (or a page).
pub fn mean_requests(tallies: &[Tally]) -> BTreeMap<String, f64> {
    let n = tallies.len() as f64;
    let mut mean = BTreeMap::new();
    for tally in tallies {
        for (operation, count) in &tally.requests {
            *mean.entry(operation.clone()).or_default() += *count as f64 / n;
        }
    }
    mean
}

/// Mean requests by operation as a table cell: `1.00 GetItem, 0.50 Query`.
pub fn requests_cell(mean: &BTreeMap<String, f64>) -> String {
    let operations: Vec<String> = mean
        .iter()
        .map(|(operation, count)| format!("{count:.2} {operation}"))
        .collect();
    operations.join(", ")
}

/// What went through since the last [`Proxy::take`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Requests by operation, e.g. `GetItem`.
    pub requests: BTreeMap<String, u64>,
    pub read_units: f64,
    pub write_units: f64,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    tally: Mutex<Tally>,
}

pub struct Proxy {
    url: String,
    shared: Arc<Shared>,
    _server: LocalServer,
}

impl Proxy {
    /// Listens on a random port of 127.0.0.1 and forwards to `upstream`, until dropped.
    pub async fn start(upstream: String) -> Self {
        let shared = Arc::new(Shared {
            upstream,
            client: reqwest::Client::new(),
            tally: Mutex::default(),
        });
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let server = LocalServer::start(app).await;
        Self {
            url: server.url(),
            shared,
            _server: server,
        }
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The tally so far, starting a new one.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut *self.shared.tally.lock().expect("tally lock"))
    }
}

async fn forward(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    match relay(&shared, headers, body).await {
        Ok(response) => response,
        Err(err) => (StatusCode::BAD_GATEWAY, format!("proxy: {err:#}")).into_response(),
    }
}

async fn relay(shared: &Shared, mut headers: HeaderMap, body: Bytes) -> anyhow::Result<Response> {
    let operation = headers
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .and_then(|target| target.rsplit_once('.'))
        .map(|(_, operation)| operation.to_owned())
        .unwrap_or_default();
    let is_read = READS.contains(&operation.as_str());
    let counts_units = is_read || WRITES.contains(&operation.as_str());
    let body = if counts_units {
        let mut request: Value =
            serde_json::from_slice(&body).with_context(|| format!("{operation} body"))?;
        request["ReturnConsumedCapacity"] = Value::from("TOTAL");
        Bytes::from(serde_json::to_vec(&request)?)
    } else {
        body
    };
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    let upstream = shared
        .client
        .post(&shared.upstream)
        .headers(headers)
        .body(body)
        .send()
        .await
        .context("forward to dynalite")?;
    let status = upstream.status();
    let mut response_headers = upstream.headers().clone();
    response_headers.remove(header::CONTENT_LENGTH);
    response_headers.remove(header::TRANSFER_ENCODING);
    let answer = upstream.bytes().await.context("read dynalite's answer")?;
    let units = serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|answer| answer["ConsumedCapacity"]["CapacityUnits"].as_f64())
        .unwrap_or(0.0);
    {
        let mut tally = shared.tally.lock().expect("tally lock");
        *tally.requests.entry(operation).or_default() += 1;
        if is_read {
            tally.read_units += units;
        } else {
            tally.write_units += units;
        }
    }
    Ok((status, response_headers, answer).into_response())
}
