//! Software-token MFA codes (RFC 6238: HMAC-SHA1, 30-second steps, six digits), from
//! `totp-rs`; this module only adds Cognito's rules around it.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECONDS: i64 = 30;

/// A new shared secret, base32 as Cognito's `SecretCode` (20 random bytes, 32 characters).
pub fn new_secret() -> String {
    Secret::Raw(crate::random::bytes::<20>().to_vec())
        .to_encoded()
        .to_string()
}

/// The 30-second step whose code `code` is, accepting one step of clock skew either way, or
/// `None` if it matches none of them. The caller refuses steps already used.
pub fn matching_step(secret: &str, code: &str, now: i64) -> Option<i64> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECONDS as u64, bytes);
    let code = code.trim();
    let current = now.div_euclid(STEP_SECONDS);
    // Checks every candidate so the time taken does not reveal which one matched.
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let Ok(at) = u64::try_from(step * STEP_SECONDS) else {
            continue;
        };
        let candidate = totp.generate(at);
        if bool::from(candidate.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 vector (secret "12345678901234567890", T = 59 s gives
    /// 94287082, whose last six digits are the six-digit code).
    #[test]
    fn rfc6238_vector() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(matching_step(&secret, "287082", 59), Some(1));
        assert_eq!(matching_step(&secret, "287082", 59 + 30), Some(1));
        assert_eq!(matching_step(&secret, "287082", 59 + 60), None);
        assert_eq!(matching_step(&secret, "287083", 59), None);
    }

    #[test]
    fn secrets_are_32_base32_characters() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert!(
            secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
    }
}
