//! OAuth 2.0 state of the hosted UI: user-pool domains, resource servers (custom scopes) and
//! the scopes each OAuth sign-in was granted, which its refreshes keep.

use rusqlite::params;

use super::Store;
use crate::error::PoolStoreError;
use crate::model::{Client, Domain, ResourceServer};

/// Schema version 2 to 3: the hosted UI's tables.
pub const MIGRATION: &str = "
CREATE TABLE domains (
    domain TEXT PRIMARY KEY,
    pool_id TEXT NOT NULL UNIQUE REFERENCES pools(id) ON DELETE CASCADE,
    created INTEGER NOT NULL);
CREATE TABLE resource_servers (
    pool_id TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE, identifier TEXT NOT NULL,
    name TEXT NOT NULL, scopes TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (pool_id, identifier));
CREATE TABLE session_scopes (
    origin_jti TEXT PRIMARY KEY REFERENCES sessions(origin_jti) ON DELETE CASCADE,
    scopes TEXT NOT NULL);
";

impl Store {
    /// Records a domain; `false` if the domain is taken.
    pub fn insert_domain(&self, domain: &Domain) -> Result<bool, PoolStoreError> {
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
                "INSERT OR IGNORE INTO domains (domain, pool_id, created) VALUES (?1, ?2, ?3)",
                params![domain.domain, domain.pool_id, domain.created],
            )?)
        })?;
        Ok(changed == 1)
    }

    pub fn domain(&self, domain: &str) -> Result<Option<Domain>, PoolStoreError> {
        self.optional_row(
            "SELECT domain, pool_id, created FROM domains WHERE domain = ?1",
            [domain],
            |r| {
                Ok(Domain {
                    domain: r.get(0)?,
                    pool_id: r.get(1)?,
                    created: r.get(2)?,
                })
            },
        )
    }

    pub fn domain_of_pool(&self, pool_id: &str) -> Result<Option<String>, PoolStoreError> {
        self.optional_row(
            "SELECT domain FROM domains WHERE pool_id = ?1",
            [pool_id],
            |r| r.get(0),
        )
    }

    /// `false` if the pool has no such domain.
    pub fn delete_domain(&self, domain: &str, pool_id: &str) -> Result<bool, PoolStoreError> {
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
                "DELETE FROM domains WHERE domain = ?1 AND pool_id = ?2",
                params![domain, pool_id],
            )?)
        })?;
        Ok(changed == 1)
    }

    /// `false` if the pool already has a resource server with this identifier.
    pub fn insert_resource_server(
        &self,
        server: &ResourceServer,
        now: i64,
    ) -> Result<bool, PoolStoreError> {
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
            "INSERT OR IGNORE INTO resource_servers (pool_id, identifier, name, scopes, created)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                server.pool_id,
                server.identifier,
                server.name,
                serde_json::to_string(&server.scopes)?,
                now
            ],
        )?)
        })?;
        Ok(changed == 1)
    }

    /// `false` if there is no such resource server.
    pub fn update_resource_server(&self, server: &ResourceServer) -> Result<bool, PoolStoreError> {
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
                "UPDATE resource_servers SET name = ?3, scopes = ?4
             WHERE pool_id = ?1 AND identifier = ?2",
                params![
                    server.pool_id,
                    server.identifier,
                    server.name,
                    serde_json::to_string(&server.scopes)?
                ],
            )?)
        })?;
        Ok(changed == 1)
    }

    pub fn delete_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<bool, PoolStoreError> {
        let changed = self.with_conn(|conn| {
            Ok(conn.execute(
                "DELETE FROM resource_servers WHERE pool_id = ?1 AND identifier = ?2",
                params![pool_id, identifier],
            )?)
        })?;
        Ok(changed == 1)
    }

    /// A pool's resource servers, oldest first.
    pub fn resource_servers(&self, pool_id: &str) -> Result<Vec<ResourceServer>, PoolStoreError> {
        let rows = self.all_rows(
            "SELECT pool_id, identifier, name, scopes FROM resource_servers
             WHERE pool_id = ?1 ORDER BY created, identifier",
            [pool_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?)),
        )?;
        rows.into_iter()
            .map(|(pool_id, identifier, name, scopes)| {
                Ok(ResourceServer {
                    pool_id,
                    identifier,
                    name,
                    scopes: serde_json::from_str(&scopes)?,
                })
            })
            .collect()
    }

    /// Stores a client's changed settings.
    pub fn update_client_config(&self, client: &Client) -> Result<(), PoolStoreError> {
        self.execute(
            "UPDATE clients SET config = ?2 WHERE id = ?1",
            params![client.id, serde_json::to_string(&client.config)?],
        )
    }

    pub fn set_session_scopes(
        &self,
        origin_jti: &str,
        scopes: &[String],
    ) -> Result<(), PoolStoreError> {
        self.execute(
            "INSERT OR REPLACE INTO session_scopes (origin_jti, scopes) VALUES (?1, ?2)",
            params![origin_jti, serde_json::to_string(scopes)?],
        )
    }

    /// The OAuth scopes of a sign-in through the hosted UI; `None` for an API sign-in.
    pub fn session_scopes(&self, origin_jti: &str) -> Result<Option<Vec<String>>, PoolStoreError> {
        let text: Option<String> = self.optional_row(
            "SELECT scopes FROM session_scopes WHERE origin_jti = ?1",
            [origin_jti],
            |r| r.get(0),
        )?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }
}
