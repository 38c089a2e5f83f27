//! Administration pages: parties, users (with their roles, passwords, second factors and
//! tokens) and the permission table as a matrix.
//!
//! Each page and form calls the same use-case as the JSON route beside it (`routes/admin.rs`),
//! so a party administrator sees and changes exactly what the API lets them: another party's
//! user is a 404 here as there, and a non-administrator gets the app's 403 on every page and
//! form. Refusals the person can fix (a taken username, a short password) come back on the form
//! with the field named; every other refusal is the error page with the app's code.

use super::context::{Frame, PageCtx, PostForm};
use super::error::{PageError, PageResult, html};
use super::i18n::Tr;
use super::refusal::Fields;
use super::show::when;
use crate::AppState;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use homeward_app::admin::NewUserInput;
use homeward_app::{Actor, ApiToken, AppError};
use homeward_domain::{Language, Party, PartyId, PartyKind, Permission, Role, User, UserId};
use rand::Rng;
use serde::Deserialize;

/// One problem with a posted form: the field it is about, the app's code and what to do.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// What went wrong with a form the person can put right, shown above it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Problems(pub Vec<Problem>);

impl Problems {
    /// Whether a field has a problem (for `aria-invalid`).
    pub fn on(&self, field: &str) -> bool {
        self.0.iter().any(|p| p.field == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn one(t: &Tr, field: &str, code: &str, fallback: &str) -> Self {
        Self(vec![Problem {
            field: field.to_owned(),
            code: code.to_owned(),
            message: t.get_or(&format!("adm_fe_{code}"), fallback),
        }])
    }
}

/// The app's refusal as problems on the form when the person can fix it (invalid input, a name
/// already taken); anything else is the error page.
pub(crate) fn problems(cx: &PageCtx, e: AppError) -> Result<Problems, PageError> {
    let t = cx.t;
    match e {
        AppError::Validation(v) => Ok(Problems(
            v.0.into_iter()
                .map(|f| Problem {
                    message: t.get_or(&format!("adm_fe_{}", f.code), &f.message),
                    code: f.code.to_owned(),
                    field: f.field,
                })
                .collect(),
        )),
        AppError::Conflict(c) => Ok(Problems(vec![Problem {
            field: String::new(),
            code: "conflict".to_owned(),
            message: super::refusal::conflict_text(t, &c),
        }])),
        other => Err(cx.fail(other)),
    }
}

/// A page holding a secret shown once: kept out of every cache.
pub(crate) fn no_store(res: Response) -> Response {
    let mut res = res;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A first password for a new account, or after a reset: 20 characters from an alphabet
/// without look-alikes, to be read out or typed in once and changed by its owner.
fn generated_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|i| {
            let c = ALPHABET[rng.gen_range(0..ALPHABET.len())] as char;
            if i > 0 && i % 5 == 0 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn role_label(t: &Tr, r: Role) -> String {
    t.get_or(&format!("adm_role_{}", r.as_str()), r.as_str())
}

fn kind_label(t: &Tr, k: PartyKind) -> String {
    t.get_or(&format!("adm_partykind_{}", k.as_str()), k.as_str())
}

/// The sub-navigation of the administration pages, for what the person may open.
#[derive(Debug)]
pub(crate) struct AdminNav {
    pub items: Vec<(&'static str, &'static str, bool)>,
}

fn admin_nav(cx: &PageCtx) -> AdminNav {
    let mut items = Vec::new();
    for (href, key, perm) in [
        ("/admin/users", "admin_users", Permission::UserManage),
        ("/admin/parties", "admin_parties", Permission::UserManage),
        ("/admin/roles", "admin_roles", Permission::UserManage),
    ] {
        if cx.caller.may(perm) {
            items.push((
                href,
                cx.t.get(key),
                cx.here == href || cx.here.starts_with(&format!("{href}/")),
            ));
        }
    }
    AdminNav { items }
}

pub(crate) async fn hub() -> Redirect {
    Redirect::to("/admin/users")
}

// ---------------------------------------------------------------------------------------------
// Parties

#[derive(Debug)]
pub(crate) struct PartyRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub kind_code: &'static str,
    /// Users of the party the person manages; `None` when they may not see them.
    pub users: Option<usize>,
}

#[derive(Template)]
#[template(path = "admin_parties.html")]
pub(crate) struct PartiesPage<'a> {
    pub f: Frame<'a>,
    pub sub: AdminNav,
    pub rows: Vec<PartyRow>,
    pub may_create: bool,
    pub kinds: Vec<(&'static str, String)>,
    pub problems: Problems,
    pub name: String,
    pub kind: String,
    pub created: Option<String>,
}

async fn parties_page(
    s: &AppState,
    cx: &PageCtx,
    problems: Problems,
    name: String,
    kind: String,
    created: Option<String>,
) -> PageResult {
    let t = cx.t;
    let parties = s
        .app
        .list_parties(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?;
    // The user counts come from the same listing the users page reads, within what the person
    // manages (a party administrator sees the count of their own party only).
    let users = if cx.caller.may(Permission::UserManage) {
        Some(
            s.app
                .list_users(Actor::User(&cx.caller), None)
                .await
                .map_err(|e| cx.fail(e))?,
        )
    } else {
        None
    };
    let rows = parties
        .iter()
        .map(|p| PartyRow {
            id: p.id.to_string(),
            name: p.name.as_str().to_owned(),
            kind: kind_label(t, p.kind),
            kind_code: p.kind.as_str(),
            users: users
                .as_ref()
                .filter(|_| cx.caller.manages_users_of(p.id))
                .map(|u| u.iter().filter(|x| x.party_id == p.id).count()),
        })
        .collect();
    let page = PartiesPage {
        f: cx.frame(),
        sub: admin_nav(cx),
        rows,
        may_create: cx.caller.may(Permission::PartyManage),
        kinds: PartyKind::ALL
            .iter()
            .map(|k| (k.as_str(), kind_label(t, *k)))
            .collect(),
        problems,
        name,
        kind,
        created,
    };
    html(t, &page)
}

pub(crate) async fn parties(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    parties_page(
        &s,
        &cx,
        Problems::default(),
        String::new(),
        String::new(),
        None,
    )
    .await
}

pub(crate) async fn create_party(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let name = form.get("name").to_owned();
    let kind = form.get("kind").to_owned();
    match s
        .app
        .create_party(Actor::User(&cx.caller), &name, &kind)
        .await
    {
        Ok(p) => {
            parties_page(
                &s,
                &cx,
                Problems::default(),
                String::new(),
                String::new(),
                Some(p.name.as_str().to_owned()),
            )
            .await
        }
        Err(e) => {
            let p = problems(&cx, e)?;
            parties_page(&s, &cx, p, name, kind, None).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Users

#[derive(Debug, Deserialize, Default)]
pub(crate) struct UserFilters {
    #[serde(default)]
    party: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    status: String,
}

#[derive(Debug)]
pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub party: String,
    pub roles: String,
    pub totp: bool,
    pub disabled: bool,
}

/// What the new-user form holds when it comes back with problems (never the password).
#[derive(Debug, Default)]
pub(crate) struct NewUserForm {
    pub username: String,
    pub display_name: String,
    pub party: String,
    pub roles: Vec<String>,
    pub language: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub(crate) struct UsersPage<'a> {
    pub f: Frame<'a>,
    pub sub: AdminNav,
    pub rows: Vec<UserRow>,
    pub parties: Vec<(String, String)>,
    pub roles: Vec<(&'static str, String)>,
    pub languages: Vec<(&'static str, &'static str)>,
    pub filter_party: String,
    pub filter_role: String,
    pub filter_status: String,
    pub problems: Problems,
    pub new: NewUserForm,
}

impl UsersPage<'_> {
    fn role_checked(&self, code: &str) -> bool {
        self.new.roles.iter().any(|r| r == code)
    }
}

fn party_name(parties: &[Party], id: PartyId) -> String {
    parties
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.name.as_str().to_owned())
        .unwrap_or_else(|| id.to_string())
}

fn roles_text(t: &Tr, roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| role_label(t, *r))
        .collect::<Vec<_>>()
        .join(", ")
}

fn languages() -> Vec<(&'static str, &'static str)> {
    Language::ALL
        .iter()
        .map(|l| (l.code(), super::i18n::tr(*l).get("language_name")))
        .collect()
}

/// The parties whose users the person may manage: their own (another party's first
/// administrator is made on the server's command line).
fn managed_parties(cx: &PageCtx, parties: &[Party]) -> Vec<(String, String)> {
    parties
        .iter()
        .filter(|p| cx.caller.manages_users_of(p.id))
        .map(|p| (p.id.to_string(), p.name.as_str().to_owned()))
        .collect()
}

async fn users_page(
    s: &AppState,
    cx: &PageCtx,
    q: UserFilters,
    problems: Problems,
    new: NewUserForm,
) -> PageResult {
    let t = cx.t;
    let party = if q.party.is_empty() {
        None
    } else if let Ok(p) = q.party.parse::<PartyId>() {
        Some(p)
    } else {
        // A malformed id is a bad request, but only for someone who may list users at all.
        s.app
            .list_users(Actor::User(&cx.caller), None)
            .await
            .map_err(|e| cx.fail(e))?;
        return Err(PageError::BadForm(t));
    };
    let users = s
        .app
        .list_users(Actor::User(&cx.caller), party)
        .await
        .map_err(|e| cx.fail(e))?;
    let parties = s
        .app
        .list_parties(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?;
    let role: Option<Role> = q.role.parse().ok();
    let rows = users
        .iter()
        .filter(|u| role.is_none_or(|r| u.has_role(r)))
        .filter(|u| match q.status.as_str() {
            "active" => !u.disabled,
            "disabled" => u.disabled,
            _ => true,
        })
        .map(|u| UserRow {
            id: u.id.to_string(),
            username: u.username.to_string(),
            display_name: u.display_name.clone(),
            party: party_name(&parties, u.party_id),
            roles: roles_text(t, &u.roles),
            totp: u.totp_enabled,
            disabled: u.disabled,
        })
        .collect();
    let page = UsersPage {
        f: cx.frame(),
        sub: admin_nav(cx),
        rows,
        parties: managed_parties(cx, &parties),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), role_label(t, *r)))
            .collect(),
        languages: languages(),
        filter_party: q.party,
        filter_role: q.role,
        filter_status: q.status,
        problems,
        new,
    };
    html(t, &page)
}

pub(crate) async fn users(
    State(s): State<AppState>,
    cx: PageCtx,
    Query(q): Query<UserFilters>,
) -> PageResult {
    users_page(&s, &cx, q, Problems::default(), NewUserForm::default()).await
}

/// The filters as a form: posted like every other form on these pages (a GET form would need
/// its CSRF token in the URL). A link may still name a party by id in the query string.
pub(crate) async fn search_users(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let q = UserFilters {
        party: form.get("party").to_owned(),
        role: form.get("role").to_owned(),
        status: form.get("status").to_owned(),
    };
    users_page(&s, &cx, q, Problems::default(), NewUserForm::default()).await
}

/// What happened to a user, said on their page.
#[derive(Debug)]
pub(crate) struct Notice {
    pub key: &'static str,
    /// A password to hand over, shown this once.
    pub password: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
pub(crate) struct UserPage<'a> {
    pub f: Frame<'a>,
    pub sub: AdminNav,
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub party: String,
    pub party_kind: String,
    pub roles: Vec<(&'static str, String, bool)>,
    pub language: String,
    pub totp: bool,
    pub disabled: bool,
    pub created_at: String,
    pub is_self: bool,
    pub notice: Option<Notice>,
    pub problems: Problems,
    /// The user's API tokens, when the person may revoke them.
    pub tokens: Option<Vec<super::account::TokenRow>>,
}

async fn user_page(
    s: &AppState,
    cx: &PageCtx,
    id: UserId,
    notice: Option<Notice>,
    problems: Problems,
) -> PageResult {
    let t = cx.t;
    let actor = Actor::User(&cx.caller);
    let u: User = s
        .app
        .get_managed_user(actor, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let parties = s
        .app
        .list_parties(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?;
    let party = parties.iter().find(|p| p.id == u.party_id);
    let tokens = if cx.caller.may(Permission::TokenRevokeAny) {
        let list = s
            .app
            .list_user_tokens(actor, id)
            .await
            .map_err(|e| cx.fail(e))?;
        Some(
            list.iter()
                .map(|k| super::account::token_row(t, k, s.app.now()))
                .collect(),
        )
    } else {
        None
    };
    let page = UserPage {
        f: cx.frame(),
        sub: admin_nav(cx),
        id: u.id.to_string(),
        username: u.username.to_string(),
        display_name: u.display_name.clone(),
        party: party_name(&parties, u.party_id),
        party_kind: party.map(|p| kind_label(t, p.kind)).unwrap_or_default(),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), role_label(t, *r), u.has_role(*r)))
            .collect(),
        language: u
            .language
            .map(|l| super::i18n::tr(l).get("language_name").to_owned())
            .unwrap_or_else(|| t.get("adm_language_browser").to_owned()),
        totp: u.totp_enabled,
        disabled: u.disabled,
        created_at: when(&u.created_at),
        is_self: u.id == cx.caller.user().id,
        notice,
        problems,
        tokens,
    };
    html(t, &page)
}

/// `?done=` on a user page after a change: which sentence says what happened.
#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    #[serde(default)]
    done: String,
}

fn done_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "roles" => "adm_done_roles",
        "disabled" => "adm_done_disabled",
        "enabled" => "adm_done_enabled",
        "totp" => "adm_done_totp_reset",
        "token" => "adm_done_token_revoked",
        _ => return None,
    })
}

