//! DynamoDB requests and capacity units per API call, route by route: the real
//! `taskapi-lambda` on dynalite, once through the counting [`Proxy`] (requests and units)
//! and twice directly (Lambda durations, without the proxy's extra hop): with API Gateway
//! events carrying the authorizer's claims, and with Function URL events carrying the ID
//! token the function verifies itself. All in the same run.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};
use serde::Serialize;
use serde_json::{Value, json};
use taskapi_testkit::TestPool;
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::Emulator;

use crate::function::{Function, Runtime};
use crate::project_calls::{self, ProjectRoute};
use crate::proxy::{PerCall, Proxy};
use crate::runner::{PAGE, Runner, Samples};
use crate::stats::Spread;
use crate::table::Table;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    /// Calls of each route.
    pub calls: usize,
}

impl Profile {
    pub const FULL: Profile = Profile { calls: 100 };
    pub const QUICK: Profile = Profile { calls: 20 };
}

#[derive(Debug, Serialize)]
pub struct RouteResult {
    pub route: &'static str,
    pub calls: usize,
    #[serde(flatten)]
    pub per_call: PerCall,
    /// The function's duration per call (REST API events), measured without the proxy.
    pub duration: Spread,
    /// The same behind a Function URL: the function verifies the caller's ID token (one
    /// token per caller, so after its first call the verifier's cache answers).
    pub function_url_duration: Spread,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub routes: Vec<RouteResult>,
    /// The project routes, counted the same way.
    pub projects: Vec<ProjectRoute>,
}

pub async fn run(binary: &Path, profile: Profile) -> anyhow::Result<Report> {
    let dynalite = Emulator::dynalite();
    let store = dynalite.fresh_store().await;
    let proxy = Proxy::start(dynalite.endpoint_url()).await;
    let runtime = Runtime::Rust(binary.to_owned());
    let (counted, projects) = {
        let (function, _) = Function::start(&runtime, proxy.url(), store.table()).await?;
        let counted = exercise(&function, profile.calls, Some(&proxy), Door::ApiGateway).await?;
        let projects = project_calls::exercise(&function, &proxy, profile.calls).await?;
        (counted, projects)
    };
    let endpoint = dynalite.endpoint_url();
    let timed = {
        let (function, _) = Function::start(&runtime, &endpoint, store.table()).await?;
        exercise(&function, profile.calls, None, Door::ApiGateway).await?
    };
    let pool = TestPool::start().await;
    let verified = {
        let env = [("TASKAPI_JWT_ISSUER", pool.issuer.clone())];
        let (function, _) = Function::start_with(&runtime, &endpoint, store.table(), &env).await?;
        exercise(&function, profile.calls, None, Door::FunctionUrl(&pool)).await?
    };
    let routes = counted
        .into_iter()
        .zip(timed)
        .zip(verified)
        .map(|((counted, timed), verified)| {
            summarise(counted, &timed.durations, &verified.durations)
        })
        .collect();
    Ok(Report {
        profile,
        routes,
        projects,
    })
}

/// How the caller reaches the function.
#[derive(Clone, Copy)]
pub enum Door<'a> {
    /// API Gateway verified the token: REST API events with the authorizer's claims.
    ApiGateway,
    /// A Function URL: the ID token, from this pool, in `Authorization`.
    FunctionUrl(&'a TestPool),
}

impl Door<'_> {
    /// `request` as this door delivers it from `caller`.
    pub fn event(self, request: Request<'_>, caller: &Caller) -> Value {
        match self {
            Door::ApiGateway => request.by(caller).event(Api::Rest),
            Door::FunctionUrl(pool) => {
                let groups: Vec<&str> = caller.groups.iter().copied().collect();
                let token = pool.id_token(&caller.sub, &groups);
                let headers = [("Authorization", token.as_str())];
                request.header(&headers).event(Api::FunctionUrl)
            }
        }
    }
}

/// Calls every route `calls` times as one user (and an admin for the admin view), in an
/// order that leaves each route its data: creates first, deletes last.
async fn exercise(
    function: &Function,
    calls: usize,
    proxy: Option<&Proxy>,
    door: Door<'_>,
) -> anyhow::Result<Vec<Samples>> {
    let user = Caller::new(None);
    let admin = Caller::new(Some("admins"));
    // The first call pays for nothing the others do not (the function warms DynamoDB at
    // init, but the first request still builds lazily made state): keep it out.
    function
        .call(&door.event(Request::new("GET", "/tasks"), &user), 200)
        .await
        .context("warm-up call")?;
    let mut run = Runner::new(function, proxy);

    let creates = calls.max(PAGE + 1);
    let mut ids = Vec::with_capacity(creates);
    for n in 0..creates {
        let event = door.event(
            Request::new("POST", "/tasks")
                .json(json!({ "title": format!("benchmark task {n}"), "description": "counted" })),
            &user,
        );
        let body = run.call("POST /tasks", &event, 201).await?;
        ids.push(body["task_id"].as_str().context("task_id")?.to_owned());
    }
    for n in 0..calls {
        let path = format!("/tasks/{}", ids[n % ids.len()]);
        let event = door.event(Request::new("GET", &path), &user);
        run.call("GET /tasks/{id}", &event, 200).await?;
    }
    let limit = PAGE.to_string();
    for _ in 0..calls {
        let event = door.event(
            Request::new("GET", "/tasks").query(&[("limit", &limit)]),
            &user,
        );
        let body = run.call("GET /tasks (page of 20)", &event, 200).await?;
        ensure!(body["count"] == PAGE, "a short page: {body}");
    }
    for _ in 0..calls {
        let event = door.event(
            Request::new("GET", "/admin/tasks").query(&[("status", "pending"), ("limit", &limit)]),
            &admin,
        );
        run.call("GET /admin/tasks (page of 20)", &event, 200)
            .await?;
    }
    for n in 0..calls {
        let path = format!("/tasks/{}", ids[n % ids.len()]);
        let status = ["in_progress", "done"][n % 2];
        let event = door.event(
            Request::new("PATCH", &path).json(json!({ "status": status })),
            &user,
        );
        run.call("PATCH /tasks/{id}", &event, 200).await?;
    }
    for id in ids.iter().take(calls) {
        let event = door.event(Request::new("DELETE", &format!("/tasks/{id}")), &user);
        run.call("DELETE /tasks/{id}", &event, 204).await?;
    }
    planning(&mut run, door, calls).await?;
    Ok(run.into_results())
}

