//! `POST /oauth2/token`: the authorization-code (with PKCE), refresh-token and
//! client-credentials grants, with client authentication by Basic header or body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use taskapi_userpool::hosted_ui::{OAuthClient, OAuthGrant, OAuthTokens};
use taskapi_userpool::{PoolError, UserPools};

use crate::error::OAuthError;
use crate::pages::is_form;
use crate::{AppState, pkce};

#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match grant(&state, &headers, &body).await {
        Ok(tokens) => tokens_response(&tokens),
        Err(error) => error.into_response(),
    }
}

async fn grant(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<OAuthTokens, OAuthError> {
    let req: TokenRequest = form(headers, body)?;
    let client = authenticate(
        state,
        headers,
        req.client_id.as_deref(),
        req.client_secret.as_deref(),
    )
    .await?;
    match req.grant_type.as_deref() {
        Some("authorization_code") => authorization_code(state, &client, req).await,
        Some("refresh_token") => {
            let token = req
                .refresh_token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| OAuthError::InvalidRequest("refresh_token is required".into()))?;
            let client_id = client.id.clone();
            in_pool(state, move |pools| pools.oauth_refresh(&client_id, &token)).await
        }
        Some("client_credentials") => client_credentials(state, &client, req.scope).await,
        Some(_) => Err(OAuthError::UnsupportedGrantType),
        None => Err(OAuthError::InvalidRequest("grant_type is required".into())),
    }
}

async fn authorization_code(
    state: &AppState,
    client: &OAuthClient,
    req: TokenRequest,
) -> Result<OAuthTokens, OAuthError> {
    require_flow(client, "code")?;
    let code = req
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest("code is required".into()))?;
    let redirect_uri = req
        .redirect_uri
        .ok_or_else(|| OAuthError::InvalidRequest("redirect_uri is required".into()))?;
    // Taken out before anything else is checked: a code is spent by its first use, even a
    // failed one.
    let pending =
        state.ui.codes.take(&code, state.ui.now()).ok_or_else(|| {
            OAuthError::InvalidGrant("The code is invalid, used or expired".into())
        })?;
    if pending.client_id != client.id {
        return Err(OAuthError::InvalidGrant(
            "The code was issued to another client".into(),
        ));
    }
    if pending.redirect_uri != redirect_uri {
        return Err(OAuthError::InvalidGrant(
            "redirect_uri differs from the one the code was issued for".into(),
        ));
    }
    if let Some(challenge) = &pending.challenge {
        let verifier = req.code_verifier.as_deref().unwrap_or_default();
        if !pkce::verifier_matches(verifier, challenge) {
            return Err(OAuthError::InvalidGrant(
                "code_verifier is missing or does not match the code_challenge".into(),
            ));
        }
    }
    let client_id = client.id.clone();
    in_pool(state, move |pools| {
        pools.oauth_tokens(&OAuthGrant {
            client_id: &client_id,
            username: &pending.username,
            scopes: &pending.scopes,
            nonce: pending.nonce.as_deref(),
            auth_time: pending.auth_time,
            epoch: pending.epoch,
            refresh: true,
        })
    })
    .await
}

/// Machine-to-machine: a confidential client asks for its resource-server scopes.
async fn client_credentials(
    state: &AppState,
    client: &OAuthClient,
    scope: Option<String>,
) -> Result<OAuthTokens, OAuthError> {
    if !client.has_secret {
        return Err(OAuthError::UnauthorizedClient(
            "client_credentials needs an app client with a secret".into(),
        ));
    }
    require_flow(client, "client_credentials")?;
    let pool_id = client.pool_id.clone();
    let existing = in_pool(state, move |pools| pools.custom_scopes(&pool_id)).await?;
    let allowed: Vec<&String> = client
        .oauth
        .scopes
        .iter()
        .filter(|s| existing.contains(s))
        .collect();
    let scopes: Vec<String> = match scope.as_deref().map(str::trim) {
        Some(requested) if !requested.is_empty() => {
            let mut scopes = Vec::new();
            for s in requested.split_whitespace() {
                if !allowed.iter().any(|a| *a == s) {
                    return Err(OAuthError::InvalidScope(format!(
                        "{s} is not a resource-server scope allowed for this client"
                    )));
                }
                if !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_owned());
                }
            }
            scopes
        }
        _ => allowed.into_iter().cloned().collect(),
    };
    if scopes.is_empty() {
        return Err(OAuthError::InvalidScope(
            "The client has no resource-server scopes to grant".into(),
        ));
    }
    let client_id = client.id.clone();
    in_pool(state, move |pools| {
        pools.client_credentials(&client_id, &scopes)
    })
    .await
}

