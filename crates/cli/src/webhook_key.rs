//! The key that seals webhook signing secrets under `taskapi serve`: a file in the data
//! directory, created 0600 on first start, apart from the task database, so a copy of the
//! database alone does not reveal any endpoint's secret. (On AWS the key comes from a
//! Secrets Manager secret instead; see docs/webhooks.md.)

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use taskapi_userpool::private;
use taskapi_webhooks::SecretCipher;

/// The key file inside the data directory.
pub(crate) const WEBHOOK_KEY_FILE: &str = "webhook-secrets.key";

/// The cipher of the key in `data_dir`, made on first use.
pub(crate) fn load_or_create(data_dir: &Path) -> anyhow::Result<SecretCipher> {
    private::ensure_dir(data_dir)?;
    let path = data_dir.join(WEBHOOK_KEY_FILE);
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path);
    match created {
        Ok(mut file) => {
            let key = SecretCipher::generate_key();
            file.write_all(key.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the webhook secret key");
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            private::ensure_file(&path)?;
        }
        Err(err) => {
            return Err(err).with_context(|| format!("cannot create {}", path.display()));
        }
    }
    let key = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    SecretCipher::from_base64(&key).with_context(|| {
        format!(
            "{} is not a webhook secret key (32 bytes, base64); restore it from a backup",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use taskapi_domain::WebhookId;
    use taskapi_webhooks::SigningSecret;

    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_opens_what_it_sealed_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let path = dir.path().join(WEBHOOK_KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let id = WebhookId::generate();
        let secret = SigningSecret::generate();
        let sealed = first.seal(&id, &secret);
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(again.open(&id, &sealed).unwrap(), secret);
    }

    #[test]
    fn a_damaged_key_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(WEBHOOK_KEY_FILE), "not a key").unwrap();
        let err = load_or_create(dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains(WEBHOOK_KEY_FILE), "{err:#}");
    }
}
