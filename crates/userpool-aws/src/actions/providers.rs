//! Identity providers: CreateIdentityProvider, DescribeIdentityProvider,
//! GetIdentityProviderByIdentifier, UpdateIdentityProvider, DeleteIdentityProvider and
//! ListIdentityProviders (all signed actions).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::page;
use super::shapes::Empty;
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{IdentityProvider, ProviderSettings};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateIdentityProvider {
    user_pool_id: String,
    provider_name: String,
    provider_type: String,
    provider_details: BTreeMap<String, String>,
    #[serde(default)]
    attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    idp_identifiers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ProviderRef {
    user_pool_id: String,
    provider_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ByIdentifier {
    user_pool_id: String,
    idp_identifier: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateIdentityProvider {
    user_pool_id: String,
    provider_name: String,
    provider_details: Option<BTreeMap<String, String>>,
    attribute_mapping: Option<BTreeMap<String, String>>,
    idp_identifiers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListIdentityProviders {
    user_pool_id: String,
    max_results: Option<usize>,
    next_token: Option<String>,
}

/// `IdentityProviderType`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderType {
    user_pool_id: String,
    provider_name: String,
    provider_type: String,
    #[serde(flatten)]
    settings: ProviderSettings,
    last_modified_date: i64,
    creation_date: i64,
}

impl ProviderType {
    fn new(provider: IdentityProvider) -> Self {
        Self {
            user_pool_id: provider.pool_id,
            provider_name: provider.name,
            provider_type: provider.provider_type,
            settings: provider.settings,
            last_modified_date: provider.modified,
            creation_date: provider.created,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ProviderResponse {
    identity_provider: ProviderType,
}

impl ProviderResponse {
    fn new(provider: IdentityProvider) -> Self {
        Self {
            identity_provider: ProviderType::new(provider),
        }
    }
}

/// `ProviderDescription`: what ListIdentityProviders says of each.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderDescription {
    provider_name: String,
    provider_type: String,
    last_modified_date: i64,
    creation_date: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ProvidersResponse {
    providers: Vec<ProviderDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl AwsDoor {
    pub(super) fn create_identity_provider(
        &self,
        req: CreateIdentityProvider,
    ) -> Result<ProviderResponse, PoolError> {
        let provider = self.create_provider(
            &req.user_pool_id,
            &req.provider_name,
            &req.provider_type,
            ProviderSettings {
                provider_details: req.provider_details,
                attribute_mapping: req.attribute_mapping,
                idp_identifiers: req.idp_identifiers,
            },
        )?;
        Ok(ProviderResponse::new(provider))
    }

    pub(super) fn describe_identity_provider(
        &self,
        req: ProviderRef,
    ) -> Result<ProviderResponse, PoolError> {
        Ok(ProviderResponse::new(
            self.provider(&req.user_pool_id, &req.provider_name)?,
        ))
    }

    pub(super) fn get_identity_provider_by_identifier(
        &self,
        req: ByIdentifier,
    ) -> Result<ProviderResponse, PoolError> {
        Ok(ProviderResponse::new(self.provider_by_identifier(
            &req.user_pool_id,
            &req.idp_identifier,
        )?))
    }

    /// Members left out of the request keep their values.
    pub(super) fn update_identity_provider(
        &self,
        req: UpdateIdentityProvider,
    ) -> Result<ProviderResponse, PoolError> {
        let provider = self.update_provider(
            &req.user_pool_id,
            &req.provider_name,
            req.provider_details,
            req.attribute_mapping,
            req.idp_identifiers,
        )?;
        Ok(ProviderResponse::new(provider))
    }

    pub(super) fn delete_identity_provider(&self, req: ProviderRef) -> Result<Empty, PoolError> {
        self.delete_provider(&req.user_pool_id, &req.provider_name)?;
        Ok(Empty {})
    }

    pub(super) fn list_identity_providers(
        &self,
        req: ListIdentityProviders,
    ) -> Result<ProvidersResponse, PoolError> {
        let providers = self.providers(&req.user_pool_id)?;
        let (providers, next_token) =
            page(providers, req.next_token.as_deref(), req.max_results, 60)?;
        Ok(ProvidersResponse {
            providers: providers
                .into_iter()
                .map(|p| ProviderDescription {
                    provider_name: p.name,
                    provider_type: p.provider_type,
                    last_modified_date: p.modified,
                    creation_date: p.created,
                })
                .collect(),
            next_token,
        })
    }
}
