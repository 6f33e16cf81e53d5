//! The shapes every table's statements take, so each one states only its SQL, its
//! arguments and (for reads) its row; and [`Store::with_conn`], where every statement runs
//! and its failure is classified with the store's health in hand.

use rusqlite::{Connection, OptionalExtension, Params, Row};

use super::Store;
use crate::error::PoolStoreError;

impl Store {
    /// Runs `statements` on the locked connection. A storage fault among their failures
    /// is recorded against this store's health (logged once per episode; `/readyz` reports
    /// it) before it reaches the caller as [`PoolStoreError::Unavailable`].
    pub fn with_conn<T>(
        &self,
        statements: impl FnOnce(&mut Connection) -> Result<T, PoolStoreError>,
    ) -> Result<T, PoolStoreError> {
        let result = statements(&mut self.conn());
        if let Err(PoolStoreError::Unavailable(cause)) = &result {
            self.health.fault(cause);
        }
        result
    }

    /// The first row `sql` finds, if any.
    pub fn optional_row<T>(
        &self,
        sql: &str,
        args: impl Params,
        row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, PoolStoreError> {
        self.with_conn(|conn| Ok(conn.query_row(sql, args, row).optional()?))
    }

    /// Every row `sql` finds, in its order.
    pub fn all_rows<T>(
        &self,
        sql: &str,
        args: impl Params,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, PoolStoreError> {
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            let rows = statement
                .query_map(args, row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Runs one statement that writes.
    pub fn execute(&self, sql: &str, args: impl Params) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            conn.execute(sql, args)?;
            Ok(())
        })
    }
}
