//! taskapi beside the tools a backend engineer would pick instead, in one run on one
//! machine, each started here on 127.0.0.1 from what the checkout installed:
//!
//! - the task API against PocketBase ([`pocketbase`]): one signed-in user with 200 own
//!   tasks on each, every request authenticated, the same wrk load per route;
//! - the user pool against moto server, cognito-local and MiniStack ([`pools`]);
//! - taskapi's own startup, exec to the first 200 of `/readyz`, on a fresh and on a full
//!   data directory.
//!
//! Absolute figures drift on a shared machine; the pairs are measured minutes apart, each
//! server idle while the other is loaded, so compare within a run.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::ensure;
use serde::Serialize;
use taskapi_testkit::emulator::free_port;

use crate::local::{Seed, Seeded};
use crate::pools::{self, Outcome};
use crate::process::{Ready, Server};
use crate::stats::Spread;
use crate::table::Table;
use crate::wrk::{self, Load};
use crate::{local, pocketbase, signup};

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    /// wrk's seconds per route and server, and its connections.
    pub seconds: u32,
    pub connections: u32,
    /// The signed-in user's own tasks on each task server.
    pub tasks: usize,
    /// Each user pool step.
    pub pool_load: pools::Load,
    /// How often each startup is timed.
    pub starts: usize,
    /// Tasks in the full data directory whose startup is timed.
    pub full_tasks: usize,
}

impl Profile {
    pub const FULL: Profile = Profile {
        seconds: 10,
        connections: 64,
        tasks: 200,
        pool_load: pools::Load {
            clients: 8,
            seconds: 10,
        },
        starts: 5,
        full_tasks: 100_000,
    };
    /// Enough to show every peer installs, starts, is set up and answers each step.
    pub const QUICK: Profile = Profile {
        seconds: 1,
        connections: 64,
        tasks: 200,
        pool_load: pools::Load {
            clients: 4,
            seconds: 1,
        },
        starts: 1,
        full_tasks: 2_000,
    };
}

#[derive(Debug, Serialize)]
pub struct RouteLoad {
    pub route: &'static str,
    pub load: Load,
}

/// One task server under the same load as the other.
#[derive(Debug, Serialize)]
pub struct TaskServer {
    pub name: &'static str,
    pub version: String,
    /// Exec to the first 2xx of its health route, on an empty data directory.
    pub startup_ms: f64,
    /// After the user and their tasks exist, before any load.
    pub idle_rss_mb: f64,
    /// Peak (VmHWM) at the end of all routes.
    pub loaded_rss_mb: f64,
    pub routes: Vec<RouteLoad>,
}

/// taskapi's startup on one data directory.
#[derive(Debug, Serialize)]
pub struct Startup {
    pub data_dir: &'static str,
    pub tasks: usize,
    pub exec_to_ready: Spread,
    /// Right after `/readyz` first answered 200, the last start.
    pub idle_rss_mb: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    /// taskapi first, then PocketBase.
    pub task_servers: Vec<TaskServer>,
    /// taskapi's pool first, then the emulators.
    pub pools: Vec<pools::PoolResult>,
    pub startup: Vec<Startup>,
}

/// A route on both servers: its name and the Lua `request` function body for each (see
/// [`local::lua`]: `tokens` and the seeded ids hold the one user's token and task ids).
struct Route {
    name: &'static str,
    taskapi: &'static str,
    pocketbase: &'static str,
}

