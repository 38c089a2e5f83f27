//! Attachments: documents and photos on child records and cases. The file is the raw request
//! body with its own Content-Type; its name travels percent-encoded in the `X-Filename` header,
//! never in the URL (names of files often name the child, and URLs end up in logs).

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_app::AppError;
use homeward_app::attachments::{AttachmentView, Upload};
use homeward_domain::{AttachmentId, CaseId, RecordId};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

pub(crate) const FILENAME_HEADER: &str = "x-filename";
pub(crate) const DESCRIPTION_HEADER: &str = "x-description";

/// An uploaded file: the body as it came, with what its headers say about it.
#[derive(Debug)]
pub struct FileBody {
    bytes: Bytes,
    content_type: Option<String>,
    filename: String,
    description: Option<String>,
}

impl FileBody {
    fn upload(&self) -> Upload<'_> {
        Upload {
            filename: &self.filename,
            declared_type: self.content_type.as_deref(),
            description: self.description.as_deref(),
            bytes: &self.bytes,
        }
    }
}

/// A header's text, percent-decoded as UTF-8. Clients should percent-encode anything outside
/// ASCII; raw UTF-8 is taken too, since some clients send it.
fn decoded_header(headers: &HeaderMap, name: &'static str) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_header",
            format!("the {name} header must be percent-encoded UTF-8"),
        )
    };
    let raw = std::str::from_utf8(value.as_bytes()).map_err(|_| bad())?;
    let text = percent_decode_str(raw).decode_utf8().map_err(|_| bad())?;
    Ok(Some(text.into_owned()))
}

impl FromRequest<AppState> for FileBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let filename = decoded_header(headers, FILENAME_HEADER)?.unwrap_or_default();
        let description = decoded_header(headers, DESCRIPTION_HEADER)?;
        let limit = state.app.config().max_attachment_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::from(AppError::AttachmentTooLarge { limit })
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    "the request body could not be read",
                )
            }
        })?;
        Ok(Self {
            bytes,
            content_type,
            filename,
            description,
        })
    }
}

fn created(view: AttachmentView) -> (StatusCode, HeaderMap, Json<AttachmentView>) {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::try_from(format!("/api/v1/attachments/{}", view.id)) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::CREATED, headers, Json(view))
}

/// Attaches a document or photo to a child record. The caller's side's caseworkers may, for its
/// own records; so may the mediator's caseworkers. Only PDF, JPEG, PNG, WebP, TIFF and HEIC/HEIF
/// files are taken, recognised from their content.
#[utoipa::path(
    post, path = "/api/v1/records/{id}/attachments", tag = "attachments",
    params(
        ("id" = RecordId, Path, description = "The record's id"),
        ("X-Filename" = String, Header, pattern = r"^([\t\x20-\x24\x26-\x7e]|%[0-7][0-9A-Fa-f]|%(?![0-9A-Fa-f]{2}))*$",
            description = "The file's name, percent-encoded UTF-8 (the pattern shows only ASCII escapes; any UTF-8 is taken)"),
        ("X-Description" = Option<String>, Header, description = "What the file is, percent-encoded UTF-8"),
    ),
    request_body(content = String, content_type = "application/octet-stream",
        description = "The file as the whole body, with its own Content-Type (or application/octet-stream)"),
    responses(
        (status = 201, body = AttachmentView, headers(("location" = String, description = "The attachment's URL"))),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such record within the caller's scope", body = ErrorBody),
        (status = 413, description = "`attachment_too_large`, saying the limit", body = ErrorBody),
        (status = 415, description = "`attachment_type_not_allowed`", body = ErrorBody),
        (status = 422, description = "`attachment_empty`, `attachment_type_mismatch` (the Content-Type \
            contradicts the content) or `validation_failed` (filename)", body = ErrorBody),
        (status = 503, description = "`attachments_not_configured`: the server has no attachment key", body = ErrorBody),
    )
)]
pub async fn upload_record_attachment(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<RecordId>,
    file: FileBody,
) -> ApiResult<(StatusCode, HeaderMap, Json<AttachmentView>)> {
    let view = s
        .app
        .upload_record_attachment(&auth.caller, id, file.upload())
        .await?;
    Ok(created(view))
}

