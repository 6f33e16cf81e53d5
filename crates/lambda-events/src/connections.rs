//! The open WebSocket connections, as items in the task table: one in the user's partition
//! (`PK = USER#<sub>`, `SK = CONNECTION#<id>`), so the fan-out finds a user's sockets with
//! one Query, and a lookup (`PK = CONNECTION#<id>`, `SK = CONNECTION`) naming the user,
//! since `$disconnect` knows only the connection id. Both carry the table's TTL attribute
//! set to when the socket may no longer be used, so DynamoDB removes what a lost
//! `$disconnect` leaves behind; readers treat a lapsed item as gone, as TTL deletes late.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, Select, TransactWriteItem};
use taskapi_domain::{ProjectId, keys};
use taskapi_store_dynamodb::TTL_ATTRIBUTE;

use crate::error::TableError;

/// The attribute of the lookup item naming the connection's user.
const USER: &str = "user";

/// One open socket of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: String,
    /// Unix seconds after which the socket may no longer receive anything.
    pub expires_at: i64,
}

pub struct Connections {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

impl Connections {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// How many of `sub`'s sockets are still live at `now`.
    pub async fn live_count(&self, sub: &str, now: i64) -> Result<usize, TableError> {
        let mut count = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .filter_expression("#ttl > :now")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":pk", s(keys::user_pk(sub)))
                .expression_attribute_values(":prefix", s(keys::CONNECTION_PREFIX))
                .expression_attribute_values(":now", n(now))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|err| TableError::of("Query", &err))?;
            count += usize::try_from(page.count).unwrap_or_default();
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    /// Records socket `id` of `sub`, usable until `expires_at`: both items in one
    /// transaction, so neither exists without the other.
    pub async fn open(
        &self,
        sub: &str,
        id: &str,
        connected_at: i64,
        expires_at: i64,
    ) -> Result<(), TableError> {
        let put = |item: HashMap<String, AttributeValue>| {
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .build()
                        .expect("table and item are set"),
                )
                .build()
        };
        let user_item = HashMap::from([
            ("PK".to_owned(), s(keys::user_pk(sub))),
            ("SK".to_owned(), s(keys::connection_sk(id))),
            ("connected_at".to_owned(), n(connected_at)),
            (TTL_ATTRIBUTE.to_owned(), n(expires_at)),
        ]);
        let lookup = HashMap::from([
            ("PK".to_owned(), s(keys::connection_pk(id))),
            ("SK".to_owned(), s(keys::CONNECTION_LOOKUP_SK)),
            (USER.to_owned(), s(sub)),
            (TTL_ATTRIBUTE.to_owned(), n(expires_at)),
        ]);
        self.client
            .transact_write_items()
            .transact_items(put(user_item))
            .transact_items(put(lookup))
            .send()
            .await
            .map_err(|err| TableError::of("TransactWriteItems", &err))?;
        Ok(())
    }

    /// Forgets socket `id`, knowing only its id (`$disconnect`): the lookup says whose it
    /// was. Deleting what is already gone is no error (a disconnect after the fan-out
    /// dropped the socket, or a retried one).
    pub async fn forget(&self, id: &str) -> Result<(), TableError> {
        let old = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(keys::connection_pk(id)))
            .key("SK", s(keys::CONNECTION_LOOKUP_SK))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|err| TableError::of("DeleteItem", &err))?
            .attributes;
        let sub = old
            .as_ref()
            .and_then(|item| item.get(USER))
            .and_then(|value| value.as_s().ok());
        if let Some(sub) = sub {
            self.delete(keys::user_pk(sub), keys::connection_sk(id))
                .await?;
        }
        Ok(())
    }

    /// Forgets socket `id` of `sub` (the fan-out found it gone or expired).
    pub async fn forget_of(&self, sub: &str, id: &str) -> Result<(), TableError> {
        self.delete(keys::user_pk(sub), keys::connection_sk(id))
            .await?;
        self.delete(
            keys::connection_pk(id),
            keys::CONNECTION_LOOKUP_SK.to_owned(),
        )
        .await
    }

    async fn delete(&self, pk: String, sk: String) -> Result<(), TableError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .send()
            .await
            .map_err(|err| TableError::of("DeleteItem", &err))?;
        Ok(())
    }

    /// Every socket `sub` has recorded, lapsed ones too (the caller closes those).
    pub async fn of_user(&self, sub: &str) -> Result<Vec<Connection>, TableError> {
        let items = self
            .query_all(keys::user_pk(sub), keys::CONNECTION_PREFIX, "SK, #ttl")
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let id = item
                    .get("SK")?
                    .as_s()
                    .ok()?
                    .strip_prefix(keys::CONNECTION_PREFIX)?;
                let expires_at = item.get(TTL_ATTRIBUTE)?.as_n().ok()?.parse().ok()?;
                Some(Connection {
                    id: id.to_owned(),
                    expires_at,
                })
            })
            .collect())
    }

    /// The users who are members of `project` now.
    pub async fn members(&self, project: &ProjectId) -> Result<Vec<String>, TableError> {
        let items = self
            .query_all(keys::project_pk(project), keys::MEMBER_PREFIX, "SK")
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let sk = item.get("SK")?.as_s().ok()?;
                Some(sk.strip_prefix(keys::MEMBER_PREFIX)?.to_owned())
            })
            .collect())
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, only the
    /// attributes in `projection` (`#ttl` names the TTL attribute).
    async fn query_all(
        &self,
        pk: String,
        prefix: &str,
        projection: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, TableError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .projection_expression(projection)
                .set_exclusive_start_key(start);
            if projection.contains("#ttl") {
                query = query.expression_attribute_names("#ttl", TTL_ATTRIBUTE);
            }
            let page = query
                .send()
                .await
                .map_err(|err| TableError::of("Query", &err))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}
