//! Everything the function reads from its environment, read once at init. AWS settings
//! (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`) are left to aws-config.

use http::HeaderValue;
use taskapi_http::HttpConfig;
use taskapi_store_dynamodb::{DynamoConfig, StatusShardsFromEnv};

/// The origins CORS allows, comma-separated (the same variable as `taskapi serve`); any
/// origin when unset, as the seed's handlers answer.
const CORS_ORIGIN: &str = "TASKAPI_CORS_ORIGIN";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{CORS_ORIGIN}: {origin:?} is not a valid origin")]
    InvalidCorsOrigin { origin: String },
    #[error(transparent)]
    StatusShards(#[from] StatusShardsFromEnv),
}

pub struct Settings {
    pub dynamo: DynamoConfig,
    pub http: HttpConfig,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let origins = std::env::var(CORS_ORIGIN).unwrap_or_default();
        Ok(Self {
            dynamo: DynamoConfig::from_env()?,
            http: HttpConfig {
                cors_origins: parse_origins(&origins)?,
            },
        })
    }
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
}
