//! The user pools side by side: taskapi's local pool and the Cognito emulators a developer
//! could run instead (moto server, cognito-local, MiniStack), each started on 127.0.0.1 and
//! driven through Cognito's own JSON protocol by the same clients: sign-up, confirm and
//! password sign-in (`USER_PASSWORD_AUTH`), each for a fixed time with a fixed number of
//! clients. A step a pool cannot do is recorded as what it answered, not a failed run.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};
use taskapi_testkit::emulator::free_port;
use tokio::task::JoinSet;

use crate::cognito::{call, call_unsigned_admin};
use crate::process::{Ready, Server, installed};
use crate::signup::{self, PASSWORD};
use crate::stats;

/// The pools compared, ours first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Make {
    Taskapi,
    Moto,
    CognitoLocal,
    MiniStack,
}

impl Make {
    pub const ALL: [Make; 4] = [
        Make::Taskapi,
        Make::Moto,
        Make::CognitoLocal,
        Make::MiniStack,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Make::Taskapi => "taskapi (local pool)",
            Make::Moto => "moto server",
            Make::CognitoLocal => "cognito-local",
            Make::MiniStack => "MiniStack",
        }
    }
}

/// How a pool's users are confirmed: with the code it sent where the pool lets a client read
/// it, else by the admin action, as a developer's tests would.
#[derive(Debug, Clone)]
enum Confirm {
    /// `ConfirmSignUp` with the code from the outbox in taskapi's data directory.
    Outbox(PathBuf),
    /// `ConfirmSignUp` with the one code cognito-local sends when started with `CODE` set
    /// (it checks it: a wrong code is `CodeMismatchException`).
    Code(&'static str),
    /// `AdminConfirmSignUp`: the pool has no outbox (moto and MiniStack also accept any
    /// code at `ConfirmSignUp`, so it would measure nothing).
    Admin { pool_id: String },
}

impl Confirm {
    fn how(&self) -> &'static str {
        match self {
            Confirm::Outbox(_) => "ConfirmSignUp, code from the outbox",
            Confirm::Code(_) => "ConfirmSignUp, the fixed code (CODE)",
            Confirm::Admin { .. } => "AdminConfirmSignUp (no outbox)",
        }
    }
}

/// A running pool with an app client that allows `USER_PASSWORD_AUTH`.
pub struct Pool {
    pub make: Make,
    pub server: Server,
    client_id: String,
    confirm: Confirm,
}

/// Clients and seconds of each step.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Load {
    pub clients: usize,
    pub seconds: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub done: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers other than success, and the first of them.
    pub errors: usize,
    pub first_error: Option<String>,
}

/// A step's result: measured, or what the pool answered instead.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Measured(Rate),
    Cannot(String),
}

#[derive(Debug, Serialize)]
pub struct PoolResult {
    pub make: Make,
    pub version: String,
    /// Exec to the first answer.
    pub startup_ms: f64,
    /// After the pool and its app client exist, before any load.
    pub idle_rss_mb: f64,
    /// Peak (VmHWM) at the end of the three steps.
    pub loaded_rss_mb: f64,
    pub sign_up: Outcome,
    pub confirm: Outcome,
    pub confirm_how: &'static str,
    pub sign_in: Outcome,
}

