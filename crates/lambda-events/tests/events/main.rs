//! The real `taskapi-events` binary, driven over the Lambda Runtime API by the emulator in
//! `taskapi-testkit` with the events API Gateway's WebSocket API and DynamoDB Streams send,
//! on moto (transactions; the stream read back with `GetRecords`), posting to a stand-in
//! of the API Gateway Management API (moto's keeps no connections: it answers every post,
//! never 410). One test binary, so the AWS SDK is linked once.

mod fanout;
mod harness;
mod webhooks;
mod websocket;
