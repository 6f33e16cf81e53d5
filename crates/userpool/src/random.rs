//! Identifiers and codes drawn from the operating system's CSPRNG (via aws-lc-rs).

use aws_lc_rs::rand::fill;

pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out).expect("the system random number generator failed");
    out
}

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
pub fn string_from(alphabet: &[u8], len: usize) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in bytes::<32>() {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    out
}

/// `us-east-1_AbC123xyz`: client libraries validate this shape before calling.
pub fn pool_id(region: &str) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    format!("{region}_{}", string_from(ALNUM, 9))
}

/// 26 lowercase alphanumerics, like real app client ids.
pub fn client_id() -> String {
    string_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 26)
}

/// A client secret: 51 lowercase alphanumerics (Cognito's are 24-64 characters).
pub fn client_secret() -> String {
    string_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 51)
}

/// The six-digit code Cognito e-mails.
pub fn code() -> String {
    string_from(b"0123456789", 6)
}

/// A temporary password that satisfies any policy (all four character classes).
pub fn temporary_password() -> String {
    format!(
        "{}{}{}{}",
        string_from(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 4),
        string_from(b"abcdefghijkmnopqrstuvwxyz", 4),
        string_from(b"23456789", 4),
        string_from(b"!#%+=", 2)
    )
}

/// A random (version 4) UUID as text: request ids, user `sub`s.
pub fn uuid() -> String {
    uuid::Builder::from_random_bytes(bytes::<16>())
        .into_uuid()
        .to_string()
}
