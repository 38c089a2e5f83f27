//! Child records. Names and deletion reasons travel in bodies, never in paths.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use homeward_app::records::{Page, RecordQuery};
use homeward_domain::{
    ChildRecord, ChildRecordInput, PartyId, RecordId, RecordKind, RecordVersion, Sex,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordListParams {
    kind: Option<RecordKind>,
    /// Only records filed by this party (useful to the mediator).
    party_id: Option<PartyId>,
    sex: Option<Sex>,
    /// Any part of any name, in any script; case and diacritics do not matter.
    name: Option<String>,
    born_from_year: Option<i32>,
    born_to_year: Option<i32>,
    external_ref: Option<String>,
    /// Include soft-deleted records.
    #[serde(default)]
    include_deleted: bool,
    /// The `next` value of the previous page.
    after: Option<RecordId>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

impl From<RecordListParams> for RecordQuery {
    fn from(p: RecordListParams) -> Self {
        let RecordListParams {
            kind,
            party_id,
            sex,
            name,
            born_from_year,
            born_to_year,
            external_ref,
            include_deleted,
            after,
            limit,
        } = p;
        Self {
            kind,
            party: party_id,
            sex,
            name,
            born_from_year,
            born_to_year,
            external_ref,
            include_deleted,
            after,
            limit,
        }
    }
}

/// The records the caller can see, filtered, in pages ordered by id.
#[utoipa::path(
    get, path = "/api/v1/records", tag = "records",
    params(RecordListParams),
    responses(
        (status = 200, body = Page<ChildRecord>),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_records(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<RecordListParams>,
) -> ApiResult<Json<Page<ChildRecord>>> {
    Ok(Json(s.app.list_records(&auth.caller, &q.into()).await?))
}

/// Files a child record: a tracing request for an origin party, a custody record for a custody
/// party.
#[utoipa::path(
    post, path = "/api/v1/records", tag = "records",
    request_body = ChildRecordInput,
    responses(
        (status = 201, body = ChildRecord, headers(("location" = String, description = "The new record's URL"))),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`, with every bad field", body = ErrorBody),
    )
)]
pub async fn create_record(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(input): ApiJson<ChildRecordInput>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ChildRecord>)> {
    let record = s.app.create_record(&auth.caller, &input).await?;
    let mut headers = HeaderMap::new();
    // A UUID always makes a valid header value; the fallback only satisfies the type.
    if let Ok(v) = HeaderValue::try_from(format!("/api/v1/records/{}", record.id)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((StatusCode::CREATED, headers, Json(record)))
}

/// One record. Reading it is audited. A record outside the caller's scope answers exactly as one
/// that does not exist.
#[utoipa::path(
    get, path = "/api/v1/records/{id}", tag = "records",
    params(("id" = RecordId, Path, description = "The record's id")),
    responses((status = 200, body = ChildRecord), (status = 404, body = ErrorBody))
)]
pub async fn get_record(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<RecordId>,
) -> ApiResult<Json<ChildRecord>> {
    Ok(Json(s.app.get_record(&auth.caller, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRecordBody {
    /// The version the change was made to; a newer stored version is a conflict.
    expected_version: i64,
    record: ChildRecordInput,
}

/// Replaces a record's content, keeping the previous version in its history.
#[utoipa::path(
    put, path = "/api/v1/records/{id}", tag = "records",
    params(("id" = RecordId, Path, description = "The record's id")),
    request_body = UpdateRecordBody,
    responses(
        (status = 200, body = ChildRecord),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`version_conflict`: someone changed it first", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_record(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<RecordId>,
    ApiJson(body): ApiJson<UpdateRecordBody>,
) -> ApiResult<Json<ChildRecord>> {
    Ok(Json(
        s.app
            .update_record(&auth.caller, id, body.expected_version, &body.record)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRecordBody {
    /// Why the record is deleted; kept in its history.
    reason: String,
}

/// Soft-deletes a record with a reason. It stays readable and in its history.
#[utoipa::path(
    delete, path = "/api/v1/records/{id}", tag = "records",
    params(("id" = RecordId, Path, description = "The record's id")),
    request_body = DeleteRecordBody,
    responses(
        (status = 200, description = "The record as deleted", body = ChildRecord),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn delete_record(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<RecordId>,
    ApiJson(body): ApiJson<DeleteRecordBody>,
) -> ApiResult<Json<ChildRecord>> {
    Ok(Json(
        s.app.delete_record(&auth.caller, id, &body.reason).await?,
    ))
}

/// Every version of a record, oldest first.
#[utoipa::path(
    get, path = "/api/v1/records/{id}/history", tag = "records",
    params(("id" = RecordId, Path, description = "The record's id")),
    responses((status = 200, body = Vec<RecordVersion>), (status = 404, body = ErrorBody))
)]
pub async fn record_history(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<RecordId>,
) -> ApiResult<Json<Vec<RecordVersion>>> {
    Ok(Json(s.app.record_history(&auth.caller, id).await?))
}
