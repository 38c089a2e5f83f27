//! The job queue, as administrators and importers see it.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use homeward_app::jobs::{JobState, JobView, JobsOverview};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// `queued`, `running`, `done` or `failed`; default every state.
    #[param(pattern = "^(queued|running|done|failed)$")]
    state: Option<String>,
    /// Default 50, at most 1000.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The job queue: how many jobs are queued, running, done and failed, and the latest jobs with
/// their attempts and last error (mediator administrators).
#[utoipa::path(
    get, path = "/api/v1/admin/jobs", tag = "admin",
    params(JobsQuery),
    responses(
        (status = 200, body = JobsOverview),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_jobs(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> ApiResult<Json<JobsOverview>> {
    let state = match q.state.as_deref() {
        None => None,
        Some(v) => Some(JobState::parse(v).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "state is queued, running, done or failed".to_owned(),
            )
        })?),
    };
    Ok(Json(
        s.app
            .admin_jobs(&auth.caller, state, q.limit.unwrap_or(50))
            .await?,
    ))
}

/// How the matching of an import is getting on (`queued`, `running` with its progress, `done`,
/// `failed` with the error). The party that imported only.
#[utoipa::path(
    get, path = "/api/v1/imports/{id}/matching", tag = "imports",
    params(("id" = Uuid, Path, description = "The import's `import_id`")),
    responses(
        (status = 200, body = JobView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn import_matching(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(s.app.import_matching(&auth.caller, id).await?))
}
