//! What `taskapi export` and `import` share: opening the store they name, the files they
//! write and read (standard streams with `-`, gzip), and the progress bar.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use taskapi_store_dynamodb::{DynamoConfig, DynamoStore};
use taskapi_store_sqlite::SqliteStore;
use taskapi_userpool::private;

use crate::config::StoreOptions;
use crate::serve::TASK_DATABASE;

/// The longest line read: an item is at most 400 KB, and JSON escapes can grow it.
pub(crate) const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// `-` means a standard stream.
fn is_std_stream(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The SQLite store of `options.data_dir`; with `create`, made if it does not exist.
pub(crate) fn sqlite(options: &StoreOptions, create: bool) -> anyhow::Result<SqliteStore> {
    let path = options.data_dir.join(TASK_DATABASE);
    if create {
        private::ensure_dir(&options.data_dir)?;
        private::ensure_file(&path)?;
    } else if !path.exists() {
        anyhow::bail!("there is no task database at {}", path.display());
    }
    SqliteStore::open(&path).with_context(|| format!("cannot open {}", path.display()))
}

/// The DynamoDB store of `options`, checked to be reachable.
pub(crate) async fn dynamodb(options: &StoreOptions) -> anyhow::Result<DynamoStore> {
    let store = DynamoConfig {
        table: options.table.table_name.clone(),
        status_shards: options.status_shards,
    }
    .store()
    .await;
    store
        .warm_up()
        .await
        .with_context(|| format!("cannot reach DynamoDB table {}", store.table()))?;
    Ok(store)
}

/// Where an export goes: a file written beside its final name and renamed into place when
/// complete (so a failed export never leaves a file that looks whole), or standard output.
pub(crate) struct Output {
    sink: Sink,
    rename: Option<(PathBuf, PathBuf)>,
}

enum Sink {
    Stdout(BufWriter<io::Stdout>),
    Plain(BufWriter<File>),
    /// `None` only while a member is being finished.
    Gzip(Option<GzEncoder<BufWriter<File>>>),
}

impl Output {
    /// Opens `path` (`-` is standard output); gzip when the name ends in `.gz`. With
    /// `resume_at`, goes on with the partial file an interrupted export left, cut back to
    /// that length (its last [`Output::checkpoint`]).
    pub(crate) fn create(path: &Path, resume_at: Option<u64>) -> anyhow::Result<Self> {
        if is_std_stream(path) {
            return Ok(Self {
                sink: Sink::Stdout(BufWriter::new(io::stdout())),
                rename: None,
            });
        }
        let partial = Self::partial_path(path);
        let mut file = File::options()
            .create(true)
            .truncate(resume_at.is_none())
            .write(true)
            .open(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        if let Some(length) = resume_at {
            file.set_len(length)?;
            file.seek(SeekFrom::End(0))?;
        }
        let file = BufWriter::with_capacity(256 * 1024, file);
        let sink = if path.extension().is_some_and(|ext| ext == "gz") {
            Sink::Gzip(Some(GzEncoder::new(file, Compression::default())))
        } else {
            Sink::Plain(file)
        };
        Ok(Self {
            sink,
            rename: Some((partial, path.to_owned())),
        })
    }

    /// The file an export of `path` writes until it is complete.
    pub(crate) fn partial_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    }

    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Stdout(out) => out,
            Sink::Plain(file) => file,
            Sink::Gzip(gzip) => gzip.as_mut().expect("a gzip member is open"),
        }
    }

    pub(crate) fn line(&mut self, line: &str) -> io::Result<()> {
        let writer = self.writer();
        writer.write_all(line.as_bytes())?;
        writer.write_all(b"\n")
    }

    /// Makes everything written so far whole on disk (a gzip member is finished; the next
    /// lines go in a new one, and readers take the members as one stream) and returns the
    /// file's length: where a resumed export cuts the file back to.
    pub(crate) fn checkpoint(&mut self) -> io::Result<u64> {
        let file = match &mut self.sink {
            Sink::Stdout(out) => {
                out.flush()?;
                return Ok(0);
            }
            Sink::Plain(file) => file,
            Sink::Gzip(gzip) => {
                let finished = gzip.take().expect("a gzip member is open").finish()?;
                gzip.insert(GzEncoder::new(finished, Compression::default()))
                    .get_mut()
            }
        };
        file.flush()?;
        file.get_ref().sync_data()?;
        file.get_ref().metadata().map(|meta| meta.len())
    }

    /// Completes the file and moves it to its name.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => out.flush()?,
            Sink::Plain(file) => file.flush()?,
            Sink::Gzip(gzip) => gzip
                .take()
                .expect("a gzip member is open")
                .finish()?
                .flush()?,
        }
        if let Some((partial, path)) = self.rename.take() {
            std::fs::rename(&partial, &path).with_context(|| {
                format!("cannot move {} to {}", partial.display(), path.display())
            })?;
        }
        Ok(())
    }
}

/// Opens an import's input (`-` is standard input), decompressing gzip (recognised by its
/// magic bytes, so a DynamoDB export's `.json.gz` files and ours read alike), with a
/// progress bar over the bytes of the file.
pub(crate) fn open_input(
    path: &Path,
    bar: &ProgressBar,
) -> anyhow::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if is_std_stream(path) {
        Box::new(io::stdin())
    } else {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        bar.set_length(file.metadata()?.len());
        Box::new(bar.wrap_read(file))
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::new(MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    })
}

/// A progress bar on standard error, drawn only when that is a terminal.
pub(crate) fn progress_bar(quiet: bool, template: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        .with_style(ProgressStyle::with_template(template).expect("a valid progress template"))
}

/// A message on standard error, above the progress bar (if one is drawn).
pub(crate) fn note(bar: &ProgressBar, message: &str) {
    bar.suspend(|| eprintln!("{message}"));
}

/// One line of at most [`MAX_LINE_BYTES`] into `line` (without its newline), reading past
/// the rest of a longer one. `Ok(None)` at the end of the input; `Ok(Some(false))` for a
/// line that was too long.
pub(crate) fn read_line(input: &mut dyn BufRead, line: &mut Vec<u8>) -> io::Result<Option<bool>> {
    line.clear();
    let limit = MAX_LINE_BYTES as u64 + 1;
    let read = input.take(limit).read_until(b'\n', line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        return Ok(Some(true));
    }
    if line.len() <= MAX_LINE_BYTES {
        // The last line, without a newline.
        return Ok(Some(true));
    }
    // Too long: skip to the end of the line without keeping it.
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            break;
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(end) => {
                input.consume(end + 1);
                break;
            }
            None => {
                let len = available.len();
                input.consume(len);
            }
        }
    }
    line.clear();
    Ok(Some(false))
}
