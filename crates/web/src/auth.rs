//! Who is asking: a browser session cookie (with CSRF protection on changes) or an API bearer
//! token. The app decides whether the credentials are good; this module only finds them in the
//! request.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::client_addr;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use homeward_app::{App, AppError, Caller};

pub(crate) const SESSION_COOKIE: &str = "homeward_session";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub caller: Caller,
    /// The session token when the caller signed in by cookie (for signing out).
    pub session: Option<String>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let source = client_addr(parts, state.opts.trust_forwarded_for);
        // A bearer token wins over a cookie: a script that holds a token means to use it.
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .ok_or(AppError::Unauthenticated)?;
            let caller = state.app.authenticate_token(token, source).await?;
            return Ok(Self {
                caller,
                session: None,
            });
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .ok_or(AppError::Unauthenticated)?;
        let (caller, csrf) = state.app.authenticate_session(&token, source).await?;
        // A browser attaches the cookie to any request to this site, including ones a hostile page
        // triggers; only our own pages know the CSRF token to repeat.
        if !parts.method.is_safe() {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !App::csrf_matches(&csrf, sent) {
                return Err(ApiError::csrf_failed());
            }
        }
        Ok(Self {
            caller,
            session: Some(token),
        })
    }
}

pub(crate) fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

/// A cookie that makes the browser forget the session.
pub(crate) fn expired_session_cookie(secure: bool) -> Cookie<'static> {
    let mut c = session_cookie(String::new(), secure);
    c.make_removal();
    c
}