/// The version the checkout installed.
pub fn version(make: Make) -> anyhow::Result<String> {
    let python = |venv: &str, package: &str| -> anyhow::Result<String> {
        let output = Command::new(installed(&format!("{venv}/bin/python"))?)
            .args([
                "-c",
                &format!("import importlib.metadata as m; print(m.version('{package}'))"),
            ])
            .output()?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    Ok(match make {
        Make::Taskapi => env!("CARGO_PKG_VERSION").to_owned(),
        Make::Moto => python(".venv", "moto")?,
        Make::MiniStack => python(".venv/ministack", "ministack")?,
        Make::CognitoLocal => {
            let manifest = std::fs::read_to_string("node_modules/cognito-local/package.json")?;
            let manifest: Value = serde_json::from_str(&manifest)?;
            manifest["version"].as_str().unwrap_or_default().to_owned()
        }
    })
}

/// Starts `make` with its files in `dir` and gives it a pool and an app client.
pub async fn start(make: Make, taskapi: &Path, dir: &Path) -> anyhow::Result<Pool> {
    let port = free_port();
    let root = std::env::current_dir()?;
    let log = dir.join("server.log");
    let http = reqwest::Client::new();
    let pool = match make {
        Make::Taskapi => {
            let data = dir.join("data");
            let mut command = Command::new(taskapi);
            command
                .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
                .args(["--hosted-ui-addr", "127.0.0.1:0"])
                // Cognito's request-rate quotas (50 sign-ups and 120 sign-ins a second)
                // are lifted: the emulators have none, and the steps measure the work.
                .args(["--cognito-quota", "UserCreation=0,UserAuthentication=0"])
                .arg("--data-dir")
                .arg(&data)
                .env("RUST_LOG", "warn");
            let server =
                Server::start(make.name(), command, port, Ready::Ok("/readyz"), &log).await?;
            let client_id = signup::client_id(&http, &server.base, &data).await?;
            Pool {
                make,
                server,
                client_id,
                confirm: Confirm::Outbox(data),
            }
        }
        Make::Moto => {
            let mut command = Command::new(installed(".venv/bin/moto_server")?);
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            let server =
                Server::start(make.name(), command, port, Ready::Answer("/"), &log).await?;
            emulated(make, server, &http, |pool_id| Confirm::Admin { pool_id }).await?
        }
        Make::CognitoLocal => {
            let script = root.join(installed("node_modules/cognito-local/lib/bin/start.js")?);
            let mut command = Command::new("node");
            command
                .arg(script)
                // It keeps its database in `.cognito` under its working directory.
                .current_dir(dir)
                .env("PORT", port.to_string())
                .env("HOST", "127.0.0.1")
                .env("CODE", "246810");
            let server =
                Server::start(make.name(), command, port, Ready::Answer("/"), &log).await?;
            emulated(make, server, &http, |_| Confirm::Code("246810")).await?
        }
        Make::MiniStack => {
            let mut command = Command::new(root.join(installed(".venv/ministack/bin/ministack")?));
            command
                .current_dir(dir)
                .env("GATEWAY_PORT", port.to_string())
                .env("BIND_HOST", "127.0.0.1");
            let server =
                Server::start(make.name(), command, port, Ready::Answer("/"), &log).await?;
            emulated(make, server, &http, |pool_id| Confirm::Admin { pool_id }).await?
        }
    };
    Ok(pool)
}

/// An emulator's pool (email as the user name) and its app client, made as the AWS CLI
/// would make them.
async fn emulated(
    make: Make,
    server: Server,
    http: &reqwest::Client,
    confirm: impl FnOnce(String) -> Confirm,
) -> anyhow::Result<Pool> {
    let admin = async |action: &str, body: Value| {
        call_unsigned_admin(http, &server.base, action, &body)
            .await
            .map_err(|kind| anyhow::anyhow!("{} {action}: {kind}", make.name()))
    };
    let pool = admin(
        "CreateUserPool",
        json!({"PoolName": "bench", "UsernameAttributes": ["email"],
               "AutoVerifiedAttributes": ["email"]}),
    )
    .await?;
    let pool_id = pool["UserPool"]["Id"]
        .as_str()
        .context("no pool id")?
        .to_owned();
    let client = admin(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientName": "bench",
               "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    )
    .await?;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .context("no client id")?
        .to_owned();
    Ok(Pool {
        make,
        server,
        client_id,
        confirm: confirm(pool_id),
    })
}

/// The e-mail address of the `n`th user a run signs up.
fn user(n: usize) -> String {
    format!("peer-{n:06}@example.com")
}

/// Sign-up, confirm and sign-in, one after the other, each under `load`.
pub async fn measure(pool: &Pool, version: String, load: Load) -> anyhow::Result<PoolResult> {
    let idle_rss_mb = pool.server.rss_mb()?;
    let http = reqwest::Client::new();
    let (base, client_id) = (pool.server.base.clone(), pool.client_id.clone());

    let signing_up = {
        let (http, base, client_id) = (http.clone(), base.clone(), client_id.clone());
        move |n: usize| {
            let (http, base, client_id) = (http.clone(), base.clone(), client_id.clone());
            async move {
                let email = user(n);
                let body = json!({"ClientId": client_id, "Username": email, "Password": PASSWORD,
                                  "UserAttributes": [{"Name": "email", "Value": email}]});
                call(&http, &base, "SignUp", &body).await.map(drop)
            }
        }
    };
    let (sign_up, signed) = drive(load, None, signing_up).await;

    let signed: Arc<Vec<String>> = Arc::new(signed.into_iter().map(user).collect());
    let codes = match &pool.confirm {
        Confirm::Outbox(data) => Arc::new(signup::outbox_codes(data)?),
        _ => Arc::default(),
    };
    let confirming = {
        let (http, base, client_id) = (http.clone(), base.clone(), client_id.clone());
        let (signed, confirm) = (Arc::clone(&signed), pool.confirm.clone());
        move |k: usize| {
            let (http, base, client_id) = (http.clone(), base.clone(), client_id.clone());
            let (email, confirm, codes) = (signed[k].clone(), confirm.clone(), Arc::clone(&codes));
            async move {
                let code = match &confirm {
                    Confirm::Outbox(_) => codes.get(&email).cloned().ok_or("no code sent")?,
                    Confirm::Code(code) => (*code).to_owned(),
                    Confirm::Admin { pool_id } => {
                        let body = json!({"UserPoolId": pool_id, "Username": email});
                        return call_unsigned_admin(&http, &base, "AdminConfirmSignUp", &body)
                            .await
                            .map(drop);
                    }
                };
                let body = json!({"ClientId": client_id, "Username": email,
                                  "ConfirmationCode": code});
                call(&http, &base, "ConfirmSignUp", &body).await.map(drop)
            }
        }
    };
    let (confirm, confirmed) = if signed.is_empty() {
        (Outcome::Cannot("no user signed up".into()), Vec::new())
    } else {
        drive(load, Some(signed.len()), confirming).await
    };

    let confirmed: Arc<Vec<String>> =
        Arc::new(confirmed.into_iter().map(|k| signed[k].clone()).collect());
    let signing_in = {
        let confirmed = Arc::clone(&confirmed);
        move |n: usize| {
            let (http, base, client_id) = (http.clone(), base.clone(), client_id.clone());
            let email = confirmed[n % confirmed.len()].clone();
            async move {
                let body = json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                  "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD}});
                let answer = call(&http, &base, "InitiateAuth", &body).await?;
                answer["AuthenticationResult"]["IdToken"]
                    .as_str()
                    .map(drop)
                    .ok_or_else(|| "no IdToken in the answer".to_owned())
            }
        }
    };
    let (sign_in, _) = if confirmed.is_empty() {
        (Outcome::Cannot("no user confirmed".into()), Vec::new())
    } else {
        drive(load, None, signing_in).await
    };
    Ok(PoolResult {
        make: pool.make,
        version,
        startup_ms: pool.server.startup.as_secs_f64() * 1000.0,
        idle_rss_mb,
        loaded_rss_mb: pool.server.peak_rss_mb()?,
        sign_up,
        confirm_how: pool.confirm.how(),
        confirm,
        sign_in,
    })
}

/// `load.clients` clients calling `step(n)` for n = 0, 1, 2, ... (each n once) until
/// `load.seconds` pass or, with a `limit`, n reaches it. Returns the rate of successes (or
/// what the pool answered, if none succeeded) and the n that succeeded.
async fn drive<F, Fut>(load: Load, limit: Option<usize>, step: F) -> (Outcome, Vec<usize>)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(load.seconds);
    let mut clients = JoinSet::new();
    for _ in 0..load.clients {
        let (next, step) = (Arc::clone(&next), step.clone());
        clients.spawn(async move {
            let mut done = Vec::new();
            let mut failed = Vec::new();
            while Instant::now() < until {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if limit.is_some_and(|limit| n >= limit) {
                    break;
                }
                let sent = Instant::now();
                match step(n).await {
                    Ok(()) => done.push((n, sent.elapsed())),
                    Err(error) => failed.push(error),
                }
            }
            (done, failed)
        });
    }
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    while let Some(Ok((ok, errors))) = clients.join_next().await {
        done.extend(ok);
        failed.extend(errors);
    }
    let elapsed = started.elapsed().as_secs_f64();
    if done.is_empty() {
        let answer = failed
            .first()
            .cloned()
            .unwrap_or_else(|| "no answer".into());
        return (Outcome::Cannot(answer), Vec::new());
    }
    let mut ms: Vec<f64> = done.iter().map(|(_, d)| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let rate = Rate {
        done: done.len(),
        per_second: done.len() as f64 / elapsed,
        p50_ms: stats::rank(&ms, 0.5),
        p99_ms: stats::rank(&ms, 0.99),
        errors: failed.len(),
        first_error: failed.first().cloned(),
    };
    (
        Outcome::Measured(rate),
        done.into_iter().map(|(n, _)| n).collect(),
    )
}
