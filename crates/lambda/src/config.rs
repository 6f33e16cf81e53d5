//! Everything the function reads from its environment, read once at init. AWS settings
//! (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`) are left to aws-config.

use http::HeaderValue;
use taskapi_http::HttpConfig;
use taskapi_store_dynamodb::{DynamoConfig, StatusShardsFromEnv};

/// The origins CORS allows, comma-separated (the same variable as `taskapi serve`); any
/// origin when unset, as the seed's handlers answer.
const CORS_ORIGIN: &str = "TASKAPI_CORS_ORIGIN";
/// Whose ID tokens the function verifies itself, as `taskapi serve` reads them.
const JWT_ISSUER: &str = "TASKAPI_JWT_ISSUER";
const USER_POOL_ID: &str = "TASKAPI_COGNITO_USER_POOL_ID";
const JWT_AUDIENCE: &str = "TASKAPI_JWT_AUDIENCE";
/// The Secrets Manager secret (ARN or name) whose text keys the webhooks' sealed signing
/// secrets; unset, the webhook routes are off (404).
const WEBHOOK_KEY_SECRET: &str = "TASKAPI_WEBHOOK_KEY_SECRET";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{CORS_ORIGIN}: {origin:?} is not a valid origin")]
    InvalidCorsOrigin { origin: String },
    #[error(transparent)]
    StatusShards(#[from] StatusShardsFromEnv),
    #[error("{USER_POOL_ID}: {pool_id:?} is not <region>_<id>")]
    InvalidUserPoolId { pool_id: String },
    #[error("set {JWT_ISSUER} or {USER_POOL_ID}, not both")]
    TwoIssuers,
}

pub struct LambdaConfig {
    pub dynamo: DynamoConfig,
    pub http: HttpConfig,
    pub auth: Auth,
    pub webhook_key_secret: Option<String>,
}

/// Who tells the function who is calling.
#[derive(Debug, PartialEq, Eq)]
pub enum Auth {
    /// API Gateway's authorizer verified the token; its claims are in the event.
    ApiGateway,
    /// Nothing in front verifies anything (a Function URL with `AuthType: NONE`): the
    /// function verifies the ID token itself, as `taskapi serve` does.
    Verify {
        issuer: String,
        /// Accepted `aud` values; empty accepts any app client of the pool.
        audiences: Vec<String>,
    },
}

impl LambdaConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let origins = std::env::var(CORS_ORIGIN).unwrap_or_default();
        Ok(Self {
            dynamo: DynamoConfig::from_env()?,
            http: HttpConfig {
                cors_origins: parse_origins(&origins)?,
                ..HttpConfig::default()
            },
            auth: auth_from(
                non_empty(JWT_ISSUER),
                non_empty(USER_POOL_ID),
                &non_empty(JWT_AUDIENCE).unwrap_or_default(),
            )?,
            webhook_key_secret: non_empty(WEBHOOK_KEY_SECRET),
        })
    }
}

fn non_empty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

fn auth_from(
    issuer: Option<String>,
    pool_id: Option<String>,
    audiences: &str,
) -> Result<Auth, ConfigError> {
    let issuer = match (issuer, pool_id) {
        (None, None) => return Ok(Auth::ApiGateway),
        (Some(_), Some(_)) => return Err(ConfigError::TwoIssuers),
        (Some(issuer), None) => issuer.trim_end_matches('/').to_owned(),
        (None, Some(pool_id)) => taskapi_jwt::cognito_issuer(&pool_id)
            .ok_or(ConfigError::InvalidUserPoolId { pool_id })?,
    };
    Ok(Auth::Verify {
        issuer,
        audiences: audiences
            .split(',')
            .map(str::trim)
            .filter(|audience| !audience.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

fn parse_origins(raw: &str) -> Result<Vec<HeaderValue>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            HeaderValue::from_str(origin).map_err(|_| ConfigError::InvalidCorsOrigin {
                origin: origin.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_a_comma_separated_list() {
        assert!(parse_origins("").unwrap().is_empty());
        let origins = parse_origins("https://tasks.example.com, http://localhost:3000").unwrap();
        assert_eq!(
            origins,
            ["https://tasks.example.com", "http://localhost:3000"]
        );
        assert!(parse_origins("https://bad\norigin").is_err());
    }

    #[test]
    fn tokens_are_verified_only_when_an_issuer_is_named() {
        assert_eq!(auth_from(None, None, "x").unwrap(), Auth::ApiGateway);
        assert_eq!(
            auth_from(Some("http://pool/".into()), None, "a, b").unwrap(),
            Auth::Verify {
                issuer: "http://pool".into(),
                audiences: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(
            auth_from(None, Some("eu-west-1_Abc".into()), "").unwrap(),
            Auth::Verify {
                issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc".into(),
                audiences: vec![]
            }
        );
        assert!(auth_from(None, Some("nope".into()), "").is_err());
        assert!(auth_from(Some("http://a".into()), Some("eu-west-1_Abc".into()), "").is_err());
    }
}
