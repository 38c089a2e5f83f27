//! Health check and the API description.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
}

/// Whether the server can reach its database (for load balancers and monitors).
#[utoipa::path(
    get, path = "/healthz", tag = "system", security(()),
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    )
)]
pub async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = s.app.backend();
    if s.app.healthy().await {
        (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database,
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
                database,
            }),
        )
    }
}

/// This document.
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "system", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
pub async fn openapi_json(State(s): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(s.openapi.as_ref().clone())
}
