//! The real `taskapi-lambda` binary, driven over the Lambda Runtime API by the emulator in
//! `taskapi-testkit`, with API Gateway REST (v1) and HTTP API (v2) events, on dynalite (moto for transactions).
//! One test binary, so the AWS SDK is linked once.

mod function;
mod function_url;
mod idempotency;
mod planning;
mod projects;
mod routes;
mod webhooks;
mod xray;
