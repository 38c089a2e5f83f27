//! Parties and users.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use homeward_app::Actor;
use homeward_app::admin::NewUserInput;
use homeward_domain::{Language, Party, PartyId, PartyKind, Role, User, UserId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Every party (names and kinds are not confidential: each side must know its counterpart).
#[utoipa::path(
    get, path = "/api/v1/parties", tag = "admin",
    responses((status = 200, body = Vec<Party>), (status = 401, body = ErrorBody))
)]
pub async fn list_parties(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<Party>>> {
    Ok(Json(s.app.list_parties(&auth.caller).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePartyBody {
    /// 1 to 200 characters once trimmed, no control characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    name: String,
    // Kept as text so that an unknown kind is reported as a field error, like any other value.
    #[schema(value_type = PartyKind)]
    kind: String,
}

/// Creates a party (mediator administrators).
#[utoipa::path(
    post, path = "/api/v1/parties", tag = "admin",
    request_body = CreatePartyBody,
    responses(
        (status = 201, body = Party),
        (status = 403, description = "`forbidden` or `totp_enrolment_required`", body = ErrorBody),
        (status = 409, description = "A party of this name exists", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_party(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreatePartyBody>,
) -> ApiResult<(StatusCode, Json<Party>)> {
    let party = s
        .app
        .create_party(Actor::User(&auth.caller), &body.name, &body.kind)
        .await?;
    Ok((StatusCode::CREATED, Json(party)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Only this party's users.
    party_id: Option<PartyId>,
}

/// Users of the caller's own party (the only one an administrator manages).
#[utoipa::path(
    get, path = "/api/v1/users", tag = "admin",
    params(UsersQuery),
    responses(
        (status = 200, body = Vec<User>),
        (status = 403, description = "`forbidden`: not an administrator, or `party_id` is another party", body = ErrorBody),
    )
)]
pub async fn list_users(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(
        s.app
            .list_users(Actor::User(&auth.caller), q.party_id)
            .await?,
    ))
}

// Deliberately not `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    party_id: PartyId,
    /// 3 to 64 of a-z, A-Z (kept in lower case), digits, `.`, `_`, `-`, `@`.
    #[schema(pattern = r"^[A-Za-z0-9._@-]{3,64}$")]
    username: String,
    #[serde(default)]
    display_name: Option<String>,
    #[schema(value_type = Vec<Role>)]
    roles: Vec<String>,
    /// The first password; 12 to 256 characters. The user should change it.
    #[schema(min_length = 12, max_length = 256)]
    password: String,
    /// The language of the user's web interface (`en`, `uk`, `ru`, `ar`).
    #[serde(default)]
    language: Option<Language>,
}

/// Creates a user in the caller's own party. Administrators, the mediator's included, manage
/// their own party's users only: another party's first administrator is made on the server's
/// command line (`homeward admin create-user`), and that administrator makes the rest.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "admin",
    request_body = CreateUserBody,
    responses(
        (status = 201, body = User),
        (status = 403, description = "`forbidden`: not an administrator, or `party_id` is another party", body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_user(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateUserBody>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let CreateUserBody {
        party_id,
        username,
        display_name,
        roles,
        password,
        language,
    } = body;
    let input = NewUserInput {
        party_id,
        username,
        display_name,
        roles,
        password,
        language,
    };
    let user = s.app.create_user(Actor::User(&auth.caller), input).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user the caller administers.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "admin",
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 200, body = User),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such user, or one of another party", body = ErrorBody),
    )
)]
pub async fn get_user(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        s.app
            .get_managed_user(Actor::User(&auth.caller), id)
            .await?,
    ))
}

/// Removes a user's second factor (a lost phone); they sign in with the password and enrol again.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}/totp", tag = "admin",
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn reset_totp(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    s.app.reset_totp(Actor::User(&auth.caller), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The API tokens of a user the caller administers (metadata only), for revoking them.
#[utoipa::path(
    get, path = "/api/v1/users/{id}/tokens", tag = "admin",
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 200, body = Vec<super::me::TokenView>),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn list_user_tokens(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<Vec<super::me::TokenView>>> {
    let tokens = s
        .app
        .list_user_tokens(Actor::User(&auth.caller), id)
        .await?;
    Ok(Json(
        tokens.into_iter().map(super::me::TokenView::from).collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    /// Replaces the user's roles (at least one).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Role>>, min_items = 1)]
    roles: Option<Vec<String>>,
    /// Disabling ends the user's sessions and revokes their tokens.
    #[serde(default)]
    disabled: Option<bool>,
}

/// Changes a user's roles or disables the account.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "admin",
    params(("id" = UserId, Path, description = "The user's id")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, body = User),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_user(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        s.app
            .update_user(Actor::User(&auth.caller), id, body.roles, body.disabled)
            .await?,
    ))
}

// Deliberately not `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    /// 12 to 256 characters.
    #[schema(min_length = 12, max_length = 256)]
    new_password: String,
}

/// Sets a new password for a user of the caller's own party, ends the user's sessions and
/// revokes all of the user's API tokens. Another party's user answers 404.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/password", tag = "admin",
    params(("id" = UserId, Path, description = "The user's id")),
    request_body = ResetPasswordBody,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn reset_password(
    State(s): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<ResetPasswordBody>,
) -> ApiResult<StatusCode> {
    s.app
        .reset_password(Actor::User(&auth.caller), id, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
