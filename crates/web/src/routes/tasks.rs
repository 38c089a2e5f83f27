//! Tasks referred to humanitarian parties. The mediator assigns and cancels them; the party they
//! are referred to sees only its own tasks (each with its brief) and reports on them.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use homeward_app::tasks::{TaskCancelInput, TaskInput, TaskQuery, TaskReportInput, TaskView};
use homeward_domain::{CaseId, TaskId, TaskStatus};
use serde::Deserialize;
use utoipa::IntoParams;

/// Refers a task on the case to a humanitarian party, with a brief of only the facts the work
/// needs (by default the task kind's minimum). Mediator caseworkers.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/tasks", tag = "tasks",
    params(("id" = CaseId, Path, description = "The case's id")),
    request_body = TaskInput,
    responses(
        (status = 201, body = TaskView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `party` not humanitarian, `due` in the past, ...", body = ErrorBody),
    )
)]
pub async fn assign_task(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(body): ApiJson<TaskInput>,
) -> ApiResult<(StatusCode, Json<TaskView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.assign_task(&auth.caller, id, &body).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskListParams {
    /// Only the tasks of this case.
    case_id: Option<CaseId>,
    status: Option<TaskStatus>,
    /// Only open tasks past their due date.
    #[serde(default)]
    overdue: bool,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Tasks by due date: all of them for the mediator, only its own for a humanitarian party.
#[utoipa::path(
    get, path = "/api/v1/tasks", tag = "tasks",
    params(TaskListParams),
    responses(
        (status = 200, body = Vec<TaskView>),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_tasks(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<TaskListParams>,
) -> ApiResult<Json<Vec<TaskView>>> {
    let q = TaskQuery {
        case: q.case_id,
        status: q.status,
        overdue: q.overdue,
        limit: q.limit,
    };
    Ok(Json(s.app.list_tasks(&auth.caller, &q).await?))
}

/// One task. Another party's task answers like one that does not exist.
#[utoipa::path(
    get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = TaskId, Path, description = "The task's id")),
    responses(
        (status = 200, body = TaskView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_task(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TaskId>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(s.app.get_task(&auth.caller, id).await?))
}

/// The party the task is referred to reports the outcome.
#[utoipa::path(
    post, path = "/api/v1/tasks/{id}/report", tag = "tasks",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = TaskReportInput,
    responses(
        (status = 200, body = TaskView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`task_closed`; `version_conflict`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn report_task(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(body): ApiJson<TaskReportInput>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(s.app.report_task(&auth.caller, id, &body).await?))
}

/// The mediator withdraws an open referral, with a reason.
#[utoipa::path(
    post, path = "/api/v1/tasks/{id}/cancel", tag = "tasks",
    params(("id" = TaskId, Path, description = "The task's id")),
    request_body = TaskCancelInput,
    responses(
        (status = 200, body = TaskView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`task_closed`; `version_conflict`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn cancel_task(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(body): ApiJson<TaskCancelInput>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(s.app.cancel_task(&auth.caller, id, &body).await?))
}
