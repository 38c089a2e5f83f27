//! Duplicates within one party: candidate pairs of records that may be the same child filed
//! twice, for the owning party's caseworkers and reviewers and the mediator's. Each caller sees
//! only pairs within its scope; another party's pair answers 404 like a missing one.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use homeward_app::duplicates::{
    DuplicateDetail, DuplicatePage, DuplicateQuery, DuplicateView, MergeInput, MergeView,
};
use homeward_domain::{ChildRecordInput, DuplicateId, RecordId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DuplicateParams {
    /// Lowest probability shown (default: the review threshold, 0.5).
    #[param(minimum = 0, maximum = 1)]
    min_probability: Option<f64>,
    /// The `next` value of the previous page.
    #[param(
        pattern = r"^-?[0-9]+(\.[0-9]+)?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Pending candidate duplicates within the caller's scope, most probable first, each with the
/// field-by-field explanation.
#[utoipa::path(
    get, path = "/api/v1/duplicates", tag = "duplicates",
    params(DuplicateParams),
    responses(
        (status = 200, body = DuplicatePage),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_duplicates(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<DuplicateParams>,
) -> ApiResult<Json<DuplicatePage>> {
    let q = DuplicateQuery {
        min_probability: q.min_probability,
        after: q.after,
        limit: q.limit,
    };
    Ok(Json(s.app.duplicate_queue(&auth.caller, &q).await?))
}

/// One candidate duplicate, in any status, with both records side by side.
#[utoipa::path(
    get, path = "/api/v1/duplicates/{id}", tag = "duplicates",
    params(("id" = DuplicateId, Path, description = "The candidate duplicate's id")),
    responses(
        (status = 200, body = DuplicateDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_duplicate(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<DuplicateId>,
) -> ApiResult<Json<DuplicateDetail>> {
    Ok(Json(s.app.get_duplicate(&auth.caller, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    /// Why the two records are different children; required.
    #[schema(min_length = 1, pattern = r"\S")]
    reason: String,
}

/// Dismisses a candidate duplicate: different children. The pair is never proposed again.
#[utoipa::path(
    post, path = "/api/v1/duplicates/{id}/dismiss", tag = "duplicates",
    params(("id" = DuplicateId, Path, description = "The candidate duplicate's id")),
    request_body = DismissBody,
    responses(
        (status = 200, body = DuplicateView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`duplicate_decided`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the reason is missing", body = ErrorBody),
    )
)]
pub async fn dismiss_duplicate(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<DuplicateId>,
    ApiJson(body): ApiJson<DismissBody>,
) -> ApiResult<Json<DuplicateView>> {
    Ok(Json(
        s.app
            .dismiss_duplicate(&auth.caller, id, &body.reason)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The record of the pair that goes on; the other is absorbed into it.
    survivor: RecordId,
    /// The survivor's version the caller compared.
    survivor_version: i64,
    /// The other record's version the caller compared.
    absorbed_version: i64,
    /// Why the two records are the same child; required.
    #[schema(min_length = 1, pattern = r"\S")]
    reason: String,
    /// The survivor's new content, merged from both (needs the right to change records); without
    /// it the survivor's content stays as it is.
    #[serde(default)]
    content: Option<ChildRecordInput>,
}

/// Merges the pair: the survivor goes on with a `merge` version naming the absorbed record; the
/// absorbed record is deleted with `merged_into` set, and keeps its history. Its pending
/// candidate matches and its case follow the survivor.
#[utoipa::path(
    post, path = "/api/v1/duplicates/{id}/merge", tag = "duplicates",
    params(("id" = DuplicateId, Path, description = "The candidate duplicate's id")),
    request_body = MergeBody,
    responses(
        (status = 200, body = MergeView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`duplicate_decided`; `version_conflict` (with `record_id` and \
            `current_version`) when either record changed; `cases_differ` when the two records are \
            in different cases; `conflict` when a record was deleted meanwhile", body = ErrorBody),
        (status = 422, description = "`validation_failed`: no reason, a survivor outside the pair, \
            or invalid content", body = ErrorBody),
    )
)]
pub async fn merge_duplicate(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<DuplicateId>,
    ApiJson(body): ApiJson<MergeBody>,
) -> ApiResult<Json<MergeView>> {
    let input = MergeInput {
        survivor: body.survivor,
        survivor_version: body.survivor_version,
        absorbed_version: body.absorbed_version,
        reason: body.reason,
        content: body.content,
    };
    Ok(Json(s.app.merge_duplicate(&auth.caller, id, &input).await?))
}
