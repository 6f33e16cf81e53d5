//! Signing secrets and how the store keeps them. A secret is shown to its owner once, as
//! `whsec_<base64>` (the Standard Webhooks form); the store only ever holds it sealed with
//! AES-256-GCM under a key kept apart from the table (a 0600 file in the data directory
//! locally, a Secrets Manager secret on AWS), bound to its webhook's id so a sealed
//! secret copied onto another endpoint does not open.

use std::fmt;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use taskapi_domain::{SealedSecret, WebhookId};

/// The prefix of a secret as shown to its owner.
const WHSEC: &str = "whsec_";
/// Secrets are 32 random bytes (Standard Webhooks asks for 24 to 64).
const SECRET_LEN: usize = 32;
/// The version tag of sealed text, so another sealing can be told apart later.
const SEALED_V1: &str = "v1.";
const NONCE_LEN: usize = 12;

/// The bytes HMAC keys with.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    pub fn generate() -> Self {
        let mut bytes = vec![0; SECRET_LEN];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A secret in its shown form, `whsec_<base64>`.
    pub fn parse(shown: &str) -> Option<Self> {
        let encoded = shown.strip_prefix(WHSEC)?;
        STANDARD
            .decode(encoded)
            .ok()
            .filter(|b| !b.is_empty())
            .map(Self)
    }

    /// The form shown to its owner once: `whsec_<base64>`.
    pub fn shown(&self) -> String {
        format!("{WHSEC}{}", STANDARD.encode(&self.0))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Never in a log.
impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

/// Why a sealed secret or a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a webhook secret key is 32 bytes, base64-encoded")]
    BadKey,
    #[error("the sealed secret is not in a known form")]
    Malformed,
    /// Another key sealed it, or it belongs to another webhook, or it was altered.
    #[error("the sealed secret does not open with this key for this webhook")]
    WrongKey,
}

/// Seals and opens signing secrets with one AES-256-GCM key.
#[derive(Clone)]
pub struct SecretCipher {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretCipher(..)")
    }
}

impl SecretCipher {
    /// A fresh random key, base64-encoded: what a new key file or a new Secrets Manager
    /// secret holds.
    pub fn generate_key() -> String {
        STANDARD.encode(Aes256Gcm::generate_key(OsRng))
    }

    /// The cipher of a base64-encoded 32-byte key (surrounding whitespace ignored, so a
    /// key file may end in a newline).
    pub fn from_base64(key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        let key = Key::<Aes256Gcm>::from_slice(&bytes);
        Ok(Self {
            cipher: Aes256Gcm::new(key),
        })
    }

    /// `secret` sealed for webhook `id`: `v1.<base64 of nonce and ciphertext>`.
    pub fn seal(&self, id: &WebhookId, secret: &SigningSecret) -> SealedSecret {
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        let payload = Payload {
            msg: secret.bytes(),
            aad: id.as_str().as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(&nonce, payload)
            .expect("AES-GCM seals any message shorter than 64 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        SealedSecret::from_stored(format!("{SEALED_V1}{}", STANDARD.encode(bytes)))
    }

    /// The secret `sealed` holds, if this key sealed it for webhook `id`.
    pub fn open(&self, id: &WebhookId, sealed: &SealedSecret) -> Result<SigningSecret, SealError> {
        let encoded = sealed
            .as_str()
            .strip_prefix(SEALED_V1)
            .ok_or(SealError::Malformed)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SealError::Malformed)?;
        if bytes.len() <= NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: id.as_str().as_bytes(),
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map(SigningSecret)
            .map_err(|_| SealError::WrongKey)
    }
}

/// The least a generated secret text may hold to key the cipher: 32 characters drawn from
/// letters and digits carry about 190 bits.
const MIN_SECRET_TEXT: usize = 32;

impl SecretCipher {
    /// The cipher keyed by the SHA-256 of `text`: on AWS the key is a Secrets Manager
    /// secret the stack generates (`GenerateSecretString`), random text rather than
    /// base64 of 32 bytes, so its digest is the key. `BadKey` for text too short to be one.
    pub fn from_secret_text(text: &str) -> Result<Self, SealError> {
        use sha2::{Digest, Sha256};
        let text = text.trim();
        if text.chars().count() < MIN_SECRET_TEXT {
            return Err(SealError::BadKey);
        }
        Self::from_base64(&STANDARD.encode(Sha256::digest(text.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> SecretCipher {
        SecretCipher::from_base64(&SecretCipher::generate_key()).unwrap()
    }

    #[test]
    fn generated_secret_text_keys_the_same_cipher_every_time() {
        let text = "Zq3rT8vLm2Nw9XyB4cD7eF1gH5jK6pQs";
        let (first, again) = (
            SecretCipher::from_secret_text(text).unwrap(),
            SecretCipher::from_secret_text(&format!("{text}\n")).unwrap(),
        );
        let id = WebhookId::generate();
        let secret = SigningSecret::generate();
        assert_eq!(again.open(&id, &first.seal(&id, &secret)).unwrap(), secret);
        let other = SecretCipher::from_secret_text(&text.replace("Z", "Y")).unwrap();
        assert_eq!(
            other.open(&id, &first.seal(&id, &secret)),
            Err(SealError::WrongKey)
        );
        assert!(SecretCipher::from_secret_text("short").is_err());
    }

    #[test]
    fn a_sealed_secret_opens_for_its_webhook_only_and_hides_the_secret() {
        let cipher = cipher();
        let (id, other) = (WebhookId::generate(), WebhookId::generate());
        let secret = SigningSecret::generate();
        let sealed = cipher.seal(&id, &secret);
        assert_eq!(cipher.open(&id, &sealed).unwrap(), secret);
        assert_eq!(cipher.open(&other, &sealed), Err(SealError::WrongKey));
        let shown = secret.shown();
        let plain = shown.trim_start_matches(WHSEC);
        assert!(
            !sealed.as_str().contains(plain),
            "no plain text in the store"
        );
    }

    #[test]
    fn another_key_or_altered_text_does_not_open() {
        let id = WebhookId::generate();
        let sealed = cipher().seal(&id, &SigningSecret::generate());
        assert_eq!(cipher().open(&id, &sealed), Err(SealError::WrongKey));
        let altered = SealedSecret::from_stored(sealed.as_str().replace("v1.", "v2."));
        assert_eq!(cipher().open(&id, &altered), Err(SealError::Malformed));
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        assert!(SecretCipher::from_base64(&format!("{}\n", SecretCipher::generate_key())).is_ok());
        assert_eq!(
            SecretCipher::from_base64("c2hvcnQ=").unwrap_err(),
            SealError::BadKey
        );
        assert_eq!(
            SecretCipher::from_base64("%%").unwrap_err(),
            SealError::BadKey
        );
    }

    #[test]
    fn the_shown_form_parses_back() {
        let secret = SigningSecret::generate();
        let shown = secret.shown();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(SigningSecret::parse(&shown), Some(secret));
        assert_eq!(SigningSecret::parse("nope"), None);
    }
}
