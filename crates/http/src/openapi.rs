use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, tasks};

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
        admin::list_by_status,
    ),
    modifiers(&CognitoIdToken),
    tags(
        (name = "tasks", description = "The caller's own tasks"),
        (name = "admin", description = "All users' tasks by status; members of the `admins` group only"),
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

/// The OpenAPI 3.1 document of the REST API, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
