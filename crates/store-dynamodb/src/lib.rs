//! The DynamoDB [`TaskStore`](taskapi_domain::TaskStore): the seed's `TaskApp` table, item
//! for item, so the seed's Python handlers and taskapi can share one table both ways.
//!
//! Reading order: [`config`] (where the table is and how the client is built), [`store`]
//! (one request per call), [`item`] (task ⇄ item, lenient with what the seed wrote),
//! [`page_key`] (`LastEvaluatedKey` ⇄ [`PageKey`](taskapi_domain::PageKey)),
//! [`status_index`] (the admin view over sharded status keys), [`planning`] (the Upcoming
//! view and due-date order, from two sparse indexes), [`error`] (every SDK failure
//! mapped in one place), [`table`] (creating the table), [`reshard`] (moving the status
//! keys to another shard count), [`transfer`] (items ⇄ [`Record`](taskapi_domain::Record)s,
//! the parallel scan and the batched import of `taskapi export`/`import`) and
//! [`dynamodb_json`] (the format of DynamoDB's export to S3), and [`stream`] (the table's
//! stream records as the changes they are: the event source on AWS), and [`webhooks`]
//! (webhook endpoints and their delivery attempts, as the items of [`webhook_item`]).

mod config;
pub mod dynamodb_json;
mod error;
mod idempotency;
mod invitations;
mod item;
mod page_key;
mod planning;
mod project_item;
mod projects;
mod purge;
mod reshard;
mod status_index;
mod store;
mod stream;
mod table;
mod transact;
mod transfer;
mod webhook_item;
mod webhooks;

pub use aws_sdk_dynamodb::Client;
pub use config::{DEFAULT_TABLE, DynamoConfig, StatusShardsFromEnv};
pub use idempotency::TTL_ATTRIBUTE;
pub use item::Item;
pub use reshard::{DEFAULT_PAGE_SIZE, ReshardProgress, TableKey};
pub use store::DynamoStore;
pub use stream::{ItemChange, StreamRecord, UnreadableRecord, change_of};
pub use table::{TableCreation, TableError, create_table};
pub use transfer::{
    BATCH_SIZE, InvalidItem, ScanPage, is_webhook_item, item_to_record, lapsed, record_to_item,
};