pub(crate) async fn user(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<UserId>,
    Query(d): Query<Done>,
) -> PageResult {
    let notice = done_key(&d.done).map(|key| Notice {
        key,
        password: None,
    });
    user_page(&s, &cx, id, notice, Problems::default()).await
}

fn back_to(id: UserId, done: &str) -> Response {
    Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response()
}

pub(crate) async fn create_user(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let new = NewUserForm {
        username: form.get("username").trim().to_owned(),
        display_name: form.get("display_name").trim().to_owned(),
        party: form.get("party_id").to_owned(),
        roles: form
            .all("roles")
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
        language: form.get("language").to_owned(),
    };
    // No party chosen stands for one that does not exist: the app then refuses it as it
    // refuses any unknown party, after checking who is asking.
    let party_id = new
        .party
        .parse::<PartyId>()
        .unwrap_or_else(|_| PartyId::new());
    let typed = form.get("password");
    let generated = typed.is_empty().then(generated_password);
    let input = NewUserInput {
        party_id,
        username: new.username.clone(),
        display_name: Some(new.display_name.clone()).filter(|d| !d.is_empty()),
        roles: new.roles.clone(),
        password: generated.clone().unwrap_or_else(|| typed.to_owned()),
        language: Language::parse(&new.language),
    };
    match s.app.create_user(Actor::User(&cx.caller), input).await {
        Ok(u) => {
            let notice = Notice {
                key: if generated.is_some() {
                    "adm_done_created_generated"
                } else {
                    "adm_done_created"
                },
                password: generated,
            };
            let res = user_page(&s, &cx, u.id, Some(notice), Problems::default()).await?;
            Ok(no_store(res))
        }
        Err(e) => {
            let p = problems(&cx, e)?;
            users_page(&s, &cx, UserFilters::default(), p, new).await
        }
    }
}

