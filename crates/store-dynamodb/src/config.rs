//! Where the table is and how to reach it. Everything else comes from the standard AWS
//! environment (`AWS_REGION`, credentials chain, `AWS_ENDPOINT_URL_DYNAMODB`), read by
//! aws-config, so taskapi behaves like every other AWS tool on the same machine.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use taskapi_domain::ValidationError;
use taskapi_domain::keys::StatusShards;

use crate::DynamoStore;

/// The environment twin of `--status-shards`.
const STATUS_SHARDS: &str = "TASKAPI_STATUS_SHARDS";

/// The seed's table name, used when `TABLE_NAME` is not set.
pub const DEFAULT_TABLE: &str = taskapi_domain::keys::TABLE_NAME;

/// The region assumed when none is configured anywhere: the seed's. On Lambda `AWS_REGION`
/// is always set, so this only spares local runs against dynalite an extra variable.
const FALLBACK_REGION: &str = "us-east-1";

/// How to reach the task table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoConfig {
    /// The table name (`TABLE_NAME`, as in the seed).
    pub table: String,
    /// How many GSI1 partitions each status is spread over; 1 is the seed's layout.
    pub status_shards: StatusShards,
}

/// `TASKAPI_STATUS_SHARDS` holds no valid shard count.
#[derive(Debug, thiserror::Error)]
#[error("{STATUS_SHARDS}: {0}")]
pub struct StatusShardsFromEnv(#[source] ValidationError);

impl Default for DynamoConfig {
    fn default() -> Self {
        Self {
            table: DEFAULT_TABLE.to_owned(),
            status_shards: StatusShards::SEED,
        }
    }
}

impl DynamoConfig {
    /// `TABLE_NAME` (default `TaskApp`) and `TASKAPI_STATUS_SHARDS` (default 1); the
    /// endpoint is left to aws-config.
    pub fn from_env() -> Result<Self, StatusShardsFromEnv> {
        let status_shards = match std::env::var(STATUS_SHARDS) {
            Ok(raw) if !raw.is_empty() => raw.parse().map_err(StatusShardsFromEnv)?,
            _ => StatusShards::SEED,
        };
        Ok(Self {
            table: std::env::var("TABLE_NAME")
                .ok()
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| DEFAULT_TABLE.to_owned()),
            status_shards,
        })
    }

    /// A DynamoDB client from the standard AWS environment (the endpoint too: aws-config
    /// honours `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL`, which is how the tests
    /// reach dynalite and moto). Timeouts are bounded so a hung
    /// connection turns into a 503 well inside the Lambda and API Gateway time limits; the
    /// SDK's standard retry mode (3 attempts, exponential backoff with jitter) absorbs
    /// throttling and transient faults before the store reports `Unavailable`.
    pub async fn client(&self) -> Client {
        let region = RegionProviderChain::default_provider().or_else(FALLBACK_REGION);
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .operation_timeout(Duration::from_secs(8))
                    .build(),
            );
        Client::new(&loader.load().await)
    }

    /// The store over [`Self::client`].
    pub async fn store(&self) -> DynamoStore {
        DynamoStore::new(self.client().await, self.table.clone())
            .with_status_shards(self.status_shards)
    }
}
