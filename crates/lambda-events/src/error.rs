//! Every way a function's work can fail, and what each means for its caller: API
//! Gateway (a status for the handshake) or the stream (retry the record or not). The
//! mapping to those answers is in [`Refusal::status`] and [`PostError::is_retryable`].

use taskapi_domain::StoreError;

/// A table call that failed: DynamoDB was unreachable, throttled past the SDK's retries,
/// or refused the request. Worth retrying later, never the caller's fault.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation}: {message}")]
pub struct TableError {
    pub operation: &'static str,
    pub message: String,
}

impl TableError {
    pub fn of<E: std::error::Error>(operation: &'static str, err: &E) -> Self {
        // The SDK's Display is the bare "service error"; the source chain says which.
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        Self { operation, message }
    }
}

/// An SQS call that failed, or messages it refused.
#[derive(Debug, thiserror::Error)]
#[error("SQS {operation}: {message}")]
pub struct QueueError {
    pub operation: &'static str,
    pub message: String,
}

impl QueueError {
    pub fn of<E: std::error::Error>(operation: &'static str, err: &E) -> Self {
        let TableError { message, .. } = TableError::of(operation, err);
        Self { operation, message }
    }
}

/// The signing secrets' key could not be read from Secrets Manager at init.
#[derive(Debug, thiserror::Error)]
#[error("Secrets Manager GetSecretValue: {0}")]
pub struct KeyError(pub String);

/// Why `$connect` does not open a socket.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no ID token in ?token= or Authorization")]
    NoToken,
    #[error("the ID token is not valid for this pool")]
    InvalidToken,
    #[error("the user already has {0} sockets open")]
    TooManySockets(usize),
    #[error(transparent)]
    Table(#[from] TableError),
}

impl Refusal {
    /// The handshake's answer: API Gateway refuses the upgrade with this status.
    pub fn status(&self) -> u16 {
        match self {
            Self::NoToken | Self::InvalidToken => 401,
            Self::TooManySockets(_) => 429,
            Self::Table(_) => 503,
        }
    }
}

/// A post to (or close of) one connection through the Management API that did not land.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// 410: the client went away; its items are deleted.
    #[error("connection gone")]
    Gone,
    /// A refusal that a retry would meet again (403, 413, a bad id): logged, dropped.
    #[error("refused: {0}")]
    Refused(String),
    /// Throttled, a 5xx, a timeout: the record is retried.
    #[error("failed: {0}")]
    Failed(String),
}

impl PostError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Failed(_))
    }
}

/// Why a stream record is handed back to Lambda for another try.
#[derive(Debug, thiserror::Error)]
pub enum RetryRecord {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("posting to {connection}: {source}")]
    Post {
        connection: String,
        source: PostError,
    },
}

/// Why a stream record's webhook deliveries were not all queued: the record is retried
/// (the messages already sent go again, with the same `webhook-id`).
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("reading the endpoints: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The invocation was not the batch its event source sends (DynamoDB Streams, SQS): a
/// wiring mistake, failed as a whole.
#[derive(Debug, thiserror::Error)]
#[error("not a DynamoDB Streams or SQS batch: {0}")]
pub struct NotAStreamEvent(pub String);
