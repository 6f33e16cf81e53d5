//! The stored shape of pools, app clients, users and groups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `PasswordPolicyType`. Defaults are Cognito's for a pool created without `Policies`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    #[serde(default = "default_min_length")]
    pub minimum_length: usize,
    #[serde(default)]
    pub require_uppercase: bool,
    #[serde(default)]
    pub require_lowercase: bool,
    #[serde(default)]
    pub require_numbers: bool,
    #[serde(default)]
    pub require_symbols: bool,
    #[serde(default = "default_temporary_days")]
    pub temporary_password_validity_days: i64,
}

fn default_min_length() -> usize {
    8
}

fn default_temporary_days() -> i64 {
    7
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

/// What a pool was created with. Settings this emulator does not act on (tags, schema, MFA,
/// e-mail configuration, ...) are kept verbatim in `echo` so Describe returns them.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PoolConfig {
    pub password_policy: PasswordPolicy,
    /// `UsernameAttributes`: with `email`, the username is a UUID and people sign in by e-mail.
    pub username_attributes: Vec<String>,
    pub alias_attributes: Vec<String>,
    pub auto_verified_attributes: Vec<String>,
    pub allow_admin_create_user_only: bool,
    pub echo: BTreeMap<String, Value>,
}

impl PoolConfig {
    /// Whether e-mail addresses identify users (as username or alias), and so must be unique.
    pub fn email_signs_in(&self) -> bool {
        self.username_attributes.iter().any(|a| a == "email")
            || self.alias_attributes.iter().any(|a| a == "email")
    }

    pub fn email_is_username(&self) -> bool {
        self.username_attributes.iter().any(|a| a == "email")
    }

    pub fn auto_verifies_email(&self) -> bool {
        self.auto_verified_attributes.iter().any(|a| a == "email")
    }
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub id: String,
    pub name: String,
    pub config: PoolConfig,
    pub created: i64,
    pub modified: i64,
}

/// Token lifetimes, stored in seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TokenValidity {
    pub access: i64,
    pub id: i64,
    pub refresh: i64,
}

impl Default for TokenValidity {
    fn default() -> Self {
        Self {
            access: 3600,
            id: 3600,
            refresh: 30 * 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientConfig {
    pub explicit_auth_flows: Vec<String>,
    /// `ENABLED` or `LEGACY`.
    pub prevent_user_existence_errors: String,
    pub enable_token_revocation: bool,
    pub validity: TokenValidity,
    /// The units the client was configured with, echoed back by Describe.
    pub token_validity_units: Value,
    pub echo: BTreeMap<String, Value>,
}

impl ClientConfig {
    /// Whether the client allows a flow, accepting the legacy names
    /// (`USER_PASSWORD_AUTH`) next to the `ALLOW_*` ones.
    pub fn allows(&self, flow: &str) -> bool {
        self.explicit_auth_flows
            .iter()
            .any(|f| f == flow || f.strip_prefix("ALLOW_") == Some(flow))
    }

    pub fn hides_user_existence(&self) -> bool {
        self.prevent_user_existence_errors == "ENABLED"
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub pool_id: String,
    pub name: String,
    pub secret: Option<String>,
    pub config: ClientConfig,
    pub created: i64,
    pub modified: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "UNCONFIRMED" => Some(Self::Unconfirmed),
            "CONFIRMED" => Some(Self::Confirmed),
            "FORCE_CHANGE_PASSWORD" => Some(Self::ForceChangePassword),
            _ => None,
        }
    }
}

/// The password as stored: an argon2id PHC string for USER_PASSWORD_AUTH, and the SRP salt
/// and verifier (hex) so USER_SRP_AUTH can authenticate the same account without the password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub argon2: String,
    pub srp_salt: String,
    pub srp_verifier: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub pool_id: String,
    pub username: String,
    pub attributes: BTreeMap<String, String>,
    pub status: UserStatus,
    pub enabled: bool,
    pub password_hash: Option<String>,
    pub password_set_at: i64,
    pub created: i64,
    pub modified: i64,
    pub failed_logins: i64,
    pub locked_until: i64,
}

impl User {
    /// A user as first stored: enabled, no failed sign-ins, every timestamp `now`.
    pub fn new(
        pool_id: &str,
        username: String,
        attributes: BTreeMap<String, String>,
        status: UserStatus,
        now: i64,
    ) -> Self {
        Self {
            pool_id: pool_id.to_owned(),
            username,
            attributes,
            status,
            enabled: true,
            password_hash: None,
            password_set_at: now,
            created: now,
            modified: now,
            failed_logins: 0,
            locked_until: 0,
        }
    }

    pub fn sub(&self) -> &str {
        self.attributes.get("sub").map_or("", String::as_str)
    }

    pub fn email(&self) -> Option<&str> {
        self.attributes.get("email").map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
    pub created: i64,
    pub modified: i64,
}

/// Why a one-time code was sent; also the `purpose` in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    SignUp,
    ForgotPassword,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign-up",
            Self::ForgotPassword => "forgot-password",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoredCode {
    pub code: String,
    pub expires_at: i64,
    pub attempts: i64,
}

/// One sign-in: all tokens minted from it (and its refreshes) share `origin_jti`.
#[derive(Debug, Clone)]
pub struct Session {
    pub origin_jti: String,
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub auth_time: i64,
    pub refresh_expires: i64,
    pub revoked: bool,
}
