//! Evidence bundles for observers (prosecutors, auditors): a case's accountability record, its
//! attachments and the audit entries about them, signed, in one file that
//! `homeward evidence verify` checks without the database.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use homeward_app::evidence::ObservedCasePage;
use homeward_domain::CaseId;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ObservedParams {
    /// The last case id of the previous page.
    after: Option<CaseId>,
}

/// The cases an observer may examine (those with an accountability record), with the child's
/// names as written. A page scans up to 500 cases. Audited with the case ids.
#[utoipa::path(
    get, path = "/api/v1/evidence/cases", tag = "accountability",
    params(ObservedParams),
    responses(
        (status = 200, body = ObservedCasePage),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn observed_cases(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<ObservedParams>,
) -> ApiResult<Json<ObservedCasePage>> {
    Ok(Json(s.app.observed_cases(&auth.caller, q.after).await?))
}

/// The case's evidence bundle (format `homeward-evidence-bundle` version 1, a tar file; see
/// docs/evidence.md): observers only. The export and each attachment read are audited.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}/evidence", tag = "accountability",
    params(("id" = CaseId, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The signed bundle", content_type = "application/x-tar", body = String),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such case, or none the observer may examine", body = ErrorBody),
        (status = 503, description = "`evidence_not_configured` (no signing key) or `attachments_not_configured`", body = ErrorBody),
    )
)]
pub async fn evidence_bundle(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Response> {
    let bundle = s.app.export_evidence(&auth.caller, id).await?;
    let mut res = Body::from(bundle.bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    if let Ok(v) = HeaderValue::try_from(super::attachments::content_disposition(&bundle.filename))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
