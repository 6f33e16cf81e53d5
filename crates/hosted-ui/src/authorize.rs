//! The authorization request (`/oauth2/authorize` and the pages that carry it): parsing,
//! validation in Cognito's order, and the redirects back to the app.

use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use taskapi_userpool::UserPools;
use taskapi_userpool::hosted_ui::OAuthClient;

use crate::error::PageError;
use crate::pkce;

/// The standard OIDC scopes that only mean something together with `openid`.
const OIDC_SCOPES: [&str; 3] = ["email", "phone", "profile"];
/// Bounds on values that are stored with an authorization code.
const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 1024;

/// The query of an authorization request, as Amplify and OIDC libraries send it. Unknown
/// parameters are ignored, as Cognito does.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AuthorizeQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl AuthorizeQuery {
    pub fn parse(raw: Option<&str>) -> Result<Self, PageError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|e| PageError::BadRequest(format!("The request's query is malformed: {e}")))
    }

    /// The same request as a query string, to carry it from page to page.
    pub fn encode(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
}

/// A valid authorization request: the client, where to return and what was asked for.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub client: OAuthClient,
    pub redirect_uri: String,
    pub response_type: ResponseType,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub challenge: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    /// The request re-encoded for the links and forms of the sign-in pages.
    pub query: String,
}

/// Why an authorization request cannot proceed. Until the client and its `redirect_uri` are
/// known to be good the answer is a page; after that, the error goes back to the app.
pub enum Refusal {
    Page(PageError),
    /// Back to the app's `redirect_uri`, the error in the query.
    Redirect(String),
}

impl From<PageError> for Refusal {
    fn from(error: PageError) -> Self {
        Self::Page(error)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Page(page) => page.into_response(),
            Self::Redirect(location) => found(location),
        }
    }
}

