//! The Cognito actions, grouped by who calls them, and the helpers they share.

mod account;
mod admin;
mod auth;
mod groups;
mod mfa;
mod oauth;
mod pools;
mod schema;
mod shapes;
mod signup;
mod srp;

pub(crate) use self::srp::SrpBlock;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;

use self::shapes::{CodeDeliveryDetails, Delivery};
use crate::UserPools;
use crate::error::{CognitoError, PoolStoreError};
use crate::model::{Client, CodePurpose, NewCode, Pool, User};
use crate::outbox::Message;

impl UserPools {
    /// Runs one action. Synchronous on purpose: it hashes passwords and talks to SQLite, so
    /// the wire layer calls it on a blocking thread.
    /// `signed_region` is the region of the request's SigV4 scope, where it has one: new
    /// pools are created there, as in AWS. `caller` is the client's address: the public
    /// actions that request or enter a code spend that address's allowance.
    pub(crate) fn dispatch(
        &self,
        action: &str,
        body: Value,
        signed_region: Option<&str>,
        caller: Option<IpAddr>,
    ) -> Result<Value, CognitoError> {
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
                .and_then(|client| self.store.client(client).ok().flatten())
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

    /// A code step (requesting or entering a code about `name`) within `code.caller`'s
    /// allowance: a request is counted before it runs, a wrong code after. Without an
    /// address (a router called in-process) only each user's allowance applies.
    pub(crate) fn within_allowance<T>(
        &self,
        code: &CodeRequest<'_>,
        step: CodeStep,
        run: impl FnOnce() -> Result<T, CognitoError>,
    ) -> Result<T, CognitoError> {
        let Some(caller) = code.caller else {
            return run();
        };
        let allowance = self
            .attempts
            .caller_codes(caller, code.pool_id, code.name, code.purpose);
        let now = self.now();
        match step {
            CodeStep::Request => allowance.request(now)?,
            CodeStep::Entry => allowance.may_enter(now)?,
        }
        let result = run();
        if matches!(result, Err(CognitoError::CodeMismatch)) {
            allowance.wrong(now);
        }
        result
    }

    fn run(
        &self,
        action: &str,
        body: Value,
        signed_region: Option<&str>,
    ) -> Result<Value, CognitoError> {
        match action {
            "CreateUserPool" => call(body, |r| self.create_user_pool(r, signed_region)),
            "DescribeUserPool" => call(body, |r| self.describe_user_pool(r)),
            "ListUserPools" => call(body, |r| self.list_user_pools(r)),
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
            other => Err(CognitoError::UnknownOperation(format!(
                "The local user pool does not implement {other}"
            ))),
        }
    }

    fn pool(&self, pool_id: &str) -> Result<Pool, CognitoError> {
        self.store
            .pool(pool_id)?
            .ok_or_else(|| CognitoError::pool_not_found(pool_id))
    }

    /// The app client and its pool, for the public (client-id authenticated) actions.
    pub(crate) fn client(&self, client_id: &str) -> Result<(Client, Pool), CognitoError> {
        let client = self
            .store
            .client(client_id)?
            .ok_or_else(|| CognitoError::client_not_found(client_id))?;
        let pool = self.pool(&client.pool_id)?;
        Ok((client, pool))
    }

    /// An app client of the pool named in a signed (admin) action.
    fn pool_client(&self, pool_id: &str, client_id: &str) -> Result<(Client, Pool), CognitoError> {
        let pool = self.pool(pool_id)?;
        let client = self
            .store
            .client(client_id)?
            .filter(|c| c.pool_id == pool.id)
            .ok_or_else(|| CognitoError::client_not_found(client_id))?;
        Ok((client, pool))
    }

    /// The pool an admin action names and the user in it, where existence is never hidden.
    fn admin_user(&self, pool_id: &str, username: &str) -> Result<(Pool, User), CognitoError> {
        let pool = self.pool(pool_id)?;
        let user = self
            .store
            .find_user(pool_id, username)?
            .ok_or(CognitoError::UserNotFound)?;
        Ok((pool, user))
    }

    /// Stores a changed user, stamped with the time of the change.
    fn save_user(&self, user: &mut User) -> Result<(), CognitoError> {
        user.modified = self.now();
        self.store.update_user(user)?;
        Ok(())
    }

    /// E-mails a new code for `purpose`; returns `CodeDeliveryDetails`. Each user may
    /// request only so many codes an hour.
    fn send_code(&self, user: &User, purpose: CodePurpose) -> Result<Delivery, CognitoError> {
        let code = self.issue_code(user, purpose)?;
        self.store.put_code(user, &code)?;
        Ok(self.deliver_code(user, &code))
    }

    /// A fresh code for `user`, charged to its allowance of codes; not yet stored or sent.
    fn issue_code(&self, user: &User, purpose: CodePurpose) -> Result<NewCode, CognitoError> {
        let now = self.now();
        self.attempts
            .codes(&user.pool_id, &user.username, purpose)
            .request(now)?;
        let ttl = match purpose {
            CodePurpose::SignUp | CodePurpose::VerifyEmail => self.tuning.sign_up_code_ttl,
            CodePurpose::ForgotPassword => self.tuning.reset_code_ttl,
        };
        Ok(NewCode {
            purpose,
            code: crate::random::code(),
            expires_at: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
        })
    }

    /// "E-mails" a stored code: the outbox's log line and file.
    fn deliver_code(&self, user: &User, code: &NewCode) -> Delivery {
        self.outbox.send(&Message {
            user,
            purpose: code.purpose.as_str(),
            code: &code.code,
            now: self.now(),
        });
        delivery(user.email().unwrap_or_default())
    }

    /// The answer to a code request that must not reveal whether `name` can get a code (an
    /// unknown user, or one in no state to get one): the same allowance (that of `user`, the
    /// internal username if known) is charged and a delivery to `name` is reported, but
    /// nothing is sent.
    fn pretend_code_sent(
        &self,
        pool_id: &str,
        user: &str,
        name: &str,
        purpose: CodePurpose,
    ) -> Result<Delivery, CognitoError> {
        self.attempts
            .codes(pool_id, user, purpose)
            .request(self.now())?;
        Ok(delivery(name))
    }

    /// The user a code is being entered for. While the client hides user existence, an
    /// unknown user (or one `eligible` refuses) gets what a wrong code gets, and uses up the
    /// same hourly allowance of wrong codes.
    fn code_user(
        &self,
        client: &Client,
        pool: &Pool,
        name: &str,
        purpose: CodePurpose,
        eligible: impl FnOnce(&User) -> Result<(), CognitoError>,
    ) -> Result<User, CognitoError> {
        let hides = client.config.hides_user_existence();
        match self.store.find_user(&pool.id, name)? {
            Some(user) => match eligible(&user) {
                Ok(()) => Ok(user),
                Err(_) if hides => Err(self.wrong_code(&pool.id, &user.username, purpose)),
                Err(refused) => Err(refused),
            },
            None if hides => Err(self.wrong_code(&pool.id, name, purpose)),
            None => Err(CognitoError::UserNotFound),
        }
    }

    /// The answer to a wrong code, counted against the hourly allowance of `user`.
    fn wrong_code(&self, pool_id: &str, user: &str, purpose: CodePurpose) -> CognitoError {
        let (codes, now) = (self.attempts.codes(pool_id, user, purpose), self.now());
        match codes.may_enter(now) {
            Ok(()) => {
                codes.wrong(now);
                CognitoError::CodeMismatch
            }
            Err(limit) => limit,
        }
    }

    /// Checks a code and consumes it. Each user may enter only so many wrong codes an hour,
    /// and a new code does not renew that; a code whose own wrong guesses ran out is dead,
    /// refusing even the right value, until a new one is requested.
    fn redeem_code(
        &self,
        user: &User,
        purpose: CodePurpose,
        given: &str,
    ) -> Result<(), CognitoError> {
        let (pool_id, username) = (&user.pool_id, &user.username);
        self.attempts
            .codes(pool_id, username, purpose)
            .may_enter(self.now())?;
        // No code, or a dead one, answers as a wrong code does: a user who never asked for
        // a code must look like one who does not exist.
        let stored = match self.store.code(user, purpose)? {
            Some(stored) if stored.attempts < self.tuning.max_code_attempts => stored,
            _ => return Err(self.wrong_code(pool_id, username, purpose)),
        };
        if stored.expires_at <= self.now() {
            return Err(CognitoError::ExpiredCode);
        }
        if !constant_time_eq(stored.code.as_bytes(), given.trim().as_bytes()) {
            self.store.count_code_attempt(user, purpose)?;
            return Err(self.wrong_code(pool_id, username, purpose));
        }
        self.store.delete_code(user, purpose)?;
        Ok(())
    }
}

/// A new user's internal username, with `sub` (and, where the pool signs in by e-mail,
/// `email`) added to `attrs`. In such a pool the given username must be an address and the
/// internal username is the `sub`, as in Cognito.
fn new_identity(
    pool: &Pool,
    given: &str,
    attrs: &mut BTreeMap<String, String>,
) -> Result<String, CognitoError> {
    if given.chars().count() > MAX_USERNAME {
        return Err(too_long("username", MAX_USERNAME));
    }
    let sub = crate::random::uuid();
    let by_email = pool.config.email_is_username();
    let by_phone = pool.config.phone_is_username();
    let username = if by_email && is_email(given) {
        attrs.insert("email".into(), given.to_owned());
        sub.clone()
    } else if by_phone && looks_like_phone(given) {
        attrs.insert("phone_number".into(), given.to_owned());
        sub.clone()
    } else if by_email || by_phone {
        let wanted = match (by_email, by_phone) {
            (true, true) => "Username should be either an email or a phone number.",
            (true, false) => "Username should be an email.",
            _ => "Username should be a phone number.",
        };
        return Err(CognitoError::InvalidParameter(wanted.into()));
    } else {
        given.to_owned()
    };
    attrs.insert("sub".into(), sub);
    Ok(username)
}

/// Cognito's longest username, attribute name and attribute value, and e-mail address.
const MAX_USERNAME: usize = 128;
const MAX_ATTRIBUTE_NAME: usize = 32;
const MAX_ATTRIBUTE_VALUE: usize = 2048;
const MAX_EMAIL: usize = 256;
/// The most a user's attributes may hold in all (names and values, in bytes). Cognito sets
/// no such total, but every attribute goes into the ID token: beyond this the token would
/// outgrow the headers API Gateway takes, and a stranger could fill the disk 100 KB per
/// sign-up. A real profile (name, e-mail, address, a few custom values) is a few hundred.
const MAX_USER_ATTRIBUTES: usize = 8 * 1024;

/// Refuses a user's whole attribute set when it is over [`MAX_USER_ATTRIBUTES`].
fn check_total(attrs: &BTreeMap<String, String>) -> Result<(), CognitoError> {
    let total: usize = attrs
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if total > MAX_USER_ATTRIBUTES {
        return Err(CognitoError::InvalidParameter(format!(
            "Attributes did not conform to the schema: a user's attributes may hold at most \
             {MAX_USER_ATTRIBUTES} bytes in all, these hold {total}"
        )));
    }
    Ok(())
}

/// Cognito's validation error for a member that is too long.
fn too_long(member: &str, max: usize) -> CognitoError {
    CognitoError::InvalidParameter(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: \
         Member must have length less than or equal to {max}"
    ))
}

