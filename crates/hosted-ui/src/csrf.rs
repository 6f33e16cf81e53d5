//! CSRF protection for the hosted UI's forms: a signed double-submit token. The browser keeps
//! a random secret in the HttpOnly `XSRF-TOKEN` cookie; each form carries its HMAC as `_csrf`.
//! A cross-site page can make the browser send the cookie but can neither read it nor compute
//! the field, and the server keeps no state per visitor.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::cookies;

/// The form field that carries the token.
pub const FIELD: &str = "_csrf";

pub struct Csrf {
    key: hmac::Key,
}

/// The secret a page's forms are signed with, and whether the browser still has to be given it.
pub struct Secret {
    pub value: String,
    pub is_new: bool,
}

impl Csrf {
    /// A key made at start: tokens from before a restart stop working, which only means
    /// reloading the form.
    pub fn new() -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, random_key().as_bytes()),
        }
    }

    /// The browser's secret if it sent a plausible one, else a new one to set.
    pub fn secret(&self, headers: &HeaderMap) -> Secret {
        match cookies::get(headers, cookies::CSRF).filter(|v| v.len() == 43) {
            Some(value) => Secret {
                value,
                is_new: false,
            },
            None => Secret {
                value: random_key(),
                is_new: true,
            },
        }
    }

    /// The `_csrf` value for forms shown to the holder of `secret`.
    pub fn token(&self, secret: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, secret.as_bytes()))
    }

    /// Whether a posted form's `_csrf` matches the cookie it came with.
    pub fn verify(&self, headers: &HeaderMap, field: Option<&str>) -> bool {
        let (Some(secret), Some(field)) = (cookies::get(headers, cookies::CSRF), field) else {
            return false;
        };
        self.token(&secret)
            .as_bytes()
            .ct_eq(field.as_bytes())
            .into()
    }
}

/// 32 random bytes, base64url: a session id, an authorization code or a CSRF secret.
pub fn random_key() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use axum::http::header::COOKIE;

    use super::*;

    #[test]
    fn only_the_matching_token_passes() {
        let csrf = Csrf::new();
        let secret = csrf.secret(&HeaderMap::new());
        assert!(secret.is_new);
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            format!("{}={}", cookies::CSRF, secret.value)
                .parse()
                .unwrap(),
        );
        let token = csrf.token(&secret.value);
        assert!(csrf.verify(&headers, Some(&token)));
        assert!(!csrf.verify(&headers, None));
        assert!(!csrf.verify(&headers, Some(&secret.value)));
        assert!(!csrf.verify(&HeaderMap::new(), Some(&token)));
        assert!(!Csrf::new().verify(&headers, Some(&token)));
        assert!(!csrf.secret(&headers).is_new);
    }
}
