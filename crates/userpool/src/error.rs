//! Every failure the user pool can report. `wire.rs` maps them to Cognito's wire format.

/// A failed Cognito action. Each variant is one Cognito exception type; the messages are the
/// ones the real service sends, because client code (Amplify, scripts) matches on them.
#[derive(Debug, thiserror::Error)]
pub enum CognitoError {
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
    Serialization(String),
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    TooManyRequests(String),
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

impl CognitoError {
    pub(crate) fn incorrect_credentials() -> Self {
        Self::NotAuthorized("Incorrect username or password.".into())
    }

    pub(crate) fn pool_not_found(pool_id: &str) -> Self {
        Self::ResourceNotFound(format!("User pool {pool_id} does not exist."))
    }

    pub(crate) fn client_not_found(client_id: &str) -> Self {
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

    /// The exception name clients key on (`__type`, `x-amzn-ErrorType`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::NotAuthorized(_) => "NotAuthorizedException",
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::InvalidPassword(_) => "InvalidPasswordException",
            Self::UserNotFound => "UserNotFoundException",
            Self::UserNotConfirmed => "UserNotConfirmedException",
            Self::UsernameExists(_) => "UsernameExistsException",
            Self::CodeMismatch => "CodeMismatchException",
            Self::ExpiredCode => "ExpiredCodeException",
            Self::LimitExceeded => "LimitExceededException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::PasswordResetRequired => "PasswordResetRequiredException",
            Self::SoftwareTokenMismatch => "CodeMismatchException",
            Self::SoftwareTokenReused => "ExpiredCodeException",
            Self::EnableSoftwareTokenMfa => "EnableSoftwareTokenMFAException",
            Self::SoftwareTokenMfaNotFound => "SoftwareTokenMFANotFoundException",
            Self::AliasExists => "AliasExistsException",
            Self::GroupExists => "GroupExistsException",
            Self::Unauthorized(_) => "UnauthorizedException",
            Self::UnsupportedUserState(_) => "UnsupportedUserStateException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::ScopeDoesNotExist(_) => "ScopeDoesNotExistException",
            Self::InvalidOAuthFlow(_) => "InvalidOAuthFlowException",
            Self::Serialization(_) => "SerializationException",
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            Self::InvalidSignature(_) => "InvalidSignatureException",
            Self::TooManyRequests(_) => "TooManyRequestsException",
            Self::ServiceUnavailable => "ServiceUnavailableException",
            Self::Internal(_) | Self::TaskFailed(_) => "InternalErrorException",
        }
    }
}

impl From<PoolStoreError> for CognitoError {
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
