//! Verifies Cognito ID tokens for `taskapi serve`, as API Gateway's Cognito authorizer does
//! on AWS: RS256 only, the signing key looked up by `kid` in the pool's JWKS, the pool's
//! issuer, the app client as audience, `token_use = id`, and `exp`/`iat`.

mod keys;
mod verifier;

pub use keys::{KeySource, RemoteJwks, StaticJwks};
pub use verifier::{JwtAuthenticator, TrustedPool};
