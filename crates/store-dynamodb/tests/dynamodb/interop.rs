//! The seed's Python handlers and taskapi on one table, both ways. The raw requests below
//! reproduce what `create_task.py`, `list_tasks.py` and `update_task.py` send, attribute
//! for attribute: boto3's resource layer turns `str` into `S` and `int` into `N`.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use taskapi_domain::{ListQuery, Status, TaskId, TaskStore, TaskUpdate, Timestamp};
use taskapi_store_conformance::{status_update, task_created_now};

use crate::fresh_table::FreshTable;

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// `create_task.py`'s item for a body without `description` and with a number as title.
fn seed_item(sub: &str, task_id: &str, now: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("PK".to_owned(), s(&format!("USER#{sub}"))),
        ("SK".to_owned(), s(&format!("TASK#{task_id}"))),
        ("GSI1PK".to_owned(), s("STATUS#pending")),
        ("GSI1SK".to_owned(), s(now)),
        ("task_id".to_owned(), s(task_id)),
        ("title".to_owned(), AttributeValue::N("42".to_owned())),
        ("status".to_owned(), s("pending")),
        ("created_at".to_owned(), s(now)),
        ("updated_at".to_owned(), s(now)),
    ])
}

async fn raw_item(
    client: &Client,
    table: &str,
    sub: &str,
    task_id: &str,
) -> HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(table)
        .key("PK", s(&format!("USER#{sub}")))
        .key("SK", s(&format!("TASK#{task_id}")))
        .send()
        .await
        .unwrap()
        .item
        .expect("the item exists")
}

fn all() -> ListQuery {
    ListQuery {
        limit: taskapi_domain::Limit::parse("100").unwrap(),
        start_after: None,
    }
}

#[tokio::test]
async fn tasks_written_by_the_seed_are_read_and_updated_by_taskapi() {
    let table = FreshTable::on_dynalite().await;
    let (store, client, sub) = (&table.store, &table.client, &table.owner);
    let task_id = uuid::Uuid::new_v4().to_string();
    // `datetime.utcnow().isoformat()`: no offset.
    let now = "2026-03-04T05:06:07.891011";
    client
        .put_item()
        .table_name(store.table())
        .set_item(Some(seed_item(sub, &task_id, now)))
        .send()
        .await
        .unwrap();

    let id = TaskId::parse(&task_id).unwrap();
    let task = store.get(sub, &id).await.unwrap().expect("found");
    assert_eq!(task.title, "42", "a number where a string was expected");
    assert_eq!(task.description, "", "a missing description");
    assert_eq!(task.status, Status::Pending);
    assert_eq!(task.created_at.as_str(), "2026-03-04T05:06:07.891011Z");
    assert_eq!(task.etag(), "\"2026-03-04T05:06:07.891011Z\"");

    let mine = store
        .list_for_owner(sub, &taskapi_domain::TaskFilter::default(), &all())
        .await
        .unwrap();
    assert_eq!(mine.tasks, vec![task.clone()]);
    let pending = store
        .list_for_owner(
            sub,
            &taskapi_store_conformance::in_status(Status::Pending),
            &all(),
        )
        .await
        .unwrap();
    assert_eq!(pending.tasks, vec![task.clone()]);
    let admin = store.list_by_status(Status::Pending, &all()).await.unwrap();
    assert!(admin.tasks.contains(&task), "in the GSI1 admin view");

    // If-Match with the ETag taskapi showed matches the naive form the seed stored.
    let later = Timestamp::now();
    let update = TaskUpdate {
        updated_at: later.clone(),
        expected_updated_at: Some(task.updated_at.clone()),
        ..status_update(Status::Done)
    };
    let updated = store.update(sub, &id, &update).await.unwrap();
    assert_eq!(
        (updated.status, &updated.updated_at),
        (Status::Done, &later)
    );
    assert_eq!(updated.title, "42");

    let raw = raw_item(client, store.table(), sub, &task_id).await;
    assert_eq!(raw["GSI1PK"], s("STATUS#done"));
    assert_eq!(
        raw["GSI1SK"],
        s(now),
        "the index sort key stays the creation time"
    );
    assert_eq!(raw["status"], s("done"));

    store.delete(sub, &id, None).await.unwrap();
    assert_eq!(store.get(sub, &id).await.unwrap(), None);
}

