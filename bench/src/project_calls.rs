//! DynamoDB requests and capacity units per project call: the real `taskapi-lambda` on
//! dynalite behind the counting [`Proxy`] (which plays the transactions dynalite lacks, and
//! charges them as DynamoDB does), every project route in the order a team uses them.
//! Every call's count includes the caller's membership check.

use anyhow::{Context, ensure};
use serde::Serialize;
use serde_json::{Value, json};
use taskapi_testkit::apigw::{Api, Caller, Request};

use crate::function::Function;
use crate::proxy::{PerCall, Proxy};
use crate::runner::{PAGE, Runner, Samples};
use crate::stats::Spread;
use crate::table::Table;

#[derive(Debug, Serialize)]
pub struct ProjectRoute {
    pub route: &'static str,
    pub calls: usize,
    #[serde(flatten)]
    pub per_call: PerCall,
    /// Through the proxy (which plays each transaction as several requests): for the
    /// order of magnitude only.
    pub duration: Spread,
}

impl From<Samples> for ProjectRoute {
    fn from(samples: Samples) -> Self {
        Self {
            route: samples.route,
            calls: samples.tallies.len(),
            per_call: PerCall::of(&samples.tallies),
            duration: Spread::of(&samples.durations),
        }
    }
}

/// Every project route `calls` times (the member routes once per member): an owner creates
/// projects, invites [`PAGE`] people (a project holds at most 50 members) who accept, fills one project with tasks, changes and removes members, then deletes
/// the projects (one holding a page of tasks and more).
pub async fn exercise(
    function: &Function,
    proxy: &Proxy,
    calls: usize,
) -> anyhow::Result<Vec<ProjectRoute>> {
    let owner = Caller::new(None);
    let call = |request: Request<'_>, caller: &Caller| request.by(caller).event(Api::Rest);
    let mut run = Runner::new(function, Some(proxy));

    let mut projects = Vec::with_capacity(calls);
    for n in 0..calls {
        let event = call(
            Request::new("POST", "/projects").json(json!({ "name": format!("project {n}") })),
            &owner,
        );
        let project = run.call("POST /projects", &event, 201).await?;
        projects.push(format!("/projects/{}", id(&project, "project_id")?));
    }
    let shared = projects[0].clone();
    for _ in 0..calls {
        let event = call(Request::new("GET", "/projects"), &owner);
        run.call("GET /projects", &event, 200).await?;
    }
    for _ in 0..calls {
        run.call(
            "GET /projects/{p}",
            &call(Request::new("GET", &shared), &owner),
            200,
        )
        .await?;
    }
    for n in 0..calls {
        let event = call(
            Request::new("PATCH", &shared).json(json!({ "name": format!("renamed {n}") })),
            &owner,
        );
        run.call("PATCH /projects/{p}", &event, 200).await?;
    }

    let members: Vec<Caller> = (0..calls.min(PAGE)).map(|_| Caller::new(None)).collect();
    let invitations_path = format!("{shared}/invitations");
    let mut invitations = Vec::with_capacity(members.len());
    for member in &members {
        let email = format!("{}@example.com", member.sub);
        let event = call(
            Request::new("POST", &invitations_path)
                .json(json!({ "email": email, "role": "editor" })),
            &owner,
        );
        let invitation = run
            .call("POST /projects/{p}/invitations", &event, 201)
            .await?;
        invitations.push(id(&invitation, "invitation_id")?);
    }
    for member in &members {
        let event = call(Request::new("GET", "/invitations"), member);
        let mine = run.call("GET /invitations", &event, 200).await?;
        ensure!(mine["count"] == 1, "one invitation each: {mine}");
    }
    for (member, invitation) in members.iter().zip(&invitations) {
        let path = format!("/invitations/{invitation}/accept");
        run.call(
            "POST /invitations/{id}/accept",
            &call(Request::new("POST", &path), member),
            200,
        )
        .await?;
    }
    let members_path = format!("{shared}/members");
    for _ in 0..calls {
        let event = call(Request::new("GET", &members_path), &owner);
        run.call("GET /projects/{p}/members", &event, 200).await?;
    }
    for member in &members {
        let path = format!("{members_path}/{}", member.sub);
        let event = call(
            Request::new("PATCH", &path).json(json!({ "role": "viewer" })),
            &owner,
        );
        run.call("PATCH /projects/{p}/members/{u}", &event, 200)
            .await?;
    }

    let tasks_path = format!("{shared}/tasks");
    let mut tasks = Vec::new();
    for n in 0..calls + PAGE + 1 {
        let body = json!({ "title": format!("shared task {n}"), "assignee": owner.sub });
        let event = call(Request::new("POST", &tasks_path).json(body), &owner);
        let task = run.call("POST /projects/{p}/tasks", &event, 201).await?;
        tasks.push(format!("{tasks_path}/{}", id(&task, "task_id")?));
    }
    let member = &members[0];
    for n in 0..calls {
        let event = call(Request::new("GET", &tasks[n % tasks.len()]), member);
        run.call("GET /projects/{p}/tasks/{id}", &event, 200)
            .await?;
    }
    let limit = PAGE.to_string();
    for _ in 0..calls {
        let query = [("limit", limit.as_str())];
        let event = call(Request::new("GET", &tasks_path).query(&query), member);
        let page = run
            .call("GET /projects/{p}/tasks (page of 20)", &event, 200)
            .await?;
        ensure!(page["count"] == PAGE, "a short page: {page}");
    }
    for n in 0..calls {
        let status = ["in_progress", "done"][n % 2];
        let event = call(
            Request::new("PATCH", &tasks[n % tasks.len()]).json(json!({ "status": status })),
            &owner,
        );
        run.call("PATCH /projects/{p}/tasks/{id}", &event, 200)
            .await?;
    }
    // Leave a page and one more for the project's deletion.
    for task in tasks.iter().skip(PAGE + 1).take(calls) {
        run.call(
            "DELETE /projects/{p}/tasks/{id}",
            &call(Request::new("DELETE", task), &owner),
            204,
        )
        .await?;
    }
    for member in &members {
        let path = format!("{members_path}/{}", member.sub);
        let event = call(Request::new("DELETE", &path), &owner);
        run.call("DELETE /projects/{p}/members/{u}", &event, 204)
            .await?;
    }
    for project in projects.iter().skip(1) {
        let event = call(Request::new("DELETE", project), &owner);
        run.call("DELETE /projects/{p} (empty)", &event, 204)
            .await?;
    }
    let event = call(Request::new("DELETE", &shared), &owner);
    run.call("DELETE /projects/{p} (21 tasks)", &event, 204)
        .await?;
    Ok(run
        .into_results()
        .into_iter()
        .map(ProjectRoute::from)
        .collect())
}

fn id(body: &Value, field: &str) -> anyhow::Result<String> {
    body[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{field} in {body}"))
}

/// The per-call table of project routes.
pub fn markdown(routes: &[ProjectRoute]) -> String {
    Table::of(routes)
        .text("project route", |r| format!("`{}`", r.route))
        .text("DynamoDB requests per call", |r| r.per_call.requests_cell())
        .fixed("read units", 2, |r| r.per_call.read_units_per_call)
        .fixed("write units", 2, |r| r.per_call.write_units_per_call)
        .fixed("through the proxy, median ms", 3, |r| r.duration.median_ms)
        .render()
}
