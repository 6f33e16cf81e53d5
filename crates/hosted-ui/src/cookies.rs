//! The two cookies of the hosted UI: the sign-in session and the CSRF token.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::{Cookie, SameSite};

/// The hosted UI's session cookie (Cognito names it `cognito`).
pub const SESSION: &str = "cognito";
/// The CSRF cookie (Cognito's name); forms carry its signature as `_csrf`.
pub const CSRF: &str = "XSRF-TOKEN";
/// Cognito's hosted-UI cookies last an hour.
pub const MAX_AGE_SECS: i64 = 3600;

/// The value of the named cookie in a request, if sent.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, for the whole site, one hour; `Secure` when
/// served over HTTPS.
pub fn set(name: &str, value: &str, secure: bool) -> String {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(MAX_AGE_SECS))
        .build()
        .to_string()
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(name: &str, secure: bool) -> String {
    Cookie::build((name, ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_the_required_attributes() {
        let plain = set(SESSION, "abc", false);
        assert!(plain.contains("HttpOnly"));
        assert!(plain.contains("SameSite=Lax"));
        assert!(plain.contains("Max-Age=3600"));
        assert!(!plain.contains("Secure"));
        assert!(set(SESSION, "abc", true).contains("Secure"));
        assert!(clear(SESSION, false).contains("Max-Age=0"));
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; cognito=xyz; b=2".parse().unwrap());
        assert_eq!(get(&headers, SESSION).as_deref(), Some("xyz"));
        assert_eq!(get(&headers, CSRF), None);
    }
}
