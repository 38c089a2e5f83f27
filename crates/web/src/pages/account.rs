//! My account, for every signed-in person: password, second factor, language, and the API
//! tokens for their scripts. The same use-cases as `/api/v1/me/…`.

use super::admin::{Problems, no_store, problems};
use super::context::{Frame, PageCtx, PostForm};
use super::error::{PageResult, html};
use super::i18n::Tr;
use super::refusal::Fields;
use super::show::when;
use crate::AppState;
use crate::auth::expired_session_cookie;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use homeward_app::{Actor, ApiToken, AppError};
use homeward_domain::TokenId;
use serde::Deserialize;

#[derive(Debug)]
pub(crate) struct TokenRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: String,
    /// `active`, `revoked` or `expired`, and its label.
    pub status: &'static str,
    pub status_label: String,
}

pub(crate) fn token_row(t: &Tr, k: &ApiToken, now: chrono::DateTime<chrono::Utc>) -> TokenRow {
    let none = t.get("not_given").to_owned();
    let status = if k.revoked_at.is_some() {
        "revoked"
    } else if k.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    };
    TokenRow {
        id: k.id.to_string(),
        name: k.name.clone(),
        created_at: when(&k.created_at),
        expires_at: k
            .expires_at
            .as_ref()
            .map(when)
            .unwrap_or_else(|| t.get("adm_never").to_owned()),
        last_used_at: k.last_used_at.as_ref().map(when).unwrap_or(none),
        status,
        status_label: t.get(&format!("adm_token_{status}")).to_owned(),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
pub(crate) struct AccountPage<'a> {
    pub f: Frame<'a>,
    pub username: String,
    pub display_name: String,
    pub party: String,
    pub roles: String,
    pub totp: bool,
    pub notice: Option<&'static str>,
    pub problems: Problems,
    /// Set while enrolling a second factor: what the authenticator app needs.
    pub enrol: Option<Enrolment>,
}

#[derive(Debug)]
pub(crate) struct Enrolment {
    pub secret: String,
    pub uri: String,
    /// The QR code as inline SVG markup (drawn here, no image loaded); empty if it could not be
    /// made, in which case the key is typed in.
    pub qr_svg: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

fn account_page(
    cx: &PageCtx,
    notice: Option<&'static str>,
    problems: Problems,
    enrol: Option<Enrolment>,
) -> PageResult {
    let t = cx.t;
    let u = cx.caller.user();
    let page = AccountPage {
        f: cx.frame(),
        username: u.username.to_string(),
        display_name: u.display_name.clone(),
        party: cx.caller.party().name.as_str().to_owned(),
        roles: u
            .roles
            .iter()
            .map(|r| t.get_or(&format!("adm_role_{}", r.as_str()), r.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        totp: u.totp_enabled,
        notice,
        problems,
        enrol,
    };
    html(t, &page)
}

pub(crate) async fn page(cx: PageCtx, Query(d): Query<Done>) -> PageResult {
    let notice = match d.done.as_str() {
        "totp" => Some("adm_done_totp_enabled"),
        _ => None,
    };
    account_page(&cx, notice, Problems::default(), None)
}

/// Changes one's own password. The app ends every session of the account, this one too, so the
/// person signs in again with the new password.
pub(crate) async fn change_password(
    State(s): State<AppState>,
    jar: CookieJar,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let new = form.get("new_password");
    if new != form.get("repeat_password") {
        let p = Problems::one(
            cx.t,
            "repeat_password",
            "passwords_differ",
            "the two new passwords differ",
        );
        return account_page(&cx, None, p, None);
    }
    let keep_tokens = form.get("keep_tokens") == "yes";
    match s
        .app
        .change_own_password(&cx.caller, form.get("current_password"), new, keep_tokens)
        .await
    {
        Ok(()) => {
            let jar = jar.add(expired_session_cookie(s.opts.secure_cookies));
            Ok((jar, Redirect::to("/login?ended=1")).into_response())
        }
        Err(e) => refused(&cx, e, "current_password"),
    }
}

/// A refused form of this page: on the form when the person can put it right, including the
/// throttle's refusal, which answers 429 with Retry-After as the API does.
fn refused(cx: &PageCtx, e: AppError, field: &str) -> PageResult {
    if let AppError::TooManyAttempts { retry_after_secs } = e {
        let p = Problems::one(
            cx.t,
            field,
            "too_many_attempts",
            "too many failed attempts; wait before trying again",
        );
        let mut res = account_page(cx, None, p, None)?;
        *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        );
        return Ok(res);
    }
    let p = problems(cx, e)?;
    account_page(cx, None, p, None)
}

/// Draws a QR code as one SVG path of dark modules, with a quiet zone of four modules. Labelled
/// for screen readers; the key beside it is the way in for those who cannot scan.
pub(crate) fn qr_svg(text: &str, label: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return String::new();
    };
    let w = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let size = w + 2 * quiet;
    let mut d = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % w + quiet, i / w + quiet);
            d.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    let label = label
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 {size} {size}\" \
         width=\"240\" height=\"240\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{d}\"/></svg>"
    )
}

