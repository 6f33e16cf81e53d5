//! The Cognito actions, grouped by who calls them, and the helpers they share: each decodes
//! its request, calls the core (through [`AwsDoor`]'s `Deref` to the pool) and encodes
//! Cognito's answer.

mod account;
mod admin;
mod auth;
mod clients;
mod groups;
mod mfa;
mod oauth_settings;
mod pools;
mod providers;
mod shapes;
mod signup;
mod srp;

use std::collections::HashMap;
use std::net::IpAddr;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use taskapi_userpool::attempts::{CodeRequest, CodeStep};
use taskapi_userpool::hashing::constant_time_eq;

use crate::door::AwsDoor;
use taskapi_userpool::error::{PoolError, PoolStoreError};
use taskapi_userpool::identity::{
    Attribute, alias_email, attributes, check_total, is_email, new_identity,
};
use taskapi_userpool::model::{Client, CodePurpose};
use taskapi_userpool::triggers::ClientData;

impl AwsDoor {
    /// Runs one Cognito action on its JSON request. Synchronous on purpose: it hashes
    /// passwords and talks to SQLite, so the AWS JSON door calls it on a blocking thread
    /// (`UserPools::run_blocking`).
    /// `signed_region` is the region of the request's SigV4 scope, where it has one: new
    /// pools are created there, as in AWS. `caller` is the client's address: the public
    /// actions that request or enter a code spend that address's allowance.
    pub(crate) fn dispatch(
        &self,
        action: &str,
        body: Value,
        signed_region: Option<&str>,
        caller: Option<IpAddr>,
    ) -> Result<Value, PoolError> {
        let step = match action {
            "ForgotPassword" => Some((CodePurpose::ForgotPassword, CodeStep::Request)),
            "ResendConfirmationCode" => Some((CodePurpose::SignUp, CodeStep::Request)),
            "ConfirmForgotPassword" => Some((CodePurpose::ForgotPassword, CodeStep::Entry)),
            "ConfirmSignUp" => Some((CodePurpose::SignUp, CodeStep::Entry)),
            _ => None,
        };
        let pool = |body: &Value| {
            body["ClientId"]
                .as_str()
                .and_then(|client| self.store().client(client).ok().flatten())
                .map(|client| client.pool_id)
        };
        if let Some((purpose, step)) = step
            && let Some(pool_id) = pool(&body)
        {
            let name = body["Username"].as_str().unwrap_or_default().to_owned();
            let code = CodeRequest {
                caller,
                pool_id: &pool_id,
                name: &name,
                purpose,
            };
            return self.within_allowance(&code, step, || self.run(action, body, signed_region));
        }
        self.run(action, body, signed_region)
    }

