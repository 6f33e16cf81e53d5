//! Read connections. In WAL mode readers never wait for the writer, so reads run in
//! parallel on blocking threads, each on a connection of its own from this small pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use taskapi_domain::StoreError;
use tokio::sync::Semaphore;

use crate::schema::connect;

pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub fn new(path: &Path, size: usize) -> Arc<Self> {
        Arc::new(Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
        })
    }

    /// Runs `read` on an idle connection (opened on first need) on a blocking thread.
    pub async fn read<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::internal("reader pool closed"))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = match pool.idle.lock().expect("reader pool").pop() {
                Some(conn) => conn,
                None => connect(
                    &pool.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(StoreError::internal)?,
            };
            let result = read(&conn);
            pool.idle.lock().expect("reader pool").push(conn);
            result
        })
        .await
        .map_err(StoreError::internal)?
    }
}
