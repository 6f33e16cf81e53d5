//! A counting proxy between a taskapi binary and dynalite: it counts DynamoDB requests by
//! operation (`X-Amz-Target`), asks for `"ReturnConsumedCapacity":"TOTAL"` on every data
//! operation (dynalite checks no signatures, so the rewritten body passes), and sums the
//! `ConsumedCapacity` dynalite returns, as read or write units by operation. Responses go
//! back untouched, checksum header included.
//!
//! dynalite has no transactions, so a `TransactWriteItems` is played as its actions, one
//! request each (a put, update or delete with its condition; a condition check as a
//! consistent read), and charged as DynamoDB charges a transaction: twice the units of the
//! same actions done alone (DynamoDB Developer Guide, "Capacity management for
//! transactions"). It is counted as the one request the function made. This holds for a
//! benchmark's uncontended calls only: the actions are not atomic, and a condition check's
//! condition is not evaluated (the benchmark's calls all pass theirs).

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
/// The one operation played as others (see the module's note).
const TRANSACT_WRITE: &str = "TransactWriteItems";
/// Transactional requests cost twice the units of the same work done alone.
const TRANSACTION_FACTOR: f64 = 2.0;

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

/// What one route's calls cost on average: DynamoDB requests by operation and the units.
#[derive(Debug, Serialize)]
pub struct PerCall {
    pub requests_per_call: BTreeMap<String, f64>,
    pub read_units_per_call: f64,
    pub write_units_per_call: f64,
}

impl PerCall {
    /// The means over `tallies`, one tally a call.
    pub fn of(tallies: &[Tally]) -> Self {
        let calls = tallies.len() as f64;
        Self {
            requests_per_call: mean_requests(tallies),
            read_units_per_call: tallies.iter().map(|t| t.read_units).sum::<f64>() / calls,
            write_units_per_call: tallies.iter().map(|t| t.write_units).sum::<f64>() / calls,
        }
    }

    /// The table cell: `2.00 (1.00 GetItem, 1.00 Query)`.
    pub fn requests_cell(&self) -> String {
        let total: f64 = self.requests_per_call.values().sum();
        format!("{total:.2} ({})", requests_cell(&self.requests_per_call))
    }
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
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    let (status, response_headers, answer, units) = if operation == TRANSACT_WRITE {
        transact(shared, &headers, &body).await?
    } else {
        let (status, response_headers, answer) = send(shared, &headers, &operation, body).await?;
        let units = units_of(&operation, &answer);
        (status, response_headers, answer, units)
    };
    {
        let mut tally = shared.tally.lock().expect("tally lock");
        *tally.requests.entry(operation.clone()).or_default() += 1;
        tally.read_units += units.read;
        tally.write_units += units.write;
    }
    Ok((status, response_headers, answer).into_response())
}

/// Units of one answer, or of a transaction's actions.
#[derive(Default)]
struct Units {
    read: f64,
    write: f64,
}

/// Sends one request upstream as `operation`, asking for its consumed capacity when it
/// reads or writes; the answer's status, headers and body.
async fn send(
    shared: &Shared,
    headers: &HeaderMap,
    operation: &str,
    body: Bytes,
) -> anyhow::Result<(StatusCode, HeaderMap, Bytes)> {
    let body = if READS.contains(&operation) || WRITES.contains(&operation) {
        let mut request: Value =
            serde_json::from_slice(&body).with_context(|| format!("{operation} body"))?;
        request["ReturnConsumedCapacity"] = Value::from("TOTAL");
        Bytes::from(serde_json::to_vec(&request)?)
    } else {
        body
    };
    let mut headers = headers.clone();
    let target = format!("DynamoDB_20120810.{operation}");
    headers.insert("x-amz-target", target.parse()?);
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
    Ok((status, response_headers, answer))
}

/// The units an answer of `operation` reports: one `ConsumedCapacity`, or one per table
/// (batches), as read or write units by the operation.
fn units_of(operation: &str, answer: &[u8]) -> Units {
    let consumed = serde_json::from_slice::<Value>(answer)
        .map(|mut answer| answer["ConsumedCapacity"].take())
        .unwrap_or_default();
    let total = match &consumed {
        Value::Array(tables) => tables
            .iter()
            .filter_map(|table| table["CapacityUnits"].as_f64())
            .sum(),
        one => one["CapacityUnits"].as_f64().unwrap_or(0.0),
    };
    if READS.contains(&operation) {
        Units {
            read: total,
            write: 0.0,
        }
    } else {
        Units {
            read: 0.0,
            write: total,
        }
    }
}

/// Plays a `TransactWriteItems` as its actions, one request each, and answers as
/// DynamoDB does when a transaction succeeds; the first action refused ends it with that
/// refusal (as a transaction's cancellation would: nothing after it is done).
async fn transact(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> anyhow::Result<(StatusCode, HeaderMap, Bytes, Units)> {
    let request: Value = serde_json::from_slice(body).context("TransactWriteItems body")?;
    let actions = request["TransactItems"]
        .as_array()
        .context("TransactItems")?;
    let mut units = Units::default();
    let mut last = (StatusCode::OK, HeaderMap::new());
    for action in actions {
        let (operation, mut single) = single_request(action)?;
        if operation == "GetItem" {
            single["ConsistentRead"] = Value::Bool(true);
        }
        let body = Bytes::from(serde_json::to_vec(&single)?);
        let (status, response_headers, answer) = send(shared, headers, operation, body).await?;
        if !status.is_success() {
            return Ok((status, response_headers, answer, units));
        }
        let done = units_of(operation, &answer);
        units.read += TRANSACTION_FACTOR * done.read;
        units.write += TRANSACTION_FACTOR * done.write;
        last = (status, response_headers);
    }
    Ok((last.0, last.1, Bytes::from_static(b"{}"), units))
}

/// One action of a transaction as the single-item request that does the same:
/// `Put` → `PutItem`, `Update` → `UpdateItem`, `Delete` → `DeleteItem`, `ConditionCheck`
/// → `GetItem` of its key.
fn single_request(action: &Value) -> anyhow::Result<(&'static str, Value)> {
    let (kind, fields) = action
        .as_object()
        .and_then(|action| action.iter().next())
        .context("an empty transaction action")?;
    let operation = match kind.as_str() {
        "Put" => "PutItem",
        "Update" => "UpdateItem",
        "Delete" => "DeleteItem",
        "ConditionCheck" => {
            let read = serde_json::json!({
                "TableName": fields["TableName"],
                "Key": fields["Key"],
            });
            return Ok(("GetItem", read));
        }
        other => anyhow::bail!("an unknown transaction action {other}"),
    };
    let mut single = fields.clone();
    if let Some(fields) = single.as_object_mut() {
        // Only a transaction knows this field; alone, it is `ReturnValues`' business.
        fields.remove("ReturnValuesOnConditionCheckFailure");
    }
    Ok((operation, single))
}
