//! `next_token`: an opaque encoding of where a list left off ([`PageKey`]), accepted only
//! for the list it came from (the domain's rule, [`PageKey::belongs_to`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use taskapi_domain::{PageKey, PageScope};

use crate::ApiError;

/// Longer tokens than this are not ours; refuse them before decoding. (The OpenAPI
/// document states the same bound.)
pub const MAX_TOKEN_LEN: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Wire {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g1sk: Option<String>,
}

pub fn encode(key: &PageKey) -> String {
    let wire = Wire {
        pk: key.pk.clone(),
        sk: key.sk.clone(),
        g1pk: key.gsi1pk.clone(),
        g1sk: key.gsi1sk.clone(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).expect("a page key serializes"))
}

pub fn decode(token: &str, scope: PageScope<'_>) -> Result<PageKey, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_next_token",
            "next_token is not a token this list returned",
        )
    };
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let key = PageKey {
        pk: wire.pk,
        sk: wire.sk,
        gsi1pk: wire.g1pk,
        gsi1sk: wire.g1sk,
    };
    if !key.belongs_to(&scope) {
        return Err(invalid());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use taskapi_domain::{ProjectId, Status, keys};

    use super::*;

    fn owner_key(sub: &str) -> PageKey {
        PageKey {
            pk: keys::user_pk(sub),
            sk: "TASK#0193".into(),
            gsi1pk: None,
            gsi1sk: None,
        }
    }

    #[test]
    fn round_trips_for_its_own_list() {
        let key = owner_key("alice");
        let token = encode(&key);
        assert_eq!(
            decode(&token, PageScope::Owner { sub: "alice" }).unwrap(),
            key
        );
    }

    #[test]
    fn another_callers_token_is_refused() {
        let token = encode(&owner_key("alice"));
        assert!(decode(&token, PageScope::Owner { sub: "mallory" }).is_err());
        assert!(decode(&token, PageScope::Status(Status::Pending)).is_err());
    }

    #[test]
    fn status_tokens_stay_in_their_status() {
        let key = PageKey {
            pk: keys::user_pk("alice"),
            sk: "TASK#1".into(),
            gsi1pk: Some(keys::status_gsi1pk(Status::Done)),
            gsi1sk: Some("2026-01-01T00:00:00.000000Z".into()),
        };
        let token = encode(&key);
        assert_eq!(
            decode(&token, PageScope::Status(Status::Done)).unwrap(),
            key
        );
        assert!(decode(&token, PageScope::Status(Status::Pending)).is_err());
        assert!(decode(&token, PageScope::Owner { sub: "alice" }).is_err());
    }

    #[test]
    fn project_tokens_stay_in_their_project() {
        let project = ProjectId::generate();
        let key = PageKey {
            pk: keys::project_pk(&project),
            sk: "TASK#1".into(),
            gsi1pk: None,
            gsi1sk: None,
        };
        let token = encode(&key);
        assert_eq!(decode(&token, PageScope::Project(&project)).unwrap(), key);
        assert!(decode(&token, PageScope::Project(&ProjectId::generate())).is_err());
        assert!(decode(&token, PageScope::Owner { sub: "alice" }).is_err());
        let mine = PageKey {
            pk: keys::user_pk("alice"),
            sk: keys::project_mirror_sk(&project),
            gsi1pk: None,
            gsi1sk: None,
        };
        let token = encode(&mine);
        assert_eq!(
            decode(&token, PageScope::Projects { sub: "alice" }).unwrap(),
            mine
        );
        assert!(decode(&token, PageScope::Projects { sub: "bob" }).is_err());
        assert!(decode(&token, PageScope::Owner { sub: "alice" }).is_err());
    }

    #[test]
    fn garbage_is_refused() {
        for token in ["", "!!!", "e30", &"A".repeat(5000)] {
            assert!(
                decode(token, PageScope::Owner { sub: "a" }).is_err(),
                "{token:?}"
            );
        }
    }
}
