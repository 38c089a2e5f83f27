//! Signing in and out of a browser session.

use crate::AppState;
use crate::auth::{Authenticated, expired_session_cookie, session_cookie};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientAddr};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use homeward_app::auth::LoginRequest;
use homeward_domain::{Party, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Deliberately not `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
    /// The current code from the authenticator app, when the account has TOTP enabled.
    #[serde(default)]
    totp_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    user: User,
    party: Party,
    /// Repeat in the `X-CSRF-Token` header of every POST, PUT, PATCH and DELETE in this session.
    csrf_token: String,
    /// When the session ends unless used (each request extends it, up to an absolute limit).
    expires_at: DateTime<Utc>,
}

/// Signs in and sets the session cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = LoginResponse,
            headers(("set-cookie" = String, description = "`homeward_session`: HttpOnly, SameSite=Strict"))),
        (status = 401, description = "`invalid_credentials`, `second_factor_required` or `invalid_second_factor` (wrong, or a code already used: each code signs in once)", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failures; see Retry-After", body = ErrorBody,
            headers(("retry-after" = i64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    State(s): State<AppState>,
    ClientAddr(source): ClientAddr,
    jar: CookieJar,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<(CookieJar, Json<LoginResponse>)> {
    let req = LoginRequest {
        username: body.username,
        password: body.password,
        totp_code: body.totp_code,
    };
    let session = s.app.login(req, source).await?;
    let jar = jar.add(session_cookie(session.token, s.opts.secure_cookies));
    let body = LoginResponse {
        user: session.user,
        party: session.party,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    };
    Ok((jar, Json(body)))
}

/// Ends the browser session (API tokens are revoked with DELETE /api/v1/tokens/{id} instead).
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
    )
)]
pub async fn logout(
    State(s): State<AppState>,
    ClientAddr(source): ClientAddr,
    auth: Authenticated,
    jar: CookieJar,
) -> ApiResult<(CookieJar, StatusCode)> {
    if let Some(token) = &auth.session {
        s.app.logout(token, source).await?;
    }
    Ok((
        jar.add(expired_session_cookie(s.opts.secure_cookies)),
        StatusCode::NO_CONTENT,
    ))
}
