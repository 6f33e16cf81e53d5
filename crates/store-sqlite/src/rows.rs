//! Rows into tasks and pages: what every read of the task table shares (personal, project,
//! status and due-date lists, exports). A leaf: it knows the column lists, nothing else of
//! the store.

use rusqlite::Row;
use taskapi_domain::{
    Page, PageKey, ProjectFields, ProjectId, StoreError, Task, TaskId, Timestamp,
};

use crate::fault::sql;

/// A task read with the key a page that ends at it continues from.
pub(crate) struct KeyedTask {
    pub(crate) task: Task,
    pub(crate) key: PageKey,
}

/// Builds a page from up to `limit + 1` rows: the extra row only tells that more follow,
/// so `next` is exact (no empty last page, unlike DynamoDB).
pub(crate) fn paginate(
    rows: impl Iterator<Item = rusqlite::Result<KeyedTask>>,
    limit: usize,
) -> Result<Page, StoreError> {
    let (tasks, next) = page_of(rows.map(|row| row.map(|row| (row.task, row.key))), limit)?;
    Ok(Page { tasks, next })
}

/// The first `limit` of up to `limit + 1` keyed rows, and the key of the last one kept if
/// the extra row tells that more follow.
pub(crate) fn page_of<T>(
    rows: impl Iterator<Item = rusqlite::Result<(T, PageKey)>>,
    limit: usize,
) -> Result<(Vec<T>, Option<PageKey>), StoreError> {
    let mut rows = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows.last().filter(|_| more).map(|(_, key)| key.clone());
    Ok((rows.into_iter().map(|(item, _)| item).collect(), next))
}

/// Reads the columns of `any_task_columns!`: a task, personal or in a project.
pub(crate) fn row_to_any_task(row: &Row<'_>) -> rusqlite::Result<Task> {
    let mut task = row_to_task(row)?;
    let project: Option<String> = row.get(8)?;
    if let Some(project) = project {
        let project_id = ProjectId::parse(&project).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, err.into())
        })?;
        task.project = Some(project_fields(row, project_id)?);
    }
    Ok(task)
}

/// A project task's fields of a row of `any_task_columns!` (its creator and assignee, by
/// position: a name would be looked up column by column for every row), in `project_id`.
pub(crate) fn project_fields(
    row: &Row<'_>,
    project_id: ProjectId,
) -> rusqlite::Result<ProjectFields> {
    Ok(ProjectFields {
        project_id,
        created_by: row.get::<_, Option<String>>(9)?.unwrap_or_default(),
        assignee: row.get(10)?,
    })
}

/// Reads the columns of `task_columns!`, in order.
pub(crate) fn row_to_task(row: &Row<'_>) -> rusqlite::Result<Task> {
    let invalid = |column: usize, err: taskapi_domain::ValidationError| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, err.into())
    };
    let task_id: String = row.get(0)?;
    let status: String = row.get(3)?;
    // A row from before version 4 has neither: no due date, priority `none`.
    let priority: Option<String> = row.get(7)?;
    Ok(Task {
        task_id: TaskId::parse(&task_id).map_err(|err| invalid(0, err))?,
        title: row.get(1)?,
        description: row.get(2)?,
        status: status.parse().map_err(|err| invalid(3, err))?,
        created_at: Timestamp::from_stored(row.get(4)?),
        updated_at: Timestamp::from_stored(row.get(5)?),
        due_at: row.get::<_, Option<String>>(6)?.map(Timestamp::from_stored),
        priority: priority
            .map(|raw| raw.parse())
            .transpose()
            .map_err(|err| invalid(7, err))?
            .unwrap_or_default(),
        project: None,
    })
}
