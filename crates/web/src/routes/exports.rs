//! Exports of child records, cases, transfer lists, plans and follow-up visits (CSV, XLSX,
//! JSON), made by a job: ask for one, follow it, download it. A protected export is downloaded only as an AES-256 zip, under a password sent in the
//! `Homeward-Export-Password` header (never in the URL, so never in an access log).

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::attachments::content_disposition;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_app::exports::{ExportPassword, ExportRequest, ExportView};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// The header a protected export's password comes in.
pub const PASSWORD_HEADER: &str = "homeward-export-password";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportsQuery {
    /// Default 50, at most 1000.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Asks for an export of what the caller may read, scoped exactly like the reads: the records
/// (its party's own; the mediator's: all submitted to it), the cases (`"subject": "cases"`, the
/// mediator's only), the transfer lists (`transfer_lists`: every list for the mediator, a side's
/// lists as its side view shows them), the plans (`plans`, the mediator's only) or the follow-up
/// visits (`follow_ups`: every one for the mediator, those it is responsible for for the origin
/// side), with chosen columns and filters. Made by a job: follow it at `GET /api/v1/exports/{id}`.
/// A subject the caller does not read is refused with 403.
#[utoipa::path(
    post, path = "/api/v1/exports", tag = "exports",
    request_body = ExportRequest,
    responses(
        (status = 202, body = ExportView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed` (`export_subject_unknown`, `export_column_unknown`, `export_column_repeated`, `export_filter_not_for_subject`, `out_of_range`, …)", body = ErrorBody),
        (status = 503, description = "`attachments_not_configured`: no key or data directory for files", body = ErrorBody),
    )
)]
pub async fn request_export(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(req): ApiJson<ExportRequest>,
) -> ApiResult<(StatusCode, Json<ExportView>)> {
    let view = s.app.request_export(&auth.caller, &req).await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The caller's exports, newest first.
#[utoipa::path(
    get, path = "/api/v1/exports", tag = "exports",
    params(ExportsQuery),
    responses(
        (status = 200, body = Vec<ExportView>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`out_of_range` (limit)", body = ErrorBody),
    )
)]
pub async fn list_exports(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<ExportsQuery>,
) -> ApiResult<Json<Vec<ExportView>>> {
    Ok(Json(
        s.app
            .list_exports(&auth.caller, q.limit.unwrap_or(50))
            .await?,
    ))
}

/// One of the caller's exports: its state and progress.
#[utoipa::path(
    get, path = "/api/v1/exports/{id}", tag = "exports",
    params(("id" = Uuid, Path, description = "The export's id")),
    responses(
        (status = 200, body = ExportView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_export(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ExportView>> {
    Ok(Json(s.app.get_export(&auth.caller, id).await?))
}

/// The export's file, as a download. With a password (header `Homeward-Export-Password`, at
/// least 12 characters; required for a protected export) it comes as a zip encrypted with
/// AES-256. Every download is audited.
#[utoipa::path(
    get, path = "/api/v1/exports/{id}/file", tag = "exports",
    params(
        ("id" = Uuid, Path, description = "The export's id"),
        ("Homeward-Export-Password" = Option<String>, Header, min_length = 12, pattern = r"^[!-~]([ -~]*[!-~])?$",
         description = "Zip the file with AES-256 under this password: at least 12 printable ASCII characters, no space at either end (an HTTP header carries nothing else faithfully: its ends are trimmed, and other bytes are Latin-1 to some clients and UTF-8 to others). The exports page (`/exports`) asks for the same: 12 or more printable ASCII characters."),
    ),
    responses(
        (status = 200, description = "The file (CSV, XLSX, JSON, or a zip)", content(
            (String = "text/csv"),
            (serde_json::Value = "application/json"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/zip"),
        )),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`export_not_ready`, `export_failed`, `export_expired`", body = ErrorBody),
        (status = 422, description = "`export_password_required`, `export_password_too_short`, `export_password_not_ascii`", body = ErrorBody),
    )
)]
pub async fn download_export(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let password = match headers.get(PASSWORD_HEADER) {
        None => None,
        Some(v) => Some(ExportPassword::new(header_password(v)?)?),
    };
    Ok(file_response(
        s.app.download_export(&auth.caller, id, password).await?,
    ))
}

/// The password in the header, refused with a space at either end (HTTP trims a value's ends, so
/// it would be lost unseen) or beyond ASCII (a header's other bytes are Latin-1 to some clients and
/// UTF-8 to others); the app checks the rest of what a password must be.
fn header_password(v: &HeaderValue) -> Result<String, homeward_app::AppError> {
    let bytes = v.as_bytes();
    let printable = bytes.iter().all(|b| (b' '..=b'~').contains(b));
    let trimmed = bytes.first() != Some(&b' ') && bytes.last() != Some(&b' ');
    if !(printable && trimmed) {
        return Err(homeward_app::AppError::invalid(
            "password",
            "export_password_not_ascii",
            "in the header, the password must be printable ASCII without a space at either end",
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A file as a download that is never rendered or cached.
pub(crate) fn file_response(file: homeward_app::exports::ExportFile) -> Response {
    let mut res = Body::from(file.bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    if let Ok(v) = HeaderValue::try_from(content_disposition(&file.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
