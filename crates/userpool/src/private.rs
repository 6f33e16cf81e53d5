//! The data directory holds signing keys, password hashes, refresh-token digests and IAM
//! credentials: only the user running the server may read it. The directory is kept at
//! 0700 and every file in it at 0600; SQLite gives its `-wal` and `-shm` files the mode of
//! the database file, so creating each file 0600 before it is opened covers them too.
//!
//! Nothing here opens a file that exists: modes are changed by path (`chmod`). On POSIX,
//! closing *any* descriptor of a file drops every lock the process holds on it, so opening
//! and closing a database file that a SQLite connection of this process has open would
//! silently release that connection's locks; the next process to open the database would
//! then believe it is alone and delete the live WAL when it closes (issue 28).

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Why a path could not be made private.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path} must be private to this user ({why}: {source}); fix it with `chmod {mode:o} {path}` \
     or choose another --data-dir"
)]
pub struct NotPrivate {
    pub path: String,
    pub mode: u32,
    why: &'static str,
    source: io::Error,
}

impl NotPrivate {
    /// The failures of making `path` private with `mode`, from what was being done and why
    /// it failed.
    fn at(path: &Path, mode: u32) -> impl Fn(&'static str, io::Error) -> Self + '_ {
        move |why, source| Self {
            path: path.display().to_string(),
            mode,
            why,
            source,
        }
    }
}

/// Creates `dir` (0700) or tightens an existing one, and every file already in it (by
/// path, never opening them), with a log line for each change.
pub fn ensure_dir(dir: &Path) -> Result<(), NotPrivate> {
    let fail = NotPrivate::at(dir, DIR_MODE);
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| fail("cannot create it", e))?;
    tighten(dir, DIR_MODE).map_err(|e| fail("cannot restrict it", e))?;
    for entry in fs::read_dir(dir).map_err(|e| fail("cannot list it", e))? {
        let path = entry.map_err(|e| fail("cannot list it", e))?.path();
        if path.is_file() {
            tighten(&path, FILE_MODE)
                .map_err(|e| NotPrivate::at(&path, FILE_MODE)("cannot restrict it", e))?;
        }
    }
    Ok(())
}

/// Creates `file` empty with mode 0600 if it is missing, or tightens an existing one by
/// path (an existing file is never opened, see the module's note).
pub fn ensure_file(file: &Path) -> Result<(), NotPrivate> {
    let fail = NotPrivate::at(file, FILE_MODE);
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(file);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            tighten(file, FILE_MODE).map_err(|e| fail("cannot restrict it", e))
        }
        Err(e) => Err(fail("cannot create it", e)),
    }
}

/// Removes every permission beyond `mode` (group and others), logging when it changes.
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    let current = fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        fs::set_permissions(path, Permissions::from_mode(current & mode))?;
        tracing::warn!(
            path = %path.display(),
            "was readable by other users (mode {current:o}); restricted to {:o}",
            current & mode
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_paths_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/data");
        ensure_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("x.sqlite3");
        ensure_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn open_paths_are_tightened_and_contents_kept() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("userpool.sqlite3-wal");
        fs::write(&file, b"kept").unwrap();
        fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        ensure_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read(&file).unwrap(), b"kept");
    }
}
