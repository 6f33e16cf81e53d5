//! Write-sharded status keys (`STATUS#<status>#<n>`) on both emulators: the admin view
//! merges the shards (and the seed's unsharded key) in creation order with pages exactly
//! `limit` long, the conformance suite holds with 8 shards, and `reshard` moves every
//! task's key in place, resumably, and back again.

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::ops::ControlFlow;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use taskapi_domain::keys::StatusShards;
use taskapi_domain::{
    Description, Limit, ListQuery, NewTask, Status, Task, TaskId, TaskStore, Timestamp, Title,
};
use taskapi_store_dynamodb::{DynamoStore, ReshardProgress, TableKey};
use taskapi_testkit::emulator::Emulator;

fn shards(count: u16) -> StatusShards {
    StatusShards::new(count).unwrap()
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// An item as the seed's `create_task.py` writes it: unsharded key, naive timestamp.
async fn put_seed_item(client: &Client, table: &str, status: &str) -> String {
    let sub = uuid::Uuid::new_v4().to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let now = Timestamp::now();
    let naive = now.as_str().trim_end_matches('Z');
    let item = HashMap::from([
        ("PK".to_owned(), s(&format!("USER#{sub}"))),
        ("SK".to_owned(), s(&format!("TASK#{id}"))),
        ("GSI1PK".to_owned(), s(&format!("STATUS#{status}"))),
        ("GSI1SK".to_owned(), s(naive)),
        ("task_id".to_owned(), s(&id)),
        ("title".to_owned(), s("from the seed")),
        ("status".to_owned(), s(status)),
        ("created_at".to_owned(), s(naive)),
        ("updated_at".to_owned(), s(naive)),
    ]);
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    id
}

async fn create(store: &DynamoStore, status: Status) -> String {
    let task = Task::create(
        NewTask {
            title: Title::parse("ours").unwrap(),
            description: Description::default(),
            status,
            due_at: None,
            priority: taskapi_domain::Priority::None,
        },
        Timestamp::now(),
    );
    let owner = uuid::Uuid::new_v4().to_string();
    store.create(&owner, &task).await.unwrap();
    task.task_id.as_str().to_owned()
}

/// Every page of the admin view of `status`: its task ids, page by page.
async fn admin_pages(store: &DynamoStore, status: Status, limit: &str) -> Vec<Vec<String>> {
    let mut query = ListQuery {
        limit: Limit::parse(limit).unwrap(),
        start_after: None,
    };
    let mut pages = Vec::new();
    loop {
        let page = store.list_by_status(status, &query).await.unwrap();
        pages.push(
            page.tasks
                .iter()
                .map(|task| task.task_id.as_str().to_owned())
                .collect(),
        );
        if let Some(next) = &page.next {
            assert_eq!(
                next.gsi1pk.as_deref(),
                Some(format!("STATUS#{status}").as_str()),
                "the position names the status, whatever the shard count"
            );
        }
        match page.next {
            Some(next) => query.start_after = Some(next),
            None => return pages,
        }
        assert!(pages.len() < 100, "paging did not end");
    }
}

/// Every item's `GSI1PK`, by task id.
async fn stored_status_keys(client: &Client, table: &str) -> HashMap<String, String> {
    let output = client.scan().table_name(table).send().await.unwrap();
    output
        .items()
        .iter()
        .map(|item| {
            let text = |name: &str| item[name].as_s().unwrap().clone();
            (text("task_id"), text("GSI1PK"))
        })
        .collect()
}

async fn admin_view_merges_in_creation_order(emulator: &Emulator, count: u16) {
    let store = emulator
        .fresh_store()
        .await
        .with_status_shards(shards(count));
    let client = emulator.client();
    let mut pending = Vec::new();
    for n in 0..22 {
        let id = if n % 7 == 3 {
            put_seed_item(&client, store.table(), "pending").await
        } else {
            create(&store, Status::Pending).await
        };
        pending.push(id);
        if n % 5 == 0 {
            create(&store, Status::Done).await;
        }
    }

    let pages = admin_pages(&store, Status::Pending, "5").await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        [5, 5, 5, 5, 2],
        "N = {count}: exactly `limit` while tasks remain"
    );
    assert_eq!(
        pages.concat(),
        pending,
        "N = {count}: every pending task once, oldest first, the seed's included"
    );
    let sizes: Vec<usize> = admin_pages(&store, Status::Pending, "11")
        .await
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(
        sizes,
        [11, 11],
        "N = {count}: a page that ends the list says so"
    );
    assert_eq!(
        admin_pages(&store, Status::Done, "2").await.concat().len(),
        5
    );
    assert_eq!(
        admin_pages(&store, Status::InProgress, "3").await,
        [Vec::<String>::new()]
    );

    let keys = stored_status_keys(&client, store.table()).await;
    let ours = &pending[0];
    let expected = shards(count).gsi1pk(Status::Pending, &TaskId::parse(ours).unwrap());
    assert_eq!(keys[ours], expected);
    if count == 1 {
        assert_eq!(keys[ours], "STATUS#pending", "N = 1 is the seed's key");
    } else {
        let used: std::collections::HashSet<&String> = keys.values().collect();
        assert!(used.len() > 4, "tasks spread over the shards: {used:?}");
    }
}

