//! Groups and their members.

use rusqlite::{ToSql, params};

use super::Store;
use crate::error::PoolStoreError;
use crate::model::{Group, User};

impl Store {
    /// Inserts a group; `Ok(false)` when the name is taken.
    pub fn insert_group(&self, group: &Group) -> Result<bool, PoolStoreError> {
        let inserted = self.with_conn(|conn| Ok(conn.execute(
            "INSERT OR IGNORE INTO groups (pool_id, name, description, precedence, role_arn, created, modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            columns(group),
        )?))?;
        Ok(inserted == 1)
    }

    pub fn group_exists(&self, pool_id: &str, name: &str) -> Result<bool, PoolStoreError> {
        let found = self.optional_row(
            "SELECT 1 FROM groups WHERE pool_id = ?1 AND name = ?2",
            params![pool_id, name],
            |_| Ok(()),
        )?;
        Ok(found.is_some())
    }

    pub fn add_member(&self, user: &User, group: &str) -> Result<(), PoolStoreError> {
        self.execute(
            "INSERT OR IGNORE INTO group_members (pool_id, group_name, username) VALUES (?1, ?2, ?3)",
            params![user.pool_id, group, user.username],
        )
    }

    pub fn remove_member(&self, user: &User, group: &str) -> Result<(), PoolStoreError> {
        self.execute(
            "DELETE FROM group_members WHERE pool_id = ?1 AND group_name = ?2 AND username = ?3",
            params![user.pool_id, group, user.username],
        )
    }

    /// A user's groups ordered as `cognito:groups` lists them: by precedence (lowest first,
    /// groups without one last), then by name.
    pub fn groups_of(&self, pool_id: &str, username: &str) -> Result<Vec<Group>, PoolStoreError> {
        self.select_groups(
            "FROM groups g JOIN group_members m ON m.pool_id = g.pool_id AND m.group_name = g.name
             WHERE m.pool_id = ?1 AND m.username = ?2
             ORDER BY g.precedence IS NULL, g.precedence, g.name",
            params![pool_id, username],
        )
    }

    /// A pool's groups by name.
    pub fn groups(&self, pool_id: &str) -> Result<Vec<Group>, PoolStoreError> {
        self.select_groups(
            "FROM groups g WHERE g.pool_id = ?1 ORDER BY g.name",
            params![pool_id],
        )
    }

    pub fn group(&self, pool_id: &str, name: &str) -> Result<Option<Group>, PoolStoreError> {
        Ok(self
            .select_groups(
                "FROM groups g WHERE g.pool_id = ?1 AND g.name = ?2",
                params![pool_id, name],
            )?
            .pop())
    }

    pub fn update_group(&self, group: &Group) -> Result<(), PoolStoreError> {
        self.execute(
            "UPDATE groups SET description = ?3, precedence = ?4, role_arn = ?5, modified = ?7
             WHERE pool_id = ?1 AND name = ?2",
            columns(group),
        )
    }

    /// Deletes a group and its memberships.
    pub fn delete_group(&self, pool_id: &str, name: &str) -> Result<(), PoolStoreError> {
        self.with_conn(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM group_members WHERE pool_id = ?1 AND group_name = ?2",
                params![pool_id, name],
            )?;
            tx.execute(
                "DELETE FROM groups WHERE pool_id = ?1 AND name = ?2",
                params![pool_id, name],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The usernames in a group, oldest membership first.
    pub fn member_names(&self, pool_id: &str, group: &str) -> Result<Vec<String>, PoolStoreError> {
        self.all_rows(
            "SELECT username FROM group_members WHERE pool_id = ?1 AND group_name = ?2
             ORDER BY rowid",
            params![pool_id, group],
            |r| r.get(0),
        )
    }

    fn select_groups(
        &self,
        rest: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<Group>, PoolStoreError> {
        self.all_rows(
            &format!(
                "SELECT g.pool_id, g.name, g.description, g.precedence, g.role_arn, g.created,
                     g.modified {rest}"
            ),
            args,
            |r| {
                Ok(Group {
                    pool_id: r.get(0)?,
                    name: r.get(1)?,
                    description: r.get(2)?,
                    precedence: r.get(3)?,
                    role_arn: r.get(4)?,
                    created: r.get(5)?,
                    modified: r.get(6)?,
                })
            },
        )
    }
}

/// A group's columns in table order, as `?1` to `?7` of the statements that write one
/// (an update leaves `created`, `?6`, alone).
fn columns(group: &Group) -> [&dyn ToSql; 7] {
    [
        &group.pool_id,
        &group.name,
        &group.description,
        &group.precedence,
        &group.role_arn,
        &group.created,
        &group.modified,
    ]
}
