//! The OpenAPI document's frame. The paths and schemas are added by the router as each route is
//! registered (see `routes`), so a route cannot be served without being described.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Homeward API",
        description = "Case system for the mediated return of children across a conflict line. \
            Errors are `{\"error\": {\"code\", \"message\", \"fields\"?, \"rows\"?}}` with a stable `code`. \
            Every JSON body is an object, and no text in it may contain U+0000 (`nul_character`).",
    ),
    modifiers(&Security),
    // Named only by a query parameter, which utoipa does not collect schemas from.
    components(schemas(crate::routes::ColumnMapping)),
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
        (name = "pprl", description = "Privacy-preserving linkage: encoded lists, the mediator's runs over them, and the exchange of clear records for the pairs found"),
        (name = "indicators", description = "The mission dashboard's figures, and the public statistics (published by the mediator, read without sign-in)"),
        (name = "exports", description = "Exports of child records, cases, transfer lists, plans and follow-up visits to CSV, XLSX or JSON, scoped like their reads and made by a job; protected ones as AES-256 zips; every download audited"),
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

/// The refusals every operation of a kind can answer, whatever its handler does: they come from
/// the extractors, the authentication and the body limits, which are the same for all routes.
/// Added once the routes are registered (a modifier of [`ApiDoc`] would run before there are any
/// paths), and only where the operation does not describe that status itself.
pub(crate) fn add_common_refusals(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, description) in COMMON {
        components.responses.insert(
            (*name).to_owned(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(*description)
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                    )
                    .build(),
            ),
        );
    }
    for item in doc.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (op, changes) in operations {
            if let Some(op) = op.as_mut() {
                add_refusals(op, changes);
            }
        }
    }
}

const COMMON: &[(&str, &str)] = &[
    (
        "BadRequest",
        "`invalid_path`, `invalid_query`, `malformed_json` or `invalid_body`: the request is not an \
         instance of this operation's parameters or body",
    ),
    (
        "Unauthenticated",
        "`unauthenticated`: no valid session or API token",
    ),
    (
        "Forbidden",
        "`forbidden`: the caller may not do this; or `csrf_failed`: a change signed in by cookie \
         without the session's CSRF token",
    ),
    ("NotFound", "`not_found`: no such object the caller can see"),
    (
        "PayloadTooLarge",
        "`payload_too_large`: the body is larger than this route takes",
    ),
    (
        "UnsupportedMediaType",
        "`unsupported_media_type`: the body is not of a content type this operation reads",
    ),
];

fn add_refusals(op: &mut Operation, changes: bool) {
    let public = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().any(|r| r == &SecurityRequirement::default()));
    let params = op.parameters.as_deref().unwrap_or_default();
    let in_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let in_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let body = op.request_body.is_some();
    let mut wanted = Vec::new();
    if in_path || in_query || body {
        wanted.push(("400", "BadRequest"));
    }
    if !public {
        wanted.push(("401", "Unauthenticated"));
        if changes {
            wanted.push(("403", "Forbidden"));
        }
    }
    if in_path {
        wanted.push(("404", "NotFound"));
    }
    if body {
        wanted.push(("413", "PayloadTooLarge"));
        wanted.push(("415", "UnsupportedMediaType"));
    }
    for (status, name) in wanted {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
    }
}
