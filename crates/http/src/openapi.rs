use taskapi_domain::EventKind;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Header, Ref, Required, Response, Schema};
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
    modifiers(&CognitoIdToken, &CallerErrors, &LiveSocket),
    tags(
        (name = "tasks", description = "The caller's own tasks"),
        (name = "projects", description = "Task lists shared by their members: owners manage everything, editors change tasks, viewers read. A non-member gets 404 for everything of a project"),
        (name = "project tasks", description = "A project's tasks, with the rules of `/tasks`, who created each and its assignee"),
        (name = "invitations", description = "Invitations by e-mail, seen and accepted only with that address verified"),
        (name = "admin", description = "All users' tasks by status; members of the `admins` group only"),
        (name = "webhooks", description = "Endpoints that receive the caller's own events, or a project's (owners only), signed as Standard Webhooks; see docs/webhooks.md"),
        (name = "live", description = "Live updates: every change the caller may see, as it happens (`taskapi serve`; on AWS the WebSocket API at `liveUrl`)"),
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

/// `GET /live`, the WebSocket of `taskapi serve` (routed by the live crate, which this one
/// does not know): OpenAPI cannot describe the frames, so the 101 answer names the
/// schema of each text frame, `Event`.
struct LiveSocket;

impl LiveSocket {
    fn operation() -> Operation {
        let token = ParameterBuilder::new()
            .name("token")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "The ID token, for clients that cannot set headers on a WebSocket (browsers); \
                 `Authorization` wins when both are given",
            ))
            .schema(Some(String::schema()));
        let switching = Response::builder()
            .description(
                "Switching Protocols: a WebSocket whose text frames are events (`Event`) of the \
                 caller's own tasks and of the projects they belong to. Closes with 1001 (server \
                 shutting down), 4001 (token expired), 4008 (too slow: reconnect and reload), \
                 4009 (events missed: reconnect and reload) or 1009 (a client message over 16 KiB)",
            )
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("Event"))),
            );
        let refused = |description: &str| {
            CallerErrors::error(description).header("Retry-After", Header::new(u64::schema()))
        };
        OperationBuilder::new()
            .tag("live")
            .operation_id(Some("live"))
            .summary(Some("Open the live-updates WebSocket"))
            .parameter(token)
            .security(SecurityRequirement::new("cognito", Vec::<String>::new()))
            .response("101", switching.build())
            .response("401", CallerErrors::error("No valid ID token").build())
            .response(
                "426",
                CallerErrors::error("Not a WebSocket upgrade request")
                    .header("Upgrade", Header::new(String::schema()))
                    .build(),
            )
            .response(
                "429",
                refused("The caller has the most sockets one user may open, or is over their rate limit")
                    .build(),
            )
            .response(
                "503",
                refused("The server has the most sockets it serves open, or is shutting down")
                    .build(),
            )
            .build()
    }

    /// An event, as a live socket (and a webhook) receives it.
    fn event() -> Schema {
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let deleted = |id: &str| {
            ObjectBuilder::new()
                .property(id, string())
                .required(id)
                .build()
        };
        let data = OneOfBuilder::new()
            .description(Some(
                "The task, project or member as the API returns it; a deleted task or \
                 project: its id only",
            ))
            .item(Ref::from_schema_name("Task"))
            .item(Ref::from_schema_name("Project"))
            .item(Ref::from_schema_name("Membership"))
            .item(deleted("task_id"))
            .item(deleted("project_id"));
        ObjectBuilder::new()
            .description(Some("One change: what happened, when, where and to what"))
            .property(
                "id",
                string().description(Some("Unique per change, the same on every delivery")),
            )
            .property(
                "type",
                string().enum_values(Some(EventKind::ALL.map(EventKind::as_str))),
            )
            .property(
                "at",
                string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .property(
                "project_id",
                ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                        Type::String,
                        Type::Null,
                    ]))
                    .description(Some("The project of the change; null for a personal task")),
            )
            .property("data", data)
            .required("id")
            .required("type")
            .required("at")
            .required("project_id")
            .required("data")
            .build()
            .into()
    }
}

impl Modify for LiveSocket {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.paths.paths.insert(
            "/live".into(),
            PathItem::new(HttpMethod::Get, Self::operation()),
        );
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .insert("Event".into(), Self::event().into());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_socket_and_its_event_are_documented_with_schemas_that_exist() {
        let document = serde_json::to_value(openapi()).unwrap();
        let live = &document["paths"]["/live"]["get"];
        for status in ["101", "401", "426", "429", "503"] {
            assert!(live["responses"][status].is_object(), "{status}");
        }
        let schemas = &document["components"]["schemas"];
        let event = &schemas["Event"];
        assert_eq!(
            event["properties"]["type"]["enum"]
                .as_array()
                .unwrap()
                .len(),
            8
        );
        for reference in event["properties"]["data"]["oneOf"].as_array().unwrap() {
            if let Some(name) = reference["$ref"].as_str() {
                let name = name.trim_start_matches("#/components/schemas/");
                assert!(schemas[name].is_object(), "{name} is a schema");
            }
        }
    }
}
