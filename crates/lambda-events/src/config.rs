//! Everything the function reads from its environment, once, at init. AWS settings
//! (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`) are left to aws-config.

use taskapi_domain::RetrySchedule;
use taskapi_store_dynamodb::{DynamoConfig, StatusShardsFromEnv};

/// Which of the binary's functions this deployment is.
const FUNCTION: &str = "TASKAPI_EVENTS_FUNCTION";
/// Whose ID tokens `$connect` accepts: the same variables as taskapi-lambda's.
const JWT_ISSUER: &str = "TASKAPI_JWT_ISSUER";
const USER_POOL_ID: &str = "TASKAPI_COGNITO_USER_POOL_ID";
const JWT_AUDIENCE: &str = "TASKAPI_JWT_AUDIENCE";
/// How many sockets one user may hold open at once.
const MAX_SOCKETS_PER_USER: &str = "TASKAPI_MAX_SOCKETS_PER_USER";
/// The Management API's endpoint of the WebSocket stage:
/// `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`.
const WEBSOCKET_ENDPOINT: &str = "TASKAPI_WEBSOCKET_ENDPOINT";
/// The webhook delivery queue's URL (SQS).
const WEBHOOK_QUEUE_URL: &str = "TASKAPI_WEBHOOK_QUEUE_URL";
/// The Secrets Manager secret (ARN or name) whose text keys the sealed signing secrets.
const WEBHOOK_KEY_SECRET: &str = "TASKAPI_WEBHOOK_KEY_SECRET";
/// `true` lets deliveries reach loopback and private addresses: local runs and tests
/// only, as `taskapi serve --allow-private-webhooks`; the template never sets it.
const ALLOW_PRIVATE_WEBHOOKS: &str = "TASKAPI_ALLOW_PRIVATE_WEBHOOKS";
/// The retry delays times this (0 to 1): tests only, so retries come in seconds.
const WEBHOOK_RETRY_SCALE: &str = "TASKAPI_WEBHOOK_RETRY_SCALE";

/// A tab or two per device on a few devices; a flood of sockets from one account is not
/// a user, and each costs the fan-out a post per event.
const DEFAULT_MAX_SOCKETS_PER_USER: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{FUNCTION} must be websocket, fanout, webhook-router or webhook-delivery, not {0:?}")]
    UnknownFunction(String),
    #[error("{FUNCTION} is websocket: set {JWT_ISSUER} or {USER_POOL_ID} (exactly one)")]
    NoSingleIssuer,
    #[error("{USER_POOL_ID}: {0:?} is not <region>_<id>")]
    InvalidUserPoolId(String),
    #[error("{MAX_SOCKETS_PER_USER}: {0:?} is not a whole number from 1 up")]
    InvalidSocketCap(String),
    #[error("{FUNCTION} is fanout: set {WEBSOCKET_ENDPOINT}")]
    NoEndpoint,
    #[error("{FUNCTION} is {0}: set {WEBHOOK_QUEUE_URL}")]
    NoQueue(&'static str),
    #[error("{FUNCTION} is webhook-delivery: set {WEBHOOK_KEY_SECRET}")]
    NoKeySecret,
    #[error("{ALLOW_PRIVATE_WEBHOOKS}: {0:?} is neither true nor false")]
    InvalidAllowPrivate(String),
    #[error("{WEBHOOK_RETRY_SCALE}: {0:?} is not a number above 0 and at most 1")]
    InvalidRetryScale(String),
    #[error(transparent)]
    StatusShards(#[from] StatusShardsFromEnv),
}

pub struct EventsConfig {
    pub dynamo: DynamoConfig,
    pub role: Role,
}

/// The function this deployment is, with what only it needs.
#[derive(Debug, PartialEq)]
pub enum Role {
    WebSocket(SocketAuth),
    FanOut { endpoint: String },
    WebhookRouter { queue_url: String },
    WebhookDelivery(DeliverySettings),
}

/// What the webhook delivery function needs besides the table.
#[derive(Debug, PartialEq)]
pub struct DeliverySettings {
    pub queue_url: String,
    pub key_secret: String,
    pub allow_private: bool,
    pub schedule: RetrySchedule,
}

/// How `$connect` decides who may open a socket.
#[derive(Debug, PartialEq, Eq)]
pub struct SocketAuth {
    pub issuer: String,
    /// Accepted `aud` values; empty accepts any app client of the pool.
    pub audiences: Vec<String>,
    pub max_sockets_per_user: usize,
}

impl EventsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            dynamo: DynamoConfig::from_env()?,
            role: role_from(&|name| non_empty(name))?,
        })
    }
}

