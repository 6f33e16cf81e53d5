//! The one place where SDK failures become [`StoreError`]s. Each operation first picks out
//! the conditional-check failure it expects (a 404 or 412, decided where the condition is
//! written); everything else comes here.

use std::error::Error;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use taskapi_domain::StoreError;

/// What a 503 tells the caller to wait. DynamoDB gives no hint of its own; one second is
/// longer than the SDK's own backoff, which has already been spent when we get here.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Error codes that mean "too much traffic right now" or "a fault on DynamoDB's side": the
/// SDK has retried them with backoff, and a later retry by the client may well succeed.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
];

/// Maps a failure the operation did not handle itself. Throttling, timeouts, connection
/// failures and 5xx answers are `Unavailable` (a 503 with `Retry-After`); anything else
/// is a fault in taskapi or its deployment (missing table, bad credentials) and `Internal`.
pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            TRANSIENT_CODES.contains(&code) || service.raw().status().is_server_error()
        }
        _ => false,
    };
    if transient {
        tracing::warn!(error = %DisplayErrorContext(&err), "DynamoDB unavailable after retries");
        StoreError::Unavailable {
            retry_after: RETRY_AFTER,
        }
    } else {
        StoreError::internal(err)
    }
}

/// Maps a failed conditional write to `on_failed_condition` (e.g. `NotFound` for a delete
/// of a missing task) and anything else as [`from_sdk`] does.
pub(crate) fn conditional<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    on_failed_condition: StoreError,
) -> Result<T, StoreError>
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    result.map_err(|err| {
        let failed_condition = err.as_service_error().and_then(ProvideErrorMetadata::code)
            == Some("ConditionalCheckFailedException");
        if failed_condition {
            on_failed_condition
        } else {
            from_sdk(err)
        }
    })
}
