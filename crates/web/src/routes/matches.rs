//! Matching: the mediator reviewers' queue of candidate matches, their decisions, training the
//! linkage model, and the cases confirmations open. Nobody outside the mediator's reviewers (and,
//! for cases, the mediator's staff) gets anything here but 403.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use homeward_app::matching::{CandidateDetail, DecisionView, QueuePage, QueueQuery, TrainReport};
use homeward_domain::MatchId;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// Lowest probability shown (default: the review threshold, 0.5).
    #[param(minimum = 0, maximum = 1)]
    min_probability: Option<f64>,
    /// Highest probability shown (default 1).
    #[param(minimum = 0, maximum = 1)]
    max_probability: Option<f64>,
    /// The `next` value of the previous page.
    #[param(
        pattern = r"^-?[0-9]+(\.[0-9]+)?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Pending candidate matches in a probability band, most probable first. Mediator reviewers only.
#[utoipa::path(
    get, path = "/api/v1/matches", tag = "matching",
    params(QueueParams),
    responses(
        (status = 200, body = QueuePage),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn review_queue(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<QueueParams>,
) -> ApiResult<Json<QueuePage>> {
    let q = QueueQuery {
        min_probability: q.min_probability,
        max_probability: q.max_probability,
        after: q.after,
        limit: q.limit,
    };
    Ok(Json(s.app.review_queue(&auth.caller, &q).await?))
}

/// One candidate with both records side by side and the field-by-field explanation.
#[utoipa::path(
    get, path = "/api/v1/matches/{id}", tag = "matching",
    params(("id" = MatchId, Path, description = "The candidate's id")),
    responses(
        (status = 200, body = CandidateDetail),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_candidate(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<MatchId>,
) -> ApiResult<Json<CandidateDetail>> {
    Ok(Json(s.app.get_candidate(&auth.caller, id).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// Why the reviewer is satisfied (optional).
    #[serde(default)]
    reason: Option<String>,
}

/// Confirms a candidate. Completing the match opens a case in `located` (or joins the case either
/// record is in). With four eyes the first confirmation waits for a second, different reviewer.
#[utoipa::path(
    post, path = "/api/v1/matches/{id}/confirm", tag = "matching",
    params(("id" = MatchId, Path, description = "The candidate's id")),
    request_body = ConfirmBody,
    responses(
        (status = 200, body = DecisionView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`candidate_decided`, or `second_reviewer_required` when the \
            reviewer who confirmed first confirms again", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn confirm_candidate(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<MatchId>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> ApiResult<Json<DecisionView>> {
    Ok(Json(
        s.app
            .confirm_candidate(&auth.caller, id, body.reason.as_deref())
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why the pair is not the same child; required.
    #[schema(min_length = 1, pattern = r"\S")]
    reason: String,
}

/// Rejects a candidate with a reason. The pair is never proposed again.
#[utoipa::path(
    post, path = "/api/v1/matches/{id}/reject", tag = "matching",
    params(("id" = MatchId, Path, description = "The candidate's id")),
    request_body = RejectBody,
    responses(
        (status = 200, body = DecisionView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`candidate_decided`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the reason is missing", body = ErrorBody),
    )
)]
pub async fn reject_candidate(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<MatchId>,
    ApiJson(body): ApiJson<RejectBody>,
) -> ApiResult<Json<DecisionView>> {
    Ok(Json(
        s.app
            .reject_candidate(&auth.caller, id, &body.reason)
            .await?,
    ))
}

/// Nothing to set yet: the run uses the engine's default configuration. Send `{}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainBody {}

/// Trains the linkage model on every record of both sides, stores it for scoring new records,
/// and stores the candidates the full run finds. Mediator reviewers only.
#[utoipa::path(
    post, path = "/api/v1/linkage/train", tag = "matching",
    request_body = TrainBody,
    responses(
        (status = 200, body = TrainReport),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`: no records of one side yet", body = ErrorBody),
    )
)]
pub async fn train_linkage(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(_): ApiJson<TrainBody>,
) -> ApiResult<Json<TrainReport>> {
    Ok(Json(s.app.train_linkage_model(&auth.caller).await?))
}
