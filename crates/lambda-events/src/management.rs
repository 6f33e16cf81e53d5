//! `@connections` of the WebSocket stage, through the API Gateway Management API: post an
//! event to a socket, or close one.

use aws_config::SdkConfig;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewaymanagement::primitives::Blob;

use crate::error::PostError;

pub struct Management {
    client: Client,
}

impl Management {
    /// A client of the stage at `endpoint` (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`).
    pub fn new(sdk: &SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint)
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// Sends `body` as one text frame to socket `id`.
    pub async fn post(&self, id: &str, body: &str) -> Result<(), PostError> {
        self.client
            .post_to_connection()
            .connection_id(id)
            .data(Blob::new(body.as_bytes()))
            .send()
            .await
            .map(drop)
            .map_err(classify)
    }

    /// Closes socket `id`; one already gone is closed.
    pub async fn close(&self, id: &str) -> Result<(), PostError> {
        match self
            .client
            .delete_connection()
            .connection_id(id)
            .send()
            .await
            .map_err(classify)
        {
            Ok(_) | Err(PostError::Gone) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// The one place a Management API failure gets its meaning.
fn classify<E, R>(err: SdkError<E, R>) -> PostError
where
    E: ProvideErrorMetadata + std::error::Error,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("unknown").to_owned();
            match code.as_str() {
                "GoneException" => PostError::Gone,
                "LimitExceededException" => PostError::Failed(code),
                "ForbiddenException" | "PayloadTooLargeException" | "BadRequestException" => {
                    PostError::Refused(code)
                }
                _ => PostError::Failed(format!("{code}: {}", service.err())),
            }
        }
        // Timeouts, connection failures, unreadable answers: transient until shown otherwise.
        other => PostError::Failed(format!("{other:?}")),
    }
}
