//! `taskapi-events`, the second Lambda bootstrap: live updates on AWS. One binary serves
//! the functions the table's changes flow through, each deployed with its own role and its
//! own least-privilege policy, and chosen at init by `TASKAPI_EVENTS_FUNCTION`:
//!
//! - `websocket`: the WebSocket API's `$connect` (the ID token verified here, against the
//!   pool's JWKS fetched in init), `$disconnect` and `$default` routes;
//! - `fanout`: the table's stream, each change posted to the connections of whoever may
//!   see it through the API Gateway Management API;
//! - `webhook-router`: the table's stream, each change put on the delivery queue once per
//!   endpoint that wants it;
//! - `webhook-delivery`: the queue, each message one signed attempt at its endpoint, the
//!   next one scheduled by the message's visibility.
//!
//! Kept apart from `taskapi-lambda` so neither carries the other's code: no HTTP router,
//! no SQLite and no user pool here.
//!
//! Reading order: [`config`] (the environment), [`connections`] (the connection items in
//! the table), [`websocket`] (the routes), [`records`] (a stream batch as records),
//! [`fanout`] (who hears a change, and posting it), [`management`] (`@connections`),
//! [`webhook_router`] and [`queue`] (changes onto the delivery queue), [`webhook_delivery`]
//! (one attempt per message), [`aws`] (the SDK settings), [`error`] (every failure, and
//! what each means for the caller), [`telemetry`] (JSON logs).

mod aws;
mod config;
mod connections;
mod error;
mod fanout;
mod management;
mod queue;
mod records;
mod telemetry;
mod webhook_delivery;
mod webhook_router;
mod websocket;

use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use taskapi_store_dynamodb::DynamoStore;
use taskapi_webhooks::{AddressPolicy, SecretCipher, Sender};

use crate::config::{DeliverySettings, EventsConfig, Role};
use crate::connections::Connections;
use crate::error::{KeyError, TableError};
use crate::fanout::FanOut;
use crate::management::Management;
use crate::queue::Queue;
use crate::webhook_delivery::Deliverer;
use crate::webhook_router::WebhookRouter;
use crate::websocket::Routes;

fn main() -> ExitCode {
    telemetry::init();
    // One event at a time per execution environment, as in taskapi-lambda: a
    // single-threaded runtime starts faster; the fan-out's posts overlap on it anyway.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build the tokio runtime");
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "taskapi-events stopped");
            ExitCode::FAILURE
        }
    }
}

/// Serves `handler` for every invocation of this execution environment.
async fn serve<H, F>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Value) -> F,
    F: Future<Output = Result<Value, lambda_runtime::Error>>,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        handler(event.payload)
    }))
    .await
}

async fn run() -> Result<(), lambda_runtime::Error> {
    let config = EventsConfig::from_env()?;
    let client = config.dynamo.client().await;
    let table = config.dynamo.table;
    match config.role {
        Role::WebSocket(auth) => {
            let routes = Arc::new(Routes::init(Connections::new(client, table), auth).await);
            serve(|event| {
                let routes = Arc::clone(&routes);
                async move { Ok(routes.handle(&event).await) }
            })
            .await
        }
        Role::FanOut { endpoint } => {
            let management = Management::new(&aws::sdk_config().await, &endpoint);
            let fanout = Arc::new(FanOut::new(Connections::new(client, table), management));
            serve(|event| {
                let fanout = Arc::clone(&fanout);
                async move { Ok(fanout.handle(event).await?) }
            })
            .await
        }
        Role::WebhookRouter { queue_url } => {
            let queue = Queue::new(&aws::sdk_config().await, queue_url);
            let router = Arc::new(WebhookRouter::new(DynamoStore::new(client, table), queue));
            serve(|event| {
                let router = Arc::clone(&router);
                async move { Ok(router.handle(event).await?) }
            })
            .await
        }
        Role::WebhookDelivery(settings) => {
            let deliverer = Arc::new(deliverer(DynamoStore::new(client, table), settings).await?);
            serve(|event| {
                let deliverer = Arc::clone(&deliverer);
                async move { Ok(deliverer.handle(event).await?) }
            })
            .await
        }
    }
}

/// The delivery function's parts, the signing secrets' key read from Secrets Manager now,
/// during init: without it nothing can be signed, so failing here fails the init (Lambda
/// retries it) rather than every delivery.
async fn deliverer(
    store: DynamoStore,
    settings: DeliverySettings,
) -> Result<Deliverer, lambda_runtime::Error> {
    let sdk = aws::sdk_config().await;
    let secret = aws_sdk_secretsmanager::Client::new(&sdk)
        .get_secret_value()
        .secret_id(&settings.key_secret)
        .send()
        .await
        .map_err(|err| KeyError(TableError::of("GetSecretValue", &err).message))?;
    let cipher = SecretCipher::from_secret_text(secret.secret_string().unwrap_or_default())?;
    let policy = if settings.allow_private {
        AddressPolicy::ALLOW_PRIVATE
    } else {
        AddressPolicy::PUBLIC_ONLY
    };
    Ok(Deliverer::new(
        store,
        Queue::new(&sdk, settings.queue_url),
        cipher,
        Sender::new(policy)?,
        settings.schedule,
    ))
}
