//! The sign-up burst: 64 clients calling the local user pool's unauthenticated `SignUp` as
//! fast as they can for 10 s, each call an argon2id hash. Measured: the server's peak
//! memory, the answers (accepted, or refused at once with `TooManyRequestsException` when
//! the hashing queue is full), and `GET /tasks/{id}` latency during the burst against the
//! same server with no burst in the same run.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::cognito::{TARGET, call};
use crate::local::{self, peak_rss_mb};
use crate::stats::Spread;
use crate::table::Table;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    pub clients: usize,
    pub seconds: u64,
}

impl Profile {
    pub const FULL: Profile = Profile {
        clients: 64,
        seconds: 10,
    };
    pub const QUICK: Profile = Profile {
        clients: 64,
        seconds: 2,
    };
}

#[derive(Debug, Default, Serialize)]
pub struct Answers {
    pub accepted: u64,
    pub too_many_requests: u64,
    pub other: u64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    /// `GET /tasks/{id}` one request at a time, before the burst.
    pub get_task_idle: Spread,
    /// The same during the burst.
    pub get_task_under_burst: Spread,
    pub sign_ups: Answers,
    /// Peak resident memory (VmHWM) before the burst and at its end.
    pub peak_rss_mb_before: f64,
    pub peak_rss_mb_after: f64,
}

pub(crate) const PASSWORD: &str = "BenchPass123!";

