//! Failures on pages. The status and stable code come from the API's one error mapping
//! ([`ApiError`]); the page shows a message in the person's language instead of JSON.

use super::context::{Frame, PageCtx};
use super::i18n::Tr;
use super::templates::ErrorPage;
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use homeward_app::AppError;
use homeward_domain::Permission;
use homeward_domain::role::PERMISSIONS;

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
    /// The app's refusal, with the permission it was missing when that was the reason (the page
    /// then says who has it).
    App(ApiError, &'static Tr, Option<Permission>),
}

impl PageError {
    pub fn app(e: AppError, t: &'static Tr) -> Self {
        let missing = match &e {
            AppError::Forbidden(p) => Some(*p),
            AppError::Unauthenticated => return Self::SessionEnded,
            _ => None,
        };
        Self::App(ApiError::from(e), t, missing)
    }
}

fn message_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error_not_found",
        StatusCode::FORBIDDEN => "error_forbidden",
        StatusCode::CONFLICT => "error_conflict",
        StatusCode::TOO_MANY_REQUESTS => "error_too_many",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "error_invalid",
        _ => "error_internal",
    }
}

/// What an error page says, kept on its response so that [`html_errors`], which knows the
/// session, can draw it inside the frame (navigation, who is signed in, the language switcher)
/// and in the person's own language.
#[derive(Clone, Debug)]
pub(crate) struct Shown {
    status: StatusCode,
    code: String,
    /// A sentence already in the page's language; otherwise the code's or the status's own.
    message: Option<String>,
    /// The sentence of its kind, when the code has none of its own.
    key: &'static str,
    detail: String,
    missing: Option<Permission>,
}

impl Shown {
    fn new(status: StatusCode, code: &str) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: None,
            key: message_key(status),
            detail: String::new(),
            missing: None,
        }
    }

    fn key(mut self, key: &'static str) -> Self {
        self.key = key;
        self
    }

    /// A refusal with its own sentence (`error_code_<code>`) says what happened; the others get
    /// their status's sentence.
    fn message(&self, t: &Tr) -> String {
        match &self.message {
            Some(m) => m.clone(),
            None => t.get_or(&format!("error_code_{}", self.code), t.get(self.key)),
        }
    }

    /// For a missing permission: what it allows and who has it (the roles that grant it, in the
    /// kinds of party where they do), from the one permission table the app enforces.
    fn who_can(&self, t: &Tr) -> Option<(String, String)> {
        let p = self.missing?;
        let (_, roles, kinds) = PERMISSIONS.iter().find(|(q, _, _)| *q == p)?;
        let what = t.get_or(&format!("adm_perm_{}", p.as_str()), p.as_str());
        let roles: Vec<String> = roles
            .iter()
            .map(|r| t.get_or(&format!("adm_role_{}", r.as_str()), r.as_str()))
            .collect();
        let kinds: Vec<String> = kinds
            .iter()
            .map(|k| t.get_or(&format!("adm_partykind_{}", k.as_str()), k.as_str()))
            .collect();
        let who = t
            .get("error_who_can")
            .replace("{roles}", &roles.join(", "))
            .replace("{kinds}", &kinds.join(", "));
        Some((what, who))
    }

    /// The page, in `f`'s frame and language.
    pub(crate) fn page(&self, f: Frame<'_>) -> Response {
        let t = f.t;
        let message = self.message(t);
        let (because, who_can) = self.who_can(t).unzip();
        let title = t.get(match self.status {
            StatusCode::FORBIDDEN => "err15_title_forbidden",
            StatusCode::NOT_FOUND => "err15_title_not_found",
            StatusCode::TOO_MANY_REQUESTS => "err15_title_too_many",
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "err15_title_invalid",
            _ => "error_title",
        });
        let page = ErrorPage {
            f,
            title,
            code: &self.code,
            message: &message,
            detail: &self.detail,
            because: because.as_deref().unwrap_or(""),
            who_can: who_can.as_deref().unwrap_or(""),
        };
        let mut res = match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                self.status.into_response()
            }
        };
        res.extensions_mut().insert(self.clone());
        res
    }
}

