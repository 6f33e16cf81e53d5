//! What every [`WebhookStore`](taskapi_domain::WebhookStore) must do.
//! [`webhook_tests!`](crate::webhook_tests) makes one test of each check for a store;
//! DynamoDB runs them on moto (an endpoint and its pointer are written in a transaction).

use taskapi_domain::{
    AttemptOutcome, Audience, DeliveryAttempt, EventKind, MAX_WEBHOOKS, ProjectId, RetiringSecret,
    SealedSecret, Store, StoreError, Timestamp, Webhook, WebhookId,
};

use crate::owner;
use crate::projects::project_of;

/// One test per check for the store that `$open` (an async fn returning `(guard, store)`,
/// as for [`conformance_tests!`](crate::conformance_tests)) opens.
#[macro_export]
macro_rules! webhook_tests {
    ($open:path) => {
        $crate::webhook_tests!(@each $open;
            a_webhook_is_found_by_id_and_listed_for_its_audience_only,
            an_audience_holds_a_bounded_number_of_webhooks,
            disabling_and_rotating_change_the_stored_endpoint,
            deleting_a_webhook_leaves_no_trace,
            attempts_list_newest_first_per_webhook,
            a_project_webhook_needs_its_project_and_goes_with_it,
        );
    };
    (@each $open:path; $($check:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $open().await;
                $crate::webhooks::$check(&store).await;
            }
        )*
    };
}

fn webhook(audience: Audience, by: &str, events: Vec<EventKind>) -> Webhook {
    Webhook {
        webhook_id: WebhookId::generate(),
        audience,
        created_by: by.to_owned(),
        url: "https://hooks.example.com/taskapi".to_owned(),
        events,
        created_at: Timestamp::now(),
        disabled: None,
        secret: SealedSecret::from_stored(format!("v1.sealed-{}", owner())),
        retiring: None,
    }
}

async fn personal(store: &dyn Store) -> Webhook {
    let user = owner();
    let hook = webhook(
        Audience::User(user.clone()),
        &user,
        vec![EventKind::TaskCreated],
    );
    store.create_webhook(&hook).await.expect("create webhook");
    hook
}

fn attempt(hook: &Webhook, number: u32, outcome: AttemptOutcome) -> DeliveryAttempt {
    DeliveryAttempt {
        webhook_id: hook.webhook_id.clone(),
        attempt_id: uuid::Uuid::now_v7().to_string(),
        event_id: format!("event-{number}"),
        event_type: EventKind::TaskCreated,
        attempt: number,
        at: Timestamp::now(),
        next_attempt_at: (!outcome.delivered()).then(Timestamp::now),
        outcome,
    }
}

pub async fn a_webhook_is_found_by_id_and_listed_for_its_audience_only(store: &dyn Store) {
    let hook = personal(store).await;
    assert_eq!(
        store.webhook(&hook.webhook_id).await.unwrap(),
        Some(hook.clone())
    );
    assert_eq!(
        store.webhooks_of(&hook.audience).await.unwrap(),
        vec![hook.clone()]
    );
    let stranger = Audience::User(owner());
    assert!(store.webhooks_of(&stranger).await.unwrap().is_empty());
    let (project, membership) = project_of(store, "hooked").await;
    let every_kind = webhook(
        Audience::Project(project.project_id.clone()),
        &membership.user_id,
        Vec::new(),
    );
    store.create_webhook(&every_kind).await.unwrap();
    let listed = store
        .webhooks_of(&Audience::Project(project.project_id))
        .await
        .unwrap();
    assert_eq!(listed, vec![every_kind]);
    assert_eq!(store.webhook(&WebhookId::generate()).await.unwrap(), None);
}