pub async fn run(taskapi: &Path, profile: Profile) -> anyhow::Result<Report> {
    ensure!(taskapi.exists(), "{} not found", taskapi.display());
    let data = tempfile::tempdir()?;
    // Cognito's UserCreation quota (50/s) is lifted so the burst meets the hashing bound,
    // and the API's per-caller limit so the one probing user measures latency, not 429s.
    let server = local::serve(
        taskapi,
        data.path(),
        &[
            "--hosted-ui-addr",
            "127.0.0.1:0",
            "--cognito-quota",
            "UserCreation=0",
        ],
    );
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let client_id = client_id(&http, &base, data.path()).await?;
    let token = signed_in_user(&http, &base, &client_id, data.path()).await?;
    let task: Value = http
        .post(format!("{base}/tasks"))
        .header("authorization", &token)
        .json(&json!({"title": "read during the burst"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let url = format!(
        "{base}/tasks/{}",
        task["task_id"].as_str().unwrap_or_default()
    );
    let reader = reqwest::Client::new();
    let idle = get_latencies(&reader, &url, &token, Duration::from_secs(3), None).await?;
    let peak_rss_mb_before = peak_rss_mb(server.pid())?;

    let running = Arc::new(AtomicBool::new(true));
    let mut burst = JoinSet::new();
    for n in 0..profile.clients {
        let (http, base, client_id, running) = (
            reqwest::Client::new(),
            base.clone(),
            client_id.clone(),
            Arc::clone(&running),
        );
        burst.spawn(async move {
            let mut answers = Answers::default();
            let mut i = 0u64;
            while running.load(Ordering::Relaxed) {
                i += 1;
                let body = json!({"ClientId": client_id, "Username": format!("burst-{n}-{i}@example.com"), "Password": PASSWORD});
                match call(&http, &base, "SignUp", &body).await {
                    Ok(_) => answers.accepted += 1,
                    Err(kind) if kind == "TooManyRequestsException" => answers.too_many_requests += 1,
                    Err(_) => answers.other += 1,
                }
            }
            answers
        });
    }
    let under = get_latencies(
        &reader,
        &url,
        &token,
        Duration::from_secs(profile.seconds),
        Some(&running),
    )
    .await?;
    running.store(false, Ordering::Relaxed);
    let mut sign_ups = Answers::default();
    while let Some(done) = burst.join_next().await {
        let answers = done?;
        sign_ups.accepted += answers.accepted;
        sign_ups.too_many_requests += answers.too_many_requests;
        sign_ups.other += answers.other;
    }
    Ok(Report {
        profile,
        get_task_idle: idle,
        get_task_under_burst: under,
        sign_ups,
        peak_rss_mb_before,
        peak_rss_mb_after: peak_rss_mb(server.pid())?,
    })
}

/// The default app client's id, asked for as an operator would: signed `ListUserPools` and
/// `ListUserPoolClients` with the credentials the server generated in its data directory.
pub(crate) async fn client_id(
    http: &reqwest::Client,
    base: &str,
    data: &Path,
) -> anyhow::Result<String> {
    let key = std::fs::read_to_string(data.join("credentials"))?;
    let value = |name: &str| {
        key.lines()
            .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == name))
            .map(|(_, v)| v.trim().to_owned())
            .context("incomplete credentials file")
    };
    let credentials = (value("aws_access_key_id")?, value("aws_secret_access_key")?);
    let signed = |action: &str, body: &Value| {
        let target = format!("{TARGET}{action}");
        let body = body.to_string();
        let headers = taskapi_testkit::sigv4::cognito_headers(
            (&credentials.0, &credentials.1),
            &format!("{base}/"),
            &target,
            body.as_bytes(),
            std::time::SystemTime::now(),
        );
        let mut request = http
            .post(format!("{base}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
    };
    let pools: Value = signed("ListUserPools", &json!({"MaxResults": 10}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let pool_id = pools["UserPools"][0]["Id"].as_str().context("no pool")?;
    let clients: Value = signed(
        "ListUserPoolClients",
        &json!({"UserPoolId": pool_id, "MaxResults": 10}),
    )
    .send()
    .await?
    .error_for_status()?
    .json()
    .await?;
    Ok(clients["UserPoolClients"][0]["ClientId"]
        .as_str()
        .context("no app client")?
        .to_owned())
}

/// Signs up, confirms (code from the outbox) and signs in one user; returns its ID token.
pub(crate) async fn signed_in_user(
    http: &reqwest::Client,
    base: &str,
    client_id: &str,
    data: &Path,
) -> anyhow::Result<String> {
    let email = "reader@example.com";
    let pool = async |action: &str, body: Value| {
        call(http, base, action, &body)
            .await
            .map_err(|kind| anyhow::anyhow!("{action}: {kind}"))
    };
    pool(
        "SignUp",
        json!({"ClientId": client_id, "Username": email, "Password": PASSWORD}),
    )
    .await?;
    let code = outbox_codes(data)?
        .remove(email)
        .context("no code in the outbox")?;
    pool(
        "ConfirmSignUp",
        json!({"ClientId": client_id, "Username": email, "ConfirmationCode": code}),
    )
    .await?;
    let auth = pool(
        "InitiateAuth",
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD}}),
    )
    .await?;
    Ok(auth["AuthenticationResult"]["IdToken"]
        .as_str()
        .context("no ID token")?
        .to_owned())
}

/// The last code the pool sent to each address, from the outbox in its data directory
/// (`outbox.jsonl`, where the local pool delivers mail).
pub(crate) fn outbox_codes(data: &Path) -> anyhow::Result<HashMap<String, String>> {
    let outbox = std::fs::read_to_string(data.join("outbox.jsonl"))?;
    Ok(outbox
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|m| Some((m["to"].as_str()?.to_owned(), m["code"].as_str()?.to_owned())))
        .collect())
}

/// `GET url` one request at a time for `duration` (or while `running` holds).
async fn get_latencies(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    duration: Duration,
    running: Option<&AtomicBool>,
) -> anyhow::Result<Spread> {
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < duration && running.is_none_or(|r| r.load(Ordering::Relaxed)) {
        let sent = Instant::now();
        http.get(url)
            .header("authorization", token)
            .send()
            .await?
            .error_for_status()?;
        samples.push(sent.elapsed());
    }
    Ok(Spread::of(&samples))
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let latencies = [
            ("idle".to_owned(), self.get_task_idle),
            (
                format!("during {} concurrent `SignUp`s", self.profile.clients),
                self.get_task_under_burst,
            ),
        ];
        let table = Table::of(&latencies)
            .text("`GET /tasks/{id}`", |(name, _)| name.clone())
            .fixed("p50 ms", 2, |(_, s)| s.median_ms)
            .fixed("p90 ms", 2, |(_, s)| s.p90_ms)
            .fixed("max ms", 2, |(_, s)| s.max_ms)
            .number("samples", |(_, s)| s.samples);
        format!(
            "{}\n\
             Sign-ups in {} s: {} accepted, {} refused at once (`TooManyRequestsException`), {} other.\n\
             Peak RSS {:.1} MB before the burst, {:.1} MB at its end.\n",
            table.render(),
            self.profile.seconds,
            self.sign_ups.accepted,
            self.sign_ups.too_many_requests,
            self.sign_ups.other,
            self.peak_rss_mb_before,
            self.peak_rss_mb_after,
        )
    }
}
