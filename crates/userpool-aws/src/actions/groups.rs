//! Groups: creating, reading, changing and deleting them, and their members (all signed
//! actions). One shape answers every action that returns one group.

use serde::{Deserialize, Serialize};

use super::page;
use super::shapes::{Empty, GroupType, UserType};
use crate::door::AwsDoor;
use taskapi_userpool::error::PoolError;
use taskapi_userpool::model::{Group, User};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreateGroup {
    user_pool_id: String,
    group_name: String,
    description: Option<String>,
    precedence: Option<i64>,
    role_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Membership {
    user_pool_id: String,
    username: String,
    group_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListGroupsForUser {
    user_pool_id: String,
    username: String,
    limit: Option<usize>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupRef {
    user_pool_id: String,
    group_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListGroups {
    user_pool_id: String,
    limit: Option<usize>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UpdateGroup {
    user_pool_id: String,
    group_name: String,
    description: Option<String>,
    precedence: Option<i64>,
    role_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUsersInGroup {
    user_pool_id: String,
    group_name: String,
    limit: Option<usize>,
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupResponse {
    group: GroupType,
}

/// AdminListGroupsForUser and ListGroups.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupsResponse {
    groups: Vec<GroupType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl GroupsResponse {
    pub(super) fn new(groups: &[Group], next_token: Option<String>) -> Self {
        Self {
            groups: groups.iter().map(GroupType::new).collect(),
            next_token,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UsersResponse {
    users: Vec<UserType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl AwsDoor {
    fn existing_group(&self, pool_id: &str, name: &str) -> Result<Group, PoolError> {
        self.pool(pool_id)?;
        self.store()
            .group(pool_id, name)?
            .ok_or_else(|| PoolError::ResourceNotFound("Group not found.".into()))
    }

    pub(super) fn create_group(&self, req: CreateGroup) -> Result<GroupResponse, PoolError> {
        self.pool(&req.user_pool_id)?;
        if req.group_name.is_empty() || req.group_name.chars().count() > 128 {
            return Err(PoolError::InvalidParameter(
                "1 validation error detected: Value at 'groupName' failed to satisfy constraint: \
                 Member must have length between 1 and 128"
                    .into(),
            ));
        }
        let now = self.now();
        let group = Group {
            pool_id: req.user_pool_id,
            name: req.group_name,
            description: req.description,
            precedence: req.precedence,
            role_arn: req.role_arn,
            created: now,
            modified: now,
        };
        if !self.store().insert_group(&group)? {
            return Err(PoolError::GroupExists);
        }
        Ok(GroupResponse {
            group: GroupType::new(&group),
        })
    }

    pub(super) fn get_group(&self, req: GroupRef) -> Result<GroupResponse, PoolError> {
        let group = self.existing_group(&req.user_pool_id, &req.group_name)?;
        Ok(GroupResponse {
            group: GroupType::new(&group),
        })
    }

    pub(super) fn list_groups(&self, req: ListGroups) -> Result<GroupsResponse, PoolError> {
        self.pool(&req.user_pool_id)?;
        let groups = self.store().groups(&req.user_pool_id)?;
        let (groups, next_token) = page(groups, req.next_token.as_deref(), req.limit, 60)?;
        Ok(GroupsResponse::new(&groups, next_token))
    }

    /// Members left out of the request keep their values.
    pub(super) fn update_group(&self, req: UpdateGroup) -> Result<GroupResponse, PoolError> {
        let mut group = self.existing_group(&req.user_pool_id, &req.group_name)?;
        if req.description.is_some() {
            group.description = req.description;
        }
        if req.precedence.is_some() {
            group.precedence = req.precedence;
        }
        if req.role_arn.is_some() {
            group.role_arn = req.role_arn;
        }
        group.modified = self.now();
        self.store().update_group(&group)?;
        Ok(GroupResponse {
            group: GroupType::new(&group),
        })
    }

    pub(super) fn delete_group(&self, req: GroupRef) -> Result<Empty, PoolError> {
        let group = self.existing_group(&req.user_pool_id, &req.group_name)?;
        self.store().delete_group(&group.pool_id, &group.name)?;
        Ok(Empty {})
    }

    pub(super) fn list_users_in_group(
        &self,
        req: ListUsersInGroup,
    ) -> Result<UsersResponse, PoolError> {
        let group = self.existing_group(&req.user_pool_id, &req.group_name)?;
        let names = self.store().member_names(&group.pool_id, &group.name)?;
        let (names, next_token) = page(names, req.next_token.as_deref(), req.limit, 60)?;
        let mut users = Vec::with_capacity(names.len());
        for name in names {
            if let Some(user) = self.store().find_user(&group.pool_id, &name)? {
                users.push(UserType::new(&user));
            }
        }
        Ok(UsersResponse { users, next_token })
    }

    pub(super) fn admin_add_user_to_group(&self, req: Membership) -> Result<Empty, PoolError> {
        let user = self.member_change(&req)?;
        self.store().add_member(&user, &req.group_name)?;
        Ok(Empty {})
    }

    pub(super) fn admin_remove_user_from_group(&self, req: Membership) -> Result<Empty, PoolError> {
        let user = self.member_change(&req)?;
        self.store().remove_member(&user, &req.group_name)?;
        Ok(Empty {})
    }

    /// Validates a membership change and returns the user it concerns.
    fn member_change(&self, req: &Membership) -> Result<User, PoolError> {
        let (_, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        if !self
            .store()
            .group_exists(&req.user_pool_id, &req.group_name)?
        {
            return Err(PoolError::ResourceNotFound("Group not found.".into()));
        }
        Ok(user)
    }

    pub(super) fn admin_list_groups_for_user(
        &self,
        req: ListGroupsForUser,
    ) -> Result<GroupsResponse, PoolError> {
        let (_, user) = self.admin_user(&req.user_pool_id, &req.username)?;
        let groups = self.store().groups_of(&user.pool_id, &user.username)?;
        let (groups, next_token) = page(groups, req.next_token.as_deref(), req.limit, 60)?;
        Ok(GroupsResponse::new(&groups, next_token))
    }
}
