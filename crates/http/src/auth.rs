//! Who is calling. The router never verifies tokens itself: an [`Authenticator`] chosen by
//! the entry point turns a request into a [`Principal`] (locally by verifying the Cognito
//! JWT; in Lambda by reading the claims API Gateway's authorizer already verified).

use async_trait::async_trait;
use axum::extract::FromRequestParts;
use http::HeaderMap;
use http::request::Parts;

use taskapi_domain::Email;

use crate::{ApiError, AppState};

pub use taskapi_domain::ADMIN_GROUP;

/// An authenticated caller, from the claims of a Cognito ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's stable id; it keys their partition (`USER#<sub>`).
    pub sub: String,
    pub email: Option<String>,
    /// The `email_verified` claim: whether the user pool has proven the caller owns
    /// `email`. Invitations go only to a verified address.
    pub email_verified: bool,
    /// `cognito:groups`.
    pub groups: Vec<String>,
}

impl Principal {
    /// The caller's e-mail address if the pool verified it; `None` otherwise (or if the
    /// claim is not an address).
    pub fn verified_email(&self) -> Option<Email> {
        self.email
            .as_deref()
            .filter(|_| self.email_verified)
            .and_then(|email| Email::parse(email).ok())
    }

    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|group| group == ADMIN_GROUP)
    }
}

/// The request carried no acceptable credentials. Deliberately without detail: the reason
/// is logged by the authenticator, the caller only learns "Unauthorized".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unauthorized")]
pub struct Unauthorized;

#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    async fn authenticate(&self, parts: &Parts) -> Result<Principal, Unauthorized>;
}

/// The token in `Authorization`, as API Gateway's Cognito authorizer takes it: the bare
/// token, or `Bearer <token>`.
pub fn authorization_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    if value.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None => value,
    };
    (!token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = state
            .auth
            .authenticate(parts)
            .await
            .map_err(|Unauthorized| ApiError::Unauthorized)?;
        #[cfg(feature = "rate-limit")]
        if let Some(limits) = &state.limits {
            limits.check(&principal.sub)?;
        }
        Ok(principal)
    }
}

/// A caller in the `admins` group; anyone else authenticated gets 403.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if principal.is_admin() {
            Ok(Admin(principal))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn takes_the_bare_token_or_a_bearer_token() {
        assert_eq!(
            authorization_token(&headers("abc.def.ghi")),
            Some("abc.def.ghi")
        );
        assert_eq!(
            authorization_token(&headers("Bearer abc.def")),
            Some("abc.def")
        );
        assert_eq!(
            authorization_token(&headers("bearer  abc.def ")),
            Some("abc.def")
        );
        assert_eq!(authorization_token(&headers("Basic dXNlcg==")), None);
        assert_eq!(authorization_token(&headers("Bearer ")), None);
        assert_eq!(authorization_token(&HeaderMap::new()), None);
    }
}
