//! SRP-6a exactly as Cognito and its clients (amazon-cognito-identity-js, Amplify, pycognito)
//! compute it: the password verifier stored whenever a password is set, and the server half
//! of USER_SRP_AUTH (`B`, then checking the client's PASSWORD_CLAIM_SIGNATURE).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use num_bigint::BigUint;
use subtle::ConstantTimeEq;

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

/// The longest `SRP_A` accepted (a 3072-bit number is 768 hex digits).
const MAX_PUBLIC_HEX: usize = 1024;

fn n() -> BigUint {
    BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("N is hex")
}

fn g() -> BigUint {
    BigUint::from(2u8)
}

/// `H(padHex(a) || padHex(b))` as a number: how `k` and `u` are made.
fn hash_pair(a: &BigUint, b: &BigUint) -> BigUint {
    let mut input = hex_bytes(&pad_hex(a));
    input.extend(hex_bytes(&pad_hex(b)));
    BigUint::from_bytes_be(digest(&SHA256, &input).as_ref())
}

/// The pool name that goes into every hash: the pool id without its region prefix.
pub fn pool_name(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(pool_id, |(_, name)| name)
}

fn parse_hex(text: &str) -> Option<BigUint> {
    if text.is_empty() || text.len() > MAX_PUBLIC_HEX {
        return None;
    }
    BigUint::parse_bytes(text.as_bytes(), 16)
}

/// The client's `SRP_A`, if it is a usable public value (hex, bounded, `A mod N != 0`).
pub fn parse_public(a_hex: &str) -> Option<BigUint> {
    let a = parse_hex(a_hex)?;
    (a.clone() % n() != BigUint::ZERO).then_some(a)
}

/// The server's answer to `A`: a fresh secret `b` and `B = (k·v + g^b) mod N`, both as hex.
pub fn server_public(verifier_hex: &str) -> Option<(String, String)> {
    let v = BigUint::parse_bytes(verifier_hex.as_bytes(), 16)?;
    loop {
        let b = BigUint::from_bytes_be(&crate::random::bytes::<64>());
        let big_b = public_for(&b, &v);
        if big_b != BigUint::ZERO {
            return Some((b.to_str_radix(16), big_b.to_str_radix(16)));
        }
    }
}

/// `B = (k·v + g^b) mod N`.
fn public_for(b: &BigUint, v: &BigUint) -> BigUint {
    let n = n();
    (hash_pair(&n, &g()) * v + g().modpow(b, &n)) % &n
}

/// Everything the server knows when the client's claim arrives.
pub struct Exchange<'a> {
    pub pool_id: &'a str,
    /// `USER_ID_FOR_SRP`: the internal username.
    pub username: &'a str,
    pub verifier_hex: &'a str,
    pub a_hex: &'a str,
    pub b_hex: &'a str,
    pub big_b_hex: &'a str,
    /// The SECRET_BLOCK's bytes (its base64 decoded).
    pub secret_block: &'a [u8],
}

/// Whether `signature` (PASSWORD_CLAIM_SIGNATURE, base64 decoded) proves the password:
/// `HMAC(K, poolName || username || secretBlock || timestamp)` with
/// `K = HKDF(padHex(S), salt = padHex(u), "Caldera Derived Key")[..16]` and
/// `S = (A · v^u)^b mod N`. The timestamp is hashed exactly as the client sent it.
pub fn verify_claim(exchange: &Exchange<'_>, timestamp: &str, signature: &[u8]) -> bool {
    let n = n();
    let parse = |hex: &str| BigUint::parse_bytes(hex.as_bytes(), 16);
    let (Some(a), Some(b), Some(big_b), Some(v)) = (
        parse_public(exchange.a_hex),
        parse(exchange.b_hex),
        parse(exchange.big_b_hex),
        parse(exchange.verifier_hex),
    ) else {
        return false;
    };
    let u = hash_pair(&a, &big_b);
    if u == BigUint::ZERO {
        return false;
    }
    let s = (a * v.modpow(&u, &n)).modpow(&b, &n);
    let key = derive_key(&s, &u);
    let expected = claim_signature(&key, exchange, timestamp);
    expected.as_slice().ct_eq(signature).into()
}

/// The 16-byte session key, HKDF-SHA256 as the clients compute it.
fn derive_key(s: &BigUint, u: &BigUint) -> Vec<u8> {
    let salt = hmac::Key::new(hmac::HMAC_SHA256, &hex_bytes(&pad_hex(u)));
    let prk = hmac::sign(&salt, &hex_bytes(&pad_hex(s)));
    let prk = hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref());
    hmac::sign(&prk, b"Caldera Derived Key\x01").as_ref()[..16].to_vec()
}

