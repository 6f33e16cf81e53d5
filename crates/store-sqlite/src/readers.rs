//! Read connections. In WAL mode readers never wait for the writer, and a read of a hot
//! page cache takes microseconds: far less than handing it to a blocking thread and back
//! (measured: that handoff, not SQLite, was most of a read's cost; see BENCHMARKS.md). So
//! reads run in place, each runtime thread on a read-only connection of its own.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use taskapi_domain::StoreError;

use crate::fault::sql;
use crate::schema::connect;

thread_local! {
    /// This thread's read connection to each database it has read, by path.
    static CONNECTIONS: RefCell<HashMap<PathBuf, Connection>> = RefCell::new(HashMap::new());
}

#[derive(Clone)]
pub struct Readers {
    path: PathBuf,
}

impl Readers {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
    }

    /// Runs `read` on this thread's connection, opening it on first use.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        CONNECTIONS.with(|connections| {
            let mut connections = connections.borrow_mut();
            let conn = match connections.get(&self.path) {
                Some(conn) => conn,
                None => {
                    let conn = connect(
                        &self.path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .map_err(sql)?;
                    connections.entry(self.path.clone()).or_insert(conn)
                }
            };
            read(conn)
        })
    }
}
