//! Who is calling, from the claims API Gateway's authorizer has already verified: the
//! Lambda function never sees or checks a token itself.
//!
//! - REST API (Cognito user-pool authorizer): `requestContext.authorizer.claims`, every
//!   value a string; `cognito:groups` stringified as `"admins"`, `"[admins, other]"` or
//!   `"admins,other"` depending on how many groups there are and the API's vintage.
//! - HTTP API (JWT authorizer): `requestContext.authorizer.jwt.claims`, strings as well,
//!   groups as `"[admins other]"`.

use std::collections::HashMap;

use async_trait::async_trait;
use http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use serde_json::Value;
use taskapi_http::{Authenticator, Principal, Unauthorized};

/// The [`Authenticator`] of the Lambda binary.
pub struct ApiGatewayClaims;

#[async_trait]
impl Authenticator for ApiGatewayClaims {
    async fn authenticate(&self, parts: &Parts) -> Result<Principal, Unauthorized> {
        let claims = parts
            .extensions
            .request_context_ref()
            .and_then(claims_of)
            .ok_or_else(|| {
                // Only a route deployed without an authorizer gets here.
                tracing::warn!("request without authorizer claims");
                Unauthorized
            })?;
        let sub = claims
            .get("sub")
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| {
                tracing::warn!("authorizer claims without a sub");
                Unauthorized
            })?;
        Ok(Principal {
            sub: sub.clone(),
            email: claims.get("email").cloned(),
            // Strings in authorizer claims ("true"); a JSON boolean becomes "true" too.
            email_verified: claims
                .get("email_verified")
                .is_some_and(|verified| verified == "true"),
            groups: claims
                .get("cognito:groups")
                .map(|groups| parse_groups(groups))
                .unwrap_or_default(),
        })
    }
}

/// The claims of either kind of API, as strings.
fn claims_of(context: &RequestContext) -> Option<HashMap<String, String>> {
    match context {
        RequestContext::ApiGatewayV1(context) => {
            let claims = context.authorizer.fields.get("claims")?.as_object()?;
            Some(
                claims
                    .iter()
                    .map(|(name, value)| (name.clone(), as_text(value)))
                    .collect(),
            )
        }
        RequestContext::ApiGatewayV2(context) => {
            Some(context.authorizer.as_ref()?.jwt.as_ref()?.claims.clone())
        }
        _ => None,
    }
}

/// API Gateway sends strings; a test console or a proxy may send the JSON types instead.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(as_text).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Group names from any of the stringified forms. Cognito group names cannot contain
/// whitespace, commas or brackets, so those are only ever separators.
fn parse_groups(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == '[' || c == ']' || c.is_whitespace())
        .filter(|group| !group.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_in_every_stringified_form() {
        for raw in [
            "admins",
            "[admins]",
            "[admins, other]",
            "admins,other",
            "[admins other]",
        ] {
            assert_eq!(parse_groups(raw)[0], "admins", "{raw}");
        }
        assert_eq!(parse_groups("[admins, other]"), ["admins", "other"]);
        assert!(parse_groups("").is_empty());
        assert!(parse_groups("[]").is_empty());
    }

    #[test]
    fn json_typed_claims_become_text() {
        assert_eq!(as_text(&serde_json::json!("x")), "x");
        assert_eq!(
            as_text(&serde_json::json!(["admins", "other"])),
            "[admins,other]"
        );
        assert_eq!(as_text(&serde_json::json!(true)), "true");
        assert_eq!(as_text(&serde_json::json!(1_700_000_000)), "1700000000");
    }
}