const ROUTES: [Route; 4] = [
    Route {
        name: "health (no auth, no store)",
        taskapi: r#"return wrk.format("GET", "/healthz")"#,
        pocketbase: r#"return wrk.format("GET", "/api/health")"#,
    },
    Route {
        name: "get one task",
        taskapi: r#"return wrk.format("GET", "/tasks/" .. ids[1][math.random(#ids[1])],
    {["Authorization"] = tokens[1]})"#,
        pocketbase: r#"return wrk.format("GET",
    "/api/collections/tasks/records/" .. ids[1][math.random(#ids[1])],
    {["Authorization"] = tokens[1]})"#,
    },
    Route {
        name: "list 20 of 200",
        taskapi: r#"return wrk.format("GET", "/tasks?limit=20", {["Authorization"] = tokens[1]})"#,
        pocketbase: r#"return wrk.format("GET",
    "/api/collections/tasks/records?perPage=20&skipTotal=1&sort=created",
    {["Authorization"] = tokens[1]})"#,
    },
    Route {
        name: "create a task",
        taskapi: r#"return wrk.format("POST", "/tasks",
    {["Authorization"] = tokens[1], ["Content-Type"] = "application/json"},
    '{"title":"written under load","description":"by wrk"}')"#,
        // `owner` is the Lua global the script defines for PocketBase: its create rule
        // checks that the body names the caller.
        pocketbase: r#"return wrk.format("POST", "/api/collections/tasks/records",
    {["Authorization"] = tokens[1], ["Content-Type"] = "application/json"},
    '{"owner":"' .. owner .. '","title":"written under load","description":"by wrk"}')"#,
    },
];

pub async fn run(taskapi: &Path, profile: Profile) -> anyhow::Result<Report> {
    ensure!(
        taskapi.exists(),
        "{} not found: build it with cargo build --release",
        taskapi.display()
    );
    let task_servers = task_api(taskapi, profile).await?;
    let mut pools = Vec::new();
    for make in pools::Make::ALL {
        let dir = tempfile::tempdir()?;
        let pool = pools::start(make, taskapi, dir.path()).await?;
        let result = pools::measure(&pool, pools::version(make)?, profile.pool_load).await?;
        eprintln!(
            "{:<24} sign-up {}, confirm {}, sign-in {}",
            make.name(),
            rate(&result.sign_up),
            rate(&result.confirm),
            rate(&result.sign_in)
        );
        pools.push(result);
    }
    let ours = &pools[0];
    for (step, outcome) in [
        ("sign-up", &ours.sign_up),
        ("confirm", &ours.confirm),
        ("sign-in", &ours.sign_in),
    ] {
        ensure!(
            matches!(outcome, Outcome::Measured(_)),
            "taskapi's pool failed {step}: {outcome:?}"
        );
    }
    let startup = startups(taskapi, profile).await?;
    Ok(Report {
        profile,
        task_servers,
        pools,
        startup,
    })
}

/// taskapi and PocketBase, each with one signed-in user and `profile.tasks` own tasks,
/// route by route under the same wrk load, the two servers taking turns.
async fn task_api(taskapi: &Path, profile: Profile) -> anyhow::Result<Vec<TaskServer>> {
    let ours_dir = tempfile::tempdir()?;
    let ours = start_taskapi(taskapi, &ours_dir.path().join("data")).await?;
    let http = reqwest::Client::new();
    let data = ours_dir.path().join("data");
    let client_id = signup::client_id(&http, &ours.base, &data).await?;
    let token = signup::signed_in_user(&http, &ours.base, &client_id, &data).await?;
    let seeded = local::seed(
        &ours.base,
        std::slice::from_ref(&token),
        profile.tasks,
        Seed::Tasks,
    )
    .await?;
    let ours_script = |request| local::lua(std::slice::from_ref(&token), &seeded, request);

    let theirs_dir = tempfile::tempdir()?;
    let theirs = pocketbase::start(theirs_dir.path()).await?;
    let their_seeded = Seeded::tasks_only(vec![theirs.seed(profile.tasks).await?]);
    let their_script = |request| {
        let script = local::lua(std::slice::from_ref(&theirs.token), &their_seeded, request);
        format!("owner = \"{}\"\n{script}", theirs.user_id)
    };

    let mut servers = [
        TaskServer {
            name: "taskapi",
            version: env!("CARGO_PKG_VERSION").to_owned(),
            startup_ms: ours.startup.as_secs_f64() * 1000.0,
            idle_rss_mb: ours.rss_mb()?,
            loaded_rss_mb: 0.0,
            routes: Vec::new(),
        },
        TaskServer {
            name: "PocketBase",
            version: pocketbase::version()?,
            startup_ms: theirs.server.startup.as_secs_f64() * 1000.0,
            idle_rss_mb: theirs.server.rss_mb()?,
            loaded_rss_mb: 0.0,
            routes: Vec::new(),
        },
    ];
    let scripts = tempfile::tempdir()?;
    for (n, route) in ROUTES.iter().enumerate() {
        let runs = [
            (&ours, ours_script(route.taskapi)),
            (&theirs.server, their_script(route.pocketbase)),
        ];
        for (server, (target, text)) in servers.iter_mut().zip(runs) {
            let script = scripts.path().join(format!("{n}-{}.lua", server.name));
            std::fs::write(&script, text)?;
            let (base, connections, seconds) =
                (target.base.clone(), profile.connections, profile.seconds);
            let load =
                tokio::task::spawn_blocking(move || wrk::run(&base, &script, connections, seconds))
                    .await??;
            eprintln!(
                "{:<12} {:<28} {:>8.0} req/s, p99 {:.2} ms, {} errors",
                server.name, route.name, load.requests_per_sec, load.p99_ms, load.errors
            );
            server.routes.push(RouteLoad {
                route: route.name,
                load,
            });
        }
    }
    servers[0].loaded_rss_mb = ours.peak_rss_mb()?;
    servers[1].loaded_rss_mb = theirs.server.peak_rss_mb()?;
    for route in &servers[0].routes {
        ensure!(
            route.load.errors == 0,
            "taskapi answered {} errors on {}",
            route.load.errors,
            route.route
        );
    }
    Ok(servers.into())
}

