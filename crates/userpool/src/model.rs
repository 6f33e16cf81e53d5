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

impl PasswordPolicy {
    /// The policy of the pool `taskapi serve` creates on first start: at least ten
    /// characters, with upper- and lower-case letters and digits.
    pub const SEED: Self = Self {
        minimum_length: 10,
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_symbols: false,
        temporary_password_validity_days: 7,
    };
}

/// What a pool was created with. Members kept only to be returned (tags, e-mail and
/// message settings, Lambda triggers, ...) are kept verbatim in `echo`, so Describe returns
/// them as sent; two of them are also read there, each through one typed accessor:
/// `DeletionProtection` ([`PoolConfig::deletion_protected`]) and `AccountRecoverySetting`
/// ([`PoolConfig::recovery_is_admin_only`]).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct PoolConfig {
    pub password_policy: PasswordPolicy,
    /// `UsernameAttributes`: with `email`, the username is a UUID and people sign in by e-mail.
    pub username_attributes: Vec<String>,
    pub alias_attributes: Vec<String>,
    pub auto_verified_attributes: Vec<String>,
    pub allow_admin_create_user_only: bool,
    #[serde(default)]
    pub mfa_configuration: MfaConfiguration,
    /// Whether software-token (TOTP) MFA is enabled for the pool (SetUserPoolMfaConfig).
    #[serde(default)]
    pub software_token_mfa: bool,
    /// The `Schema` the pool was created with (standard attributes it changed, custom ones).
    #[serde(default)]
    pub schema: Vec<SchemaAttribute>,
    pub echo: BTreeMap<String, Value>,
}

/// `SchemaAttributeType`, as requested and as described.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaAttribute {
    pub name: String,
    /// Empty when a request leaves it out: a standard attribute then keeps its own type,
    /// and a custom one is refused, as Cognito does. Stored schemas always carry it.
    #[serde(default)]
    pub attribute_data_type: String,
    #[serde(default)]
    pub developer_only_attribute: bool,
    #[serde(default = "yes")]
    pub mutable: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_attribute_constraints: Option<StringBound>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_attribute_constraints: Option<NumberBound>,
}

/// Cognito sends both kinds of bounds as decimal strings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct StringBound {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NumberBound {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<String>,
}

fn yes() -> bool {
    true
}

/// `MfaConfiguration`: whether users sign in with a second factor.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaConfiguration {
    #[default]
    Off,
    /// Users who set up a factor use it.
    Optional,
    /// Every user must; those without a factor set one up at sign-in (`MFA_SETUP`).
    On,
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

    pub fn phone_is_username(&self) -> bool {
        self.username_attributes.iter().any(|a| a == "phone_number")
    }

    pub fn auto_verifies_email(&self) -> bool {
        self.auto_verified_attributes.iter().any(|a| a == "email")
    }

    /// `DeletionProtection` is `ACTIVE`: DeleteUserPool is refused.
    pub fn deletion_protected(&self) -> bool {
        self.echo.get("DeletionProtection").and_then(Value::as_str) == Some("ACTIVE")
    }

    /// `AccountRecoverySetting` with `admin_only`: users cannot reset their own password.
    pub fn recovery_is_admin_only(&self) -> bool {
        self.echo
            .get("AccountRecoverySetting")
            .and_then(|s| s.get("RecoveryMechanisms"))
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|m| m["Name"] == "admin_only"))
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
    /// The hosted UI's settings; absent in clients stored before it existed.
    #[serde(default)]
    pub oauth: OAuthSettings,
}

/// An app client's OAuth 2.0 settings (`CallbackURLs`, `AllowedOAuthFlows`, ...).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct OAuthSettings {
    pub callback_urls: Vec<String>,
    pub logout_urls: Vec<String>,
    pub default_redirect_uri: Option<String>,
    /// `code`, `implicit`, `client_credentials`.
    pub flows: Vec<String>,
    pub scopes: Vec<String>,
    /// `AllowedOAuthFlowsUserPoolClient`: without it no OAuth flow is allowed.
    pub enabled: bool,
    pub identity_providers: Vec<String>,
}

impl ClientConfig {
    /// `AuthSessionValidity`, in minutes, where the client was configured with one: how
    /// long an SRP exchange (its SECRET_BLOCK) may be answered.
    pub fn auth_session_minutes(&self) -> Option<i64> {
        self.echo.get("AuthSessionValidity").and_then(Value::as_i64)
    }

