//! Administrator actions on users. Signed actions, as on AWS: the AWS JSON door's SigV4
//! layer (`taskapi-userpool-aws`) lets them through only with a valid signature from a
//! trusted key. Group
//! membership is in `groups.rs`.

use serde::{Deserialize, Serialize};

use super::shapes::{AttributeType, Empty, MfaSettings, UserType, attribute_list};
use super::{Attribute, Metadata, alias_email, attributes, client_data, new_identity, page};
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{User, UserStatus};
use taskapi_userpool::outbox::Message;
use taskapi_userpool::password::{self, Setter};
use taskapi_userpool::schema::csv_header;
use taskapi_userpool::store::Sessions;
use taskapi_userpool::triggers::lifecycle::MessageSource;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminCreateUser {
    user_pool_id: String,
    username: String,
    user_attributes: Option<Vec<Attribute>>,
    temporary_password: Option<String>,
    message_action: Option<String>,
    client_metadata: Option<Metadata>,
    validation_data: Option<Vec<Attribute>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminUser {
    user_pool_id: String,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUsers {
    user_pool_id: String,
    attributes_to_get: Option<Vec<String>>,
    limit: Option<usize>,
    pagination_token: Option<String>,
    filter: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetCsvHeader {
    user_pool_id: String,
}

#[derive(Serialize)]
pub(super) struct CsvHeaderResponse {
    #[serde(rename = "UserPoolId")]
    user_pool_id: String,
    #[serde(rename = "CSVHeader")]
    csv_header: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserResponse {
    user: UserType,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminGetUserResponse {
    username: String,
    user_attributes: Vec<AttributeType>,
    user_create_date: i64,
    user_last_modified_date: i64,
    enabled: bool,
    user_status: &'static str,
    #[serde(flatten)]
    mfa: MfaSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUsersResponse {
    users: Vec<UserType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pagination_token: Option<String>,
}

impl AwsDoor {
    pub(super) fn admin_create_user(
        &self,
        req: AdminCreateUser,
    ) -> Result<UserResponse, PoolError> {
        let pool = self.pool(&req.user_pool_id)?;
        let action = req.message_action.as_deref();
        if let Some(other) = action.filter(|a| *a != "RESEND" && *a != "SUPPRESS") {
            return Err(PoolError::InvalidParameter(format!(
                "1 validation error detected: Value '{other}' at 'messageAction' failed to \
                 satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]"
            )));
        }
        let temporary = match req.temporary_password {
            Some(p) => {
                password::check(&pool.config.password_policy, &p, Setter::Admin)?;
                p
            }
            None => taskapi_userpool::random::temporary_password(),
        };
        let now = self.now();
        let user = if action == Some("RESEND") {
            let (_, user) = self.admin_user(&pool.id, &req.username)?;
            if user.status != UserStatus::ForceChangePassword {
                return Err(PoolError::UnsupportedUserState(
                    "User status is not FORCE_CHANGE_PASSWORD".into(),
                ));
            }
            let credentials = self.derive_password(&pool.id, &user.username, &temporary)?;
            self.store().set_password(
                &pool.id,
                &user.username,
                &credentials,
                UserStatus::ForceChangePassword,
                now,
                Sessions::End,
            )?;
            user
        } else {
            let mut attrs = attributes(&pool, req.user_attributes)?;
            let username = new_identity(&pool, &req.username, &mut attrs)?;
            if self.store().find_user(&pool.id, &req.username)?.is_some() {
                return Err(PoolError::UsernameExists(
                    "User account already exists".into(),
                ));
            }
            // PreSignUp may refuse (nothing is stored); an administrator's user keeps its
            // temporary password whatever the function says of confirmation.
            let verdict = self.pre_sign_up(
                None,
                &pool,
                &username,
                &attrs,
                "PreSignUp_AdminCreateUser",
                &client_data(req.client_metadata, req.validation_data),
            )?;
            if verdict.verify_email {
                attrs.insert("email_verified".into(), "true".into());
            }
            let user = User::new(
                &pool.id,
                username,
                attrs,
                UserStatus::ForceChangePassword,
                now,
            );
            let credentials = self.derive_password(&pool.id, &user.username, &temporary)?;
            let alias = alias_email(&pool, &user);
            if !self
                .store()
                .insert_user(&user, alias.as_deref(), Some(&credentials))?
            {
                return Err(PoolError::UsernameExists(
                    "User account already exists".into(),
                ));
            }
            user
        };
        if action != Some("SUPPRESS") && user.email().is_some() {
            let text = self.custom_text(
                None,
                &pool,
                &user,
                &temporary,
                MessageSource::AdminCreateUser,
                None,
            )?;
            self.outbox().send(&Message {
                user: &user,
                purpose: "invitation",
                code: &temporary,
                now,
                subject: text.subject.as_deref(),
                text: text.message.as_deref(),
            });
        }
        Ok(UserResponse {
            user: UserType::new(&user),
        })
    }

    pub(super) fn admin_confirm_sign_up(&self, req: AdminUser) -> Result<Empty, PoolError> {
        let (pool, mut user) = self.admin_user(&req.user_pool_id, &req.username)?;
        if user.status != UserStatus::Unconfirmed {
            return Err(PoolError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        user.status = UserStatus::Confirmed;
        self.save_user(&mut user)?;
        self.post_confirmation(None, &pool, &user, "PostConfirmation_ConfirmSignUp")?;
        Ok(Empty {})
    }

    pub(super) fn admin_get_user(&self, req: AdminUser) -> Result<AdminGetUserResponse, PoolError> {
        let (_, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        Ok(AdminGetUserResponse {
            username: user.username.clone(),
            user_attributes: attribute_list(&user.attributes),
            user_create_date: user.created,
            user_last_modified_date: user.modified,
            enabled: user.enabled,
            user_status: user.status.as_str(),
            mfa: MfaSettings::of(&user),
        })
    }

    pub(super) fn admin_delete_user(&self, req: AdminUser) -> Result<Empty, PoolError> {
        let (_, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        self.store().delete_user(&user.pool_id, &user.username)?;
        Ok(Empty {})
    }

    /// AdminDisableUser also revokes the user's tokens, as Cognito documents.
    pub(super) fn admin_set_enabled(
        &self,
        req: AdminUser,
        enabled: bool,
    ) -> Result<Empty, PoolError> {
        let (_, mut user) = self.admin_user(&req.user_pool_id, &req.username)?;
        user.enabled = enabled;
        self.save_user(&mut user)?;
        if !enabled {
            self.store()
                .revoke_user_sessions(&user.pool_id, &user.username)?;
        }
        Ok(Empty {})
    }

    pub(super) fn list_users(&self, req: ListUsers) -> Result<ListUsersResponse, PoolError> {
        self.pool(&req.user_pool_id)?;
        let filter = req
            .filter
            .as_deref()
            .map(Filter::parse)
            .transpose()?
            .flatten();
        let users: Vec<User> = self
            .store()
            .users(&req.user_pool_id)?
            .into_iter()
            .filter(|u| filter.as_ref().is_none_or(|f| f.matches(u)))
            .collect();
        let (users, pagination_token) =
            page(users, req.pagination_token.as_deref(), req.limit, 60)?;
        let wanted = req.attributes_to_get.as_deref();
        Ok(ListUsersResponse {
            users: users
                .iter()
                .map(|u| UserType::new(u).keeping(wanted))
                .collect(),
            pagination_token,
        })
    }

    /// The columns of a user import CSV for the pool (what `taskapi export-users` writes).
    pub(super) fn get_csv_header(&self, req: GetCsvHeader) -> Result<CsvHeaderResponse, PoolError> {
        let pool = self.pool(&req.user_pool_id)?;
        Ok(CsvHeaderResponse {
            csv_header: csv_header(&pool.config.schema),
            user_pool_id: pool.id,
        })
    }
}

/// The attributes Cognito lets ListUsers filter on.
const FILTERABLE: [&str; 10] = [
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

/// ListUsers' `Filter`: `attribute = "value"` (exact) or `attribute ^= "value"` (prefix).
struct Filter {
    attribute: String,
    value: String,
    prefix: bool,
}

impl Filter {
    /// An empty filter means no filter.
    fn parse(text: &str) -> Result<Option<Self>, PoolError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let bad = || PoolError::InvalidParameter("Error while parsing filter.".into());
        let (attribute, rest, prefix) = match text.split_once("^=") {
            Some((a, r)) => (a, r, true),
            None => text
                .split_once('=')
                .map(|(a, r)| (a, r, false))
                .ok_or_else(bad)?,
        };
        let attribute = attribute.trim();
        if !FILTERABLE.contains(&attribute) {
            return Err(PoolError::InvalidParameter(format!(
                "Invalid search attribute: {attribute}. ListUsers filters on {}",
                FILTERABLE.join(", ")
            )));
        }
        let value = rest
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(bad)?;
        Ok(Some(Self {
            attribute: attribute.trim().to_owned(),
            value: value.to_owned(),
            prefix,
        }))
    }

    fn matches(&self, user: &User) -> bool {
        let actual = match self.attribute.as_str() {
            "username" => Some(user.username.as_str()),
            "cognito:user_status" => Some(user.status.as_str()),
            "status" => Some(if user.enabled { "Enabled" } else { "Disabled" }),
            name => user.attributes.get(name).map(String::as_str),
        };
        actual.is_some_and(|a| {
            if self.prefix {
                a.starts_with(&self.value)
            } else {
                a == self.value
            }
        })
    }
}
