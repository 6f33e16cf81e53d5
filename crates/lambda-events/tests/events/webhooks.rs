//! The webhook path on AWS, end to end on moto: changes made through the DynamoDB store,
//! the stream read back and handed to the router, its messages taken from a real SQS
//! queue (with a dead-letter queue) and handed to the delivery function as Lambda's SQS
//! trigger would, the signing key read from Secrets Manager, and a receiver started here
//! that checks every signature independently (HMAC-SHA256 over `<id>.<timestamp>.<body>`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use taskapi_domain::{
    AttemptOutcome, Audience, EventKind, NewTask, Task, TaskStore, Timestamp, Title, Webhook,
    WebhookId, WebhookStore,
};
use taskapi_store_dynamodb::DynamoStore;
use taskapi_testkit::LocalServer;
use taskapi_testkit::emulator::Emulator;
use taskapi_webhooks::{SecretCipher, SigningSecret};

use crate::harness::{Function, StreamReader, streamed_store};

/// One request the receiver got: which hook, its headers, its body.
type Received = (String, HeaderMap, Bytes);

/// The test's receiver: answers each hook's requests with the statuses queued for it,
/// then 200.
#[derive(Default)]
struct Receiver {
    received: Mutex<Vec<Received>>,
    answers: Mutex<HashMap<String, VecDeque<u16>>>,
}

