//! A server of any make (ours or a peer) run as a child process on 127.0.0.1, timed from
//! exec to its first answer, and always stopped: killed when dropped, even when the part
//! fails half way, so no peer outlives the run.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long a server may take to answer (the Python peers import a lot).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What counts as the first answer.
#[derive(Debug, Clone, Copy)]
pub enum Ready {
    /// Any HTTP answer to `GET <path>`: the server parses requests.
    Answer(&'static str),
    /// A 2xx to `GET <path>`, as `/readyz` gives once the store is open.
    Ok(&'static str),
}

pub struct Server {
    pub name: &'static str,
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Exec to the first answer.
    pub startup: Duration,
    log: PathBuf,
}

impl Server {
    /// Runs `command` (which must listen on `port`), its output to `log`, and waits for
    /// `ready`.
    pub async fn start(
        name: &'static str,
        mut command: Command,
        port: u16,
        ready: Ready,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let out = File::create(log).with_context(|| format!("create {}", log.display()))?;
        let started = Instant::now();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {name} ({command:?})"))?;
        let mut server = Self {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            startup: Duration::ZERO,
            log: log.to_owned(),
        };
        let (path, want_ok) = match ready {
            Ready::Answer(path) => (path, false),
            Ready::Ok(path) => (path, true),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}{path}", server.base);
        loop {
            if let Ok(answer) = http.get(&url).send().await
                && (!want_ok || answer.status().is_success())
            {
                break;
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "{name} exited before answering ({status}):\n{}",
                    server.log()
                );
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("{name} did not answer {url} within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.startup = started.elapsed();
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now (VmRSS).
    pub fn rss_mb(&self) -> anyhow::Result<f64> {
        status_mb(self.pid(), "VmRSS:")
    }

    /// Peak resident memory so far (VmHWM).
    pub fn peak_rss_mb(&self) -> anyhow::Result<f64> {
        status_mb(self.pid(), "VmHWM:")
    }

    /// SIGTERM, as a service manager stops it, and up to 30 s for the exit: a server that
    /// checkpoints its database on the way out leaves it as it would be found next time.
    pub fn terminate(mut self) -> anyhow::Result<()> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()?;
        anyhow::ensure!(sent.success(), "SIGTERM to {} was not delivered", self.name);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("{} did not exit within 30 s of SIGTERM", self.name)
    }

    /// The end of what the server printed, for an error message.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail = text.len().saturating_sub(2000);
        text[text.ceil_char_boundary(tail)..].to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_mb(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc status"))?;
    Ok(kib / 1024.0)
}

/// A tool installed into the checkout by `scripts/install-test-tools.sh`, or the error that
/// says how to install it.
pub fn installed(relative: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(relative);
    if path.is_file() {
        Ok(path.to_owned())
    } else {
        bail!("{relative} is missing: bench/run.sh installs it (scripts/install-test-tools.sh)")
    }
}
