//! Every failure the user pool's core can report. Each door renders them in its own format:
//! the AWS JSON door as Cognito's exception names (`taskapi-userpool-aws`), the hosted UI as
//! pages and OAuth errors.

/// A failed pool operation. The variants follow Cognito's exceptions one to one, so the AWS
/// JSON door names each without losing a distinction; the messages are the ones the real
/// service sends, because client code (Amplify, scripts) matches on them.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("User does not exist.")]
    UserNotFound,
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    #[error("{0}")]
    UsernameExists(String),
    #[error("Invalid verification code provided, please try again.")]
    CodeMismatch,
    #[error("Invalid code provided, please request a code again.")]
    ExpiredCode,
    #[error("Attempt limit exceeded, please try after some time.")]
    LimitExceeded,
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("Password reset required for the user")]
    PasswordResetRequired,
    #[error("Invalid code received for user")]
    SoftwareTokenMismatch,
    #[error("Your software token has already been used once.")]
    SoftwareTokenReused,
    #[error("Code mismatch")]
    EnableSoftwareTokenMfa,
    #[error("Software Token MFA has not been enabled by the userPool.")]
    SoftwareTokenMfaNotFound,
    #[error("An account with the given email already exists.")]
    AliasExists,
    #[error("A group with the name already exists.")]
    GroupExists,
    /// An identity provider's name or identifier is taken in the pool.
    #[error("{0}")]
    DuplicateProvider(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    UnsupportedUserState(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    ScopeDoesNotExist(String),
    #[error("{0}")]
    InvalidOAuthFlow(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A trigger function threw: "PreSignUp failed with error <message>.".
    #[error("{0}")]
    UserLambdaValidation(String),
    /// A trigger could not be run (a timeout, an endpoint that cannot be reached or does
    /// not know the function).
    #[error("{0}")]
    UnexpectedLambda(String),
    /// A trigger answered with something that is not its event.
    #[error("{0}")]
    InvalidLambdaResponse(String),
    /// The pool's storage cannot take a write now (its disk is full or failing, the
    /// database is locked, or its file was deleted or replaced): HTTP 503, and the caller
    /// may retry. Not one of Cognito's modelled exceptions (it has none for this), but
    /// AWS's generic one. botocore (boto3, the AWS CLI) retries a 503 by its status code
    /// alone, whatever `__type` says: up to 5 attempts in its legacy mode, 3 in standard
    /// mode, with its own exponential backoff (it does not read `Retry-After`); after the
    /// last it raises `ClientError` with this code.
    #[error(
        "The user pool cannot store changes right now (its storage is full, failing or was \
         replaced); retry later."
    )]
    ServiceUnavailable,
    #[error("Internal error")]
    Internal(PoolStoreError),
    /// The blocking thread running an action panicked or was cancelled.
    #[error("Internal error")]
    TaskFailed(#[from] tokio::task::JoinError),
}

impl PoolError {
    pub fn incorrect_credentials() -> Self {
        Self::NotAuthorized("Incorrect username or password.".into())
    }

    pub fn pool_not_found(pool_id: &str) -> Self {
        Self::ResourceNotFound(format!("User pool {pool_id} does not exist."))
    }

    pub fn client_not_found(client_id: &str) -> Self {
        Self::ResourceNotFound(format!("User pool client {client_id} does not exist."))
    }

    /// The whole cause chain of an internal failure, for the log (the client sees only
    /// "Internal error", so the chain starts at the cause).
    pub fn cause_chain(&self) -> String {
        match self {
            Self::Internal(cause) => taskapi_domain::cause_chain(cause),
            Self::TaskFailed(cause) => taskapi_domain::cause_chain(cause),
            other => taskapi_domain::cause_chain(other),
        }
    }
}

/// How long, in whole seconds, a caller told [`PoolError::ServiceUnavailable`] should wait
/// before retrying (each door's `Retry-After`): the task store's wait.
pub fn retry_after_seconds() -> u64 {
    taskapi_store_sqlite::fault::RETRY_AFTER.as_secs().max(1)
}

impl From<PoolStoreError> for PoolError {
    fn from(error: PoolStoreError) -> Self {
        match error {
            PoolStoreError::Unavailable(_) => Self::ServiceUnavailable,
            other => Self::Internal(other),
        }
    }
}

/// The persistence layer failed; a bug or a broken disk, never the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum PoolStoreError {
    #[error("SQLite failed")]
    Sqlite(#[source] rusqlite::Error),
    /// A storage fault (as the task store classifies them): the caller may retry.
    #[error("the user pool's storage is unavailable")]
    Unavailable(#[source] rusqlite::Error),
    #[error("stored JSON is unreadable")]
    Json(#[from] serde_json::Error),
    #[error("stored user status {0:?} is not one this taskapi knows")]
    UnknownUserStatus(String),
    #[error("signing key")]
    Key(#[from] KeyError),
    #[error("password hashing failed")]
    PasswordHash(#[source] argon2::password_hash::Error),
    #[error("the user pool's worker threads stopped")]
    WorkersStopped,
}

impl From<rusqlite::Error> for PoolStoreError {
    /// Sorts SQLite's failures into the storage's and our own; nothing else. The store
    /// records a storage fault against its health where it runs the statement
    /// (`Store::with_conn`).
    fn from(error: rusqlite::Error) -> Self {
        if taskapi_store_sqlite::fault::is_storage_fault(&error) {
            Self::Unavailable(error)
        } else {
            Self::Sqlite(error)
        }
    }
}

/// A pool's RSA signing key could not be made, read back or used: a bug or corrupt state.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generate(#[source] aws_lc_rs::error::Unspecified),
    #[error("cannot encode the RSA key as DER")]
    Encode(#[source] aws_lc_rs::error::Unspecified),
    #[error("key {kid} is unreadable")]
    Unreadable {
        kid: String,
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("no signing keys are loaded for pool {0}")]
    Missing(String),
    #[error("signing failed")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

/// Why the user pool state in the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PoolOpenError {
    #[error(transparent)]
    NotPrivate(#[from] crate::private::NotPrivate),
    #[error(
        "user pool state {path} is unreadable ({reason}); it was left untouched, move it away to start fresh"
    )]
    Corrupt { path: String, reason: String },
    #[error(
        "user pool state {path} has schema version {found}, newer than this taskapi understands ({supported})"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
}
