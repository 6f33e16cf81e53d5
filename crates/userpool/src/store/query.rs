//! The shapes every table's statements take, so each one states only its SQL, its
//! arguments and (for reads) its row.

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

    /// Runs one statement that writes.
    pub(super) fn execute(&self, sql: &str, args: impl Params) -> Result<(), PoolStoreError> {
        self.conn().execute(sql, args)?;
        Ok(())
    }
}
