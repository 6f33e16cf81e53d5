//! Live updates on `taskapi serve` (`GET /live`): how long an event takes from a write's
//! 2xx to another socket, with 1, 100 and 1,000 sockets open; what an idle socket costs in
//! memory; and the write path's throughput with 1,000 sockets open against none (before
//! and after), measured in the same run on the same server.
//!
//! The writer adds tasks to a project it owns; its second socket (another tab) receives
//! them. The other sockets are idle users of their own, so every event is checked against
//! each of them (the hub's routing scan) and delivered to one.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use taskapi_testkit::{CLIENT_ID, TestPool};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::local;
use crate::stats::rank;
use crate::table::Table;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    /// Writes timed at each socket count.
    pub samples: usize,
    /// Seconds of writes per throughput run.
    pub throughput_seconds: u64,
    /// Concurrent writers in the throughput runs.
    pub writers: usize,
}

impl Profile {
    pub const FULL: Profile = Profile {
        samples: 500,
        throughput_seconds: 10,
        writers: 8,
    };
    pub const QUICK: Profile = Profile {
        samples: 50,
        throughput_seconds: 2,
        writers: 8,
    };
}

/// The socket counts the latency is measured at; the largest is the memory and throughput
/// run's.
const SOCKET_COUNTS: [usize; 3] = [1, 100, 1000];

#[derive(Debug, Serialize)]
pub struct Latency {
    /// Sockets open on the server (the writer's receiving tab among them).
    pub sockets: usize,
    pub samples: usize,
    /// From the write's 2xx to the event on the writer's other socket, in ms; 0 when the
    /// event came first (it is published at commit, as the answer is sent).
    pub from_2xx_p50_ms: f64,
    pub from_2xx_p99_ms: f64,
    /// From sending the write to the event, in ms.
    pub from_request_p50_ms: f64,
    pub from_request_p99_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub latency: Vec<Latency>,
    /// Resident memory (VmRSS) growth per idle socket, opening 999 of them, in KiB.
    pub kib_per_idle_socket: f64,
    /// Project-task creates per second with no socket open.
    pub writes_per_sec_no_sockets: f64,
    /// The same with 1,000 sockets open (one of them receiving every event).
    pub writes_per_sec_1000_sockets: f64,
    /// With none open again, after them.
    pub writes_per_sec_no_sockets_after: f64,
    /// With 1,000 open over the mean of the two runs with none.
    pub throughput_ratio: f64,
}

