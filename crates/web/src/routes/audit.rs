//! The audit log, for auditors.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use homeward_app::audit::ChainReport;
use homeward_app::{AppError, AuditFilter};
use homeward_domain::{AuditEntry, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries after this sequence number (the `next` of the previous page).
    after_seq: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// An action code, e.g. `record.read`.
    action: Option<String>,
    /// e.g. `record`, `user`, `party`, `token`.
    target_kind: Option<String>,
    target_id: Option<String>,
    /// Only entries by this user.
    actor_user: Option<UserId>,
    /// Entries at or after this moment (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Entries before this moment (RFC 3339).
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditEntry>,
    /// Pass as `after_seq` for the next page; absent on the last page.
    next: Option<i64>,
}

/// Audit entries in order. Reading the log is itself audited.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, body = AuditPage),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `limit` out of range", body = ErrorBody),
    )
)]
pub async fn list_audit(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    // Refused rather than clamped, like every other page size: the document states the range.
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            "out_of_range",
            format!("between 1 and {MAX_LIMIT}"),
        )
        .into());
    }
    let filter = AuditFilter {
        after_seq: q.after_seq.unwrap_or(0),
        limit,
        action: q.action,
        target_kind: q.target_kind,
        target_id: q.target_id,
        actor_user: q.actor_user,
        from: q.from,
        until: q.until,
        ..AuditFilter::default()
    };
    let items = s.app.list_audit(&auth.caller, filter).await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { items, next }))
}

/// Checks the whole hash chain.
#[utoipa::path(
    get, path = "/api/v1/audit/verify", tag = "audit",
    responses(
        (status = 200, description = "The chain is intact", body = ChainReport),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`audit_chain_broken`; `entry` is the first bad entry", body = ErrorBody),
    )
)]
pub async fn verify_audit(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<ChainReport>> {
    Ok(Json(s.app.verify_audit_as(&auth.caller).await?))
}
