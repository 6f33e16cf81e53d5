//! Retry-safe creates on DynamoDB: one `TransactWriteItems` with the task and the key's
//! record. On moto only: dynalite implements no transactions (`UnknownOperationException`),
//! so it cannot run these; the plain create path runs on both in `conformance`.

use taskapi_store_dynamodb::DynamoStore;
use taskapi_testkit::emulator::Emulator;

async fn moto_store() -> (DynamoStore, Emulator) {
    let moto = Emulator::moto();
    (moto.fresh_store().await, moto)
}

taskapi_store_conformance::idempotency_tests!(moto_store);
