//! Webhooks under `taskapi serve` (SQLite): the write path's throughput (`POST /tasks` under
//! wrk) for a user with no webhook against a user with [`ENDPOINTS`] active endpoints, in
//! the same run and on the same server, alternating; and the deliveries per second to a
//! fast local receiver (an in-process axum server answering 204), from the start of the
//! hooked load until its last delivery arrived.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Serialize;
use serde_json::json;
use taskapi_testkit::TestPool;

use crate::local::{self, Seeded, lua};
use crate::table::Table;
use crate::wrk;

/// Endpoints of the hooked user, each receiving every event.
pub const ENDPOINTS: usize = 10;
/// How long the deliveries of one hooked run may take to arrive before the part fails.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

const POST_TASK: &str = r#"local u = math.random(#tokens)
  return wrk.format("POST", "/tasks",
    {["Authorization"] = tokens[u], ["Content-Type"] = "application/json"},
    '{"title":"written under load","description":"by wrk"}')"#;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    pub connections: u32,
    pub seconds: u32,
    /// Rounds of (no webhooks, 10 webhooks), alternating.
    pub rounds: usize,
}

impl Profile {
    pub const FULL: Profile = Profile {
        connections: 16,
        seconds: 10,
        rounds: 3,
    };
    pub const QUICK: Profile = Profile {
        connections: 16,
        seconds: 2,
        rounds: 1,
    };
}

#[derive(Debug, Serialize)]
pub struct Round {
    pub writes_per_sec_none: f64,
    pub writes_per_sec_hooked: f64,
    pub deliveries: u64,
    /// From the start of the hooked load to its last delivery.
    pub delivery_seconds: f64,
    pub deliveries_per_sec: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub endpoints: usize,
    pub rounds: Vec<Round>,
    /// The hooked writes' throughput as a share of the unhooked (means over the rounds).
    pub write_ratio: f64,
}

pub async fn run(taskapi: &Path, profile: Profile) -> anyhow::Result<Report> {
    ensure!(taskapi.exists(), "{} not found", taskapi.display());
    let received = Arc::new(AtomicU64::new(0));
    let receiver = receiver(Arc::clone(&received)).await?;
    let pool = TestPool::start().await;
    let data = tempfile::tempdir()?;
    let server = local::serve(
        taskapi,
        data.path(),
        &[
            "--hosted-ui-addr",
            "127.0.0.1:0",
            "--jwt-issuer",
            &pool.issuer,
            "--allow-private-webhooks",
        ],
    );
    let quiet = pool.id_token("bench-webhooks-quiet", &[]);
    let hooked = pool.id_token("bench-webhooks-hooked", &[]);
    let http = reqwest::Client::new();
    for n in 0..ENDPOINTS {
        http.post(format!("{}/webhooks", server.base))
            .header("authorization", &hooked)
            .json(&json!({"url": format!("{receiver}/hook/{n}")}))
            .send()
            .await?
            .error_for_status()
            .context("adding a webhook")?;
    }
    let scripts = tempfile::tempdir()?;
    let script = |name: &str, token: &str| -> anyhow::Result<std::path::PathBuf> {
        let path = scripts.path().join(name);
        let tokens = [token.to_owned()];
        std::fs::write(
            &path,
            lua(&tokens, &Seeded::tasks_only(vec![Vec::new()]), POST_TASK),
        )?;
        Ok(path)
    };
    let (quiet_script, hooked_script) =
        (script("quiet.lua", &quiet)?, script("hooked.lua", &hooked)?);
    let mut rounds = Vec::new();
    for _ in 0..profile.rounds {
        let none = load(&server.base, &quiet_script, profile).await?;
        let before = received.load(Ordering::Relaxed);
        let started = Instant::now();
        let with = load(&server.base, &hooked_script, profile).await?;
        let expected = before + with.requests * ENDPOINTS as u64;
        while received.load(Ordering::Relaxed) < expected {
            ensure!(
                started.elapsed() < DRAIN_LIMIT,
                "{} of {} deliveries after {DRAIN_LIMIT:?}",
                received.load(Ordering::Relaxed) - before,
                expected - before
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        let deliveries = expected - before;
        eprintln!(
            "webhooks: {:.0} writes/s without, {:.0} with {ENDPOINTS} endpoints; {deliveries} deliveries in {seconds:.2} s",
            none.requests_per_sec, with.requests_per_sec
        );
        rounds.push(Round {
            writes_per_sec_none: none.requests_per_sec,
            writes_per_sec_hooked: with.requests_per_sec,
            deliveries,
            delivery_seconds: seconds,
            deliveries_per_sec: deliveries as f64 / seconds,
        });
    }
    let mean =
        |value: fn(&Round) -> f64| rounds.iter().map(value).sum::<f64>() / rounds.len() as f64;
    let write_ratio = mean(|r| r.writes_per_sec_hooked) / mean(|r| r.writes_per_sec_none);
    Ok(Report {
        profile,
        endpoints: ENDPOINTS,
        rounds,
        write_ratio,
    })
}

/// One wrk run of `script`; any failed request fails the part.
async fn load(base: &str, script: &Path, profile: Profile) -> anyhow::Result<wrk::Load> {
    let (base, script) = (base.to_owned(), script.to_owned());
    let load = tokio::task::spawn_blocking(move || {
        wrk::run(&base, &script, profile.connections, profile.seconds)
    })
    .await??;
    ensure!(load.errors == 0, "{} failed requests", load.errors);
    Ok(load)
}

/// A receiver that counts deliveries and answers 204 at once; its base URL.
async fn receiver(received: Arc<AtomicU64>) -> anyhow::Result<String> {
    let app = Router::new().route(
        "/hook/{n}",
        post(move || {
            let received = Arc::clone(&received);
            async move {
                received.fetch_add(1, Ordering::Relaxed);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let table = Table::of(&self.rounds)
            .fixed("`POST /tasks`/s, no webhook", 0, |r| r.writes_per_sec_none)
            .fixed("/s, 10 endpoints", 0, |r| r.writes_per_sec_hooked)
            .number("deliveries", |r| r.deliveries)
            .fixed("seconds", 2, |r| r.delivery_seconds)
            .fixed("deliveries/s", 0, |r| r.deliveries_per_sec);
        format!(
            "{}\nWrites with {} active endpoints at {:.0} % of those without (means over {} rounds, {} connections, {} s each).\n",
            table.render(),
            self.endpoints,
            self.write_ratio * 100.0,
            self.rounds.len(),
            self.profile.connections,
            self.profile.seconds,
        )
    }
}
