//! The status index past one partition's limit. Two measurements:
//!
//! - A model of the write rate one status can take: 100,000 task ids generated as the API
//!   generates them (UUIDv7), each placed on its GSI1 partition by the real key function
//!   ([`StatusShards::gsi1pk`]); every create writes one index entry (items under 1 KB, one
//!   write unit) to its partition, and a partition takes 1,000 write units per second, so
//!   the busiest partition's share sets the ceiling: 1,000 / share creates per second.
//! - The admin page's DynamoDB requests and read units with 8 shards against 1 shard (the
//!   baseline, same run): the real `taskapi-lambda` paging `GET /admin/tasks` through the
//!   counting proxy on dynalite.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, ensure};
use serde::Serialize;
use taskapi_domain::keys::StatusShards;
use taskapi_domain::{Description, NewTask, Status, Task, TaskId, TaskStore, Timestamp, Title};
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::Emulator;

use crate::function::{Function, Runtime};
use crate::proxy::{self, Proxy, Tally};
use crate::stats::Spread;
use crate::table::Table;

/// Write units per second one DynamoDB partition takes (`perf-cost-anchors.md` §3).
const PARTITION_WRITE_UNITS: f64 = 1000.0;
/// Shard counts modelled; the admin view is measured for the first and the last.
const MODELLED: [u16; 5] = [1, 2, 4, 8, 16];
const MEASURED: [u16; 2] = [1, 8];
const PAGE: &str = "20";

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    pub ids: usize,
    /// Pending tasks in the table for the admin view.
    pub tasks: usize,
    /// Admin pages fetched per shard count.
    pub pages: usize,
}

impl Profile {
    pub const FULL: Profile = Profile {
        ids: 100_000,
        tasks: 400,
        pages: 100,
    };
    pub const QUICK: Profile = Profile {
        ids: 100_000,
        tasks: 100,
        pages: 20,
    };
}

#[derive(Debug, Serialize)]
pub struct PartitionLoad {
    pub shards: u16,
    /// Index entries per partition, busiest and quietest, out of `ids`.
    pub busiest: usize,
    pub quietest: usize,
    /// Creates per second one status takes before its busiest partition throttles.
    pub creates_per_second: f64,
}

#[derive(Debug, Serialize)]
pub struct AdminPage {
    pub shards: u16,
    pub pages: usize,
    pub requests_per_page: BTreeMap<String, f64>,
    pub read_units_per_page: f64,
    /// Of the pages fetched, those holding exactly `limit` tasks (all but a list's last).
    pub full_pages: usize,
    pub duration: Spread,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub model: Vec<PartitionLoad>,
    pub admin: Vec<AdminPage>,
}

pub async fn run(binary: &Path, profile: Profile) -> anyhow::Result<Report> {
    let ids: Vec<TaskId> = (0..profile.ids).map(|_| TaskId::generate()).collect();
    let model = MODELLED
        .iter()
        .map(|&count| spread(&ids, StatusShards::new(count).expect("a valid count")))
        .collect();
    let mut admin = Vec::new();
    for count in MEASURED {
        admin.push(admin_pages(binary, profile, StatusShards::new(count)?).await?);
    }
    Ok(Report {
        profile,
        model,
        admin,
    })
}

fn spread(ids: &[TaskId], shards: StatusShards) -> PartitionLoad {
    let mut per_partition: BTreeMap<String, usize> = BTreeMap::new();
    for id in ids {
        *per_partition
            .entry(shards.gsi1pk(Status::Pending, id))
            .or_default() += 1;
    }
    let busiest = per_partition.values().copied().max().unwrap_or(0);
    let quietest = if per_partition.len() == usize::from(shards.get()) {
        per_partition.values().copied().min().unwrap_or(0)
    } else {
        0
    };
    PartitionLoad {
        shards: shards.get(),
        busiest,
        quietest,
        creates_per_second: PARTITION_WRITE_UNITS * ids.len() as f64 / busiest as f64,
    }
}

