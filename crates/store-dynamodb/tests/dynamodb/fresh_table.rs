//! Where the tests that read and write one table on dynalite start.

use aws_sdk_dynamodb::Client;
use taskapi_store_dynamodb::DynamoStore;
use taskapi_testkit::emulator::Emulator;

/// A dynalite started for one test, a store on a new table in it, a raw client (for what
/// the seed's handlers send), and an owner no task belongs to yet.
pub struct FreshTable {
    /// Held only to keep dynalite running: it stops when the `FreshTable` is dropped.
    _dynalite: Emulator,
    pub store: DynamoStore,
    pub client: Client,
    pub owner: String,
}

impl FreshTable {
    pub async fn on_dynalite() -> Self {
        let dynalite = Emulator::dynalite();
        let store = dynalite.fresh_store().await;
        let client = dynalite.client();
        Self {
            _dynalite: dynalite,
            store,
            client,
            owner: uuid::Uuid::new_v4().to_string(),
        }
    }
}
