//! Homeward's HTTP layer: the JSON API under `/api/v1`, its OpenAPI 3.1 document at
//! `/api/openapi.json`, `/healthz`, and the web interface's pages (see `pages`).
//!
//! This is the only crate that knows HTTP. Handlers find the caller and the input in the request,
//! call one use-case of [`homeward_app::App`] and turn its answer into a response; who may do what
//! is decided by the app, never here.

mod auth;
mod error;
mod extract;
mod layers;
mod limits;
mod metrics;
mod openapi;
mod pages;
mod routes;

pub use auth::Authenticated;
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use extract::{ApiJson, ApiPath, ApiQuery, ClientAddr, CsvBody};

use axum::Router;
use homeward_app::App;
use std::future::Future;
use std::sync::Arc;

/// How the HTTP layer behaves in one deployment.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// Take the client address from the last `X-Forwarded-For` entry (behind a reverse proxy that
    /// sets it). Off, the address is the TCP peer's.
    pub trust_forwarded_for: bool,
    /// Largest JSON request body.
    pub max_body_bytes: usize,
    /// Largest imported file.
    pub max_import_bytes: usize,
    /// Mark the session cookie `Secure` (browsers then send it over HTTPS only). Turn off only for
    /// plain-HTTP development on localhost.
    pub secure_cookies: bool,
    /// A demo server's throwaway accounts, shown on the sign-in page so that someone trying
    /// Homeward needs nothing but the page. Empty on a real server.
    pub demo_logins: Vec<DemoLogin>,
    /// When set, `/metrics` answers only requests carrying `Authorization: Bearer <token>`.
    /// The figures hold no personal data (see `metrics`), so unset it is open like `/healthz`.
    pub metrics_token: Option<String>,
}

/// One account of a demo server (synthetic data, passwords new on every run).
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub party: String,
    pub password: String,
    /// The first account to try (the one that reviews matches), shown first with a hint.
    pub suggested: bool,
}

impl Default for WebOptions {
    fn default() -> Self {
        Self {
            trust_forwarded_for: false,
            max_body_bytes: 1 << 20,
            max_import_bytes: 64 << 20,
            secure_cookies: true,
            demo_logins: Vec::new(),
            metrics_token: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub app: App,
    pub opts: Arc<WebOptions>,
    pub openapi: Arc<utoipa::openapi::OpenApi>,
}

/// The whole HTTP application.
pub fn router(app: App, opts: WebOptions) -> Router {
    let (api, mut openapi) =
        routes::api(&opts, app.config().max_attachment_bytes).split_for_parts();
    openapi::add_common_refusals(&mut openapi);
    let max_attachment_bytes = app.config().max_attachment_bytes;
    let state = AppState {
        app,
        opts: Arc::new(opts),
        openapi: Arc::new(openapi),
    };
    let api = api
        .merge(pages::router(max_attachment_bytes))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::html_errors,
        ));
    let api = layers::wrap(api, &state.opts);
    api.with_state(state)
}

/// The OpenAPI document the server publishes, for tools that want it without starting a server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let limit = homeward_app::AppConfig::default().max_attachment_bytes;
    let mut doc = routes::api(&WebOptions::default(), limit).into_openapi();
    openapi::add_common_refusals(&mut doc);
    doc
}

/// Serves the application on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
///
/// Our own loop rather than `axum::serve`, which cannot configure hyper: hyper's header count
/// must sit above ours (see `limits`) for our refusals to be the ones clients get, and the head
/// of a request must arrive within hyper's 30 s read timeout, which needs a timer.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    opts: WebOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::response::IntoResponse;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let router = router(app, opts);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_headers(limits::HYPER_MAX_HEADERS)
        .timer(TokioTimer::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            // On its own task, so a client that goes away mid-request does not cancel the
            // use-case half-way: a SQLite transaction cancelled while it begins is left open on
            // its pooled connection and holds the write lock, and every later write fails with
            // "database is locked" (seen under `wrk`, which closes connections mid-request).
            let handled = tokio::spawn(router.clone().oneshot(req));
            async move {
                match handled.await {
                    Ok(res) => res,
                    Err(e) => {
                        tracing::error!(error = %e, "a request handler panicked");
                        Ok(axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
                    }
                }
            }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A connection that failed before it was accepted concerns only its client; anything else (out
/// of file descriptors) gets a pause, so the loop does not spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}
