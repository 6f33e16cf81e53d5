//! The Cognito actions, grouped by who calls them, and the helpers they share.

mod admin;
mod auth;
mod oauth;
mod pools;
mod signup;

pub(crate) use self::auth::PasswordOutcome;

use std::collections::{BTreeMap, HashMap};

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::UserPools;
use crate::error::ApiError;
use crate::model::{Client, CodePurpose, Pool, User};
use crate::outbox::{Message, mask};

impl UserPools {
    /// Runs one action. Synchronous on purpose: it hashes passwords and talks to SQLite, so
    /// the wire layer calls it on a blocking thread.
    pub(crate) fn dispatch(&self, action: &str, body: Value) -> Result<Value, ApiError> {
        match action {
            "CreateUserPool" => self.create_user_pool(parse(body)?),
            "DescribeUserPool" => self.describe_user_pool(parse(body)?),
            "ListUserPools" => self.list_user_pools(parse(body)?),
            "CreateUserPoolClient" => self.create_user_pool_client(parse(body)?),
            "DescribeUserPoolClient" => self.describe_user_pool_client(parse(body)?),
            "ListUserPoolClients" => self.list_user_pool_clients(parse(body)?),
            "SignUp" => self.sign_up(parse(body)?),
            "ConfirmSignUp" => self.confirm_sign_up(parse(body)?),
            "ResendConfirmationCode" => self.resend_confirmation_code(parse(body)?),
            "ForgotPassword" => self.forgot_password(parse(body)?),
            "ConfirmForgotPassword" => self.confirm_forgot_password(parse(body)?),
            "InitiateAuth" => self.initiate_auth(parse(body)?),
            "RespondToAuthChallenge" => self.respond_to_auth_challenge(parse(body)?),
            "GetUser" => self.get_user(parse(body)?),
            "GlobalSignOut" => self.global_sign_out(parse(body)?),
            "RevokeToken" => self.revoke_token(parse(body)?),
            "ChangePassword" => self.change_password(parse(body)?),
            "AdminCreateUser" => self.admin_create_user(parse(body)?),
            "AdminConfirmSignUp" => self.admin_confirm_sign_up(parse(body)?),
            "AdminGetUser" => self.admin_get_user(parse(body)?),
            "AdminDeleteUser" => self.admin_delete_user(parse(body)?),
            "AdminDisableUser" => self.admin_set_enabled(parse(body)?, false),
            "AdminEnableUser" => self.admin_set_enabled(parse(body)?, true),
            "ListUsers" => self.list_users(parse(body)?),
            "CreateGroup" => self.create_group(parse(body)?),
            "AdminAddUserToGroup" => self.admin_add_user_to_group(parse(body)?),
            "AdminRemoveUserFromGroup" => self.admin_remove_user_from_group(parse(body)?),
            "AdminListGroupsForUser" => self.admin_list_groups_for_user(parse(body)?),
            "CreateUserPoolDomain" => typed(self.create_user_pool_domain(parse(body)?)),
            "DescribeUserPoolDomain" => typed(self.describe_user_pool_domain(parse(body)?)),
            "DeleteUserPoolDomain" => typed(self.delete_user_pool_domain(parse(body)?)),
            "CreateResourceServer" => typed(self.create_resource_server(parse(body)?)),
            "DescribeResourceServer" => typed(self.describe_resource_server(parse(body)?)),
            "ListResourceServers" => typed(self.list_resource_servers(parse(body)?)),
            "UpdateResourceServer" => typed(self.update_resource_server(parse(body)?)),
            "DeleteResourceServer" => typed(self.delete_resource_server(parse(body)?)),
            other => Err(ApiError::UnknownOperation(format!(
                "The local user pool does not implement {other}"
            ))),
        }
    }

    fn pool(&self, pool_id: &str) -> Result<Pool, ApiError> {
        self.store
            .pool(pool_id)?
            .ok_or_else(|| ApiError::pool_not_found(pool_id))
    }

    /// The app client and its pool, for the public (client-id authenticated) actions.
    pub(crate) fn client(&self, client_id: &str) -> Result<(Client, Pool), ApiError> {
        let client = self
            .store
            .client(client_id)?
            .ok_or_else(|| ApiError::client_not_found(client_id))?;
        let pool = self.pool(&client.pool_id)?;
        Ok((client, pool))
    }

    /// A user for an admin action, where existence is never hidden.
    fn admin_user(&self, pool_id: &str, username: &str) -> Result<User, ApiError> {
        self.store
            .find_user(pool_id, username)?
            .ok_or(ApiError::UserNotFound)
    }

