//! What the store-level page benchmarks share (`lists`, `planning`): one user's tasks in a
//! fresh SQLite store at each size, and a page read many times.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use serde::Serialize;
use taskapi_domain::{Page, StoreError, Task, TaskStore};
use taskapi_store_sqlite::SqliteStore;

use crate::stats::Spread;

/// The sizes a user's task count takes, and how often each page is read at each.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Profile {
    pub sizes: &'static [usize],
    pub repetitions: usize,
}

/// The short run for `--quick`, the same for every store-level page benchmark.
pub const QUICK: Profile = Profile {
    sizes: &[1_000, 5_000],
    repetitions: 200,
};

/// One read of a page, boxed so that each benchmark can name its own.
pub type PageRead<'a> = Pin<Box<dyn Future<Output = Result<Page, StoreError>> + Send + 'a>>;

/// `read` timed `repetitions` times; each page must hold `page` tasks.
pub async fn time_page<'a>(
    repetitions: usize,
    page: usize,
    read: &dyn Fn() -> PageRead<'a>,
) -> anyhow::Result<Spread> {
    let mut samples = Vec::with_capacity(repetitions);
    for _ in 0..repetitions {
        let started = Instant::now();
        let read = read().await?;
        samples.push(started.elapsed());
        anyhow::ensure!(read.tasks.len() == page, "a full page");
    }
    Ok(Spread::of(&samples))
}

/// `tasks` tasks for `owner`, the `n`th made by `task_of(n)`. Written many at a time so the
/// group commit batches them.
pub async fn fill(
    store: &SqliteStore,
    owner: &str,
    tasks: usize,
    task_of: impl Fn(usize) -> anyhow::Result<Task>,
) -> anyhow::Result<()> {
    let mut created = 0;
    while created < tasks {
        let batch = (tasks - created).min(512);
        let mut writes = tokio::task::JoinSet::new();
        for n in created..created + batch {
            let task = task_of(n)?;
            let (store, owner) = (store.clone(), owner.to_owned());
            writes.spawn(async move { store.create(&owner, &task).await });
        }
        for result in writes.join_all().await {
            result?;
        }
        created += batch;
    }
    Ok(())
}
