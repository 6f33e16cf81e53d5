//! X-Ray subsegments for the function's DynamoDB calls. With active tracing Lambda records
//! the invocation itself; this adds one subsegment per DynamoDB operation (retries
//! included) under it: operation, table, request id, HTTP status, and error, throttle or
//! fault flags, so a trace shows where a slow request spent its time.
//!
//! Written here because there is no maintained X-Ray SDK for Rust, and the OpenTelemetry
//! route needs a collector layer beside the function and an exporter in the package. What
//! it takes is small: an interceptor on the SDK client that times each operation and sends
//! the subsegment as one UDP datagram to the X-Ray daemon Lambda runs
//! (`AWS_XRAY_DAEMON_ADDRESS`), under the invocation's trace (`_X_AMZN_TRACE_ID`, which
//! lambda_runtime sets per invocation). Unsampled invocations send nothing.

use std::hash::{BuildHasher, RandomState};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use serde_json::{Value, json};

const DAEMON_ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";
const TRACE_HEADER: &str = "_X_AMZN_TRACE_ID";
/// What precedes every document sent to the daemon.
const DAEMON_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

/// Sends a subsegment for every operation of the client it is added to.
#[derive(Debug)]
pub struct DynamoDbSubsegments {
    socket: UdpSocket,
    daemon: String,
    region: String,
    table: String,
}

impl DynamoDbSubsegments {
    /// `None` when no daemon is configured (tracing is off, or not on Lambda).
    pub fn from_env(region: String, table: String) -> Option<Self> {
        let daemon = daemon_udp_address(&std::env::var(DAEMON_ADDRESS).ok()?)?;
        let socket = UdpSocket::bind("0.0.0.0:0")
            .inspect_err(
                |err| tracing::warn!(error = %err, "no socket for X-Ray; not tracing DynamoDB"),
            )
            .ok()?;
        Some(Self {
            socket,
            daemon,
            region,
            table,
        })
    }

    fn send(&self, subsegment: &Value) {
        let datagram = format!("{DAEMON_HEADER}{subsegment}");
        if let Err(err) = self.socket.send_to(datagram.as_bytes(), &self.daemon) {
            tracing::debug!(error = %err, "X-Ray daemon unreachable");
        }
    }
}

/// The UDP address out of `host:port` or `udp:host:port tcp:host:port`.
fn daemon_udp_address(raw: &str) -> Option<String> {
    raw.split_whitespace()
        .find_map(|part| match part.split_once(':') {
            Some(("udp", address)) => Some(address),
            Some(("tcp", _)) => None,
            _ => Some(part),
        })
        .map(str::to_owned)
}

/// When the current operation started, kept in the operation's config bag.
#[derive(Debug, Clone)]
struct Started(SystemTime);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// The parent of this invocation's subsegments, from `Root=..;Parent=..;Sampled=1`.
struct TraceContext {
    root: String,
    parent: String,
}

impl TraceContext {
    fn current() -> Option<Self> {
        let header = std::env::var(TRACE_HEADER).ok()?;
        let field = |name: &str| {
            header
                .split(';')
                .find_map(|part| part.trim().strip_prefix(name)?.strip_prefix('='))
        };
        if field("Sampled") != Some("1") {
            return None;
        }
        Some(Self {
            root: field("Root")?.to_owned(),
            parent: field("Parent")?.to_owned(),
        })
    }
}

impl Intercept for DynamoDbSubsegments {
    fn name(&self) -> &'static str {
        "XRayDynamoDbSubsegments"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(Started(SystemTime::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (Some(trace), Some(Started(started))) =
            (TraceContext::current(), cfg.load::<Started>())
        else {
            return Ok(());
        };
        let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name);
        let response = context.response();
        let status = response.map(|response| response.status().as_u16());
        let request_id = response
            .and_then(|response| response.headers().get("x-amzn-requestid"))
            .unwrap_or_default();
        let mut subsegment = json!({
            "name": "DynamoDB",
            "id": segment_id(),
            "trace_id": trace.root,
            "parent_id": trace.parent,
            "type": "subsegment",
            "namespace": "aws",
            "start_time": seconds(*started),
            "end_time": seconds(SystemTime::now()),
            "aws": {
                "operation": operation,
                "region": self.region,
                "table_name": self.table,
                "request_id": request_id,
            },
        });
        if let Some(status) = status {
            subsegment["http"] = json!({ "response": { "status": status } });
        }
        // X-Ray's flags: a 4xx is an error (429 also a throttle), a 5xx or no answer a fault.
        match status {
            Some(400..=499) => {
                subsegment["error"] = json!(true);
                subsegment["throttle"] = json!(status == Some(429));
            }
            Some(200..=399) => {}
            _ => subsegment["fault"] = json!(true),
        }
        self.send(&subsegment);
        Ok(())
    }
}

fn seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// 64 random bits as 16 hex digits, as X-Ray wants segment ids.
fn segment_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{random:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_address_is_the_udp_one() {
        assert_eq!(
            daemon_udp_address("169.254.79.129:2000").as_deref(),
            Some("169.254.79.129:2000")
        );
        assert_eq!(
            daemon_udp_address("tcp:127.0.0.1:2001 udp:127.0.0.1:2002").as_deref(),
            Some("127.0.0.1:2002")
        );
        assert_eq!(daemon_udp_address(""), None);
    }

    #[test]
    fn segment_ids_are_16_hex_digits_and_differ() {
        let (a, b) = (segment_id(), segment_id());
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