/// The planning routes, as a user with as many dated tasks as undated ones: creates with a
/// due date, a page of `GET /upcoming` (GSI2) and of `GET /tasks?sort=due_at` (GSI3), and a
/// PATCH that reopens a done task with a due date (the one update that also writes the
/// task's Upcoming keys, a second request).
async fn planning(run: &mut Runner<'_>, door: Door<'_>, calls: usize) -> anyhow::Result<()> {
    let user = Caller::new(None);
    let creates = calls.max(PAGE + 1);
    let mut ids = Vec::with_capacity(creates);
    // As many without a due date.
    for n in 0..creates {
        let undated = json!({ "title": format!("undated {n}") });
        let event = door.event(Request::new("POST", "/tasks").json(undated), &user);
        run.call("POST /tasks (no due date)", &event, 201).await?;
    }
    for n in 0..creates {
        let due = format!("2030-01-01T{:02}:{:02}:00Z", (n / 60) % 24, n % 60);
        let dated = json!({ "title": format!("dated {n}"), "due_at": due, "status": "done" });
        let event = door.event(Request::new("POST", "/tasks").json(dated), &user);
        let body = run.call("POST /tasks (with due_at)", &event, 201).await?;
        ids.push(body["task_id"].as_str().context("task_id")?.to_owned());
    }
    for id in &ids {
        let event = door.event(
            Request::new("PATCH", &format!("/tasks/{id}")).json(json!({ "status": "pending" })),
            &user,
        );
        run.call("PATCH /tasks/{id} (reopens a dated task)", &event, 200)
            .await?;
    }
    let limit = PAGE.to_string();
    for _ in 0..calls {
        let event = door.event(
            Request::new("GET", "/upcoming").query(&[("limit", &limit)]),
            &user,
        );
        let body = run.call("GET /upcoming (page of 20)", &event, 200).await?;
        ensure!(body["count"] == PAGE, "a short page: {body}");
    }
    for _ in 0..calls {
        let event = door.event(
            Request::new("GET", "/tasks").query(&[("sort", "due_at"), ("limit", &limit)]),
            &user,
        );
        let body = run
            .call("GET /tasks?sort=due_at (page of 20)", &event, 200)
            .await?;
        ensure!(body["count"] == PAGE, "a short page: {body}");
    }
    Ok(())
}

fn summarise(counted: Samples, durations: &[Duration], verified: &[Duration]) -> RouteResult {
    RouteResult {
        route: counted.route,
        calls: counted.tallies.len(),
        per_call: PerCall::of(&counted.tallies),
        duration: Spread::of(durations),
        function_url_duration: Spread::of(verified),
    }
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let mut out = Table::of(&self.routes)
            .text("route", |r| format!("`{}`", r.route))
            .text("DynamoDB requests per call", |r| r.per_call.requests_cell())
            .fixed("read units", 2, |r| r.per_call.read_units_per_call)
            .fixed("write units", 2, |r| r.per_call.write_units_per_call)
            .fixed("Lambda duration, median ms", 3, |r| r.duration.median_ms)
            .fixed("p90 ms", 3, |r| r.duration.p90_ms)
            .fixed("behind a Function URL, median ms", 3, |r| {
                r.function_url_duration.median_ms
            })
            .render();
        let _ = writeln!(
            out,
            "\n{} calls per route through taskapi-lambda (REST API events) on dynalite; units as \
             dynalite returns them for `ReturnConsumedCapacity: TOTAL` (table only: dynalite \
             does not charge GSI writes, which DynamoDB does). The last column: the same calls \
             as Function URL events, the function verifying each caller's ID token itself.",
            self.profile.calls
        );
        let _ = writeln!(
            out,
            "\n{}\nThe project routes, {} calls each (those of one member, once for each of {PAGE} \
             members), by one owner and the members they invite; \
             every count includes the caller's membership check. Transactions are played on \
             dynalite as their actions and charged twice those actions' units, as DynamoDB \
             charges a transaction (see `bench/src/proxy.rs`).",
            project_calls::markdown(&self.projects),
            self.profile.calls
        );
        out
    }
}
