//! `create_table`: the seed's schema, idempotent, and refusing a table it cannot use.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProjectionType,
    ScalarAttributeType, TableStatus,
};
use taskapi_store_dynamodb::{TableCreation, TableError, create_table};
use taskapi_testkit::emulator::Emulator;

/// A key schema as (attribute, `HASH` or `RANGE`) pairs.
fn key_names(schema: &[KeySchemaElement]) -> Vec<(&str, &str)> {
    schema
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect()
}

#[tokio::test]
async fn creates_the_seed_schema_once_and_waits_until_active() {
    let dynalite = Emulator::dynalite();
    let client = dynalite.client();

    let first = create_table(&client, "TaskApp").await.unwrap();
    let again = create_table(&client, "TaskApp").await.unwrap();
    assert_eq!(
        (first, again),
        (TableCreation::Created, TableCreation::AlreadyExisted)
    );

    let table = client
        .describe_table()
        .table_name("TaskApp")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(table.table_status(), Some(&TableStatus::Active));
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    assert_eq!(
        key_names(table.key_schema()),
        [("PK", "HASH"), ("SK", "RANGE")]
    );
    let gsi = &table.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("GSI1"));
    assert_eq!(
        key_names(gsi.key_schema()),
        [("GSI1PK", "HASH"), ("GSI1SK", "RANGE")]
    );
    assert_eq!(
        gsi.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );
    let mut attributes: Vec<_> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name(), a.attribute_type().as_str()))
        .collect();
    attributes.sort();
    assert_eq!(
        attributes,
        [
            ("GSI1PK", "S"),
            ("GSI1SK", "S"),
            ("GSI2PK", "S"),
            ("GSI2SK", "S"),
            ("GSI3PK", "S"),
            ("GSI3SK", "S"),
            ("PK", "S"),
            ("SK", "S")
        ]
    );
    let names: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .map(|index| (index.index_name().unwrap(), key_names(index.key_schema())))
        .collect();
    assert!(names.contains(&("GSI2", vec![("GSI2PK", "HASH"), ("GSI2SK", "RANGE")])));
    assert!(names.contains(&("GSI3", vec![("GSI3PK", "HASH"), ("GSI3SK", "RANGE")])));
}

/// A table made by the seed's `dynamo_setup.py` (GSI1 only, on demand) gains the due-date
/// indexes in place. On moto: dynalite refuses an index without a provisioned throughput
/// even on an on-demand table, where DynamoDB refuses one with it.
#[tokio::test]
async fn an_existing_seed_table_gains_the_due_date_indexes() {
    let moto = Emulator::moto();
    let client = moto.client();
    client
        .create_table()
        .table_name("Seed")
        .set_attribute_definitions(Some(
            ["PK", "SK", "GSI1PK", "GSI1SK"]
                .map(|name| {
                    AttributeDefinition::builder()
                        .attribute_name(name)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .unwrap()
                })
                .to_vec(),
        ))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .global_secondary_indexes(
            aws_sdk_dynamodb::types::GlobalSecondaryIndex::builder()
                .index_name("GSI1")
                .key_schema(key("GSI1PK", KeyType::Hash))
                .key_schema(key("GSI1SK", KeyType::Range))
                .projection(
                    aws_sdk_dynamodb::types::Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let upgraded = create_table(&client, "Seed").await.unwrap();
    assert_eq!(
        upgraded,
        TableCreation::Upgraded {
            added: vec!["GSI2", "GSI3"]
        }
    );
    assert_eq!(
        create_table(&client, "Seed").await.unwrap(),
        TableCreation::AlreadyExisted,
        "nothing more to add"
    );
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .unwrap()
}

#[tokio::test]
async fn refuses_an_existing_table_with_another_schema() {
    let dynalite = Emulator::dynalite();
    let client = dynalite.client();
    client
        .create_table()
        .table_name("Other")
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let result = create_table(&client, "Other").await;
    assert!(
        matches!(result, Err(TableError::WrongSchema { .. })),
        "{result:?}"
    );
}
