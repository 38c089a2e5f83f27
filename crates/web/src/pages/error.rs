//! Failures on pages. The status and stable code come from the API's one error mapping
//! ([`ApiError`]); the page shows a message in the person's language instead of JSON.

use super::i18n::Tr;
use super::templates::ErrorPage;
use crate::error::ApiError;
use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use homeward_app::AppError;

#[derive(Debug)]
pub(crate) enum PageError {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// The session cookie no longer stands for a session (expired or signed out elsewhere).
    SessionEnded,
    /// A form without the session's CSRF token.
    Csrf(&'static Tr),
    /// A form body that is not what the page sent.
    BadForm(&'static Tr),
    /// An upload larger than the route takes.
    TooLarge(&'static Tr),
    App(ApiError, &'static Tr),
}

impl PageError {
    pub fn app(e: AppError, t: &'static Tr) -> Self {
        if matches!(e, AppError::Unauthenticated) {
            return Self::SessionEnded;
        }
        Self::App(ApiError::from(e), t)
    }
}

fn message_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error_not_found",
        StatusCode::FORBIDDEN => "error_forbidden",
        StatusCode::CONFLICT => "error_conflict",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "error_invalid",
        _ => "error_internal",
    }
}

pub(crate) fn render(t: &'static Tr, status: StatusCode, code: &str, message: &str) -> Response {
    let page = ErrorPage {
        t,
        code,
        message,
        detail: "",
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            status.into_response()
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => Redirect::to("/login").into_response(),
            Self::SessionEnded => Redirect::to("/login?ended=1").into_response(),
            Self::Csrf(t) => render(t, StatusCode::FORBIDDEN, "csrf_failed", t.get("error_csrf")),
            Self::BadForm(t) => render(
                t,
                StatusCode::BAD_REQUEST,
                "bad_form",
                t.get("error_invalid"),
            ),
            Self::TooLarge(t) => render(
                t,
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload_too_large",
                t.get("error_too_large"),
            ),
            Self::App(e, t) => {
                let status = e.status();
                let code = e.code();
                // A refusal with its own sentence (`error_code_<code>`) says what happened; the
                // others get their status's sentence. Validation messages name the field and the
                // rule, which helps the person; for anything else the sentence says enough.
                let message = t.get_or(&format!("error_code_{code}"), t.get(message_key(status)));
                let page = ErrorPage {
                    t,
                    code,
                    message: &message,
                    detail: if status == StatusCode::UNPROCESSABLE_ENTITY {
                        e.message()
                    } else {
                        ""
                    },
                };
                match page.render() {
                    Ok(html) => (status, Html(html)).into_response(),
                    Err(err) => {
                        tracing::error!(error = %err, "error page failed to render");
                        status.into_response()
                    }
                }
            }
        }
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

/// A rendered template as a response, or the failure to render as a logged 500.
pub(crate) fn html(t: &'static Tr, page: &impl Template) -> PageResult {
    match page.render() {
        Ok(s) => Ok(Html(s).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "page failed to render");
            Ok(render(
                t,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                t.get("error_internal"),
            ))
        }
    }
}

/// Whether a path belongs to the pages (everything but the API and the health check), whose
/// refusals are pages rather than JSON.
pub(crate) fn is_page_path(path: &str) -> bool {
    !(path.starts_with("/api/") || path == "/api" || path == "/healthz")
}

/// A refusal made before any page handler ran (the request head is too large), as the error page
/// in the language the browser asks for.
pub(crate) fn refusal_page(headers: &HeaderMap, status: StatusCode, code: &str) -> Response {
    let t = super::i18n::tr(super::i18n::choose(None, headers));
    let mut res = render(t, status, code, t.get(message_key(status)));
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(super::PAGE_CSP),
    );
    res
}

/// The system endpoints the OpenAPI document describes outside `/api`: they answer machines, so
/// their refusals stay JSON.
const MACHINE_PATHS: [&str; 3] = ["/healthz", "/metrics", "/readyz"];

/// A refusal answered as JSON on a page path (an unknown path, a malformed id in a page URL, a
/// method a page does not take) becomes the error page, in the browser's language, for a client
/// that asks for HTML (a browser); `Retry-After` and `Allow` are kept. The API's answers, the
/// machines' endpoints and clients that do not ask for HTML keep JSON.
pub(crate) async fn html_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !wants_html || !is_page_path(path) || MACHINE_PATHS.contains(&path) {
        return next.run(req).await;
    }
    let headers = req.headers().clone();
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let status = res.status();
    if !json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 10)
        .await
        .unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "error".to_owned());
    let mut page = refusal_page(&headers, status, &code);
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = parts.headers.get(&name) {
            page.headers_mut().insert(name, v.clone());
        }
    }
    page
}
