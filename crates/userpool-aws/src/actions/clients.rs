//! App clients: creating, changing, describing, listing and deleting them (signed
//! actions), and the checks on what a client may be configured with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::oauth_settings::{OAuthFields, OAuthShape};
use super::page;
use super::shapes::{Echo, Empty};
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{Client, ClientConfig, TokenValidity};

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

impl UserPoolClientResponse {
    fn new(client: &Client) -> Self {
        Self {
            user_pool_client: ClientType::new(client),
        }
    }
}

impl AwsDoor {
    pub(super) fn create_user_pool_client(
        &self,
        req: CreateUserPoolClient,
    ) -> Result<UserPoolClientResponse, PoolError> {
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
    ) -> Result<UserPoolClientResponse, PoolError> {
        let client_id = req.client_id.clone().unwrap_or_default();
        let mut client = self.pool_client(&req.user_pool_id, &client_id)?.0;
        client.config = client_config(&req)?;
        client.config.oauth =
            self.oauth_settings(&client.pool_id, client.secret.is_some(), &req.oauth)?;
        client.name = req.client_name.clone();
        client.modified = self.now();
        self.store().update_client(&client)?;
        Ok(UserPoolClientResponse::new(&client))
    }

    pub(super) fn delete_user_pool_client(&self, req: ClientRef) -> Result<Empty, PoolError> {
        let (client, _) = self.pool_client(&req.user_pool_id, &req.client_id)?;
        self.store().delete_client(&client.id)?;
        Ok(Empty {})
    }

    pub(super) fn describe_user_pool_client(
        &self,
        req: ClientRef,
    ) -> Result<UserPoolClientResponse, PoolError> {
        let (client, _) = self.pool_client(&req.user_pool_id, &req.client_id)?;
        Ok(UserPoolClientResponse::new(&client))
    }

    pub(super) fn list_user_pool_clients(
        &self,
        req: ListUserPoolClients,
    ) -> Result<ListUserPoolClientsResponse, PoolError> {
        self.pool(&req.user_pool_id)?;
        let clients = self.store().clients(&req.user_pool_id)?;
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
}

/// The configuration a CreateUserPoolClient or UpdateUserPoolClient request asks for,
/// checked against Cognito's rules.
fn client_config(req: &CreateUserPoolClient) -> Result<ClientConfig, PoolError> {
    if req.client_name.is_empty() || req.client_name.chars().count() > 128 {
        return Err(PoolError::InvalidParameter(
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
        return Err(PoolError::InvalidParameter(format!(
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
        return Err(PoolError::InvalidParameter(format!(
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

/// Converts a configured validity to seconds and checks Cognito's bounds.
fn validity(
    name: &str,
    value: Option<i64>,
    unit: &str,
    default_seconds: i64,
    min: i64,
    max: i64,
) -> Result<i64, PoolError> {
    let Some(value) = value else {
        return Ok(default_seconds);
    };
    let scale = match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        "days" => 86_400,
        other => {
            return Err(PoolError::InvalidParameter(format!(
                "Invalid TokenValidityUnits {other} for {name}"
            )));
        }
    };
    let seconds = value.saturating_mul(scale);
    if !(min..=max).contains(&seconds) {
        return Err(PoolError::InvalidParameter(format!(
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
