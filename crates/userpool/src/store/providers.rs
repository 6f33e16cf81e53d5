//! A pool's identity providers (CreateIdentityProvider and its kin).

use rusqlite::params;

use super::Store;
use crate::error::PoolStoreError;
use crate::model::IdentityProvider;

/// Schema version 6 to 7: identity providers.
pub const MIGRATION: &str = "
CREATE TABLE identity_providers (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE, name TEXT NOT NULL,
    provider_type TEXT NOT NULL, settings TEXT NOT NULL,
    created INTEGER NOT NULL, modified INTEGER NOT NULL,
    PRIMARY KEY (pool_id, name));
";

const COLUMNS: &str = "pool_id, name, provider_type, settings, created, modified";

impl Store {
    /// Records a provider; `false` if the pool has one of that name.
    pub fn insert_provider(&self, provider: &IdentityProvider) -> Result<bool, PoolStoreError> {
        let settings = serde_json::to_string(&provider.settings)?;
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
                &format!(
                    "INSERT OR IGNORE INTO identity_providers ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                params![
                    provider.pool_id,
                    provider.name,
                    provider.provider_type,
                    settings,
                    provider.created,
                    provider.modified
                ],
            )?)
        })?;
        Ok(changed == 1)
    }

    /// Stores a provider's changed settings.
    pub fn update_provider(&self, provider: &IdentityProvider) -> Result<(), PoolStoreError> {
        self.execute(
            "UPDATE identity_providers SET settings = ?3, modified = ?4
             WHERE pool_id = ?1 AND name = ?2",
            params![
                provider.pool_id,
                provider.name,
                serde_json::to_string(&provider.settings)?,
                provider.modified
            ],
        )
    }

    /// `false` if the pool has no such provider.
    pub fn delete_provider(&self, pool_id: &str, name: &str) -> Result<bool, PoolStoreError> {
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
                "DELETE FROM identity_providers WHERE pool_id = ?1 AND name = ?2",
                params![pool_id, name],
            )?)
        })?;
        Ok(changed == 1)
    }

    /// A pool's providers, oldest first.
    pub fn providers(&self, pool_id: &str) -> Result<Vec<IdentityProvider>, PoolStoreError> {
        let rows = self.all_rows(
            &format!(
                "SELECT {COLUMNS} FROM identity_providers WHERE pool_id = ?1 \
                 ORDER BY created, name"
            ),
            [pool_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )?;
        rows.into_iter()
            .map(
                |(pool_id, name, provider_type, settings, created, modified)| {
                    Ok(IdentityProvider {
                        pool_id,
                        name,
                        provider_type,
                        settings: serde_json::from_str(&settings)?,
                        created,
                        modified,
                    })
                },
            )
            .collect()
    }
}