/// Runs a step of a grant in the user pool, off the async workers; what the pool refuses
/// answers `invalid_grant`.
async fn in_pool<T: Send + 'static>(
    state: &AppState,
    step: impl FnOnce(&UserPools) -> Result<T, PoolError> + Send + 'static,
) -> Result<T, OAuthError> {
    state.ui.core(step).await.map_err(OAuthError::from_grant)
}

fn require_flow(client: &OAuthClient, flow: &str) -> Result<(), OAuthError> {
    if client.oauth.enabled && client.oauth.flows.iter().any(|f| f == flow) {
        Ok(())
    } else {
        Err(OAuthError::UnauthorizedClient(format!(
            "The client is not allowed the {flow} flow"
        )))
    }
}

/// Identifies and authenticates the client: `Authorization: Basic` (client_secret_basic) or
/// `client_id` / `client_secret` in the body (client_secret_post); public clients send only
/// `client_id`. Using both methods at once is refused, as RFC 6749 §2.3 asks.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    body_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<OAuthClient, OAuthError> {
    let basic = basic_credentials(headers)?;
    let is_basic = basic.is_some();
    let invalid = |message: &str| OAuthError::InvalidClient {
        message: message.to_owned(),
        basic: is_basic,
    };
    let (id, secret) = match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::InvalidRequest(
                "Send the client secret in the Authorization header or the body, not both".into(),
            ));
        }
        (Some((id, _)), Some(body_id), None) if id != body_id => {
            return Err(OAuthError::InvalidRequest(
                "client_id differs from the Authorization header's".into(),
            ));
        }
        (Some((id, secret)), _, None) => (id, Some(secret)),
        (None, Some(id), secret) => (id.to_owned(), secret.map(str::to_owned)),
        (None, None, _) => return Err(invalid("client_id is required")),
    };
    let given = secret.clone();
    let lookup = id.clone();
    let (client, secret_ok) = in_pool(state, move |pools| {
        let client = pools.oauth_client(&lookup)?;
        let ok = match (&client, given) {
            (Some(c), Some(secret)) if c.has_secret => {
                pools.client_secret_matches(&c.id, &secret)?
            }
            _ => false,
        };
        Ok((client, ok))
    })
    .await?;
    let client = client.ok_or_else(|| invalid("The client does not exist"))?;
    match (client.has_secret, secret.is_some()) {
        (true, false) => Err(invalid("The client has a secret: authenticate with it")),
        (true, true) if !secret_ok => Err(invalid("The client secret is wrong")),
        (false, true) => Err(invalid("The client has no secret")),
        _ => Ok(client),
    }
}

/// `Authorization: Basic base64(client_id:client_secret)`, each part form-url-encoded
/// (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::InvalidClient {
        message: "The Authorization header is not Basic client credentials".into(),
        basic: true,
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or_else(malformed)?;
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Ok(Some((
        unescape(id).ok_or_else(malformed)?,
        unescape(secret).ok_or_else(malformed)?,
    )))
}

/// A form body of the OAuth endpoints; anything else is `invalid_request`.
pub(crate) fn form<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::InvalidRequest(
            "The body must be application/x-www-form-urlencoded".into(),
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| OAuthError::InvalidRequest(format!("The body is malformed: {e}")))
}

fn tokens_response(tokens: &OAuthTokens) -> Response {
    let mut body = Map::new();
    if let Some(id) = &tokens.id_token {
        body.insert("id_token".into(), json!(id));
    }
    body.insert("access_token".into(), json!(tokens.access_token));
    if let Some(refresh) = &tokens.refresh_token {
        body.insert("refresh_token".into(), json!(refresh));
    }
    body.insert("expires_in".into(), json!(tokens.expires_in));
    body.insert("token_type".into(), json!("Bearer"));
    let mut response = Json(Value::Object(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
