//! The remaining OAuth 2.0 / OIDC endpoints: userInfo, token revocation, sign-out and the
//! discovery document.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::authorize::{self, AuthorizeQuery};
use crate::error::{OAuthError, PageError, internal};
use crate::pages::append_cookie;
use crate::token::{authenticate, form};
use crate::{AppState, cookies, html};

/// Which attributes each standard scope releases at userInfo (`openid` gives `sub`).
const SCOPE_CLAIMS: [(&str, &[&str]); 3] = [
    ("email", &["email", "email_verified"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
            "address",
        ],
    ),
];

/// `GET|POST /oauth2/userInfo` with `Authorization: Bearer <access token>`; the token must
/// carry the `openid` scope.
pub(crate) async fn user_info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    else {
        return bearer_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Bad OAuth2 request at UserInfo Endpoint",
        );
    };
    let info = state.ui.core(move |pools| pools.user_info(&token)).await;
    let info = match info {
        Ok(info) => info,
        Err(error) if internal(&error).is_some() => {
            return OAuthError::from_grant(error).into_response();
        }
        Err(_) => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Access token is expired, disabled, or deleted, or the user has globally signed out.",
            );
        }
    };
    if !info.scopes.iter().any(|s| s == "openid") {
        return bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The access token does not have the openid scope",
        );
    }
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(info.attributes.get("sub")));
    for (scope, names) in SCOPE_CLAIMS {
        if !info.scopes.iter().any(|s| s == scope) {
            continue;
        }
        for name in names {
            if let Some(value) = info.attributes.get(*name) {
                let value = if name.ends_with("_verified") {
                    json!(taskapi_userpool::model::is_true(value))
                } else {
                    json!(value)
                };
                claims.insert((*name).to_owned(), value);
            }
        }
    }
    claims.insert("username".into(), json!(info.username));
    Json(Value::Object(claims)).into_response()
}

fn bearer_error(status: StatusCode, error: &str, description: &str) -> Response {
    let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    let mut response = (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct RevokeRequest {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /oauth2/revoke`: revokes a refresh token and every access token minted from it.
/// An unknown token is not an error (RFC 7009).
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let req: RevokeRequest = form(&headers, &body)?;
        let client = authenticate(
            &state,
            &headers,
            req.client_id.as_deref(),
            req.client_secret.as_deref(),
        )
        .await?;
        let token = req
            .token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::InvalidRequest("token is required".into()))?;
        // ID and access tokens are JWS (three parts); Cognito's refresh tokens are JWE (five).
        if token.split('.').count() == 3 {
            return Err(OAuthError::UnsupportedTokenType);
        }
        let client_id = client.id.clone();
        state
            .ui
            .core(move |pools| pools.revoke_refresh_token(&client_id, &token))
            .await
            .map_err(|e| match internal(&e) {
                Some(cause) => OAuthError::Internal(cause),
                None => OAuthError::InvalidRequest(e.to_string()),
            })
    }
    .await;
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct LogoutQuery {
    client_id: Option<String>,
    logout_uri: Option<String>,
    redirect_uri: Option<String>,
}

/// `GET /logout`: ends the hosted-UI session, then returns to a registered sign-out URL, or
/// to the sign-in page when given an authorization request instead.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query: LogoutQuery = match serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()) {
        Ok(q) => q,
        Err(e) => {
            return PageError::BadRequest(format!("The request's query is malformed: {e}"))
                .into_response();
        }
    };
    let Some(client_id) = query.client_id.filter(|c| !c.is_empty()) else {
        return PageError::BadRequest("The request has no client_id.".into()).into_response();
    };
    let client = match state.ui.pools.oauth_client(&client_id) {
        Ok(Some(client)) => client,
        Ok(None) => {
            return PageError::BadRequest(
                "The app client does not exist (client_id is unknown).".into(),
            )
            .into_response();
        }
        Err(e) => return PageError::from(e).into_response(),
    };
    let mut response = match (&query.logout_uri, &query.redirect_uri) {
        (Some(uri), _) if client.oauth.logout_urls.contains(uri) => authorize::found(uri.clone()),
        (Some(_), _) => {
            return PageError::BadRequest(
                "The logout_uri is not one of the app client's sign-out URLs.".into(),
            )
            .into_response();
        }
        (None, Some(_)) => {
            let again = AuthorizeQuery::parse(raw.as_deref()).unwrap_or_default();
            authorize::found(format!("/login?{}", again.encode()))
        }
        (None, None) => (StatusCode::OK, html::signed_out()).into_response(),
    };
    if let Some(id) = cookies::get(&headers, cookies::SESSION) {
        state.ui.sessions.remove(&id);
    }
    append_cookie(
        &mut response,
        &cookies::clear(cookies::SESSION, state.listener.secure),
    );
    response
}

/// `GET /<pool id>/.well-known/openid-configuration`: the issuer is the pool's, the endpoints
/// are on the listener that was asked.
pub(crate) async fn discovery(
    State(state): State<AppState>,
    Path(pool_id): Path<String>,
) -> Response {
    if state.ui.pools.jwks(&pool_id).is_none() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": format!("User pool {pool_id} does not exist.") })),
        )
            .into_response();
    }
    let issuer = state.ui.pools.issuer(&pool_id);
    let base = &state.listener.base_url;
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userInfo"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "end_session_endpoint": format!("{base}/logout"),
        "response_types_supported": ["code", "token"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "implicit"],
        "scopes_supported": ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "email", "email_verified", "phone_number", "phone_number_verified", "name", "username", "cognito:username", "cognito:groups", "nonce", "at_hash", "auth_time"],
    }))
    .into_response()
}
