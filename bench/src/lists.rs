//! Status-filtered lists on SQLite as a user's tasks grow: the first page of a user's
//! tasks in one status, at 1,000, 10,000 and 50,000 tasks, against the unfiltered first
//! page at the same size (the baseline, in the same run). The tasks in the asked-for status
//! are the user's newest, so a plan that walks the user's partition and filters reads every
//! older task first; the owner-by-status index reads only the page.
//!
//! Measured on the store itself (no HTTP), so the figure is the query's alone.

use serde::Serialize;
use taskapi_domain::{
    Description, Limit, ListQuery, NewTask, Status, Task, TaskStore, Timestamp, Title,
};
use taskapi_store_sqlite::SqliteStore;

use crate::stats::Spread;
use crate::store_pages::{PageRead, Profile, fill, time_page};
use crate::table::Table;

pub const FULL: Profile = Profile {
    sizes: &[1_000, 10_000, 50_000],
    repetitions: 2_000,
};

/// Tasks in the filtered status, all of them the newest.
const IN_STATUS: usize = 40;
const PAGE: &str = "20";

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub sizes: Vec<SizeResult>,
}

#[derive(Debug, Serialize)]
pub struct SizeResult {
    pub tasks: usize,
    pub unfiltered: Spread,
    pub filtered: Spread,
}

pub async fn run(profile: Profile) -> anyhow::Result<Report> {
    let mut sizes = Vec::new();
    for &tasks in profile.sizes {
        let data = tempfile::tempdir()?;
        let store = SqliteStore::open(&data.path().join("tasks.sqlite3"))?;
        let owner = format!("bench-owner-{tasks}");
        fill_statuses(&store, &owner, tasks).await?;
        let query = ListQuery {
            limit: Limit::parse(PAGE)?,
            start_after: None,
        };
        let time = async |status: Option<Status>| -> anyhow::Result<Spread> {
            let filter = taskapi_domain::TaskFilter {
                status,
                ..Default::default()
            };
            let read =
                || -> PageRead<'_> { Box::pin(store.list_for_owner(&owner, &filter, &query)) };
            time_page(profile.repetitions, 20, &read).await
        };
        let unfiltered = time(None).await?;
        let filtered = time(Some(Status::InProgress)).await?;
        eprintln!(
            "{tasks:>6} tasks: unfiltered page {:.3} ms, in_progress page {:.3} ms",
            unfiltered.median_ms, filtered.median_ms
        );
        sizes.push(SizeResult {
            tasks,
            unfiltered,
            filtered,
        });
    }
    Ok(Report { profile, sizes })
}

/// `tasks` tasks for `owner`: pending ones, then [`IN_STATUS`] in progress.
async fn fill_statuses(store: &SqliteStore, owner: &str, tasks: usize) -> anyhow::Result<()> {
    fill(store, owner, tasks, |n| {
        let status = if n >= tasks - IN_STATUS {
            Status::InProgress
        } else {
            Status::Pending
        };
        Ok(Task::create(
            NewTask {
                title: Title::parse(&format!("task {n}"))?,
                description: Description::parse("benchmark task")?,
                status,
                due_at: None,
                priority: taskapi_domain::Priority::None,
            },
            Timestamp::now(),
        ))
    })
    .await
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        Table::of(&self.sizes)
            .number("tasks of the user", |s| s.tasks)
            .fixed("unfiltered page, median ms", 3, |s| s.unfiltered.median_ms)
            .fixed("status-filtered page, median ms", 3, |s| {
                s.filtered.median_ms
            })
            .fixed("p90 ms", 3, |s| s.filtered.p90_ms)
            .render()
    }
}
