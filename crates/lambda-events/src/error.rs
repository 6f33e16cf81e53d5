//! Every way a function's work can fail, and what each means for its caller: API
//! Gateway (a status for the handshake) or the stream (retry the record or not). The
//! mapping to those answers is in [`Refusal::status`] and [`PostError::is_retryable`].

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

/// The invocation was not a DynamoDB Streams batch: a wiring mistake, failed as a whole.
#[derive(Debug, thiserror::Error)]
#[error("not a DynamoDB Streams event: {0}")]
pub struct NotAStreamEvent(pub String);
