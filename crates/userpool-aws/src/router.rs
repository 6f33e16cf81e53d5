//! HTTP: Cognito's AWS JSON 1.1 endpoint and each pool's JWKS (its OpenID discovery
//! document belongs to the hosted UI, which serves the endpoints it lists).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::codec::{amz_json, decode, error_response};
use crate::door::AwsDoor;
use crate::error::AwsError;
use crate::sigv4::SignedRegion;

/// The Cognito endpoint (`POST /`) plus each pool's JWKS, with the pool's own CORS policy
/// and request tracing. Merge it after the API's service layers, not under them: browsers
/// call Cognito from any origin with headers of their own choosing (`x-amz-target`,
/// `x-amz-user-agent`, `cache-control`, ...).
pub fn router(door: Arc<AwsDoor>) -> Router {
    // Layers run outermost first: the request id on every answer, then the signature check
    // (it buffers the body, within MAX_BODY), then the quotas, then the action.
    let endpoint = Router::new()
        .route("/", post(call))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&door),
            crate::metering::layer,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&door),
            crate::sigv4::layer,
        ))
        .route_layer(middleware::map_response(with_request_id));
    Router::new()
        .merge(endpoint)
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .with_state(door)
        // 5xx are logged where they arise (storage faults once per episode), not per response.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)))
        .layer(cors())
}

/// Cognito's CORS: any origin, the request headers echoed back (Amplify and
/// amazon-cognito-identity-js send different ones), and the error and request-id headers
/// readable by scripts. The hosted UI (`taskapi-hosted-ui`) answers browsers the same way
/// with a policy of its own, as it depends on the core and not on this door.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            HeaderName::from_static("x-amzn-errortype"),
            HeaderName::from_static("x-amzn-errormessage"),
            HeaderName::from_static("x-amzn-requestid"),
        ])
        .max_age(Duration::from_secs(600))
}

async fn with_request_id(mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&taskapi_userpool::random::uuid()) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// `POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`; signatures
/// and quotas have been checked by the layers in front, and a verified signature's region
/// came with the request.
async fn call(
    State(door): State<Arc<AwsDoor>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    signed: Option<Extension<SignedRegion>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    let region = signed.map(|Extension(SignedRegion(region))| region);
    let run = async {
        let (action, body) = decode(&headers, &body)?;
        let acting = Arc::clone(&door);
        let answer = door
            .pools
            .run_blocking(move |_| acting.dispatch(&action, body, region.as_deref(), caller))
            .await?;
        Ok(answer?)
    };
    match run.await {
        Ok(value) => (StatusCode::OK, amz_json(&value)).into_response(),
        Err::<_, AwsError>(error) => error_response(&error),
    }
}

async fn jwks(State(door): State<Arc<AwsDoor>>, Path(pool_id): Path<String>) -> Response {
    match door.pools.jwks(&pool_id) {
        Some(set) => axum::Json(set).into_response(),
        None => pool_not_found(&pool_id),
    }
}

fn pool_not_found(pool_id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "message": format!("User pool {pool_id} does not exist.") })),
    )
        .into_response()
}