/// Whether `s` is an e-mail address: one `@`, a local part of RFC 5322 "atext" (or
/// letters and digits of any script) in dot-separated runs, a domain of at least two
/// dot-separated labels of letters, digits and inner hyphens, no control characters, and
/// at most 256 characters.
pub(super) fn is_email(s: &str) -> bool {
    const ATEXT: &str = "!#$%&'*+/=?^_`{|}~-";
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = local.len() <= 64
        && local.split('.').all(|run| {
            !run.is_empty()
                && run
                    .chars()
                    .all(|c| c.is_alphanumeric() || (c.is_ascii() && ATEXT.contains(c)))
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    s.chars().count() <= MAX_EMAIL && local_ok && domain_ok
}

/// E.164, as Cognito requires of phone numbers: `+`, then 2 to 15 digits, the first not 0.
fn looks_like_phone(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// The lowercased e-mail that must be unique in the pool, where e-mail addresses sign in.
///
/// In a pool whose users sign in with a phone number instead, the same unique alias column
/// holds the number (one sign-in alias per user).
pub(super) fn alias_email(pool: &Pool, user: &User) -> Option<String> {
    if pool.config.email_signs_in()
        && let Some(email) = user.email()
    {
        return Some(email.to_lowercase());
    }
    pool.config
        .phone_is_username()
        .then(|| user.attributes.get("phone_number").cloned())
        .flatten()
}

/// Decodes a request, runs an action on it and encodes its answer.
fn call<Req, Resp>(
    body: Value,
    action: impl FnOnce(Req) -> Result<Resp, CognitoError>,
) -> Result<Value, CognitoError>
where
    Req: DeserializeOwned,
    Resp: Serialize,
{
    let response = action(parse(body)?)?;
    Ok(serde_json::to_value(response).map_err(PoolStoreError::from)?)
}

/// Decodes a request. Unknown members are ignored (clients send extras such as
/// `ClientMetadata`); a missing or mistyped member is Cognito's validation error.
fn parse<T: DeserializeOwned>(body: Value) -> Result<T, CognitoError> {
    serde_json::from_value(body)
        .map_err(|e| CognitoError::InvalidParameter(format!("1 validation error detected: {e}")))
}

/// The answer for a code e-mailed to `email`.
fn delivery(email: &str) -> Delivery {
    Delivery {
        code_delivery_details: CodeDeliveryDetails::email(email, "email"),
    }
}

/// Compares secrets without leaking, through timing, how much of a guess was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Verifies `SECRET_HASH` for clients that have a secret:
/// `Base64(HMAC_SHA256(secret, username + client_id))`.
fn check_secret_hash(
    client: &Client,
    username: &str,
    given: Option<&str>,
) -> Result<(), CognitoError> {
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
        _ => Err(CognitoError::NotAuthorized(format!(
            "Unable to verify secret hash for client {}",
            client.id
        ))),
    }
}

/// Whether a code flow's step asks for a code or enters one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CodeStep {
    Request,
    Entry,
}

/// Who sends a code step, about whom: a client address, a pool and a name as given.
pub(crate) struct CodeRequest<'a> {
    pub caller: Option<IpAddr>,
    pub pool_id: &'a str,
    pub name: &'a str,
    pub purpose: CodePurpose,
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

/// Validates user-supplied attributes against the pool's schema (standard names, and the
/// `custom:*` ones it declares) and their total size.
fn attributes(
    pool: &Pool,
    list: Option<Vec<Attribute>>,
) -> Result<BTreeMap<String, String>, CognitoError> {
    let mut out = BTreeMap::new();
    for (index, attribute) in list.unwrap_or_default().into_iter().enumerate() {
        let member = |part: &str| format!("userAttributes.{}.member.{part}", index + 1);
        if attribute.name.chars().count() > MAX_ATTRIBUTE_NAME {
            return Err(too_long(&member("name"), MAX_ATTRIBUTE_NAME));
        }
        let value = attribute.value.unwrap_or_default();
        if value.chars().count() > MAX_ATTRIBUTE_VALUE {
            return Err(too_long(&member("value"), MAX_ATTRIBUTE_VALUE));
        }
        let name = attribute.name;
        if name == "sub" {
            return Err(CognitoError::InvalidParameter(
                "Attributes did not conform to the schema: sub: Attribute cannot be written".into(),
            ));
        }
        if !STANDARD_ATTRIBUTES.contains(&name.as_str()) && !name.starts_with("custom:") {
            return Err(CognitoError::InvalidParameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        }
        if name == "email" && !is_email(&value) {
            return Err(CognitoError::InvalidParameter(
                "Invalid email address format.".into(),
            ));
        }
        schema::check_value(&pool.config.schema, &name, &value)?;
        out.insert(name, value);
    }
    check_total(&out)?;
    Ok(out)
}

/// Cognito's string maps may carry JSON nulls (amazon-cognito-identity-js sends
/// `DEVICE_KEY: null`); those count as absent.
type Params = HashMap<String, Option<String>>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).and_then(|v| v.as_deref())
}

