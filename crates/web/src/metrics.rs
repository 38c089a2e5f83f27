//! Prometheus metrics (issue 19): requests and their latency by route *template*, the database
//! pool, the job queue and the audit chain's length.
//!
//! Nothing here can carry personal data: routes are templates (`/api/v1/records/{id}`, never the
//! id or a query string), and everything else is a count. So `/metrics` needs no user; a
//! deployment that does not want its figures public sets a metrics token (see `WebOptions`).
//!
//! The recorder is the process's one global recorder (the `metrics` crate's design): several
//! routers in one process (tests) share it.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

const REQUESTS: &str = "homeward_http_requests_total";
const DURATION: &str = "homeward_http_request_duration_seconds";
/// From a fast read to a slow import page, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The global recorder's handle, installed on first use; `None` if another recorder was installed
/// first (then there is nothing of ours to render).
fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "HTTP requests answered, by method, route and status"
    );
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time to answer a request, by method and route"
    );
    metrics::describe_gauge!("homeward_db_pool_connections", "Open database connections");
    metrics::describe_gauge!("homeward_db_pool_idle", "Idle database connections");
    metrics::describe_gauge!(
        "homeward_db_pool_max",
        "Most database connections the pool opens"
    );
    metrics::describe_gauge!("homeward_jobs", "Jobs in the queue, by state");
    metrics::describe_gauge!(
        "homeward_audit_chain_length",
        "Entries in the audit hash chain"
    );
}

/// Counts and times every request under its route template.
pub(crate) async fn record(req: Request, next: Next) -> Response {
    let _ = handle();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::histogram!(DURATION, "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(REQUESTS, "method" => method, "route" => route, "status" => status)
        .increment(1);
    res
}

/// The metrics in the Prometheus text format.
#[utoipa::path(
    get, path = "/metrics", tag = "system", security(()),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"),
        (status = 401, description = "A metrics token is configured and the request did not carry it"),
        (status = 503, description = "The database does not answer"),
    )
)]
pub(crate) async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &s.opts.metrics_token
        && !bearer_matches(&headers, token)
    {
        return crate::ApiError::new(
            StatusCode::UNAUTHORIZED,
            "metrics_token_required",
            "send the metrics token as `Authorization: Bearer …`",
        )
        .into_response();
    }
    let Some(handle) = handle() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let snapshot = match s.app.ops_snapshot().await {
        Ok(snap) => snap,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database does not answer");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    metrics::gauge!("homeward_db_pool_connections").set(snapshot.pool.size);
    metrics::gauge!("homeward_db_pool_idle").set(snapshot.pool.idle);
    metrics::gauge!("homeward_db_pool_max").set(snapshot.pool.max);
    for (state, n) in snapshot.jobs {
        metrics::gauge!("homeward_jobs", "state" => state).set(n as f64);
    }
    metrics::gauge!("homeward_audit_chain_length").set(snapshot.audit_length as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// Compared without stopping at the first difference, so timing tells nothing of the token.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready`, `database_unreachable` or `migrations_pending`.
    status: &'static str,
    /// Migrations this build needs that the database lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_migrations: Option<usize>,
}

/// Whether to send this server requests: the database answers and has every migration applied.
/// (`/healthz` is liveness: the process answers and reaches its database.)
#[utoipa::path(
    get, path = "/readyz", tag = "system", security(()),
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready, and why", body = Readiness),
    )
)]
pub(crate) async fn readyz(State(s): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    use homeward_app::ops::Readiness as R;
    let (code, status, pending_migrations) = match s.app.readiness().await {
        R::Ready => (StatusCode::OK, "ready", None),
        R::DatabaseUnreachable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unreachable",
            None,
        ),
        R::MigrationsPending(n) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "migrations_pending",
            Some(n),
        ),
    };
    (
        code,
        axum::Json(Readiness {
            status,
            pending_migrations,
        }),
    )
}
