//! The planning reads and the keys behind them: the Upcoming view (the `GSI2` index) and a
//! partition's tasks by due date (`GSI3`), with the same keys and order as DynamoDB's
//! sparse indexes, and the lists with a filter the fixed statements of [`crate::store`]
//! do not serve (`due_before`, an assignee on a personal list).

use rusqlite::{Connection, Row, params};
use taskapi_domain::{ListQuery, Page, PageKey, Sort, StoreError, Task, TaskFilter, keys};

use crate::fault::sql;
use crate::rows::{KeyedTask, paginate, row_to_any_task};
use crate::schema::any_task_columns;

/// Above every due-date sort key (they start with a year's digits): the bound of a due
/// list without `due_before`.
const DUE_SK_END: &str = "~";

/// Partition `?1`'s tasks after SK `?2`, at most `?3`, in status `?4` and assigned to `?5`
/// where given, and due before `?6` (text order of UTC instants) where given.
const FILTERED_BY_SK: &str = concat!(
    "SELECT ",
    any_task_columns!(),
    " FROM TaskApp WHERE PK = ?1 AND SK > ?2 AND SK < 'TASK$'
       AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR assignee = ?5)
       AND (?6 IS NULL OR due_at < ?6)
     ORDER BY SK LIMIT ?3"
);
/// The tail of a due-date sorted list: partition `?1`'s tasks without a due date after
/// SK `?2`, at most `?3`, filtered as above.
const UNDATED_BY_SK: &str = concat!(
    "SELECT ",
    any_task_columns!(),
    " FROM TaskApp WHERE PK = ?1 AND SK > ?2 AND SK < 'TASK$' AND due_at IS NULL
       AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR assignee = ?5)
     ORDER BY SK LIMIT ?3"
);
/// Partition `?1`'s tasks with a due date, by due sort key after `?2` and below `?6`
/// (through the partial index GSI3), at most `?3`, filtered as above.
const DATED_BY_DUE: &str = concat!(
    "SELECT ",
    any_task_columns!(),
    ", GSI3SK FROM TaskApp INDEXED BY GSI3 WHERE PK = ?1 AND GSI3SK > ?2 AND GSI3SK < ?6
       AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR assignee = ?5)
     ORDER BY GSI3SK LIMIT ?3"
);
/// A page of the Upcoming view of GSI2 partition `?1` after (`?2`, `?3`, `?4`), at most `?5`.
#[doc(hidden)]
pub const UPCOMING: &str = concat!(
    "SELECT ",
    any_task_columns!(),
    ", PK, SK, GSI2SK FROM TaskApp INDEXED BY GSI2
     WHERE GSI2PK = ?1 AND (GSI2SK, PK, SK) > (?2, ?3, ?4)
     ORDER BY GSI2SK, PK, SK LIMIT ?5"
);

/// Sets the due-date index keys of `task` (stored in partition `pk`) to what it is now:
/// in its partition's due list while it has a due date, in a user's Upcoming view while
/// [`Task::upcoming_for`] names one. Run in the transaction of every write that can change
/// them, so a task done, undated or reassigned leaves a view with the write itself.
pub(crate) fn index(conn: &Connection, pk: &str, task: &Task) -> Result<(), StoreError> {
    let due_sk = task
        .due_at
        .as_ref()
        .map(|due| keys::due_sk(due, &task.task_id));
    let gsi2pk = task
        .upcoming_for(keys::owner_of_pk(pk))
        .map(keys::upcoming_gsi2pk);
    let gsi2sk = gsi2pk.as_ref().and(due_sk.as_ref());
    conn.prepare_cached(
        "UPDATE TaskApp SET GSI2PK = ?3, GSI2SK = ?4, GSI3SK = ?5 WHERE PK = ?1 AND SK = ?2",
    )
    .and_then(|mut set| {
        set.execute(params![
            pk,
            keys::task_sk(&task.task_id),
            gsi2pk,
            gsi2sk,
            due_sk
        ])
    })
    .map_err(sql)
    .map(drop)
}

