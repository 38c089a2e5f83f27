//! Who is looking at a page, in which language, and the CSRF token every form repeats.
//!
//! Pages use the same sessions as the API (the app's, with their idle and absolute expiry). A page
//! request without a valid session is sent to the sign-in page; a form post must carry the
//! session's CSRF token in its `csrf` field or it is refused before any handler runs, because the
//! one extractor that reads a form body ([`PostForm`]) checks it.

use super::error::PageError;
use super::i18n::{self, Tr};
use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::extract::client_addr;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use homeward_app::{App, AppError, Caller};
use homeward_domain::Permission;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A signed-in person looking at a page.
#[derive(Debug, Clone)]
pub(crate) struct PageCtx {
    pub caller: Caller,
    pub csrf: String,
    pub session: String,
    pub t: &'static Tr,
    /// The path of this page, for forms that come back to it (the language switcher).
    pub here: String,
    /// When the page was asked for, by the app's clock (what a printed document says).
    pub now: chrono::DateTime<chrono::Utc>,
}

impl PageCtx {
    pub(crate) async fn from_parts(parts: &Parts, state: &AppState) -> Result<Self, PageError> {
        let lang_fallback = i18n::choose(None, &parts.headers);
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(PageError::SignIn);
        };
        let source = client_addr(parts, state.opts.trust_forwarded_for);
        let (caller, csrf) = match state.app.authenticate_session(&token, source).await {
            Ok(v) => v,
            Err(AppError::Unauthenticated) => return Err(PageError::SessionEnded),
            Err(e) => return Err(PageError::app(e, i18n::tr(lang_fallback))),
        };
        let t = i18n::tr(i18n::choose(caller.user().language, &parts.headers));
        Ok(Self {
            caller,
            csrf,
            session: token,
            t,
            here: parts.uri.path().to_owned(),
            now: state.app.now(),
        })
    }

    /// The frame every page is drawn in.
    pub fn frame(&self) -> Frame<'_> {
        let c = &self.caller;
        let mut nav = vec![("/dashboard", "nav_dashboard")];
        if c.may(Permission::CaseRead) || c.may(Permission::RecordRead) {
            nav.push(("/indicators", "ind_nav"));
        }
        // The cases: the mediator's staff (the app's case list decides; the same permission).
        if c.may(Permission::CaseRead) && c.party().kind == homeward_domain::PartyKind::Mediator {
            nav.push(("/cases", "nav_cases"));
        }
        if c.may(Permission::RecordRead) {
            nav.push(("/records", "nav_records"));
        }
        // Exports: whoever the app will serve one (it reads records and its party sees some).
        if c.may_export() {
            nav.push(("/exports", "exp_nav"));
        }
        if c.may(Permission::RecordImport) {
            nav.push(("/import", "nav_import"));
        }
        if c.may(Permission::MatchReview) && c.party().kind == homeward_domain::PartyKind::Mediator
        {
            nav.push(("/matches", "nav_matches"));
        }
        // Case work: a humanitarian organisation's way in is its tasks, never the cases.
        if c.may(Permission::TaskRead) && c.party().kind == homeward_domain::PartyKind::Humanitarian
        {
            nav.push(("/tasks", "my_tasks"));
        }
        // Transfers area: the rounds for the mediator's staff and the two sides; the overdue
        // visits for the mediator and for whoever does the visits.
        let mediator = c.party().kind == homeward_domain::PartyKind::Mediator;
        if (mediator && c.may(Permission::CaseRead)) || c.may(Permission::TransferListRead) {
            nav.push(("/transfer-lists", "tr_nav_lists"));
        }
        if (mediator && c.may(Permission::CaseRead)) || c.may(Permission::FollowUpReport) {
            nav.push(("/follow-ups", "tr_nav_visits"));
        }
        // Administration, the audit viewer and one's own account (web-admin).
        if c.may(Permission::UserManage) {
            nav.push(("/admin", "nav_admin"));
        }
        if c.may(Permission::AuditRead) {
            nav.push(("/audit", "nav_audit"));
        }
        // Evidence: the accountability records observers examine and export.
        if c.may(Permission::AccountabilityRead) {
            nav.push(("/evidence", "ev_nav"));
        }
        nav.push(("/account", "nav_account"));
        Frame {
            t: self.t,
            csrf: &self.csrf,
            here: &self.here,
            user: Some((c.user().display_name.as_str(), c.party().name.as_str())),
            nav: nav
                .into_iter()
                .map(|(href, key)| NavItem {
                    href,
                    label: self.t.get(key),
                    current: self.here == href || self.here.starts_with(&format!("{href}/")),
                })
                .collect(),
        }
    }

    /// An app failure as a page in this person's language.
    pub fn fail(&self, e: AppError) -> PageError {
        PageError::app(e, self.t)
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts, state).await
    }
}

