//! The behaviour every store must have, on both emulators: they differ in what they
//! validate and in `ReturnValuesOnConditionCheckFailure`, which only moto implements.

use aws_sdk_dynamodb::types::AttributeValue;
use taskapi_domain::{Limit, ListQuery, Status, TaskStore};
use taskapi_store_conformance::task_created_now;
use taskapi_testkit::emulator::Emulator;

use crate::fresh_table::FreshTable;

async fn on_dynalite() -> (Emulator, taskapi_store_dynamodb::DynamoStore) {
    let dynalite = Emulator::dynalite();
    let store = dynalite.fresh_store().await;
    (dynalite, store)
}

async fn on_moto() -> (Emulator, taskapi_store_dynamodb::DynamoStore) {
    let moto = Emulator::moto();
    let store = moto.fresh_store().await;
    (moto, store)
}

mod conformance_on_dynalite {
    taskapi_store_conformance::conformance_tests!(super::on_dynalite);
}

mod conformance_on_moto {
    taskapi_store_conformance::conformance_tests!(super::on_moto);
}

/// The seed lists with one `Query` and drops whatever lies past DynamoDB's 1 MB page. Here
/// the page ends where DynamoDB stops and `next` resumes there, so every task is listed.
/// The seed never bounded `description`, so its items can be this large (150 KB each).
#[tokio::test]
async fn lists_continue_past_the_one_megabyte_page() {
    let table = FreshTable::on_dynalite().await;
    let (store, client, owner) = (&table.store, &table.client, &table.owner);
    let description = "x".repeat(150_000);
    let mut created = Vec::new();
    for n in 0..12 {
        let task = task_created_now(&format!("big {n}"), "", Status::Pending);
        store.create(owner, &task).await.unwrap();
        client
            .update_item()
            .table_name(store.table())
            .key("PK", AttributeValue::S(format!("USER#{owner}")))
            .key("SK", AttributeValue::S(format!("TASK#{}", task.task_id)))
            .update_expression("SET description = :d")
            .expression_attribute_values(":d", AttributeValue::S(description.clone()))
            .send()
            .await
            .unwrap();
        created.push(task.task_id);
    }

    let mut query = ListQuery {
        limit: Limit::parse("100").unwrap(),
        start_after: None,
    };
    let first = store
        .list_for_owner(owner, &taskapi_domain::TaskFilter::default(), &query)
        .await
        .unwrap();
    assert!(
        first.tasks.len() < created.len() && first.next.is_some(),
        "the first page stops at 1 MB ({} tasks) and says where to go on",
        first.tasks.len()
    );
    let mut listed: Vec<_> = first.tasks.into_iter().map(|t| t.task_id).collect();
    query.start_after = first.next;
    while query.start_after.is_some() {
        let page = store
            .list_for_owner(owner, &taskapi_domain::TaskFilter::default(), &query)
            .await
            .unwrap();
        listed.extend(page.tasks.into_iter().map(|t| t.task_id));
        query.start_after = page.next;
    }
    assert_eq!(listed, created, "every task, once, in order");
}

/// Memberships are written with their mirrors in transactions, which dynalite lacks.
mod projects_on_moto {
    taskapi_store_conformance::project_tests!(super::on_moto);
}

/// Imports need no transactions (`BatchGetItem`, `BatchWriteItem`): both emulators.
mod transfer_on_dynalite {
    taskapi_store_conformance::transfer_tests!(super::on_dynalite);
}

mod transfer_on_moto {
    taskapi_store_conformance::transfer_tests!(super::on_moto);
}

/// An endpoint and its pointer are written in a transaction, which dynalite lacks.
mod webhooks_on_moto {
    taskapi_store_conformance::webhook_tests!(super::on_moto);
}
