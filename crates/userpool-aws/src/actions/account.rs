//! A user's account after sign-up: attributes and their verification, deleting the account,
//! and the administrator's actions on passwords, attributes and sessions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::auth::Bearer;
use super::shapes::Empty;
use super::{Attribute, alias_email, attributes, is_email};
use crate::door::AwsDoor;
use taskapi_userpool::codes::{CodeDeliveryDetails, Delivery};
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{CodePurpose, Pool, User, UserStatus};
use taskapi_userpool::password::{self, Setter};
use taskapi_userpool::schema;
use taskapi_userpool::store::Sessions;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateUserAttributes {
    access_token: String,
    user_attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttributeCodeRequest {
    access_token: String,
    attribute_name: String,
    code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteUserAttributes {
    access_token: String,
    user_attribute_names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AccessToken {
    access_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminUpdateUserAttributes {
    user_pool_id: String,
    username: String,
    user_attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminDeleteUserAttributes {
    user_pool_id: String,
    username: String,
    user_attribute_names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminSetUserPassword {
    user_pool_id: String,
    username: String,
    password: String,
    #[serde(default)]
    permanent: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AdminUserRef {
    user_pool_id: String,
    username: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateAttributesResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_delivery_details_list: Vec<CodeDeliveryDetails>,
}

/// Who is changing attributes: users may not mark their own addresses verified.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Editor {
    User,
    Admin,
}

impl AwsDoor {
    pub(super) fn update_user_attributes(
        &self,
        req: UpdateUserAttributes,
    ) -> Result<UpdateAttributesResponse, PoolError> {
        let Bearer { pool, user } = self.bearer(&req.access_token)?;
        let updates = attributes(&pool, Some(req.user_attributes))?;
        self.apply_updates(&pool, user, updates, Editor::User)
    }

    pub(super) fn admin_update_user_attributes(
        &self,
        req: AdminUpdateUserAttributes,
    ) -> Result<Empty, PoolError> {
        let (pool, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        let updates = attributes(&pool, Some(req.user_attributes))?;
        self.apply_updates(&pool, user, updates, Editor::Admin)?;
        Ok(Empty {})
    }

    /// Writes attribute changes. A changed e-mail address is unverified until its code is
    /// confirmed (unless an administrator marks it verified in the same call), must stay
    /// unique where addresses sign in, and gets a code where the pool verifies e-mail.
    fn apply_updates(
        &self,
        pool: &Pool,
        mut user: User,
        updates: BTreeMap<String, String>,
        editor: Editor,
    ) -> Result<UpdateAttributesResponse, PoolError> {
        let old_email = user.email().map(str::to_lowercase);
        for (name, value) in updates {
            let verified_flag = name == "email_verified" || name == "phone_number_verified";
            if verified_flag && editor == Editor::User {
                return Err(PoolError::NotAuthorized(format!(
                    "A client attempted to write unauthorized attribute {name}"
                )));
            }
            user.attributes.insert(name, value);
        }
        super::check_total(&user.attributes)?;
        let new_email = user.email().map(str::to_lowercase);
        let email_changed = new_email != old_email;
        if email_changed {
            if let Some(email) = user.email()
                && pool.config.email_signs_in()
                && !is_email(email)
            {
                return Err(PoolError::InvalidParameter(
                    "Invalid email address format.".into(),
                ));
            }
            let marked_verified =
                editor == Editor::Admin && user.email_verified() && old_email.is_some();
            if !marked_verified {
                user.attributes
                    .insert("email_verified".into(), "false".into());
            }
            let alias = alias_email(pool, &user);
            if !self
                .store()
                .set_alias_email(&pool.id, &user.username, alias.as_deref())?
            {
                return Err(PoolError::AliasExists);
            }
        }
        self.save_user(&mut user)?;
        let unverified = !user.email_verified();
        let mut sent = Vec::new();
        if email_changed
            && unverified
            && user.email().is_some()
            && pool.config.auto_verifies_email()
        {
            sent.push(
                self.send_code(&user, CodePurpose::VerifyEmail)?
                    .code_delivery_details,
            );
        }
        Ok(UpdateAttributesResponse {
            code_delivery_details_list: sent,
        })
    }

    pub(super) fn get_user_attribute_verification_code(
        &self,
        req: AttributeCodeRequest,
    ) -> Result<Delivery, PoolError> {
        let Bearer { user, .. } = self.bearer(&req.access_token)?;
        require_email_attribute(&req.attribute_name)?;
        if user.email().is_none() {
            return Err(PoolError::InvalidParameter(
                "The user has no email attribute to verify.".into(),
            ));
        }
        self.send_code(&user, CodePurpose::VerifyEmail)
    }

    pub(super) fn verify_user_attribute(
        &self,
        req: AttributeCodeRequest,
    ) -> Result<Empty, PoolError> {
        let Bearer { mut user, .. } = self.bearer(&req.access_token)?;
        require_email_attribute(&req.attribute_name)?;
        let code = req
            .code
            .as_deref()
            .ok_or_else(|| PoolError::InvalidParameter("Missing required parameter Code".into()))?;
        self.redeem_code(&user, CodePurpose::VerifyEmail, code)?;
        user.attributes
            .insert("email_verified".into(), "true".into());
        self.save_user(&mut user)?;
        Ok(Empty {})
    }

    pub(super) fn delete_user_attributes(
        &self,
        req: DeleteUserAttributes,
    ) -> Result<Empty, PoolError> {
        let Bearer { pool, user } = self.bearer(&req.access_token)?;
        self.remove_attributes(&pool, user, &req.user_attribute_names)
    }

    pub(super) fn admin_delete_user_attributes(
        &self,
        req: AdminDeleteUserAttributes,
    ) -> Result<Empty, PoolError> {
        let (pool, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        self.remove_attributes(&pool, user, &req.user_attribute_names)
    }

    fn remove_attributes(
        &self,
        pool: &Pool,
        mut user: User,
        names: &[String],
    ) -> Result<Empty, PoolError> {
        // Every name outside the schema is listed, each on a line, as Cognito lists them.
        let unknown: String = names
            .iter()
            .filter(|name| !schema::exists(&pool.config.schema, name))
            .map(|name| format!("user.{name}: Attribute does not exist in the schema.\n"))
            .collect();
        if !unknown.is_empty() {
            return Err(PoolError::InvalidParameter(format!(
                "Invalid user attributes: {unknown}"
            )));
        }
        for name in names {
            if name == "sub" || (name == "email" && pool.config.email_is_username()) {
                return Err(PoolError::InvalidParameter(format!(
                    "Cannot delete the required attribute {name}"
                )));
            }
        }
        for name in names {
            user.attributes.remove(name);
            if name == "email" {
                user.attributes.remove("email_verified");
                self.store()
                    .set_alias_email(&pool.id, &user.username, None)?;
            }
        }
        self.save_user(&mut user)?;
        Ok(Empty {})
    }

    /// DeleteUser: the account and its sessions go (its tokens stop working here); what
    /// the API stored for the user stays, as on AWS where the table is separate.
    pub(super) fn delete_user(&self, req: AccessToken) -> Result<Empty, PoolError> {
        let Bearer { user, .. } = self.bearer(&req.access_token)?;
        self.store().delete_user(&user.pool_id, &user.username)?;
        Ok(Empty {})
    }

    pub(super) fn admin_set_user_password(
        &self,
        req: AdminSetUserPassword,
    ) -> Result<Empty, PoolError> {
        let (pool, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        password::check(&pool.config.password_policy, &req.password, Setter::Admin)?;
        let credentials = self.derive_password(&pool.id, &user.username, &req.password)?;
        let status = if req.permanent {
            UserStatus::Confirmed
        } else {
            UserStatus::ForceChangePassword
        };
        self.store().set_password(
            &pool.id,
            &user.username,
            &credentials,
            status,
            self.now(),
            Sessions::End,
        )?;
        Ok(Empty {})
    }

    /// AdminResetUserPassword: the user must choose a new password with an e-mailed code
    /// (ConfirmForgotPassword) before signing in again.
    pub(super) fn admin_reset_user_password(&self, req: AdminUserRef) -> Result<Empty, PoolError> {
        let (_, mut user) = self.admin_user(&req.user_pool_id, &req.username)?;
        if user.email().is_none() {
            return Err(PoolError::InvalidParameter(
                "Cannot reset password for the user as there is no registered/verified email or phone_number"
                    .into(),
            ));
        }
        if user.status != UserStatus::Unconfirmed {
            user.status = UserStatus::ResetRequired;
        }
        self.save_user(&mut user)?;
        // Whoever knew the old password is signed out with it.
        self.store()
            .revoke_user_sessions(&user.pool_id, &user.username)?;
        self.send_code(&user, CodePurpose::ForgotPassword)?;
        Ok(Empty {})
    }

    pub(super) fn admin_user_global_sign_out(&self, req: AdminUserRef) -> Result<Empty, PoolError> {
        let (pool, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        self.store()
            .revoke_user_sessions(&pool.id, &user.username)?;
        Ok(Empty {})
    }
}

fn require_email_attribute(name: &str) -> Result<(), PoolError> {
    if name == "email" {
        Ok(())
    } else {
        Err(PoolError::InvalidParameter(format!(
            "The local user pool verifies only email, not {name}"
        )))
    }
}
