//! `taskapi table create`: the seed's `dynamo_setup.py`, idempotent and patient.

use taskapi_store_dynamodb::{DynamoConfig, TableCreation, create_table};

use crate::config::TableConfig;

pub async fn create(config: TableConfig) -> anyhow::Result<()> {
    let dynamo = DynamoConfig {
        table: config.table_name,
        endpoint_url: None,
    };
    let client = dynamo.client().await;
    match create_table(&client, &dynamo.table).await? {
        TableCreation::Created => println!("created table {} (ACTIVE)", dynamo.table),
        TableCreation::AlreadyExisted => {
            println!(
                "table {} already exists with the expected schema",
                dynamo.table
            )
        }
    }
    Ok(())
}