pub async fn an_audience_holds_a_bounded_number_of_webhooks(store: &dyn Store) {
    let user = owner();
    let audience = Audience::User(user.clone());
    let mut made = Vec::new();
    for _ in 0..MAX_WEBHOOKS {
        let hook = webhook(audience.clone(), &user, Vec::new());
        store.create_webhook(&hook).await.unwrap();
        made.push(hook.webhook_id);
    }
    let one_more = webhook(audience.clone(), &user, Vec::new());
    let refused = store.create_webhook(&one_more).await;
    assert!(
        matches!(refused, Err(StoreError::TooManyWebhooks)),
        "{refused:?}"
    );
    assert_eq!(store.webhook(&one_more.webhook_id).await.unwrap(), None);
    let listed: Vec<_> = store
        .webhooks_of(&audience)
        .await
        .unwrap()
        .into_iter()
        .map(|hook| hook.webhook_id)
        .collect();
    assert_eq!(listed, made, "oldest first, the refused one not among them");
    // Another user's cap is their own.
    personal(store).await;
}

pub async fn disabling_and_rotating_change_the_stored_endpoint(store: &dyn Store) {
    let hook = personal(store).await;
    let until = Timestamp::now();
    let retiring = RetiringSecret {
        secret: hook.secret.clone(),
        until: until.clone(),
    };
    let new_secret = SealedSecret::from_stored("v1.rotated".to_owned());
    let rotated = store
        .rotate_secret(&hook, &new_secret, &retiring)
        .await
        .unwrap();
    assert_eq!(rotated.secret, new_secret);
    assert_eq!(rotated.retiring, Some(retiring));
    assert_eq!(
        store.webhook(&hook.webhook_id).await.unwrap(),
        Some(rotated)
    );

    let at = Timestamp::now();
    store.disable_webhook(&hook, &at, "410 Gone").await.unwrap();
    let stored = store.webhook(&hook.webhook_id).await.unwrap().unwrap();
    let disabled = stored.disabled.clone().expect("disabled");
    assert_eq!((disabled.at, disabled.reason.as_str()), (at, "410 Gone"));
    assert!(!stored.wants(EventKind::TaskCreated));
}

pub async fn deleting_a_webhook_leaves_no_trace(store: &dyn Store) {
    let hook = personal(store).await;
    store.delete_webhook(&hook).await.unwrap();
    assert_eq!(store.webhook(&hook.webhook_id).await.unwrap(), None);
    assert!(store.webhooks_of(&hook.audience).await.unwrap().is_empty());
    let again = store.delete_webhook(&hook).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    let at = Timestamp::now();
    let gone = store.disable_webhook(&hook, &at, "410 Gone").await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
}

pub async fn attempts_list_newest_first_per_webhook(store: &dyn Store) {
    let (hook, other) = (personal(store).await, personal(store).await);
    let outcomes = [
        AttemptOutcome::Error("timed out".to_owned()),
        AttemptOutcome::Status(500),
        AttemptOutcome::Status(204),
    ];
    let mut recorded = Vec::new();
    for (number, outcome) in (1..).zip(outcomes) {
        let attempt = attempt(&hook, number, outcome);
        store.record_attempt(&attempt).await.unwrap();
        recorded.push(attempt);
        // Attempts are told apart by time first: let the clock move.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    store
        .record_attempt(&attempt(&other, 1, AttemptOutcome::Status(200)))
        .await
        .unwrap();
    recorded.reverse();
    assert_eq!(
        store.deliveries(&hook.webhook_id, 10).await.unwrap(),
        recorded
    );
    assert_eq!(
        store.deliveries(&hook.webhook_id, 2).await.unwrap(),
        recorded[..2].to_vec()
    );
    assert_eq!(
        store.deliveries(&other.webhook_id, 10).await.unwrap().len(),
        1
    );
}

pub async fn a_project_webhook_needs_its_project_and_goes_with_it(store: &dyn Store) {
    let user = owner();
    let nowhere = webhook(Audience::Project(ProjectId::generate()), &user, Vec::new());
    let refused = store.create_webhook(&nowhere).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");

    let (project, membership) = project_of(store, "short-lived").await;
    let audience = Audience::Project(project.project_id.clone());
    let hook = webhook(audience.clone(), &membership.user_id, Vec::new());
    store.create_webhook(&hook).await.unwrap();
    store.delete_project(&project.project_id).await.unwrap();
    assert_eq!(store.webhook(&hook.webhook_id).await.unwrap(), None);
    assert!(store.webhooks_of(&audience).await.unwrap().is_empty());
}