/// `taskapi serve` on a free port with its own user pool, as a user starts it, with the
/// per-caller rate limit far out of reach (as in [`local::serve`]).
async fn start_taskapi(taskapi: &Path, data: &Path) -> anyhow::Result<Server> {
    let port = free_port();
    let mut command = Command::new(taskapi);
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--hosted-ui-addr", "127.0.0.1:0"])
        .args(["--rate-limit", "1000000", "--rate-limit-burst", "1000000"])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn");
    std::fs::create_dir_all(data)?;
    let log = data.with_extension("log");
    Server::start("taskapi", command, port, Ready::Ok("/readyz"), &log).await
}

/// Exec to the first 200 of `/readyz`, `profile.starts` times on an empty data directory
/// and as often on one holding `profile.full_tasks` tasks (written through the API by one
/// user, then the server stopped with SIGTERM as a service manager would).
async fn startups(taskapi: &Path, profile: Profile) -> anyhow::Result<Vec<Startup>> {
    let mut fresh = Vec::new();
    let mut fresh_rss = 0.0;
    for _ in 0..profile.starts {
        let dir = tempfile::tempdir()?;
        let server = start_taskapi(taskapi, &dir.path().join("data")).await?;
        fresh.push(server.startup);
        fresh_rss = server.rss_mb()?;
    }
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = start_taskapi(taskapi, &data).await?;
    let http = reqwest::Client::new();
    let client_id = signup::client_id(&http, &server.base, &data).await?;
    let token = signup::signed_in_user(&http, &server.base, &client_id, &data).await?;
    // 32 writers for the one user, so the seed takes seconds, not minutes.
    let writers = vec![token; 32];
    local::seed(
        &server.base,
        &writers,
        profile.full_tasks.div_ceil(writers.len()),
        Seed::Tasks,
    )
    .await?;
    let stored = profile.full_tasks.div_ceil(writers.len()) * writers.len();
    server.terminate()?;
    let mut full = Vec::new();
    let mut full_rss = 0.0;
    for _ in 0..profile.starts {
        let server = start_taskapi(taskapi, &data).await?;
        full.push(server.startup);
        full_rss = server.rss_mb()?;
        server.terminate()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(vec![
        Startup {
            data_dir: "fresh",
            tasks: 0,
            exec_to_ready: Spread::of(&fresh),
            idle_rss_mb: fresh_rss,
        },
        Startup {
            data_dir: "full",
            tasks: stored,
            exec_to_ready: Spread::of(&full),
            idle_rss_mb: full_rss,
        },
    ])
}

/// A step's rate for the progress lines and the table: `123/s`, with the failed calls
/// if any (`123/s, 4 failed`), or what the pool said when none succeeded.
fn rate(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Measured(rate) if rate.errors > 0 => {
            format!("{:.0}/s, {} failed", rate.per_second, rate.errors)
        }
        Outcome::Measured(rate) => format!("{:.0}/s", rate.per_second),
        Outcome::Cannot(answer) => format!("cannot: {answer}"),
    }
}