/// Starts enrolling a second factor: the app stores a new secret, not yet in force, and the page
/// shows it as a QR code, as the `otpauth://` text and as the key to type in.
pub(crate) async fn begin_totp(
    State(s): State<AppState>,
    PostForm { cx, .. }: PostForm<Fields>,
) -> PageResult {
    let e = s
        .app
        .begin_totp_enrolment(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?;
    let enrol = Enrolment {
        qr_svg: qr_svg(&e.otpauth_url, cx.t.get("adm_qr_label")),
        secret: e.secret,
        uri: e.otpauth_url,
    };
    Ok(no_store(account_page(
        &cx,
        None,
        Problems::default(),
        Some(enrol),
    )?))
}

pub(crate) async fn confirm_totp(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    match s
        .app
        .confirm_totp_enrolment(&cx.caller, form.get("code"))
        .await
    {
        Ok(()) => Ok(Redirect::to("/account?done=totp").into_response()),
        Err(e) => refused(&cx, e, "code"),
    }
}

// ---------------------------------------------------------------------------------------------
// API tokens

#[derive(Template)]
#[template(path = "tokens.html")]
pub(crate) struct TokensPage<'a> {
    pub f: Frame<'a>,
    pub rows: Vec<TokenRow>,
    /// A token just made: its name and secret, shown this once.
    pub created: Option<(String, String)>,
    pub revoked: bool,
    pub problems: Problems,
    pub name: String,
    pub days: String,
}

async fn tokens_page(
    s: &AppState,
    cx: &PageCtx,
    created: Option<(String, String)>,
    revoked: bool,
    problems: Problems,
    name: String,
    days: String,
) -> PageResult {
    let t = cx.t;
    let list = s
        .app
        .list_tokens(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?;
    let page = TokensPage {
        f: cx.frame(),
        rows: list.iter().map(|k| token_row(t, k, s.app.now())).collect(),
        created,
        revoked,
        problems,
        name,
        days,
    };
    html(t, &page)
}

pub(crate) async fn tokens(
    State(s): State<AppState>,
    cx: PageCtx,
    Query(d): Query<Done>,
) -> PageResult {
    let revoked = d.done == "revoked";
    tokens_page(
        &s,
        &cx,
        None,
        revoked,
        Problems::default(),
        String::new(),
        String::new(),
    )
    .await
}

/// Makes a token and shows its secret in the answer to the form (never in a URL, never again).
pub(crate) async fn create_token(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let name = form.get("name").to_owned();
    let days_text = form.get("expires_in_days").trim().to_owned();
    let days = if days_text.is_empty() {
        None
    } else {
        match days_text.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let p = Problems::one(
                    cx.t,
                    "expires_in_days",
                    "out_of_range",
                    "between 1 and 3660 days",
                );
                return tokens_page(&s, &cx, None, false, p, name, days_text).await;
            }
        }
    };
    match s.app.create_token(&cx.caller, &name, days).await {
        Ok(new) => {
            let created = Some((new.meta.name.clone(), new.token));
            let res = tokens_page(
                &s,
                &cx,
                created,
                false,
                Problems::default(),
                String::new(),
                String::new(),
            )
            .await?;
            Ok(no_store(res))
        }
        Err(e) => {
            let p = problems(&cx, e)?;
            tokens_page(&s, &cx, None, false, p, name, days_text).await
        }
    }
}

/// Revokes one of one's own tokens (an administrator revokes others' from the user's page).
pub(crate) async fn revoke_token(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TokenId>,
    PostForm { cx, .. }: PostForm<Fields>,
) -> PageResult {
    s.app
        .revoke_token(Actor::User(&cx.caller), id)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(Redirect::to("/account/tokens?done=revoked").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_one_path_without_style() {
        let svg = qr_svg(
            "otpauth://totp/Homeward:anna?secret=JBSWY3DPEHPK3PXP",
            "QR <code>",
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            !svg.contains("style"),
            "the page's CSP forbids inline style"
        );
        assert!(svg.contains("aria-label=\"QR &lt;code>\""));
        assert_eq!(svg.matches("<path").count(), 1);
    }
}
