//! [`ProjectStore`] on DynamoDB. Every call is at most two requests after the caller's
//! membership check (a `GetItem`): a project with its owner's membership is one
//! transaction; "my projects" is one `Query` of the caller's mirrors and one
//! `BatchGetItem` of those projects (a deleted project's stray mirror then lists nothing);
//! a membership change is one transaction with its mirror and the project's counters.
//! Invitations are in [`crate::invitations`], a project's deletion in [`crate::purge`].

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnValue};
use taskapi_domain::{
    Created, Email, IdempotentCreate, Invitation, InvitationId, ListQuery, Membership, Page,
    Project, ProjectId, ProjectName, ProjectPage, ProjectStore, ProjectView, Role, StoreError,
    Task, TaskFilter, TaskId, TaskUpdate, Timestamp, keys,
};

use crate::DynamoStore;
use crate::error::{conditional, from_sdk};
use crate::idempotency::RecordKey;
use crate::item::{Item, attr, s};
use crate::page_key;
use crate::project_item::{
    self as items, MEMBERS, NAME, OWNERS, ROLE, Reader, member_key, meta_key, mirror_key,
};
use crate::transact::Write;

impl DynamoStore {
    /// One item, read consistently (a change just made is seen).
    pub(crate) async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(output.item)
    }

    /// Every item of partition `pk` whose sort key starts with `prefix` (a project's
    /// members or invitations: bounded, so rarely more than one page).
    pub(crate) async fn items_under(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(from_sdk)?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// The projects of these mirrors, in their order, each with the mirror's role; a
    /// mirror whose project is gone (a deletion still purging) is left out.
    async fn projects_of(&self, mirrors: &[Item]) -> Result<Vec<ProjectView>, StoreError> {
        let mut wanted = Vec::new();
        for mirror in mirrors {
            let reader = Reader(mirror);
            let project = ProjectId::parse(
                mirror
                    .get(attr::PROJECT_ID)
                    .and_then(|value| value.as_s().ok())
                    .map_or("", String::as_str),
            )
            .map_err(StoreError::internal)?;
            wanted.push((project, reader.role()?));
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let keys = wanted.iter().map(|(id, _)| meta_key(id)).collect();
        let found = self
            .get_items(keys)
            .await?
            .iter()
            .map(|item| Reader(item).project())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(wanted
            .into_iter()
            .filter_map(|(id, role)| {
                let project = found.iter().find(|project| project.project_id == id)?;
                Some(ProjectView {
                    project: project.clone(),
                    role,
                })
            })
            .collect())
    }

    /// These items (at most 100), read consistently in one `BatchGetItem`; those that do not
    /// exist are left out.
    async fn get_items(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut keys_left = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(StoreError::internal)?,
        );
        let mut found = Vec::new();
        // Keys DynamoDB did not get to (throttling) come back as unprocessed: ask again.
        while let Some(batch) = keys_left.take() {
            let output = self
                .client()
                .batch_get_item()
                .request_items(self.table(), batch)
                .send()
                .await
                .map_err(from_sdk)?;
            found.extend(
                output
                    .responses
                    .unwrap_or_default()
                    .remove(self.table())
                    .unwrap_or_default(),
            );
            keys_left = output
                .unprocessed_keys
                .and_then(|mut left| left.remove(self.table()))
                .filter(|left| !left.keys().is_empty());
        }
        Ok(found)
    }

    /// The error for a membership change whose condition on the membership failed: the
    /// member is gone, or their role is not the one the change was based on.
    async fn membership_changed(&self, member: &Membership) -> StoreError {
        match self.membership(&member.project_id, &member.user_id).await {
            Ok(None) => StoreError::NotFound,
            Ok(Some(_)) => StoreError::Conflict,
            Err(err) => err,
        }
    }
}

/// The condition "the member still has the role `member` was read with".
fn still(member: &Membership, write: Write) -> Write {
    write
        .when(format!("#{ROLE} = :old_role"))
        .name(ROLE)
        .value(":old_role", member.role.as_str())
}

