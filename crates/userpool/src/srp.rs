//! The SRP-6a password verifier exactly as Cognito's clients (amazon-cognito-identity-js,
//! pycognito) derive it, stored whenever a password is set so USER_SRP_AUTH can later sign in
//! accounts created today without ever seeing their password again.

use aws_lc_rs::digest::{SHA256, digest};
use num_bigint::BigUint;

/// RFC 5054's 3072-bit group, the one Cognito uses; the generator is 2.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// Hex as the clients write big integers: even length, and a leading `00` when the top bit
/// is set (Java's two's-complement habit), because that exact text is what gets hashed.
fn pad_hex(n: &BigUint) -> String {
    let hex = n.to_str_radix(16);
    if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else if matches!(hex.as_bytes()[0], b'8'..=b'f') {
        format!("00{hex}")
    } else {
        hex
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("pad_hex output is hex"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `v = g^x mod N` with `x = H(padHex(salt) || H(poolName || username || ":" || password))`,
/// for a salt given as hex (the `SALT` challenge parameter).
fn verifier_for_salt(pool_id: &str, username: &str, password: &str, salt_hex: &str) -> String {
    let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("N is hex");
    let salt = BigUint::parse_bytes(salt_hex.as_bytes(), 16).expect("salt is hex");
    let pool_name = pool_id.split_once('_').map_or(pool_id, |(_, name)| name);
    let inner = digest(
        &SHA256,
        format!("{pool_name}{username}:{password}").as_bytes(),
    );
    let mut outer = hex_bytes(&pad_hex(&salt));
    outer.extend_from_slice(inner.as_ref());
    let x = BigUint::from_bytes_be(digest(&SHA256, &outer).as_ref());
    pad_hex(&BigUint::from(2u8).modpow(&x, &n))
}

/// A fresh random salt and the matching verifier, both as hex.
pub fn verifier(pool_id: &str, username: &str, password: &str) -> (String, String) {
    let salt = to_hex(&crate::random::bytes::<16>());
    let verifier = verifier_for_salt(pool_id, username, password, &salt);
    (salt, verifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `k = H(padHex(N) || padHex(g))` must equal the constant the research note verified;
    /// it proves `pad_hex` and the group match the clients'.
    #[test]
    fn multiplier_matches_the_clients() {
        let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap();
        let mut input = hex_bytes(&pad_hex(&n));
        input.extend(hex_bytes(&pad_hex(&BigUint::from(2u8))));
        assert_eq!(
            to_hex(digest(&SHA256, &input).as_ref()),
            "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
        );
    }

    /// Reference value computed independently (Python, from the spec's formulas).
    #[test]
    fn verifier_matches_an_independent_computation() {
        let v = verifier_for_salt(
            "us-east-1_AbC123xyz",
            "alice",
            "TestPass123!",
            "9f1a2b3c4d5e6f708192a3b4c5d6e7f8",
        );
        assert_eq!(
            v,
            "31ad872cbe8d0e17d8e6e84d47ee9610062f755725da66e6731482869502cd476bcf043beab64353b8e32cdec3b1d1930c86ff30ccab0d6fca1d286f1f10f15ad904459cb5b3bbba34af48ec005560ea456fc5ac71eed526d2cb95e22fc5d08a120162a1df843d62b336187aa6fec7e88683a9243c19b9fdafbb0652223148296e1dc402f2e3b8f6ba0cb7e0fa13f06c1c8ab863979ca823dbda66ad054b66fd879a3ebe3ec5329ff5c4ba3b61647790d31fe2a90f3fad4037e38053badffd30be254faa8c844ebabd1f56757323f6cd0a0805ed495ea387e8dd57cd2694312ad05135538eb94fad1d566540e2551f3f2a653115acef748eee9687ae25f955cfbe5b4a7c32e20e88d61e1bf396ccadf29e280da6d5f3da7174851381a86258895451317f825759f5ddedcec34530388129c9cb6f0be2c21a62e1e253f192508520ed85ca0c70fa7c8399b3bdd56a3459179c6f82abd6de65bd5165fef67d73f48294fa0e03a296464a19fb740f6724d722c7da7720b1369b85e14364a49644e2"
        );
    }

    #[test]
    fn fresh_salts_differ() {
        let (s1, v1) = verifier("us-east-1_AbC123xyz", "alice", "TestPass123!");
        let (s2, v2) = verifier("us-east-1_AbC123xyz", "alice", "TestPass123!");
        assert_eq!(s1.len(), 32);
        assert_ne!(s1, s2);
        assert_ne!(v1, v2);
    }
}
