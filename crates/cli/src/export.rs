//! `taskapi export`: every item of the store as DynamoDB JSON lines, the format of
//! DynamoDB's export to S3, so the file imports into either store and into a new table with
//! DynamoDB's `ImportTable`.
//!
//! From SQLite: the rows as the DynamoDB store's items, read in one transaction (a
//! consistent snapshot while the server goes on). From DynamoDB: the items as they are, by
//! a parallel `Scan`; after every page the file is made whole on disk and the scan's
//! position saved in a checkpoint, so an interrupted export run again goes on from there.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use taskapi_domain::keys::StatusShards;
use taskapi_store_dynamodb::{
    DynamoStore, Item, dynamodb_json, is_webhook_item, lapsed, record_to_item,
};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::{ExportConfig, StoreKind};
use crate::transfer::{self, Output};

pub async fn run(config: ExportConfig) -> anyhow::Result<()> {
    let now = unix_now();
    let bar = transfer::progress_bar(
        config.quiet,
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/~{len} items ({per_sec}) {msg}",
    );
    let count = match config.store.store {
        StoreKind::Sqlite => from_sqlite(&config, now, &bar).await?,
        StoreKind::Dynamodb => from_dynamodb(&config, now, &bar).await?,
    };
    bar.finish_and_clear();
    // Standard output may be the export itself: the summary goes to standard error.
    eprintln!("exported {count} items to {}", config.out.display());
    Ok(())
}

pub(crate) fn unix_now() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit an i64")
}

async fn from_sqlite(config: &ExportConfig, now: i64, bar: &ProgressBar) -> anyhow::Result<u64> {
    let store = transfer::sqlite(&config.store, false)?;
    let mut output = Output::create(&config.out, None)?;
    let bar = bar.clone();
    let (output, count) = tokio::task::spawn_blocking(move || {
        let count = store.export(now, |record| {
            let item = record_to_item(&record, StatusShards::SEED);
            output.line(&dynamodb_json::to_line(&item))?;
            bar.inc(1);
            Ok(())
        })?;
        anyhow::Ok((output, count))
    })
    .await??;
    output.finish()?;
    Ok(count)
}

/// Where a DynamoDB export is: for one table and segment count, how far each segment got,
/// and how long the partial file was then (anything after it is cut off on resuming).
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    table: String,
    segments: Vec<Segment>,
    bytes: u64,
    items: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
enum Segment {
    Start,
    /// Goes on after this key (a DynamoDB JSON line).
    After(String),
    Done,
}

/// One page a segment's scan hands to the writer.
struct Page {
    segment: usize,
    items: Vec<Item>,
    next: Option<Item>,
}

async fn from_dynamodb(config: &ExportConfig, now: i64, bar: &ProgressBar) -> anyhow::Result<u64> {
    let store = transfer::dynamodb(&config.store).await?;
    let total = usize::from(config.segments.get());
    let checkpoint_path = (config.out.as_os_str() != "-").then(|| {
        config.checkpoint.clone().unwrap_or_else(|| {
            let mut name = config.out.as_os_str().to_owned();
            name.push(".checkpoint");
            PathBuf::from(name)
        })
    });
    let resumed = match &checkpoint_path {
        Some(path) => read_checkpoint(path, &config.out, store.table(), total)?,
        None => None,
    };
    let resume_at = resumed.as_ref().map(|checkpoint| checkpoint.bytes);
    let mut state = resumed.unwrap_or_else(|| Checkpoint {
        table: store.table().to_owned(),
        segments: vec![Segment::Start; total],
        bytes: 0,
        items: 0,
    });
    if resume_at.is_some() {
        transfer::note(
            bar,
            &format!(
                "resuming the export of {} after {} items",
                state.table, state.items
            ),
        );
    }
    bar.set_length(store.approximate_item_count().await?.unwrap_or(0));
    bar.set_position(state.items);
    let mut output = Output::create(&config.out, resume_at)?;

    // One page queued per segment: what the export holds is bounded by the segments, not
    // by the table.
    let (pages, mut received) = mpsc::channel::<Page>(total);
    let mut scans = JoinSet::new();
    for (segment, position) in state.segments.iter().enumerate() {
        let start = match position {
            Segment::Done => continue,
            Segment::Start => None,
            Segment::After(key) => Some(dynamodb_json::from_line(key)?),
        };
        let (store, pages) = (store.clone(), pages.clone());
        scans.spawn(scan(store, segment, total, config.consistent, start, pages));
    }
    drop(pages);

    while let Some(page) = received.recv().await {
        let moved = page.items.iter();
        for item in moved.filter(|item| !lapsed(item, now) && !is_webhook_item(item)) {
            output.line(&dynamodb_json::to_line(item))?;
            state.items += 1;
        }
        bar.set_position(state.items);
        bar.set_length(bar.length().unwrap_or(0).max(state.items));
        state.segments[page.segment] = page.next.as_ref().map_or(Segment::Done, |key| {
            Segment::After(dynamodb_json::to_line(key))
        });
        // After every page (up to 1,000 items, a fraction of a second's scan): an fsync
        // and a new gzip member cost little beside it.
        if let Some(path) = checkpoint_path.as_deref() {
            state.bytes = output.checkpoint()?;
            write_checkpoint(path, &state)?;
        }
    }
    while let Some(scanned) = scans.join_next().await {
        if let Err(err) = scanned.context("a scan task failed")? {
            if let Some(path) = checkpoint_path.as_deref() {
                state.bytes = output.checkpoint()?;
                write_checkpoint(path, &state)?;
            }
            return Err(err).context("the export stopped; run it again to go on from where it was");
        }
    }
    output.finish()?;
    if let Some(path) = checkpoint_path {
        remove_if_present(&path)?;
    }
    Ok(state.items)
}

/// Scans one segment page by page, handing each page to the writer.
async fn scan(
    store: DynamoStore,
    segment: usize,
    total: usize,
    consistent: bool,
    mut start: Option<Item>,
    pages: mpsc::Sender<Page>,
) -> anyhow::Result<()> {
    let (index, count) = (i32::try_from(segment)?, i32::try_from(total)?);
    loop {
        let page = store.scan_page(index, count, consistent, start).await?;
        start = page.next.clone();
        let done = start.is_none();
        let sent = pages
            .send(Page {
                segment,
                items: page.items,
                next: page.next,
            })
            .await;
        if sent.is_err() || done {
            return Ok(());
        }
    }
}

/// The checkpoint to resume from, if there is one for this export.
fn read_checkpoint(
    path: &Path,
    out: &Path,
    table: &str,
    segments: usize,
) -> anyhow::Result<Option<Checkpoint>> {
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("read {}", path.display())),
    };
    let checkpoint: Checkpoint = serde_json::from_slice(&raw)
        .with_context(|| format!("{} is not an export checkpoint", path.display()))?;
    if checkpoint.table != table || checkpoint.segments.len() != segments {
        anyhow::bail!(
            "{} belongs to an export of {} in {} segments; remove it to start this one",
            path.display(),
            checkpoint.table,
            checkpoint.segments.len()
        );
    }
    if !Output::partial_path(out).exists() {
        anyhow::bail!(
            "{} has no partial export {} to go on with; remove it to start afresh",
            path.display(),
            Output::partial_path(out).display()
        );
    }
    Ok(Some(checkpoint))
}

/// Saved to a temporary file and renamed, so an interruption never leaves half of one.
fn write_checkpoint(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".tmp");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, serde_json::to_vec(checkpoint)?)
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("save the checkpoint {}", path.display()))
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("remove {}", path.display()))
        }
        _ => Ok(()),
    }
}
