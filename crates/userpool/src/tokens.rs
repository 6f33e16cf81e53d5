//! Minting and checking tokens: RS256 ID and access JWTs with Cognito's claim sets, and opaque
//! refresh tokens.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{KeyError, PoolError, PoolStoreError};
use crate::keys::SigningKey;
use crate::model::{Client, Session, User};
use crate::random;
use crate::triggers::claims::TokenChanges;

/// A pool's two keys: Cognito signs ID and access tokens with different keys.
pub struct PoolKeys {
    pub id: SigningKey,
    pub access: SigningKey,
}

/// Everything that goes into one pair of tokens.
pub struct Grant<'a> {
    pub issuer: &'a str,
    pub user: &'a User,
    pub groups: &'a [String],
    pub client: &'a Client,
    pub session: &'a Session,
    pub now: i64,
    /// Set for a sign-in through the hosted UI: the tokens carry its OAuth scopes.
    pub oauth: Option<OAuthExtras<'a>>,
    /// What the pool's pre token generation function changes (nothing without one).
    pub changes: &'a TokenChanges,
}

/// What an OAuth sign-in adds to its tokens.
#[derive(Debug, Clone, Copy)]
pub struct OAuthExtras<'a> {
    /// The granted scopes, in the access token's `scope`.
    pub scopes: &'a [String],
    /// The authorization request's `nonce`, echoed in the ID token.
    pub nonce: Option<&'a str>,
}

/// The scope of access tokens from the Cognito API: the user's own account actions.
pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// Attributes that are JSON booleans in the ID token (everything else is a string).
const BOOLEAN_ATTRIBUTES: [&str; 2] = ["email_verified", "phone_number_verified"];

/// Returns the ID token and the access token for a grant.
pub fn mint(keys: &PoolKeys, grant: &Grant<'_>) -> Result<(String, String), PoolStoreError> {
    let user = grant.user;
    let validity = grant.client.config.validity;
    let event_id = random::uuid();
    let groups = (!grant.groups.is_empty()).then(|| json!(grant.groups));

    let mut id = Map::new();
    id.insert("sub".into(), json!(user.sub()));
    if let Some(groups) = &groups {
        id.insert("cognito:groups".into(), groups.clone());
    }
    for (name, value) in &user.attributes {
        let claim = if BOOLEAN_ATTRIBUTES.contains(&name.as_str()) {
            json!(crate::model::is_true(value))
        } else {
            json!(value)
        };
        id.insert(name.clone(), claim);
    }
    id.insert("iss".into(), json!(grant.issuer));
    id.insert("cognito:username".into(), json!(user.username));
    id.insert("origin_jti".into(), json!(grant.session.origin_jti));
    id.insert("aud".into(), json!(grant.client.id));
    id.insert("event_id".into(), json!(event_id));
    id.insert("token_use".into(), json!("id"));
    id.insert("auth_time".into(), json!(grant.session.auth_time));
    id.insert("exp".into(), json!(grant.now + validity.id));
    id.insert("iat".into(), json!(grant.now));
    id.insert("jti".into(), json!(random::uuid()));

    let mut access = Map::new();
    access.insert("sub".into(), json!(user.sub()));
    if let Some(groups) = groups {
        access.insert("cognito:groups".into(), groups);
    }
    access.insert("iss".into(), json!(grant.issuer));
    access.insert("client_id".into(), json!(grant.client.id));
    access.insert("origin_jti".into(), json!(grant.session.origin_jti));
    access.insert("event_id".into(), json!(event_id));
    access.insert("token_use".into(), json!("access"));
    let scope = grant
        .oauth
        .map_or_else(|| ADMIN_SCOPE.to_owned(), |o| o.scopes.join(" "));
    access.insert("scope".into(), json!(scope));
    access.insert("auth_time".into(), json!(grant.session.auth_time));
    access.insert("exp".into(), json!(grant.now + validity.access));
    access.insert("iat".into(), json!(grant.now));
    access.insert("jti".into(), json!(random::uuid()));
    access.insert("username".into(), json!(user.username));
    if grant.oauth.is_some() {
        access.insert("version".into(), json!(2));
    }
    grant.changes.apply_to_access(&mut access);
    grant.changes.apply_to_id(&mut id);
    let access = sign(&keys.access, &access)?;

    // A hosted-UI ID token binds its access token (`at_hash`, OIDC Core 3.1.3.6) and the
    // authorization request's nonce.
    if let Some(oauth) = grant.oauth {
        let hash = digest(&SHA256, access.as_bytes());
        id.insert(
            "at_hash".into(),
            json!(URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16])),
        );
        if let Some(nonce) = oauth.nonce {
            id.insert("nonce".into(), json!(nonce));
        }
    }
    Ok((sign(&keys.id, &id)?, access))
}

