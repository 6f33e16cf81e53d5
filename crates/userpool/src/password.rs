//! Password policy checks and password storage (argon2id hash plus SRP verifier).

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::error::{PoolError, PoolStoreError};
use crate::model::{Credentials, PasswordPolicy};
use crate::srp;

/// Cognito words the failure differently for admin-set and user-chosen passwords.
#[derive(Debug, Clone, Copy)]
pub enum Setter {
    User,
    Admin,
}

/// The characters Cognito counts as symbols.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/// Checks `password` against the pool's policy, reporting the first unmet rule the way
/// Cognito does (one reason per call).
pub fn check(policy: &PasswordPolicy, password: &str, setter: Setter) -> Result<(), PoolError> {
    // The length rule is the pool's alone (its MinimumLength, 6 to 99); only an empty
    // password is malformed.
    if password.is_empty() {
        return Err(PoolError::InvalidParameter(
            "1 validation error detected: Value at 'password' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
                .into(),
        ));
    }
    if password.chars().count() > 256
        || password.starts_with(' ')
        || password.ends_with(' ')
        || password.chars().any(|c| c != ' ' && c.is_whitespace())
    {
        return Err(PoolError::InvalidParameter(
            "1 validation error detected: Value at 'password' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[\\S]+.*[\\S]+$"
                .into(),
        ));
    }
    let reason = if password.chars().count() < policy.minimum_length {
        Some("Password not long enough")
    } else if policy.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
        Some("Password must have uppercase characters")
    } else if policy.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
        Some("Password must have lowercase characters")
    } else if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        Some("Password must have numeric characters")
    } else if policy.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c) || c == ' ') {
        Some("Password must have symbol characters")
    } else {
        None
    };
    match (reason, setter) {
        (None, _) => Ok(()),
        (Some(r), Setter::User) => Err(PoolError::InvalidPassword(format!(
            "Password did not conform with policy: {r}"
        ))),
        (Some(r), Setter::Admin) => Err(PoolError::InvalidPassword(format!(
            "Password did not conform with password policy: {r}"
        ))),
    }
}

/// Derives everything stored for a password. CPU-heavy (argon2id and a 3072-bit modular
/// exponentiation): call it from a blocking thread.
pub fn derive(
    pool_id: &str,
    username: &str,
    password: &str,
) -> Result<Credentials, PoolStoreError> {
    let argon2 = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(PoolStoreError::PasswordHash)?
        .to_string();
    let (srp_salt, srp_verifier) = srp::verifier(pool_id, username, password);
    Ok(Credentials {
        argon2,
        srp_salt,
        srp_verifier,
    })
}

/// Whether `password` matches the stored argon2 PHC string. CPU-heavy, like [`derive`].
pub fn verify(stored: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(password: &str) -> String {
        match check(&PasswordPolicy::SEED, password, Setter::User) {
            Ok(()) => "ok".into(),
            Err(e @ PoolError::InvalidPassword(_)) => format!("InvalidPassword: {e}"),
            Err(e @ PoolError::InvalidParameter(_)) => format!("InvalidParameter: {e}"),
            Err(e) => panic!("not a password rule: {e:?}"),
        }
    }

    #[test]
    fn seed_policy_reasons_come_one_at_a_time_in_cognito_order() {
        assert_eq!(reason("TestPass123!"), "ok");
        assert_eq!(reason("TestPass1234"), "ok");
        assert_eq!(
            reason("abc"),
            "InvalidPassword: Password did not conform with policy: Password not long enough"
        );
        assert!(reason("").starts_with("InvalidParameter: 1 validation error"));
        assert_eq!(
            reason("Short1a"),
            "InvalidPassword: Password did not conform with policy: Password not long enough"
        );
        assert!(reason("lowercase123").ends_with("Password must have uppercase characters"));
        assert!(reason("UPPERCASE123").ends_with("Password must have lowercase characters"));
        assert!(reason("NoDigitsHere").ends_with("Password must have numeric characters"));
        let admin = check(&PasswordPolicy::SEED, "short", Setter::Admin);
        assert!(matches!(admin, Err(PoolError::InvalidPassword(_))));
        let admin = check(&PasswordPolicy::SEED, "Shorter1a", Setter::Admin).unwrap_err();
        assert_eq!(
            admin.to_string(),
            "Password did not conform with password policy: Password not long enough"
        );
    }

    #[test]
    fn symbols_are_cognitos_list() {
        let policy = PasswordPolicy::default();
        assert!(check(&policy, "Abcdefg1!", Setter::User).is_ok());
        assert!(check(&policy, "Abcd efg1", Setter::User).is_ok());
        assert!(
            check(&policy, "Abcdefg1§", Setter::User)
                .unwrap_err()
                .to_string()
                .ends_with("Password must have symbol characters")
        );
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let creds = derive("us-east-1_AbC123xyz", "alice", "TestPass123!").unwrap();
        assert!(creds.argon2.starts_with("$argon2id$"));
        assert!(verify(&creds.argon2, "TestPass123!"));
        assert!(!verify(&creds.argon2, "TestPass123?"));
    }
}
