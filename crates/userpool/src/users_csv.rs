//! The local pool's users as the CSV file Cognito's user import jobs take (the columns of
//! `GetCSVHeader`), so a team moving to AWS keeps its accounts. Passwords cannot move:
//! Cognito imports no password hashes, so imported users start in `RESET_REQUIRED` and
//! choose a new password with an e-mailed code at their first sign-in, as on AWS.

use std::io::Write;
use std::path::Path;

use crate::model::{Pool, User};
use crate::schema::csv_header;
use crate::store::Store;
use crate::{PoolOpenError, PoolStoreError};

/// The file the pool keeps its state in, inside the data directory.
pub(crate) const POOL_FILE: &str = "userpool.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum UsersCsvError {
    #[error("there is no user pool in {0} (no {POOL_FILE})")]
    NoPoolFile(String),
    #[error(transparent)]
    Open(#[from] PoolOpenError),
    #[error(transparent)]
    Store(#[from] PoolStoreError),
    #[error("no pool is named {name}; the pools are: {known}")]
    NoSuchPool { name: String, known: String },
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Writes the users of the pool named `pool_name` in `data_dir` to `out` as a user import
/// CSV; returns how many. Reads through SQLite, so a running server is not disturbed.
pub fn write_users_csv(
    data_dir: &Path,
    pool_name: &str,
    out: impl Write,
) -> Result<usize, UsersCsvError> {
    let path = data_dir.join(POOL_FILE);
    if !path.is_file() {
        return Err(UsersCsvError::NoPoolFile(data_dir.display().to_string()));
    }
    let store = Store::open(&path)?;
    let pools = store.pools()?;
    let Some(pool) = pools.iter().find(|pool| pool.name == pool_name) else {
        return Err(UsersCsvError::NoSuchPool {
            name: pool_name.to_owned(),
            known: pools
                .iter()
                .map(|pool| pool.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let header = csv_header(&pool.config.schema);
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(&header)?;
    let users = store.users(&pool.id)?;
    for user in &users {
        csv.write_record(header.iter().map(|column| cell(pool, user, column)))?;
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(users.len())
}

/// One column of a user's row. Cognito requires the two `*_verified` flags and
/// `cognito:mfa_enabled` as `true`/`false`; in a pool where people sign in by e-mail the
/// username column holds the address (the pool gives each imported user a new `sub`).
fn cell(pool: &Pool, user: &User, column: &str) -> String {
    let attribute = |name: &str| user.attributes.get(name).cloned();
    match column {
        "cognito:username" if pool.config.email_is_username() => {
            attribute("email").unwrap_or_else(|| user.username.clone())
        }
        "cognito:username" => user.username.clone(),
        "cognito:mfa_enabled" => user.totp.enabled.to_string(),
        "email_verified" | "phone_number_verified" => {
            attribute(column).unwrap_or_else(|| "false".to_owned())
        }
        other => attribute(other).unwrap_or_default(),
    }
}
