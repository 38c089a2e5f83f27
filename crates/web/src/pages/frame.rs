//! Signing in and out, the language switcher, and the static files pages load.

use super::context::{Frame, PageCtx, PostForm, local_path};
use super::error::{PageError, PageResult, html};
use super::i18n::{self, LANGUAGE_COOKIE};
use super::templates::LoginPage;
use crate::AppState;
use crate::auth::{SESSION_COOKIE, expired_session_cookie, session_cookie};
use crate::extract::ClientAddr;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use homeward_app::auth::LoginRequest;
use homeward_app::{App, AppError};
use homeward_domain::Language;
use rand::RngCore;
use serde::Deserialize;

/// Before there is a session, the sign-in and language forms are protected by a random token
/// kept in this cookie and repeated in the form (a cross-site page can make the browser post,
/// but can neither read nor set our cookie).
pub(crate) const PRELOGIN_COOKIE: &str = "homeward_prelogin";

fn random_token() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn prelogin_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((PRELOGIN_COOKIE, token))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

fn language_cookie(lang: Language, secure: bool) -> Cookie<'static> {
    Cookie::build((LANGUAGE_COOKIE, lang.code()))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .path("/")
        .permanent()
        .build()
}

/// The sign-in form, with its pre-session token (the one in the cookie if there is one).
// The sign-in page has this many things to say; a struct for one private helper would only rename them.
#[allow(clippy::too_many_arguments)]
fn login_form(
    opts: &crate::WebOptions,
    jar: CookieJar,
    headers: &HeaderMap,
    notice: Option<&'static str>,
    alert: bool,
    username: &str,
    ask_totp: bool,
    wait_minutes: Option<i64>,
) -> PageResult {
    let token = jar
        .get(PRELOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 48)
        .unwrap_or_else(random_token);
    let jar = jar.add(prelogin_cookie(token.clone(), opts.secure_cookies));
    let t = i18n::tr(i18n::choose(None, headers));
    let page = LoginPage {
        f: Frame {
            t,
            csrf: &token,
            here: "/login",
            user: None,
            nav: Vec::new(),
        },
        notice,
        alert,
        username,
        ask_totp,
        wait_minutes,
        demo: &opts.demo_logins,
    };
    let res = html(t, &page)?;
    Ok((jar, res).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginNotice {
    #[serde(default)]
    ended: Option<u8>,
    #[serde(default)]
    out: Option<u8>,
}

pub(crate) async fn login_page(
    State(s): State<AppState>,
    Query(q): Query<LoginNotice>,
    headers: HeaderMap,
    jar: CookieJar,
) -> PageResult {
    let notice = if q.out.is_some() {
        Some("signed_out")
    } else if q.ended.is_some() {
        Some("session_expired")
    } else {
        None
    };
    login_form(&s.opts, jar, &headers, notice, false, "", false, None)
}

// Deliberately not `Debug`: it holds a password.
#[derive(Deserialize)]
pub(crate) struct LoginFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp_code: Option<String>,
}

pub(crate) async fn login_submit(
    State(s): State<AppState>,
    ClientAddr(source): ClientAddr,
    headers: HeaderMap,
    jar: CookieJar,
    body: Bytes,
) -> PageResult {
    let secure = s.opts.secure_cookies;
    let t = i18n::tr(i18n::choose(None, &headers));
    let Ok(form) = serde_urlencoded::from_bytes::<LoginFields>(&body) else {
        return Err(PageError::BadForm(t));
    };
    let expected = jar.get(PRELOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|e| App::csrf_matches(&e, &form.csrf)) {
        return login_form(
            &s.opts,
            jar,
            &headers,
            Some("form_expired"),
            true,
            &form.username,
            false,
            None,
        );
    }
    let req = LoginRequest {
        username: form.username.clone(),
        password: form.password,
        totp_code: form.totp_code,
    };
    let failed = |key, ask_totp, wait: Option<i64>| {
        login_form(
            &s.opts,
            jar.clone(),
            &headers,
            Some(key),
            true,
            &form.username,
            ask_totp,
            wait,
        )
    };
    match s.app.login(req, source).await {
        Ok(session) => {
            let jar = jar
                .remove(Cookie::build(PRELOGIN_COOKIE).path("/"))
                .add(session_cookie(session.token, secure));
            Ok((jar, Redirect::to("/dashboard")).into_response())
        }
        Err(AppError::InvalidCredentials) => failed("invalid_credentials", false, None),
        Err(AppError::SecondFactorRequired) => failed("second_factor_required", true, None),
        Err(AppError::InvalidSecondFactor) => failed("invalid_second_factor", true, None),
        // The lockout says how long it lasts, in whole minutes rounded up.
        Err(AppError::TooManyAttempts { retry_after_secs }) => failed(
            "too_many_attempts",
            false,
            Some(((retry_after_secs.max(1) + 59) / 60).max(1)),
        ),
        Err(e) => Err(PageError::app(e, t)),
    }
}

#[derive(Deserialize)]
pub(crate) struct NoFields {}

pub(crate) async fn logout(
    State(s): State<AppState>,
    ClientAddr(source): ClientAddr,
    jar: CookieJar,
    PostForm { cx, .. }: PostForm<NoFields>,
) -> PageResult {
    s.app
        .logout(&cx.session, source)
        .await
        .map_err(|e| cx.fail(e))?;
    let jar = jar.add(expired_session_cookie(s.opts.secure_cookies));
    Ok((jar, Redirect::to("/login?out=1")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LanguageFields {
    #[serde(default)]
    csrf: String,
    language: String,
    #[serde(default)]
    back: String,
}

/// Switches the language: stored on the user when signed in, and in a cookie either way (so the
/// sign-in page after signing out stays in it).
pub(crate) async fn set_language(State(s): State<AppState>, req: Request) -> PageResult {
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let jar = CookieJar::from_headers(headers);
    let t = i18n::tr(i18n::choose(None, headers));
    let body = axum::body::to_bytes(body, s.opts.max_body_bytes)
        .await
        .map_err(|_| PageError::BadForm(t))?;
    let form: LanguageFields =
        serde_urlencoded::from_bytes(&body).map_err(|_| PageError::BadForm(t))?;
    let lang = Language::parse(&form.language).ok_or(PageError::BadForm(t))?;
    if jar.get(SESSION_COOKIE).is_some() {
        let cx = PageCtx::from_parts(&parts, &s).await?;
        if !App::csrf_matches(&cx.csrf, &form.csrf) {
            return Err(PageError::Csrf(cx.t));
        }
        s.app
            .set_own_language(&cx.caller, lang)
            .await
            .map_err(|e| cx.fail(e))?;
    } else {
        let expected = jar.get(PRELOGIN_COOKIE).map(|c| c.value().to_owned());
        if !expected.is_some_and(|e| App::csrf_matches(&e, &form.csrf)) {
            return Err(PageError::Csrf(t));
        }
    }
    let jar = jar.add(language_cookie(lang, s.opts.secure_cookies));
    let back = local_path(&form.back).to_owned();
    Ok((jar, Redirect::to(&back)).into_response())
}

pub(crate) async fn root(jar: CookieJar) -> Redirect {
    if jar.get(SESSION_COOKIE).is_some() {
        Redirect::to("/dashboard")
    } else {
        Redirect::to("/login")
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

pub(crate) async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    )
}

/// The printable documents' own sheet: no frame, print-first.
pub(crate) async fn document_stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/document.css"),
    )
}

/// The icon browsers show beside the page's title (and ask for as `/favicon.ico` on every page).
pub(crate) async fn favicon() -> Response {
    asset("image/svg+xml", include_str!("../../static/favicon.svg"))
}

pub(crate) async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    )
}
