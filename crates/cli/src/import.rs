//! `taskapi import`: a file of DynamoDB JSON lines into either store.
//!
//! Streaming: a reader thread reads, parses and validates one line at a time (so memory
//! stays flat however large the file) and hands batches to the store: `BatchWriteItem`s of
//! 25 on DynamoDB, several in flight, one transaction per batch on SQLite. Every line is
//! checked against the table's layout before anything of it is written; a bad one is named
//! by its line number and stops the import (lines before it are in), or with
//! `--skip-invalid` is reported and passed over. Importing is idempotent: an item the store
//! holds already is left alone, one it holds with other content is reported and kept
//! unless `--overwrite`, so an interrupted import run again finishes the job.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use anyhow::Context;
use indicatif::ProgressBar;
use taskapi_domain::{ImportOutcome, ImportRecords, Record, StoreError};
use taskapi_store_dynamodb::{BATCH_SIZE, dynamodb_json, item_to_record};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::{ImportConfig, StoreKind};
use crate::export::unix_now;
use crate::transfer::{self, MAX_LINE_BYTES};

/// Records per SQLite transaction: large enough that commits are few.
const SQLITE_BATCH: usize = 500;
/// DynamoDB batches in flight at once.
const DYNAMODB_IN_FLIGHT: usize = 8;

/// The store an import writes to, and how it is fed.
#[derive(Clone)]
struct Target {
    store: Arc<dyn ImportRecords>,
    /// Records per call: DynamoDB's batch limit, or a transaction's worth on SQLite.
    batch_size: usize,
    /// Calls in flight: SQLite has one writer, so two keep it busy.
    in_flight: usize,
}

impl Target {
    async fn open(config: &ImportConfig) -> anyhow::Result<Self> {
        Ok(match config.store.store {
            StoreKind::Sqlite => Self {
                store: Arc::new(transfer::sqlite(&config.store, true)?),
                batch_size: SQLITE_BATCH,
                in_flight: 2,
            },
            StoreKind::Dynamodb => Self {
                store: Arc::new(transfer::dynamodb(&config.store).await?),
                batch_size: BATCH_SIZE,
                in_flight: DYNAMODB_IN_FLIGHT,
            },
        })
    }
}

/// Records of distinct keys, each with its line number.
type Batch = Vec<(u64, Record)>;

/// A batch's line numbers and what importing it did.
type Written = (Vec<u64>, Result<Vec<ImportOutcome>, StoreError>);

/// What the reader found besides the batches.
#[derive(Debug, Default)]
struct ReadTally {
    lines: u64,
    invalid: u64,
    expired: u64,
}

pub async fn run(config: ImportConfig) -> anyhow::Result<()> {
    let target = Target::open(&config).await?;
    let bar = transfer::progress_bar(
        config.quiet,
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta}) {msg}",
    );
    let users = match &config.user_map {
        Some(path) => read_user_map(path)?,
        None => HashMap::new(),
    };
    let input = transfer::open_input(&config.input, &bar)?;
    let (batches, mut received) = mpsc::channel::<Batch>(target.in_flight * 2);
    let batch_size = target.batch_size;
    let reader_bar = bar.clone();
    let skip_invalid = config.skip_invalid;
    let reader = tokio::task::spawn_blocking(move || {
        let reading = Reading {
            batch_size,
            skip_invalid,
            users,
        };
        read_batches(input, &reading, &reader_bar, &batches)
    });

    let mut outcomes: BTreeMap<ImportOutcome, u64> = BTreeMap::new();
    let mut in_flight = InFlight::default();
    let mut written = Ok(());
    while let Some(batch) = received.recv().await {
        // Two batches holding one key must not race: the later waits for the earlier.
        let keys: Vec<_> = batch.iter().map(|(_, record)| record.key()).collect();
        while in_flight.tasks.len() >= target.in_flight || in_flight.holds_any(&keys) {
            written = written.and(in_flight.settle(&mut outcomes, &bar).await);
        }
        if written.is_err() {
            break;
        }
        let (target, overwrite) = (target.clone(), config.overwrite);
        let task = in_flight.tasks.spawn(async move {
            let (lines, records): (Vec<u64>, Vec<Record>) = batch.into_iter().unzip();
            let outcomes = target.store.import(records, overwrite).await;
            (lines, outcomes)
        });
        in_flight.keys.extend(keys.iter().cloned());
        in_flight.by_task.insert(task.id(), keys);
    }
    drop(received);
    while !in_flight.tasks.is_empty() {
        written = written.and(in_flight.settle(&mut outcomes, &bar).await);
    }
    let read = reader.await.context("the reader thread failed")?;
    bar.finish_and_clear();
    let tally = match &read {
        Ok(tally) | Err((tally, _)) => tally,
    };
    print_summary(&config, tally, &outcomes);
    written.context("the import stopped; run it again to finish (what is in stays as it is)")?;
    if let Err((_, err)) = read {
        return Err(err);
    }
    Ok(())
}

/// The batches being written, and the keys they hold (only theirs: memory stays flat).
#[derive(Default)]
struct InFlight {
    tasks: JoinSet<Written>,
    keys: HashSet<(String, String)>,
    by_task: HashMap<tokio::task::Id, Vec<(String, String)>>,
}

impl InFlight {
    fn holds_any(&self, keys: &[(String, String)]) -> bool {
        keys.iter().any(|key| self.keys.contains(key))
    }

