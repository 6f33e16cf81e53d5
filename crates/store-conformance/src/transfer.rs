//! What every store does with imported records (`taskapi import`): they are read back
//! through the store's own calls as if the API had written them, importing them again
//! changes nothing, and other content under a record's key is kept unless overwritten.
//! A store that keeps a mirror item in its main item's row reports the mirror `Derived`.

use taskapi_domain::{
    ImportOutcome, ImportRecords, Membership, Project, ProjectFields, ProjectName, Record, Role,
    Status, Store, TaskPatch, TaskUpdate, Timestamp, Title,
};

use crate::{new_task, owner, query};

/// One test per check for the store that `$open` opens, as for
/// [`conformance_tests!`](crate::conformance_tests).
#[macro_export]
macro_rules! transfer_tests {
    ($open:path) => {
        $crate::transfer_tests!(@each $open;
            imported_records_read_back_as_written,
            importing_again_changes_nothing,
            other_content_is_kept_unless_overwritten,
        );
    };
    (@each $open:path; $($check:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $open().await;
                $crate::transfer::$check(&store).await;
            }
        )*
    };
}

/// A user's task, and a project with its owner (and the mirror) and a task in it.
struct DataSet {
    owner: String,
    records: Vec<Record>,
    project: Project,
    member: Membership,
}

fn data_set() -> DataSet {
    let owner = owner();
    let project = Project::create(ProjectName::parse("Moved").unwrap(), Timestamp::now());
    let member = Membership {
        project_id: project.project_id.clone(),
        user_id: owner.clone(),
        email: Some(format!("{owner}@example.com")),
        role: Role::Owner,
        joined_at: Timestamp::now(),
    };
    let mut project_task = new_task("in the project", Status::InProgress);
    project_task.project = Some(ProjectFields {
        project_id: project.project_id.clone(),
        created_by: owner.clone(),
        assignee: Some(owner.clone()),
    });
    let records = vec![
        Record::PersonalTask {
            owner: owner.clone(),
            task: new_task("mine", Status::Done),
        },
        Record::Project {
            project: project.clone(),
            members: 1,
            owners: 1,
        },
        Record::Member(member.clone()),
        Record::MemberMirror(Membership {
            email: None,
            ..member.clone()
        }),
        Record::ProjectTask(project_task),
    ];
    DataSet {
        owner,
        records,
        project,
        member,
    }
}

fn is_mirror(record: &Record) -> bool {
    matches!(
        record,
        Record::MemberMirror(_) | Record::InvitationMirror(_)
    )
}

/// Imports `records`, asserting each outcome is `expected` (or `Derived`, for a mirror).
async fn import_expecting<S: ImportRecords>(
    store: &S,
    records: &[Record],
    overwrite: bool,
    expected: ImportOutcome,
) {
    let outcomes = store
        .import(records.to_vec(), overwrite)
        .await
        .expect("import");
    assert_eq!(outcomes.len(), records.len());
    for (record, outcome) in records.iter().zip(outcomes) {
        if is_mirror(record) && outcome == ImportOutcome::Derived {
            continue;
        }
        assert_eq!(outcome, expected, "{record:?}");
    }
}

pub async fn imported_records_read_back_as_written<S: Store + ImportRecords>(store: &S) {
    let set = data_set();
    import_expecting(store, &set.records, false, ImportOutcome::Written).await;
    let Record::PersonalTask { task, .. } = &set.records[0] else {
        unreachable!("the first record is the personal task")
    };
    assert_eq!(
        store.get(&set.owner, &task.task_id).await.unwrap().as_ref(),
        Some(task)
    );
    assert_eq!(
        store.project(&set.project.project_id).await.unwrap(),
        Some(set.project.clone())
    );
    assert_eq!(
        store.members(&set.project.project_id).await.unwrap(),
        std::slice::from_ref(&set.member)
    );
    let mine = store.list_projects(&set.owner, &query("10")).await.unwrap();
    assert_eq!(mine.projects.len(), 1, "the owner's projects list it");
    assert_eq!(mine.projects[0].role, Role::Owner);
    let Record::ProjectTask(in_project) = &set.records[4] else {
        unreachable!("the last record is the project's task")
    };
    assert_eq!(
        store
            .project_task(&set.project.project_id, &in_project.task_id)
            .await
            .unwrap()
            .as_ref(),
        Some(in_project)
    );
    // Imported tasks are ordinary tasks: they change like any other.
    let update = TaskUpdate {
        patch: TaskPatch {
            title: Some(Title::parse("changed after the move").unwrap()),
            ..TaskPatch::default()
        },
        updated_at: Timestamp::now(),
        expected_updated_at: Some(task.updated_at.clone()),
    };
    store
        .update(&set.owner, &task.task_id, &update)
        .await
        .expect("an imported task updates");
}

pub async fn importing_again_changes_nothing<S: Store + ImportRecords>(store: &S) {
    let set = data_set();
    import_expecting(store, &set.records, false, ImportOutcome::Written).await;
    import_expecting(store, &set.records, false, ImportOutcome::Unchanged).await;
    import_expecting(store, &set.records, true, ImportOutcome::Unchanged).await;
}

pub async fn other_content_is_kept_unless_overwritten<S: Store + ImportRecords>(store: &S) {
    let set = data_set();
    import_expecting(store, &set.records[..1], false, ImportOutcome::Written).await;
    let Record::PersonalTask { owner, task } = &set.records[0] else {
        unreachable!("the first record is the personal task")
    };
    let mut other = task.clone();
    other.title = "someone else's version".to_owned();
    let changed = [Record::PersonalTask {
        owner: owner.clone(),
        task: other.clone(),
    }];
    import_expecting(store, &changed, false, ImportOutcome::Conflict).await;
    assert_eq!(
        store.get(owner, &task.task_id).await.unwrap().as_ref(),
        Some(task),
        "kept"
    );
    import_expecting(store, &changed, true, ImportOutcome::Overwritten).await;
    assert_eq!(
        store.get(owner, &task.task_id).await.unwrap(),
        Some(other),
        "replaced"
    );
}
