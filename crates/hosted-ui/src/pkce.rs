//! PKCE (RFC 7636) with `S256`, the only method Cognito accepts.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

/// Whether a `code_challenge` can be an S256 challenge: the unpadded base64url of 32 bytes.
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// Whether `verifier` is well-formed (43 to 128 unreserved characters) and hashes to
/// `challenge`.
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636, appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        assert!(is_s256_challenge(CHALLENGE));
        assert!(verifier_matches(VERIFIER, CHALLENGE));
    }

    #[test]
    fn a_wrong_or_malformed_verifier_does_not() {
        let mut other = VERIFIER.to_owned();
        other.replace_range(0..1, "e");
        assert!(!verifier_matches(&other, CHALLENGE));
        assert!(!verifier_matches("short", CHALLENGE));
        assert!(!verifier_matches(&format!("{VERIFIER} "), CHALLENGE));
        assert!(!is_s256_challenge("plain-text-challenge"));
        assert!(!is_s256_challenge(&format!("{CHALLENGE}A")));
    }
}
