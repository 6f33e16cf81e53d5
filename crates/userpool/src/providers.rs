//! A pool's identity providers, as CreateIdentityProvider and its kin keep them: a name
//! unique in the pool, one of Cognito's provider types, identifiers unique in the pool.
//! Their details are stored and described as given: the local pool federates no sign-ins.

use crate::UserPools;
use crate::error::PoolError;
use crate::model::{IdentityProvider, ProviderSettings};

/// Cognito's provider types.
const PROVIDER_TYPES: [&str; 6] = [
    "SAML",
    "Facebook",
    "Google",
    "LoginWithAmazon",
    "SignInWithApple",
    "OIDC",
];

impl UserPools {
    pub fn create_provider(
        &self,
        pool_id: &str,
        name: &str,
        provider_type: &str,
        settings: ProviderSettings,
    ) -> Result<IdentityProvider, PoolError> {
        let pool = self.pool(pool_id)?;
        check_name(name)?;
        if !PROVIDER_TYPES.contains(&provider_type) {
            return Err(PoolError::InvalidParameter(format!(
                "1 validation error detected: Value '{provider_type}' at 'providerType' failed \
                 to satisfy constraint: Member must satisfy enum value set: [{}]",
                PROVIDER_TYPES.join(", ")
            )));
        }
        self.check_identifiers(&pool.id, name, &settings.idp_identifiers)?;
        let now = self.now();
        let provider = IdentityProvider {
            pool_id: pool.id,
            name: name.to_owned(),
            provider_type: provider_type.to_owned(),
            settings,
            created: now,
            modified: now,
        };
        if !self.store.insert_provider(&provider)? {
            return Err(PoolError::DuplicateProvider(format!(
                "A provider with the name {name} already exists in this user pool."
            )));
        }
        Ok(provider)
    }

    /// A provider of the pool by name.
    pub fn provider(&self, pool_id: &str, name: &str) -> Result<IdentityProvider, PoolError> {
        let pool = self.pool(pool_id)?;
        self.store
            .providers(&pool.id)?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                PoolError::ResourceNotFound(format!("Identity provider {name} does not exist."))
            })
    }

    /// The provider that has `identifier` among its `IdpIdentifiers`.
    pub fn provider_by_identifier(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<IdentityProvider, PoolError> {
        let pool = self.pool(pool_id)?;
        self.store
            .providers(&pool.id)?
            .into_iter()
            .find(|p| p.settings.idp_identifiers.iter().any(|i| i == identifier))
            .ok_or_else(|| {
                PoolError::ResourceNotFound(format!(
                    "Identity provider with identifier {identifier} does not exist."
                ))
            })
    }

    pub fn providers(&self, pool_id: &str) -> Result<Vec<IdentityProvider>, PoolError> {
        let pool = self.pool(pool_id)?;
        Ok(self.store.providers(&pool.id)?)
    }

    /// Replaces the members given (details, attribute mapping, identifiers).
    pub fn update_provider(
        &self,
        pool_id: &str,
        name: &str,
        details: Option<std::collections::BTreeMap<String, String>>,
        mapping: Option<std::collections::BTreeMap<String, String>>,
        identifiers: Option<Vec<String>>,
    ) -> Result<IdentityProvider, PoolError> {
        let mut provider = self.provider(pool_id, name)?;
        if let Some(identifiers) = identifiers {
            self.check_identifiers(&provider.pool_id, name, &identifiers)?;
            provider.settings.idp_identifiers = identifiers;
        }
        if let Some(details) = details {
            provider.settings.provider_details = details;
        }
        if let Some(mapping) = mapping {
            provider.settings.attribute_mapping = mapping;
        }
        provider.modified = self.now();
        self.store.update_provider(&provider)?;
        Ok(provider)
    }

    pub fn delete_provider(&self, pool_id: &str, name: &str) -> Result<(), PoolError> {
        let pool = self.pool(pool_id)?;
        if self.store.delete_provider(&pool.id, name)? {
            Ok(())
        } else {
            Err(PoolError::ResourceNotFound(format!(
                "Identity provider {name} does not exist."
            )))
        }
    }

    /// An identifier names one provider of a pool.
    fn check_identifiers(
        &self,
        pool_id: &str,
        name: &str,
        identifiers: &[String],
    ) -> Result<(), PoolError> {
        let others = self.store.providers(pool_id)?;
        let taken = identifiers.iter().find(|identifier| {
            others
                .iter()
                .filter(|p| p.name != name)
                .any(|p| p.settings.idp_identifiers.contains(identifier))
        });
        match taken {
            Some(identifier) => Err(PoolError::DuplicateProvider(format!(
                "The identifier {identifier} is already used by another provider in this user pool."
            ))),
            None => Ok(()),
        }
    }
}

/// Cognito's `ProviderName` pattern, quoted in its error.
const NAME_PATTERN: &str = "[^_\\p{Z}][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}][^_\\p{Z}]+";

/// `ProviderName`: at most 32 characters, matching [`NAME_PATTERN`]: no separator anywhere,
/// no underscore but in the second place, at least three characters.
fn check_name(name: &str) -> Result<(), PoolError> {
    let field = |constraint: &str| {
        PoolError::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'providerName' failed to satisfy \
             constraint: {constraint}"
        ))
    };
    if name.chars().count() > 32 {
        return Err(field("Member must have length less than or equal to 32"));
    }
    let chars: Vec<char> = name.chars().collect();
    let separator = |c: &char| c.is_whitespace() || c.is_control();
    let matches = chars.len() >= 3
        && chars[0] != '_'
        && !chars.iter().any(separator)
        && !chars[2..].contains(&'_');
    if matches {
        Ok(())
    } else {
        Err(field(&format!(
            "Member must satisfy regular expression pattern: {NAME_PATTERN}"
        )))
    }
}