impl Receiver {
    fn of(&self, hook: &str) -> Vec<Received> {
        let received = self.received.lock().unwrap();
        received
            .iter()
            .filter(|(name, ..)| name == hook)
            .cloned()
            .collect()
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    Path(hook): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = receiver
        .answers
        .lock()
        .unwrap()
        .get_mut(&hook)
        .and_then(VecDeque::pop_front)
        .unwrap_or(200);
    receiver
        .received
        .lock()
        .unwrap()
        .push((hook, headers, body));
    StatusCode::from_u16(status).unwrap()
}

/// Whether `headers` carry a valid Standard Webhooks signature of `body` by `secret`.
fn signed_by(secret: &SigningSecret, headers: &HeaderMap, body: &[u8]) -> bool {
    let key = STANDARD
        .decode(secret.shown().trim_start_matches("whsec_"))
        .unwrap();
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", header("webhook-id"), header("webhook-timestamp")).as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header("webhook-signature")
        .split(' ')
        .any(|signature| signature == expected)
}

struct Deployment {
    store: DynamoStore,
    stream: StreamReader,
    router: Function,
    delivery: Function,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: String,
    cipher: SecretCipher,
    receiver: Arc<Receiver>,
    receiver_url: String,
    _receiver: LocalServer,
    _emulator: Emulator,
}

impl Deployment {
    /// With a queue that moves a message to its dead-letter queue after `max_receives`,
    /// and the retry schedule times `retry_scale` (each delay rounds down to whole seconds
    /// as a message's visibility).
    async fn start(max_receives: u32, retry_scale: &str) -> Self {
        let emulator = Emulator::moto();
        let store = streamed_store(&emulator).await;
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(emulator.endpoint_url())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
                .build(),
        );
        let name = uuid::Uuid::new_v4().simple().to_string();
        let dlq_url = sqs
            .create_queue()
            .queue_name(format!("dlq-{name}"))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&QueueAttributeName::QueueArn]
            .clone();
        let redrive =
            json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives.to_string() });
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("deliveries-{name}"))
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            // Short, so a message left to its visibility after the last attempt comes back
            // (and is moved) within the test.
            .attributes(QueueAttributeName::VisibilityTimeout, "1")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        // What GenerateSecretString makes: random letters and digits.
        let key_text = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let secrets = aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(emulator.endpoint_url())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
                .build(),
        );
        let key_arn = secrets
            .create_secret()
            .name(format!("webhook-key-{name}"))
            .secret_string(&key_text)
            .send()
            .await
            .unwrap()
            .arn
            .unwrap();
        let receiver = Arc::new(Receiver::default());
        let server = LocalServer::start(
            Router::new()
                .route("/hook/{hook}", post(receive))
                .with_state(Arc::clone(&receiver)),
        )
        .await;
        let endpoint = emulator.endpoint_url();
        let router = Function::start(
            &emulator,
            store.table(),
            &[
                ("TASKAPI_EVENTS_FUNCTION", "webhook-router".to_owned()),
                ("TASKAPI_WEBHOOK_QUEUE_URL", queue_url.clone()),
                ("AWS_ENDPOINT_URL_SQS", endpoint.clone()),
            ],
        )
        .await;
        let delivery = Function::start(
            &emulator,
            store.table(),
            &[
                ("TASKAPI_EVENTS_FUNCTION", "webhook-delivery".to_owned()),
                ("TASKAPI_WEBHOOK_QUEUE_URL", queue_url.clone()),
                ("TASKAPI_WEBHOOK_KEY_SECRET", key_arn),
                // The receiver is on 127.0.0.1.
                ("TASKAPI_ALLOW_PRIVATE_WEBHOOKS", "true".to_owned()),
                ("TASKAPI_WEBHOOK_RETRY_SCALE", retry_scale.to_owned()),
                ("AWS_ENDPOINT_URL_SQS", endpoint.clone()),
                ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint),
            ],
        )
        .await;
        Self {
            stream: StreamReader::new(&emulator, store.table()),
            store,
            router,
            delivery,
            sqs,
            queue_url,
            dlq_url,
            cipher: SecretCipher::from_secret_text(&key_text).unwrap(),
            receiver,
            receiver_url: server.url(),
            _receiver: server,
            _emulator: emulator,
        }
    }

    /// A personal endpoint of `sub` at the receiver's `/hook/<hook>`; its secret.
    async fn register(
        &self,
        sub: &str,
        hook: &str,
        events: Vec<EventKind>,
    ) -> (Webhook, SigningSecret) {
        let id = WebhookId::generate();
        let secret = SigningSecret::generate();
        let webhook = Webhook {
            secret: self.cipher.seal(&id, &secret),
            webhook_id: id,
            audience: Audience::User(sub.to_owned()),
            created_by: sub.to_owned(),
            url: format!("{}/hook/{hook}", self.receiver_url),
            events,
            created_at: Timestamp::now(),
            disabled: None,
            retiring: None,
        };
        self.store.create_webhook(&webhook).await.unwrap();
        (webhook, secret)
    }

    /// The router's answer to the stream records written since the last call.
    async fn route(&self) -> Value {
        self.router.invoke(self.stream.new_records().await).await
    }

    /// Hands the queue's visible messages to the delivery function as Lambda's SQS trigger
    /// does, and deletes those it settled (as the trigger does); its answer and how many
    /// messages there were.
    async fn deliver(&self) -> (Value, usize) {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        let records: Vec<Value> = received
            .iter()
            .map(|message| {
                let attributes: serde_json::Map<String, Value> = message
                    .attributes()
                    .into_iter()
                    .flatten()
                    .map(|(name, value)| (name.as_str().to_owned(), json!(value)))
                    .collect();
                json!({
                    "messageId": message.message_id(),
                    "receiptHandle": message.receipt_handle(),
                    "body": message.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": message.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:deliveries",
                    "awsRegion": "us-east-1"
                })
            })
            .collect();
        let answer = self.delivery.invoke(json!({ "Records": records })).await;
        let failed: Vec<&str> = answer["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|failure| failure["itemIdentifier"].as_str().unwrap())
            .collect();
        for message in &received {
            if !failed.contains(&message.message_id().unwrap()) {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        (answer, received.len())
    }
}

fn task(title: &str) -> Task {
    Task::create(
        NewTask {
            title: Title::parse(title).unwrap(),
            description: Default::default(),
            status: Default::default(),
            due_at: None,
            priority: Default::default(),
        },
        Timestamp::now(),
    )
}

fn no_failures(answer: &Value) {
    assert_eq!(answer, &json!({ "batchItemFailures": [] }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_signed_retried_on_the_queue_and_recorded() {
    // The first two delays (5 s, 5 min) become 0 s: due at once.
    let stack = Deployment::start(8, "0.0001").await;
    let (every, every_secret) = stack.register("alice", "every", Vec::new()).await;
    let (_deletes_only, _) = stack
        .register("alice", "deletes", vec![EventKind::TaskDeleted])
        .await;
    let (gone, _) = stack.register("alice", "gone", Vec::new()).await;
    let (_bobs, _) = stack.register("bob", "bob", Vec::new()).await;
    stack
        .receiver
        .answers
        .lock()
        .unwrap()
        .insert("every".into(), VecDeque::from([500, 503]));
    stack
        .receiver
        .answers
        .lock()
        .unwrap()
        .insert("gone".into(), VecDeque::from([410]));

    let created = task("Ship it");
    stack.store.create("alice", &created).await.unwrap();
    no_failures(&stack.route().await);

    // First attempts: "every" fails, "gone" answers 410, the others hear nothing.
    let (answer, messages) = stack.deliver().await;
    assert_eq!(messages, 2, "one message per endpoint that wants the event");
    assert_eq!(
        answer["batchItemFailures"].as_array().unwrap().len(),
        1,
        "{answer}"
    );
    let disabled = stack
        .store
        .webhook(&gone.webhook_id)
        .await
        .unwrap()
        .unwrap();
    assert!(disabled.disabled.is_some(), "410 disables the endpoint");
    assert!(stack.receiver.of("deletes").is_empty(), "filtered by kind");
    assert!(stack.receiver.of("bob").is_empty(), "not bob's task");

    // The retry is due at once (the scaled schedule): a second failure, then a delivery.
    let (answer, _) = stack.deliver().await;
    assert_eq!(
        answer["batchItemFailures"].as_array().unwrap().len(),
        1,
        "{answer}"
    );
    let (answer, messages) = stack.deliver().await;
    assert_eq!(messages, 1);
    no_failures(&answer);
    let (_, left) = stack.deliver().await;
    assert_eq!(left, 0, "a delivered message is gone from the queue");

    let attempts = stack.receiver.of("every");
    assert_eq!(attempts.len(), 3);
    let event: Value = serde_json::from_slice(&attempts[0].2).unwrap();
    assert_eq!(event["type"], "task.created");
    assert_eq!(event["data"], serde_json::to_value(&created).unwrap());
    for (_, headers, body) in &attempts {
        assert!(
            signed_by(&every_secret, headers, body),
            "every attempt is signed"
        );
        assert_eq!(
            headers["webhook-id"],
            event["id"].as_str().unwrap(),
            "the same webhook-id"
        );
        assert_eq!(body, &attempts[0].2, "the same body");
    }
    let history = stack.store.deliveries(&every.webhook_id, 10).await.unwrap();
    let outcomes: Vec<(u32, AttemptOutcome, bool)> = history
        .iter()
        .map(|attempt| {
            (
                attempt.attempt,
                attempt.outcome.clone(),
                attempt.next_attempt_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (3, AttemptOutcome::Status(200), false),
            (2, AttemptOutcome::Status(503), true),
            (1, AttemptOutcome::Status(500), true),
        ]
    );
    assert!(
        history
            .iter()
            .all(|attempt| attempt.event_id == event["id"].as_str().unwrap())
    );

    // A disabled endpoint hears nothing more; a deletion reaches the filtered one.
    stack
        .store
        .delete("alice", &created.task_id, None)
        .await
        .unwrap();
    no_failures(&stack.route().await);
    let (answer, messages) = stack.deliver().await;
    no_failures(&answer);
    assert_eq!(messages, 2, "every and deletes");
    assert_eq!(stack.receiver.of("deletes").len(), 1);
    assert_eq!(stack.receiver.of("gone").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_last_attempt_the_message_goes_to_the_dead_letter_queue() {
    // Every delay, up to 10 h, becomes 0 s.
    let stack = Deployment::start(8, "0.00001").await;
    let (down, _) = stack.register("carol", "down", Vec::new()).await;
    stack
        .receiver
        .answers
        .lock()
        .unwrap()
        .insert("down".into(), VecDeque::from([500; 8]));
    stack.store.create("carol", &task("Lost?")).await.unwrap();
    no_failures(&stack.route().await);
    for attempt in 1..=8 {
        let (answer, messages) = stack.deliver().await;
        assert_eq!(messages, 1, "attempt {attempt}");
        assert_eq!(answer["batchItemFailures"].as_array().unwrap().len(), 1);
    }
    let history = stack.store.deliveries(&down.webhook_id, 10).await.unwrap();
    assert_eq!(history.len(), 8);
    assert_eq!(
        history[0].next_attempt_at, None,
        "the last attempt schedules none"
    );
    // The queue's visibility timeout passes; the next receive moves it to the DLQ.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, messages) = stack.deliver().await;
    assert_eq!(messages, 0);
    let dead = stack
        .sqs
        .receive_message()
        .queue_url(&stack.dlq_url)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1, "kept in the dead-letter queue");
    assert_eq!(stack.receiver.of("down").len(), 8);
}
