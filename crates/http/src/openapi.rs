use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, Header, Ref, Response};
use utoipa::{Modify, OpenApi, PartialSchema};

use crate::routes::{admin, invitations, project_tasks, projects, tasks, upcoming, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "taskapi",
        description = "Task management REST API. Locally under `taskapi serve`; on AWS behind API Gateway under the stage path (e.g. `/prod`)."
    ),
    paths(
        tasks::create_task,
        tasks::list_tasks,
        tasks::get_task,
        tasks::update_task,
        tasks::delete_task,
        upcoming::list_upcoming,
        projects::create_project,
        projects::list_projects,
        projects::get_project,
        projects::rename_project,
        projects::delete_project,
        projects::list_members,
        projects::change_role,
        projects::remove_member,
        invitations::invite,
        invitations::list_project_invitations,
        invitations::my_invitations,
        invitations::accept,
        invitations::decline_or_revoke,
        project_tasks::create_project_task,
        project_tasks::list_project_tasks,
        project_tasks::get_project_task,
        project_tasks::update_project_task,
        project_tasks::delete_project_task,
        admin::list_by_status,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::get_webhook,
        webhooks::delete_webhook,
        webhooks::list_deliveries,
        webhooks::rotate_secret,
    ),
    modifiers(&CognitoIdToken, &CallerErrors),
    tags(
        (name = "tasks", description = "The caller's own tasks"),
        (name = "projects", description = "Task lists shared by their members: owners manage everything, editors change tasks, viewers read. A non-member gets 404 for everything of a project"),
        (name = "project tasks", description = "A project's tasks, with the rules of `/tasks`, who created each and its assignee"),
        (name = "invitations", description = "Invitations by e-mail, seen and accepted only with that address verified"),
        (name = "admin", description = "All users' tasks by status; members of the `admins` group only"),
        (name = "webhooks", description = "Endpoints that receive the caller's own events, or a project's (owners only), signed as Standard Webhooks; see docs/webhooks.md"),
    )
)]
struct ApiDoc;

/// API Gateway's Cognito authorizer reads the ID token from `Authorization`, bare or
/// after `Bearer `; OpenAPI can only say "an API key in this header".
struct CognitoIdToken;

impl Modify for CognitoIdToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "cognito",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "A Cognito ID token, bare or as `Bearer <token>`",
            ))),
        );
    }
}

/// The answers every route behind the authorizer can give besides its own, stated once
/// here instead of in each handler's `responses(...)`: no valid token, the caller's rate
/// limit, and storage that is briefly unavailable.
struct CallerErrors;

impl CallerErrors {
    fn add_to(operation: &mut Operation) {
        let retry_after = || Header::new(u64::schema());
        let answers = [
            ("401", Self::error("No valid ID token")),
            (
                "429",
                Self::error("Too many requests from this caller; retry after Retry-After seconds")
                    .header("Retry-After", retry_after()),
            ),
            (
                "503",
                Self::error("Storage temporarily unavailable; retry after Retry-After seconds")
                    .header("Retry-After", retry_after()),
            ),
        ];
        for (status, answer) in answers {
            (operation.responses.responses).insert(status.to_owned(), answer.build().into());
        }
    }

    fn error(description: &str) -> utoipa::openapi::ResponseBuilder {
        Response::builder().description(description).content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
    }
}

impl Modify for CallerErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let items = openapi.paths.paths.values_mut();
        let operations = items.flat_map(|item| {
            let methods = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ];
            let more = [
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            methods.into_iter().chain(more).flatten()
        });
        for operation in operations.filter(|operation| operation.security.is_some()) {
            Self::add_to(operation);
        }
    }
}

/// The OpenAPI 3.1 document of the REST API, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