#[async_trait]
impl ProjectStore for DynamoStore {
    async fn create_project(
        &self,
        project: &Project,
        owner: &Membership,
    ) -> Result<(), StoreError> {
        let writes = vec![
            Write::put(items::meta_item(project)).when("attribute_not_exists(PK)"),
            Write::put(items::member_item(owner)),
            Write::put(items::mirror_item(owner)),
        ];
        self.transact(writes).await.map_err(|refused| {
            if refused.at(0) {
                StoreError::AlreadyExists
            } else {
                refused.otherwise()
            }
        })
    }

    async fn list_projects(
        &self,
        user: &str,
        query: &ListQuery,
    ) -> Result<ProjectPage, StoreError> {
        let limit = i32::try_from(query.limit.get()).expect("a page limit fits in i32");
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::user_pk(user)))
            .expression_attribute_values(":prefix", s(keys::PROJECT_PREFIX))
            .consistent_read(true)
            .limit(limit)
            .set_exclusive_start_key(query.start_after.as_ref().map(page_key::to_start_key))
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(ProjectPage {
            projects: self.projects_of(output.items()).await?,
            next: page_key::from_last_evaluated(output.last_evaluated_key())?,
        })
    }

    async fn membership(
        &self,
        project: &ProjectId,
        user: &str,
    ) -> Result<Option<Membership>, StoreError> {
        self.get_item(member_key(project, user))
            .await?
            .map(|item| Reader(&item).member())
            .transpose()
    }

    async fn project(&self, project: &ProjectId) -> Result<Option<Project>, StoreError> {
        self.get_item(meta_key(project))
            .await?
            .map(|item| Reader(&item).project())
            .transpose()
    }

    async fn project_for(
        &self,
        project: &ProjectId,
        user: &str,
    ) -> Result<Option<(Project, Membership)>, StoreError> {
        let items = self
            .get_items(vec![meta_key(project), member_key(project, user)])
            .await?;
        let is = |item: &Item, sk: &str| {
            item.get(attr::SK)
                .and_then(|value| value.as_s().ok())
                .map(String::as_str)
                == Some(sk)
        };
        let meta = items.iter().find(|item| is(item, keys::PROJECT_META_SK));
        let member = items.iter().find(|item| is(item, &keys::member_sk(user)));
        match (meta, member) {
            (Some(meta), Some(member)) => {
                Ok(Some((Reader(meta).project()?, Reader(member).member()?)))
            }
            _ => Ok(None),
        }
    }

    async fn rename_project(
        &self,
        project: &ProjectId,
        name: &ProjectName,
        at: &Timestamp,
    ) -> Result<Project, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(meta_key(project)))
            .update_expression("SET #name = :name, #updated_at = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#name", NAME)
            .expression_attribute_names("#updated_at", attr::UPDATED_AT)
            .expression_attribute_values(":name", s(name.as_str()))
            .expression_attribute_values(":at", s(at.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let output = conditional(result, StoreError::NotFound)?;
        let stored = output
            .attributes()
            .ok_or_else(|| StoreError::internal("UpdateItem with ALL_NEW returned nothing"))?;
        Reader(stored).project()
    }

    async fn delete_project(&self, project: &ProjectId) -> Result<(), StoreError> {
        self.purge_project(project).await
    }

    async fn members(&self, project: &ProjectId) -> Result<Vec<Membership>, StoreError> {
        let mut members = self
            .items_under(keys::project_pk(project), keys::MEMBER_PREFIX)
            .await?
            .iter()
            .map(|item| Reader(item).member())
            .collect::<Result<Vec<_>, _>>()?;
        members.sort_by(|a, b| (&a.joined_at, &a.user_id).cmp(&(&b.joined_at, &b.user_id)));
        Ok(members)
    }

    async fn change_role(&self, member: &Membership, role: Role) -> Result<Membership, StoreError> {
        let set_role = |key| {
            Write::update(key, format!("SET #{ROLE} = :role"))
                .name(ROLE)
                .value(":role", role.as_str())
        };
        let mut writes = vec![
            still(
                member,
                set_role(member_key(&member.project_id, &member.user_id)),
            ),
            set_role(mirror_key(&member.project_id, &member.user_id)),
        ];
        let owners = match (member.role == Role::Owner, role == Role::Owner) {
            (true, false) => Some(-1),
            (false, true) => Some(1),
            _ => None,
        };
        if let Some(change) = owners {
            writes.push(owner_count(&member.project_id, change));
        }
        match self.transact(writes).await {
            Ok(()) => Ok(Membership {
                role,
                ..member.clone()
            }),
            Err(refused) if refused.at(0) => Err(self.membership_changed(member).await),
            Err(refused) if refused.at(2) => Err(StoreError::LastOwner),
            Err(refused) => Err(refused.otherwise()),
        }
    }

    async fn remove_member(&self, member: &Membership) -> Result<(), StoreError> {
        let meta = meta_key(&member.project_id);
        let counts = if member.role == Role::Owner {
            // One write per item in a transaction: both counts in one update.
            Write::update(meta, format!("ADD #{MEMBERS} :minus, #{OWNERS} :minus"))
                .name(OWNERS)
                .when(format!("#{OWNERS} > :one"))
                .number(":one", 1)
        } else {
            Write::update(meta, format!("ADD #{MEMBERS} :minus")).when("attribute_exists(PK)")
        };
        let writes = vec![
            still(
                member,
                Write::delete(member_key(&member.project_id, &member.user_id)),
            ),
            Write::delete(mirror_key(&member.project_id, &member.user_id)),
            counts.name(MEMBERS).number(":minus", -1),
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(refused) if refused.at(0) => Err(self.membership_changed(member).await),
            // The membership held, so the project exists: its owner count refused.
            Err(refused) if refused.at(2) && member.role == Role::Owner => {
                Err(StoreError::LastOwner)
            }
            Err(refused) if refused.at(2) => Err(StoreError::NotFound),
            Err(refused) => Err(refused.otherwise()),
        }
    }

    async fn invite(&self, invitation: &Invitation) -> Result<(), StoreError> {
        self.put_invitation(invitation).await
    }

    async fn project_invitations(
        &self,
        project: &ProjectId,
    ) -> Result<Vec<Invitation>, StoreError> {
        self.invitations_in(keys::project_pk(project)).await
    }

    async fn invitations_for(&self, email: &Email) -> Result<Vec<Invitation>, StoreError> {
        self.invitations_in(keys::invitee_pk(email)).await
    }

    async fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        self.get_item(items::invitation_key(id))
            .await?
            .map(|item| Reader(&item).invitation())
            .transpose()
    }

    async fn accept(&self, invitation: &Invitation, member: &Membership) -> Result<(), StoreError> {
        self.accept_invitation(invitation, member).await
    }

    async fn withdraw_invitation(&self, invitation: &Invitation) -> Result<(), StoreError> {
        self.delete_invitation(invitation).await
    }

    async fn create_project_task(&self, task: &Task) -> Result<(), StoreError> {
        let project = task
            .project
            .as_ref()
            .ok_or_else(|| StoreError::internal("create_project_task with a task of no project"))?;
        self.create_in(keys::project_pk(&project.project_id), task)
            .await
    }

    async fn create_project_task_once(
        &self,
        caller: &str,
        task: &Task,
        once: &IdempotentCreate,
    ) -> Result<Created, StoreError> {
        let project = task.project.as_ref().ok_or_else(|| {
            StoreError::internal("create_project_task_once with a task of no project")
        })?;
        let at = RecordKey {
            pk: keys::project_pk(&project.project_id),
            sk: keys::project_idempotency_sk(caller, &once.key),
        };
        self.create_once_on_dynamodb(&at, task, once).await
    }

    async fn project_task(
        &self,
        project: &ProjectId,
        id: &TaskId,
    ) -> Result<Option<Task>, StoreError> {
        self.get_in(keys::project_pk(project), id).await
    }

    async fn list_project_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        self.list_in(keys::project_pk(project), filter, query).await
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

/// Adds `change` to the project's owner count; a decrease only while another owner stays.
pub(crate) fn owner_count(project: &ProjectId, change: i64) -> Write {
    let write = Write::update(meta_key(project), format!("ADD #{OWNERS} :change"))
        .name(OWNERS)
        .number(":change", change);
    if change < 0 {
        write.when(format!("#{OWNERS} > :one")).number(":one", 1)
    } else {
        write.when("attribute_exists(PK)")
    }
}
