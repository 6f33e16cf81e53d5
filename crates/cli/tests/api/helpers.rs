use clap::Parser;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use taskapi::config::{Cli, Command};
use taskapi::serve::Application;
use taskapi_testkit::{CLIENT_ID, TestPool};
use tempfile::TempDir;
use tokio::sync::oneshot;
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    pub pool: TestPool,
    pub client: reqwest::Client,
    data: TempDir,
    stop: Option<oneshot::Sender<()>>,
}

/// Starts `taskapi serve` in-process as the command line would configure it.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// [`spawn_app`] with more command-line flags (e.g. the live sockets' limits).
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    let pool = TestPool::start().await;
    let data = tempfile::tempdir().unwrap();
    let base_flags = [
        "taskapi",
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        data.path().to_str().unwrap(),
        "--jwt-issuer",
        &pool.issuer,
        "--jwt-audience",
        CLIENT_ID,
        // Rate limits have tests of their own (faults.rs, attacks.rs); here they would only
        // add noise.
        "--rate-limit",
        "0",
        "--auth-failure-limit",
        "0",
    ];
    let cli = Cli::parse_from(base_flags.iter().chain(flags));
    let Command::Serve(config) = cli.command else {
        unreachable!("parsed a serve command")
    };
    let app = Application::build(*config).await.expect("server builds");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        pool,
        client: reqwest::Client::new(),
        data,
        stop: Some(stop),
    }
}

/// A server, a user and a task of theirs, as the tests of one task begin: the app, the
/// user, the task as created and its path (`/tasks/{task_id}`).
pub async fn spawn_with_task(title: &str) -> (TestApp, User, Value, String) {
    let app = spawn_app().await;
    let user = app.user();
    let task = app.create_ok(&user, title).await;
    let path = format!("/tasks/{}", task["task_id"].as_str().unwrap());
    (app, user, task, path)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A signed-in user: their ID token.
pub struct User {
    pub sub: String,
    pub token: String,
}

impl TestApp {
    /// Stops the server as SIGTERM would (connections get the grace period).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// The server's data directory, for tests that must reach under the API (e.g. to age
    /// an item past its expiry).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data.path()
    }

    pub fn user(&self) -> User {
        self.user_in(&[])
    }

    pub fn user_in(&self, groups: &[&str]) -> User {
        let sub = Uuid::new_v4().to_string();
        let token = self.pool.id_token(&sub, groups);
        User { sub, token }
    }

    pub fn request(&self, method: Method, path: &str, user: &User) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("authorization", &user.token)
    }

    pub async fn create(&self, user: &User, body: Value) -> Response {
        self.request(Method::POST, "/tasks", user)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a task and returns it as answered.
    pub async fn create_ok(&self, user: &User, title: &str) -> Value {
        let response = self
            .create(user, serde_json::json!({ "title": title }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// A request with no credentials at all.
    pub fn anonymous(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn get(&self, user: &User, path: &str) -> Response {
        self.request(Method::GET, path, user).send().await.unwrap()
    }

    /// The JSON body of `GET path`, whatever the status.
    pub async fn get_json(&self, user: &User, path: &str) -> Value {
        self.get(user, path).await.json().await.unwrap()
    }

    pub async fn post(&self, user: &User, path: &str, body: Value) -> Response {
        self.request(Method::POST, path, user)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, user: &User, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, user)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `PATCH path` on the condition `If-Match: if_match` (an ETag, or `*`).
    pub async fn patch_if_match(
        &self,
        user: &User,
        path: &str,
        if_match: &str,
        body: Value,
    ) -> Response {
        self.request(Method::PATCH, path, user)
            .header("if-match", if_match)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, user: &User, path: &str) -> Response {
        self.request(Method::DELETE, path, user)
            .send()
            .await
            .unwrap()
    }

    /// `DELETE path` on the condition `If-Match: if_match`.
    pub async fn delete_if_match(&self, user: &User, path: &str, if_match: &str) -> Response {
        self.request(Method::DELETE, path, user)
            .header("if-match", if_match)
            .send()
            .await
            .unwrap()
    }

    /// Follows `next_token` through every page of `path` (which has a query string).
    pub async fn all_pages(&self, user: &User, path: &str) -> Vec<Value> {
        follow_pages(&self.client, &self.base, path, &user.token).await
    }

    /// Every task of `user`, straight from the API.
    pub async fn tasks_of(&self, user: &User) -> Vec<Value> {
        self.all_pages(user, "/tasks?limit=100").await
    }
}

/// Follows `next_token` from `base` + `path` (which has a query string) to the last page,
/// checking each page's `count`; returns every task in order.
pub async fn follow_pages(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    authorization: &str,
) -> Vec<Value> {
    let mut tasks = Vec::new();
    let mut url = format!("{base}{path}");
    loop {
        let response = client
            .get(&url)
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        let page: Value = response.json().await.unwrap();
        let items = page["tasks"].as_array().unwrap();
        assert_eq!(page["count"], items.len(), "count matches the page");
        tasks.extend(items.iter().cloned());
        match page["next_token"].as_str() {
            Some(next) => url = format!("{base}{path}&next_token={next}"),
            None => return tasks,
        }
    }
}

/// Asserts that `response` is the error `status` with this `code`, saying `what` was asked
/// when it is not; returns the error body.
pub async fn assert_error(response: Response, status: StatusCode, code: &str, what: &str) -> Value {
    let (actual, body) = error_of(response).await;
    assert_eq!(actual, status, "{what}: {body}");
    assert_eq!(body["code"], code, "{what}: {body}");
    body
}

pub async fn error_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("errors are JSON");
    (status, body)
}
