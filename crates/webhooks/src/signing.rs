//! The Standard Webhooks signature: `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `<webhook-id>.<webhook-timestamp>.<body>`, one `v1,...` per signing secret separated by
//! spaces (during a rotation, the new secret's and the retiring one's), so any Standard
//! Webhooks library verifies it with whichever secret the receiver has.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::SigningSecret;

/// The three headers of a signed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`: the event's id, the same on every attempt, so receivers can drop
    /// repeats.
    pub id: String,
    /// `webhook-timestamp`: Unix seconds of this attempt.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
}

/// Signs `body` for delivery `id` at `timestamp` with every secret in `secrets`.
pub fn sign(secrets: &[&SigningSecret], id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
    let signature = secrets
        .iter()
        .map(|secret| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.bytes())
                .expect("HMAC takes a key of any length");
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ");
    SignedHeaders {
        id: id.to_owned(),
        timestamp,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        let headers = sign(&[&secret], ID, TIMESTAMP, BODY.as_bytes());
        assert_eq!(headers.signature, SIGNATURE);
        assert_eq!((headers.id.as_str(), headers.timestamp), (ID, TIMESTAMP));
    }

    #[test]
    fn a_rotation_signs_with_both_secrets_the_new_first() {
        let old = SigningSecret::parse(SECRET).unwrap();
        let new = SigningSecret::generate();
        let both = sign(&[&new, &old], ID, TIMESTAMP, BODY.as_bytes());
        let parts: Vec<&str> = both.signature.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], SIGNATURE);
        assert_ne!(parts[0], SIGNATURE);
    }

    #[test]
    fn any_change_to_id_time_or_body_changes_the_signature() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        for (id, timestamp, body) in [
            ("msg_other", TIMESTAMP, BODY),
            (ID, TIMESTAMP + 1, BODY),
            (ID, TIMESTAMP, r#"{"test": 2432232315}"#),
        ] {
            let headers = sign(&[&secret], id, timestamp, body.as_bytes());
            assert_ne!(headers.signature, SIGNATURE, "{id} {timestamp} {body}");
        }
    }
}
