//! Paths as the router knows them (`/tasks`), whatever stage API Gateway served them on.

use http::Request;
use http::uri::{PathAndQuery, Uri};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// HTTP API events on a named stage carry it in `rawPath` (`/prod/tasks`); the `$default`
/// stage has none. REST API events never do once `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is
/// set, so only HTTP API requests are rewritten.
pub fn strip_http_api_stage<B>(mut request: Request<B>) -> Request<B> {
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|stage| stage != "$default") else {
        return request;
    };
    let uri = request.uri();
    let Some(rest) = uri.path().strip_prefix(&format!("/{stage}")) else {
        return request;
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return request;
    }
    let path = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query =
        Some(PathAndQuery::try_from(path_and_query).expect("a suffix of a valid path is valid"));
    *request.uri_mut() = Uri::from_parts(parts).expect("only the path changed");
    request
}
