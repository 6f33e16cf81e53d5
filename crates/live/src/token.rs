//! When a socket's token expires. The authenticator has verified the token (signature,
//! issuer, audience, `exp`) before this reads it, so its `exp` claim can be trusted here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

#[derive(Deserialize)]
struct Expiry {
    exp: u64,
}

/// When the verified JWT `token` stops being valid; `None` if it names no expiry (the
/// socket then lives until it is closed for another reason).
pub(crate) fn expires_at(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let Expiry { exp } = serde_json::from_slice(&json).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exp_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"u","exp":1700000000}"#);
        let token = format!("e30.{payload}.sig");
        assert_eq!(
            expires_at(&token),
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        assert_eq!(expires_at("e30.e30.sig"), None, "no exp claim");
        assert_eq!(expires_at("not a jwt"), None);
    }
}
