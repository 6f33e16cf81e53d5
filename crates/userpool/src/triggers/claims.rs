//! Pre token generation: the event the function gets (the user's attributes, groups and, from
//! `V2_0`, the scopes) and what its answer changes in the ID and access tokens.

use serde_json::{Map, Value, json};

use super::lambda_config::TokenEventVersion;
use super::unrecognizable;
use crate::error::PoolError;

/// Why tokens are being minted: the event's `triggerSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// A sign-in through the API (password, SRP, custom challenge, MFA).
    Authentication,
    /// A sign-in that ended by choosing a new password.
    NewPasswordChallenge,
    /// A sign-in through the hosted UI.
    HostedAuth,
    /// A refresh token redeemed.
    RefreshTokens,
}

impl TokenSource {
    pub fn trigger_source(self) -> &'static str {
        match self {
            Self::Authentication => "TokenGeneration_Authentication",
            Self::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            Self::HostedAuth => "TokenGeneration_HostedAuth",
            Self::RefreshTokens => "TokenGeneration_RefreshTokens",
        }
    }
}

/// Claims no function may add, change or suppress in either token: they say who issued the
/// token, to whom, when and for which sign-in. Groups change through `groupOverrideDetails`.
const PROTECTED: [&str; 21] = [
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "cognito:groups",
    "cognito:roles",
    "cognito:preferred_role",
    "event_id",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
];

/// Access-token claims that only the pool sets (scopes change through `scopesToAdd` and
/// `scopesToSuppress`).
const PROTECTED_ACCESS: [&str; 4] = ["client_id", "scope", "username", "version"];

/// Claims to add or override, and claims to drop, in one token.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClaimChanges {
    pub add_or_override: Map<String, Value>,
    pub suppress: Vec<String>,
}

/// Everything a pre token generation answer changes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TokenChanges {
    pub id: ClaimChanges,
    pub access: ClaimChanges,
    /// `groupsToOverride`: the `cognito:groups` of both tokens.
    pub groups: Option<Vec<String>>,
    /// `iamRolesToOverride` and `preferredRole`: the ID token's `cognito:roles` and
    /// `cognito:preferred_role`.
    pub roles: Option<Vec<String>>,
    pub preferred_role: Option<String>,
    pub scopes_to_add: Vec<String>,
    pub scopes_to_suppress: Vec<String>,
}

/// The event's `request`: what the pool would write into the tokens.
pub fn request(
    version: TokenEventVersion,
    user_attributes: Value,
    groups: &[String],
    scopes: &[String],
) -> Value {
    let mut request = json!({
        "userAttributes": user_attributes,
        "groupConfiguration": {
            "groupsToOverride": groups,
            "iamRolesToOverride": [],
            "preferredRole": null,
        },
    });
    if version == TokenEventVersion::V2 {
        request["scopes"] = json!(scopes);
    }
    request
}

/// Reads a function's answer; a member of the wrong shape is Cognito's "Unrecognizable
/// lambda output". `V1_0` changes the ID token (and groups in both); `V2_0` both tokens and
/// the access token's scopes.
pub fn parse(version: TokenEventVersion, response: &Value) -> Result<TokenChanges, PoolError> {
    let mut changes = TokenChanges::default();
    let details = match version {
        TokenEventVersion::V1 => &response["claimsOverrideDetails"],
        TokenEventVersion::V2 => &response["claimsAndScopeOverrideDetails"],
    };
    if details.is_null() {
        return Ok(changes);
    }
    if !details.is_object() {
        return Err(unrecognizable());
    }
    match version {
        TokenEventVersion::V1 => {
            changes.id = claim_changes(details, true)?;
        }
        TokenEventVersion::V2 => {
            changes.id = claim_changes(&details["idTokenGeneration"], false)?;
            let access = &details["accessTokenGeneration"];
            changes.access = claim_changes(access, false)?;
            changes.scopes_to_add = strings(&access["scopesToAdd"])?.unwrap_or_default();
            changes.scopes_to_suppress = strings(&access["scopesToSuppress"])?.unwrap_or_default();
        }
    }
    let groups = &details["groupOverrideDetails"];
    changes.groups = strings(&groups["groupsToOverride"])?;
    changes.roles = strings(&groups["iamRolesToOverride"])?;
    changes.preferred_role = match &groups["preferredRole"] {
        Value::Null => None,
        Value::String(role) => Some(role.clone()),
        _ => return Err(unrecognizable()),
    };
    Ok(changes)
}

/// `claimsToAddOrOverride` and `claimsToSuppress` of one token. `V1_0` claims are strings;
/// `V2_0` ones may be any JSON value.
fn claim_changes(details: &Value, strings_only: bool) -> Result<ClaimChanges, PoolError> {
    if details.is_null() {
        return Ok(ClaimChanges::default());
    }
    let add_or_override = match &details["claimsToAddOrOverride"] {
        Value::Null => Map::new(),
        Value::Object(claims) if !strings_only || claims.values().all(Value::is_string) => {
            claims.clone()
        }
        _ => return Err(unrecognizable()),
    };
    Ok(ClaimChanges {
        add_or_override,
        suppress: strings(&details["claimsToSuppress"])?.unwrap_or_default(),
    })
}

fn strings(value: &Value) -> Result<Option<Vec<String>>, PoolError> {
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(unrecognizable))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(unrecognizable()),
    }
}

