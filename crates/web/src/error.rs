//! The one place where failures become HTTP responses. Every error, from a use-case, a rejected
//! extractor, an unknown route or a wrong method, leaves as the same JSON shape with a stable code,
//! so that clients branch on `error.code` and never parse prose.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_app::{AppError, ErrorKind, RowError};
use homeward_domain::{Condition, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `not_found`, `csrf_failed`, ...
    pub code: &'static str,
    /// For people; may change between versions.
    pub message: String,
    /// Which input fields are wrong, when the request was understood but is invalid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Which rows of an imported file are wrong, by line number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowError>,
    /// On `version_conflict`: the record's current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// On `version_conflict` in a change to two records (a merge): which record is stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<homeward_domain::RecordId>,
    /// On `stale_list_hash`: the transfer list's current content hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_hash: Option<String>,
    /// On `audit_chain_broken`: the first entry that does not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<i64>,
    /// On `transition_refused`, `disclosure_not_covered` and `case_not_listable`: every condition, each with its
    /// stable code and whether it is met.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    // Boxed: handlers return `Result<_, ApiError>` everywhere, and the success path should not
    // carry the error's size.
    detail: Box<ErrorDetail>,
    retry_after_secs: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let detail = Box::new(ErrorDetail {
            code,
            message: message.into(),
            fields: Vec::new(),
            rows: Vec::new(),
            current_version: None,
            record_id: None,
            current_hash: None,
            entry: None,
            conditions: Vec::new(),
        });
        Self {
            status,
            detail,
            retry_after_secs: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.detail.code
    }

    pub fn message(&self) -> &str {
        &self.detail.message
    }

    pub(crate) fn csrf_failed() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "a request signed in by cookie must repeat the session's CSRF token in the X-CSRF-Token header",
        )
    }

    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let code = e.code();
        let status = match (&e, e.kind()) {
            // Verification is the one place a broken chain is an answer rather than our failure.
            (AppError::ChainBroken(_), _) => StatusCode::CONFLICT,
            (AppError::AttachmentTooLarge { .. }, _) => StatusCode::PAYLOAD_TOO_LARGE,
            (AppError::AttachmentTypeNotAllowed, _) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            // The server is not set up for it: nothing the client can change, and not a crash.
            (_, ErrorKind::NotConfigured) => StatusCode::SERVICE_UNAVAILABLE,
            (_, ErrorKind::Invalid) => StatusCode::UNPROCESSABLE_ENTITY,
            (_, ErrorKind::Unauthenticated) => StatusCode::UNAUTHORIZED,
            (_, ErrorKind::Forbidden) => StatusCode::FORBIDDEN,
            (_, ErrorKind::NotFound) => StatusCode::NOT_FOUND,
            (_, ErrorKind::Conflict) => StatusCode::CONFLICT,
            (_, ErrorKind::RateLimited) => StatusCode::TOO_MANY_REQUESTS,
            (_, ErrorKind::Internal) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The detail can name tables, constraints or paths: it belongs in the log, where the
            // request id ties it to the response the client saw.
            tracing::error!(error = %e, "request failed");
            return Self::new(
                status,
                code,
                "internal error; the server log has the details under this request's id",
            );
        }
        let mut err = Self::new(status, code, e.to_string());
        err.detail.conditions = e.conditions().to_vec();
        match e {
            AppError::Validation(v) => err.detail.fields = v.0,
            AppError::ImportInvalid(rows) => err.detail.rows = rows,
            AppError::VersionConflict { current } => err.detail.current_version = Some(current),
            AppError::RecordVersionConflict { record, current } => {
                err.detail.current_version = Some(current);
                err.detail.record_id = Some(record);
            }
            AppError::ChainBroken(b) => err.detail.entry = Some(b.seq),
            AppError::StaleListHash { current } => err.detail.current_hash = Some(current),
            AppError::TooManyAttempts { retry_after_secs } => {
                err.retry_after_secs = Some(retry_after_secs)
            }
            _ => {}
        }
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            axum::Json(ErrorBody {
                error: *self.detail,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept this method",
    )
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
