//! `taskapi backup`: a consistent copy of a data directory while its server runs and
//! takes writes. Each SQLite database (the tasks, the user pool) is copied with SQLite's
//! online backup, which reads one snapshot through SQLite's own locking: a file copy could
//! tear (a write landing between pages, or in the `-wal` file beside it). The other files
//! (the pool's IAM credentials, the hosted UI's key and certificate, the outbox) are copied
//! as they are. Everything keeps the data directory's modes (0700, 0600), and each copied
//! database passes `PRAGMA integrity_check` before the backup is reported done.
//!
//! The copy is built beside its name and renamed into place at the end, so a backup that
//! fails leaves nothing that looks whole. Restoring is starting `taskapi serve --data-dir`
//! on it.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use taskapi_userpool::private;

use crate::config::BackupConfig;

/// How long a database may stay locked by its server before the backup gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A database's companions, which SQLite's backup already covers.
const DATABASE_COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

pub fn run(config: &BackupConfig) -> anyhow::Result<()> {
    let (from, to) = (&config.data_dir, &config.out);
    if !from.is_dir() {
        anyhow::bail!("{} is not a data directory", from.display());
    }
    if to.exists() {
        anyhow::bail!(
            "{} exists already; a backup goes to a new directory",
            to.display()
        );
    }
    let mut building = to.as_os_str().to_owned();
    building.push(".partial");
    let building = PathBuf::from(building);
    if building.exists() {
        fs::remove_dir_all(&building)
            .with_context(|| format!("remove the unfinished backup {}", building.display()))?;
    }
    private::ensure_dir(&building)?;
    let mut names: Vec<_> = fs::read_dir(from)
        .with_context(|| format!("list {}", from.display()))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .map(|entry| entry.file_name())
        .collect();
    names.sort();
    let mut copied = Vec::new();
    for name in names {
        let text = name.to_string_lossy();
        if DATABASE_COMPANIONS
            .iter()
            .any(|suffix| text.ends_with(suffix))
        {
            continue;
        }
        let (source, target) = (from.join(&name), building.join(&name));
        if text.ends_with(".sqlite3") {
            copy_database(&source, &target)?;
        } else {
            copy_file(&source, &target)?;
        }
        copied.push(text.into_owned());
    }
    fs::rename(&building, to)
        .with_context(|| format!("move {} to {}", building.display(), to.display()))?;
    println!(
        "backed up {} to {}: {} (databases checked with integrity_check); restore with \
         `taskapi serve --data-dir {}`",
        from.display(),
        to.display(),
        copied.join(", "),
        to.display()
    );
    Ok(())
}

/// SQLite's online backup of `source` into a new file `target` (0600), in one step, so
/// the copy is one snapshot; then the copy's integrity check.
fn copy_database(source: &Path, target: &Path) -> anyhow::Result<()> {
    let context = || format!("back up {}", source.display());
    // Read-write without create: a WAL database may need its `-shm` made to be read, and
    // a database that vanished meanwhile must not be recreated empty.
    let from = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(context)?;
    from.busy_timeout(BUSY_TIMEOUT).with_context(context)?;
    private::ensure_file(target)?;
    let mut to = Connection::open(target).with_context(context)?;
    {
        let backup = Backup::new(&from, &mut to).with_context(context)?;
        // All pages in one step, under one read transaction: steps of a few pages would
        // start over whenever the server writes between them, and it may never stop.
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            match backup.step(-1).with_context(context)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked
                    if Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => anyhow::bail!("{}: SQLite's backup gave up ({other:?})", context()),
            }
        }
    }
    let verdict: String = to
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .with_context(context)?;
    if verdict != "ok" {
        anyhow::bail!(
            "the copy of {} failed its integrity check: {verdict}",
            source.display()
        );
    }
    Ok(())
}

/// Copies a plain file into a new file with mode 0600.
fn copy_file(source: &Path, target: &Path) -> anyhow::Result<()> {
    let mut from = File::open(source).with_context(|| format!("read {}", source.display()))?;
    let mut to = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(target)
        .with_context(|| format!("write {}", target.display()))?;
    io::copy(&mut from, &mut to).with_context(|| format!("copy {}", source.display()))?;
    to.sync_all()?;
    Ok(())
}
