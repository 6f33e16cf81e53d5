//! User migration: a sign-in or a password reset by a username the pool does not know asks
//! the `UserMigration` function for the user, and the user it returns is created here.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Event, InvokeError, Trigger};
use crate::UserPools;
use crate::error::PoolError;
use crate::identity::{alias_email, new_identity};
use crate::model::{Client, Pool, User, UserStatus};

impl UserPools {
    /// `UserMigration_Authentication`: the function vouches for `name` and `password`; the
    /// user it describes is created with that password. `None` when the pool has no
    /// migration function.
    pub fn migrate_on_sign_in(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        password: &str,
        validation: Option<&Map<String, Value>>,
    ) -> Result<Option<User>, PoolError> {
        let request = json!({
            "password": password,
            "validationData": validation.cloned().unwrap_or_default(),
        });
        let Some(response) =
            self.migration(client, pool, name, "UserMigration_Authentication", request)?
        else {
            return Ok(None);
        };
        let status = match response["finalUserStatus"].as_str() {
            Some("RESET_REQUIRED") => UserStatus::ResetRequired,
            _ => UserStatus::Confirmed,
        };
        self.create_migrated(pool, name, &response, status, Some(password))
            .map(Some)
    }

    /// `UserMigration_ForgotPassword`: the function vouches for `name`; the user is created
    /// without a password, to set one with the code that is sent next.
    pub fn migrate_on_forgot_password(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
    ) -> Result<Option<User>, PoolError> {
        let request = json!({ "validationData": {} });
        let Some(response) =
            self.migration(client, pool, name, "UserMigration_ForgotPassword", request)?
        else {
            return Ok(None);
        };
        self.create_migrated(pool, name, &response, UserStatus::ResetRequired, None)
            .map(Some)
    }

    /// Invokes the function. Its refusal (an error it throws: the user is not in the old
    /// system, or the password is wrong) is the answer an unknown user gets.
    fn migration(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        source: &'static str,
        request: Value,
    ) -> Result<Option<Value>, PoolError> {
        let event = Event {
            trigger: Trigger::UserMigration,
            source,
            user_name: name,
            client_id: Some(&client.id),
            request,
        };
        match self.invoke_trigger(pool, event) {
            Err(PoolError::UserLambdaValidation(_)) if client.config.hides_user_existence() => {
                Err(PoolError::incorrect_credentials())
            }
            Err(PoolError::UserLambdaValidation(_)) => Err(PoolError::UserNotFound),
            other => other,
        }
    }

    /// Stores the user a migration function described, under the name signed in with, with
    /// the password it vouched for (none for a password reset).
    fn create_migrated(
        &self,
        pool: &Pool,
        name: &str,
        response: &Value,
        status: UserStatus,
        password: Option<&str>,
    ) -> Result<User, PoolError> {
        let mut attrs: BTreeMap<String, String> = match &response["userAttributes"] {
            Value::Null => BTreeMap::new(),
            Value::Object(given) => given
                .iter()
                .filter(|(k, _)| k.as_str() != "sub" && k.as_str() != "username")
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(super::failed(
                        Trigger::UserMigration,
                        InvokeError::Unreadable,
                    )),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(super::unrecognizable()),
        };
        let username = new_identity(pool, name, &mut attrs)?;
        let user = User::new(&pool.id, username, attrs, status, self.now());
        let credentials = password
            .map(|password| self.derive_password(&pool.id, &user.username, password))
            .transpose()?;
        let alias = alias_email(pool, &user);
        if !self
            .store
            .insert_user(&user, alias.as_deref(), credentials.as_ref())?
        {
            return Err(PoolError::UsernameExists("User already exists".into()));
        }
        // Read back: the stored user carries its password hash and SRP verifier.
        self.store
            .find_user(&pool.id, &user.username)?
            .ok_or(PoolError::UserNotFound)
    }
}
