//! The local user pool's AWS JSON 1.1 door: Cognito's endpoint (`POST /`) as the AWS CLI,
//! boto3 and amazon-cognito-identity-js call it, and each pool's JWKS.
//!
//! The pool itself is the core crate, `taskapi-userpool`. This crate is Cognito's face on
//! it: the actions (`actions/`, each decoding its request, calling the core and encoding
//! Cognito's answer), the codec (`codec`, a leaf), the router with the SigV4 check
//! (`sigv4`, the trusted key pairs in `credentials`) and the quota layer (`metering`) in
//! front, and Cognito's exception names for the core's failures (`error`, the one place
//! they are written). Its state is
//! [`AwsDoor`] (`door`); the hosted UI, the pool's other door, uses none of it.

mod actions;
mod codec;
mod credentials;
mod door;
mod error;
mod metering;
mod router;
mod sigv4;

pub use crate::credentials::{AccessKey, CREDENTIALS_FILE, PROFILE, TrustedKeys};
pub use crate::door::AwsDoor;
pub use crate::router::router;
