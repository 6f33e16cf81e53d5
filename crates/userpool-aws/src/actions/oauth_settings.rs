//! The hosted UI's settings as Cognito actions: user-pool domains, resource servers (custom
//! OAuth scopes), and the OAuth members of app clients with Cognito's validation.

use serde::{Deserialize, Serialize};

use super::page;
use super::shapes::Empty;
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{Domain, OAuthSettings, ResourceServer, ResourceServerScope};

/// The scopes every pool has, next to its resource servers' `<identifier>/<scope>`.
pub(crate) const STANDARD_SCOPES: [&str; 5] = [
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];
const OAUTH_FLOWS: [&str; 3] = ["code", "implicit", "client_credentials"];
/// Words Cognito refuses in a domain prefix.
const RESERVED_DOMAIN_WORDS: [&str; 3] = ["aws", "amazon", "cognito"];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DomainRequest {
    domain: String,
    user_pool_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DescribeDomain {
    domain: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourceServerRequest {
    user_pool_id: String,
    identifier: String,
    name: String,
    #[serde(default)]
    scopes: Vec<ResourceServerScope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourceServerRef {
    user_pool_id: String,
    identifier: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListResourceServers {
    user_pool_id: String,
    max_results: Option<usize>,
    next_token: Option<String>,
}

/// The OAuth members of CreateUserPoolClient and UpdateUserPoolClient.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OAuthFields {
    #[serde(rename = "CallbackURLs")]
    callback_urls: Option<Vec<String>>,
    #[serde(rename = "LogoutURLs")]
    logout_urls: Option<Vec<String>>,
    #[serde(rename = "DefaultRedirectURI")]
    default_redirect_uri: Option<String>,
    #[serde(rename = "AllowedOAuthFlows")]
    pub(super) allowed_oauth_flows: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthScopes")]
    allowed_oauth_scopes: Option<Vec<String>>,
    #[serde(rename = "AllowedOAuthFlowsUserPoolClient")]
    allowed_oauth_flows_user_pool_client: Option<bool>,
    supported_identity_providers: Option<Vec<String>>,
}

/// Those members as Describe returns them (absent when empty, as Cognito leaves them out).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OAuthShape {
    #[serde(rename = "CallbackURLs", skip_serializing_if = "Vec::is_empty")]
    callback_urls: Vec<String>,
    #[serde(rename = "LogoutURLs", skip_serializing_if = "Vec::is_empty")]
    logout_urls: Vec<String>,
    #[serde(rename = "DefaultRedirectURI", skip_serializing_if = "Option::is_none")]
    default_redirect_uri: Option<String>,
    #[serde(rename = "AllowedOAuthFlows", skip_serializing_if = "Vec::is_empty")]
    allowed_oauth_flows: Vec<String>,
    #[serde(rename = "AllowedOAuthScopes", skip_serializing_if = "Vec::is_empty")]
    allowed_oauth_scopes: Vec<String>,
    #[serde(rename = "AllowedOAuthFlowsUserPoolClient")]
    allowed_oauth_flows_user_pool_client: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    supported_identity_providers: Vec<String>,
}

impl OAuthShape {
    pub fn new(settings: &OAuthSettings) -> Self {
        Self {
            callback_urls: settings.callback_urls.clone(),
            logout_urls: settings.logout_urls.clone(),
            default_redirect_uri: settings.default_redirect_uri.clone(),
            allowed_oauth_flows: settings.flows.clone(),
            allowed_oauth_scopes: settings.scopes.clone(),
            allowed_oauth_flows_user_pool_client: settings.enabled,
            supported_identity_providers: settings.identity_providers.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateDomainResponse {
    managed_login_version: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DescribeDomainResponse {
    /// `{}` for an unknown domain, as Cognito answers.
    domain_description: DomainDescription,
}

/// `DomainDescriptionType`; all members absent for an unknown domain.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DomainDescription {
    #[serde(flatten)]
    found: Option<FoundDomain>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FoundDomain {
    user_pool_id: String,
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'static str,
    domain: String,
    s3_bucket: &'static str,
    cloud_front_distribution: &'static str,
    version: &'static str,
    status: &'static str,
    managed_login_version: i64,
}

/// `ResourceServerType`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourceServerType {
    user_pool_id: String,
    identifier: String,
    name: String,
    scopes: Vec<ResourceServerScope>,
}

impl ResourceServerType {
    fn new(server: ResourceServer) -> Self {
        Self {
            user_pool_id: server.pool_id,
            identifier: server.identifier,
            name: server.name,
            scopes: server.scopes,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourceServerResponse {
    resource_server: ResourceServerType,
}

impl ResourceServerResponse {
    fn new(server: ResourceServer) -> Self {
        Self {
            resource_server: ResourceServerType::new(server),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourceServersResponse {
    resource_servers: Vec<ResourceServerType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl AwsDoor {
    pub(super) fn create_user_pool_domain(
        &self,
        req: DomainRequest,
    ) -> Result<CreateDomainResponse, PoolError> {
        self.pool(&req.user_pool_id)?;
        check_domain(&req.domain)?;
        if self.store().domain_of_pool(&req.user_pool_id)?.is_some() {
            return Err(PoolError::InvalidParameter(
                "User pool already has a domain configured.".into(),
            ));
        }
        let stored = self.store().insert_domain(&Domain {
            domain: req.domain,
            pool_id: req.user_pool_id,
            created: self.now(),
        })?;
        if !stored {
            return Err(PoolError::InvalidParameter(
                "Domain already associated with another user pool.".into(),
            ));
        }
        Ok(CreateDomainResponse {
            managed_login_version: 1,
        })
    }

    pub(super) fn describe_user_pool_domain(
        &self,
        req: DescribeDomain,
    ) -> Result<DescribeDomainResponse, PoolError> {
        let found = self.store().domain(&req.domain)?.map(|d| FoundDomain {
            user_pool_id: d.pool_id,
            aws_account_id: "000000000000",
            domain: d.domain,
            s3_bucket: "",
            cloud_front_distribution: "",
            version: "1",
            status: "ACTIVE",
            managed_login_version: 1,
        });
        Ok(DescribeDomainResponse {
            domain_description: DomainDescription { found },
        })
    }

    pub(super) fn delete_user_pool_domain(&self, req: DomainRequest) -> Result<Empty, PoolError> {
        self.pool(&req.user_pool_id)?;
        if !self.store().delete_domain(&req.domain, &req.user_pool_id)? {
            return Err(PoolError::InvalidParameter(
                "No such domain or user pool exists.".into(),
            ));
        }
        Ok(Empty {})
    }

    pub(super) fn create_resource_server(
        &self,
        req: ResourceServerRequest,
    ) -> Result<ResourceServerResponse, PoolError> {
        let server = self.checked_resource_server(req)?;
        if !self.store().insert_resource_server(&server, self.now())? {
            return Err(PoolError::InvalidParameter(format!(
                "{} already exists in user pool {}.",
                server.identifier, server.pool_id
            )));
        }
        Ok(ResourceServerResponse::new(server))
    }

    pub(super) fn describe_resource_server(
        &self,
        req: ResourceServerRef,
    ) -> Result<ResourceServerResponse, PoolError> {
        self.pool(&req.user_pool_id)?;
        let server = self
            .store()
            .resource_servers(&req.user_pool_id)?
            .into_iter()
            .find(|s| s.identifier == req.identifier)
            .ok_or_else(|| resource_server_not_found(&req.identifier))?;
        Ok(ResourceServerResponse::new(server))
    }

    pub(super) fn list_resource_servers(
        &self,
        req: ListResourceServers,
    ) -> Result<ResourceServersResponse, PoolError> {
        self.pool(&req.user_pool_id)?;
        let servers = self.store().resource_servers(&req.user_pool_id)?;
        let (servers, next_token) = page(servers, req.next_token.as_deref(), req.max_results, 50)?;
        Ok(ResourceServersResponse {
            resource_servers: servers.into_iter().map(ResourceServerType::new).collect(),
            next_token,
        })
    }

    pub(super) fn update_resource_server(
        &self,
        req: ResourceServerRequest,
    ) -> Result<ResourceServerResponse, PoolError> {
        let server = self.checked_resource_server(req)?;
        if !self.store().update_resource_server(&server)? {
            return Err(resource_server_not_found(&server.identifier));
        }
        Ok(ResourceServerResponse::new(server))
    }

    pub(super) fn delete_resource_server(
        &self,
        req: ResourceServerRef,
    ) -> Result<Empty, PoolError> {
        self.pool(&req.user_pool_id)?;
        if !self
            .store()
            .delete_resource_server(&req.user_pool_id, &req.identifier)?
        {
            return Err(resource_server_not_found(&req.identifier));
        }
        Ok(Empty {})
    }

    fn checked_resource_server(
        &self,
        req: ResourceServerRequest,
    ) -> Result<ResourceServer, PoolError> {
        self.pool(&req.user_pool_id)?;
        check_text("identifier", &req.identifier, |c| {
            c.is_ascii_graphic() && c != '"' && c != '\\'
        })?;
        check_text("name", &req.name, |c| {
            c.is_alphanumeric() || c.is_whitespace() || "_+=,.@-".contains(c)
        })?;
        if req.scopes.len() > 100 {
            return Err(PoolError::InvalidParameter(
                "1 validation error detected: Value at 'scopes' failed to satisfy constraint: \
                 Member must have length less than or equal to 100"
                    .into(),
            ));
        }
        for (i, scope) in req.scopes.iter().enumerate() {
            check_text("scopeName", &scope.scope_name, |c| {
                c.is_ascii_graphic() && !"\"\\/".contains(c)
            })?;
            check_text("scopeDescription", &scope.scope_description, |_| true)?;
            if req.scopes[..i]
                .iter()
                .any(|s| s.scope_name == scope.scope_name)
            {
                return Err(PoolError::InvalidParameter(format!(
                    "Duplicate scope name {} in the resource server's scopes.",
                    scope.scope_name
                )));
            }
        }
        Ok(ResourceServer {
            pool_id: req.user_pool_id,
            identifier: req.identifier,
            name: req.name,
            scopes: req.scopes,
        })
    }

    /// Validates a client's OAuth members as Cognito does and returns what to store.
    pub(super) fn oauth_settings(
        &self,
        pool_id: &str,
        has_secret: bool,
        fields: &OAuthFields,
    ) -> Result<OAuthSettings, PoolError> {
        let fields = fields.clone();
        let settings = OAuthSettings {
            callback_urls: fields.callback_urls.unwrap_or_default(),
            logout_urls: fields.logout_urls.unwrap_or_default(),
            default_redirect_uri: fields.default_redirect_uri,
            flows: fields.allowed_oauth_flows.unwrap_or_default(),
            scopes: fields.allowed_oauth_scopes.unwrap_or_default(),
            enabled: fields.allowed_oauth_flows_user_pool_client.unwrap_or(false),
            identity_providers: fields.supported_identity_providers.unwrap_or_default(),
        };
        if let Some(bad) = settings
            .flows
            .iter()
            .find(|f| !OAUTH_FLOWS.contains(&f.as_str()))
        {
            return Err(PoolError::InvalidParameter(format!(
                "1 validation error detected: Value '[{bad}]' at 'allowedOAuthFlows' failed to \
                 satisfy constraint: Member must satisfy enum value set: [implicit, \
                 client_credentials, code]"
            )));
        }
        for provider in &settings.identity_providers {
            if provider != "COGNITO" {
                return Err(PoolError::InvalidParameter(format!(
                    "The provider {provider} does not exist for User Pool {pool_id}"
                )));
            }
        }
        for url in settings.callback_urls.iter().chain(&settings.logout_urls) {
            check_url(url)?;
        }
        if let Some(default) = &settings.default_redirect_uri
            && !settings.callback_urls.contains(default)
        {
            return Err(PoolError::InvalidParameter(
                "DefaultRedirectURI must be one of the CallbackURLs.".into(),
            ));
        }
        let known = self.custom_scopes_of(pool_id)?;
        if let Some(bad) = settings
            .scopes
            .iter()
            .find(|s| !STANDARD_SCOPES.contains(&s.as_str()) && !known.contains(s))
        {
            return Err(PoolError::ScopeDoesNotExist(format!(
                "Invalid scope requested: {bad}"
            )));
        }
        let machine = settings.flows.iter().any(|f| f == "client_credentials");
        let interactive = settings.flows.iter().any(|f| f != "client_credentials");
        if machine && interactive {
            return Err(PoolError::InvalidOAuthFlow(
                "client_credentials flow can not be selected along with code flow or implicit \
                 flow."
                    .into(),
            ));
        }
        if machine && !has_secret {
            return Err(PoolError::InvalidOAuthFlow(
                "client_credentials flow can not be selected if client does not have a client \
                 secret."
                    .into(),
            ));
        }
        if machine
            && settings
                .scopes
                .iter()
                .any(|s| STANDARD_SCOPES.contains(&s.as_str()))
        {
            return Err(PoolError::InvalidOAuthFlow(
                "client_credentials flow can only be used with custom scopes.".into(),
            ));
        }
        if settings.enabled && (settings.flows.is_empty() || settings.scopes.is_empty()) {
            return Err(PoolError::InvalidOAuthFlow(
                "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is \
                 allowed to use OAuth flows."
                    .into(),
            ));
        }
        if interactive && settings.enabled && settings.callback_urls.is_empty() {
            return Err(PoolError::InvalidParameter(
                "CallbackURLs are required for the code and implicit flows.".into(),
            ));
        }
        Ok(settings)
    }
}

fn resource_server_not_found(identifier: &str) -> PoolError {
    PoolError::ResourceNotFound(format!("Resource server {identifier} does not exist."))
}

/// 1 to 256 characters, each allowed by `allowed`.
fn check_text(member: &str, value: &str, allowed: impl Fn(char) -> bool) -> Result<(), PoolError> {
    let length = value.chars().count();
    if !(1..=256).contains(&length) || !value.chars().all(allowed) {
        return Err(PoolError::InvalidParameter(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: Member must have length between 1 and 256 and use only the allowed \
             characters"
        )));
    }
    Ok(())
}

/// A domain prefix: lower-case letters, digits and inner hyphens, at most 63 characters.
fn check_domain(domain: &str) -> Result<(), PoolError> {
    let bytes = domain.as_bytes();
    let well_formed = (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !domain.starts_with('-')
        && !domain.ends_with('-');
    if !well_formed {
        return Err(PoolError::InvalidParameter(format!(
            "1 validation error detected: Value '{domain}' at 'domain' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             ^[a-z0-9](?:[a-z0-9\\-]{{0,61}}[a-z0-9])?$"
        )));
    }
    if let Some(word) = RESERVED_DOMAIN_WORDS.iter().find(|w| domain.contains(*w)) {
        return Err(PoolError::InvalidParameter(format!(
            "Domain cannot contain reserved word: {word}"
        )));
    }
    Ok(())
}

/// A callback or sign-out URL: absolute, no fragment, HTTPS — except plain HTTP to this
/// machine (Cognito allows `http://localhost`; locally `127.0.0.1` and `[::1]` are the same
/// machine).
fn check_url(url: &str) -> Result<(), PoolError> {
    let invalid = |why: &str| PoolError::InvalidParameter(format!("Invalid URL {url}: {why}"));
    if url.len() > 1024 || url.contains('#') || url.chars().any(char::is_whitespace) {
        return Err(invalid(
            "it must be at most 1024 characters, without a fragment",
        ));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("it must be absolute"))?;
    let host = rest
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or_else(
            || rest.split(['/', '?']).next().unwrap_or_default(),
            |(h, _)| h,
        );
    if host.is_empty() {
        return Err(invalid("it has no host"));
    }
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match scheme {
        "https" => Ok(()),
        "http" if local => Ok(()),
        "http" => Err(invalid(
            "it must use HTTPS, except http://localhost for testing",
        )),
        // Native apps register custom schemes (myapp://callback); Cognito accepts them.
        other
            if other
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) =>
        {
            Ok(())
        }
        _ => Err(invalid("its scheme is malformed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_cognitos_rules() {
        for good in [
            "https://tasks.example.com/callback",
            "http://localhost:3000/callback",
            "http://127.0.0.1:8080/cb?x=1",
            "myapp://signin",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://example.com/callback",
            "https://tasks.example.com/cb#frag",
            "/relative",
            "https:///nohost",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_follow_cognitos_pattern() {
        assert!(check_domain("tasks-app-1").is_ok());
        for bad in ["Tasks", "-tasks", "tasks-", "", "my_domain", "aws-tasks"] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }
}
