//! The admin view over a sharded GSI1: one `Query` per partition of the status
//! ([`StatusShards::partitions`](keys::StatusShards::partitions)), run in parallel and merged in index order behind one
//! position.
//!
//! The position is the index key of the last task returned (`GSI1SK`, `PK`, `SK`), with
//! `GSI1PK` the status's unsharded key, so the cursor binds the status as before and has
//! one size whatever `N`. Each partition resumes after that position (DynamoDB orders an
//! index partition by `GSI1SK`, then the table key, and an `ExclusiveStartKey` is a
//! position, not necessarily an item), so the merge never skips or repeats a task. Every
//! partition is asked for `limit + 1` items: a page is then exactly `limit` long while
//! tasks remain, and the last page says it is the last.

use futures_util::future::try_join_all;
use taskapi_domain::keys;
use taskapi_domain::{ListQuery, Page, PageKey, Status, StoreError};

use crate::DynamoStore;
use crate::error::from_sdk;
use crate::item::{self, Item, as_key_text, attr, s};

/// Where an item sits in any GSI1 partition: `(GSI1SK, PK, SK)`, compared as DynamoDB
/// compares strings (by their UTF-8 bytes, which is `String`'s order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    gsi1sk: String,
    pk: String,
    sk: String,
}

impl Position {
    fn of(item: &Item) -> Result<Self, StoreError> {
        let text = |name: &str| {
            as_key_text(item, name).ok_or_else(|| {
                StoreError::internal(format!("GSI1 item without a string {name}: {item:?}"))
            })
        };
        Ok(Self {
            gsi1sk: text(attr::GSI1SK)?,
            pk: text(attr::PK)?,
            sk: text(attr::SK)?,
        })
    }

    fn from_page_key(key: &PageKey) -> Self {
        Self {
            gsi1sk: key.gsi1sk.clone().unwrap_or_default(),
            pk: key.pk.clone(),
            sk: key.sk.clone(),
        }
    }

    fn into_page_key(self, status: Status) -> PageKey {
        PageKey {
            pk: self.pk,
            sk: self.sk,
            gsi1pk: Some(keys::status_gsi1pk(status)),
            gsi1sk: Some(self.gsi1sk),
            due_sk: None,
        }
    }

    /// The `ExclusiveStartKey` that resumes `partition` after this position.
    fn start_key(&self, partition: &str) -> Item {
        Item::from([
            (attr::GSI1PK.to_owned(), s(partition)),
            (attr::GSI1SK.to_owned(), s(&self.gsi1sk)),
            (attr::PK.to_owned(), s(&self.pk)),
            (attr::SK.to_owned(), s(&self.sk)),
        ])
    }
}

/// What one partition returned after the position.
struct Run {
    items: Vec<(Position, Item)>,
    /// Where DynamoDB stopped when it did not reach the partition's end (`LastEvaluatedKey`).
    stopped_at: Option<Position>,
}

impl DynamoStore {
    pub(crate) async fn list_status_partitions(
        &self,
        status: Status,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        let after = query.start_after.as_ref().map(Position::from_page_key);
        let limit = query.limit.get();
        let runs = try_join_all(
            self.status_shards()
                .partitions(status)
                .iter()
                .map(|partition| self.run(partition, after.as_ref(), limit + 1)),
        )
        .await?;
        Ok(merge(runs, limit, status))
    }

    async fn run(
        &self,
        partition: &str,
        after: Option<&Position>,
        limit: usize,
    ) -> Result<Run, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :partition")
            .expression_attribute_values(":partition", s(partition))
            .set_exclusive_start_key(after.map(|position| position.start_key(partition)))
            .limit(i32::try_from(limit).expect("a page limit fits in i32"))
            .send()
            .await
            .map_err(from_sdk)?;
        let stopped_at = output.last_evaluated_key().map(Position::of).transpose()?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| Ok((Position::of(&item)?, item)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Run { items, stopped_at })
    }
}

/// The first `limit` items of all runs in index order, and where the next page starts.
///
/// A run that stopped early (its `limit + 1` items, or DynamoDB's 1 MB) says nothing about
/// items past its stop, so nothing past the earliest such stop (the horizon) is returned:
/// another partition's later item could come after an item not yet read.
fn merge(runs: Vec<Run>, limit: usize, status: Status) -> Page {
    let horizon = runs.iter().filter_map(|run| run.stopped_at.clone()).min();
    let mut merged: Vec<(Position, Item)> = runs.into_iter().flat_map(|run| run.items).collect();
    merged.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let within = merged
        .iter()
        .take_while(|(position, _)| horizon.as_ref().is_none_or(|h| position <= h))
        .count();
    let more = within > limit || horizon.is_some();
    merged.truncate(within.min(limit));
    let next = match merged.last() {
        _ if !more => None,
        Some((last, _)) if merged.len() == limit => Some(last.clone()),
        // A short page ends at the horizon: everything up to it has been returned.
        _ => horizon,
    };
    let tasks = merged
        .iter()
        .filter_map(|(_, raw)| {
            item::from_item(raw)
                .inspect_err(|err| tracing::warn!(error = %err, "skipping unreadable item"))
                .ok()
        })
        .collect();
    Page {
        tasks,
        next: next.map(|position| position.into_page_key(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(at: &str, id: &str) -> (Position, Item) {
        let raw = Item::from([
            (attr::PK.to_owned(), s("USER#u")),
            (attr::SK.to_owned(), s(format!("TASK#{id}"))),
            (attr::GSI1SK.to_owned(), s(at)),
            (attr::CREATED_AT.to_owned(), s(at)),
        ]);
        (Position::of(&raw).unwrap(), raw)
    }

    fn ids(page: &Page) -> Vec<&str> {
        page.tasks.iter().map(|t| t.task_id.as_str()).collect()
    }

    #[test]
    fn merges_in_index_order_and_stops_at_limit() {
        let runs = vec![
            Run {
                items: vec![item("1", "a"), item("4", "d")],
                stopped_at: None,
            },
            Run {
                items: vec![item("2", "b"), item("3", "c"), item("5", "e")],
                stopped_at: None,
            },
        ];
        let page = merge(runs, 3, Status::Pending);
        assert_eq!(ids(&page), ["a", "b", "c"]);
        let next = page.next.expect("more follow");
        assert_eq!(next.gsi1sk.as_deref(), Some("3"));
        assert_eq!(next.gsi1pk.as_deref(), Some("STATUS#pending"));
    }

    #[test]
    fn the_last_page_has_no_next() {
        let runs = vec![Run {
            items: vec![item("1", "a"), item("2", "b")],
            stopped_at: None,
        }];
        let page = merge(runs, 2, Status::Done);
        assert_eq!(ids(&page), ["a", "b"]);
        assert_eq!(page.next, None);
    }

    #[test]
    fn nothing_past_a_run_that_stopped_early() {
        // The first run hit DynamoDB's 1 MB after "2": "3" in the second run may come after
        // items of the first not read yet, so the page ends at "2" and resumes there.
        let runs = vec![
            Run {
                items: vec![item("1", "a"), item("2", "b")],
                stopped_at: Some(item("2", "b").0),
            },
            Run {
                items: vec![item("3", "c")],
                stopped_at: None,
            },
        ];
        let page = merge(runs, 10, Status::Pending);
        assert_eq!(ids(&page), ["a", "b"]);
        assert_eq!(page.next.unwrap().sk, "TASK#b");
    }
}
