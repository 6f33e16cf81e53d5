//! Planning reads on SQLite as a user's tasks grow: the first page of `GET /upcoming` and of
//! a due-date sorted list (its dated head, and its undated tail), at 1,000 and 50,000 tasks
//! of which 1 in 100 has a due date, against the plain first page at the same size (the
//! baseline, in the same run). Both views read partial indexes that hold only dated tasks,
//! so a page should cost the same at either size (the target: within 1.5×).
//!
//! Measured on the store itself (no HTTP), so the figure is the query's alone.

use serde::Serialize;
use taskapi_domain::{
    Description, Limit, ListQuery, NewTask, PageKey, Priority, Sort, Status, Task, TaskFilter,
    TaskStore, Timestamp, Title, keys, parse_instant,
};
use taskapi_store_sqlite::SqliteStore;

use crate::stats::Spread;
use crate::store_pages::{PageRead, Profile, fill, time_page};
use crate::table::Table;

pub const FULL: Profile = Profile {
    sizes: &[1_000, 50_000],
    repetitions: 2_000,
};

/// One task in this many has a due date.
const DATED_EVERY: usize = 100;
/// The page: the 10 dated tasks of the smallest size fill it.
const PAGE: &str = "10";

#[derive(Debug, Serialize)]
pub struct Report {
    pub profile: Profile,
    pub sizes: Vec<SizeResult>,
}

#[derive(Debug, Serialize)]
pub struct SizeResult {
    pub tasks: usize,
    pub plain: Spread,
    pub upcoming: Spread,
    pub due_sorted: Spread,
    pub undated_tail: Spread,
}

pub async fn run(profile: Profile) -> anyhow::Result<Report> {
    let mut sizes = Vec::new();
    for &tasks in profile.sizes {
        let data = tempfile::tempdir()?;
        let store = SqliteStore::open(&data.path().join("tasks.sqlite3"))?;
        let owner = format!("bench-owner-{tasks}");
        fill_dated(&store, &owner, tasks).await?;
        let first = ListQuery {
            limit: Limit::parse(PAGE)?,
            start_after: None,
        };
        // Where the dated run of a due-sorted list ends and the undated one starts.
        let tail = ListQuery {
            start_after: Some(PageKey::table(
                keys::user_pk(&owner),
                keys::TASK_PREFIX.to_owned(),
            )),
            ..first.clone()
        };
        let by_due = TaskFilter {
            sort: Sort::DueAt,
            ..TaskFilter::default()
        };
        let plain = TaskFilter::default();
        let n = profile.repetitions;
        let result = SizeResult {
            tasks,
            plain: time_page(n, 10, &|| -> PageRead<'_> {
                Box::pin(store.list_for_owner(&owner, &plain, &first))
            })
            .await?,
            upcoming: time_page(n, 10, &|| -> PageRead<'_> {
                Box::pin(store.upcoming(&owner, &first))
            })
            .await?,
            due_sorted: time_page(n, 10, &|| -> PageRead<'_> {
                Box::pin(store.list_for_owner(&owner, &by_due, &first))
            })
            .await?,
            undated_tail: time_page(n, 10, &|| -> PageRead<'_> {
                Box::pin(store.list_for_owner(&owner, &by_due, &tail))
            })
            .await?,
        };
        eprintln!(
            "{tasks:>6} tasks: plain {:.3} ms, upcoming {:.3} ms, due-sorted {:.3} ms, undated tail {:.3} ms",
            result.plain.median_ms,
            result.upcoming.median_ms,
            result.due_sorted.median_ms,
            result.undated_tail.median_ms
        );
        sizes.push(result);
    }
    Ok(Report { profile, sizes })
}

/// `tasks` pending tasks for `owner`, every [`DATED_EVERY`]th with a due date (due dates in
/// another order than creation).
async fn fill_dated(store: &SqliteStore, owner: &str, tasks: usize) -> anyhow::Result<()> {
    fill(store, owner, tasks, |n| {
        let due_at = (n % DATED_EVERY == 0)
            .then(|| {
                let day = 1 + (n * 7919) % 28;
                parse_instant("due_at", &format!("2030-02-{day:02}T09:00:00Z"))
            })
            .transpose()?;
        Ok(Task::create(
            NewTask {
                title: Title::parse(&format!("task {n}"))?,
                description: Description::parse("benchmark task")?,
                status: Status::Pending,
                due_at,
                priority: Priority::None,
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
            .fixed("plain page, median ms", 3, |s| s.plain.median_ms)
            .fixed("upcoming page, median ms", 3, |s| s.upcoming.median_ms)
            .fixed("upcoming p90 ms", 3, |s| s.upcoming.p90_ms)
            .fixed("due-sorted page, median ms", 3, |s| s.due_sorted.median_ms)
            .fixed("undated tail page, median ms", 3, |s| {
                s.undated_tail.median_ms
            })
            .render()
    }
}