/// The first failure of each step that had some, one line each.
fn failures(pools: &[pools::PoolResult]) -> String {
    let mut out = String::new();
    for pool in pools {
        let steps = [
            ("sign-up", &pool.sign_up),
            ("confirm", &pool.confirm),
            ("sign-in", &pool.sign_in),
        ];
        for (step, outcome) in steps {
            if let Outcome::Measured(pools::Rate {
                errors,
                first_error: Some(first),
                ..
            }) = outcome
            {
                let first: String = first
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(60)
                    .collect();
                let _ = writeln!(
                    out,
                    "- {} {step}: {errors} failed, the first with `{first}`",
                    pool.make.name()
                );
            }
        }
    }
    out
}

fn p99(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Measured(rate) => format!("{:.1}", rate.p99_ms),
        Outcome::Cannot(_) => "–".into(),
    }
}

/// The two task servers' loads of one route, side by side.
struct Pair<'a> {
    route: &'static str,
    ours: &'a Load,
    theirs: &'a Load,
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let [ours, theirs] = [&self.task_servers[0], &self.task_servers[1]];
        let pairs: Vec<Pair> = ours
            .routes
            .iter()
            .zip(&theirs.routes)
            .map(|(a, b)| Pair {
                route: a.route,
                ours: &a.load,
                theirs: &b.load,
            })
            .collect();
        let mut out = Table::of(&pairs)
            .text("route", |p| p.route)
            .fixed("taskapi req/s", 0, |p| p.ours.requests_per_sec)
            .fixed("p99 ms", 2, |p| p.ours.p99_ms)
            .fixed("PocketBase req/s", 0, |p| p.theirs.requests_per_sec)
            .fixed("p99 ms", 2, |p| p.theirs.p99_ms)
            .number("taskapi ÷ PocketBase", |p| {
                format!(
                    "{:.1}×",
                    p.ours.requests_per_sec / p.theirs.requests_per_sec
                )
            })
            .number("errors", |p| {
                format!("{} / {}", p.ours.errors, p.theirs.errors)
            })
            .render();
        out.push('\n');
        out += &Table::of(&self.task_servers)
            .text("task server", |s| format!("{} {}", s.name, s.version))
            .fixed("startup ms", 0, |s| s.startup_ms)
            .fixed("idle RSS MB", 1, |s| s.idle_rss_mb)
            .fixed("loaded RSS MB", 1, |s| s.loaded_rss_mb)
            .render();
        let _ = writeln!(
            out,
            "\nwrk -t2 -c{} -d{}s per route and server; one signed-in user with {} own tasks on each.\n",
            self.profile.connections, self.profile.seconds, self.profile.tasks
        );
        out += &Table::of(&self.pools)
            .text("user pool", |p| format!("{} {}", p.make.name(), p.version))
            .fixed("startup ms", 0, |p| p.startup_ms)
            .number("sign-up", |p| rate(&p.sign_up))
            .number("p99 ms", |p| p99(&p.sign_up))
            .number("confirm", |p| rate(&p.confirm))
            .number("p99 ms", |p| p99(&p.confirm))
            .text("confirmed by", |p| p.confirm_how)
            .number("sign-in", |p| rate(&p.sign_in))
            .number("p99 ms", |p| p99(&p.sign_in))
            .fixed("idle RSS MB", 1, |p| p.idle_rss_mb)
            .fixed("loaded RSS MB", 1, |p| p.loaded_rss_mb)
            .render();
        let _ = writeln!(
            out,
            "\n{} clients, {} s per step (confirm ends early when every signed-up user is confirmed).\n",
            self.profile.pool_load.clients, self.profile.pool_load.seconds,
        );
        let failed = failures(&self.pools);
        if !failed.is_empty() {
            let _ = writeln!(out, "{failed}");
        }
        out += &Table::of(&self.startup)
            .text("taskapi data directory", |s| s.data_dir)
            .number("tasks", |s| s.tasks)
            .fixed("exec to /readyz 200, median ms", 1, |s| {
                s.exec_to_ready.median_ms
            })
            .number("min–max ms", |s| {
                format!(
                    "{:.1}–{:.1}",
                    s.exec_to_ready.min_ms, s.exec_to_ready.max_ms
                )
            })
            .number("starts", |s| s.exec_to_ready.samples)
            .fixed("idle RSS MB", 1, |s| s.idle_rss_mb)
            .render();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Markdown;
    use crate::pools::{Make, PoolResult, Rate};

    fn load(rate: f64) -> Load {
        Load {
            requests_per_sec: rate,
            p50_ms: 1.0,
            p99_ms: 2.5,
            requests: 100,
            errors: 0,
        }
    }

    fn server(name: &'static str, rate: f64) -> TaskServer {
        TaskServer {
            name,
            version: "1".into(),
            startup_ms: 10.0,
            idle_rss_mb: 20.0,
            loaded_rss_mb: 30.0,
            routes: vec![RouteLoad {
                route: "get one task",
                load: load(rate),
            }],
        }
    }

    fn measured(per_second: f64) -> Outcome {
        Outcome::Measured(Rate {
            done: 10,
            per_second,
            p50_ms: 1.0,
            p99_ms: 4.0,
            errors: 0,
            first_error: None,
        })
    }

    fn pool(sign_up: Outcome, confirm: Outcome, sign_in: Outcome) -> PoolResult {
        PoolResult {
            make: Make::Moto,
            version: "5".into(),
            startup_ms: 700.0,
            idle_rss_mb: 50.0,
            loaded_rss_mb: 60.0,
            sign_up,
            confirm,
            confirm_how: "AdminConfirmSignUp (no outbox)",
            sign_in,
        }
    }

    /// A step a pool cannot do is a cell that says what it answered, in the table and the
    /// chart alike; the ratio is taskapi's rate over the peer's.
    #[test]
    fn a_step_a_peer_cannot_do_is_said_not_crashed() {
        let report = Report {
            profile: Profile::QUICK,
            task_servers: vec![server("taskapi", 3000.0), server("PocketBase", 1000.0)],
            pools: vec![
                pool(
                    measured(120.0),
                    Outcome::Cannot("NotAuthorizedException".into()),
                    Outcome::Cannot("no user confirmed".into()),
                ),
                pool(
                    measured(120.0),
                    measured(120.0),
                    Outcome::Measured(Rate {
                        done: 7,
                        per_second: 7.0,
                        p50_ms: 1.0,
                        p99_ms: 4.0,
                        errors: 2,
                        first_error: Some("500 Internal\nServer Error".into()),
                    }),
                ),
            ],
            startup: vec![Startup {
                data_dir: "fresh",
                tasks: 0,
                exec_to_ready: Spread::of(&[Duration::from_millis(12)]),
                idle_rss_mb: 9.0,
            }],
        };
        let text = report.markdown();
        assert!(
            text.contains("| get one task | 3000 | 2.50 | 1000 | 2.50 | 3.0× | 0 / 0 |"),
            "{text}"
        );
        assert!(
            text.contains("| 120/s | 4.0 | cannot: NotAuthorizedException | – |"),
            "{text}"
        );
        assert!(text.contains("cannot: no user confirmed"), "{text}");
        assert!(text.contains("| 7/s, 2 failed |"), "{text}");
        assert!(
            text.contains("- moto server sign-in: 2 failed, the first with `500 Internal`"),
            "{text}"
        );
        let svg = crate::chart::pools(&report);
        assert!(svg.contains("cannot: NotAuthorizedException"), "{svg}");
        assert!(crate::chart::peers(&report).contains("3000/s"));
    }
}
