//! What every [`ProjectStore`] must do. [`project_tests!`](crate::project_tests) makes one
//! test of each check for a store; DynamoDB runs them on moto (dynalite has no
//! transactions, which every membership change needs).

use std::collections::HashSet;

use taskapi_domain::{
    Email, Invitation, ListQuery, MAX_MEMBERS, Membership, Project, ProjectFields, ProjectId,
    ProjectName, Role, Status, Store, StoreError, Task, TaskFilter, TaskId, TaskPatch, TaskUpdate,
    Timestamp,
};

use crate::{all_pages, new_task, owner, query};

/// One test per check for the store that `$open` (an async fn returning `(guard, store)`,
/// as for [`conformance_tests!`](crate::conformance_tests)) opens.
#[macro_export]
macro_rules! project_tests {
    ($open:path) => {
        $crate::project_tests!(@each $open;
            creating_a_project_makes_its_creator_the_owner,
            my_projects_are_mine_in_creation_order_across_pages,
            renames,
            invitations_are_seen_by_the_project_and_the_invitee,
            accepting_makes_a_member_once,
            withdrawn_invitations_are_gone,
            the_last_owner_stays,
            a_stale_membership_is_a_conflict,
            removal_ends_membership,
            a_full_project_takes_no_more_members,
            deleting_a_project_leaves_nothing,
        );
        $crate::project_tests!(@tasks $open;
            project_tasks_live_in_their_project,
            project_tasks_filter_by_status_and_assignee,
            keyed_project_task_creates_are_retry_safe,
        );
        $crate::project_tests!(@planning $open;
            upcoming_follows_the_assignee,
            project_lists_sort_by_due_date,
        );
    };
    (@each $open:path; $($check:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $open().await;
                $crate::projects::$check(&store).await;
            }
        )*
    };
    (@tasks $open:path; $($check:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $open().await;
                $crate::project_tasks::$check(&store).await;
            }
        )*
    };
    (@planning $open:path; $($check:ident,)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_guard, store) = $open().await;
                $crate::planning::$check(&store).await;
            }
        )*
    };
}

fn membership(project: &Project, user: &str, role: Role) -> Membership {
    Membership {
        project_id: project.project_id.clone(),
        user_id: user.to_owned(),
        email: Some(format!("{user}@example.com")),
        role,
        joined_at: Timestamp::now(),
    }
}

/// A new project of a new owner: the project and the owner's membership.
pub(crate) async fn project_of(store: &dyn Store, name: &str) -> (Project, Membership) {
    let project = Project::create(ProjectName::parse(name).unwrap(), Timestamp::now());
    let owner = membership(&project, &owner(), Role::Owner);
    store
        .create_project(&project, &owner)
        .await
        .expect("create project");
    (project, owner)
}

fn email_of(user: &str) -> Email {
    Email::parse(&format!("{user}@example.com")).unwrap()
}

async fn invite(store: &dyn Store, project: &Project, user: &str, role: Role) -> Invitation {
    let invitation = Invitation::create(
        project,
        email_of(user),
        role,
        time::OffsetDateTime::now_utc(),
    );
    store.invite(&invitation).await.expect("invite");
    invitation
}

/// Invites a new user with `role` and accepts for them: their membership.
pub(crate) async fn join(store: &dyn Store, project: &Project, role: Role) -> Membership {
    let user = owner();
    let invitation = invite(store, project, &user, role).await;
    let member = membership(project, &user, role);
    store.accept(&invitation, &member).await.expect("accept");
    member
}

pub(crate) fn project_task(project: &Project, by: &str, title: &str, status: Status) -> Task {
    let mut task = new_task(title, status);
    task.project = Some(ProjectFields {
        project_id: project.project_id.clone(),
        created_by: by.to_owned(),
        assignee: None,
    });
    task
}

pub(crate) fn assign(assignee: Option<&str>) -> TaskUpdate {
    TaskUpdate {
        patch: TaskPatch {
            assignee: Some(assignee.map(str::to_owned)),
            ..TaskPatch::default()
        },
        updated_at: Timestamp::now(),
        expected_updated_at: None,
    }
}