/// An access token for a client acting for itself (`client_credentials`): no user, no
/// refresh, only the granted resource-server scopes.
pub fn mint_client_token(
    keys: &PoolKeys,
    issuer: &str,
    client: &Client,
    scopes: &[String],
    now: i64,
) -> Result<String, PoolStoreError> {
    let mut access = Map::new();
    access.insert("sub".into(), json!(client.id));
    access.insert("token_use".into(), json!("access"));
    access.insert("scope".into(), json!(scopes.join(" ")));
    access.insert("auth_time".into(), json!(now));
    access.insert("iss".into(), json!(issuer));
    access.insert("exp".into(), json!(now + client.config.validity.access));
    access.insert("iat".into(), json!(now));
    access.insert("version".into(), json!(2));
    access.insert("jti".into(), json!(random::uuid()));
    access.insert("client_id".into(), json!(client.id));
    sign(&keys.access, &access)
}

fn sign(key: &SigningKey, claims: &Map<String, Value>) -> Result<String, PoolStoreError> {
    // Cognito's header is exactly {"kid","alg"}: no "typ".
    let mut header = Header::new(Algorithm::RS256);
    header.typ = None;
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(|e| KeyError::Sign(e).into())
}

/// The access-token claims the user pool acts on.
#[derive(Debug, Deserialize)]
pub struct AccessClaims {
    pub token_use: String,
    /// Space-separated; client-credentials tokens have no user and fail on `username`.
    #[serde(default)]
    pub scope: String,
    pub username: String,
    pub origin_jti: String,
    pub client_id: String,
}

/// The `kid` of a token, if it has a readable header.
pub fn kid(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// Checks an access token's signature, issuer, expiry and `token_use` against a pool's key.
/// Revocation is the caller's part (it needs the store).
pub fn verify_access(
    key: &SigningKey,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<AccessClaims, PoolError> {
    let invalid = || PoolError::NotAuthorized("Invalid Access Token".into());
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    // Expiry is checked below against the injectable clock, not the system one.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss"]);
    let data =
        jsonwebtoken::decode::<Value>(token, &key.decoding, &validation).map_err(|_| invalid())?;
    let exp = data
        .claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(invalid)?;
    if exp <= now {
        return Err(PoolError::NotAuthorized("Access Token has expired".into()));
    }
    let claims: AccessClaims = serde_json::from_value(data.claims).map_err(|_| invalid())?;
    if claims.token_use != "access" {
        return Err(invalid());
    }
    Ok(claims)
}

/// Cognito's refresh tokens are JWE compact strings; this one has the real header and random
/// segments, and means nothing except as a key into the session table.
pub fn new_refresh_token() -> String {
    const HEADER: &str = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ";
    format!(
        "{HEADER}.{}.{}.{}.{}",
        URL_SAFE_NO_PAD.encode(random::bytes::<256>()),
        URL_SAFE_NO_PAD.encode(random::bytes::<12>()),
        URL_SAFE_NO_PAD.encode(random::bytes::<512>()),
        URL_SAFE_NO_PAD.encode(random::bytes::<16>()),
    )
}

/// Refresh tokens are stored only as a digest, so a copy of the state file cannot sign in.
pub fn refresh_digest(token: &str) -> String {
    digest(&SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