fn claim_signature(key: &[u8], exchange: &Exchange<'_>, timestamp: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut context = hmac::Context::with_key(&key);
    context.update(pool_name(exchange.pool_id).as_bytes());
    context.update(exchange.username.as_bytes());
    context.update(exchange.secret_block);
    context.update(timestamp.as_bytes());
    context.sign().as_ref().to_vec()
}

/// `v = g^x mod N` with `x = H(padHex(salt) || H(poolName || username || ":" || password))`,
/// for a salt given as hex (the `SALT` challenge parameter).
fn verifier_for_salt(pool_id: &str, username: &str, password: &str, salt_hex: &str) -> String {
    let n = n();
    let salt = BigUint::parse_bytes(salt_hex.as_bytes(), 16).expect("salt is hex");
    let pool_name = pool_name(pool_id);
    let inner = digest(
        &SHA256,
        format!("{pool_name}{username}:{password}").as_bytes(),
    );
    let mut outer = hex_bytes(&pad_hex(&salt));
    outer.extend_from_slice(inner.as_ref());
    let x = BigUint::from_bytes_be(digest(&SHA256, &outer).as_ref());
    pad_hex(&BigUint::from(2u8).modpow(&x, &n))
}

/// A fresh random salt and the matching verifier, both as hex. The salt is written as the
/// clients re-encode it (no leading zero digits): pycognito hashes the SALT text as given.
pub fn verifier(pool_id: &str, username: &str, password: &str) -> (String, String) {
    let salt = BigUint::from_bytes_be(&crate::random::bytes::<16>()).to_str_radix(16);
    let verifier = verifier_for_salt(pool_id, username, password, &salt);
    (salt, verifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

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

    /// A whole exchange computed by pycognito 2024.5.1's client functions (a, b, the salt,
    /// the SECRET_BLOCK and the timestamp fixed): the server accepts its signature and
    /// nothing else.
    #[test]
    fn accepts_a_signature_computed_by_pycognito() {
        let exchange = Exchange {
            pool_id: "us-east-1_AbC123xyz",
            username: "alice",
            verifier_hex: &verifier_for_salt(
                "us-east-1_AbC123xyz",
                "alice",
                "TestPass123!",
                "9f1a2b3c4d5e6f708192a3b4c5d6e7f8",
            ),
            a_hex: "e737a560ff1e2e01861d748c183c3055a060d7c7d45f8bb039cf28de09e5409c72fb12004faed70a79142b2944a81a10c84511d57302cd2a1c9263412377676e456b2cb3334ba9d5c03a302e4a44c771558a019f830011e8e03f32bd8e33c8ccd40449c94ea92f36e825664f4213235d554be9d7f10aa3cad418ab46c06c85737f820484a2645a3d60797adaf87219d785e168d356fbc268d4c69aca5da71aa9b430386b542ac14f55bd36c910371c76c27afd2aa402250af4046166371c76a7fd376fa3b2ed472f221a02c62c0ce7a7947df900d31f708b3b45dc7e5253662083c3b0e28b216fef0ea85281706093450da3afdc57b1f419d52ec44e8afc1ded599f7b1a47ea5d4fe43ff66e0c5d3da0c75cdff31f9fff6ccc9e28f22cd7c994217a38a1ba9e6715c07e2622aa86527cdbc4aa3b7c546901542c1959fde6ad9cddfb0f574e3c592bb86fd126dcc4716c1e10900d4b5b296659a05463671c3098371fb48855b72d12623575f9affe6bf8b2facfef80813340fb7fdfe4000d10e8",
            b_hex: "7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f7b3f",
            big_b_hex: "3600f6a14f4d6cf7675490404d6374cbbcb400d64c9529ce35cfc4cd7ca8f1d7df41143a4e050a2018b836a7e9540c50d278e39797de8b2cb7caa6e04ab814132865f8d8051cf946215abb35a1522012898fc70b920341d6ae9d6b41fac98a902e73c398f2ad7255bf62af3c2b8b037a841a1ed95509106975c1f908261977e17c552e5ef58e5fa1d351b859a252aafb8ec326c2e8f391834331cfad9f03c4017e9b1dd03556153d185ed88b8df41e63e43ab48c49fd7d61e81d34803e3ebede861860f1eb4678cf482b58c57d54503d7a320ff4b65765d5a608fb1a3a061b20ce40ccef27bef0cd99d3fd70a1337c36c4023d14931e5dcde33f4d1f7e0aaa045e5864c67f29c6b732b1eacb5914f4433e8c04c4f0e1699a009557e533cccd18b68eaf467a3782f8fbbd8a976815affd4084e4b56ee4873d8d076e4ddcae867fdee631e44505bfb2a4023d2768c41117e4fd9f1818d8b23135ec886d0a7caeefa9357bbcbef36d89de517c76901da6bc837af68880b6a9ba8e3098425e5514c2",
            secret_block: &(0u8..48).collect::<Vec<u8>>(),
        };
        let b = BigUint::parse_bytes(exchange.b_hex.as_bytes(), 16).unwrap();
        let v = BigUint::parse_bytes(exchange.verifier_hex.as_bytes(), 16).unwrap();
        assert_eq!(public_for(&b, &v).to_str_radix(16), exchange.big_b_hex);
        let signature = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            "2qXHXW4z40+FMv8zULdHiyjQq8jQiFzXFvcAybzKtTY=",
        )
        .unwrap();
        let timestamp = "Tue Nov 4 09:05:01 UTC 2026";
        assert!(verify_claim(&exchange, timestamp, &signature));
        assert!(!verify_claim(
            &exchange,
            "Tue Nov 04 09:05:01 UTC 2026",
            &signature
        ));
        let mut wrong = signature.clone();
        wrong[0] ^= 1;
        assert!(!verify_claim(&exchange, timestamp, &wrong));
    }

    /// The client's side of the exchange, written from the clients' formulas
    /// (`S = (B - k·g^x)^(a + u·x)`), not the server's.
    fn client_signature(
        exchange: &Exchange<'_>,
        password: &str,
        salt_hex: &str,
        a: &BigUint,
        timestamp: &str,
    ) -> Vec<u8> {
        let n = n();
        let big_a = g().modpow(a, &n);
        let big_b = BigUint::parse_bytes(exchange.big_b_hex.as_bytes(), 16).unwrap();
        let u = hash_pair(&big_a, &big_b);
        let inner = digest(
            &SHA256,
            format!(
                "{}{}:{password}",
                pool_name(exchange.pool_id),
                exchange.username
            )
            .as_bytes(),
        );
        let salt = BigUint::parse_bytes(salt_hex.as_bytes(), 16).unwrap();
        let mut outer = hex_bytes(&pad_hex(&salt));
        outer.extend_from_slice(inner.as_ref());
        let x = BigUint::from_bytes_be(digest(&SHA256, &outer).as_ref());
        let k = hash_pair(&n, &g());
        let gx = (&k * g().modpow(&x, &n)) % &n;
        let base = (big_b + &n - gx) % &n;
        let s = base.modpow(&(a + &u * &x), &n);
        claim_signature(&derive_key(&s, &u), exchange, timestamp)
    }

    /// Over random salts, passwords and secrets (so short and high-bit `u`, `S` and salts all
    /// occur), the right password always verifies and a wrong one never does.
    #[test]
    fn random_exchanges_verify_only_with_the_right_password() {
        let pool = "eu-west-1_Xy12Ab34c";
        for round in 0..24u8 {
            let username = crate::random::uuid();
            let password = format!("Pw{}!{round}", crate::random::uuid());
            let (salt, verifier) = super::verifier(pool, &username, &password);
            let (b_hex, big_b_hex) = server_public(&verifier).unwrap();
            let a = BigUint::from_bytes_be(&crate::random::bytes::<128>());
            let a_hex = g().modpow(&a, &n()).to_str_radix(16);
            let block = crate::random::bytes::<48>();
            let exchange = Exchange {
                pool_id: pool,
                username: &username,
                verifier_hex: &verifier,
                a_hex: &a_hex,
                b_hex: &b_hex,
                big_b_hex: &big_b_hex,
                secret_block: &block,
            };
            let ts = "Wed Nov 25 13:05:09 UTC 2026";
            let right = client_signature(&exchange, &password, &salt, &a, ts);
            assert!(verify_claim(&exchange, ts, &right), "round {round}");
            let wrong = client_signature(&exchange, "not it", &salt, &a, ts);
            assert!(!verify_claim(&exchange, ts, &wrong), "round {round}");
        }
    }

    #[test]
    fn fresh_salts_differ() {
        let (s1, v1) = verifier("us-east-1_AbC123xyz", "alice", "TestPass123!");
        let (s2, v2) = verifier("us-east-1_AbC123xyz", "alice", "TestPass123!");
        assert!(s1.len() <= 32 && !s1.starts_with('0'));
        assert_ne!(s1, s2);
        assert_ne!(v1, v2);
    }
}