fn non_empty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn role_from(var: &dyn Fn(&str) -> Option<String>) -> Result<Role, ConfigError> {
    match var(FUNCTION).unwrap_or_default().as_str() {
        "websocket" => Ok(Role::WebSocket(socket_auth(var)?)),
        "fanout" => Ok(Role::FanOut {
            endpoint: var(WEBSOCKET_ENDPOINT).ok_or(ConfigError::NoEndpoint)?,
        }),
        "webhook-router" => Ok(Role::WebhookRouter {
            queue_url: var(WEBHOOK_QUEUE_URL).ok_or(ConfigError::NoQueue("webhook-router"))?,
        }),
        "webhook-delivery" => Ok(Role::WebhookDelivery(delivery_settings(var)?)),
        other => Err(ConfigError::UnknownFunction(other.to_owned())),
    }
}

fn delivery_settings(
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<DeliverySettings, ConfigError> {
    let allow_private = match var(ALLOW_PRIVATE_WEBHOOKS).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(ConfigError::InvalidAllowPrivate(other.to_owned())),
    };
    let schedule = match var(WEBHOOK_RETRY_SCALE) {
        None => RetrySchedule::default(),
        Some(raw) => raw
            .parse()
            .ok()
            .and_then(RetrySchedule::scaled)
            .ok_or(ConfigError::InvalidRetryScale(raw))?,
    };
    Ok(DeliverySettings {
        queue_url: var(WEBHOOK_QUEUE_URL).ok_or(ConfigError::NoQueue("webhook-delivery"))?,
        key_secret: var(WEBHOOK_KEY_SECRET).ok_or(ConfigError::NoKeySecret)?,
        allow_private,
        schedule,
    })
}

fn socket_auth(var: &dyn Fn(&str) -> Option<String>) -> Result<SocketAuth, ConfigError> {
    let issuer = match (var(JWT_ISSUER), var(USER_POOL_ID)) {
        (Some(issuer), None) => issuer.trim_end_matches('/').to_owned(),
        (None, Some(pool_id)) => {
            taskapi_jwt::cognito_issuer(&pool_id).ok_or(ConfigError::InvalidUserPoolId(pool_id))?
        }
        _ => return Err(ConfigError::NoSingleIssuer),
    };
    let max_sockets_per_user = match var(MAX_SOCKETS_PER_USER) {
        None => DEFAULT_MAX_SOCKETS_PER_USER,
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|cap| *cap > 0)
            .ok_or(ConfigError::InvalidSocketCap(raw))?,
    };
    Ok(SocketAuth {
        issuer,
        audiences: var(JWT_AUDIENCE)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|audience| !audience.is_empty())
            .map(str::to_owned)
            .collect(),
        max_sockets_per_user,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn role(vars: &[(&str, &str)]) -> Result<Role, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        role_from(&|name| vars.get(name).cloned())
    }

    #[test]
    fn the_function_is_named_and_given_what_it_needs() {
        assert!(matches!(role(&[]), Err(ConfigError::UnknownFunction(_))));
        assert!(matches!(
            role(&[(FUNCTION, "websocket")]),
            Err(ConfigError::NoSingleIssuer)
        ));
        assert_eq!(
            role(&[
                (FUNCTION, "websocket"),
                (USER_POOL_ID, "eu-west-1_Abc"),
                (JWT_AUDIENCE, "a, b")
            ])
            .unwrap(),
            Role::WebSocket(SocketAuth {
                issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc".into(),
                audiences: vec!["a".into(), "b".into()],
                max_sockets_per_user: DEFAULT_MAX_SOCKETS_PER_USER,
            })
        );
        assert!(matches!(
            role(&[
                (FUNCTION, "websocket"),
                (JWT_ISSUER, "http://pool"),
                (MAX_SOCKETS_PER_USER, "0")
            ]),
            Err(ConfigError::InvalidSocketCap(_))
        ));
        assert!(matches!(
            role(&[(FUNCTION, "fanout")]),
            Err(ConfigError::NoEndpoint)
        ));
        assert_eq!(
            role(&[(FUNCTION, "fanout"), (WEBSOCKET_ENDPOINT, "https://x/prod")]).unwrap(),
            Role::FanOut {
                endpoint: "https://x/prod".into()
            }
        );
        assert!(matches!(
            role(&[(FUNCTION, "webhook-router")]),
            Err(ConfigError::NoQueue(_))
        ));
        let delivery = [
            (FUNCTION, "webhook-delivery"),
            (WEBHOOK_QUEUE_URL, "https://sqs/q"),
            (WEBHOOK_KEY_SECRET, "arn:secret"),
        ];
        assert_eq!(
            role(&delivery).unwrap(),
            Role::WebhookDelivery(DeliverySettings {
                queue_url: "https://sqs/q".into(),
                key_secret: "arn:secret".into(),
                allow_private: false,
                schedule: RetrySchedule::default(),
            })
        );
        for (name, bad) in [(ALLOW_PRIVATE_WEBHOOKS, "yes"), (WEBHOOK_RETRY_SCALE, "2")] {
            let mut vars = delivery.to_vec();
            vars.push((name, bad));
            assert!(role(&vars).is_err(), "{name}={bad}");
        }
    }
}