fn required_param<'a>(params: &'a Params, name: &str) -> Result<&'a str, CognitoError> {
    param(params, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CognitoError::InvalidParameter(format!("Missing required parameter {name}")))
}

/// One page of `items`, with the token for the next. Tokens are plain offsets: local state is
/// small and ordered by creation.
fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: Option<usize>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), CognitoError> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| CognitoError::InvalidParameter("Invalid pagination token".into()))?,
    };
    let limit = limit.unwrap_or(max);
    if limit == 0 || limit > max {
        return Err(CognitoError::InvalidParameter(format!(
            "1 validation error detected: Value '{limit}' failed to satisfy constraint: \
             Member must have value between 1 and {max}"
        )));
    }
    let total = items.len();
    let chosen: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + limit < total).then(|| (start + limit).to_string());
    Ok((chosen, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked_as_cognito_would() {
        for good in [
            "test@example.com",
            "first.last+tag@sub.example.co.uk",
            "o'neil@x-y.org",
            "jörg@bücher.de",
        ] {
            assert!(is_email(good), "{good}");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        for bad in [
            "a@@b.com",
            "a@b.com\0",
            "a\u{0}@b.com",
            "<script>alert(1)</script>@x.com",
            "a b@x.com",
            "a@localhost",
            "a@x.c",
            "a@-x.com",
            ".a@x.com",
            "a..b@x.com",
            "a@x..com",
            "a@1.2.3.4",
            "@x.com",
            long.as_str(),
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn attributes_are_bounded() {
        let pool = Pool {
            id: "us-east-1_test".into(),
            name: "test".into(),
            config: crate::model::PoolConfig::default(),
            created: 0,
            modified: 0,
        };
        let one = |name: &str, value: String| {
            attributes(
                &pool,
                Some(vec![Attribute {
                    name: name.into(),
                    value: Some(value),
                }]),
            )
        };
        assert!(one("name", "x".repeat(2048)).is_ok());
        let error = one("name", "x".repeat(2049)).unwrap_err();
        assert!(
            error.to_string().contains("userAttributes.1.member.value"),
            "{error}"
        );
        assert!(one(&format!("custom:{}", "n".repeat(30)), "v".into()).is_err());
        assert!(one("email", "a@@b.com".into()).is_err());
        assert!(one("email", "a@b.com".into()).is_ok());
    }

    #[test]
    fn only_declared_custom_attributes_are_written_and_a_user_holds_8_kib_at_most() {
        let mut pool = Pool {
            id: "us-east-1_test".into(),
            name: "test".into(),
            config: crate::model::PoolConfig::default(),
            created: 0,
            modified: 0,
        };
        let write = |pool: &Pool, list: &[(&str, String)]| {
            let list = list
                .iter()
                .map(|(name, value)| Attribute {
                    name: (*name).into(),
                    value: Some(value.clone()),
                })
                .collect();
            attributes(pool, Some(list))
        };
        let undeclared = write(&pool, &[("custom:team", "blue".into())]).unwrap_err();
        assert_eq!(undeclared.type_name(), "InvalidParameterException");
        assert!(
            undeclared
                .to_string()
                .contains("{custom:team} could not be determined"),
            "{undeclared}"
        );
        let declared: Vec<crate::model::SchemaAttribute> =
            serde_json::from_value(serde_json::json!([
                {"Name": "team", "AttributeDataType": "String",
                 "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "8"}},
                {"Name": "level", "AttributeDataType": "Number",
                 "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "9"}},
            ]))
            .unwrap();
        schema::add_custom(&mut pool.config.schema, declared.clone()).unwrap();
        assert!(
            schema::add_custom(&mut pool.config.schema, declared).is_err(),
            "a name the pool has already"
        );
        assert!(
            write(
                &pool,
                &[("custom:team", "blue".into()), ("custom:level", "3".into())]
            )
            .is_ok()
        );
        for bad in [
            ("custom:team", "x".repeat(9)),
            ("custom:team", String::new()),
            ("custom:level", "10".into()),
            ("custom:level", "three".into()),
        ] {
            assert!(write(&pool, std::slice::from_ref(&bad)).is_err(), "{bad:?}");
        }
        // Standard attributes of 2,048 characters each, but 8 KiB in all at most.
        let big = "x".repeat(2000);
        let four: Vec<(&str, String)> = ["name", "nickname", "address", "profile"]
            .into_iter()
            .map(|name| (name, big.clone()))
            .collect();
        assert!(write(&pool, &four).is_ok());
        let five = [four.as_slice(), &[("website", big.clone())]].concat();
        let refused = write(&pool, &five).unwrap_err();
        assert!(
            refused.to_string().contains("at most 8192 bytes"),
            "{refused}"
        );
    }
}