#[tokio::test]
async fn tasks_written_by_taskapi_are_read_and_updated_by_the_seed() {
    let table = FreshTable::on_dynalite().await;
    let (store, client, sub) = (&table.store, &table.client, &table.owner);
    let task = task_created_now("Ship feature X", "", Status::InProgress);
    store.create(sub, &task).await.unwrap();
    let id = task.task_id.as_str();

    let raw = raw_item(client, store.table(), sub, id).await;
    let expected = HashMap::from([
        ("PK", format!("USER#{sub}")),
        ("SK", format!("TASK#{id}")),
        ("GSI1PK", "STATUS#in_progress".to_owned()),
        ("GSI1SK", task.created_at.as_str().to_owned()),
        ("task_id", id.to_owned()),
        ("title", "Ship feature X".to_owned()),
        ("description", String::new()),
        ("status", "in_progress".to_owned()),
        ("created_at", task.created_at.as_str().to_owned()),
        ("updated_at", task.updated_at.as_str().to_owned()),
    ]);
    let actual: HashMap<&str, String> = raw
        .iter()
        .map(|(name, value)| {
            let text = value
                .as_s()
                .unwrap_or_else(|_| panic!("{name} is not S: {value:?}"));
            (name.as_str(), text.clone())
        })
        .collect();
    assert_eq!(
        actual, expected,
        "exactly the seed's attributes, all strings"
    );

    // list_tasks.py with ?status=in_progress.
    let listed = client
        .query()
        .table_name(store.table())
        .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
        .filter_expression("#s = :status")
        .expression_attribute_names("#s", "status")
        .expression_attribute_values(":pk", s(&format!("USER#{sub}")))
        .expression_attribute_values(":prefix", s("TASK#"))
        .expression_attribute_values(":status", s("in_progress"))
        .send()
        .await
        .unwrap();
    let item = &listed.items()[0];
    for field in ["task_id", "title", "status", "created_at"] {
        assert!(item.contains_key(field), "list_tasks.py reads {field}");
    }

    // update_task.py with {"title": "renamed", "status": "done"}.
    let seed_now = "2026-05-06T07:08:09.101112";
    client
        .update_item()
        .table_name(store.table())
        .key("PK", s(&format!("USER#{sub}")))
        .key("SK", s(&format!("TASK#{id}")))
        .update_expression("SET updated_at = :now, title = :title, #s = :status, GSI1PK = :gsi1pk")
        .expression_attribute_values(":now", s(seed_now))
        .expression_attribute_values(":title", s("renamed"))
        .expression_attribute_values(":status", s("done"))
        .expression_attribute_values(":gsi1pk", s("STATUS#done"))
        .expression_attribute_names("#s", "status")
        .return_values(ReturnValue::AllNew)
        .condition_expression("attribute_exists(PK)")
        .send()
        .await
        .unwrap();

    let read = store.get(sub, &task.task_id).await.unwrap().unwrap();
    assert_eq!(read.title, "renamed");
    assert_eq!(read.status, Status::Done);
    assert_eq!(read.updated_at.as_str(), "2026-05-06T07:08:09.101112Z");
    let done = store.list_by_status(Status::Done, &all()).await.unwrap();
    assert_eq!(done.tasks, vec![read]);
}

/// A dated task marked done by the seed's `update_task.py` (which knows nothing of the
/// Upcoming index) is not listed as upcoming; an undated one the seed wrote is listed
/// last by due date.
#[tokio::test]
async fn the_seeds_writes_keep_the_planning_views_true() {
    let table = FreshTable::on_dynalite().await;
    let (store, client, sub) = (&table.store, &table.client, &table.owner);
    let mut dated = task_created_now("dated", "", Status::Pending);
    dated.due_at = Some(taskapi_domain::parse_instant("due_at", "2030-01-01T00:00:00Z").unwrap());
    store.create(sub, &dated).await.unwrap();
    let seed_id = uuid::Uuid::new_v4().to_string();
    client
        .put_item()
        .table_name(store.table())
        .set_item(Some(seed_item(sub, &seed_id, "2026-03-04T05:06:07.891011")))
        .send()
        .await
        .unwrap();
    let by_due = taskapi_domain::TaskFilter {
        sort: taskapi_domain::Sort::DueAt,
        ..Default::default()
    };
    let listed = store.list_for_owner(sub, &by_due, &all()).await.unwrap();
    let ids: Vec<_> = listed.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, [dated.task_id.as_str(), seed_id.as_str()]);
    assert_eq!(
        store.upcoming(sub, &all()).await.unwrap().tasks,
        [dated.clone()]
    );

    client
        .update_item()
        .table_name(store.table())
        .key("PK", s(&format!("USER#{sub}")))
        .key("SK", s(&format!("TASK#{}", dated.task_id)))
        .update_expression("SET updated_at = :now, #s = :status, GSI1PK = :gsi1pk")
        .expression_attribute_values(":now", s("2026-05-06T07:08:09.101112"))
        .expression_attribute_values(":status", s("done"))
        .expression_attribute_values(":gsi1pk", s("STATUS#done"))
        .expression_attribute_names("#s", "status")
        .send()
        .await
        .unwrap();
    assert!(store.upcoming(sub, &all()).await.unwrap().tasks.is_empty());
}
