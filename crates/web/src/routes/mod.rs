//! Every route, registered together with its OpenAPI description (`routes!` reads each handler's
//! `#[utoipa::path]`), so the router and the document cannot drift apart.

mod admin;
pub(crate) mod attachments;
mod audit;
mod cases;
mod duplicates;
mod evidence;
pub(crate) mod exports;
mod imports;
mod indicators;
pub(crate) use imports::ColumnMapping;
mod jobs;
mod matches;
mod me;
mod pprl;
mod records;
mod session;
mod system;
mod tasks;
mod transfers;

use crate::openapi::ApiDoc;
use crate::{AppState, WebOptions};
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Room for the request's own framing above the file: an upload a little over the limit still
/// reaches the app, which refuses it with the limit in the message.
const UPLOAD_SLACK: usize = 64 << 10;

pub(crate) fn api(opts: &WebOptions, max_attachment_bytes: usize) -> OpenApiRouter<AppState> {
    // Files are far larger than any JSON body; only this route gets the bigger limit.
    let imports = OpenApiRouter::new()
        .routes(routes!(imports::import_records))
        .layer(DefaultBodyLimit::max(opts.max_import_bytes));
    // An encoded list (PPRL) is a file too: a few megabytes for 20,000 children.
    let pprl_lists = OpenApiRouter::new()
        .routes(routes!(pprl::upload_list, pprl::list_lists))
        .layer(DefaultBodyLimit::max(opts.max_import_bytes));
    // Uploads are raw files up to the configured attachment size.
    let uploads = OpenApiRouter::new()
        .routes(routes!(
            attachments::list_record_attachments,
            attachments::upload_record_attachment
        ))
        .routes(routes!(
            attachments::list_case_attachments,
            attachments::upload_case_attachment
        ))
        .layer(DefaultBodyLimit::max(
            max_attachment_bytes.saturating_add(UPLOAD_SLACK),
        ));

    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::healthz))
        .routes(routes!(crate::metrics::readyz))
        .routes(routes!(crate::metrics::metrics))
        .routes(routes!(system::openapi_json))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(me::begin_totp))
        .routes(routes!(me::confirm_totp))
        .routes(routes!(me::list_tokens, me::create_token))
        .routes(routes!(me::revoke_token))
        .routes(routes!(admin::list_parties, admin::create_party))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::get_user, admin::update_user))
        .routes(routes!(admin::reset_password))
        .routes(routes!(admin::reset_totp))
        .routes(routes!(admin::list_user_tokens))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(indicators::get_indicators))
        .routes(routes!(indicators::publish_statistics))
        .routes(routes!(indicators::public_statistics))
        .routes(routes!(jobs::import_matching))
        .routes(routes!(records::list_records, records::create_record))
        .routes(routes!(
            records::get_record,
            records::update_record,
            records::delete_record
        ))
        .routes(routes!(records::record_history))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(matches::review_queue))
        .routes(routes!(matches::get_candidate))
        .routes(routes!(matches::confirm_candidate))
        .routes(routes!(matches::reject_candidate))
        .routes(routes!(matches::train_linkage))
        .routes(routes!(cases::list_cases))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::case_history))
        .routes(routes!(cases::transition_case))
        .routes(routes!(cases::record_verification))
        .routes(routes!(cases::resolve_verification))
        .routes(routes!(cases::record_consent))
        .routes(routes!(cases::withdraw_consent))
        .routes(routes!(cases::record_child_views))
        .routes(routes!(cases::record_assessment))
        .routes(routes!(cases::record_determination))
        .routes(routes!(cases::disclose, cases::case_disclosures))
        .routes(routes!(cases::received_disclosures))
        .routes(routes!(cases::record_handover))
        .routes(routes!(cases::custody_chain))
        .routes(routes!(cases::record_reunification))
        .routes(routes!(cases::record_service))
        .routes(routes!(cases::schedule_follow_up))
        .routes(routes!(cases::waive_follow_up))
        .routes(routes!(cases::report_follow_up))
        .routes(routes!(cases::overdue_follow_ups))
        .routes(routes!(cases::report_own_follow_up))
        .routes(routes!(
            cases::record_accountability,
            cases::read_accountability
        ))
        .routes(routes!(cases::list_accountability))
        .routes(routes!(evidence::observed_cases))
        .routes(routes!(evidence::evidence_bundle))
        .routes(routes!(tasks::assign_task))
        .routes(routes!(tasks::list_tasks))
        .routes(routes!(tasks::get_task))
        .routes(routes!(tasks::report_task))
        .routes(routes!(tasks::cancel_task))
        .routes(routes!(duplicates::list_duplicates))
        .routes(routes!(duplicates::get_duplicate))
        .routes(routes!(duplicates::dismiss_duplicate))
        .routes(routes!(duplicates::merge_duplicate))
        .routes(routes!(attachments::get_attachment))
        .routes(routes!(attachments::download_attachment))
        .routes(routes!(
            transfers::list_transfer_lists,
            transfers::create_transfer_list
        ))
        .routes(routes!(transfers::get_transfer_list))
        .routes(routes!(transfers::add_list_entry))
        .routes(routes!(transfers::remove_list_entry))
        .routes(routes!(transfers::withdraw_list_entry))
        .routes(routes!(transfers::propose_transfer_list))
        .routes(routes!(transfers::approve_transfer_list))
        .routes(routes!(transfers::fix_transfer_list))
        .routes(routes!(transfers::start_transfer_list))
        .routes(routes!(transfers::complete_transfer_list))
        .routes(routes!(transfers::transfer_list_versions))
        .routes(routes!(transfers::transfer_list_diff))
        .routes(routes!(transfers::transfer_plans_of_list))
        .routes(routes!(transfers::create_transfer_plan))
        .routes(routes!(transfers::get_transfer_plan))
        .routes(routes!(transfers::add_plan_leg))
        .routes(routes!(transfers::update_plan_leg))
        .routes(routes!(transfers::set_plan_escorts))
        .routes(routes!(transfers::set_plan_documents))
        .routes(routes!(transfers::set_plan_costs))
        .routes(routes!(transfers::approve_transfer_plan))
        .routes(routes!(pprl::own_references))
        .routes(routes!(pprl::list_runs, pprl::create_run))
        .routes(routes!(pprl::get_run))
        .routes(routes!(pprl::request_records))
        .routes(routes!(pprl::answer_pair))
        .routes(routes!(pprl::decline_pair))
        .routes(routes!(pprl::dismiss_pair))
        .routes(routes!(exports::list_exports, exports::request_export))
        .routes(routes!(exports::get_export))
        .routes(routes!(exports::download_export))
        .merge(imports)
        .merge(uploads)
        .merge(pprl_lists)
}
