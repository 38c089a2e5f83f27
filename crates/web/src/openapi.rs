//! The OpenAPI document's frame. The paths and schemas are added by the router as each route is
//! registered (see `routes`), so a route cannot be served without being described.

use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Homeward API",
        description = "Case system for the mediated return of children across a conflict line. \
            Errors are `{\"error\": {\"code\", \"message\", \"fields\"?, \"rows\"?}}` with a stable `code`.",
    ),
    modifiers(&Security),
    tags(
        (name = "system", description = "Health and this document"),
        (name = "auth", description = "Signing in and out, one's own account, API tokens"),
        (name = "admin", description = "Parties and users"),
        (name = "records", description = "Child records: tracing requests and custody records"),
        (name = "imports", description = "Bulk import of child records from CSV"),
        (name = "audit", description = "The audit log"),
        (name = "matching", description = "Candidate matches for the mediator's reviewers; training the linkage model"),
        (name = "duplicates", description = "The same child filed twice by one party: candidate pairs, dismissing and merging"),
        (name = "cases", description = "Cases: one child's way from a tracing request to a family"),
        (name = "tasks", description = "Tasks referred to humanitarian parties"),
        (name = "accountability", description = "How each child was taken and held: evidence for prosecutions, every read audited"),
        (name = "attachments", description = "Documents and photos on child records and cases, encrypted at rest; every download audited"),
        (name = "transfers", description = "Transfer lists negotiated between the two sides, and how each group of children travels"),
    )
)]
pub(crate) struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`hw_...`) from POST /api/v1/me/tokens; no CSRF token needed",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The browser session set by POST /api/v1/auth/login. POST, PUT, PATCH and DELETE \
                 must also send the session's `csrf_token` in the `X-CSRF-Token` header.",
            ))),
        );
        // Either scheme will do; operations open to anyone override this with an empty list.
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}
