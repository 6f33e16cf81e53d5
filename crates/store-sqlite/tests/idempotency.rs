//! Retry-safe creates on SQLite: the task and its key's record in one transaction.

use taskapi_store_sqlite::SqliteStore;

async fn fresh_store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("tasks.sqlite3")).unwrap();
    (store, dir)
}

taskapi_store_conformance::idempotency_tests!(fresh_store);
