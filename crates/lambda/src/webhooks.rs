//! What the webhook routes need on AWS: the key that seals each new signing secret before
//! the table sees it, derived from a Secrets Manager secret the stack generates and read
//! once, during init, as the delivery function reads it; and the SSRF rule for public
//! addresses only (no private endpoints on AWS).

use std::sync::Arc;

use aws_config::BehaviorVersion;
use taskapi_http::WebhookSettings;
use taskapi_webhooks::{AddressPolicy, SealError, SecretCipher};

#[derive(Debug, thiserror::Error)]
pub enum WebhookKeyError {
    #[error("reading the webhook key secret {secret}: {message}")]
    Unreadable { secret: String, message: String },
    #[error("the webhook key secret {secret}: {source}")]
    NotAKey { secret: String, source: SealError },
}

/// The settings, the key read from secret `secret` (ARN or name). Without the key no
/// webhook can be created, so a failure fails the init (Lambda retries it) rather than
/// every such request.
pub async fn settings(secret: &str) -> Result<Arc<WebhookSettings>, WebhookKeyError> {
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let text = aws_sdk_secretsmanager::Client::new(&sdk)
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .map_err(|err| WebhookKeyError::Unreadable {
            secret: secret.to_owned(),
            message: taskapi_domain::cause_chain(&err),
        })?;
    let cipher = SecretCipher::from_secret_text(text.secret_string().unwrap_or_default()).map_err(
        |source| WebhookKeyError::NotAKey {
            secret: secret.to_owned(),
            source,
        },
    )?;
    Ok(Arc::new(WebhookSettings {
        cipher,
        policy: AddressPolicy::PUBLIC_ONLY,
    }))
}
