//! The exports page: ask for an export of what one may read (child records, cases, transfer
//! lists, plans, follow-up visits: the subjects the app says the caller may export; format,
//! columns, filters, protection), follow one's exports (state, progress, expiry) and download a finished
//! one, zipped with AES-256 under a password typed into the form. Everything goes through the
//! same use-cases as the API (`request_export`, `list_exports`, `download_export`), so the page
//! is scoped, refused and audited exactly like it; the password travels in the form's body (never
//! in a URL) and is zeroed by the app once the zip is made.

use super::context::{PageCtx, PostForm};
use super::error::{PageError, PageResult, html};
use super::refusal::Fields;
use super::show::when;
use crate::AppState;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use homeward_app::AppError;
use homeward_app::exports::{
    ExportFilters, ExportFormat, ExportPassword, ExportRequest, ExportView, FollowUpState,
    columns_of,
};
use homeward_domain::{CaseState, ListState};
use uuid::Uuid;

/// How many of one's exports the page lists.
const LISTED: u32 = 100;

#[derive(Debug)]
pub(crate) struct ExportRow {
    pub id: String,
    pub subject: String,
    pub format: String,
    pub columns: usize,
    pub protected: bool,
    pub state_code: String,
    pub state: String,
    pub progress: String,
    pub created: String,
    pub expires: String,
    pub downloads: i32,
    pub done: bool,
    pub error: String,
}

#[derive(Template)]
#[template(path = "exports.html")]
pub(crate) struct ExportsPage<'a> {
    pub f: super::context::Frame<'a>,
    /// One form per subject the caller may export, all drawn by the same markup.
    pub forms: Vec<SubjectForm>,
    pub rows: Vec<ExportRow>,
}

/// The form asking for an export of one subject.
#[derive(Debug)]
pub(crate) struct SubjectForm {
    pub subject: &'static str,
    pub title: String,
    pub hint: String,
    pub button: String,
    /// Column code and its label, in the default order.
    pub columns: Vec<(&'static str, String)>,
    pub filters: Vec<FilterField>,
}

/// One filter of a form: a choice (`options`), or a field to type in (`input`: `year`, `date`
/// or `text`).
#[derive(Debug)]
pub(crate) struct FilterField {
    pub name: &'static str,
    pub label: String,
    pub input: &'static str,
    pub options: Vec<(&'static str, String)>,
}

fn choice(name: &'static str, label: String, options: Vec<(&'static str, String)>) -> FilterField {
    FilterField {
        name,
        label,
        input: "select",
        options,
    }
}

fn typed(name: &'static str, label: String, input: &'static str) -> FilterField {
    FilterField {
        name,
        label,
        input,
        options: Vec::new(),
    }
}

/// The prefix of a subject's column labels in the i18n files.
fn column_prefix(subject: &str) -> &'static str {
    match subject {
        "cases" => "exp_ccol_",
        "transfer_lists" => "exp_lcol_",
        "plans" => "exp_pcol_",
        "follow_ups" => "exp_fcol_",
        _ => "exp_col_",
    }
}

/// The filters the form of `subject` offers (those the app takes for it).
fn filters(t: &super::i18n::Tr, subject: &str) -> Vec<FilterField> {
    let words = |prefix: &str, codes: &[&'static str]| {
        codes.iter().map(|c| (*c, t.word(prefix, c))).collect()
    };
    match subject {
        "records" => vec![
            choice(
                "kind",
                t.get("filter_kind").to_owned(),
                words("kind_", &["tracing_request", "custody_record"]),
            ),
            choice(
                "sex",
                t.get("filter_sex").to_owned(),
                words("sex_", &["female", "male", "unknown"]),
            ),
            typed("born_from", t.get("born_from").to_owned(), "year"),
            typed("born_to", t.get("born_to").to_owned(), "year"),
        ],
        "cases" => vec![choice(
            "state",
            t.get("exp_case_state").to_owned(),
            words("state_", &CaseState::ALL.map(CaseState::as_str)),
        )],
        "transfer_lists" => vec![
            choice(
                "list_state",
                t.get("tr_list_state").to_owned(),
                words("tr_ls_", &ListState::ALL.map(ListState::as_str)),
            ),
            typed("round", t.get("tr_round").to_owned(), "text"),
        ],
        "plans" => vec![
            typed("round", t.get("tr_round").to_owned(), "text"),
            choice(
                "plan_approved",
                t.get("exp_plan_approved").to_owned(),
                words("exp_plan_approved_", &["true", "false"]),
            ),
        ],
        "follow_ups" => vec![
            choice(
                "follow_up_state",
                t.get("exp_follow_up_state").to_owned(),
                words(
                    "exp_fu_state_",
                    &FollowUpState::ALL.map(FollowUpState::as_str),
                ),
            ),
            typed("due_from", t.get("exp_due_from").to_owned(), "date"),
            typed("due_to", t.get("exp_due_to").to_owned(), "date"),
        ],
        _ => Vec::new(),
    }
}