/// What the frame of a page shows: header, navigation, language switcher, sign-out.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub t: &'static Tr,
    pub csrf: &'a str,
    pub here: &'a str,
    /// Display name and party, when signed in.
    pub user: Option<(&'a str, &'a str)>,
    pub nav: Vec<NavItem<'a>>,
}

impl Frame<'_> {
    /// The languages offered by the switcher: code, own name, whether it is the current one.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        homeward_domain::Language::ALL
            .into_iter()
            .map(|l| (l.code(), i18n::tr(l).get("language_name"), l == self.t.lang))
            .collect()
    }
}

#[derive(Debug)]
pub(crate) struct NavItem<'a> {
    pub href: &'static str,
    pub label: &'a str,
    pub current: bool,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted by a signed-in person, its CSRF token checked.
#[derive(Debug)]
pub(crate) struct PostForm<T> {
    pub cx: PageCtx,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for PostForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let cx = PageCtx::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| PageError::BadForm(cx.t))?;
        let sent: CsrfField =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::Csrf(cx.t))?;
        if !App::csrf_matches(&cx.csrf, &sent.csrf) {
            return Err(PageError::Csrf(cx.t));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::BadForm(cx.t))?;
        Ok(Self { cx, form })
    }
}

/// One file of a multipart form.
#[derive(Debug)]
pub(crate) struct UploadedFile {
    /// The form field it came in.
    pub field: String,
    /// The name the browser gave; shown back to the person, never logged or put in a URL.
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// A multipart form (a file upload) posted by a signed-in person, its CSRF token checked before
/// any handler sees a byte of it, exactly as [`PostForm`] does for plain forms. The whole body is
/// read first because browsers may send the token after the file; the route's body limit bounds it.
#[derive(Debug)]
pub(crate) struct PostMultipart {
    pub cx: PageCtx,
    /// The text fields, in the order sent (a field may repeat), without the CSRF token.
    pub fields: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
}

impl PostMultipart {
    /// The first value of a text field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first file sent in a field, if it is not empty (a browser sends an empty part when
    /// nothing was chosen).
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files
            .iter()
            .find(|f| f.field == name && !f.bytes.is_empty())
    }
}

impl FromRequest<AppState> for PostMultipart {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let cx = PageCtx::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let t = cx.t;
        let mut multipart = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|_| PageError::BadForm(t))?;
        let mut fields = Vec::new();
        let mut files = Vec::new();
        let mut csrf = None;
        loop {
            let part = match multipart.next_field().await {
                Ok(Some(part)) => part,
                Ok(None) => break,
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(PageError::TooLarge(t));
                }
                Err(_) => return Err(PageError::BadForm(t)),
            };
            let name = part.name().unwrap_or_default().to_owned();
            let filename = part.file_name().map(str::to_owned);
            let content_type = part.content_type().map(str::to_owned);
            let bytes = part.bytes().await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    PageError::TooLarge(t)
                } else {
                    PageError::BadForm(t)
                }
            })?;
            if filename.is_some() {
                files.push(UploadedFile {
                    field: name,
                    filename,
                    content_type,
                    bytes,
                });
            } else {
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| PageError::BadForm(t))?;
                if name == "csrf" {
                    csrf.get_or_insert(text);
                } else {
                    fields.push((name, text));
                }
            }
        }
        if !csrf.is_some_and(|sent| App::csrf_matches(&cx.csrf, &sent)) {
            return Err(PageError::Csrf(t));
        }
        Ok(Self { cx, fields, files })
    }
}

/// A path to come back to after a form, only if it is one of ours: a full URL or `//host` would
/// let a crafted form send the person elsewhere.
pub(crate) fn local_path(p: &str) -> &str {
    if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.contains("://") {
        p
    } else {
        "/dashboard"
    }
}
