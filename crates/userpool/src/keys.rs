//! RSA signing keys: one for ID tokens and one for access tokens per pool, as Cognito has.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, Jwk, KeyAlgorithm, PublicKeyUse, RSAKeyParameters,
    RSAKeyType,
};
use jsonwebtoken::{DecodingKey, EncodingKey};

use crate::error::{KeyError, PoolStoreError};
use crate::store::KeyRow;

/// Which tokens a key signs; also its `token_use` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

impl TokenUse {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Access => "access",
        }
    }
}

/// A loaded key, ready to sign and verify.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub jwk: Jwk,
}

/// Generates a 2048-bit key and returns it as the row to store.
pub fn generate(pool_id: &str, token_use: TokenUse) -> Result<KeyRow, PoolStoreError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(KeyError::Generate)?;
    let pkcs8: Pkcs8V1Der<'static> = pair.as_der().map_err(KeyError::Encode)?;
    let public: PublicKeyX509Der<'static> = pair.public_key().as_der().map_err(KeyError::Encode)?;
    // Cognito's kids are standard base64 of 32 bytes; a digest of the public key keeps them
    // stable and unique.
    let kid = STANDARD.encode(digest(&SHA256, public.as_ref()));
    Ok(KeyRow {
        pool_id: pool_id.to_owned(),
        token_use: token_use.as_str().to_owned(),
        kid,
        pkcs8: pkcs8.as_ref().to_vec(),
    })
}

/// Turns a stored row back into a usable key; a row that does not parse is corrupt state.
pub fn load(row: &KeyRow) -> Result<SigningKey, PoolStoreError> {
    let bad = |cause: Box<dyn std::error::Error + Send + Sync>| KeyError::Unreadable {
        kid: row.kid.clone(),
        cause,
    };
    let pair = KeyPair::from_pkcs8(&row.pkcs8).map_err(|e| bad(e.into()))?;
    let n = pair
        .public_key()
        .modulus()
        .big_endian_without_leading_zero()
        .to_vec();
    let e = pair
        .public_key()
        .exponent()
        .big_endian_without_leading_zero()
        .to_vec();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(&row.pkcs8)
    );
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| bad(e.into()))?;
    let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
    let jwk = Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::RS256),
            key_id: Some(row.kid.clone()),
            ..Default::default()
        },
        algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
            key_type: RSAKeyType::RSA,
            n: URL_SAFE_NO_PAD.encode(&n),
            e: URL_SAFE_NO_PAD.encode(&e),
        }),
    };
    Ok(SigningKey {
        kid: row.kid.clone(),
        encoding,
        decoding,
        jwk,
    })
}
