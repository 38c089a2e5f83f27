//! Privacy-preserving linkage (issue 17): a side uploads the list it encoded on its own machine,
//! the mediator links two lists of a round in a job and sees the mapping of references, each side
//! sees only which of its own references are in pairs, and answers the mediator's request for
//! the clear record of each (or declines). See `docs/pprl-server.md`.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use homeward_app::pprl::{
    OwnReference, OwnReferences, PprlAnswerInput, PprlDeclineInput, PprlDismissInput, PprlListView,
    PprlMapping, PprlPairView, PprlRequestInput, PprlRequestOutcome, PprlRunView,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The file `homeward pprl encode` wrote, as the whole body (`application/json`).
#[derive(Debug, Clone)]
pub struct EncodedBody(pub Bytes);

impl FromRequest<AppState> for EncodedBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the encoded list as the body with Content-Type: application/json",
            ));
        }
        let limit = state.opts.max_import_bytes;
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(limit)
                } else {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "unreadable_body",
                        "the request body could not be read",
                    )
                }
            })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// The round the mediator announced: every list of a round is encoded with one key and one
    /// specification.
    #[param(min_length = 1, max_length = 100, pattern = r"\S")]
    round: String,
}

/// An encoded list, as `homeward pprl encode` writes it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EncodedListFile {
    /// The encoding specification, e.g. `homeward-pprl/2`.
    spec: String,
    /// The fingerprint of the key (not the key).
    key_id: String,
    hardening: String,
    fields: Vec<serde_json::Value>,
    /// Each record's own reference and its encodings; no names.
    records: Vec<serde_json::Value>,
}

