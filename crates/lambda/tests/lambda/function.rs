//! One deployed function, locally: dynalite (or moto) with a fresh table, the Runtime API emulator,
//! and the `taskapi-lambda` process wired to both through the same environment variables
//! Lambda sets. `TASKAPI_LAMBDA_BIN` runs another build of the binary instead (e.g. the
//! `bootstrap` cargo-lambda packaged).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use taskapi_store_dynamodb::DynamoStore;
use taskapi_testkit::apigw::Reply;
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::runtime_api::{Outcome, RuntimeApi};

pub struct Function {
    process: Child,
    pub runtime: RuntimeApi,
    pub store: DynamoStore,
    pub emulator: Emulator,
    logs: Arc<Mutex<Vec<String>>>,
    pub spawned_at: Instant,
}

impl Function {
    pub async fn start() -> Self {
        Self::start_on(Emulator::dynalite()).await
    }

    /// On moto, for what dynalite lacks (transactions).
    pub async fn start_on(emulator: Emulator) -> Self {
        Self::start_with(emulator, &[]).await
    }

    /// With more environment variables, as a deployment might set.
    pub async fn start_with(emulator: Emulator, env: &[(&str, String)]) -> Self {
        let store = emulator.fresh_store().await;
        let runtime = RuntimeApi::start().await;
        let binary = std::env::var("TASKAPI_LAMBDA_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_taskapi-lambda").to_owned());
        let spawned_at = Instant::now();
        let mut process = Command::new(&binary)
            .env_clear()
            .envs(runtime.lambda_environment())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_ENDPOINT_URL_DYNAMODB", emulator.endpoint_url())
            .env("TABLE_NAME", store.table())
            .env("RUST_LOG", "info,tower_http=debug")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("start {binary}: {err}"));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stdout = process.stdout.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            process,
            runtime,
            store,
            emulator,
            logs,
            spawned_at,
        }
    }

    /// Invokes the function with an API Gateway event and reads the proxy response.
    pub async fn call(&self, event: Value) -> Reply {
        let id = uuid::Uuid::new_v4().to_string();
        match self.runtime.invoke(&id, event).await {
            Outcome::Response(response) => Reply::from_proxy_response(&response),
            Outcome::Error(error) => panic!("the function failed the invocation: {error}"),
        }
    }

    /// The JSON log lines so far.
    pub fn logs(&self) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"))
            })
            .collect()
    }

    /// Time from spawning the process to its first `invocation/next`: the init phase.
    pub fn init_duration(&self) -> Duration {
        self.runtime
            .first_poll()
            .expect("the function has polled")
            .duration_since(self.spawned_at)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