    /// Whether the client allows a flow (`USER_SRP_AUTH`, `REFRESH_TOKEN_AUTH`,
    /// `ADMIN_USER_PASSWORD_AUTH`, ...). As in Cognito, the legacy names (`USER_PASSWORD_AUTH`,
    /// `ADMIN_NO_SRP_AUTH`, `CUSTOM_AUTH_FLOW_ONLY`) allow their flow, and a client configured
    /// with any of them also allows SRP and refresh.
    pub fn allows(&self, flow: &str) -> bool {
        let legacy = self
            .explicit_auth_flows
            .iter()
            .any(|f| !f.starts_with("ALLOW_"));
        self.explicit_auth_flows.iter().any(|f| {
            f == flow
                || f.strip_prefix("ALLOW_") == Some(flow)
                || (f == "ADMIN_NO_SRP_AUTH" && flow == "ADMIN_USER_PASSWORD_AUTH")
        }) || (legacy && matches!(flow, "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH"))
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
    /// AdminResetUserPassword: the user must set a new password with a code first.
    ResetRequired,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            Self::ResetRequired => "RESET_REQUIRED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "UNCONFIRMED" => Some(Self::Unconfirmed),
            "CONFIRMED" => Some(Self::Confirmed),
            "FORCE_CHANGE_PASSWORD" => Some(Self::ForceChangePassword),
            "RESET_REQUIRED" => Some(Self::ResetRequired),
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
    /// SRP salt and verifier (hex), stored with every password.
    pub srp_salt: Option<String>,
    pub srp_verifier: Option<String>,
    pub totp: Totp,
}

/// A user's software token (authenticator app): the verified secret, one associated but not
/// yet verified, whether it is enabled for sign-in, and the last 30-second step whose code
/// was used (each code signs in once).
#[derive(Debug, Clone, Default)]
pub struct Totp {
    pub secret: Option<String>,
    pub pending: Option<String>,
    pub enabled: bool,
    pub last_step: i64,
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
            srp_salt: None,
            srp_verifier: None,
            totp: Totp::default(),
        }
    }

    pub fn sub(&self) -> &str {
        self.attributes.get("sub").map_or("", String::as_str)
    }

    pub fn email(&self) -> Option<&str> {
        self.attributes.get("email").map(String::as_str)
    }

    /// Whether the e-mail address is verified: Cognito reads `email_verified` regardless of
    /// case (`"True"` counts).
    pub fn email_verified(&self) -> bool {
        self.attributes
            .get("email_verified")
            .is_some_and(|v| is_true(v))
    }
}

/// A boolean attribute's value as Cognito reads it: `true` in any case.
pub fn is_true(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
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
    /// Verifying a changed (or never verified) e-mail address.
    VerifyEmail,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign-up",
            Self::ForgotPassword => "forgot-password",
            Self::VerifyEmail => "verify-email",
        }
    }
}

/// A code just issued to a user, to be stored (replacing any earlier one for the purpose)
/// and then delivered.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub purpose: CodePurpose,
    pub code: String,
    pub expires_at: i64,
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

/// A user-pool domain: the hosted UI's `<prefix>.auth.<region>.amazoncognito.com` on AWS.
#[derive(Debug, Clone)]
pub struct Domain {
    pub domain: String,
    pub pool_id: String,
    pub created: i64,
}

/// A resource server: an API whose custom scopes (`<identifier>/<scope>`) clients may get.
#[derive(Debug, Clone)]
pub struct ResourceServer {
    pub pool_id: String,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ResourceServerScope>,
}

/// `ResourceServerScopeType`, stored as it is sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServerScope {
    pub scope_name: String,
    pub scope_description: String,
}

/// An identity provider of a pool (`IdentityProviderType`): stored and described as it was
/// given; the local pool federates no sign-ins through it.
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    pub pool_id: String,
    pub name: String,
    /// `SAML`, `Facebook`, `Google`, `LoginWithAmazon`, `SignInWithApple` or `OIDC`.
    pub provider_type: String,
    pub settings: ProviderSettings,
    pub created: i64,
    pub modified: i64,
}

/// What an identity provider was configured with, stored as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderSettings {
    #[serde(default)]
    pub provider_details: BTreeMap<String, String>,
    #[serde(default)]
    pub attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub idp_identifiers: Vec<String>,
}
