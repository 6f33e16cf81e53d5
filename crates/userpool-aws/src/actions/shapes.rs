//! Cognito's response shapes that several actions share (`UserType`, `GroupType`,
//! `AuthenticationResult`, ...) as typed structs, so what an action answers is visible
//! in its signature. A shape only one group of actions answers sits beside them (e.g.
//! `GroupResponse` in `groups.rs`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use taskapi_userpool::model::{Client, Group, User};

/// The answer of actions that return nothing (`{}`).
#[derive(Debug, Serialize)]
pub(super) struct Empty {}

/// `AttributeType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttributeType {
    pub name: String,
    pub value: String,
}

/// A user's attributes as Cognito lists them.
pub(super) fn attribute_list(attributes: &BTreeMap<String, String>) -> Vec<AttributeType> {
    attributes
        .iter()
        .map(|(name, value)| AttributeType {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// `UserType`, as ListUsers, ListUsersInGroup and AdminCreateUser return it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserType {
    pub username: String,
    pub attributes: Vec<AttributeType>,
    pub user_create_date: i64,
    pub user_last_modified_date: i64,
    pub enabled: bool,
    pub user_status: &'static str,
}

impl UserType {
    pub fn new(user: &User) -> Self {
        Self {
            username: user.username.clone(),
            attributes: attribute_list(&user.attributes),
            user_create_date: user.created,
            user_last_modified_date: user.modified,
            enabled: user.enabled,
            user_status: user.status.as_str(),
        }
    }

    /// The same user with only the attributes named in `wanted` (ListUsers'
    /// `AttributesToGet`).
    pub fn keeping(mut self, wanted: Option<&[String]>) -> Self {
        if let Some(wanted) = wanted {
            self.attributes.retain(|a| wanted.contains(&a.name));
        }
        self
    }
}

/// `GroupType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupType {
    pub group_name: String,
    pub user_pool_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precedence: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub creation_date: i64,
    pub last_modified_date: i64,
}

impl GroupType {
    pub fn new(group: &Group) -> Self {
        Self {
            group_name: group.name.clone(),
            user_pool_id: group.pool_id.clone(),
            description: group.description.clone(),
            precedence: group.precedence,
            role_arn: group.role_arn.clone(),
            creation_date: group.created,
            last_modified_date: group.modified,
        }
    }
}

/// `AuthenticationResultType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AuthenticationResult {
    pub access_token: String,
    pub expires_in: i64,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub id_token: String,
}

impl AuthenticationResult {
    /// A session's freshly minted ID and access tokens, as `client` issues them; a sign-in
    /// adds the refresh token.
    pub fn new(client: &Client, (id_token, access_token): (String, String)) -> Self {
        Self {
            access_token,
            expires_in: client.config.validity.access,
            token_type: "Bearer",
            refresh_token: None,
            id_token,
        }
    }
}

/// What every sign-in step answers: either a challenge (name, session, parameters) or the
/// tokens.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AuthResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    pub challenge_parameters: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_result: Option<AuthenticationResult>,
}

impl AuthResponse {
    pub fn tokens(result: AuthenticationResult) -> Self {
        Self {
            challenge_name: None,
            session: None,
            challenge_parameters: BTreeMap::new(),
            authentication_result: Some(result),
        }
    }

    /// A challenge; its parameters' names are Cognito's own (`USER_ID_FOR_SRP`, ...) or,
    /// for a custom challenge, what the pool's function chose.
    pub fn challenge<K: Into<String>>(
        name: &'static str,
        session: Option<String>,
        parameters: BTreeMap<K, String>,
    ) -> Self {
        Self {
            challenge_name: Some(name),
            session,
            challenge_parameters: parameters.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            authentication_result: None,
        }
    }
}

/// Members a pool or client was created with that this emulator keeps verbatim; flattened
/// into the Describe answers.
pub(super) type Echo = BTreeMap<String, Value>;

/// The MFA members of GetUser and AdminGetUser: present once a software token is enabled.
#[derive(Debug, Serialize, Default)]
pub(super) struct MfaSettings {
    #[serde(rename = "UserMFASettingList", skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<&'static str>>,
    #[serde(
        rename = "PreferredMfaSetting",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred: Option<&'static str>,
}

impl MfaSettings {
    pub fn of(user: &User) -> Self {
        if user.totp.enabled && user.totp.secret.is_some() {
            Self {
                list: Some(vec!["SOFTWARE_TOKEN_MFA"]),
                preferred: Some("SOFTWARE_TOKEN_MFA"),
            }
        } else {
            Self::default()
        }
    }
}