/// A side (origin or custody caseworkers) uploads its encoded list for a round. Refused when it is
/// smaller than the server's minimum (so no single child can be probed for), encoded with a key
/// or specification other than the round's, or not an encoded list.
#[utoipa::path(
    post, path = "/api/v1/pprl/lists", tag = "pprl",
    params(UploadParams),
    request_body(content = EncodedListFile, content_type = "application/json",
        description = "The encoded list file, as the whole body"),
    responses(
        (status = 201, description = "Stored", body = PprlListView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`pprl_key_mismatch`: the round's lists use another key or specification", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 422, description = "`pprl_list_too_small`, `pprl_list_too_large`, `pprl_spec_unsupported`, `pprl_list_invalid` or `validation_failed` (the round)", body = ErrorBody),
    )
)]
pub async fn upload_list(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<UploadParams>,
    EncodedBody(bytes): EncodedBody,
) -> ApiResult<(StatusCode, Json<PprlListView>)> {
    let list = s
        .app
        .upload_pprl_list(&auth.caller, &q.round, &bytes)
        .await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// The encoded lists (what they are, never what they hold): all of them for the mediator's
/// reviewers, a side's own for a side.
#[utoipa::path(
    get, path = "/api/v1/pprl/lists", tag = "pprl",
    responses(
        (status = 200, body = Vec<PprlListView>),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list_lists(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<PprlListView>>> {
    Ok(Json(s.app.pprl_lists(&auth.caller).await?))
}

/// Which of the side's own references of this list are in pairs, and what is asked of it. Never
/// the other side's references, never a score. The list's own side only.
#[utoipa::path(
    get, path = "/api/v1/pprl/lists/{id}/references", tag = "pprl",
    params(("id" = Uuid, Path, description = "The list")),
    responses(
        (status = 200, body = OwnReferences),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn own_references(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<OwnReferences>> {
    Ok(Json(s.app.pprl_own_references(&auth.caller, id).await?))
}

/// The two lists to link, in either order: one of the origin side, one of custody.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    left_list: Uuid,
    right_list: Uuid,
}

/// The mediator's reviewers link two lists of one round; the linkage runs as a job.
#[utoipa::path(
    post, path = "/api/v1/pprl/runs", tag = "pprl",
    request_body = RunInput,
    responses(
        (status = 202, description = "Queued (or already done, when jobs run inline)", body = PprlRunView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`pprl_round_mismatch` or `pprl_sides_not_opposite`", body = ErrorBody),
    )
)]
pub async fn create_run(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(input): ApiJson<RunInput>,
) -> ApiResult<(StatusCode, Json<PprlRunView>)> {
    let run = s
        .app
        .create_pprl_run(&auth.caller, input.left_list, input.right_list)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

/// The runs, newest first, with their jobs' progress (the mediator's reviewers).
#[utoipa::path(
    get, path = "/api/v1/pprl/runs", tag = "pprl",
    responses(
        (status = 200, body = Vec<PprlRunView>),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list_runs(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<PprlRunView>>> {
    Ok(Json(s.app.pprl_runs(&auth.caller).await?))
}

/// A run and the mapping it found: pairs of references, no scores (the mediator's reviewers; the
/// read is audited).
#[utoipa::path(
    get, path = "/api/v1/pprl/runs/{id}", tag = "pprl",
    params(("id" = Uuid, Path, description = "The run")),
    responses(
        (status = 200, body = PprlMapping),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_run(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<PprlMapping>> {
    Ok(Json(s.app.pprl_mapping(&auth.caller, id).await?))
}

/// The mediator asks both sides of each named pair for the clear record of their child.
#[utoipa::path(
    post, path = "/api/v1/pprl/runs/{id}/requests", tag = "pprl",
    params(("id" = Uuid, Path, description = "The run")),
    request_body = PprlRequestInput,
    responses(
        (status = 200, body = PprlRequestOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`pprl_run_not_finished`, `pprl_pair_state` or `conflict`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn request_records(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PprlRequestInput>,
) -> ApiResult<Json<PprlRequestOutcome>> {
    Ok(Json(
        s.app.request_pprl_records(&auth.caller, id, &input).await?,
    ))
}

/// A side answers the request for one of its references with the clear record it filed for
/// that child (created or imported as usual, under the family's or carer's consent).
#[utoipa::path(
    post, path = "/api/v1/pprl/pairs/{id}/answer", tag = "pprl",
    params(("id" = Uuid, Path, description = "The pair (`pair_id` of the side's references)")),
    request_body = PprlAnswerInput,
    responses(
        (status = 200, body = OwnReference),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`pprl_pair_state`: nothing is asked of this side for the pair", body = ErrorBody),
        (status = 422, description = "`pprl_wrong_record`: not a record of this side", body = ErrorBody),
    )
)]
pub async fn answer_pair(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PprlAnswerInput>,
) -> ApiResult<Json<OwnReference>> {
    Ok(Json(
        s.app.answer_pprl_pair(&auth.caller, id, &input).await?,
    ))
}

/// A side declines to share the record of one of its references (no consent); the pair is closed.
#[utoipa::path(
    post, path = "/api/v1/pprl/pairs/{id}/decline", tag = "pprl",
    params(("id" = Uuid, Path, description = "The pair")),
    request_body = PprlDeclineInput,
    responses(
        (status = 200, body = OwnReference),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`pprl_pair_state`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn decline_pair(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PprlDeclineInput>,
) -> ApiResult<Json<OwnReference>> {
    Ok(Json(
        s.app.decline_pprl_pair(&auth.caller, id, &input).await?,
    ))
}

/// The mediator's reviewers dismiss a pair they have not asked about (a false pair): neither side
/// is asked for anything; audited with the reason.
#[utoipa::path(
    post, path = "/api/v1/pprl/pairs/{id}/dismiss", tag = "pprl",
    params(("id" = Uuid, Path, description = "The pair (`id` of the run's mapping)")),
    request_body = PprlDismissInput,
    responses(
        (status = 200, body = PprlPairView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`pprl_pair_state`: the pair was asked about or closed already", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn dismiss_pair(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PprlDismissInput>,
) -> ApiResult<Json<PprlPairView>> {
    Ok(Json(
        s.app.dismiss_pprl_pair(&auth.caller, id, &input).await?,
    ))
}