    /// E-mails a new code for `purpose`; returns `CodeDeliveryDetails`.
    fn send_code(&self, user: &User, purpose: CodePurpose) -> Result<Value, ApiError> {
        let email = user.email().unwrap_or_default();
        let ttl = match purpose {
            CodePurpose::SignUp => self.tuning.sign_up_code_ttl,
            CodePurpose::ForgotPassword => self.tuning.reset_code_ttl,
        };
        let now = self.now();
        let code = crate::random::code();
        let expires_at = now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
        self.store
            .put_code(&user.pool_id, &user.username, purpose, &code, expires_at)?;
        self.outbox.send(&Message {
            pool_id: &user.pool_id,
            username: &user.username,
            to: email,
            purpose: purpose.as_str(),
            code: &code,
            now,
        });
        Ok(delivery(email))
    }

    /// Checks a code and consumes it. Wrong guesses count; once they run out, even the right
    /// code is refused until a new one is requested.
    fn redeem_code(&self, user: &User, purpose: CodePurpose, given: &str) -> Result<(), ApiError> {
        let (pool_id, username) = (&user.pool_id, &user.username);
        let stored = self
            .store
            .code(pool_id, username, purpose)?
            .ok_or(ApiError::ExpiredCode)?;
        if stored.attempts >= self.tuning.max_code_attempts {
            return Err(ApiError::LimitExceeded);
        }
        if stored.expires_at <= self.now() {
            return Err(ApiError::ExpiredCode);
        }
        if !constant_time_eq(stored.code.as_bytes(), given.trim().as_bytes()) {
            self.store.count_code_attempt(pool_id, username, purpose)?;
            return Err(ApiError::CodeMismatch);
        }
        self.store.delete_code(pool_id, username, purpose)?;
        Ok(())
    }
}

/// Decodes a request. Unknown members are ignored (clients send extras such as
/// `ClientMetadata`); a missing or mistyped member is Cognito's validation error.
fn parse<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::InvalidParameter(format!("1 validation error detected: {e}")))
}

/// A typed answer as JSON.
fn typed<T: serde::Serialize>(answer: Result<T, ApiError>) -> Result<Value, ApiError> {
    Ok(serde_json::to_value(answer?).map_err(crate::error::StoreError::from)?)
}

/// `CodeDeliveryDetails` for an e-mail.
fn delivery(email: &str) -> Value {
    json!({ "CodeDeliveryDetails": {
        "Destination": mask(email),
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }})
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies `SECRET_HASH` for clients that have a secret:
/// `Base64(HMAC_SHA256(secret, username + client_id))`.
fn check_secret_hash(client: &Client, username: &str, given: Option<&str>) -> Result<(), ApiError> {
    let Some(secret) = &client.secret else {
        return Ok(());
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let expected = STANDARD.encode(hmac::sign(
        &key,
        format!("{username}{}", client.id).as_bytes(),
    ));
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::NotAuthorized(format!(
            "Unable to verify secret hash for client {}",
            client.id
        ))),
    }
}

/// `AttributeType`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

/// The standard attributes of a Cognito pool's schema.
const STANDARD_ATTRIBUTES: [&str; 20] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
    "sub",
];

/// Validates user-supplied attributes against the schema (standard names and `custom:*`).
fn attributes(list: Option<Vec<Attribute>>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for attribute in list.unwrap_or_default() {
        let name = attribute.name;
        if name == "sub" {
            return Err(ApiError::InvalidParameter(
                "Attributes did not conform to the schema: sub: Attribute cannot be written".into(),
            ));
        }
        if !STANDARD_ATTRIBUTES.contains(&name.as_str()) && !name.starts_with("custom:") {
            return Err(ApiError::InvalidParameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        }
        out.insert(name, attribute.value.unwrap_or_default());
    }
    Ok(out)
}

/// Cognito's string maps may carry JSON nulls (amazon-cognito-identity-js sends
/// `DEVICE_KEY: null`); those count as absent.
type Params = HashMap<String, Option<String>>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).and_then(|v| v.as_deref())
}

fn required_param<'a>(params: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    param(params, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::InvalidParameter(format!("Missing required parameter {name}")))
}

/// One page of `items`, with the token for the next. Tokens are plain offsets: local state is
/// small and ordered by creation.
fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: Option<usize>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::InvalidParameter("Invalid pagination token".into()))?,
    };
    let limit = limit.unwrap_or(max);
    if limit == 0 || limit > max {
        return Err(ApiError::InvalidParameter(format!(
            "1 validation error detected: Value '{limit}' failed to satisfy constraint: \
             Member must have value between 1 and {max}"
        )));
    }
    let total = items.len();
    let chosen: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + limit < total).then(|| (start + limit).to_string());
    Ok((chosen, next))
}