pub async fn run(taskapi: &Path, profile: Profile) -> anyhow::Result<Report> {
    ensure!(taskapi.exists(), "{} not found", taskapi.display());
    let pool = TestPool::start().await;
    let data = tempfile::tempdir()?;
    let server = local::serve(
        taskapi,
        data.path(),
        &[
            "--jwt-issuer",
            &pool.issuer,
            "--jwt-audience",
            CLIENT_ID,
            "--max-live-sockets",
            "5000",
            // The idle sockets read nothing, so they answer no ping: none is sent meanwhile.
            "--live-ping-interval",
            "600",
        ],
    );
    let base = server.base.clone();
    let ws_base = base.replacen("http", "ws", 1);
    let http = reqwest::Client::new();
    let writer = pool.id_token("bench-writer", &[]);
    let project: Value = http
        .post(format!("{base}/projects"))
        .header("authorization", &writer)
        .json(&json!({"name": "live bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let tasks_url = format!(
        "{base}/projects/{}/tasks",
        project["project_id"].as_str().context("a project id")?
    );

    // Throughput with nothing open, before any socket exists.
    let writes_per_sec_no_sockets = throughput(&http, &tasks_url, &writer, profile).await?;

    let (mut tab, _) = tokio_tungstenite::connect_async(format!("{ws_base}/live?token={writer}"))
        .await
        .context("the writer's socket opens")?;
    let mut idle: Vec<Socket> = Vec::new();
    let rss_before = rss_kib(server.pid())?;
    let mut latency = Vec::new();
    for count in SOCKET_COUNTS {
        while idle.len() + 1 < count {
            let token = pool.id_token(&format!("bench-idle-{}", idle.len()), &[]);
            let (socket, _) =
                tokio_tungstenite::connect_async(format!("{ws_base}/live?token={token}")).await?;
            idle.push(socket);
        }
        latency.push(measure(&http, &tasks_url, &writer, &mut tab, count, profile).await?);
    }
    let opened = idle.len();
    // Let the server settle its buffers before reading its memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kib_per_idle_socket = (rss_kib(server.pid())? - rss_before) / opened as f64;

    // The writer's tab drains its events while the writes run, as a browser would.
    let draining = tokio::spawn(async move { while tab.next().await.is_some() {} });
    let writes_per_sec_1000_sockets = throughput(&http, &tasks_url, &writer, profile).await?;
    draining.abort();
    drop(idle);
    // Again with none open: the tables have grown meanwhile, so the baseline is the mean of
    // the runs before and after.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes_per_sec_no_sockets_after = throughput(&http, &tasks_url, &writer, profile).await?;
    let baseline = (writes_per_sec_no_sockets + writes_per_sec_no_sockets_after) / 2.0;
    Ok(Report {
        profile,
        latency,
        kib_per_idle_socket,
        writes_per_sec_no_sockets,
        writes_per_sec_1000_sockets,
        writes_per_sec_no_sockets_after,
        throughput_ratio: writes_per_sec_1000_sockets / baseline,
    })
}

/// Times `profile.samples` writes, one at a time, to their event on `tab`.
async fn measure(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    tab: &mut Socket,
    sockets: usize,
    profile: Profile,
) -> anyhow::Result<Latency> {
    let (mut from_2xx, mut from_request) = (Vec::new(), Vec::new());
    for n in 0..profile.samples {
        let title = format!("timed {sockets}/{n}");
        let sent = Instant::now();
        let answer = http
            .post(url)
            .header("authorization", token)
            .json(&json!({ "title": title }))
            .send();
        let event = async {
            loop {
                match tab.next().await {
                    Some(Ok(Message::Text(text))) if text.contains(&title) => {
                        return Ok(Instant::now());
                    }
                    Some(Ok(_)) => {}
                    other => anyhow::bail!("the writer's socket ended: {other:?}"),
                }
            }
        };
        let (answer, arrived) = tokio::join!(
            async {
                let answer = answer.await?.error_for_status()?;
                Ok::<_, anyhow::Error>((answer, Instant::now()))
            },
            tokio::time::timeout(Duration::from_secs(10), event)
        );
        let (_, answered) = answer?;
        let arrived = arrived.context("no event within 10 s")??;
        from_2xx.push(arrived.saturating_duration_since(answered));
        from_request.push(arrived - sent);
    }
    let ms = |samples: &[Duration], q: f64| {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        rank(&ms, q)
    };
    Ok(Latency {
        sockets,
        samples: profile.samples,
        from_2xx_p50_ms: ms(&from_2xx, 0.5),
        from_2xx_p99_ms: ms(&from_2xx, 0.99),
        from_request_p50_ms: ms(&from_request, 0.5),
        from_request_p99_ms: ms(&from_request, 0.99),
    })
}

/// Creates per second from `profile.writers` concurrent writers for the profile's seconds.
async fn throughput(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    profile: Profile,
) -> anyhow::Result<f64> {
    let running = Arc::new(AtomicBool::new(true));
    let done = Arc::new(AtomicU64::new(0));
    let mut writers = JoinSet::new();
    for _ in 0..profile.writers {
        let (http, url, token) = (http.clone(), url.to_owned(), token.to_owned());
        let (running, done) = (Arc::clone(&running), Arc::clone(&done));
        writers.spawn(async move {
            while running.load(Ordering::Relaxed) {
                http.post(&url)
                    .header("authorization", &token)
                    .json(&json!({"title": "throughput"}))
                    .send()
                    .await?
                    .error_for_status()?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(profile.throughput_seconds)).await;
    running.store(false, Ordering::Relaxed);
    let writes = done.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    while let Some(writer) = writers.join_next().await {
        writer??;
    }
    Ok(writes as f64 / elapsed.as_secs_f64())
}

fn rss_kib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc status")
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let table = Table::of(&self.latency)
            .number("sockets open", |l| l.sockets)
            .fixed("2xx → event p50 (ms)", 2, |l| l.from_2xx_p50_ms)
            .fixed("2xx → event p99 (ms)", 2, |l| l.from_2xx_p99_ms)
            .fixed("request → event p50 (ms)", 2, |l| l.from_request_p50_ms)
            .fixed("request → event p99 (ms)", 2, |l| l.from_request_p99_ms);
        format!(
            "{}\nMemory per idle socket: {:.1} KiB. Writes: {:.0}/s with no socket open, \
             {:.0}/s with 1,000 open, {:.0}/s with none again ({:.0}% of the mean without).\n",
            table.render(),
            self.kib_per_idle_socket,
            self.writes_per_sec_no_sockets,
            self.writes_per_sec_1000_sockets,
            self.writes_per_sec_no_sockets_after,
            self.throughput_ratio * 100.0
        )
    }
}
