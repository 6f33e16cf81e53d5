//! Group administration beyond creating groups and changing memberships (signed actions).

use serde::{Deserialize, Serialize};

use super::admin::GroupsResponse;
use super::page;
use super::shapes::{Empty, GroupType, UserType};
use crate::UserPools;
use crate::error::CognitoError;
use crate::model::Group;

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
pub(super) struct GroupResult {
    group: GroupType,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UsersResponse {
    users: Vec<UserType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

impl UserPools {
    fn existing_group(&self, pool_id: &str, name: &str) -> Result<Group, CognitoError> {
        self.pool(pool_id)?;
        self.store
            .group(pool_id, name)?
            .ok_or_else(|| CognitoError::ResourceNotFound("Group not found.".into()))
    }

    pub(super) fn get_group(&self, req: GroupRef) -> Result<GroupResult, CognitoError> {
        let group = self.existing_group(&req.user_pool_id, &req.group_name)?;
        Ok(GroupResult {
            group: GroupType::new(&group),
        })
    }

    pub(super) fn list_groups(&self, req: ListGroups) -> Result<GroupsResponse, CognitoError> {
        self.pool(&req.user_pool_id)?;
        let groups = self.store.groups(&req.user_pool_id)?;
        let (groups, next_token) = page(groups, req.next_token.as_deref(), req.limit, 60)?;
        Ok(GroupsResponse::new(&groups, next_token))
    }

    /// Members left out of the request keep their values.
    pub(super) fn update_group(&self, req: UpdateGroup) -> Result<GroupResult, CognitoError> {
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
        self.store.update_group(&group)?;
        Ok(GroupResult {
            group: GroupType::new(&group),
        })
    }

    pub(super) fn delete_group(&self, req: GroupRef) -> Result<Empty, CognitoError> {
        let group = self.existing_group(&req.user_pool_id, &req.group_name)?;
        self.store.delete_group(&group.pool_id, &group.name)?;
        Ok(Empty {})
    }

    pub(super) fn list_users_in_group(
        &self,
        req: ListUsersInGroup,
    ) -> Result<UsersResponse, CognitoError> {
        let group = self.existing_group(&req.user_pool_id, &req.group_name)?;
        let names = self.store.member_names(&group.pool_id, &group.name)?;
        let (names, next_token) = page(names, req.next_token.as_deref(), req.limit, 60)?;
        let mut users = Vec::with_capacity(names.len());
        for name in names {
            if let Some(user) = self.store.find_user(&group.pool_id, &name)? {
                users.push(UserType::new(&user));
            }
        }
        Ok(UsersResponse { users, next_token })
    }
}