/// The frame of a page drawn before anyone is known: no navigation, no forms.
fn bare_frame(t: &'static Tr) -> Frame<'static> {
    Frame {
        t,
        csrf: "",
        here: "",
        user: None,
        nav: Vec::new(),
    }
}

pub(crate) fn render(t: &'static Tr, status: StatusCode, code: &str, message: &str) -> Response {
    let mut shown = Shown::new(status, code);
    shown.message = Some(message.to_owned());
    shown.page(bare_frame(t))
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (t, shown) = match self {
            Self::SignIn => return Redirect::to("/login").into_response(),
            Self::SessionEnded => return Redirect::to("/login?ended=1").into_response(),
            Self::Csrf(t) => (
                t,
                Shown::new(StatusCode::FORBIDDEN, "csrf_failed").key("error_csrf"),
            ),
            Self::BadForm(t) => (t, Shown::new(StatusCode::BAD_REQUEST, "bad_form")),
            Self::TooLarge(t) => (
                t,
                Shown::new(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large")
                    .key("error_too_large"),
            ),
            Self::App(e, t, missing) => {
                let mut shown = Shown::new(e.status(), e.code());
                // Validation messages name the field and the rule, which helps the person; for
                // anything else the sentence says enough.
                if e.status() == StatusCode::UNPROCESSABLE_ENTITY {
                    e.message().clone_into(&mut shown.detail);
                }
                shown.missing = missing;
                (t, shown)
            }
        };
        shown.page(bare_frame(t))
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

/// Every error page of a page path is drawn here in the frame of whoever asked (navigation, who
/// is signed in, the language switcher, in their language), or bare before anyone is known. A
/// refusal answered as JSON on a page path (an unknown path, a malformed id in a page URL, a
/// method a page does not take) becomes the error page too, for a client that asks for HTML (a
/// browser); `Retry-After` and `Allow` are kept. The API's answers, the machines' endpoints and
/// clients that do not ask for HTML keep JSON.
pub(crate) async fn html_errors(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    if !is_page_path(path) || MACHINE_PATHS.contains(&path) {
        return next.run(req).await;
    }
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let (asked, body) = req.into_parts();
    let res = next
        .run(axum::extract::Request::from_parts(asked.clone(), body))
        .await;
    let shown = match res.extensions().get::<Shown>() {
        Some(shown) => shown.clone(),
        None if wants_html => match json_refusal(res).await {
            Ok(pair) => return framed_json(&s, &asked, pair).await,
            Err(res) => return res,
        },
        None => return res,
    };
    let (parts, _) = res.into_parts();
    framed(&s, &asked, &shown, &parts.headers).await
}

/// A JSON refusal's status, code and headers; any other response back as it was.
async fn json_refusal(res: Response) -> Result<(Shown, HeaderMap), Response> {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let status = res.status();
    if !json || !(status.is_client_error() || status.is_server_error()) {
        return Err(res);
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 10)
        .await
        .unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "error".to_owned());
    Ok((Shown::new(status, &code), parts.headers))
}

async fn framed_json(
    s: &AppState,
    asked: &axum::http::request::Parts,
    (shown, headers): (Shown, HeaderMap),
) -> Response {
    framed(s, asked, &shown, &headers).await
}

/// `shown` in the frame of the session that asked, when there is one.
async fn framed(
    s: &AppState,
    asked: &axum::http::request::Parts,
    shown: &Shown,
    kept: &HeaderMap,
) -> Response {
    let mut page = match PageCtx::from_parts(asked, s).await {
        Ok(cx) => shown.page(cx.frame()),
        Err(_) => {
            let t = super::i18n::tr(super::i18n::choose(None, &asked.headers));
            shown.page(bare_frame(t))
        }
    };
    let headers = page.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(super::PAGE_CSP),
    );
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = kept.get(&name) {
            headers.insert(name, v.clone());
        }
    }
    for v in kept.get_all(header::SET_COOKIE) {
        headers.append(header::SET_COOKIE, v.clone());
    }
    page
}
