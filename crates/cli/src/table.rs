//! `taskapi table create`: the seed's `dynamo_setup.py`, idempotent and patient.
//! `taskapi table reshard`: every task's status key moved to another shard count, with a
//! progress bar and a checkpoint file to resume from.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use taskapi_store_dynamodb::{
    DynamoConfig, ReshardProgress, TableCreation, TableKey, create_table,
};

use crate::config::{ReshardConfig, TableConfig};

pub async fn create(config: TableConfig) -> anyhow::Result<()> {
    let dynamo = DynamoConfig {
        table: config.table_name,
        ..DynamoConfig::default()
    };
    let client = dynamo.client().await;
    match create_table(&client, &dynamo.table).await? {
        TableCreation::Created => println!("created table {} (ACTIVE)", dynamo.table),
        TableCreation::AlreadyExisted => {
            println!(
                "table {} already exists with the expected schema",
                dynamo.table
            )
        }
        TableCreation::Upgraded { added } => println!(
            "table {} already existed; added the index(es) {} (ACTIVE)",
            dynamo.table,
            added.join(", ")
        ),
    }
    Ok(())
}

/// What the checkpoint file holds: the table key the scan resumes after, for one table and
/// one target shard count (a checkpoint for another target is not resumed).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Checkpoint {
    table: String,
    shards: u16,
    pk: String,
    sk: String,
}

pub async fn reshard(config: ReshardConfig) -> anyhow::Result<()> {
    let dynamo = DynamoConfig {
        table: config.table.table_name,
        status_shards: config.shards,
    };
    let checkpoint_path = config
        .checkpoint
        .unwrap_or_else(|| PathBuf::from(format!("reshard-{}.json", dynamo.table)));
    let resume_after = read_checkpoint(&checkpoint_path, &dynamo)?;
    let store = dynamo.store().await;
    let bar = if config.quiet {
        ProgressBar::hidden()
    } else {
        let length = store.approximate_item_count().await?.unwrap_or(0);
        ProgressBar::new(length).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/~{len} items ({per_sec}, ETA {eta}) {msg}",
            )
            .expect("a valid progress template"),
        )
    };
    if let Some(key) = &resume_after {
        bar.println(format!(
            "resuming after {}/{} (from {})",
            key.pk,
            key.sk,
            checkpoint_path.display()
        ));
    }
    // Ctrl-C stops after the page in flight, once its checkpoint is saved.
    let interrupted = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&interrupted);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.store(true, Ordering::SeqCst);
        }
    });
    let mut saved: anyhow::Result<()> = Ok(());
    let progress = store
        .reshard(resume_after, config.page_size, |progress, next| {
            bar.set_position(progress.scanned);
            bar.set_length(bar.length().unwrap_or(0).max(progress.scanned));
            bar.set_message(format!("{} moved", progress.moved));
            saved = write_checkpoint(&checkpoint_path, &dynamo, next);
            if saved.is_err() || interrupted.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
        .with_context(|| {
            format!(
                "reshard stopped; run it again to resume from {}",
                checkpoint_path.display()
            )
        })?;
    saved?;
    bar.finish_and_clear();
    print_summary(&dynamo, &progress);
    if interrupted.load(Ordering::SeqCst) && checkpoint_path.exists() {
        println!(
            "interrupted: run the same command again to resume from {}",
            checkpoint_path.display()
        );
    }
    Ok(())
}

fn read_checkpoint(path: &Path, dynamo: &DynamoConfig) -> anyhow::Result<Option<TableKey>> {
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("read {}", path.display())),
    };
    let checkpoint: Checkpoint = serde_json::from_slice(&raw)
        .with_context(|| format!("{} is not a reshard checkpoint", path.display()))?;
    if checkpoint.table != dynamo.table || checkpoint.shards != dynamo.status_shards.get() {
        anyhow::bail!(
            "{} belongs to a reshard of {} to {} shards; remove it to start this one",
            path.display(),
            checkpoint.table,
            checkpoint.shards
        );
    }
    Ok(Some(TableKey {
        pk: checkpoint.pk,
        sk: checkpoint.sk,
    }))
}

/// Saves where to resume, or removes the file once the scan is complete. Written to a
/// temporary file and renamed, so an interrupted write never leaves half a checkpoint.
fn write_checkpoint(
    path: &Path,
    dynamo: &DynamoConfig,
    next: Option<&TableKey>,
) -> anyhow::Result<()> {
    let Some(key) = next else {
        return match std::fs::remove_file(path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(err).with_context(|| format!("remove {}", path.display()))
            }
            _ => Ok(()),
        };
    };
    let checkpoint = Checkpoint {
        table: dynamo.table.clone(),
        shards: dynamo.status_shards.get(),
        pk: key.pk.clone(),
        sk: key.sk.clone(),
    };
    let partial = path.with_extension("json.partial");
    std::fs::write(
        &partial,
        serde_json::to_vec(&checkpoint).expect("a checkpoint serializes"),
    )
    .and_then(|()| std::fs::rename(&partial, path))
    .with_context(|| format!("save the checkpoint {}", path.display()))
}

fn print_summary(dynamo: &DynamoConfig, progress: &ReshardProgress) {
    println!(
        "table {}: status keys on {} shard(s): {} items read, {} moved, {} already in place, {} left alone",
        dynamo.table,
        dynamo.status_shards,
        progress.scanned,
        progress.moved,
        progress.in_place,
        progress.skipped
    );
}
