//! The two read shapes every table uses, so each lookup states only its SQL and its row.

use rusqlite::{OptionalExtension, Params, Row};

use super::Store;
use crate::error::PoolStoreError;

impl Store {
    /// The first row `sql` finds, if any.
    pub(super) fn optional_row<T>(
        &self,
        sql: &str,
        args: impl Params,
        row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, PoolStoreError> {
        Ok(self.conn().query_row(sql, args, row).optional()?)
    }

    /// Every row `sql` finds, in its order.
    pub(super) fn all_rows<T>(
        &self,
        sql: &str,
        args: impl Params,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, PoolStoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(sql)?;
        let rows = statement
            .query_map(args, row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
