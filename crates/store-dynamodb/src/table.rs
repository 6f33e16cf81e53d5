//! Creating the task table with the seed's schema (`dynamo_setup.py`) and taskapi's two
//! sparse due-date indexes, for `taskapi table create` and the tests. Idempotent: an
//! existing table with the right keys is accepted, and gains the indexes it lacks (one
//! `UpdateTable` each, online: the table serves reads and writes while they build).

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, IndexStatus, KeySchemaElement, KeyType, Projection, ProjectionType,
    ProvisionedThroughput, ScalarAttributeType, TableDescription, TableStatus,
};
use taskapi_domain::keys;

use crate::item::attr;

/// How long to wait for a new table (and its index) to become ACTIVE. Real DynamoDB takes
/// seconds to a minute or so; emulators well under a second.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// What [`create_table`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableCreation {
    Created,
    AlreadyExisted,
    /// The table existed and gained the indexes named (taskapi's due-date indexes).
    Upgraded {
        added: Vec<&'static str>,
    },
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

/// The table's global secondary indexes: the seed's GSI1, then taskapi's sparse due-date
/// indexes (every one on string keys, projection ALL).
const INDEXES: [(&str, &str, &str); 3] = [
    (keys::GSI1, attr::GSI1PK, attr::GSI1SK),
    (keys::GSI2, attr::GSI2PK, attr::GSI2SK),
    (keys::GSI3, attr::GSI3PK, attr::GSI3SK),
];

/// Creates `table` as the seed does (PK/SK strings, GSI1 on GSI1PK/GSI1SK with projection
/// ALL, on-demand billing) with the due-date indexes GSI2 and GSI3, and waits until it and
/// its indexes are ACTIVE. On an existing table with the seed's schema it adds whichever
/// due-date index is missing. Point-in-time recovery is left to `template.yaml`: local
/// emulators do not implement it.
pub async fn create_table(client: &Client, table: &str) -> Result<TableCreation, TableError> {
    let sdk = |err: &dyn std::error::Error| TableError::Sdk(DisplayErrorContext(err).to_string());
    let attributes = [attr::PK, attr::SK]
        .into_iter()
        .chain(INDEXES.iter().flat_map(|(_, pk, sk)| [*pk, *sk]))
        .map(string_attribute)
        .collect();
    let created = client
        .create_table()
        .table_name(table)
        .set_key_schema(Some(vec![
            key(attr::PK, KeyType::Hash),
            key(attr::SK, KeyType::Range),
        ]))
        .set_attribute_definitions(Some(attributes))
        .set_global_secondary_indexes(Some(
            INDEXES
                .iter()
                .map(|(name, pk, sk)| index(name, pk, sk))
                .collect(),
        ))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    let mut creation = match created {
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
            // DynamoDB creates one index per UpdateTable, and only on an ACTIVE table.
            let Some(missing) = missing_index(&description) else {
                return Ok(creation);
            };
            let throughput = throughput_for_new_index(&description);
            add_index(client, table, missing, throughput)
                .await
                .map_err(|err| sdk(&err))?;
            match &mut creation {
                TableCreation::Upgraded { added } => added.push(missing.0),
                _ => {
                    creation = TableCreation::Upgraded {
                        added: vec![missing.0],
                    }
                }
            }
            continue;
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

/// The first index of [`INDEXES`] the table lacks.
fn missing_index(table: &TableDescription) -> Option<(&'static str, &'static str, &'static str)> {
    INDEXES.into_iter().find(|(name, _, _)| {
        !table
            .global_secondary_indexes()
            .iter()
            .any(|index| index.index_name() == Some(*name))
    })
}

/// What a new index of `table` must be given: nothing on an on-demand table (DynamoDB
/// refuses a throughput there), the table's own throughput on a provisioned one (where it
/// is required), at least one unit each.
fn throughput_for_new_index(table: &TableDescription) -> Option<ProvisionedThroughput> {
    let on_demand = table
        .billing_mode_summary()
        .and_then(|summary| summary.billing_mode())
        == Some(&BillingMode::PayPerRequest);
    if on_demand {
        return None;
    }
    let table_units = table.provisioned_throughput();
    let units = |read: Option<i64>| read.unwrap_or(1).max(1);
    Some(
        ProvisionedThroughput::builder()
            .read_capacity_units(units(table_units.and_then(|t| t.read_capacity_units())))
            .write_capacity_units(units(table_units.and_then(|t| t.write_capacity_units())))
            .build()
            .expect("a throughput with both units is complete"),
    )
}

/// Adds index `name` on `pk`/`sk` to the existing `table` (UpdateTable).
async fn add_index(
    client: &Client,
    table: &str,
    (name, pk, sk): (&str, &str, &str),
    throughput: Option<ProvisionedThroughput>,
) -> Result<
    (),
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::update_table::UpdateTableError>,
> {
    let create = CreateGlobalSecondaryIndexAction::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .key_schema(key(sk, KeyType::Range))
        .projection(all_attributes())
        .set_provisioned_throughput(throughput)
        .build()
        .expect("the index definition is complete");
    client
        .update_table()
        .table_name(table)
        .attribute_definitions(string_attribute(pk))
        .attribute_definitions(string_attribute(sk))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder().create(create).build(),
        )
        .send()
        .await
        .map(drop)
}

fn index(name: &str, pk: &str, sk: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash))
        .key_schema(key(sk, KeyType::Range))
        .projection(all_attributes())
        .build()
        .expect("the GSI definition is complete")
}

fn all_attributes() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::All)
        .build()
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
