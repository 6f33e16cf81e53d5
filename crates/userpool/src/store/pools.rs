//! Pools, their signing keys, and their app clients.

use rusqlite::{Row, params};
use serde::Serialize;

use super::users::USER_TABLES;
use super::{KeyRow, Store};
use crate::error::PoolStoreError;
use crate::model::{Client, Pool};

impl Store {
    pub fn insert_pool(&self, pool: &Pool, keys: &[KeyRow]) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO pools (id, name, config, created, modified) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    pool.id,
                    pool.name,
                    serde_json::to_string(&pool.config)?,
                    pool.created,
                    pool.modified
                ],
            )?;
            for key in keys {
                tx.execute(
                    "INSERT INTO signing_keys (kid, pool_id, token_use, pkcs8) VALUES (?1, ?2, ?3, ?4)",
                    params![key.kid, key.pool_id, key.token_use, key.pkcs8],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Rewrites a pool's name and configuration.
    pub fn update_pool(&self, pool: &Pool) -> Result<(), PoolStoreError> {
        self.rewrite("pools", &pool.id, &pool.name, &pool.config, pool.modified)
    }

    /// Deletes a pool with its keys, clients, users and everything that refers to them.
    pub fn delete_pool(&self, pool_id: &str) -> Result<(), PoolStoreError> {
        let pool_tables = ["groups", "clients", "signing_keys"];
        let dependents = USER_TABLES.iter().chain(&pool_tables);
        self.delete_with_dependents("pools", pool_id, "pool_id", dependents)
    }

    /// Rewrites an app client's name and configuration.
    pub fn update_client(&self, client: &Client) -> Result<(), PoolStoreError> {
        self.rewrite(
            "clients",
            &client.id,
            &client.name,
            &client.config,
            client.modified,
        )
    }

    /// Deletes an app client and the sign-ins made through it.
    pub fn delete_client(&self, client_id: &str) -> Result<(), PoolStoreError> {
        let dependents = ["sessions", "challenges"];
        self.delete_with_dependents("clients", client_id, "client_id", &dependents)
    }

    /// Rewrites the name and JSON configuration of a row of `table` (pools and clients
    /// share these columns).
    fn rewrite(
        &self,
        table: &str,
        id: &str,
        name: &str,
        config: &impl Serialize,
        modified: i64,
    ) -> Result<(), PoolStoreError> {
        self.execute(
            &format!("UPDATE {table} SET name = ?2, config = ?3, modified = ?4 WHERE id = ?1"),
            params![id, name, serde_json::to_string(config)?, modified],
        )
    }

    /// Deletes the row `id` of `table` and, in the same transaction, the rows of
    /// `dependents` that refer to it by `column`.
    fn delete_with_dependents<'a>(
        &self,
        table: &str,
        id: &str,
        column: &str,
        dependents: impl IntoIterator<Item = &'a &'a str>,
    ) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            for dependent in dependents {
                tx.execute(
                    &format!("DELETE FROM {dependent} WHERE {column} = ?1"),
                    [id],
                )?;
            }
            tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])?;
            tx.commit()?;
            Ok(())
        })
    }

    pub fn pool(&self, id: &str) -> Result<Option<Pool>, PoolStoreError> {
        let row = self.optional_row(
            "SELECT id, name, config, created, modified FROM pools WHERE id = ?1",
            [id],
            pool_row,
        )?;
        row.map(finish_pool).transpose()
    }

    /// All pools, oldest first.
    pub fn pools(&self) -> Result<Vec<Pool>, PoolStoreError> {
        self.all_rows(
            "SELECT id, name, config, created, modified FROM pools ORDER BY rowid",
            [],
            pool_row,
        )?
        .into_iter()
        .map(finish_pool)
        .collect()
    }

    pub fn keys(&self) -> Result<Vec<KeyRow>, PoolStoreError> {
        self.all_rows(
            "SELECT pool_id, token_use, kid, pkcs8 FROM signing_keys",
            [],
            |r| {
                Ok(KeyRow {
                    pool_id: r.get(0)?,
                    token_use: r.get(1)?,
                    kid: r.get(2)?,
                    pkcs8: r.get(3)?,
                })
            },
        )
    }

    // ---- app clients ----------------------------------------------------------------------

    pub fn insert_client(&self, client: &Client) -> Result<(), PoolStoreError> {
        self.execute(
            "INSERT INTO clients (id, pool_id, name, secret, config, created, modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                client.id,
                client.pool_id,
                client.name,
                client.secret,
                serde_json::to_string(&client.config)?,
                client.created,
                client.modified
            ],
        )
    }

    pub fn client(&self, id: &str) -> Result<Option<Client>, PoolStoreError> {
        let row = self.optional_row(
            &format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ?1"),
            [id],
            client_row,
        )?;
        row.map(finish_client).transpose()
    }

    /// A pool's clients, oldest first.
    pub fn clients(&self, pool_id: &str) -> Result<Vec<Client>, PoolStoreError> {
        self.all_rows(
            &format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE pool_id = ?1 ORDER BY rowid"),
            [pool_id],
            client_row,
        )?
        .into_iter()
        .map(finish_client)
        .collect()
    }
}

type PoolRow = (String, String, String, i64, i64);

fn pool_row(r: &Row<'_>) -> rusqlite::Result<PoolRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn finish_pool((id, name, config, created, modified): PoolRow) -> Result<Pool, PoolStoreError> {
    Ok(Pool {
        id,
        name,
        config: serde_json::from_str(&config)?,
        created,
        modified,
    })
}

const CLIENT_COLUMNS: &str = "id, pool_id, name, secret, config, created, modified";

type ClientRow = (String, String, String, Option<String>, String, i64, i64);

fn client_row(r: &Row<'_>) -> rusqlite::Result<ClientRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn finish_client(
    (id, pool_id, name, secret, config, created, modified): ClientRow,
) -> Result<Client, PoolStoreError> {
    Ok(Client {
        id,
        pool_id,
        name,
        secret,
        config: serde_json::from_str(&config)?,
        created,
        modified,
    })
}
