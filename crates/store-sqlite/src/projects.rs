//! [`ProjectStore`] on SQLite: projects, members and invitations in tables of their own
//! (the members' index by user plays the DynamoDB mirror items), a project's tasks in the
//! task table under `PK = PROJECT#<id>`. The single writer runs each call in one
//! transaction, so a membership check, the last-owner rule and the write that depends on
//! them cannot interleave with another request.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};
use taskapi_domain::{
    Change, Created, Email, EventKind, IdempotentCreate, Invitation, InvitationId, ListQuery,
    MAX_MEMBERS, Membership, Page, PageKey, Project, ProjectId, ProjectName, ProjectPage,
    ProjectStore, ProjectView, Role, Sort, StoreError, Task, TaskFilter, TaskId, TaskUpdate,
    Timestamp, ValidationError, keys, new_event_id,
};

use crate::SqliteStore;
use crate::fault::{execute, sql};
use crate::outbox;
use crate::planning;
use crate::rows::{KeyedTask, page_of, paginate, project_fields, row_to_any_task, row_to_task};
use crate::schema::any_task_columns;
use crate::store::insert_new_task;

macro_rules! member_columns {
    () => {
        "project_id, user_id, email, role, joined_at"
    };
}
pub(crate) const MEMBER_COLUMNS: &str = member_columns!();
/// One membership: the check in front of every project call.
const SELECT_MEMBER: &str = concat!(
    "SELECT ",
    member_columns!(),
    " FROM Members WHERE project_id = ?1 AND user_id = ?2"
);
pub(crate) const INVITATION_COLUMNS: &str =
    "invitation_id, project_id, project_name, email, role, created_at, expires_at";