/// Checks a request in Cognito's order: client, redirect URI, then everything else.
pub fn validate(pools: &UserPools, query: AuthorizeQuery) -> Result<Authorization, Refusal> {
    let client_id = query
        .client_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("The request has no client_id."))?;
    let client = pools
        .oauth_client(client_id)
        .map_err(PageError::from)?
        .ok_or_else(|| bad("The app client does not exist (client_id is unknown)."))?;
    let redirect_uri = query
        .redirect_uri
        .clone()
        .or_else(|| client.oauth.default_redirect_uri.clone())
        .ok_or_else(|| bad("The request has no redirect_uri."))?;
    if !client.oauth.callback_urls.contains(&redirect_uri) {
        return Err(bad(
            "redirect_mismatch: the redirect_uri is not one of the app client's callback URLs.",
        ));
    }
    let to_app = |error: &str, description: &str| {
        Refusal::Redirect(with_params(
            &redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", query.state.as_deref().unwrap_or_default()),
            ],
            false,
        ))
    };
    if !client.oauth.enabled {
        return Err(to_app(
            "unauthorized_client",
            "The app client is not allowed to use OAuth flows",
        ));
    }
    let response_type = match query.response_type.as_deref() {
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        Some(_) => {
            return Err(to_app(
                "unsupported_response_type",
                "response_type must be code or token",
            ));
        }
        None => return Err(to_app("invalid_request", "response_type is required")),
    };
    let flow = match response_type {
        ResponseType::Code => "code",
        ResponseType::Token => "implicit",
    };
    if !client.oauth.flows.iter().any(|f| f == flow) {
        return Err(to_app(
            "unauthorized_client",
            &format!("The app client does not allow the {flow} flow"),
        ));
    }
    if let Some(provider) = &query.identity_provider
        && (provider != "COGNITO"
            || !client
                .oauth
                .identity_providers
                .iter()
                .any(|p| p == provider))
    {
        return Err(to_app(
            "invalid_request",
            "identity_provider must be COGNITO, a provider of the app client",
        ));
    }
    if query.idp_identifier.is_some() {
        return Err(to_app(
            "invalid_request",
            "idp_identifier is not supported: the local pool has no federated providers",
        ));
    }
    let challenge = match (
        &query.code_challenge,
        query.code_challenge_method.as_deref(),
    ) {
        (None, None) => None,
        (Some(challenge), Some("S256")) if pkce::is_s256_challenge(challenge) => {
            Some(challenge.clone())
        }
        (Some(_), Some("S256")) => {
            return Err(to_app(
                "invalid_request",
                "code_challenge is not the base64url of a SHA-256 digest",
            ));
        }
        (Some(_), None) => {
            return Err(to_app(
                "invalid_request",
                "code_challenge_method is required with a code_challenge",
            ));
        }
        (None, Some(_)) => {
            return Err(to_app(
                "invalid_request",
                "code_challenge_method without a code_challenge",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(to_app(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
    };
    if query.state.as_ref().is_some_and(|s| s.len() > MAX_STATE)
        || query.nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE)
    {
        return Err(to_app("invalid_request", "state or nonce is too long"));
    }
    let scopes = scopes(&client, query.scope.as_deref()).map_err(|m| to_app("invalid_scope", m))?;
    Ok(Authorization {
        redirect_uri,
        response_type,
        scopes,
        state: query.state.clone(),
        challenge,
        nonce: query.nonce.clone(),
        prompt: query.prompt.clone(),
        login_hint: query.login_hint.clone(),
        query: query.encode(),
        client,
    })
}

/// The granted scopes: the requested ones (all of the client's when none are asked for),
/// each of which the client must allow.
fn scopes(client: &OAuthClient, requested: Option<&str>) -> Result<Vec<String>, &'static str> {
    let mut granted: Vec<String> = Vec::new();
    match requested.map(str::split_whitespace) {
        Some(words) if requested.is_some_and(|r| !r.trim().is_empty()) => {
            for scope in words {
                if !client.oauth.scopes.iter().any(|s| s == scope) {
                    return Err("A requested scope is not allowed for the app client");
                }
                if !granted.iter().any(|s| s == scope) {
                    granted.push(scope.to_owned());
                }
            }
        }
        _ => granted.clone_from(&client.oauth.scopes),
    }
    let has_openid = granted.iter().any(|s| s == "openid");
    if !has_openid && granted.iter().any(|s| OIDC_SCOPES.contains(&s.as_str())) {
        return Err("The email, phone and profile scopes require openid");
    }
    if granted.is_empty() {
        return Err("No scope to grant: the app client allows none");
    }
    Ok(granted)
}

fn bad(message: &str) -> Refusal {
    Refusal::Page(PageError::BadRequest(message.to_owned()))
}

/// A 302 to `uri` with `params` in its query, or in its fragment for the implicit flow.
/// Empty values are left out.
pub fn redirect(uri: &str, params: &[(&str, &str)], fragment: bool) -> Response {
    found(with_params(uri, params, fragment))
}

/// A 302 to `location`.
pub fn found(location: String) -> Response {
    (StatusCode::FOUND, [(LOCATION, location)]).into_response()
}

fn with_params(uri: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let pairs: Vec<_> = params.iter().filter(|(_, v)| !v.is_empty()).collect();
    let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let separator = if fragment {
        "#"
    } else if uri.contains('?') {
        "&"
    } else {
        "?"
    };
    if encoded.is_empty() {
        uri.to_owned()
    } else {
        format!("{uri}{separator}{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskapi_userpool::OAuthSettings;

    fn client() -> OAuthClient {
        OAuthClient {
            id: "c".into(),
            pool_id: "p".into(),
            has_secret: false,
            oauth: OAuthSettings {
                callback_urls: vec!["http://localhost:3000/callback".into()],
                logout_urls: vec![],
                default_redirect_uri: None,
                flows: vec!["code".into()],
                scopes: vec!["openid".into(), "email".into(), "api/read".into()],
                enabled: true,
                identity_providers: vec!["COGNITO".into()],
            },
        }
    }

    #[test]
    fn scopes_default_to_the_clients_and_must_be_allowed() {
        let c = client();
        assert_eq!(scopes(&c, None).unwrap(), c.oauth.scopes);
        assert_eq!(scopes(&c, Some("  ")).unwrap(), c.oauth.scopes);
        assert_eq!(
            scopes(&c, Some("openid email openid")).unwrap(),
            vec!["openid", "email"]
        );
        assert!(scopes(&c, Some("openid phone")).is_err());
        assert!(scopes(&c, Some("email")).is_err());
        assert_eq!(scopes(&c, Some("api/read")).unwrap(), vec!["api/read"]);
    }

    #[test]
    fn redirects_append_to_an_existing_query() {
        let r = redirect(
            "https://app/cb?x=1",
            &[("code", "a b"), ("state", "")],
            false,
        );
        assert_eq!(r.headers()[LOCATION], "https://app/cb?x=1&code=a+b");
        let r = redirect("https://app/cb", &[("access_token", "t")], true);
        assert_eq!(r.headers()[LOCATION], "https://app/cb#access_token=t");
    }
}
