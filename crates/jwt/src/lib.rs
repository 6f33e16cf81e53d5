//! Verifies Cognito ID tokens for `taskapi serve`, as API Gateway's Cognito authorizer does
//! on AWS: RS256 only, the signing key looked up by `kid` in the pool's JWKS, the pool's
//! issuer, the app client as audience, `token_use = id`, and `exp`/`iat`.

mod keys;
mod verifier;

pub use keys::{KeySource, RemoteJwks, StaticJwks};
pub use verifier::{JwtAuthenticator, TrustedPool};

/// The issuer of a Cognito user pool's tokens, from the pool id (`<region>_<id>`, the
/// region taken from it); `None` if the id has no such form.
pub fn cognito_issuer(pool_id: &str) -> Option<String> {
    let (region, id) = pool_id.split_once('_')?;
    (!region.is_empty() && !id.is_empty())
        .then(|| format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"))
}

/// The JWKS URL of an issuer, as Cognito publishes it.
pub fn jwks_url(issuer: &str) -> String {
    format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_of_pool_ids() {
        assert_eq!(
            cognito_issuer("eu-west-1_AbC123xyZ").as_deref(),
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyZ")
        );
        for bad in ["", "AbC123", "_x", "eu-west-1_"] {
            assert_eq!(cognito_issuer(bad), None, "{bad:?}");
        }
    }
}
