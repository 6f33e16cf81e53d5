//! Pool, app client and group management (signed actions).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::oauth::{OAuthFields, OAuthShape};
use super::page;
use crate::UserPools;
use crate::error::ApiError;
use crate::model::{Client, ClientConfig, Group, PasswordPolicy, Pool, PoolConfig, TokenValidity};

/// CreateUserPool members kept verbatim and returned by DescribeUserPool.
const POOL_ECHO: [&str; 14] = [
    "DeletionProtection",
    "LambdaConfig",
    "VerificationMessageTemplate",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "SmsAuthenticationMessage",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "UserPoolTags",
    "Schema",
    "UserAttributeUpdateSettings",
    "UsernameConfiguration",
    "AccountRecoverySetting",
];

/// CreateUserPoolClient members kept verbatim and returned by DescribeUserPoolClient.
const CLIENT_ECHO: [&str; 4] = [
    "ReadAttributes",
    "WriteAttributes",
    "AuthSessionValidity",
    "EnablePropagateAdditionalUserContextData",
];

const AUTH_FLOWS: [&str; 9] = [
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateUserPool {
    pool_name: String,
    policies: Option<Policies>,
    username_attributes: Option<Vec<String>>,
    alias_attributes: Option<Vec<String>>,
    auto_verified_attributes: Option<Vec<String>>,
    admin_create_user_config: Option<AdminCreateUserConfig>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Policies {
    password_policy: Option<PasswordPolicy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserConfig {
    #[serde(default)]
    allow_admin_create_user_only: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PoolId {
    user_pool_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUserPools {
    max_results: usize,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateUserPoolClient {
    user_pool_id: String,
    client_name: String,
    #[serde(default)]
    generate_secret: bool,
    explicit_auth_flows: Option<Vec<String>>,
    prevent_user_existence_errors: Option<String>,
    enable_token_revocation: Option<bool>,
    access_token_validity: Option<i64>,
    id_token_validity: Option<i64>,
    refresh_token_validity: Option<i64>,
    token_validity_units: Option<TokenValidityUnits>,
    #[serde(flatten)]
    oauth: OAuthFields,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TokenValidityUnits {
    access_token: Option<String>,
    id_token: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ClientRef {
    user_pool_id: String,
    client_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUserPoolClients {
    user_pool_id: String,
    max_results: Option<usize>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateGroup {
    user_pool_id: String,
    group_name: String,
    description: Option<String>,
    precedence: Option<i64>,
    role_arn: Option<String>,
}

impl UserPools {
    pub(super) fn create_user_pool(&self, req: CreateUserPool) -> Result<Value, ApiError> {
        if req.pool_name.is_empty() || req.pool_name.chars().count() > 128 {
            return Err(ApiError::InvalidParameter(
                "1 validation error detected: Value at 'poolName' failed to satisfy constraint: \
                 Member must have length between 1 and 128"
                    .into(),
            ));
        }
        let policy = req
            .policies
            .and_then(|p| p.password_policy)
            .unwrap_or_default();
        if !(6..=99).contains(&policy.minimum_length) {
            return Err(ApiError::InvalidParameter(
                "1 validation error detected: Value at 'policies.passwordPolicy.minimumLength' \
                 failed to satisfy constraint: Member must have value between 6 and 99"
                    .into(),
            ));
        }
        let username_attributes = req.username_attributes.unwrap_or_default();
        let alias_attributes = req.alias_attributes.unwrap_or_default();
        if !username_attributes.is_empty() && !alias_attributes.is_empty() {
            return Err(ApiError::InvalidParameter(
                "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool"
                    .into(),
            ));
        }
        let echo = POOL_ECHO
            .iter()
            .filter_map(|k| req.rest.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        let config = PoolConfig {
            password_policy: policy,
            username_attributes,
            alias_attributes,
            auto_verified_attributes: req.auto_verified_attributes.unwrap_or_default(),
            allow_admin_create_user_only: req
                .admin_create_user_config
                .is_some_and(|c| c.allow_admin_create_user_only),
            echo,
        };
        let pool = self.create_pool(&req.pool_name, config)?;
        Ok(json!({ "UserPool": self.pool_to_wire(&pool)? }))
    }

    pub(super) fn describe_user_pool(&self, req: PoolId) -> Result<Value, ApiError> {
        let pool = self.pool(&req.user_pool_id)?;
        Ok(json!({ "UserPool": self.pool_to_wire(&pool)? }))
    }

    pub(super) fn list_user_pools(&self, req: ListUserPools) -> Result<Value, ApiError> {
        let pools = self.store.pools()?;
        let (pools, next) = page(pools, req.next_token.as_deref(), Some(req.max_results), 60)?;
        let pools: Vec<Value> = pools
            .iter()
            .map(|p| {
                json!({
                    "Id": p.id,
                    "Name": p.name,
                    "CreationDate": p.created,
                    "LastModifiedDate": p.modified,
                })
            })
            .collect();
        let mut out = json!({ "UserPools": pools });
        if let Some(next) = next {
            out["NextToken"] = json!(next);
        }
        Ok(out)
    }

    pub(super) fn create_user_pool_client(
        &self,
        req: CreateUserPoolClient,
    ) -> Result<Value, ApiError> {
        let pool = self.pool(&req.user_pool_id)?;
        if req.client_name.is_empty() || req.client_name.chars().count() > 128 {
            return Err(ApiError::InvalidParameter(
                "1 validation error detected: Value at 'clientName' failed to satisfy constraint: \
                 Member must have length between 1 and 128"
                    .into(),
            ));
        }
        let flows = req.explicit_auth_flows.unwrap_or_else(|| {
            [
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_CUSTOM_AUTH",
            ]
            .map(String::from)
            .to_vec()
        });
        if let Some(bad) = flows.iter().find(|f| !AUTH_FLOWS.contains(&f.as_str())) {
            return Err(ApiError::InvalidParameter(format!(
                "1 validation error detected: Value '[{bad}]' at 'explicitAuthFlows' failed to \
                 satisfy constraint: Member must satisfy enum value set: [{}]",
                AUTH_FLOWS.join(", ")
            )));
        }
        let prevent = req
            .prevent_user_existence_errors
            .unwrap_or_else(|| "LEGACY".into());
        if prevent != "LEGACY" && prevent != "ENABLED" {
            return Err(ApiError::InvalidParameter(format!(
                "1 validation error detected: Value '{prevent}' at 'preventUserExistenceErrors' \
                 failed to satisfy constraint: Member must satisfy enum value set: [LEGACY, ENABLED]"
            )));
        }
        let units = req.token_validity_units.unwrap_or_default();
        let access_unit = units.access_token.unwrap_or_else(|| "hours".into());
        let id_unit = units.id_token.unwrap_or_else(|| "hours".into());
        let refresh_unit = units.refresh_token.unwrap_or_else(|| "days".into());
        let defaults = TokenValidity::default();
        let validity = TokenValidity {
            access: validity(
                "AccessToken",
                req.access_token_validity,
                &access_unit,
                defaults.access,
                300,
                86_400,
            )?,
            id: validity(
                "IdToken",
                req.id_token_validity,
                &id_unit,
                defaults.id,
                300,
                86_400,
            )?,
            refresh: validity(
                "RefreshToken",
                req.refresh_token_validity,
                &refresh_unit,
                defaults.refresh,
                3600,
                10 * 365 * 86_400,
            )?,
        };
        let echo: BTreeMap<String, Value> = CLIENT_ECHO
            .iter()
            .filter_map(|k| req.rest.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        let oauth = self.oauth_settings(&pool.id, req.generate_secret, req.oauth)?;
        let config = ClientConfig {
            oauth,
            explicit_auth_flows: flows,
            prevent_user_existence_errors: prevent,
            enable_token_revocation: req.enable_token_revocation.unwrap_or(true),
            validity,
            token_validity_units: json!({
                "AccessToken": access_unit, "IdToken": id_unit, "RefreshToken": refresh_unit,
            }),
            echo,
        };
        let client = self.create_client(&pool.id, &req.client_name, req.generate_secret, config)?;
        Ok(json!({ "UserPoolClient": client_to_wire(&client) }))
    }

    pub(super) fn describe_user_pool_client(&self, req: ClientRef) -> Result<Value, ApiError> {
        self.pool(&req.user_pool_id)?;
        let client = self
            .store
            .client(&req.client_id)?
            .filter(|c| c.pool_id == req.user_pool_id)
            .ok_or_else(|| ApiError::client_not_found(&req.client_id))?;
        Ok(json!({ "UserPoolClient": client_to_wire(&client) }))
    }

    pub(super) fn list_user_pool_clients(
        &self,
        req: ListUserPoolClients,
    ) -> Result<Value, ApiError> {
        self.pool(&req.user_pool_id)?;
        let clients = self.store.clients(&req.user_pool_id)?;
        let (clients, next) = page(clients, req.next_token.as_deref(), req.max_results, 60)?;
        let clients: Vec<Value> = clients
            .iter()
            .map(|c| json!({"ClientId": c.id, "UserPoolId": c.pool_id, "ClientName": c.name}))
            .collect();
        let mut out = json!({ "UserPoolClients": clients });
        if let Some(next) = next {
            out["NextToken"] = json!(next);
        }
        Ok(out)
    }

    pub(super) fn create_group(&self, req: CreateGroup) -> Result<Value, ApiError> {
        self.pool(&req.user_pool_id)?;
        if req.group_name.is_empty() || req.group_name.chars().count() > 128 {
            return Err(ApiError::InvalidParameter(
                "1 validation error detected: Value at 'groupName' failed to satisfy constraint: \
                 Member must have length between 1 and 128"
                    .into(),
            ));
        }
        let now = self.now();
        let group = Group {
            pool_id: req.user_pool_id,
            name: req.group_name,
            description: req.description,
            precedence: req.precedence,
            role_arn: req.role_arn,
            created: now,
            modified: now,
        };
        if !self.store.insert_group(&group)? {
            return Err(ApiError::GroupExists);
        }
        Ok(json!({ "Group": group.to_wire() }))
    }

    fn pool_to_wire(&self, pool: &Pool) -> Result<Value, ApiError> {
        let region = pool.id.split_once('_').map_or("us-east-1", |(r, _)| r);
        let users = self.store.users(&pool.id)?.len();
        let mut out = json!({
            "Id": pool.id,
            "Name": pool.name,
            "Arn": format!("arn:aws:cognito-idp:{region}:000000000000:userpool/{}", pool.id),
            "Policies": { "PasswordPolicy": pool.config.password_policy },
            "AutoVerifiedAttributes": pool.config.auto_verified_attributes,
            "AdminCreateUserConfig": {
                "AllowAdminCreateUserOnly": pool.config.allow_admin_create_user_only,
                "UnusedAccountValidityDays": pool.config.password_policy.temporary_password_validity_days,
            },
            "MfaConfiguration": "OFF",
            "EstimatedNumberOfUsers": users,
            "CreationDate": pool.created,
            "LastModifiedDate": pool.modified,
        });
        if !pool.config.username_attributes.is_empty() {
            out["UsernameAttributes"] = json!(pool.config.username_attributes);
        }
        if !pool.config.alias_attributes.is_empty() {
            out["AliasAttributes"] = json!(pool.config.alias_attributes);
        }
        for (key, value) in &pool.config.echo {
            out[key] = value.clone();
        }
        Ok(out)
    }
}

/// Converts a configured validity to seconds and checks Cognito's bounds.
fn validity(
    name: &str,
    value: Option<i64>,
    unit: &str,
    default_seconds: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(value) = value else {
        return Ok(default_seconds);
    };
    let scale = match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        "days" => 86_400,
        other => {
            return Err(ApiError::InvalidParameter(format!(
                "Invalid TokenValidityUnits {other} for {name}"
            )));
        }
    };
    let seconds = value.saturating_mul(scale);
    if !(min..=max).contains(&seconds) {
        return Err(ApiError::InvalidParameter(format!(
            "{name} validity must be between {min} seconds and {max} seconds"
        )));
    }
    Ok(seconds)
}

fn client_to_wire(client: &Client) -> Value {
    let config = &client.config;
    let unit_seconds = |unit: &Value| match unit.as_str() {
        Some("seconds") => 1,
        Some("minutes") => 60,
        Some("days") => 86_400,
        _ => 3600,
    };
    let units = &config.token_validity_units;
    let mut out = json!({
        "UserPoolId": client.pool_id,
        "ClientName": client.name,
        "ClientId": client.id,
        "ExplicitAuthFlows": config.explicit_auth_flows,
        "PreventUserExistenceErrors": config.prevent_user_existence_errors,
        "EnableTokenRevocation": config.enable_token_revocation,
        "AccessTokenValidity": config.validity.access / unit_seconds(&units["AccessToken"]),
        "IdTokenValidity": config.validity.id / unit_seconds(&units["IdToken"]),
        "RefreshTokenValidity": config.validity.refresh / unit_seconds(&units["RefreshToken"]),
        "TokenValidityUnits": units,
        "CreationDate": client.created,
        "LastModifiedDate": client.modified,
    });
    if let Some(secret) = &client.secret {
        out["ClientSecret"] = json!(secret);
    }
    for (key, value) in &config.echo {
        out[key] = value.clone();
    }
    if let (Value::Object(out), Ok(Value::Object(oauth))) = (
        &mut out,
        serde_json::to_value(OAuthShape::new(&config.oauth)),
    ) {
        out.extend(oauth);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn seed_step_two_client_request_parses_and_keeps_oauth_settings() {
        let req: CreateUserPoolClient = parse(json!({
            "UserPoolId": "us-east-1_AbC123xyz",
            "ClientName": "task-app-web",
            "GenerateSecret": false,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "SupportedIdentityProviders": ["COGNITO"],
            "CallbackURLs": ["https://tasks.example.com/callback"],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "AllowedOAuthFlowsUserPoolClient": true,
        }))
        .unwrap();
        assert_eq!(
            req.oauth.allowed_oauth_flows.as_deref(),
            Some(&["code".to_owned()][..])
        );
        assert_eq!(
            validity("IdToken", Some(60), "minutes", 3600, 300, 86_400).unwrap(),
            3600
        );
        assert!(validity("IdToken", Some(2), "days", 3600, 300, 86_400).is_err());
    }
}