async fn my_project_ids(store: &dyn Store, user: &str) -> Vec<ProjectId> {
    let page = store
        .list_projects(user, &query("100"))
        .await
        .expect("list projects");
    page.projects
        .into_iter()
        .map(|view| view.project.project_id)
        .collect()
}

#[doc(hidden)]
pub async fn creating_a_project_makes_its_creator_the_owner(store: &dyn Store) {
    let (project, owner) = project_of(store, "Launch").await;
    let id = &project.project_id;
    assert_eq!(store.project(id).await.unwrap().as_ref(), Some(&project));
    assert_eq!(
        store.membership(id, &owner.user_id).await.unwrap().as_ref(),
        Some(&owner)
    );
    assert_eq!(store.members(id).await.unwrap(), vec![owner.clone()]);
    assert_eq!(
        store.project_for(id, &owner.user_id).await.unwrap(),
        Some((project.clone(), owner.clone()))
    );
    assert_eq!(store.project_for(id, "someone-else").await.unwrap(), None);
    assert_eq!(
        store
            .project_for(&ProjectId::generate(), &owner.user_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.membership(id, "someone-else").await.unwrap(), None);
    assert_eq!(store.project(&ProjectId::generate()).await.unwrap(), None);
    let page = store
        .list_projects(&owner.user_id, &query("10"))
        .await
        .unwrap();
    assert_eq!(page.projects.len(), 1);
    assert_eq!(page.projects[0].project, project);
    assert_eq!(page.projects[0].role, Role::Owner);
    assert_eq!(page.next, None);
}

#[doc(hidden)]
pub async fn my_projects_are_mine_in_creation_order_across_pages(store: &dyn Store) {
    let (first, owner) = project_of(store, "first").await;
    let mut created = vec![first.project_id.clone()];
    for n in 0..4 {
        let project = Project::create(
            ProjectName::parse(&format!("p{n}")).unwrap(),
            Timestamp::now(),
        );
        store
            .create_project(&project, &membership(&project, &owner.user_id, Role::Owner))
            .await
            .unwrap();
        created.push(project.project_id);
    }
    // Someone else's project, where the owner is a viewer, is theirs too.
    let (other, _) = project_of(store, "other").await;
    let viewer = membership(&other, &owner.user_id, Role::Viewer);
    let invitation = invite(store, &other, &owner.user_id, Role::Viewer).await;
    store.accept(&invitation, &viewer).await.unwrap();
    created.push(other.project_id.clone());

    let mut listed = Vec::new();
    let mut query = ListQuery {
        limit: taskapi_domain::Limit::parse("2").unwrap(),
        start_after: None,
    };
    loop {
        let page = store.list_projects(&owner.user_id, &query).await.unwrap();
        assert!(page.projects.len() <= 2);
        listed.extend(page.projects);
        match page.next {
            Some(next) => query.start_after = Some(next),
            None => break,
        }
    }
    let listed_ids: Vec<_> = listed
        .iter()
        .map(|v| v.project.project_id.clone())
        .collect();
    assert_eq!(listed_ids, created, "every project once, oldest first");
    assert_eq!(
        listed.last().unwrap().role,
        Role::Viewer,
        "with the caller's role"
    );
    assert!(
        my_project_ids(store, &crate::owner()).await.is_empty(),
        "a stranger has none"
    );
}

#[doc(hidden)]
pub async fn renames(store: &dyn Store) {
    let (project, owner) = project_of(store, "old").await;
    let later = Timestamp::now();
    let renamed = store
        .rename_project(
            &project.project_id,
            &ProjectName::parse("new").unwrap(),
            &later,
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "new");
    assert_eq!(renamed.updated_at, later);
    assert_eq!(renamed.created_at, project.created_at);
    assert_eq!(
        store.project(&project.project_id).await.unwrap(),
        Some(renamed.clone())
    );
    let page = store
        .list_projects(&owner.user_id, &query("10"))
        .await
        .unwrap();
    assert_eq!(
        page.projects[0].project, renamed,
        "my projects show the new name"
    );
    let missing = store
        .rename_project(
            &ProjectId::generate(),
            &ProjectName::parse("x").unwrap(),
            &later,
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

#[doc(hidden)]
pub async fn invitations_are_seen_by_the_project_and_the_invitee(store: &dyn Store) {
    let (project, _) = project_of(store, "shared").await;
    let ann = owner();
    let invitation = invite(store, &project, &ann, Role::Editor).await;
    let id = &invitation.invitation_id;
    assert_eq!(
        store.invitation(id).await.unwrap().as_ref(),
        Some(&invitation)
    );
    assert_eq!(
        store
            .project_invitations(&project.project_id)
            .await
            .unwrap(),
        vec![invitation.clone()]
    );
    assert_eq!(
        store.invitations_for(&email_of(&ann)).await.unwrap(),
        vec![invitation]
    );
    assert!(
        store
            .invitations_for(&email_of(&owner()))
            .await
            .unwrap()
            .is_empty()
    );
    let (elsewhere, _) = project_of(store, "elsewhere").await;
    assert!(
        store
            .project_invitations(&elsewhere.project_id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[doc(hidden)]
pub async fn accepting_makes_a_member_once(store: &dyn Store) {
    let (project, _) = project_of(store, "team").await;
    let ann = owner();
    let invitation = invite(store, &project, &ann, Role::Editor).await;
    let member = membership(&project, &ann, Role::Editor);
    store.accept(&invitation, &member).await.unwrap();
    assert_eq!(
        store
            .membership(&project.project_id, &ann)
            .await
            .unwrap()
            .as_ref(),
        Some(&member)
    );
    assert_eq!(
        my_project_ids(store, &ann).await,
        vec![project.project_id.clone()]
    );
    assert_eq!(
        store.invitation(&invitation.invitation_id).await.unwrap(),
        None
    );
    assert!(
        store
            .invitations_for(&email_of(&ann))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .project_invitations(&project.project_id)
            .await
            .unwrap()
            .is_empty()
    );
    let twice = store.accept(&invitation, &member).await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "{twice:?}");

    let again = invite(store, &project, &ann, Role::Viewer).await;
    let already = store
        .accept(&again, &membership(&project, &ann, Role::Viewer))
        .await;
    assert!(
        matches!(already, Err(StoreError::AlreadyMember)),
        "{already:?}"
    );
    assert_eq!(
        store
            .membership(&project.project_id, &ann)
            .await
            .unwrap()
            .map(|m| m.role),
        Some(Role::Editor),
        "a refused accept changes nothing"
    );
}

#[doc(hidden)]
pub async fn withdrawn_invitations_are_gone(store: &dyn Store) {
    let (project, _) = project_of(store, "team").await;
    let ann = owner();
    let invitation = invite(store, &project, &ann, Role::Viewer).await;
    store.withdraw_invitation(&invitation).await.unwrap();
    assert_eq!(
        store.invitation(&invitation.invitation_id).await.unwrap(),
        None
    );
    assert!(
        store
            .invitations_for(&email_of(&ann))
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.withdraw_invitation(&invitation).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    let late = store
        .accept(&invitation, &membership(&project, &ann, Role::Viewer))
        .await;
    assert!(matches!(late, Err(StoreError::NotFound)), "{late:?}");
    assert_eq!(
        store.membership(&project.project_id, &ann).await.unwrap(),
        None
    );
}

#[doc(hidden)]
pub async fn the_last_owner_stays(store: &dyn Store) {
    let (project, owner) = project_of(store, "mine").await;
    for refused in [
        store.change_role(&owner, Role::Editor).await.map(drop),
        store.remove_member(&owner).await,
    ] {
        assert!(matches!(refused, Err(StoreError::LastOwner)), "{refused:?}");
    }
    let kept = store.change_role(&owner, Role::Owner).await.unwrap();
    assert_eq!(kept.role, Role::Owner, "an owner may stay owner");
    let editor = join(store, &project, Role::Editor).await;
    let second = store.change_role(&editor, Role::Owner).await.unwrap();
    assert_eq!(second.role, Role::Owner);
    let demoted = store.change_role(&owner, Role::Viewer).await.unwrap();
    assert_eq!(
        demoted.role,
        Role::Viewer,
        "with another owner, the first may step down"
    );
    let last = store.remove_member(&second).await;
    assert!(matches!(last, Err(StoreError::LastOwner)), "{last:?}");
    let mut roles: Vec<_> = store
        .members(&project.project_id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect();
    roles.sort_by_key(|(user, _)| user.clone());
    let mut expected = vec![(owner.user_id, Role::Viewer), (second.user_id, Role::Owner)];
    expected.sort_by_key(|(user, _)| user.clone());
    assert_eq!(roles, expected);
}

#[doc(hidden)]
pub async fn a_stale_membership_is_a_conflict(store: &dyn Store) {
    let (project, _) = project_of(store, "race").await;
    let viewer = join(store, &project, Role::Viewer).await;
    store.change_role(&viewer, Role::Editor).await.unwrap();
    let stale = store.change_role(&viewer, Role::Owner).await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
    let stale_removal = store.remove_member(&viewer).await;
    assert!(
        matches!(stale_removal, Err(StoreError::Conflict)),
        "{stale_removal:?}"
    );
    assert_eq!(
        store
            .membership(&project.project_id, &viewer.user_id)
            .await
            .unwrap()
            .map(|m| m.role),
        Some(Role::Editor)
    );
}

#[doc(hidden)]
pub async fn removal_ends_membership(store: &dyn Store) {
    let (project, _) = project_of(store, "team").await;
    let editor = join(store, &project, Role::Editor).await;
    store.remove_member(&editor).await.unwrap();
    assert_eq!(
        store
            .membership(&project.project_id, &editor.user_id)
            .await
            .unwrap(),
        None
    );
    assert!(my_project_ids(store, &editor.user_id).await.is_empty());
    assert_eq!(store.members(&project.project_id).await.unwrap().len(), 1);
    let access = store
        .project_for(&project.project_id, &editor.user_id)
        .await;
    assert_eq!(access.unwrap(), None, "nor the project through it");
    let again = store.remove_member(&editor).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

#[doc(hidden)]
pub async fn a_full_project_takes_no_more_members(store: &dyn Store) {
    let (project, _) = project_of(store, "crowded").await;
    for _ in 1..MAX_MEMBERS {
        join(store, &project, Role::Viewer).await;
    }
    let late = crate::owner();
    let invitation = invite(store, &project, &late, Role::Viewer).await;
    let refused = store
        .accept(&invitation, &membership(&project, &late, Role::Viewer))
        .await;
    assert!(
        matches!(refused, Err(StoreError::ProjectFull)),
        "{refused:?}"
    );
    assert_eq!(
        store.members(&project.project_id).await.unwrap().len(),
        MAX_MEMBERS
    );
    assert_eq!(
        store.membership(&project.project_id, &late).await.unwrap(),
        None
    );
    assert!(
        store
            .invitation(&invitation.invitation_id)
            .await
            .unwrap()
            .is_some(),
        "the refused invitation stays open"
    );
}

#[doc(hidden)]
pub async fn deleting_a_project_leaves_nothing(store: &dyn Store) {
    let (project, owner) = project_of(store, "doomed").await;
    let pid = &project.project_id;
    let editor = join(store, &project, Role::Editor).await;
    let invitee = crate::owner();
    invite(store, &project, &invitee, Role::Viewer).await;
    let mut tasks = Vec::new();
    for n in 0..60 {
        let task = project_task(&project, &editor.user_id, &format!("t{n}"), Status::Pending);
        store.create_project_task(&task).await.unwrap();
        tasks.push(task.task_id);
    }
    store.delete_project(pid).await.unwrap();
    assert_eq!(store.project(pid).await.unwrap(), None);
    for user in [&owner.user_id, &editor.user_id] {
        assert_eq!(store.membership(pid, user).await.unwrap(), None);
        assert!(my_project_ids(store, user).await.is_empty());
    }
    assert!(store.members(pid).await.unwrap().is_empty());
    assert!(store.project_invitations(pid).await.unwrap().is_empty());
    assert!(
        store
            .invitations_for(&email_of(&invitee))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_project_tasks(pid, &TaskFilter::default(), &query("100"))
            .await
            .unwrap()
            .tasks
            .is_empty()
    );
    let admin = all_pages("100", async |q| {
        store.list_by_status(Status::Pending, &q).await
    })
    .await;
    let gone: HashSet<&TaskId> = tasks.iter().collect();
    assert!(
        !admin.iter().any(|task| gone.contains(&task.task_id)),
        "no task of it is listed"
    );
    let again = store.delete_project(pid).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}