/// Pages through the admin view `profile.pages` times (from the start again at the end),
/// once through the proxy (requests, units) and once directly (durations).
async fn admin_pages(
    binary: &Path,
    profile: Profile,
    shards: StatusShards,
) -> anyhow::Result<AdminPage> {
    let dynalite = Emulator::dynalite();
    let store = dynalite.fresh_store().await.with_status_shards(shards);
    for n in 0..profile.tasks {
        let task = Task::create(
            NewTask {
                title: Title::parse(&format!("pending task {n}"))?,
                description: Description::parse("waiting for an admin")?,
                status: Status::Pending,
                due_at: None,
                priority: taskapi_domain::Priority::None,
            },
            Timestamp::now(),
        );
        store
            .create(&uuid::Uuid::new_v4().to_string(), &task)
            .await?;
    }
    let proxy = Proxy::start(dynalite.endpoint_url()).await;
    let runtime = Runtime::Rust(binary.to_owned());
    let env = [("TASKAPI_STATUS_SHARDS", shards.to_string())];
    let counted = {
        let (function, _) =
            Function::start_with(&runtime, proxy.url(), store.table(), &env).await?;
        page_through(&function, profile.pages, Some(&proxy)).await?
    };
    let timed = {
        let endpoint = dynalite.endpoint_url();
        let (function, _) = Function::start_with(&runtime, &endpoint, store.table(), &env).await?;
        page_through(&function, profile.pages, None).await?
    };
    let pages = counted.tallies.len() as f64;
    Ok(AdminPage {
        shards: shards.get(),
        pages: counted.tallies.len(),
        requests_per_page: proxy::mean_requests(&counted.tallies),
        read_units_per_page: counted.tallies.iter().map(|t| t.read_units).sum::<f64>() / pages,
        full_pages: counted.full_pages,
        duration: Spread::of(&timed.durations),
    })
}

struct Pages {
    tallies: Vec<Tally>,
    durations: Vec<std::time::Duration>,
    full_pages: usize,
}

async fn page_through(
    function: &Function,
    pages: usize,
    proxy: Option<&Proxy>,
) -> anyhow::Result<Pages> {
    let admin = Caller::new(Some("admins"));
    let event = |token: Option<&str>| {
        let mut query = vec![("status", "pending"), ("limit", PAGE)];
        if let Some(token) = token {
            query.push(("next_token", token));
        }
        Request::new("GET", "/admin/tasks")
            .by(&admin)
            .query(&query)
            .event(Api::Rest)
    };
    // Not measured: the first request builds what the function builds lazily.
    function.call(&event(None), 200).await.context("warm-up")?;
    if let Some(proxy) = proxy {
        proxy.take();
    }
    let mut result = Pages {
        tallies: Vec::new(),
        durations: Vec::new(),
        full_pages: 0,
    };
    let mut next: Option<String> = None;
    for _ in 0..pages {
        let (reply, duration) = function.invoke(&event(next.as_deref())).await?;
        ensure!(
            reply.status == 200,
            "admin page: {} {}",
            reply.status,
            reply.body
        );
        result.durations.push(duration);
        result.tallies.extend(proxy.map(Proxy::take));
        if reply.body["count"] == PAGE.parse::<u64>()? {
            result.full_pages += 1;
        }
        next = reply.body["next_token"].as_str().map(str::to_owned);
    }
    Ok(result)
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let mut out = Table::of(&self.model)
            .number("shards", |m| m.shards)
            .number("index entries on the busiest partition", |m| m.busiest)
            .number("on the quietest", |m| m.quietest)
            .number("creates per second one status takes", |m| {
                format!("**{:.0}**", m.creates_per_second)
            })
            .render();
        let _ = writeln!(
            out,
            "\n{} task ids generated as the API does (UUIDv7), placed by the real key function; \
             one index write unit per create, {PARTITION_WRITE_UNITS:.0} write units per second \
             per partition.\n",
            self.profile.ids
        );
        let admin = Table::of(&self.admin)
            .number("shards", |a| a.shards)
            .text("DynamoDB requests per admin page", |a| {
                proxy::requests_cell(&a.requests_per_page)
            })
            .fixed("read units per page", 2, |a| a.read_units_per_page)
            .number("full pages", |a| format!("{}/{}", a.full_pages, a.pages))
            .fixed("Lambda duration, median ms", 3, |a| a.duration.median_ms)
            .fixed("p90 ms", 3, |a| a.duration.p90_ms);
        out.push_str(&admin.render());
        let _ = writeln!(
            out,
            "\n`GET /admin/tasks?status=pending&limit={PAGE}` paged {} times over {} pending tasks \
             of as many users (from the start again after the last page), through \
             taskapi-lambda on dynalite; units as dynalite reports them.",
            self.profile.pages, self.profile.tasks
        );
        out
    }
}
