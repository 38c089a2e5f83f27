//! One's own account: who am I, password, second factor, API tokens.

use crate::AppState;
use crate::auth::{Authenticated, expired_session_cookie};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use homeward_app::Actor;
use homeward_app::ApiToken;
use homeward_app::auth::TotpEnrolment;
use homeward_domain::role::PERMISSIONS;
use homeward_domain::{Party, Permission, Scope, TokenId, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which child records the caller can see.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeView {
    /// The mediator: every record any party submitted.
    AllSubmitted,
    /// The records the caller's own party filed.
    OwnParty,
    /// No child records.
    Nothing,
}

impl From<Scope> for ScopeView {
    fn from(s: Scope) -> Self {
        match s {
            Scope::AllSubmitted => Self::AllSubmitted,
            Scope::OwnParty(_) => Self::OwnParty,
            Scope::Nothing => Self::Nothing,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    user: User,
    party: Party,
    /// What the caller's roles allow in the caller's party, from the one permission table.
    permissions: Vec<Permission>,
    scope: ScopeView,
}

/// The signed-in user, their party, what they may do and which records they see.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    responses(
        (status = 200, body = MeResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn me(auth: Authenticated) -> Json<MeResponse> {
    let c = auth.caller;
    let permissions = PERMISSIONS
        .iter()
        .map(|(p, _, _)| *p)
        .filter(|p| c.may(*p))
        .collect();
    Json(MeResponse {
        scope: c.scope().into(),
        permissions,
        user: c.user().clone(),
        party: c.party().clone(),
    })
}

// Deliberately not `Debug`: it holds passwords.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    current_password: String,
    new_password: String,
    /// Keep the account's API tokens working (they are all revoked when absent or false: whoever
    /// learnt the old password may have made one).
    #[serde(default)]
    keep_tokens: bool,
}

/// Changes one's own password. Every session of the account ends, this one included, and every
/// API token of the account is revoked unless `keep_tokens` is true. A wrong current password
/// counts as a failed sign-in of the account: after too many, this answers 429 like the sign-in.
#[utoipa::path(
    post, path = "/api/v1/me/password", tag = "auth",
    request_body = ChangePasswordBody,
    responses(
        (status = 204, description = "Changed; sign in again"),
        (status = 422, description = "Wrong current password, or the new one breaks the policy", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed sign-ins or password checks for this account or address; see Retry-After", body = ErrorBody,
            headers(("retry-after" = i64, description = "Seconds to wait"))),
    )
)]
pub async fn change_password(
    State(s): State<AppState>,
    auth: Authenticated,
    jar: CookieJar,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> ApiResult<Response> {
    s.app
        .change_own_password(
            &auth.caller,
            &body.current_password,
            &body.new_password,
            body.keep_tokens,
        )
        .await?;
    if auth.session.is_some() {
        return Ok((
            jar.add(expired_session_cookie(s.opts.secure_cookies)),
            StatusCode::NO_CONTENT,
        )
            .into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Starts enrolling a TOTP authenticator: returns the secret to scan. Takes effect once confirmed.
#[utoipa::path(
    post, path = "/api/v1/me/totp", tag = "auth",
    responses((status = 200, body = TotpEnrolment), (status = 401, body = ErrorBody))
)]
pub async fn begin_totp(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<TotpEnrolment>> {
    Ok(Json(s.app.begin_totp_enrolment(&auth.caller).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeBody {
    /// The code the authenticator app shows now.
    code: String,
}

/// Finishes TOTP enrolment with the first code; from then on signing in needs a code. The code
/// is spent (it cannot also sign in), and a wrong one counts as a failed sign-in of the account.
#[utoipa::path(
    post, path = "/api/v1/me/totp/confirm", tag = "auth",
    request_body = TotpCodeBody,
    responses(
        (status = 204, description = "TOTP enabled"),
        (status = 422, description = "Wrong code, or no enrolment started", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed sign-ins or code checks for this account or address; see Retry-After", body = ErrorBody,
            headers(("retry-after" = i64, description = "Seconds to wait"))),
    )
)]
pub async fn confirm_totp(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<TotpCodeBody>,
) -> ApiResult<StatusCode> {
    s.app
        .confirm_totp_enrolment(&auth.caller, &body.code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API token's metadata (the token itself is shown only when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    id: TokenId,
    user_id: UserId,
    name: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        let ApiToken {
            id,
            user_id,
            name,
            created_at,
            expires_at,
            last_used_at,
            revoked_at,
        } = t;
        Self {
            id,
            user_id,
            name,
            created_at,
            expires_at,
            last_used_at,
            revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenView {
    /// Send as `Authorization: Bearer <token>`. Shown this once; only its hash is kept.
    token: String,
    #[serde(flatten)]
    meta: TokenView,
}

/// One's own API tokens, revoked and expired ones included.
#[utoipa::path(
    get, path = "/api/v1/me/tokens", tag = "auth",
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody))
)]
pub async fn list_tokens(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<TokenView>>> {
    let tokens = s.app.list_tokens(&auth.caller).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenBody {
    /// What the token is for, e.g. "nightly export": 1 to 100 characters once trimmed.
    #[schema(max_length = 100, pattern = r"\S")]
    name: String,
    /// Days until it expires (1 to 3660); never when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3660)]
    expires_in_days: Option<u32>,
}

/// Creates an API token for scripts. It acts with all of the user's permissions.
#[utoipa::path(
    post, path = "/api/v1/me/tokens", tag = "auth",
    request_body = CreateTokenBody,
    responses(
        (status = 201, description = "Created; the token is in the body, shown once", body = NewTokenView),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_token(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateTokenBody>,
) -> ApiResult<(StatusCode, Json<NewTokenView>)> {
    let new = s
        .app
        .create_token(&auth.caller, &body.name, body.expires_in_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenView {
            token: new.token,
            meta: new.meta.into(),
        }),
    ))
}

/// Revokes an API token: one's own, or (for admins) one of a user they manage.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "auth",
    params(("id" = TokenId, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such token, or not one the caller may revoke", body = ErrorBody),
    )
)]
pub async fn revoke_token(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<StatusCode> {
    s.app.revoke_token(Actor::User(&auth.caller), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
