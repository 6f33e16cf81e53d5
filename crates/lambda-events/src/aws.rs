//! The AWS settings the function's clients (other than DynamoDB's, which the store builds)
//! share: the standard environment (region, credentials, `AWS_ENDPOINT_URL_<SERVICE>`),
//! and short timeouts, since each call is one small request and a stuck one would hold up
//! a whole batch that the event source retries anyway.

use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Only for a local run with no region anywhere; Lambda always sets `AWS_REGION`.
const FALLBACK_REGION: &str = "us-east-1";

pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(RegionProviderChain::default_provider().or_else(FALLBACK_REGION))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .load()
        .await
}
