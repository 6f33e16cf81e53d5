//! Deleting a project with thousands of tasks: one call, within a Lambda's time, and no
//! item of the project left in its partition, in the admin view or in a member's list.

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::try_join_all;
use taskapi_domain::{
    Limit, ListQuery, Membership, Project, ProjectFields, ProjectName, ProjectStore, Role, Status,
    TaskStore, Timestamp,
};
use taskapi_store_conformance::task_created_now;
use taskapi_testkit::emulator::Emulator;

const TASKS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_of_thousands_of_tasks_is_deleted_in_one_call() {
    let moto = Emulator::moto();
    let store = moto.fresh_store().await;
    let project = Project::create(ProjectName::parse("big").unwrap(), Timestamp::now());
    let owner = Membership {
        project_id: project.project_id.clone(),
        user_id: uuid::Uuid::new_v4().to_string(),
        email: None,
        role: Role::Owner,
        joined_at: Timestamp::now(),
    };
    store.create_project(&project, &owner).await.unwrap();
    for chunk in (0..TASKS).collect::<Vec<_>>().chunks(50) {
        try_join_all(chunk.iter().map(|n| {
            let mut task = task_created_now(&format!("task {n}"), "", Status::Pending);
            task.project = Some(ProjectFields {
                project_id: project.project_id.clone(),
                created_by: owner.user_id.clone(),
                assignee: None,
            });
            let store = &store;
            async move { store.create_project_task(&task).await }
        }))
        .await
        .unwrap();
    }

    let started = Instant::now();
    store.delete_project(&project.project_id).await.unwrap();
    let took = started.elapsed();
    println!("deleted a project of {TASKS} tasks in {took:?}");
    assert!(took.as_secs() < 29, "within API Gateway's 29 s: {took:?}");

    let left = moto
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(format!("PROJECT#{}", project.project_id)),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(left.count(), 0, "nothing left in the project's partition");
    let admin = store
        .list_by_status(
            Status::Pending,
            &ListQuery {
                limit: Limit::parse("100").unwrap(),
                start_after: None,
            },
        )
        .await
        .unwrap();
    assert!(
        admin.tasks.is_empty(),
        "the admin view lists none of its tasks"
    );
    let mine = store
        .list_projects(&owner.user_id, &ListQuery::default())
        .await
        .unwrap();
    assert!(
        mine.projects.is_empty() && mine.next.is_none(),
        "and no mirror is left"
    );
}
