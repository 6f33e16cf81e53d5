//! The local outbox: messages Cognito would e-mail, written to the log and to
//! `<data_dir>/outbox.jsonl` so people and scripts can read their codes.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::User;

pub struct Outbox {
    path: PathBuf,
    /// Serialises appends so concurrent messages never interleave within a line.
    lock: Mutex<()>,
}

/// One message: the user it goes to (at their e-mail address), why, and the code (or
/// temporary password) it carries.
pub struct Message<'a> {
    pub user: &'a User,
    pub purpose: &'a str,
    pub code: &'a str,
    pub now: i64,
    /// The subject and text a `CustomMessage` trigger wrote, if the pool has one.
    pub subject: Option<&'a str>,
    pub text: Option<&'a str>,
}

impl Outbox {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    /// Delivers a message. A failure to append to the file is logged, not returned: the log
    /// line has already carried the code, and the action it belongs to did succeed.
    pub fn send(&self, message: &Message<'_>) {
        let to = message.user.email().unwrap_or_default();
        tracing::info!(
            target: "taskapi::outbox",
            "outbox: to={} purpose={} code={}",
            to,
            message.purpose,
            message.code
        );
        let time = OffsetDateTime::from_unix_timestamp(message.now)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok());
        let mut line = serde_json::json!({
            "time": time,
            "pool_id": message.user.pool_id,
            "username": message.user.username,
            "to": to,
            "purpose": message.purpose,
            "code": message.code,
        });
        if let Some(subject) = message.subject {
            line["subject"] = serde_json::json!(subject);
        }
        if let Some(text) = message.text {
            tracing::info!(target: "taskapi::outbox", "outbox: to={to} message={text}");
            line["message"] = serde_json::json!(text);
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
        if let Err(error) = written {
            tracing::warn!(path = %self.path.display(), %error, "cannot append to the outbox file");
        }
    }
}

/// Masks an address the way Cognito's `CodeDeliveryDetails.Destination` does: `a***@e***`.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!(
            "{}***@{}***",
            local.chars().next().unwrap_or('*'),
            domain.chars().next().unwrap_or('*')
        ),
        None => format!("{}***", address.chars().next().unwrap_or('*')),
    }
}
