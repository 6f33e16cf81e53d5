//! `taskapi-events`, the second Lambda bootstrap: live updates on AWS. One binary serves
//! the functions the table's changes flow through, each deployed with its own role and its
//! own least-privilege policy, and chosen at init by `TASKAPI_EVENTS_FUNCTION`:
//!
//! - `websocket`: the WebSocket API's `$connect` (the ID token verified here, against the
//!   pool's JWKS fetched in init), `$disconnect` and `$default` routes;
//! - `fanout`: the table's stream, each change posted to the connections of whoever may
//!   see it through the API Gateway Management API.
//!
//! Kept apart from `taskapi-lambda` so neither carries the other's code: no HTTP router,
//! no SQLite and no user pool here.
//!
//! Reading order: [`config`] (the environment), [`connections`] (the connection items in
//! the table), [`websocket`] (the routes), [`records`] (a stream batch as records),
//! [`fanout`] (who hears a change, and posting it), [`management`] (`@connections`),
//! [`error`] (every failure, and what each means for the caller), [`telemetry`] (JSON logs).

mod config;
mod connections;
mod error;
mod fanout;
mod management;
mod records;
mod telemetry;
mod websocket;

use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::config::{EventsConfig, Role};
use crate::connections::Connections;
use crate::fanout::FanOut;
use crate::management::Management;
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

async fn run() -> Result<(), lambda_runtime::Error> {
    let config = EventsConfig::from_env()?;
    let connections = Connections::new(config.dynamo.client().await, config.dynamo.table);
    match config.role {
        Role::WebSocket(auth) => {
            let routes = Arc::new(Routes::init(connections, auth).await);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let routes = Arc::clone(&routes);
                async move { Ok::<_, lambda_runtime::Error>(routes.handle(&event.payload).await) }
            }))
            .await
        }
        Role::FanOut { endpoint } => {
            let fanout = Arc::new(FanOut::new(connections, Management::new(&endpoint).await));
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let fanout = Arc::clone(&fanout);
                async move {
                    fanout
                        .handle(event.payload)
                        .await
                        .map_err(lambda_runtime::Error::from)
                }
            }))
            .await
        }
    }
}
