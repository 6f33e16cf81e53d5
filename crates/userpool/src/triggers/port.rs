//! The one outbound call the pool makes: invoking a Lambda function. Behind this port so the
//! trigger rules are tested without a network, and so the core stays free of HTTP; `taskapi
//! serve` plugs in the Lambda Invoke API client (what `cargo lambda watch` and `sam local
//! start-lambda` serve).

use serde_json::Value;

/// Invokes a function synchronously (`RequestResponse`) with an event and returns what it
/// returned. Called on the core's blocking threads; an implementation bounds its own wait.
pub trait LambdaInvoker: Send + Sync {
    fn invoke(&self, function: &str, event: &Value) -> Result<Value, InvokeError>;
}

/// Why an invocation gave no usable answer. The messages name the setting to fix, because
/// they reach the developer through the client's error.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function threw or returned an error (`X-Amz-Function-Error`): its message.
    #[error("{0}")]
    Function(String),
    /// The function did not answer in time (Cognito waits 5 seconds).
    #[error("Socket timeout while invoking Lambda function")]
    Timeout,
    /// A pool has triggers but the server was started without a Lambda endpoint.
    #[error(
        "no Lambda endpoint is set: start taskapi serve with --lambda-endpoint <url> or \
         AWS_ENDPOINT_URL_LAMBDA=<url> (e.g. the address `cargo lambda watch` serves)"
    )]
    NoEndpoint,
    /// The endpoint could not be reached at all.
    #[error(
        "the Lambda endpoint {endpoint} (--lambda-endpoint / AWS_ENDPOINT_URL_LAMBDA) cannot \
         be reached: {reason}"
    )]
    Unreachable { endpoint: String, reason: String },
    /// The endpoint answered, but not with the function's result (an unknown function, ...).
    #[error("the Lambda endpoint {endpoint} answered HTTP {status} for {function}: {body}")]
    Refused {
        endpoint: String,
        function: String,
        status: u16,
        body: String,
    },
    /// The function's answer is not JSON.
    #[error("Unrecognizable lambda output")]
    Unreadable,
}