    fn run(
        &self,
        action: &str,
        body: Value,
        signed_region: Option<&str>,
    ) -> Result<Value, PoolError> {
        match action {
            "CreateUserPool" => call(body, |r| self.create_user_pool(r, signed_region)),
            "DescribeUserPool" => call(body, |r| self.describe_user_pool(r)),
            "ListUserPools" => call(body, |r| self.list_user_pools(r, signed_region)),
            "CreateUserPoolClient" => call(body, |r| self.create_user_pool_client(r)),
            "DescribeUserPoolClient" => call(body, |r| self.describe_user_pool_client(r)),
            "ListUserPoolClients" => call(body, |r| self.list_user_pool_clients(r)),
            "SignUp" => call(body, |r| self.sign_up(r)),
            "ConfirmSignUp" => call(body, |r| self.confirm_sign_up(r)),
            "ResendConfirmationCode" => call(body, |r| self.resend_confirmation_code(r)),
            "ForgotPassword" => call(body, |r| self.forgot_password(r)),
            "ConfirmForgotPassword" => call(body, |r| self.confirm_forgot_password(r)),
            "InitiateAuth" => call(body, |r| self.initiate_auth(r)),
            "RespondToAuthChallenge" => call(body, |r| self.respond_to_auth_challenge(r)),
            "GetUser" => call(body, |r| self.get_user(r)),
            "GlobalSignOut" => call(body, |r| self.global_sign_out(r)),
            "RevokeToken" => call(body, |r| self.revoke_token(r)),
            "ChangePassword" => call(body, |r| self.change_password(r)),
            "AdminCreateUser" => call(body, |r| self.admin_create_user(r)),
            "AdminConfirmSignUp" => call(body, |r| self.admin_confirm_sign_up(r)),
            "AdminGetUser" => call(body, |r| self.admin_get_user(r)),
            "AdminDeleteUser" => call(body, |r| self.admin_delete_user(r)),
            "AdminDisableUser" => call(body, |r| self.admin_set_enabled(r, false)),
            "AdminEnableUser" => call(body, |r| self.admin_set_enabled(r, true)),
            "ListUsers" => call(body, |r| self.list_users(r)),
            "GetCSVHeader" => call(body, |r| self.get_csv_header(r)),
            "CreateGroup" => call(body, |r| self.create_group(r)),
            "AdminAddUserToGroup" => call(body, |r| self.admin_add_user_to_group(r)),
            "AdminRemoveUserFromGroup" => call(body, |r| self.admin_remove_user_from_group(r)),
            "AdminListGroupsForUser" => call(body, |r| self.admin_list_groups_for_user(r)),
            "AdminInitiateAuth" => call(body, |r| self.admin_initiate_auth(r)),
            "AdminRespondToAuthChallenge" => {
                call(body, |r| self.admin_respond_to_auth_challenge(r))
            }
            "GetTokensFromRefreshToken" => call(body, |r| self.get_tokens_from_refresh_token(r)),
            "UpdateUserAttributes" => call(body, |r| self.update_user_attributes(r)),
            "GetUserAttributeVerificationCode" => {
                call(body, |r| self.get_user_attribute_verification_code(r))
            }
            "VerifyUserAttribute" => call(body, |r| self.verify_user_attribute(r)),
            "DeleteUserAttributes" => call(body, |r| self.delete_user_attributes(r)),
            "DeleteUser" => call(body, |r| self.delete_user(r)),
            "AdminSetUserPassword" => call(body, |r| self.admin_set_user_password(r)),
            "AdminResetUserPassword" => call(body, |r| self.admin_reset_user_password(r)),
            "AdminUpdateUserAttributes" => call(body, |r| self.admin_update_user_attributes(r)),
            "AdminDeleteUserAttributes" => call(body, |r| self.admin_delete_user_attributes(r)),
            "AdminUserGlobalSignOut" => call(body, |r| self.admin_user_global_sign_out(r)),
            "ListUsersInGroup" => call(body, |r| self.list_users_in_group(r)),
            "GetGroup" => call(body, |r| self.get_group(r)),
            "ListGroups" => call(body, |r| self.list_groups(r)),
            "UpdateGroup" => call(body, |r| self.update_group(r)),
            "DeleteGroup" => call(body, |r| self.delete_group(r)),
            "UpdateUserPool" => call(body, |r| self.update_user_pool(r)),
            "AddCustomAttributes" => call(body, |r| self.add_custom_attributes(r)),
            "DeleteUserPool" => call(body, |r| self.delete_user_pool(r)),
            "UpdateUserPoolClient" => call(body, |r| self.update_user_pool_client(r)),
            "DeleteUserPoolClient" => call(body, |r| self.delete_user_pool_client(r)),
            "SetUserPoolMfaConfig" => call(body, |r| self.set_user_pool_mfa_config(r)),
            "GetUserPoolMfaConfig" => call(body, |r| self.get_user_pool_mfa_config(r)),
            "AssociateSoftwareToken" => call(body, |r| self.associate_software_token(r)),
            "VerifySoftwareToken" => call(body, |r| self.verify_software_token(r)),
            "SetUserMFAPreference" => call(body, |r| self.set_user_mfa_preference(r)),
            "AdminSetUserMFAPreference" => call(body, |r| self.set_user_mfa_preference(r)),
            "CreateUserPoolDomain" => call(body, |r| self.create_user_pool_domain(r)),
            "DescribeUserPoolDomain" => call(body, |r| self.describe_user_pool_domain(r)),
            "DeleteUserPoolDomain" => call(body, |r| self.delete_user_pool_domain(r)),
            "CreateResourceServer" => call(body, |r| self.create_resource_server(r)),
            "DescribeResourceServer" => call(body, |r| self.describe_resource_server(r)),
            "ListResourceServers" => call(body, |r| self.list_resource_servers(r)),
            "UpdateResourceServer" => call(body, |r| self.update_resource_server(r)),
            "DeleteResourceServer" => call(body, |r| self.delete_resource_server(r)),
            "CreateIdentityProvider" => call(body, |r| self.create_identity_provider(r)),
            "DescribeIdentityProvider" => call(body, |r| self.describe_identity_provider(r)),
            "GetIdentityProviderByIdentifier" => {
                call(body, |r| self.get_identity_provider_by_identifier(r))
            }
            "UpdateIdentityProvider" => call(body, |r| self.update_identity_provider(r)),
            "DeleteIdentityProvider" => call(body, |r| self.delete_identity_provider(r)),
            "ListIdentityProviders" => call(body, |r| self.list_identity_providers(r)),
            other => Err(PoolError::UnknownOperation(format!(
                "The local user pool does not implement {other}"
            ))),
        }
    }
}