    /// Waits for one batch in flight and counts what it did; conflicts are named.
    async fn settle(
        &mut self,
        outcomes: &mut BTreeMap<ImportOutcome, u64>,
        bar: &ProgressBar,
    ) -> anyhow::Result<()> {
        let Some(done) = self.tasks.join_next_with_id().await else {
            return Ok(());
        };
        let task = match &done {
            Ok((task, _)) => *task,
            Err(failed) => failed.id(),
        };
        for key in self.by_task.remove(&task).unwrap_or_default() {
            self.keys.remove(&key);
        }
        let (_, (lines, result)) = done.context("an import task failed")?;
        let first = lines.first().copied().unwrap_or_default();
        let batch =
            result.with_context(|| format!("writing the batch from line {first} failed"))?;
        for (line, outcome) in lines.iter().zip(batch) {
            if outcome == ImportOutcome::Conflict {
                transfer::note(
                    bar,
                    &format!(
                        "line {line}: the store holds other content under this item's key; kept (--overwrite replaces it)"
                    ),
                );
            }
            *outcomes.entry(outcome).or_default() += 1;
        }
        Ok(())
    }
}

/// How the reader reads.
struct Reading {
    batch_size: usize,
    skip_invalid: bool,
    /// Users whose records move to a new id.
    users: HashMap<String, String>,
}

/// Reads, parses and validates `input` line by line into batches. On an invalid line it
/// stops (after sending what came before), unless `skip_invalid`.
fn read_batches(
    mut input: Box<dyn std::io::BufRead + Send>,
    reading: &Reading,
    bar: &ProgressBar,
    batches: &mpsc::Sender<Batch>,
) -> Result<ReadTally, (ReadTally, anyhow::Error)> {
    let batch_size = reading.batch_size;
    let now = unix_now();
    let mut tally = ReadTally::default();
    let mut batch: Batch = Vec::with_capacity(batch_size);
    let mut keys = HashSet::new();
    let mut line = Vec::new();
    let send = |batch: Batch| batches.blocking_send(batch).is_ok();
    loop {
        let read = match transfer::read_line(&mut input, &mut line) {
            Ok(read) => read,
            Err(err) => {
                let err = anyhow::Error::new(err)
                    .context(format!("cannot read line {}", tally.lines + 1));
                send(batch);
                return Err((tally, err));
            }
        };
        let Some(whole) = read else { break };
        tally.lines += 1;
        let number = tally.lines;
        let parsed = if whole {
            parse(&line)
        } else {
            Err(format!("longer than {MAX_LINE_BYTES} bytes"))
        };
        let mut record = match parsed {
            Ok(record) => record,
            Err(reason) if reading.skip_invalid => {
                tally.invalid += 1;
                transfer::note(bar, &format!("line {number}: {reason}; skipped"));
                continue;
            }
            Err(reason) => {
                send(batch);
                let err = anyhow::anyhow!(
                    "line {number}: {reason}. Nothing of it was written (lines before it were); \
                     fix it and run the import again, or pass --skip-invalid"
                );
                return Err((tally, err));
            }
        };
        if let Record::Idempotency(held) = &record
            && held.expires_at <= now
        {
            tally.expired += 1;
            continue;
        }
        record.rename_users(&reading.users);
        let key = record.key();
        if keys.contains(&key) || batch.len() >= batch_size {
            if !send(std::mem::take(&mut batch)) {
                break;
            }
            keys.clear();
        }
        keys.insert(key);
        batch.push((number, record));
    }
    if !batch.is_empty() {
        send(batch);
    }
    Ok(tally)
}

/// `<old>,<new>` per line; blank lines and `#` comments are passed over.
fn read_user_map(path: &std::path::Path) -> anyhow::Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let mut users = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let pair = line
            .split_once(',')
            .map(|(old, new)| (old.trim(), new.trim()))
            .filter(|(old, new)| !old.is_empty() && !new.is_empty() && !new.contains(','));
        let Some((old, new)) = pair else {
            anyhow::bail!(
                "{} line {}: expected <old sub>,<new sub>",
                path.display(),
                number + 1
            );
        };
        users.insert(old.to_owned(), new.to_owned());
    }
    Ok(users)
}

fn parse(line: &[u8]) -> Result<Record, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_owned())?;
    let item = dynamodb_json::from_line(text).map_err(|err| err.to_string())?;
    item_to_record(&item).map_err(|err| err.to_string())
}

fn print_summary(
    config: &ImportConfig,
    tally: &ReadTally,
    outcomes: &BTreeMap<ImportOutcome, u64>,
) {
    let count = |outcome| outcomes.get(&outcome).copied().unwrap_or(0);
    let into = match config.store.store {
        StoreKind::Sqlite => format!("SQLite in {}", config.store.data_dir.display()),
        StoreKind::Dynamodb => format!("DynamoDB table {}", config.store.table.table_name),
    };
    println!(
        "imported {} into {into}: {} lines read; {} written, {} unchanged, {} conflicts kept, \
         {} overwritten, {} mirrors kept with their items, {} lapsed idempotency records \
         skipped, {} invalid lines skipped",
        config.input.display(),
        tally.lines,
        count(ImportOutcome::Written),
        count(ImportOutcome::Unchanged),
        count(ImportOutcome::Conflict),
        count(ImportOutcome::Overwritten),
        count(ImportOutcome::Derived),
        tally.expired,
        tally.invalid,
    );
}
