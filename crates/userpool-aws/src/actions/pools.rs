//! User pools: creating, changing, describing, listing and deleting them (signed actions).
//! App clients are in `clients.rs`, groups in `groups.rs`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::page;
use super::shapes::{Echo, Empty};
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{
    MfaConfiguration, PasswordPolicy, Pool, PoolConfig, SchemaAttribute,
};
use taskapi_userpool::schema;
use taskapi_userpool::triggers::lambda_config;

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
    /// The prefix of the pool's domain, once it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
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

impl AwsDoor {
    pub(super) fn create_user_pool(
        &self,
        req: CreateUserPool,
        region: Option<&str>,
    ) -> Result<UserPoolResponse, PoolError> {
        if req.pool_name.is_empty() || req.pool_name.chars().count() > 128 {
            return Err(PoolError::InvalidParameter(
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
            return Err(PoolError::InvalidParameter(format!(
                "1 validation error detected: Value '[{bad}]' at 'usernameAttributes' failed to \
                 satisfy constraint: Member must satisfy enum value set: [phone_number, email]"
            )));
        }
        let alias_attributes = req.alias_attributes.unwrap_or_default();
        if !username_attributes.is_empty() && !alias_attributes.is_empty() {
            return Err(PoolError::InvalidParameter(
                "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool"
                    .into(),
            ));
        }
        check_lambda_config(&req.rest)?;
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
    pub(super) fn update_user_pool(&self, req: UpdateUserPool) -> Result<Empty, PoolError> {
        let mut pool = self.pool(&req.user_pool_id)?;
        check_lambda_config(&req.rest)?;
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
                return Err(PoolError::InvalidParameter(
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
        self.store().update_pool(&pool)?;
        Ok(Empty {})
    }

    /// AddCustomAttributes: the only way to declare a custom attribute after CreateUserPool
    /// (users may only write the `custom:*` attributes their pool declares).
    pub(super) fn add_custom_attributes(
        &self,
        req: AddCustomAttributes,
    ) -> Result<Empty, PoolError> {
        let mut pool = self.pool(&req.user_pool_id)?;
        schema::add_custom(&mut pool.config.schema, req.custom_attributes)?;
        pool.modified = self.now();
        self.store().update_pool(&pool)?;
        Ok(Empty {})
    }

    /// DeleteUserPool, refused while `DeletionProtection` is `ACTIVE`.
    pub(super) fn delete_user_pool(&self, req: PoolId) -> Result<Empty, PoolError> {
        let pool = self.pool(&req.user_pool_id)?;
        if pool.config.deletion_protected() {
            return Err(PoolError::InvalidParameter(
                "The user pool cannot be deleted because deletion protection is activated.".into(),
            ));
        }
        self.store().delete_pool(&pool.id)?;
        self.forget_keys(&pool.id);
        Ok(Empty {})
    }

    pub(super) fn describe_user_pool(&self, req: PoolId) -> Result<UserPoolResponse, PoolError> {
        let pool = self.pool(&req.user_pool_id)?;
        Ok(UserPoolResponse {
            user_pool: self.pool_type(&pool)?,
        })
    }

    /// ListUserPools: the pools of the region the request is signed for, as each region
    /// of Cognito is a service of its own (all pools for an unsigned, in-process call).
    pub(super) fn list_user_pools(
        &self,
        req: ListUserPools,
        signed_region: Option<&str>,
    ) -> Result<ListUserPoolsResponse, PoolError> {
        let pools: Vec<Pool> = self
            .store()
            .pools()?
            .into_iter()
            .filter(|p| signed_region.is_none_or(|region| region_of(&p.id) == region))
            .collect();
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

    fn pool_type(&self, pool: &Pool) -> Result<UserPoolType, PoolError> {
        let region = region_of(&pool.id);
        let config = &pool.config;
        // What Cognito reports for a pool created without them.
        let mut echo = config.echo.clone();
        echo.entry("EmailConfiguration".into())
            .or_insert_with(|| json!({ "EmailSendingAccount": "COGNITO_DEFAULT" }));
        echo.entry("VerificationMessageTemplate".into())
            .or_insert_with(|| json!({ "DefaultEmailOption": "CONFIRM_WITH_CODE" }));
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
            estimated_number_of_users: self.store().users(&pool.id)?.len(),
            domain: self.store().domain_of_pool(&pool.id)?,
            creation_date: pool.created,
            last_modified_date: pool.modified,
            echo,
        })
    }
}

fn check_minimum_length(policy: &PasswordPolicy) -> Result<(), PoolError> {
    if (6..=99).contains(&policy.minimum_length) {
        Ok(())
    } else {
        Err(PoolError::InvalidParameter(
            "1 validation error detected: Value at 'policies.passwordPolicy.minimumLength' \
             failed to satisfy constraint: Member must have value between 6 and 99"
                .into(),
        ))
    }
}

/// A `LambdaConfig`, if given, checked as Cognito checks it (function ARNs, `LambdaVersion`).
fn check_lambda_config(members: &Map<String, Value>) -> Result<(), PoolError> {
    match members.get("LambdaConfig") {
        Some(config) => lambda_config::validate(config),
        None => Ok(()),
    }
}

/// The region a pool id names (`us-east-1_AbC123` → `us-east-1`).
fn region_of(pool_id: &str) -> &str {
    pool_id
        .split_once('_')
        .map_or("us-east-1", |(region, _)| region)
}