/// Decodes a request, runs an action on it and encodes its answer.
fn call<Req, Resp>(
    body: Value,
    action: impl FnOnce(Req) -> Result<Resp, PoolError>,
) -> Result<Value, PoolError>
where
    Req: DeserializeOwned,
    Resp: Serialize,
{
    let response = action(parse(body)?)?;
    Ok(serde_json::to_value(response).map_err(PoolStoreError::from)?)
}

/// Decodes a request. Unknown members are ignored (clients send extras such as
/// `ClientMetadata`); a missing or mistyped member is Cognito's validation error.
fn parse<T: DeserializeOwned>(body: Value) -> Result<T, PoolError> {
    serde_json::from_value(body)
        .map_err(|e| PoolError::InvalidParameter(format!("1 validation error detected: {e}")))
}

/// Verifies `SECRET_HASH` for clients that have a secret:
/// `Base64(HMAC_SHA256(secret, username + client_id))`.
fn check_secret_hash(
    client: &Client,
    username: &str,
    given: Option<&str>,
) -> Result<(), PoolError> {
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
        _ => Err(PoolError::NotAuthorized(format!(
            "Unable to verify secret hash for client {}",
            client.id
        ))),
    }
}

/// Cognito's string maps may carry JSON nulls (amazon-cognito-identity-js sends
/// `DEVICE_KEY: null`); those count as absent.
type Params = HashMap<String, Option<String>>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).and_then(|v| v.as_deref())
}

fn required_param<'a>(params: &'a Params, name: &str) -> Result<&'a str, PoolError> {
    param(params, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PoolError::InvalidParameter(format!("Missing required parameter {name}")))
}

/// One page of `items`, with the token for the next. Tokens are plain offsets: local state is
/// small and ordered by creation.
fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: Option<usize>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), PoolError> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| PoolError::InvalidParameter("Invalid pagination token".into()))?,
    };
    let limit = limit.unwrap_or(max);
    if limit == 0 || limit > max {
        return Err(PoolError::InvalidParameter(format!(
            "1 validation error detected: Value '{limit}' failed to satisfy constraint: \
             Member must have value between 1 and {max}"
        )));
    }
    let total = items.len();
    let chosen: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + limit < total).then(|| (start + limit).to_string());
    Ok((chosen, next))
}

/// `ClientMetadata`: a map of strings the trigger functions get.
type Metadata = serde_json::Map<String, Value>;

/// What a request hands the trigger functions: its `ClientMetadata`, and `ValidationData`
/// (a list of name-value pairs) as the map the functions get.
fn client_data(metadata: Option<Metadata>, validation: Option<Vec<Attribute>>) -> ClientData {
    ClientData {
        metadata,
        validation: validation.map(|list| {
            list.into_iter()
                .map(|a| (a.name, Value::from(a.value.unwrap_or_default())))
                .collect()
        }),
    }
}