/// A page of a project's tasks: `?1` PK, after SK `?2`, at most `?3` rows.
const LIST_PROJECT_TASKS: &str = concat!(
    "SELECT ",
    any_task_columns!(),
    " FROM TaskApp WHERE PK = ?1 AND SK > ?2 AND SK < 'TASK$' ORDER BY SK LIMIT ?3"
);
/// The same, in status `?4` and assigned to `?5` where those are given. Apart from the
/// unfiltered statement: SQLite re-plans a statement whose plan depends on a bound value
/// (`?4 IS NULL`) at every execution, which the common, unfiltered page need not pay.
const LIST_PROJECT_TASKS_FILTERED: &str = concat!(
    "SELECT ",
    any_task_columns!(),
    " FROM TaskApp WHERE PK = ?1 AND SK > ?2 AND SK < 'TASK$'
       AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR assignee = ?5)
     ORDER BY SK LIMIT ?3"
);

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn create_project(
        &self,
        project: &Project,
        owner: &Membership,
    ) -> Result<(), StoreError> {
        let (project, owner) = (project.clone(), owner.clone());
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO Projects (project_id, name, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut insert| {
                insert.execute(params![
                    project.project_id.as_str(),
                    project.name,
                    project.created_at.as_str(),
                    project.updated_at.as_str()
                ])
            })
            .map_err(sql)
            .and_then(|inserted| match inserted {
                0 => Err(StoreError::AlreadyExists),
                _ => insert_member(conn, &owner),
            })?;
            // A new project reaches its creator's other tabs as their own joining.
            let at = project.created_at.clone();
            outbox::record_member(conn, EventKind::MemberAdded, at, &owner)
        })
        .await
    }

    async fn list_projects(
        &self,
        user: &str,
        query: &ListQuery,
    ) -> Result<ProjectPage, StoreError> {
        let pk = keys::user_pk(user);
        let after = query.start_after.as_ref().map_or(String::new(), |key| {
            key.sk
                .strip_prefix(keys::PROJECT_PREFIX)
                .unwrap_or_default()
                .to_owned()
        });
        let limit = query.limit.get();
        self.read(|conn| {
            let mut select = conn
                .prepare_cached(
                    "SELECT p.project_id, p.name, p.created_at, p.updated_at, m.role
                     FROM Members m JOIN Projects p ON p.project_id = m.project_id
                     WHERE m.user_id = ?1 AND m.project_id > ?2
                     ORDER BY m.project_id LIMIT ?3",
                )
                .map_err(sql)?;
            let rows = select
                .query_map(params![user, after, (limit + 1) as i64], |row| {
                    let project = row_to_project(row)?;
                    let key =
                        PageKey::table(pk.clone(), keys::project_mirror_sk(&project.project_id));
                    let role = parse(row, 4, str::parse::<Role>)?;
                    Ok((ProjectView { project, role }, key))
                })
                .map_err(sql)?;
            let (projects, next) = page_of(rows, limit)?;
            Ok(ProjectPage { projects, next })
        })
    }

    async fn membership(
        &self,
        project: &ProjectId,
        user: &str,
    ) -> Result<Option<Membership>, StoreError> {
        self.read(|conn| select_member(conn, project, user))
    }

    async fn project(&self, project: &ProjectId) -> Result<Option<Project>, StoreError> {
        self.read(|conn| select_project(conn, project))
    }

    async fn project_for(
        &self,
        project: &ProjectId,
        user: &str,
    ) -> Result<Option<(Project, Membership)>, StoreError> {
        self.read(|conn| {
            let Some(member) = select_member(conn, project, user)? else {
                return Ok(None);
            };
            Ok(select_project(conn, project)?.map(|project| (project, member)))
        })
    }

    async fn rename_project(
        &self,
        project: &ProjectId,
        name: &ProjectName,
        at: &Timestamp,
    ) -> Result<Project, StoreError> {
        let (project, name, at) = (project.clone(), name.clone(), at.clone());
        self.write(move |conn| {
            let renamed = conn
                .prepare_cached(
                    "UPDATE Projects SET name = ?2, updated_at = ?3 WHERE project_id = ?1
                 RETURNING project_id, name, created_at, updated_at",
                )
                .and_then(|mut rename| {
                    rename
                        .query_row(
                            params![project.as_str(), name.as_str(), at.as_str()],
                            row_to_project,
                        )
                        .optional()
                })
                .map_err(sql)?
                .ok_or(StoreError::NotFound)?;
            let change = Change::project_updated(new_event_id(), &renamed);
            outbox::record(conn, &change)?;
            Ok(renamed)
        })
        .await
    }

    async fn delete_project(&self, project: &ProjectId) -> Result<(), StoreError> {
        let project = project.clone();
        // One transaction: every row of the project goes at once, however many tasks.
        self.write(move |conn| {
            let id = project.as_str();
            let deleted = execute(conn, "DELETE FROM Projects WHERE project_id = ?1", &[&id])?;
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            execute(conn, "DELETE FROM Members WHERE project_id = ?1", &[&id])?;
            execute(
                conn,
                "DELETE FROM Invitations WHERE project_id = ?1",
                &[&id],
            )?;
            let pk = keys::project_pk(&project);
            execute(conn, "DELETE FROM TaskApp WHERE PK = ?1", &[&pk])?;
            crate::webhooks::delete_all_of(conn, &pk)?;
            let change = Change::project_deleted(new_event_id(), Timestamp::now(), project);
            outbox::record(conn, &change)
        })
        .await
    }

    async fn members(&self, project: &ProjectId) -> Result<Vec<Membership>, StoreError> {
        self.read(|conn| {
            let mut select = conn
                .prepare_cached(&format!(
                    "SELECT {MEMBER_COLUMNS} FROM Members WHERE project_id = ?1
                     ORDER BY joined_at, user_id"
                ))
                .map_err(sql)?;
            select
                .query_map([project.as_str()], row_to_member)
                .and_then(Iterator::collect)
                .map_err(sql)
        })
    }

    async fn change_role(&self, member: &Membership, role: Role) -> Result<Membership, StoreError> {
        let member = member.clone();
        self.write(move |conn| {
            check_departure(conn, &member, role == Role::Owner)?;
            execute(
                conn,
                "UPDATE Members SET role = ?3 WHERE project_id = ?1 AND user_id = ?2",
                &[&member.project_id.as_str(), &member.user_id, &role.as_str()],
            )?;
            let changed = Membership { role, ..member };
            outbox::record_member(conn, EventKind::MemberUpdated, Timestamp::now(), &changed)?;
            Ok(changed)
        })
        .await
    }

    async fn remove_member(&self, member: &Membership) -> Result<(), StoreError> {
        let member = member.clone();
        self.write(move |conn| {
            check_departure(conn, &member, false)?;
            execute(
                conn,
                "DELETE FROM Members WHERE project_id = ?1 AND user_id = ?2",
                &[&member.project_id.as_str(), &member.user_id],
            )?;
            outbox::record_member(conn, EventKind::MemberRemoved, Timestamp::now(), &member)
        })
        .await
    }

    async fn invite(&self, invitation: &Invitation) -> Result<(), StoreError> {
        let invitation = invitation.clone();
        self.write(move |conn| {
            let values = invitation_values(&invitation);
            let inserted = execute(
                conn,
                &format!(
                    "INSERT INTO Invitations ({INVITATION_COLUMNS})
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS
                     (SELECT 1 FROM Projects WHERE project_id = ?2)"
                ),
                &values.each_ref().map(|value| value as &dyn ToSql),
            )?;
            match inserted {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn project_invitations(
        &self,
        project: &ProjectId,
    ) -> Result<Vec<Invitation>, StoreError> {
        self.read(|conn| select_invitations(conn, "project_id", project.as_str()))
    }

    async fn invitations_for(&self, email: &Email) -> Result<Vec<Invitation>, StoreError> {
        self.read(|conn| select_invitations(conn, "email", email.as_str()))
    }

    async fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        self.read(|conn| {
            Ok(select_invitations(conn, "invitation_id", id.as_str())?
                .into_iter()
                .next())
        })
    }

    async fn accept(&self, invitation: &Invitation, member: &Membership) -> Result<(), StoreError> {
        let (id, member) = (invitation.invitation_id.clone(), member.clone());
        self.write(move |conn| {
            let withdrawn = execute(
                conn,
                "DELETE FROM Invitations WHERE invitation_id = ?1",
                &[&id.as_str()],
            )?;
            if withdrawn == 0 || select_project(conn, &member.project_id)?.is_none() {
                return Err(StoreError::NotFound);
            }
            if select_member(conn, &member.project_id, &member.user_id)?.is_some() {
                return Err(StoreError::AlreadyMember);
            }
            let members: i64 = conn
                .prepare_cached("SELECT count(*) FROM Members WHERE project_id = ?1")
                .and_then(|mut count| {
                    count.query_row([member.project_id.as_str()], |row| row.get(0))
                })
                .map_err(sql)?;
            if members >= MAX_MEMBERS as i64 {
                return Err(StoreError::ProjectFull);
            }
            insert_member(conn, &member)?;
            let at = member.joined_at.clone();
            outbox::record_member(conn, EventKind::MemberAdded, at, &member)
        })
        .await
    }

    async fn withdraw_invitation(&self, invitation: &Invitation) -> Result<(), StoreError> {
        let id = invitation.invitation_id.clone();
        self.write(move |conn| {
            match execute(
                conn,
                "DELETE FROM Invitations WHERE invitation_id = ?1",
                &[&id.as_str()],
            )? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn create_project_task(&self, task: &Task) -> Result<(), StoreError> {
        let pk = project_pk_of(task)?;
        let task = task.clone();
        self.write(move |conn| insert_new_task(conn, &pk, &task))
            .await
    }

    async fn create_project_task_once(
        &self,
        caller: &str,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError> {
        let pk = project_pk_of(task)?;
        // As the Idempotency table names a key within a partition: the caller's, then it.
        let key = format!("{caller}#{}", once.key.as_str());
        self.create_once_in(pk, key, task, once).await
    }

    async fn project_task(
        &self,
        project: &ProjectId,
        id: &TaskId,
    ) -> Result<Option<Task>, StoreError> {
        let (pk, sk) = (keys::project_pk(project), keys::task_sk(id));
        self.read(|conn| {
            conn.prepare_cached(concat!(
                "SELECT ",
                any_task_columns!(),
                " FROM TaskApp WHERE PK = ?1 AND SK = ?2"
            ))
            .and_then(|mut select| {
                select
                    .query_row(params![pk, sk], row_to_any_task)
                    .optional()
            })
            .map_err(sql)
        })
    }

    async fn list_project_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        let pk = keys::project_pk(project);
        if filter.sort != Sort::CreatedAt || filter.due_before.is_some() {
            return self.read(|conn| planning::list(conn, &pk, filter, query));
        }
        let after = query
            .start_after
            .as_ref()
            .map_or_else(|| keys::TASK_PREFIX.to_owned(), |key| key.sk.clone());
        let limit = query.limit.get();
        self.read(|conn| {
            // Every row is of this project: its id is known, not read and checked again.
            let keyed = |row: &Row<'_>| {
                let mut task = row_to_task(row)?;
                task.project = Some(project_fields(row, project.clone())?);
                let sk = keys::task_sk(&task.task_id);
                Ok(KeyedTask {
                    task,
                    key: PageKey::table(pk.clone(), sk),
                })
            };
            let rows_wanted = (limit + 1) as i64;
            let status = filter.status.map(|status| status.as_str());
            let mut select;
            let rows = if status.is_none() && filter.assignee.is_none() {
                select = conn.prepare_cached(LIST_PROJECT_TASKS).map_err(sql)?;
                select.query_map(params![pk, after, rows_wanted], keyed)
            } else {
                select = conn
                    .prepare_cached(LIST_PROJECT_TASKS_FILTERED)
                    .map_err(sql)?;
                let filters = params![pk, after, rows_wanted, status, filter.assignee];
                select.query_map(filters, keyed)
            }
            .map_err(sql)?;
            paginate(rows, limit)
        })
    }

    async fn update_project_task(
        &self,
        project: &ProjectId,
        id: &TaskId,
        update: &TaskUpdate,
    ) -> Result<Task, StoreError> {
        self.update_in(keys::project_pk(project), id, update).await
    }

    async fn delete_project_task(
        &self,
        project: &ProjectId,
        id: &TaskId,
        expected: Option<&Timestamp>,
    ) -> Result<(), StoreError> {
        self.delete_in(keys::project_pk(project), id, expected)
            .await
    }
}

/// The partition of a project task: `PROJECT#<id>` of the project it carries.
fn project_pk_of(task: &Task) -> Result<String, StoreError> {
    task.project
        .as_ref()
        .map(|project| keys::project_pk(&project.project_id))
        .ok_or_else(|| StoreError::internal("a project task without its project"))
}

/// An invitation's values, in [`INVITATION_COLUMNS`] order.
pub(crate) fn invitation_values(invitation: &Invitation) -> [&str; 7] {
    [
        invitation.invitation_id.as_str(),
        invitation.project_id.as_str(),
        &invitation.project_name,
        invitation.email.as_str(),
        invitation.role.as_str(),
        invitation.created_at.as_str(),
        invitation.expires_at.as_str(),
    ]
}

pub(crate) fn insert_member(conn: &Connection, member: &Membership) -> Result<(), StoreError> {
    execute(
        conn,
        &format!("INSERT INTO Members ({MEMBER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
        &[
            &member.project_id.as_str(),
            &member.user_id,
            &member.email,
            &member.role.as_str(),
            &member.joined_at.as_str(),
        ],
    )
    .map(drop)
}

/// Before `member` stops being what they were read as: `Conflict` if their membership
/// changed meanwhile (or is gone: `NotFound`), `LastOwner` if they are the only owner and
/// will not stay one.
fn check_departure(
    conn: &Connection,
    member: &Membership,
    stays_owner: bool,
) -> Result<(), StoreError> {
    let stored =
        select_member(conn, &member.project_id, &member.user_id)?.ok_or(StoreError::NotFound)?;
    if stored.role != member.role {
        return Err(StoreError::Conflict);
    }
    if member.role == Role::Owner && !stays_owner {
        let owners: i64 = conn
            .prepare_cached("SELECT count(*) FROM Members WHERE project_id = ?1 AND role = 'owner'")
            .and_then(|mut count| count.query_row([member.project_id.as_str()], |row| row.get(0)))
            .map_err(sql)?;
        if owners <= 1 {
            return Err(StoreError::LastOwner);
        }
    }
    Ok(())
}

pub(crate) fn select_member(
    conn: &Connection,
    project: &ProjectId,
    user: &str,
) -> Result<Option<Membership>, StoreError> {
    conn.prepare_cached(SELECT_MEMBER)
        .and_then(|mut select| {
            select
                .query_row(params![project.as_str(), user], row_to_member)
                .optional()
        })
        .map_err(sql)
}

pub(crate) fn select_project(
    conn: &Connection,
    project: &ProjectId,
) -> Result<Option<Project>, StoreError> {
    conn.prepare_cached(
        "SELECT project_id, name, created_at, updated_at FROM Projects WHERE project_id = ?1",
    )
    .and_then(|mut select| {
        select
            .query_row([project.as_str()], row_to_project)
            .optional()
    })
    .map_err(sql)
}

/// The invitations whose `column` (one of this module's names) is `value`, oldest first.
pub(crate) fn select_invitations(
    conn: &Connection,
    column: &'static str,
    value: &str,
) -> Result<Vec<Invitation>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {INVITATION_COLUMNS} FROM Invitations WHERE {column} = ?1
         ORDER BY created_at, invitation_id"
    ))
    .and_then(|mut select| {
        select
            .query_map([value], row_to_invitation)
            .and_then(Iterator::collect)
    })
    .map_err(sql)
}

/// Parses column `index` with `parse`, as a conversion failure if it is not valid.
fn parse<T>(
    row: &Row<'_>,
    index: usize,
    parse: impl FnOnce(&str) -> Result<T, ValidationError>,
) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    parse(&text).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, err.into())
    })
}

pub(crate) fn row_to_project(row: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        project_id: parse(row, 0, ProjectId::parse)?,
        name: row.get(1)?,
        created_at: Timestamp::from_stored(row.get(2)?),
        updated_at: Timestamp::from_stored(row.get(3)?),
    })
}

pub(crate) fn row_to_member(row: &Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        project_id: parse(row, 0, ProjectId::parse)?,
        user_id: row.get(1)?,
        email: row.get(2)?,
        role: parse(row, 3, str::parse)?,
        joined_at: Timestamp::from_stored(row.get(4)?),
    })
}

pub(crate) fn row_to_invitation(row: &Row<'_>) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        invitation_id: parse(row, 0, InvitationId::parse)?,
        project_id: parse(row, 1, ProjectId::parse)?,
        project_name: row.get(2)?,
        email: parse(row, 3, Email::parse)?,
        role: parse(row, 4, str::parse)?,
        created_at: Timestamp::from_stored(row.get(5)?),
        expires_at: Timestamp::from_stored(row.get(6)?),
    })
}
