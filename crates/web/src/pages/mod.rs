//! The web interface: server-rendered pages for people, beside the JSON API for programs.
//!
//! Every page reads through the same use-cases as the API (so it is audited and scoped exactly
//! like it and never shows more), renders an askama template to a string, and sends it with a
//! strict Content-Security-Policy: no inline script or style, nothing from another origin. The
//! little JavaScript there is (`static/app.js`) only improves what already works without it.

mod account;
mod admin;
mod audit;
mod case_list;
mod cases;
mod context;
mod dashboard;
// Printable documents (issue 15): case summary, custody chain, handover receipt, list manifest.
mod documents;
mod error;
mod evidence;
// Exports of child records (issue 16).
mod exports;
mod frame;
mod i18n;
mod import;
// Indicators and public statistics (issue 16).
mod indicators;
mod matches;
mod names;
mod records;

mod show;
mod tasks;
mod templates;
// Transfers area: lists, plans, custody chain, aftercare.
mod aftercare;
mod refusal;
mod transfers;

pub(crate) use error::{html_errors, is_page_path, refusal_page};

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

/// What pages may load: only our own files; no framing; forms post only to us.
pub(crate) const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Room for a multipart form's framing and text fields above the file itself.
const UPLOAD_SLACK: usize = 64 << 10;

pub(crate) fn router(max_attachment_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(frame::root))
        .route("/login", get(frame::login_page).post(frame::login_submit))
        .route("/logout", post(frame::logout))
        .route("/language", post(frame::set_language))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/indicators", get(indicators::page))
        .route("/indicators/publish", post(indicators::publish))
        .route("/indicators/{file}", get(indicators::csv))
        .route("/public/statistics", get(indicators::public))
        .route("/exports", get(exports::page).post(exports::request))
        .route("/exports/{id}/download", post(exports::download))
        .route("/records", get(records::list).post(records::search))
        .route("/records/{id}", get(records::show))
        .route("/matches", get(matches::queue))
        .route("/matches/{id}", get(matches::show))
        .route("/matches/{id}/confirm", post(matches::confirm))
        .route("/matches/{id}/reject", post(matches::reject))
        .route("/cases", get(case_list::list).post(case_list::search))
        .route("/cases/{id}", get(cases::show))
        .route(
            "/cases/{id}/verifications",
            post(cases::record_verification),
        )
        .route("/cases/{id}/transitions", post(cases::transition))
        // Case work (area `case`): the forms of the case page, attachments, tasks.
        .route(
            "/cases/{id}/verifications/{step}/resolve",
            post(cases::resolve_verification),
        )
        .route("/cases/{id}/consents", post(cases::record_consent))
        .route(
            "/cases/{id}/consents/{consent}/withdraw",
            post(cases::withdraw_consent),
        )
        .route("/cases/{id}/child-views", post(cases::record_child_views))
        .route("/cases/{id}/assessments", post(cases::record_assessment))
        .route(
            "/cases/{id}/determinations",
            post(cases::record_determination),
        )
        .route("/cases/{id}/disclosures", post(cases::disclose))
        .route(
            "/cases/{id}/attachments",
            post(cases::upload_attachment).layer(DefaultBodyLimit::max(
                max_attachment_bytes.saturating_add(UPLOAD_SLACK),
            )),
        )
        .route(
            "/attachments/{id}/download",
            post(cases::download_attachment),
        )
        .route("/cases/{id}/tasks", post(cases::assign_task))
        .route("/cases/{id}/tasks/{task}/cancel", post(cases::cancel_task))
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}", get(tasks::show))
        .route("/tasks/{id}/report", post(tasks::report))
        // End of case work.
        // Transfers area: transfer lists and plans, the custody chain, reunification and aftercare.
        .route(
            "/transfer-lists",
            get(transfers::rounds).post(transfers::create),
        )
        .route("/transfer-lists/{id}", get(transfers::show))
        .route("/transfer-lists/{id}/entries", post(transfers::add_entry))
        .route(
            "/transfer-lists/{id}/entries/{case_id}/remove",
            post(transfers::remove_entry),
        )
        .route(
            "/transfer-lists/{id}/entries/{case_id}/withdraw",
            post(transfers::withdraw_entry),
        )
        .route("/transfer-lists/{id}/step", post(transfers::step))
        .route("/transfer-lists/{id}/approve", post(transfers::approve))
        .route("/transfer-lists/{id}/plans", post(transfers::create_plan))
        .route("/transfer-plans/{id}", get(transfers::show_plan))
        .route("/transfer-plans/{id}/legs", post(transfers::add_leg))
        .route(
            "/transfer-plans/{id}/legs/{leg_id}",
            post(transfers::update_leg),
        )
        .route("/transfer-plans/{id}/escorts", post(transfers::set_escorts))
        .route(
            "/transfer-plans/{id}/documents",
            post(transfers::set_documents),
        )
        .route("/transfer-plans/{id}/costs", post(transfers::set_costs))
        .route(
            "/transfer-plans/{id}/approve",
            post(transfers::approve_plan),
        )
        .route("/cases/{id}/custody", get(aftercare::show))
        .route("/cases/{id}/custody-chain", get(documents::custody_chain))
        .route("/cases/{id}/summary", get(documents::case_summary))
        .route(
            "/cases/{id}/handovers/{n}/receipt",
            get(documents::handover_receipt),
        )
        .route(
            "/transfer-lists/{id}/manifest",
            get(documents::list_manifest),
        )
        .route("/cases/{id}/handovers", post(aftercare::record_handover))
        .route(
            "/cases/{id}/reunification",
            post(aftercare::record_reunification),
        )
        .route("/cases/{id}/services", post(aftercare::record_service))
        .route(
            "/cases/{id}/follow-ups",
            post(aftercare::schedule_follow_up),
        )
        .route(
            "/cases/{id}/follow-ups/{follow_up_id}/report",
            post(aftercare::report_follow_up),
        )
        .route(
            "/cases/{id}/follow-ups/{follow_up_id}/waive",
            post(aftercare::waive_follow_up),
        )
        .route("/follow-ups", get(aftercare::visits))
        .route(
            "/follow-ups/{case_id}/{follow_up_id}/report",
            post(aftercare::report_own),
        )
        // End of the transfers area.
        // Import: upload, map the columns, check every row, confirm.
        .route(
            "/import",
            get(import::upload_page)
                .merge(post(import::upload).layer(DefaultBodyLimit::max(import::BODY_LIMIT))),
        )
        .route("/import/{token}", get(import::columns).post(import::remap))
        .route("/import/{token}/preview", post(import::preview))
        .route("/import/{token}/rejects", post(import::rejects))
        .route("/import/{token}/confirm", post(import::confirm))
        .route("/import/{token}/done", get(import::done))
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
        .route("/evidence", get(evidence::list))
        .route("/evidence/{id}", get(evidence::show))
        .route("/static/app.css", get(frame::stylesheet))
        .route("/static/app.js", get(frame::script))
        .route("/static/document.css", get(frame::document_stylesheet))
        .route("/static/favicon.svg", get(frame::favicon))
        .route("/favicon.ico", get(frame::favicon))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
}