pub(crate) async fn set_roles(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<UserId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let roles = form
        .all("roles")
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    match s
        .app
        .update_user(Actor::User(&cx.caller), id, Some(roles), None)
        .await
    {
        Ok(_) => Ok(back_to(id, "roles")),
        Err(e) => {
            let p = problems(&cx, e)?;
            user_page(&s, &cx, id, None, p).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_confirm.html")]
pub(crate) struct ConfirmPage<'a> {
    pub f: Frame<'a>,
    pub sub: AdminNav,
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// Disables or enables an account. Disabling locks its owner out at once (sessions end, tokens
/// stop working), so it is done only after a second, explicit confirmation.
pub(crate) async fn set_status(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<UserId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let disable = match form.get("disabled") {
        "true" => true,
        "false" => false,
        _ => return Err(PageError::BadForm(cx.t)),
    };
    let actor = Actor::User(&cx.caller);
    if disable && form.get("confirm") != "yes" {
        // Read through the use-case so that a user out of reach is the same 404 as anywhere.
        let u = s
            .app
            .get_managed_user(actor, id)
            .await
            .map_err(|e| cx.fail(e))?;
        let page = ConfirmPage {
            f: cx.frame(),
            sub: admin_nav(&cx),
            id: u.id.to_string(),
            username: u.username.to_string(),
            display_name: u.display_name.clone(),
        };
        return html(cx.t, &page);
    }
    s.app
        .update_user(actor, id, None, Some(disable))
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(back_to(id, if disable { "disabled" } else { "enabled" }))
}

/// Sets a new password (typed, or made here and shown once) and ends the user's sessions; the
/// form's confirmation box must be ticked, since it signs the person out everywhere.
pub(crate) async fn reset_password(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<UserId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let t = cx.t;
    if form.get("confirm") != "yes" {
        let p = Problems::one(
            t,
            "confirm",
            "confirmation_required",
            "tick the box to confirm",
        );
        return user_page(&s, &cx, id, None, p).await;
    }
    let typed = form.get("new_password");
    let generated = typed.is_empty().then(generated_password);
    let password = generated.clone().unwrap_or_else(|| typed.to_owned());
    match s
        .app
        .reset_password(Actor::User(&cx.caller), id, &password)
        .await
    {
        Ok(()) => {
            let notice = Notice {
                key: "adm_done_password",
                password: generated,
            };
            let res = user_page(&s, &cx, id, Some(notice), Problems::default()).await?;
            Ok(no_store(res))
        }
        Err(e) => {
            let p = problems(&cx, e)?;
            user_page(&s, &cx, id, None, p).await
        }
    }
}

pub(crate) async fn reset_totp(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<UserId>,
    PostForm { cx, .. }: PostForm<Fields>,
) -> PageResult {
    s.app
        .reset_totp(Actor::User(&cx.caller), id)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(back_to(id, "totp"))
}

// ---------------------------------------------------------------------------------------------
// Roles

#[derive(Debug)]
pub(crate) struct MatrixRow {
    pub code: &'static str,
    pub label: String,
    /// Per role, in the order of the header: granted or not.
    pub cells: Vec<bool>,
    pub kinds: String,
}

#[derive(Template)]
#[template(path = "admin_roles.html")]
pub(crate) struct RolesPage<'a> {
    pub f: Frame<'a>,
    pub sub: AdminNav,
    pub roles: Vec<(&'static str, String)>,
    pub rows: Vec<MatrixRow>,
    /// Per role: the kinds of party in which it grants anything.
    pub role_kinds: Vec<(String, String)>,
}

pub(crate) async fn roles(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    let t = cx.t;
    let table = s.app.permission_table(&cx.caller).map_err(|e| cx.fail(e))?;
    let rows = table
        .iter()
        .map(|(p, rs, ks)| MatrixRow {
            code: p.as_str(),
            label: t.get_or(&format!("adm_perm_{}", p.as_str()), p.as_str()),
            cells: Role::ALL.iter().map(|r| rs.contains(r)).collect(),
            kinds: ks
                .iter()
                .map(|k| kind_label(t, *k))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let role_kinds = Role::ALL
        .iter()
        .map(|r| {
            let kinds: Vec<String> = PartyKind::ALL
                .iter()
                .filter(|k| {
                    table
                        .iter()
                        .any(|(_, rs, ks)| rs.contains(r) && ks.contains(k))
                })
                .map(|k| kind_label(t, *k))
                .collect();
            (role_label(t, *r), kinds.join(", "))
        })
        .collect();
    let page = RolesPage {
        f: cx.frame(),
        sub: admin_nav(&cx),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), role_label(t, *r)))
            .collect(),
        rows,
        role_kinds,
    };
    html(t, &page)
}

/// Revokes one of a managed user's tokens from their page.
pub(crate) async fn revoke_user_token(
    State(s): State<AppState>,
    ApiPath((id, token)): ApiPath<(UserId, homeward_domain::TokenId)>,
    PostForm { cx, .. }: PostForm<Fields>,
) -> PageResult {
    let actor = Actor::User(&cx.caller);
    // The token must belong to this user: the page never revokes by a bare id from elsewhere.
    let tokens: Vec<ApiToken> = s
        .app
        .list_user_tokens(actor, id)
        .await
        .map_err(|e| cx.fail(e))?;
    if !tokens.iter().any(|k| k.id == token) {
        return Err(cx.fail(AppError::NotFound));
    }
    s.app
        .revoke_token(actor, token)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(back_to(id, "token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_meet_the_policy() {
        for _ in 0..50 {
            let p = generated_password();
            assert_eq!(p.chars().count(), 23, "{p}");
            assert!(homeward_domain::Password::parse(&p).is_ok(), "{p}");
        }
    }
}
