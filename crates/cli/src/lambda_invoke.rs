//! The local user pool's Lambda triggers, invoked through the Lambda Invoke API
//! (`POST /2015-03-31/functions/<name>/invocations`) at `--lambda-endpoint`: what `cargo
//! lambda watch` and `sam local start-lambda` serve, so a developer's real trigger code runs.

use std::time::Duration;

use serde_json::Value;
use taskapi_userpool::{InvokeError, LambdaInvoker};
use tokio::runtime::Handle;

/// How long Cognito waits for a trigger before giving up.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A Lambda Invoke API client at one endpoint.
pub struct InvokeApi {
    endpoint: String,
    client: reqwest::Client,
    /// The server's runtime: the pool calls [`LambdaInvoker::invoke`] on its blocking
    /// threads, which wait here for the request to finish on the runtime.
    runtime: Handle,
}

impl InvokeApi {
    /// A client for `endpoint` (a base URL, no trailing slash). Call it within the server's
    /// runtime.
    pub fn new(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .unwrap_or_default(),
            runtime: Handle::current(),
        }
    }

    async fn call(&self, function: &str, event: &Value) -> Result<Value, InvokeError> {
        let url = format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.endpoint
        );
        let response = self
            .client
            .post(url)
            .header("X-Amz-Invocation-Type", "RequestResponse")
            .json(event)
            .send()
            .await
            .map_err(|error| self.failure(&error))?;
        let status = response.status();
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = response
            .bytes()
            .await
            .map_err(|error| self.failure(&error))?;
        let answer: Option<Value> = serde_json::from_slice(&body).ok();
        // A failed function: AWS (and `sam local`) answer 200 with `X-Amz-Function-Error`,
        // `cargo lambda watch` a 500; both with `{"errorType": ..., "errorMessage": ...}`.
        let thrown = answer
            .as_ref()
            .and_then(|a| a.get("errorMessage"))
            .filter(|_| function_error || status.is_server_error());
        if let Some(message) = thrown {
            let message = message
                .as_str()
                .map_or_else(|| message.to_string(), str::to_owned);
            return Err(InvokeError::Function(message));
        }
        if !status.is_success() {
            return Err(InvokeError::Refused {
                endpoint: self.endpoint.clone(),
                function: function.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
        }
        let answer = answer.ok_or(InvokeError::Unreadable)?;
        Ok(answer)
    }

    fn failure(&self, error: &reqwest::Error) -> InvokeError {
        if error.is_timeout() {
            InvokeError::Timeout
        } else {
            InvokeError::Unreachable {
                endpoint: self.endpoint.clone(),
                reason: taskapi_domain::cause_chain(error),
            }
        }
    }
}

impl LambdaInvoker for InvokeApi {
    fn invoke(&self, function: &str, event: &Value) -> Result<Value, InvokeError> {
        self.runtime.block_on(self.call(function, event))
    }
}
