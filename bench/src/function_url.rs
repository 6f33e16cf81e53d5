//! What verifying the ID token in the function costs, behind a Function URL, against the
//! same function behind API Gateway (the authorizer's claims in the event) in the same run:
//! cold start (the JWKS is fetched during init) and warm `GET /tasks/{id}`, with a token
//! the function has seen (its verifier's cache) and with a new token every call (a full
//! RS256 verification).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};
use taskapi_domain::{Description, NewTask, Status, Task, TaskStore, Timestamp, Title};
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::{Signer, TRUSTED_KID, TestPool, sign};

use crate::dynamodb::Door;
use crate::function::{Function, Runtime};
use crate::lambda::{ColdStart, Target, cold_starts};
use crate::stats::Spread;
use crate::table::Table;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    pub cold_starts: usize,
    pub warm_invocations: usize,
}

impl Profile {
    pub const FULL: Profile = Profile {
        cold_starts: 10,
        warm_invocations: 1000,
    };
    pub const QUICK: Profile = Profile {
        cold_starts: 3,
        warm_invocations: 100,
    };
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub cold: Vec<ColdStart>,
    /// Warm `GET /tasks/{id}` behind API Gateway (claims in the event).
    pub warm_claims: Spread,
    /// Behind a Function URL, the same token every call.
    pub warm_verified_known_token: Spread,
    /// Behind a Function URL, a new token every call.
    pub warm_verified_new_token: Spread,
    /// JWKS requests the pool served over every cold start and warm call.
    pub jwks_fetches: usize,
    /// Functions started in Function URL mode.
    pub verifying_starts: usize,
}

pub async fn run(binary: &Path, profile: Profile) -> anyhow::Result<Report> {
    let dynalite = Emulator::dynalite();
    let store = dynalite.fresh_store().await;
    let pool = TestPool::start().await;
    let caller = Caller::new(None);
    let task = Task::create(
        NewTask {
            title: Title::parse("Verify the caller")?,
            description: Description::parse("behind a Function URL")?,
            status: Status::Pending,
            due_at: None,
            priority: taskapi_domain::Priority::None,
        },
        Timestamp::now(),
    );
    store.create(&caller.sub, &task).await?;
    let path = format!("/tasks/{}", task.task_id);
    let rest = Door::ApiGateway.event(Request::new("GET", &path), &caller);
    let known = Door::FunctionUrl(&pool).event(Request::new("GET", &path), &caller);
    let endpoint = dynalite.endpoint_url();
    let runtime = Runtime::Rust(binary.to_owned());
    let verify_env = [("TASKAPI_JWT_ISSUER", pool.issuer.clone())];

    let mut cold = Vec::new();
    for (door, env) in [
        ("API Gateway (claims)", &[][..]),
        ("Function URL (verifies)", &verify_env[..]),
    ] {
        let target = Target {
            endpoint: &endpoint,
            table: store.table(),
            env,
        };
        let event = if env.is_empty() { &rest } else { &known };
        let (mut started, _) = cold_starts(&runtime, &target, event, profile.cold_starts).await?;
        started.runtime = door;
        cold.push(started);
    }
    let (claims_fn, _) = Function::start(&runtime, &endpoint, store.table()).await?;
    let (verify_fn, _) =
        Function::start_with(&runtime, &endpoint, store.table(), &verify_env).await?;
    claims_fn.call(&rest, 200).await.context("warm-up")?;
    verify_fn.call(&known, 200).await.context("warm-up")?;
    // Interleaved, so drift on a shared machine hits every series alike.
    let (mut claims, mut cached, mut fresh) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..profile.warm_invocations {
        claims.push(claims_fn.call(&rest, 200).await?);
        cached.push(verify_fn.call(&known, 200).await?);
        fresh.push(
            verify_fn
                .call(&new_token_event(&pool, &caller, &path), 200)
                .await?,
        );
    }
    Ok(Report {
        profile,
        cold,
        warm_claims: Spread::of(&claims),
        warm_verified_known_token: Spread::of(&cached),
        warm_verified_new_token: Spread::of(&fresh),
        jwks_fetches: pool.jwks_fetches(),
        verifying_starts: profile.cold_starts + 2,
    })
}

/// `GET path` with an ID token no call used before (its own `jti`).
fn new_token_event(pool: &TestPool, caller: &Caller, path: &str) -> Value {
    let mut claims = pool.claims(&caller.sub, &[]);
    claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
    let token = sign(&claims, Signer::Trusted, TRUSTED_KID);
    let headers = [("Authorization", token.as_str())];
    Request::new("GET", path)
        .header(&headers)
        .event(Api::FunctionUrl)
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let mut out = Table::of(&self.cold)
            .text("cold start", |c| c.runtime)
            .fixed("init, median ms", 1, |c| c.init.median_ms)
            .fixed("first response, median ms", 1, |c| {
                c.first_response.median_ms
            })
            .fixed("p90 ms", 1, |c| c.first_response.p90_ms)
            .render();
        let warm = [
            ("API Gateway, claims in the event", self.warm_claims),
            (
                "Function URL, a token it has verified before",
                self.warm_verified_known_token,
            ),
            (
                "Function URL, a new token every call (RS256)",
                self.warm_verified_new_token,
            ),
        ];
        let warm = Table::of(&warm)
            .text("warm `GET /tasks/{id}`", |(name, _)| *name)
            .fixed("median ms", 3, |(_, s)| s.median_ms)
            .fixed("p90 ms", 3, |(_, s)| s.p90_ms)
            .fixed("billed ms (mean, rounded up per call)", 2, |(_, s)| {
                s.billed_ms
            });
        out.push('\n');
        out.push_str(&warm.render());
        let _ = writeln!(
            out,
            "\n{} cold starts each (after one unmeasured), {} interleaved warm calls each; the \
             pool's JWKS was fetched {} times by {} functions started in Function URL mode \
             (once each, during init).",
            self.profile.cold_starts,
            self.profile.warm_invocations,
            self.jwks_fetches,
            self.verifying_starts
        );
        out
    }
}
