//! The DynamoDB store against real DynamoDB-compatible servers (dynalite and moto server,
//! started per test) and against a fake endpoint that misbehaves on purpose.
//! One test binary, so the AWS SDK is linked once.

mod conformance;
mod faults;
mod fresh_table;
mod idempotency;
mod interop;
mod project_purge;
mod shards;
mod table;
