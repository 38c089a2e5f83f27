//! The web interface: server-rendered pages for people, beside the JSON API for programs.
//!
//! Every page reads through the same use-cases as the API (so it is audited and scoped exactly
//! like it and never shows more), renders an askama template to a string, and sends it with a
//! strict Content-Security-Policy: no inline script or style, nothing from another origin. The
//! little JavaScript there is (`static/app.js`) only improves what already works without it.

mod account;
mod admin;
mod audit;
mod cases;
mod context;
mod dashboard;
mod error;
mod frame;
mod i18n;
mod matches;
mod names;
mod records;
mod templates;

use crate::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

/// What pages may load: only our own files; no framing; forms post only to us.
pub(crate) const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(frame::root))
        .route("/login", get(frame::login_page).post(frame::login_submit))
        .route("/logout", post(frame::logout))
        .route("/language", post(frame::set_language))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/records", get(records::list).post(records::search))
        .route("/records/{id}", get(records::show))
        .route("/matches", get(matches::queue))
        .route("/matches/{id}", get(matches::show))
        .route("/matches/{id}/confirm", post(matches::confirm))
        .route("/matches/{id}/reject", post(matches::reject))
        .route("/cases/{id}", get(cases::show))
        .route(
            "/cases/{id}/verifications",
            post(cases::record_verification),
        )
        .route("/cases/{id}/transitions", post(cases::transition))
        // Administration, my account and the audit viewer (web-admin).
        .route("/admin", get(admin::hub))
        .route(
            "/admin/parties",
            get(admin::parties).post(admin::create_party),
        )
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/search", post(admin::search_users))
        .route("/admin/users/{id}", get(admin::user))
        .route("/admin/users/{id}/roles", post(admin::set_roles))
        .route("/admin/users/{id}/status", post(admin::set_status))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route("/admin/users/{id}/totp", post(admin::reset_totp))
        .route(
            "/admin/users/{id}/tokens/{token}/revoke",
            post(admin::revoke_user_token),
        )
        .route("/admin/roles", get(admin::roles))
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/totp", post(account::begin_totp))
        .route("/account/totp/confirm", post(account::confirm_totp))
        .route(
            "/account/tokens",
            get(account::tokens).post(account::create_token),
        )
        .route("/tokens/{id}/revoke", post(account::revoke_token))
        .route("/audit", get(audit::list).post(audit::search))
        .route("/audit/verify", post(audit::verify))
        .route("/audit/{seq}", get(audit::entry))
        .route("/static/app.css", get(frame::stylesheet))
        .route("/static/app.js", get(frame::script))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
}
