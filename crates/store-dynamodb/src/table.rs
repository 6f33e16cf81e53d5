//! Creating the task table with the seed's schema (`dynamo_setup.py`), for `taskapi table
//! create` and the tests. Idempotent: an existing table with the right keys is accepted.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableDescription, TableStatus,
};
use taskapi_domain::keys;

use crate::item::attr;

/// How long to wait for a new table (and its index) to become ACTIVE. Real DynamoDB takes
/// seconds to a minute or so; emulators well under a second.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// What [`create_table`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableCreation {
    Created,
    AlreadyExisted,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("DynamoDB refused: {0}")]
    Sdk(String),
    #[error(
        "table {table} exists but does not have the task schema (PK/SK keys and index GSI1 on GSI1PK/GSI1SK)"
    )]
    WrongSchema { table: String },
    #[error("table {table} was not ACTIVE after {waited:?}")]
    NotActive { table: String, waited: Duration },
}

/// Creates `table` as the seed does (PK/SK strings, GSI1 on GSI1PK/GSI1SK with projection
/// ALL, on-demand billing) and waits until it and its index are ACTIVE. Point-in-time
/// recovery is left to `template.yaml`: local emulators do not implement it.
pub async fn create_table(client: &Client, table: &str) -> Result<TableCreation, TableError> {
    let sdk = |err: &dyn std::error::Error| TableError::Sdk(DisplayErrorContext(err).to_string());
    let created = client
        .create_table()
        .table_name(table)
        .set_key_schema(Some(vec![
            key(attr::PK, KeyType::Hash),
            key(attr::SK, KeyType::Range),
        ]))
        .set_attribute_definitions(Some(
            [attr::PK, attr::SK, attr::GSI1PK, attr::GSI1SK]
                .map(string_attribute)
                .to_vec(),
        ))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(keys::GSI1)
                .key_schema(key(attr::GSI1PK, KeyType::Hash))
                .key_schema(key(attr::GSI1SK, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("the GSI definition is complete"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    let creation = match created {
        Ok(_) => TableCreation::Created,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            TableCreation::AlreadyExisted
        }
        Err(err) => return Err(sdk(&err)),
    };

    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let description = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|err| sdk(&err))?
            .table
            .ok_or_else(|| TableError::Sdk("DescribeTable returned no table".to_owned()))?;
        if !has_task_schema(&description) {
            return Err(TableError::WrongSchema {
                table: table.to_owned(),
            });
        }
        if is_active(&description) {
            return Ok(creation);
        }
        if started.elapsed() > ACTIVE_TIMEOUT {
            return Err(TableError::NotActive {
                table: table.to_owned(),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("a key schema element is complete")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("an attribute definition is complete")
}

fn has_task_schema(table: &TableDescription) -> bool {
    let keys_are = |schema: &[KeySchemaElement], hash: &str, range: &str| {
        let named = |key_type: KeyType| {
            schema
                .iter()
                .find(|element| element.key_type == key_type)
                .map(|element| element.attribute_name.as_str())
        };
        named(KeyType::Hash) == Some(hash) && named(KeyType::Range) == Some(range)
    };
    keys_are(table.key_schema(), attr::PK, attr::SK)
        && table.global_secondary_indexes().iter().any(|index| {
            index.index_name() == Some(keys::GSI1)
                && keys_are(index.key_schema(), attr::GSI1PK, attr::GSI1SK)
        })
}

fn is_active(table: &TableDescription) -> bool {
    table.table_status() == Some(&TableStatus::Active)
        && table
            .global_secondary_indexes()
            .iter()
            .all(|index| index.index_status() == Some(&IndexStatus::Active))
}