/// A page of partition `pk`'s tasks as `filter` asks. By due date: the dated tasks from
/// GSI3, then (unless `due_before` leaves them out) the undated ones in creation order;
/// a page key with a `due_sk` is a place among the first, one without among the second.
pub(crate) fn list(
    conn: &Connection,
    pk: &str,
    filter: &TaskFilter,
    query: &ListQuery,
) -> Result<Page, StoreError> {
    let limit = query.limit.get();
    let status = filter.status.map(|status| status.as_str());
    let assignee = filter.assignee.as_deref();
    let due_before = filter.due_before.as_ref().map(|due| due.as_str());
    let table_key = |row: &Row<'_>| {
        let task = row_to_any_task(row)?;
        let key = PageKey::table(pk.to_owned(), keys::task_sk(&task.task_id));
        Ok(KeyedTask { task, key })
    };
    let after_sk = |key: Option<&PageKey>| {
        key.map_or_else(|| keys::TASK_PREFIX.to_owned(), |key| key.sk.clone())
    };
    if filter.sort == Sort::CreatedAt {
        let after = after_sk(query.start_after.as_ref());
        let mut select = conn.prepare_cached(FILTERED_BY_SK).map_err(sql)?;
        let filters = params![pk, after, (limit + 1) as i64, status, assignee, due_before];
        let rows = select.query_map(filters, table_key).map_err(sql)?;
        return paginate(rows, limit);
    }
    let mut rows = Vec::new();
    let in_dated = query
        .start_after
        .as_ref()
        .is_none_or(|key| key.due_sk.is_some());
    if in_dated {
        let after = query
            .start_after
            .as_ref()
            .and_then(|key| key.due_sk.clone())
            .unwrap_or_default();
        let mut select = conn.prepare_cached(DATED_BY_DUE).map_err(sql)?;
        let bound = due_before.unwrap_or(DUE_SK_END);
        let filters = params![pk, after, (limit + 1) as i64, status, assignee, bound];
        let dated = select
            .query_map(filters, |row| {
                let task = row_to_any_task(row)?;
                let mut key = PageKey::table(pk.to_owned(), keys::task_sk(&task.task_id));
                key.due_sk = row.get(11)?;
                Ok(KeyedTask { task, key })
            })
            .map_err(sql)?;
        rows = dated.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)?;
    }
    if rows.len() <= limit && due_before.is_none() {
        let after = after_sk(query.start_after.as_ref().filter(|_| !in_dated));
        let wanted = (limit + 1 - rows.len()) as i64;
        let mut select = conn.prepare_cached(UNDATED_BY_SK).map_err(sql)?;
        let filters = params![pk, after, wanted, status, assignee];
        let undated = select.query_map(filters, table_key).map_err(sql)?;
        rows.extend(undated.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)?);
    }
    paginate(rows.into_iter().map(Ok), limit)
}

/// A page of the Upcoming view whose GSI2 partition key is `gsi2pk`: soonest first, ties
/// in table key order, as DynamoDB orders GSI2.
pub(crate) fn upcoming(
    conn: &Connection,
    gsi2pk: &str,
    query: &ListQuery,
) -> Result<Page, StoreError> {
    let limit = query.limit.get();
    let (after_due, after_pk, after_sk) = match &query.start_after {
        Some(key) => (
            key.due_sk.clone().unwrap_or_default(),
            key.pk.clone(),
            key.sk.clone(),
        ),
        None => Default::default(),
    };
    let mut select = conn.prepare_cached(UPCOMING).map_err(sql)?;
    let rows = select
        .query_map(
            params![gsi2pk, after_due, after_pk, after_sk, (limit + 1) as i64],
            |row| {
                Ok(KeyedTask {
                    task: row_to_any_task(row)?,
                    key: PageKey {
                        pk: row.get(11)?,
                        sk: row.get(12)?,
                        gsi1pk: None,
                        gsi1sk: None,
                        due_sk: row.get(13)?,
                    },
                })
            },
        )
        .map_err(sql)?;
    paginate(rows, limit)
}
