//! The door's failures and the one place Cognito's exception names are written: the core's
//! [`PoolError`], and what only the wire can get wrong (a body that is not JSON, a missing
//! or bad signature).

use taskapi_userpool::PoolError;

/// A request the door refuses, or the core's answer to it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AwsError {
    #[error(transparent)]
    Pool(#[from] PoolError),
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
}

impl AwsError {
    /// The exception name clients key on (`__type`, `x-amzn-ErrorType`).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::Pool(error) => pool_error_name(error),
            Self::Serialization(_) => "SerializationException",
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            Self::InvalidSignature(_) => "InvalidSignatureException",
        }
    }
}

/// Cognito's name for each of the core's failures (two software-token failures share the
/// names of the code failures, as Cognito answers them).
fn pool_error_name(error: &PoolError) -> &'static str {
    match error {
        PoolError::NotAuthorized(_) => "NotAuthorizedException",
        PoolError::InvalidParameter(_) => "InvalidParameterException",
        PoolError::InvalidPassword(_) => "InvalidPasswordException",
        PoolError::UserNotFound => "UserNotFoundException",
        PoolError::UserNotConfirmed => "UserNotConfirmedException",
        PoolError::UsernameExists(_) => "UsernameExistsException",
        PoolError::CodeMismatch => "CodeMismatchException",
        PoolError::ExpiredCode => "ExpiredCodeException",
        PoolError::LimitExceeded => "LimitExceededException",
        PoolError::ResourceNotFound(_) => "ResourceNotFoundException",
        PoolError::PasswordResetRequired => "PasswordResetRequiredException",
        PoolError::SoftwareTokenMismatch => "CodeMismatchException",
        PoolError::SoftwareTokenReused => "ExpiredCodeException",
        PoolError::EnableSoftwareTokenMfa => "EnableSoftwareTokenMFAException",
        PoolError::SoftwareTokenMfaNotFound => "SoftwareTokenMFANotFoundException",
        PoolError::AliasExists => "AliasExistsException",
        PoolError::GroupExists => "GroupExistsException",
        PoolError::DuplicateProvider(_) => "DuplicateProviderException",
        PoolError::Unauthorized(_) => "UnauthorizedException",
        PoolError::UnsupportedUserState(_) => "UnsupportedUserStateException",
        PoolError::UnknownOperation(_) => "UnknownOperationException",
        PoolError::ScopeDoesNotExist(_) => "ScopeDoesNotExistException",
        PoolError::InvalidOAuthFlow(_) => "InvalidOAuthFlowException",
        PoolError::TooManyRequests(_) => "TooManyRequestsException",
        PoolError::UserLambdaValidation(_) => "UserLambdaValidationException",
        PoolError::UnexpectedLambda(_) => "UnexpectedLambdaException",
        PoolError::InvalidLambdaResponse(_) => "InvalidLambdaResponseException",
        PoolError::ServiceUnavailable => "ServiceUnavailableException",
        PoolError::Internal(_) | PoolError::TaskFailed(_) => "InternalErrorException",
    }
}
