//! The core's sign-in rules, called in process as the hosted UI calls them: no server, no
//! wire format, the outcome as plain Rust.

use std::sync::Arc;

use serde_json::Value;
use taskapi_userpool::hosted_ui::{OAuthGrant, PasswordStep};
use taskapi_userpool::{DefaultPool, PoolError, PoolSettings, Tuning, UserPools};

const PASSWORD: &str = "TestPass123!";

struct Core {
    pools: Arc<UserPools>,
    default: DefaultPool,
    dir: tempfile::TempDir,
}

fn open() -> Core {
    let dir = tempfile::tempdir().unwrap();
    let pools = UserPools::open_with(
        PoolSettings::new(dir.path(), "http://127.0.0.1:1"),
        Tuning::default(),
    )
    .unwrap();
    let default = pools.ensure_default_pool().unwrap();
    Core {
        pools,
        default,
        dir,
    }
}

impl Core {
    /// The newest code the outbox holds for `to`.
    fn code_for(&self, to: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("outbox.jsonl")).unwrap();
        let line = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .rfind(|l| l["to"] == to)
            .unwrap();
        line["code"].as_str().unwrap().to_owned()
    }

    fn sign_up(&self, email: &str) {
        let confirmed = self
            .pools
            .self_sign_up(&self.default.client_id, email, PASSWORD)
            .unwrap();
        assert!(!confirmed, "the default pool confirms by e-mailed code");
    }

    fn confirmed(&self, email: &str) {
        self.sign_up(email);
        let code = self.code_for(email);
        self.pools
            .confirm_self_sign_up(&self.default.client_id, email, &code, None)
            .unwrap();
    }

    fn sign_in(&self, email: &str, password: &str) -> Result<PasswordStep, PoolError> {
        self.pools
            .password_sign_in(&self.default.client_id, email, password)
    }
}

#[test]
fn a_confirmed_user_with_the_right_password_is_signed_in() {
    let core = open();
    core.confirmed("alice@example.com");
    let step = core.sign_in("alice@example.com", PASSWORD).unwrap();
    assert!(
        matches!(&step, PasswordStep::SignedIn { username } if !username.contains('@')),
        "{step:?}: the internal username, not the e-mail"
    );
}

#[test]
fn an_unconfirmed_user_is_refused_once_the_password_is_right() {
    let core = open();
    core.sign_up("bob@example.com");
    let refused = core.sign_in("bob@example.com", PASSWORD).unwrap_err();
    assert!(matches!(refused, PoolError::UserNotConfirmed), "{refused}");
    let wrong = core.sign_in("bob@example.com", "WrongPass123").unwrap_err();
    assert_eq!(wrong.to_string(), "Incorrect username or password.");
}

#[test]
fn an_unknown_user_is_refused_as_a_wrong_password() {
    let core = open();
    let refused = core.sign_in("nobody@example.com", PASSWORD).unwrap_err();
    assert_eq!(refused.to_string(), "Incorrect username or password.");
}

#[test]
fn the_fifth_wrong_password_locks_sign_in() {
    let core = open();
    core.confirmed("carol@example.com");
    for _ in 0..4 {
        let refused = core
            .sign_in("carol@example.com", "WrongPass123")
            .unwrap_err();
        assert_eq!(refused.to_string(), "Incorrect username or password.");
    }
    let locked = core
        .sign_in("carol@example.com", "WrongPass123")
        .unwrap_err();
    assert_eq!(locked.to_string(), "Password attempts exceeded");
    let still = core.sign_in("carol@example.com", PASSWORD).unwrap_err();
    assert_eq!(still.to_string(), "Password attempts exceeded");
}

/// The ID token only with `openid`; a refresh token only where asked for (the code flow).
#[test]
fn a_signed_in_user_gets_tokens_for_the_scopes_granted() {
    let core = open();
    core.confirmed("dave@example.com");
    let PasswordStep::SignedIn { username } = core.sign_in("dave@example.com", PASSWORD).unwrap()
    else {
        panic!("not signed in");
    };
    let epoch = core
        .pools
        .session_epoch(&core.default.pool_id, &username)
        .unwrap()
        .unwrap();
    let grant = |scopes: &[String], refresh: bool| {
        core.pools.oauth_tokens(&OAuthGrant {
            client_id: &core.default.client_id,
            username: &username,
            scopes,
            nonce: None,
            auth_time: core.pools.now(),
            epoch,
            refresh,
        })
    };
    let openid = grant(&["openid".to_owned(), "email".to_owned()], true).unwrap();
    assert!(openid.id_token.is_some() && openid.refresh_token.is_some());
    let email_only = grant(&["email".to_owned()], false).unwrap();
    assert!(email_only.id_token.is_none() && email_only.refresh_token.is_none());
    assert_eq!(email_only.expires_in, 3600);
}