/// The attachments of a record (metadata only), oldest first.
#[utoipa::path(
    get, path = "/api/v1/records/{id}/attachments", tag = "attachments",
    params(("id" = RecordId, Path, description = "The record's id")),
    responses(
        (status = 200, body = Vec<AttachmentView>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn list_record_attachments(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<RecordId>,
) -> ApiResult<Json<Vec<AttachmentView>>> {
    Ok(Json(s.app.list_record_attachments(&auth.caller, id).await?))
}

/// Attaches a document or photo to a case: the mediator's case managers.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/attachments", tag = "attachments",
    params(
        ("id" = CaseId, Path, description = "The case's id"),
        ("X-Filename" = String, Header, pattern = r"^([\t\x20-\x24\x26-\x7e]|%[0-7][0-9A-Fa-f]|%(?![0-9A-Fa-f]{2}))*$",
            description = "The file's name, percent-encoded UTF-8 (the pattern shows only ASCII escapes; any UTF-8 is taken)"),
        ("X-Description" = Option<String>, Header, description = "What the file is, percent-encoded UTF-8"),
    ),
    request_body(content = String, content_type = "application/octet-stream",
        description = "The file as the whole body, with its own Content-Type (or application/octet-stream)"),
    responses(
        (status = 201, body = AttachmentView, headers(("location" = String, description = "The attachment's URL"))),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "`attachment_too_large`", body = ErrorBody),
        (status = 415, description = "`attachment_type_not_allowed`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "`attachments_not_configured`", body = ErrorBody),
    )
)]
pub async fn upload_case_attachment(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
    file: FileBody,
) -> ApiResult<(StatusCode, HeaderMap, Json<AttachmentView>)> {
    let view = s
        .app
        .upload_case_attachment(&auth.caller, id, file.upload())
        .await?;
    Ok(created(view))
}

/// The attachments of a case (metadata only), oldest first.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}/attachments", tag = "attachments",
    params(("id" = CaseId, Path, description = "The case's id")),
    responses(
        (status = 200, body = Vec<AttachmentView>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn list_case_attachments(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Json<Vec<AttachmentView>>> {
    Ok(Json(s.app.list_case_attachments(&auth.caller, id).await?))
}

/// One attachment's metadata. An attachment the caller cannot see answers like a missing one.
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}", tag = "attachments",
    params(("id" = AttachmentId, Path, description = "The attachment's id")),
    responses(
        (status = 200, body = AttachmentView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_attachment(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<AttachmentId>,
) -> ApiResult<Json<AttachmentView>> {
    Ok(Json(s.app.get_attachment(&auth.caller, id).await?))
}

/// One attachment's content, as a download (never shown inline). Every download is audited.
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}/content", tag = "attachments",
    params(("id" = AttachmentId, Path, description = "The attachment's id")),
    responses(
        (status = 200, description = "The file, with its recognised Content-Type", content_type = "application/octet-stream", body = String),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, description = "`attachments_not_configured`", body = ErrorBody),
    )
)]
pub async fn download_attachment(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<AttachmentId>,
) -> ApiResult<Response> {
    let download = s.app.download_attachment(&auth.caller, id).await?;
    let a = &download.attachment;
    let mut res = Body::from(download.bytes).into_response();
    let h = res.headers_mut();
    // Only sniffed types are ever stored, so this is one of a handful of plain values.
    let content_type = HeaderValue::try_from(a.content_type.as_str())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    if let Ok(v) = HeaderValue::try_from(content_disposition(&a.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Also set for every response by the outer layers; repeated here because a download must
    // never be rendered or cached, whatever happens to those layers.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// RFC 6266/5987 `attr-char`s stay as they are; everything else is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with the name twice: an ASCII stand-in for old clients, and the exact UTF-8 name.
/// Only the file's own name is offered (a path some clients send is cut off), so a download can
/// never be saved outside the folder the person chose.
pub(crate) fn content_disposition(filename: &str) -> String {
    let base = filename
        .rsplit(['/', '\\'])
        .next()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or("attachment");
    let ascii: String = base
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(base, ATTR_CHAR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_keeps_the_name_and_cannot_be_broken_out_of() {
        assert_eq!(
            content_disposition("scan 1.pdf"),
            "attachment; filename=\"scan 1.pdf\"; filename*=UTF-8''scan%201.pdf"
        );
        assert_eq!(
            content_disposition("Фото.jpg"),
            "attachment; filename=\"____.jpg\"; filename*=UTF-8''%D0%A4%D0%BE%D1%82%D0%BE.jpg"
        );
        let d = content_disposition("a\"; filename=evil.exe");
        assert!(
            d.starts_with("attachment; filename=\"a_; filename=evil.exe\";"),
            "{d}"
        );
        assert_eq!(
            content_disposition("C:\\scans\\..\\x.png"),
            content_disposition("x.png")
        );
        assert_eq!(
            content_disposition("../../etc/"),
            content_disposition("attachment")
        );
        assert!(HeaderValue::try_from(content_disposition("ü\u{7f}\u{202e}gnp.exe")).is_ok());
    }
}
