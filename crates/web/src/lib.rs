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
mod openapi;
mod pages;
mod routes;

pub use auth::Authenticated;
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use extract::{ApiJson, ApiPath, ApiQuery, ClientAddr, CsvBody};

use axum::Router;
use homeward_app::App;
use std::future::Future;
use std::net::SocketAddr;
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
    let (api, openapi) = routes::api(&opts, app.config().max_attachment_bytes).split_for_parts();
    let api = api
        .merge(pages::router(app.config().max_attachment_bytes))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed);
    let api = layers::wrap(api, &opts);
    api.with_state(AppState {
        app,
        opts: Arc::new(opts),
        openapi: Arc::new(openapi),
    })
}

/// The OpenAPI document the server publishes, for tools that want it without starting a server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let limit = homeward_app::AppConfig::default().max_attachment_bytes;
    routes::api(&WebOptions::default(), limit).into_openapi()
}

/// Serves the application on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    opts: WebOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(app, opts).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
