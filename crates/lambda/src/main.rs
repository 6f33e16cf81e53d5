//! `taskapi-lambda`, the Lambda bootstrap: the same router as `taskapi serve`, behind API
//! Gateway (REST API with a Cognito authorizer, or HTTP API with a JWT authorizer) or a
//! Function URL (verifying the ID token itself), on DynamoDB. Kept small so cold starts
//! stay short: no SQLite and no local user pool are linked in, configuration is read once,
//! and the DynamoDB connection and the pool's JWKS are fetched at init.
//!
//! Reading order: [`config`] (what is read from the environment), [`claims`] (who is
//! calling, from the authorizer's claims), [`verify`] (or from the token, verified here),
//! [`stage`] (paths as the router knows them), [`telemetry`] (JSON logs for CloudWatch),
//! [`xray`] (DynamoDB calls in the X-Ray trace), [`webhooks`] (the webhook routes' key).

mod claims;
mod config;
mod stage;
mod telemetry;
mod verify;
mod webhooks;
mod xray;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use taskapi_http::{AppState, api_router, with_service_layers};
use taskapi_store_dynamodb::{Client, DynamoStore};
use tower::ServiceBuilder;

use crate::config::LambdaConfig;

/// lambda_http prefixes REST API paths with the stage (`/prod/tasks`) unless this variable
/// exists, whatever its value. The router serves `/tasks`, so the binary sets it itself
/// rather than depend on every deployment remembering to.
const IGNORE_STAGE_IN_PATH: &str = "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH";

fn main() -> ExitCode {
    if std::env::var_os(IGNORE_STAGE_IN_PATH).is_none() {
        // SAFETY: nothing else runs yet (the async runtime is built below), so no other
        // thread can be reading the environment.
        unsafe { std::env::set_var(IGNORE_STAGE_IN_PATH, "true") };
    }
    telemetry::init();
    // One request at a time per execution environment: a single-threaded runtime starts
    // faster and costs less memory than a pool of workers that would sit idle.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build the tokio runtime");
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "taskapi-lambda stopped");
            ExitCode::FAILURE
        }
    }
}

/// The DynamoDB store, its calls traced as X-Ray subsegments when tracing is on.
async fn traced_store(config: &LambdaConfig) -> DynamoStore {
    let client = config.dynamo.client().await;
    let region = client
        .config()
        .region()
        .map(ToString::to_string)
        .unwrap_or_default();
    let client = match xray::DynamoDbSubsegments::from_env(region, config.dynamo.table.clone()) {
        Some(subsegments) => Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(subsegments)
                .build(),
        ),
        None => client,
    };
    DynamoStore::new(client, config.dynamo.table.clone())
        .with_status_shards(config.dynamo.status_shards)
}

async fn run() -> Result<(), lambda_http::Error> {
    let config = LambdaConfig::from_env()?;
    let store = traced_store(&config).await;
    let started = Instant::now();
    // Both in init, in parallel. A failure is logged, not fatal: a missing permission or a
    // blip at init should not crash-loop the function; requests report the real problem.
    let (warmed, auth) = tokio::join!(store.warm_up(), verify::authenticator(config.auth));
    match warmed {
        Ok(()) => tracing::info!(
            table = store.table(),
            elapsed_ms = started.elapsed().as_millis(),
            "DynamoDB connection ready"
        ),
        Err(err) => tracing::warn!(table = store.table(), error = %err, "DynamoDB warm-up failed"),
    }
    let mut state = AppState::new(Arc::new(store), auth);
    if let Some(secret) = &config.webhook_key_secret {
        state.webhooks = Some(webhooks::settings(secret).await?);
    }
    let router = with_service_layers(api_router(state), &config.http);
    let service = ServiceBuilder::new()
        .map_request(stage::strip_http_api_stage)
        .service(router);
    lambda_http::run(service).await
}