fn form(t: &super::i18n::Tr, subject: &'static str) -> SubjectForm {
    let prefix = column_prefix(subject);
    SubjectForm {
        subject,
        title: t.word("exp_new_", subject),
        hint: t.word("exp_hint_", subject),
        button: t.word("exp_request_", subject),
        columns: columns_of(subject)
            .unwrap_or_default()
            .iter()
            .map(|c| (*c, t.word(prefix, c)))
            .collect(),
        filters: filters(t, subject),
    }
}

fn row(t: &super::i18n::Tr, e: &ExportView) -> ExportRow {
    let done = e.state == "done";
    ExportRow {
        id: e.id.to_string(),
        subject: t.word("exp_subject_", &e.subject),
        format: e.format.to_uppercase(),
        columns: e.columns.len(),
        protected: e.protected,
        state_code: e.state.clone(),
        state: t.word("exp_state_", &e.state),
        progress: if done {
            e.progress_total.to_string()
        } else {
            e.progress_done.to_string()
        },
        created: when(&e.created_at),
        expires: when(&e.expires_at),
        downloads: e.downloads,
        done,
        error: e
            .error_code
            .as_deref()
            .map(|c| t.get_or(&format!("error_code_{c}"), c))
            .unwrap_or_default(),
    }
}

pub(crate) async fn page(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    let t = cx.t;
    let list = s
        .app
        .list_exports(&cx.caller, LISTED)
        .await
        .map_err(|e| cx.fail(e))?;
    html(
        t,
        &ExportsPage {
            f: cx.frame(),
            forms: s
                .app
                .export_subjects(&cx.caller)
                .into_iter()
                .map(|subject| form(t, subject))
                .collect(),
            rows: list.iter().map(|e| row(t, e)).collect(),
        },
    )
}

fn invalid(field: &str, code: &'static str, message: &str) -> AppError {
    AppError::invalid(field, code, message)
}

/// The request the form describes, as the API would take it.
fn request_of(form: &Fields) -> Result<ExportRequest, AppError> {
    let format = match form.text("format").as_str() {
        "csv" => ExportFormat::Csv,
        "xlsx" => ExportFormat::Xlsx,
        "json" => ExportFormat::Json,
        _ => return Err(invalid("format", "required", "choose csv, xlsx or json")),
    };
    let year = |k: &str| -> Result<Option<i32>, AppError> {
        match form.opt(k) {
            None => Ok(None),
            Some(v) => v
                .parse::<i32>()
                .map(Some)
                .map_err(|_| invalid(k, "not_a_number", "a year, like 2014")),
        }
    };
    let subject = form.opt("subject").unwrap_or_else(|| "records".to_owned());
    let approved = match form.text("plan_approved").as_str() {
        "" => None,
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            return Err(invalid(
                "plan_approved",
                "invalid",
                "not one of the values offered",
            ));
        }
    };
    // Each form sends only its own subject's filters; the app refuses any other.
    let filters = ExportFilters {
        kind: form.opt_parse("kind")?,
        sex: form.opt_parse("sex")?,
        born_from_year: year("born_from")?,
        born_to_year: year("born_to")?,
        state: form.opt_parse("state")?,
        list_state: form.opt_parse("list_state")?,
        round: form.opt("round"),
        plan_approved: approved,
        follow_up_state: form.opt_parse("follow_up_state")?,
        due_from: form.opt_parse("due_from")?,
        due_to: form.opt_parse("due_to")?,
    };
    Ok(ExportRequest {
        subject,
        format,
        // The form lists the columns in their default order; the app checks each.
        columns: form.all("columns").into_iter().map(str::to_owned).collect(),
        filters,
        protected: form.get("protected") == "on",
    })
}

pub(crate) async fn request(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let req = request_of(&form).map_err(|e| cx.fail(e))?;
    s.app
        .request_export(&cx.caller, &req)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(Redirect::to("/exports").into_response())
}

/// The password typed into the download form, if any (the app states what a password must be).
fn password_of(form: &Fields) -> Result<Option<ExportPassword>, AppError> {
    let typed = form.get("password");
    if typed.is_empty() {
        return Ok(None);
    }
    ExportPassword::new(typed.to_owned()).map(Some)
}

pub(crate) async fn download(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    PostForm { cx, form }: PostForm<Fields>,
) -> Result<axum::response::Response, PageError> {
    let password = password_of(&form).map_err(|e| cx.fail(e))?;
    let file = s
        .app
        .download_export(&cx.caller, id, password)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(crate::routes::exports::file_response(file))
}
