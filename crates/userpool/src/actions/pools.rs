//! Pool, app client and group management (signed actions).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::oauth::{OAuthFields, OAuthShape};
use super::page;
use super::schema;
use super::shapes::{Echo, Empty};
use crate::UserPools;
use crate::error::CognitoError;
use crate::model::{
    Client, ClientConfig, MfaConfiguration, PasswordPolicy, Pool, PoolConfig, SchemaAttribute,
    TokenValidity,
};

/// CreateUserPool members kept verbatim and returned by DescribeUserPool.
const POOL_ECHO: [&str; 12] = [
    "DeletionProtection",
    "LambdaConfig",
    "VerificationMessageTemplate",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "SmsAuthenticationMessage",
    "DeviceConfiguration",
    "EmailConfiguration",
    "UserPoolTags",
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

/// `ExplicitAuthFlowsType` as current botocore lists it. The token-exchange flows are stored
/// and echoed; the local pool has no token exchange to allow.
const AUTH_FLOWS: [&str; 11] = [
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
    "ALLOW_TOKEN_EXCHANGE_DELEGATION",
    "ALLOW_TOKEN_EXCHANGE_IMPERSONATION",
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
    mfa_configuration: Option<MfaConfiguration>,
    schema: Option<Vec<SchemaAttribute>>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// `UserPoolPolicyType`.
#[derive(Deserialize, Serialize)]
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
pub(super) struct AddCustomAttributes {
    user_pool_id: String,
    custom_attributes: Vec<SchemaAttribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateUserPool {
    user_pool_id: String,
    policies: Option<Policies>,
    auto_verified_attributes: Option<Vec<String>>,
    admin_create_user_config: Option<AdminCreateUserConfig>,
    mfa_configuration: Option<MfaConfiguration>,
    #[serde(flatten)]
    rest: Map<String, Value>,
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
    /// UpdateUserPoolClient only.
    client_id: Option<String>,
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

#[derive(Deserialize, Default, Clone)]
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

/// `UserPoolType`; members kept verbatim from creation are flattened in last.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserPoolType {
    id: String,
    name: String,
    arn: String,
    policies: Policies,
    auto_verified_attributes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    username_attributes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alias_attributes: Vec<String>,
    admin_create_user_config: AdminCreateUserConfigType,
    mfa_configuration: MfaConfiguration,
    schema_attributes: Vec<SchemaAttribute>,
    estimated_number_of_users: usize,
    creation_date: i64,
    last_modified_date: i64,
    #[serde(flatten)]
    echo: Echo,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserConfigType {
    allow_admin_create_user_only: bool,
    unused_account_validity_days: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserPoolResponse {
    user_pool: UserPoolType,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PoolDescription {
    id: String,
    name: String,
    creation_date: i64,
    last_modified_date: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUserPoolsResponse {
    user_pools: Vec<PoolDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// `UserPoolClientType`; members kept verbatim from creation are flattened in last.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ClientType {
    user_pool_id: String,
    client_name: String,
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    explicit_auth_flows: Vec<String>,
    prevent_user_existence_errors: String,
    enable_token_revocation: bool,
    access_token_validity: i64,
    id_token_validity: i64,
    refresh_token_validity: i64,
    token_validity_units: Value,
    creation_date: i64,
    last_modified_date: i64,
    #[serde(flatten)]
    oauth: OAuthShape,
    #[serde(flatten)]
    echo: Echo,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserPoolClientResponse {
    user_pool_client: ClientType,
}

impl UserPoolClientResponse {
    fn new(client: &Client) -> Self {
        Self {
            user_pool_client: ClientType::new(client),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ClientDescription {
    client_id: String,
    user_pool_id: String,
    client_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUserPoolClientsResponse {
    user_pool_clients: Vec<ClientDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl UserPools {
    pub(super) fn create_user_pool(
        &self,
        req: CreateUserPool,
        region: Option<&str>,
    ) -> Result<UserPoolResponse, CognitoError> {
        if req.pool_name.is_empty() || req.pool_name.chars().count() > 128 {
            return Err(CognitoError::InvalidParameter(
                "1 validation error detected: Value at 'poolName' failed to satisfy constraint: \
                 Member must have length between 1 and 128"
                    .into(),
            ));
        }
        let policy = req
            .policies
            .and_then(|p| p.password_policy)
            .unwrap_or_default();
        check_minimum_length(&policy)?;
        let username_attributes = req.username_attributes.unwrap_or_default();
        if let Some(bad) = username_attributes
            .iter()
            .find(|a| *a != "email" && *a != "phone_number")
        {
            return Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value '[{bad}]' at 'usernameAttributes' failed to \
                 satisfy constraint: Member must satisfy enum value set: [phone_number, email]"
            )));
        }
        let alias_attributes = req.alias_attributes.unwrap_or_default();
        if !username_attributes.is_empty() && !alias_attributes.is_empty() {
            return Err(CognitoError::InvalidParameter(
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
            // Without SetUserPoolMfaConfig, ON and OPTIONAL mean software tokens here (the
            // only factor this pool offers).
            software_token_mfa: req
                .mfa_configuration
                .is_some_and(|m| m != MfaConfiguration::Off),
            mfa_configuration: req.mfa_configuration.unwrap_or_default(),
            schema: schema::validate(req.schema.unwrap_or_default())?,
            echo,
        };
        let pool = self.create_pool(&req.pool_name, config, region)?;
        Ok(UserPoolResponse {
            user_pool: self.pool_type(&pool)?,
        })
    }

    /// UpdateUserPool: the members given replace the pool's; the others are kept.
    pub(super) fn update_user_pool(&self, req: UpdateUserPool) -> Result<Empty, CognitoError> {
        let mut pool = self.pool(&req.user_pool_id)?;
        let config = &mut pool.config;
        if let Some(policy) = req.policies.and_then(|p| p.password_policy) {
            check_minimum_length(&policy)?;
            config.password_policy = policy;
        }
        if let Some(attributes) = req.auto_verified_attributes {
            config.auto_verified_attributes = attributes;
        }
        if let Some(admin) = req.admin_create_user_config {
            config.allow_admin_create_user_only = admin.allow_admin_create_user_only;
        }
        if let Some(mfa) = req.mfa_configuration {
            if mfa != MfaConfiguration::Off && !config.software_token_mfa {
                return Err(CognitoError::InvalidParameter(
                    "Enable software token MFA (SetUserPoolMfaConfig) before turning MFA on".into(),
                ));
            }
            config.mfa_configuration = mfa;
        }
        for key in POOL_ECHO {
            if let Some(value) = req.rest.get(key) {
                config.echo.insert(key.to_owned(), value.clone());
            }
        }
        pool.modified = self.now();
        self.store.update_pool(&pool)?;
        Ok(Empty {})
    }

    /// AddCustomAttributes: the only way to declare a custom attribute after CreateUserPool
    /// (users may only write the `custom:*` attributes their pool declares).
    pub(super) fn add_custom_attributes(
        &self,
        req: AddCustomAttributes,
    ) -> Result<Empty, CognitoError> {
        let mut pool = self.pool(&req.user_pool_id)?;
        schema::add_custom(&mut pool.config.schema, req.custom_attributes)?;
        pool.modified = self.now();
        self.store.update_pool(&pool)?;
        Ok(Empty {})
    }

    /// DeleteUserPool, refused while `DeletionProtection` is `ACTIVE`.
    pub(super) fn delete_user_pool(&self, req: PoolId) -> Result<Empty, CognitoError> {
        let pool = self.pool(&req.user_pool_id)?;
        if pool.config.echo.get("DeletionProtection") == Some(&json!("ACTIVE")) {
            return Err(CognitoError::InvalidParameter(
                "The user pool cannot be deleted because deletion protection is activated.".into(),
            ));
        }
        self.store.delete_pool(&pool.id)?;
        self.forget_keys(&pool.id);
        Ok(Empty {})
    }

    pub(super) fn describe_user_pool(&self, req: PoolId) -> Result<UserPoolResponse, CognitoError> {
        let pool = self.pool(&req.user_pool_id)?;
        Ok(UserPoolResponse {
            user_pool: self.pool_type(&pool)?,
        })
    }

    pub(super) fn list_user_pools(
        &self,
        req: ListUserPools,
    ) -> Result<ListUserPoolsResponse, CognitoError> {
        let pools = self.store.pools()?;
        let (pools, next_token) =
            page(pools, req.next_token.as_deref(), Some(req.max_results), 60)?;
        Ok(ListUserPoolsResponse {
            user_pools: pools
                .iter()
                .map(|p| PoolDescription {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    creation_date: p.created,
                    last_modified_date: p.modified,
                })
                .collect(),
            next_token,
        })
    }

    pub(super) fn create_user_pool_client(
        &self,
        req: CreateUserPoolClient,
    ) -> Result<UserPoolClientResponse, CognitoError> {
        let pool = self.pool(&req.user_pool_id)?;
        let mut config = client_config(&req)?;
        config.oauth = self.oauth_settings(&pool.id, req.generate_secret, &req.oauth)?;
        let client = self.create_client(&pool.id, &req.client_name, req.generate_secret, config)?;
        Ok(UserPoolClientResponse::new(&client))
    }

    /// UpdateUserPoolClient: as in Cognito, settings left out return to their defaults.
    pub(super) fn update_user_pool_client(
        &self,
        req: CreateUserPoolClient,
    ) -> Result<UserPoolClientResponse, CognitoError> {
        let client_id = req.client_id.clone().unwrap_or_default();
        let mut client = self.pool_client(&req.user_pool_id, &client_id)?.0;
        client.config = client_config(&req)?;
        client.config.oauth =
            self.oauth_settings(&client.pool_id, client.secret.is_some(), &req.oauth)?;
        client.name = req.client_name.clone();
        client.modified = self.now();
        self.store.update_client(&client)?;
        Ok(UserPoolClientResponse::new(&client))
    }

    pub(super) fn delete_user_pool_client(&self, req: ClientRef) -> Result<Empty, CognitoError> {
        let (client, _) = self.pool_client(&req.user_pool_id, &req.client_id)?;
        self.store.delete_client(&client.id)?;
        Ok(Empty {})
    }

    pub(super) fn describe_user_pool_client(
        &self,
        req: ClientRef,
    ) -> Result<UserPoolClientResponse, CognitoError> {
        let (client, _) = self.pool_client(&req.user_pool_id, &req.client_id)?;
        Ok(UserPoolClientResponse::new(&client))
    }

    pub(super) fn list_user_pool_clients(
        &self,
        req: ListUserPoolClients,
    ) -> Result<ListUserPoolClientsResponse, CognitoError> {
        self.pool(&req.user_pool_id)?;
        let clients = self.store.clients(&req.user_pool_id)?;
        let (clients, next_token) = page(clients, req.next_token.as_deref(), req.max_results, 60)?;
        Ok(ListUserPoolClientsResponse {
            user_pool_clients: clients
                .iter()
                .map(|c| ClientDescription {
                    client_id: c.id.clone(),
                    user_pool_id: c.pool_id.clone(),
                    client_name: c.name.clone(),
                })
                .collect(),
            next_token,
        })
    }

    fn pool_type(&self, pool: &Pool) -> Result<UserPoolType, CognitoError> {
        let region = pool.id.split_once('_').map_or("us-east-1", |(r, _)| r);
        let config = &pool.config;
        Ok(UserPoolType {
            id: pool.id.clone(),
            name: pool.name.clone(),
            arn: format!(
                "arn:aws:cognito-idp:{region}:000000000000:userpool/{}",
                pool.id
            ),
            policies: Policies {
                password_policy: Some(config.password_policy.clone()),
            },
            auto_verified_attributes: config.auto_verified_attributes.clone(),
            username_attributes: config.username_attributes.clone(),
            alias_attributes: config.alias_attributes.clone(),
            admin_create_user_config: AdminCreateUserConfigType {
                allow_admin_create_user_only: config.allow_admin_create_user_only,
                unused_account_validity_days: config
                    .password_policy
                    .temporary_password_validity_days,
            },
            mfa_configuration: config.mfa_configuration,
            schema_attributes: schema::describe(&config.schema),
            estimated_number_of_users: self.store.users(&pool.id)?.len(),
            creation_date: pool.created,
            last_modified_date: pool.modified,
            echo: config.echo.clone(),
        })
    }
}

/// The configuration a CreateUserPoolClient or UpdateUserPoolClient request asks for,
/// checked against Cognito's rules.
fn client_config(req: &CreateUserPoolClient) -> Result<ClientConfig, CognitoError> {
    if req.client_name.is_empty() || req.client_name.chars().count() > 128 {
        return Err(CognitoError::InvalidParameter(
            "1 validation error detected: Value at 'clientName' failed to satisfy constraint: \
                 Member must have length between 1 and 128"
                .into(),
        ));
    }
    let flows = req.explicit_auth_flows.clone().unwrap_or_else(|| {
        [
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH",
        ]
        .map(String::from)
        .to_vec()
    });
    if let Some(bad) = flows.iter().find(|f| !AUTH_FLOWS.contains(&f.as_str())) {
        return Err(CognitoError::InvalidParameter(format!(
            "1 validation error detected: Value '[{bad}]' at 'explicitAuthFlows' failed to \
                 satisfy constraint: Member must satisfy enum value set: [{}]",
            AUTH_FLOWS.join(", ")
        )));
    }
    let prevent = req
        .prevent_user_existence_errors
        .clone()
        .unwrap_or_else(|| "LEGACY".into());
    if prevent != "LEGACY" && prevent != "ENABLED" {
        return Err(CognitoError::InvalidParameter(format!(
            "1 validation error detected: Value '{prevent}' at 'preventUserExistenceErrors' \
                 failed to satisfy constraint: Member must satisfy enum value set: [LEGACY, ENABLED]"
        )));
    }
    let units = req.token_validity_units.clone().unwrap_or_default();
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
    Ok(ClientConfig {
        explicit_auth_flows: flows,
        prevent_user_existence_errors: prevent,
        enable_token_revocation: req.enable_token_revocation.unwrap_or(true),
        validity,
        token_validity_units: json!({
            "AccessToken": access_unit, "IdToken": id_unit, "RefreshToken": refresh_unit,
        }),
        echo,
        // Checked against the pool's resource servers by the caller.
        oauth: Default::default(),
    })
}

fn check_minimum_length(policy: &PasswordPolicy) -> Result<(), CognitoError> {
    if (6..=99).contains(&policy.minimum_length) {
        Ok(())
    } else {
        Err(CognitoError::InvalidParameter(
            "1 validation error detected: Value at 'policies.passwordPolicy.minimumLength' \
             failed to satisfy constraint: Member must have value between 6 and 99"
                .into(),
        ))
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
) -> Result<i64, CognitoError> {
    let Some(value) = value else {
        return Ok(default_seconds);
    };
    let scale = match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        "days" => 86_400,
        other => {
            return Err(CognitoError::InvalidParameter(format!(
                "Invalid TokenValidityUnits {other} for {name}"
            )));
        }
    };
    let seconds = value.saturating_mul(scale);
    if !(min..=max).contains(&seconds) {
        return Err(CognitoError::InvalidParameter(format!(
            "{name} validity must be between {min} seconds and {max} seconds"
        )));
    }
    Ok(seconds)
}

impl ClientType {
    fn new(client: &Client) -> Self {
        let config = &client.config;
        let unit_seconds = |unit: &Value| match unit.as_str() {
            Some("seconds") => 1,
            Some("minutes") => 60,
            Some("days") => 86_400,
            _ => 3600,
        };
        let units = &config.token_validity_units;
        Self {
            user_pool_id: client.pool_id.clone(),
            client_name: client.name.clone(),
            client_id: client.id.clone(),
            client_secret: client.secret.clone(),
            explicit_auth_flows: config.explicit_auth_flows.clone(),
            prevent_user_existence_errors: config.prevent_user_existence_errors.clone(),
            enable_token_revocation: config.enable_token_revocation,
            access_token_validity: config.validity.access / unit_seconds(&units["AccessToken"]),
            id_token_validity: config.validity.id / unit_seconds(&units["IdToken"]),
            refresh_token_validity: config.validity.refresh / unit_seconds(&units["RefreshToken"]),
            token_validity_units: units.clone(),
            creation_date: client.created,
            last_modified_date: client.modified,
            oauth: OAuthShape::new(&config.oauth),
            echo: config.echo.clone(),
        }
    }
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
