//! Who a new or changed user is: the username a sign-up or AdminCreateUser gives (an
//! e-mail address or phone number where those sign in), and the attributes a request
//! writes, checked against the pool's schema and Cognito's limits.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::PoolError;
use crate::model::{Pool, User};
use crate::schema::{self, STANDARD_ATTRIBUTES};

/// Cognito's longest username, attribute name and attribute value, and e-mail address.
const MAX_USERNAME: usize = 128;
const MAX_ATTRIBUTE_NAME: usize = 32;
const MAX_ATTRIBUTE_VALUE: usize = 2048;
const MAX_EMAIL: usize = 256;
/// The most a user's attributes may hold in all (names and values, in bytes). Cognito sets
/// no such total, but every attribute goes into the ID token: beyond this the token would
/// outgrow the headers API Gateway takes, and a stranger could fill the disk 100 KB per
/// sign-up. A real profile (name, e-mail, address, a few custom values) is a few hundred.
const MAX_USER_ATTRIBUTES: usize = 8 * 1024;

/// A new user's internal username, with `sub` (and, where the pool signs in by e-mail,
/// `email`) added to `attrs`. In such a pool the given username must be an address and the
/// internal username is the `sub`, as in Cognito.
pub fn new_identity(
    pool: &Pool,
    given: &str,
    attrs: &mut BTreeMap<String, String>,
) -> Result<String, PoolError> {
    if given.chars().count() > MAX_USERNAME {
        return Err(too_long("username", MAX_USERNAME));
    }
    let sub = crate::random::uuid();
    let by_email = pool.config.email_is_username();
    let by_phone = pool.config.phone_is_username();
    let username = if by_email && is_email(given) {
        attrs.insert("email".into(), given.to_owned());
        sub.clone()
    } else if by_phone && looks_like_phone(given) {
        attrs.insert("phone_number".into(), given.to_owned());
        sub.clone()
    } else if by_email || by_phone {
        let wanted = match (by_email, by_phone) {
            (true, true) => "Username should be either an email or a phone number.",
            (true, false) => "Username should be an email.",
            _ => "Username should be a phone number.",
        };
        return Err(PoolError::InvalidParameter(wanted.into()));
    } else {
        given.to_owned()
    };
    attrs.insert("sub".into(), sub);
    Ok(username)
}

/// Refuses a user's whole attribute set when it is over [`MAX_USER_ATTRIBUTES`].
pub fn check_total(attrs: &BTreeMap<String, String>) -> Result<(), PoolError> {
    let total: usize = attrs
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if total > MAX_USER_ATTRIBUTES {
        return Err(PoolError::InvalidParameter(format!(
            "Attributes did not conform to the schema: a user's attributes may hold at most \
             {MAX_USER_ATTRIBUTES} bytes in all, these hold {total}"
        )));
    }
    Ok(())
}

/// Cognito's validation error for a member that is too long.
pub fn too_long(member: &str, max: usize) -> PoolError {
    PoolError::InvalidParameter(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: \
         Member must have length less than or equal to {max}"
    ))
}

