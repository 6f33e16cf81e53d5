//! A function process under its own Runtime API emulator, started with the environment
//! Lambda gives it: the `taskapi-lambda` binary, or the Python baseline on its stdlib
//! bootstrap. Killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::Value;
use taskapi_testkit::apigw::Reply;
use taskapi_testkit::emulator::repo_root;
use taskapi_testkit::runtime_api::{Outcome, RuntimeApi};

#[derive(Debug, Clone)]
pub enum Runtime {
    /// A `provided.al2023` bootstrap binary.
    Rust(PathBuf),
    /// `bench/baseline/get_task.py` (boto3) run by `bench/baseline/bootstrap.py` on the
    /// repository's `.venv` Python.
    Python,
}

impl Runtime {
    pub fn name(&self) -> &'static str {
        match self {
            Runtime::Rust(_) => "taskapi-lambda",
            Runtime::Python => "Python 3 + boto3",
        }
    }

    /// The command with nothing of this process's environment but what the runtime needs.
    fn command(&self) -> Command {
        match self {
            Runtime::Rust(binary) => {
                let mut command = Command::new(binary);
                command.env_clear();
                command
            }
            Runtime::Python => {
                let code = repo_root().join("bench/baseline");
                let mut command = Command::new(repo_root().join(".venv/bin/python"));
                command
                    .env_clear()
                    .arg(code.join("bootstrap.py"))
                    .env("LAMBDA_TASK_ROOT", code)
                    .env("_HANDLER", "get_task.handler");
                command
            }
        }
    }
}

/// A running function and the emulator it polls.
pub struct Function {
    api: RuntimeApi,
    process: Child,
}

impl Function {
    /// Starts `runtime` on a fresh emulator, reaching DynamoDB at `endpoint`, table `table`;
    /// also returns the instant of the exec.
    pub async fn start(
        runtime: &Runtime,
        endpoint: &str,
        table: &str,
    ) -> anyhow::Result<(Self, Instant)> {
        Self::start_with(runtime, endpoint, table, &[]).await
    }

    /// [`Self::start`] with more environment variables (e.g. `TASKAPI_JWT_ISSUER`).
    pub async fn start_with(
        runtime: &Runtime,
        endpoint: &str,
        table: &str,
        env: &[(&str, String)],
    ) -> anyhow::Result<(Self, Instant)> {
        if let Runtime::Rust(binary) = runtime {
            ensure!(
                binary.exists(),
                "{} not found: build it with cargo build --release -p taskapi-lambda",
                binary.display()
            );
        }
        let api = RuntimeApi::start().await;
        let mut command = runtime.command();
        command
            .envs(api.lambda_environment())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
            .env("TABLE_NAME", table)
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let exec = Instant::now();
        let process = command
            .spawn()
            .with_context(|| format!("cannot start {} ({command:?})", runtime.name()))?;
        Ok((Self { api, process }, exec))
    }

    /// When the function first asked for work: the end of its init.
    pub fn first_poll(&self) -> Option<Instant> {
        self.api.first_poll()
    }

    /// Invokes with `event`; the reply and how long the function worked on it.
    pub async fn invoke(&self, event: &Value) -> anyhow::Result<(Reply, Duration)> {
        let id = uuid::Uuid::new_v4().to_string();
        let invoked = self.api.invoke_timed(&id, event.clone()).await;
        match invoked.outcome {
            Outcome::Response(response) => {
                Ok((Reply::from_proxy_response(&response), invoked.duration))
            }
            Outcome::Error(error) => bail!("the function failed the invocation: {error}"),
        }
    }

    /// [`Self::invoke`], expecting `status`; returns the duration.
    pub async fn call(&self, event: &Value, status: u16) -> anyhow::Result<Duration> {
        let (reply, duration) = self.invoke(event).await?;
        ensure!(
            reply.status == status,
            "expected {status}, got {} {}",
            reply.status,
            reply.body
        );
        Ok(duration)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
