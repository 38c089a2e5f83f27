//! The exports page: ask for an export of the child records one may read (format, columns,
//! filters, protection), follow one's exports (state, progress, expiry) and download a finished
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
    CASE_COLUMNS, ExportFilters, ExportFormat, ExportPassword, ExportRequest, ExportView,
    RECORD_COLUMNS,
};
use homeward_domain::CaseState;
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
    /// Column code and its label.
    pub columns: Vec<(&'static str, String)>,
    /// For those who may export cases: the cases' columns, and the states to filter by.
    pub cases: Option<CasesForm>,
    pub rows: Vec<ExportRow>,
}

#[derive(Debug)]
pub(crate) struct CasesForm {
    pub columns: Vec<(&'static str, String)>,
    pub states: Vec<(&'static str, String)>,
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
            columns: RECORD_COLUMNS
                .iter()
                .map(|c| (*c, t.word("exp_col_", c)))
                .collect(),
            rows: list.iter().map(|e| row(t, e)).collect(),
            cases: cx.caller.may_export_cases().then(|| CasesForm {
                columns: CASE_COLUMNS
                    .iter()
                    .map(|c| (*c, t.word("exp_ccol_", c)))
                    .collect(),
                states: CaseState::ALL
                    .iter()
                    .map(|s| (s.as_str(), t.word("state_", s.as_str())))
                    .collect(),
            }),
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
    let filters = if subject == "cases" {
        ExportFilters {
            state: form.opt_parse("state")?,
            ..ExportFilters::default()
        }
    } else {
        ExportFilters {
            kind: form.opt_parse("kind")?,
            sex: form.opt_parse("sex")?,
            born_from_year: year("born_from")?,
            born_to_year: year("born_to")?,
            state: None,
        }
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

/// The password typed into the download form: printable ASCII (so 7-Zip and every other tool
/// reads it the same way), at least 12 characters (the app checks the length).
fn password_of(form: &Fields) -> Result<Option<ExportPassword>, AppError> {
    let typed = form.get("password");
    if typed.is_empty() {
        return Ok(None);
    }
    if !typed.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(invalid(
            "password",
            "export_password_not_ascii",
            "the password must be printable ASCII characters",
        ));
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