/// Whether `s` is an e-mail address: one `@`, a local part of RFC 5322 "atext" (or
/// letters and digits of any script) in dot-separated runs, a domain of at least two
/// dot-separated labels of letters, digits and inner hyphens, no control characters, and
/// at most 256 characters.
pub fn is_email(s: &str) -> bool {
    const ATEXT: &str = "!#$%&'*+/=?^_`{|}~-";
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = local.len() <= 64
        && local.split('.').all(|run| {
            !run.is_empty()
                && run
                    .chars()
                    .all(|c| c.is_alphanumeric() || (c.is_ascii() && ATEXT.contains(c)))
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    s.chars().count() <= MAX_EMAIL && local_ok && domain_ok
}

/// E.164, as Cognito requires of phone numbers: `+`, then 2 to 15 digits, the first not 0.
pub fn looks_like_phone(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// The lowercased e-mail that must be unique in the pool, where e-mail addresses sign in.
///
/// In a pool whose users sign in with a phone number instead, the same unique alias column
/// holds the number (one sign-in alias per user).
pub fn alias_email(pool: &Pool, user: &User) -> Option<String> {
    if pool.config.email_signs_in()
        && let Some(email) = user.email()
    {
        return Some(email.to_lowercase());
    }
    pool.config
        .phone_is_username()
        .then(|| user.attributes.get("phone_number").cloned())
        .flatten()
}

/// `AttributeType`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// Validates user-supplied attributes against the pool's schema (standard names, and the
/// `custom:*` ones it declares) and their total size.
pub fn attributes(
    pool: &Pool,
    list: Option<Vec<Attribute>>,
) -> Result<BTreeMap<String, String>, PoolError> {
    let mut out = BTreeMap::new();
    for (index, attribute) in list.unwrap_or_default().into_iter().enumerate() {
        let member = |part: &str| format!("userAttributes.{}.member.{part}", index + 1);
        if attribute.name.chars().count() > MAX_ATTRIBUTE_NAME {
            return Err(too_long(&member("name"), MAX_ATTRIBUTE_NAME));
        }
        let value = attribute.value.unwrap_or_default();
        if value.chars().count() > MAX_ATTRIBUTE_VALUE {
            return Err(too_long(&member("value"), MAX_ATTRIBUTE_VALUE));
        }
        let name = attribute.name;
        if name == "sub" {
            return Err(PoolError::InvalidParameter(
                "Attributes did not conform to the schema: sub: Attribute cannot be written".into(),
            ));
        }
        if !STANDARD_ATTRIBUTES.contains(&name.as_str()) && !name.starts_with("custom:") {
            return Err(PoolError::InvalidParameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        }
        if name == "email" && !is_email(&value) {
            return Err(PoolError::InvalidParameter(
                "Invalid email address format.".into(),
            ));
        }
        schema::check_value(&pool.config.schema, &name, &value)?;
        out.insert(name, value);
    }
    check_total(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked_as_cognito_would() {
        for good in [
            "test@example.com",
            "first.last+tag@sub.example.co.uk",
            "o'neil@x-y.org",
            "jörg@bücher.de",
        ] {
            assert!(is_email(good), "{good}");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        for bad in [
            "a@@b.com",
            "a@b.com\0",
            "a\u{0}@b.com",
            "<script>alert(1)</script>@x.com",
            "a b@x.com",
            "a@localhost",
            "a@x.c",
            "a@-x.com",
            ".a@x.com",
            "a..b@x.com",
            "a@x..com",
            "a@1.2.3.4",
            "@x.com",
            long.as_str(),
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn attributes_are_bounded() {
        let pool = Pool {
            id: "us-east-1_test".into(),
            name: "test".into(),
            config: crate::model::PoolConfig::default(),
            created: 0,
            modified: 0,
        };
        let one = |name: &str, value: String| {
            attributes(
                &pool,
                Some(vec![Attribute {
                    name: name.into(),
                    value: Some(value),
                }]),
            )
        };
        assert!(one("name", "x".repeat(2048)).is_ok());
        let error = one("name", "x".repeat(2049)).unwrap_err();
        assert!(
            error.to_string().contains("userAttributes.1.member.value"),
            "{error}"
        );
        assert!(one(&format!("custom:{}", "n".repeat(30)), "v".into()).is_err());
        assert!(one("email", "a@@b.com".into()).is_err());
        assert!(one("email", "a@b.com".into()).is_ok());
    }

    #[test]
    fn only_declared_custom_attributes_are_written_and_a_user_holds_8_kib_at_most() {
        let mut pool = Pool {
            id: "us-east-1_test".into(),
            name: "test".into(),
            config: crate::model::PoolConfig::default(),
            created: 0,
            modified: 0,
        };
        let write = |pool: &Pool, list: &[(&str, String)]| {
            let list = list
                .iter()
                .map(|(name, value)| Attribute {
                    name: (*name).into(),
                    value: Some(value.clone()),
                })
                .collect();
            attributes(pool, Some(list))
        };
        let undeclared = write(&pool, &[("custom:team", "blue".into())]).unwrap_err();
        assert!(matches!(undeclared, PoolError::InvalidParameter(_)));
        assert!(
            undeclared
                .to_string()
                .contains("{custom:team} could not be determined"),
            "{undeclared}"
        );
        let declared: Vec<crate::model::SchemaAttribute> =
            serde_json::from_value(serde_json::json!([
                {"Name": "team", "AttributeDataType": "String",
                 "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "8"}},
                {"Name": "level", "AttributeDataType": "Number",
                 "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "9"}},
            ]))
            .unwrap();
        schema::add_custom(&mut pool.config.schema, declared.clone()).unwrap();
        assert!(
            schema::add_custom(&mut pool.config.schema, declared).is_err(),
            "a name the pool has already"
        );
        assert!(
            write(
                &pool,
                &[("custom:team", "blue".into()), ("custom:level", "3".into())]
            )
            .is_ok()
        );
        for bad in [
            ("custom:team", "x".repeat(9)),
            ("custom:team", String::new()),
            ("custom:level", "10".into()),
            ("custom:level", "three".into()),
        ] {
            assert!(write(&pool, std::slice::from_ref(&bad)).is_err(), "{bad:?}");
        }
        // Standard attributes of 2,048 characters each, but 8 KiB in all at most.
        let big = "x".repeat(2000);
        let four: Vec<(&str, String)> = ["name", "nickname", "address", "profile"]
            .into_iter()
            .map(|name| (name, big.clone()))
            .collect();
        assert!(write(&pool, &four).is_ok());
        let five = [four.as_slice(), &[("website", big.clone())]].concat();
        let refused = write(&pool, &five).unwrap_err();
        assert!(
            refused.to_string().contains("at most 8192 bytes"),
            "{refused}"
        );
    }
}