#[tokio::test]
async fn admin_view_on_dynalite_with_one_and_eight_shards() {
    let dynalite = Emulator::dynalite();
    admin_view_merges_in_creation_order(&dynalite, 1).await;
    admin_view_merges_in_creation_order(&dynalite, 8).await;
}

#[tokio::test]
async fn admin_view_on_moto_with_one_and_eight_shards() {
    let moto = Emulator::moto();
    admin_view_merges_in_creation_order(&moto, 1).await;
    admin_view_merges_in_creation_order(&moto, 8).await;
}

async fn eight_shards_on_dynalite() -> (Emulator, DynamoStore) {
    let dynalite = Emulator::dynalite();
    let store = dynalite.fresh_store().await.with_status_shards(shards(8));
    (dynalite, store)
}

async fn eight_shards_on_moto() -> (Emulator, DynamoStore) {
    let moto = Emulator::moto();
    let store = moto.fresh_store().await.with_status_shards(shards(8));
    (moto, store)
}

mod conformance_with_eight_shards_on_dynalite {
    taskapi_store_conformance::conformance_tests!(super::eight_shards_on_dynalite);
}

mod conformance_with_eight_shards_on_moto {
    taskapi_store_conformance::conformance_tests!(super::eight_shards_on_moto);
}

const PAGE_OF_FOUR: NonZeroU16 = NonZeroU16::new(4).unwrap();

async fn reshard_moves_every_key_and_back(emulator: &Emulator) {
    let seed_layout = emulator.fresh_store().await;
    let client = emulator.client();
    let table = seed_layout.table().to_owned();
    let mut ids = Vec::new();
    for n in 0..9 {
        let status = [Status::Pending, Status::Done, Status::InProgress][n % 3];
        ids.push(create(&seed_layout, status).await);
    }
    ids.push(put_seed_item(&client, &table, "pending").await);
    ids.push(put_seed_item(&client, &table, "done").await);
    let unknown = put_seed_item(&client, &table, "blocked").await;
    let before = admin_pages(&seed_layout, Status::Pending, "100").await;

    let eight = DynamoStore::new(client.clone(), table.clone()).with_status_shards(shards(8));
    assert_eq!(
        admin_pages(&eight, Status::Pending, "100").await,
        before,
        "before the reshard, a sharded reader still lists the unsharded keys"
    );

    // Stopped after the first page of four, then resumed from where it said.
    let mut resume_at: Option<TableKey> = None;
    let first = eight
        .reshard(None, PAGE_OF_FOUR, |_, next| {
            resume_at = next.cloned();
            ControlFlow::Break(())
        })
        .await
        .unwrap();
    assert_eq!(first.scanned, 4);
    assert!(resume_at.is_some(), "more to do after one page");
    let rest = eight
        .reshard(resume_at, PAGE_OF_FOUR, |_, _| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert_eq!(first.scanned + rest.scanned, 12, "every item read once");
    assert_eq!(first.moved + rest.moved, 11, "every task moved");
    assert_eq!(
        first.skipped + rest.skipped,
        1,
        "the unknown status left alone"
    );

    let keys = stored_status_keys(&client, &table).await;
    for id in &ids {
        let status = keys[id].split('#').nth(1).unwrap().parse().unwrap();
        assert_eq!(
            keys[id],
            shards(8).gsi1pk(status, &TaskId::parse(id).unwrap())
        );
    }
    assert_eq!(
        keys[&unknown], "STATUS#blocked",
        "an item of no known status is untouched"
    );
    assert_eq!(
        admin_pages(&eight, Status::Pending, "2").await.concat(),
        before.concat(),
        "the same tasks, in the same order, from the shards"
    );

    let again = eight
        .reshard(None, PAGE_OF_FOUR, |_, _| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert_eq!(
        again,
        ReshardProgress {
            scanned: 12,
            moved: 0,
            in_place: 11,
            skipped: 1
        },
        "a rerun has nothing to do"
    );

    let back = seed_layout
        .reshard(None, PAGE_OF_FOUR, |_, _| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert_eq!(back.moved, 11);
    for (id, key) in stored_status_keys(&client, &table).await {
        assert_eq!(
            key.matches('#').count(),
            1,
            "{id}: back to the seed's STATUS#<status>"
        );
    }
}

#[tokio::test]
async fn reshard_on_dynalite() {
    reshard_moves_every_key_and_back(&Emulator::dynalite()).await;
}

#[tokio::test]
async fn reshard_on_moto() {
    reshard_moves_every_key_and_back(&Emulator::moto()).await;
}

mod projects_with_eight_shards_on_moto {
    taskapi_store_conformance::project_tests!(super::eight_shards_on_moto);
}