impl TokenChanges {
    /// Applies the changes to the ID token's claims (before signing).
    pub fn apply_to_id(&self, claims: &mut Map<String, Value>) {
        self.id.apply(claims, &[]);
        set_list(claims, "cognito:groups", self.groups.as_deref());
        set_list(claims, "cognito:roles", self.roles.as_deref());
        if let Some(role) = &self.preferred_role {
            claims.insert("cognito:preferred_role".into(), json!(role));
        }
    }

    /// Applies the changes to the access token's claims (before signing), its scopes
    /// included.
    pub fn apply_to_access(&self, claims: &mut Map<String, Value>) {
        self.access.apply(claims, &PROTECTED_ACCESS);
        set_list(claims, "cognito:groups", self.groups.as_deref());
        if self.scopes_to_add.is_empty() && self.scopes_to_suppress.is_empty() {
            return;
        }
        let mut scopes: Vec<String> = claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        for scope in &self.scopes_to_add {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        scopes.retain(|s| !self.scopes_to_suppress.contains(s));
        claims.insert("scope".into(), json!(scopes.join(" ")));
    }
}

impl ClaimChanges {
    /// Adds or overrides, then suppresses (a claim named in both is dropped), leaving the
    /// protected claims as they are.
    fn apply(&self, claims: &mut Map<String, Value>, also_protected: &[&str]) {
        let protected = |name: &str| PROTECTED.contains(&name) || also_protected.contains(&name);
        for (name, value) in &self.add_or_override {
            if !protected(name) {
                claims.insert(name.clone(), value.clone());
            }
        }
        for name in &self.suppress {
            if !protected(name) {
                claims.remove(name);
            }
        }
    }
}

/// A list claim replaced as a whole; an empty list removes it, as a user in no group has
/// no `cognito:groups`.
fn set_list(claims: &mut Map<String, Value>, name: &str, list: Option<&[String]>) {
    match list {
        None => {}
        Some([]) => {
            claims.remove(name);
        }
        Some(items) => {
            claims.insert(name.into(), json!(items));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Map<String, Value> {
        json!({
            "sub": "s-1", "email": "a@example.com", "token_use": "id",
            "cognito:groups": ["admins"], "scope": "openid email", "client_id": "c"
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn v1_changes_the_id_token_and_groups_only() {
        let response = json!({ "claimsOverrideDetails": {
            "claimsToAddOrOverride": { "tenant": "t-1", "email": "b@example.com", "sub": "forged" },
            "claimsToSuppress": ["email_verified", "token_use"],
            "groupOverrideDetails": { "groupsToOverride": ["editors"], "preferredRole": "arn:aws:iam::1:role/r" }
        }});
        let changes = parse(TokenEventVersion::V1, &response).unwrap();
        let mut id = claims();
        changes.apply_to_id(&mut id);
        assert_eq!(id["tenant"], "t-1");
        assert_eq!(id["email"], "b@example.com");
        assert_eq!(id["sub"], "s-1", "protected claims stay");
        assert_eq!(id["token_use"], "id");
        assert_eq!(id["cognito:groups"], json!(["editors"]));
        assert_eq!(id["cognito:preferred_role"], "arn:aws:iam::1:role/r");
        let mut access = claims();
        changes.apply_to_access(&mut access);
        assert!(
            access.get("tenant").is_none(),
            "V1 leaves the access token's claims"
        );
        assert_eq!(access["cognito:groups"], json!(["editors"]));
    }

    #[test]
    fn v1_claims_must_be_strings() {
        let response = json!({ "claimsOverrideDetails": { "claimsToAddOrOverride": { "n": 1 } } });
        assert!(parse(TokenEventVersion::V1, &response).is_err());
        let v2 = json!({ "claimsAndScopeOverrideDetails": {
            "idTokenGeneration": { "claimsToAddOrOverride": { "n": 1 } } } });
        assert!(parse(TokenEventVersion::V2, &v2).is_ok());
    }

    #[test]
    fn v2_changes_both_tokens_and_the_scopes() {
        let response = json!({ "claimsAndScopeOverrideDetails": {
            "idTokenGeneration": { "claimsToAddOrOverride": { "roles": ["a", "b"] } },
            "accessTokenGeneration": {
                "claimsToAddOrOverride": { "tenant": "t-2", "client_id": "forged" },
                "claimsToSuppress": ["email"],
                "scopesToAdd": ["tasks/read", "openid"],
                "scopesToSuppress": ["email"]
            },
            "groupOverrideDetails": { "groupsToOverride": [] }
        }});
        let changes = parse(TokenEventVersion::V2, &response).unwrap();
        let mut id = claims();
        changes.apply_to_id(&mut id);
        assert_eq!(id["roles"], json!(["a", "b"]));
        assert!(
            id.get("cognito:groups").is_none(),
            "an empty override leaves no groups"
        );
        let mut access = claims();
        changes.apply_to_access(&mut access);
        assert_eq!(access["tenant"], "t-2");
        assert_eq!(access["client_id"], "c");
        assert!(access.get("email").is_none());
        assert_eq!(access["scope"], "openid tasks/read");
    }

    #[test]
    fn a_response_of_the_wrong_shape_is_unrecognizable() {
        for response in [
            json!({ "claimsOverrideDetails": "x" }),
            json!({ "claimsOverrideDetails": { "claimsToSuppress": "email" } }),
            json!({ "claimsOverrideDetails": { "groupOverrideDetails": { "groupsToOverride": [1] } } }),
        ] {
            let error = parse(TokenEventVersion::V1, &response).unwrap_err();
            assert!(
                matches!(error, PoolError::InvalidLambdaResponse(_)),
                "{response}"
            );
        }
        assert_eq!(
            parse(TokenEventVersion::V1, &json!({})).unwrap(),
            TokenChanges::default()
        );
    }
}
