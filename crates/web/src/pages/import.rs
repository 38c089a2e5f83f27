//! Import: upload a spreadsheet, map its columns, check every row, confirm.
//!
//! Each step calls the app's import use-cases (`describe_import`, `check_import`,
//! `import_records`), the ones the JSON API and the CLI call, so the page refuses exactly what
//! they refuse and the import is all or nothing as the app guarantees.
//!
//! Between the steps the uploaded file is staged in the database (the app's
//! `stage_import`), under a random one-time token bound to the session that uploaded it, for a
//! limited time and within a size cap. Re-posting the file in a hidden field was the other choice;
//! it was not taken because the children's names would then sit in every page of the flow
//! (browser caches, saved pages), the file would cross the network three times, and a one-time
//! token to stop a second confirm from importing twice needs state on the server anyway. Kept in
//! the database, not in one server's memory, any server behind a load balancer takes any step
//! (nothing sticky). Neither the file nor its name is ever logged or put in a URL.

use super::context::{Frame, PageCtx, PostForm, PostMultipart};
use super::error::{PageError, PageResult, html, render};
use super::i18n::Tr;
use super::names::{ShownName, shown_text};
use super::refusal::Fields;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use homeward_app::import::{Field, ImportCheck, ImportLayout, ImportOptions, parse_column_mapping};
use homeward_app::staging::{Staged, StagedOutcome};
use homeward_app::{AppError, RowError};
use homeward_domain::RecordKind;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The largest file the page takes. It is held in memory between the steps, so this is below
/// the API's limit (which handles one request and forgets it); bigger files go through the API
/// or `homeward import`.
pub(crate) const MAX_UPLOAD: usize = 16 << 20;
/// The upload route's body limit: the file and the little form around it.
pub(crate) const BODY_LIMIT: usize = MAX_UPLOAD + (64 << 10);
/// Values shown under each header on the mapping step.
const SAMPLES: usize = 3;
/// Errors listed on the page; the rejected-rows download always has every one. A file of 16 MiB
/// can have hundreds of thousands of bad rows, and a page that size helps no one.
const MAX_LISTED: usize = 2_000;

// ---- mapping ----------------------------------------------------------------------------------

fn field_label(t: &'static Tr, f: Field) -> &'static str {
    let key = label_key(f);
    match t.get(key) {
        v if v == key => f.as_str(),
        v => v,
    }
}

/// The key of a field's label as a `'static` string (Tr looks words up by key).
fn label_key(f: Field) -> &'static str {
    static KEYS: LazyLock<HashMap<Field, String>> = LazyLock::new(|| {
        Field::ALL
            .into_iter()
            .map(|f| (f, format!("imp_field_{}", f.as_str())))
            .collect()
    });
    KEYS.get(&f)
        .map(String::as_str)
        .unwrap_or("imp_field_ignore")
}

fn is_name(f: Field) -> bool {
    matches!(
        f,
        Field::GivenName
            | Field::Patronymic
            | Field::FamilyName
            | Field::FullName
            | Field::AltGivenName
            | Field::AltPatronymic
            | Field::AltFamilyName
            | Field::AltFullName
    )
}

/// The field chosen for each column: `map_<index>` from the form, else the mapping of the file
/// this one corrects, else what the header says. Columns without a header get none: the import
/// only checks they are empty.
fn chosen(
    layout: &ImportLayout,
    form: &Fields,
    preset: &[(String, Field)],
) -> Result<Vec<Option<Field>>, ()> {
    let sent: HashMap<&str, &str> = form
        .0
        .iter()
        .filter(|(k, _)| k.starts_with("map_"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    layout
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if c.header.is_empty() {
                return Ok(None);
            }
            match sent.get(format!("map_{i}").as_str()) {
                Some(v) => v.parse::<Field>().map(Some).map_err(|_| ()),
                None => Ok(Some(
                    preset
                        .iter()
                        .find(|(h, _)| *h == c.header)
                        .map(|(_, f)| *f)
                        .or(c.recognised)
                        .unwrap_or(Field::Ignore),
                )),
            }
        })
        .collect()
}

/// The mapping as the import takes it: every named column, by its header. A header repeated in
/// the file follows its first column's choice (the import matches columns by header).
fn options(
    kind: RecordKind,
    layout: &ImportLayout,
    map: &[Option<Field>],
    skip_invalid: bool,
    force: bool,
    keep_unreadable: bool,
) -> ImportOptions {
    let mut columns: Vec<(String, String)> = Vec::new();
    for (c, f) in layout.columns.iter().zip(map) {
        if let Some(f) = f
            && !columns.iter().any(|(h, _)| h == &c.header)
        {
            columns.push((c.header.clone(), f.as_str().to_owned()));
        }
    }
    ImportOptions {
        kind: Some(kind),
        columns,
        skip_invalid,
        force,
        keep_unreadable,
    }
}

/// What the import would refuse the mapping for, in the person's words (the app's messages for
/// these speak of the CLI's `--column`).
fn mapping_problems(t: &'static Tr, layout: &ImportLayout, map: &[Option<Field>]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_field: Vec<(Field, Vec<&str>)> = Vec::new();
    for (c, f) in layout.columns.iter().zip(map) {
        let Some(f) = f.filter(|f| *f != Field::Ignore) else {
            continue;
        };
        match by_field.iter_mut().find(|(g, _)| *g == f) {
            Some((_, headers)) => {
                if !headers.contains(&c.header.as_str()) {
                    headers.push(&c.header);
                }
            }
            None => by_field.push((f, vec![&c.header])),
        }
    }
    for (f, headers) in &by_field {
        if headers.len() > 1 {
            problems.push(format!(
                "{} «{}»: {}",
                t.get("imp_problem_twice"),
                field_label(t, *f),
                headers.join(", ")
            ));
        }
    }
    let has_name = by_field.iter().any(|(f, _)| {
        matches!(
            f,
            Field::GivenName | Field::Patronymic | Field::FamilyName | Field::FullName
        )
    });
    if !has_name {
        problems.push(t.get("imp_problem_no_name").to_owned());
    }
    problems
}

// ---- pages ------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "import.html")]
pub(crate) struct UploadPage<'a> {
    pub f: Frame<'a>,
    pub kind: &'a str,
    pub max_mib: usize,
    /// A problem with what was sent, translated; and the app's own words when it has more to say.
    pub problem: Option<(&'a str, String)>,
}

#[derive(Debug)]
pub(crate) struct ChoiceRow {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Debug)]
pub(crate) struct ColumnRow {
    pub index: usize,
    pub number: usize,
    pub header: String,
    pub recognised: bool,
    /// Names with their transliteration; other values as they are.
    pub samples: Vec<ShownName>,
    /// Empty for a column without a header.
    pub choices: Vec<ChoiceRow>,
}

#[derive(Template)]
#[template(path = "import_columns.html")]
pub(crate) struct ColumnsPage<'a> {
    pub f: Frame<'a>,
    pub token: &'a str,
    pub filename: &'a str,
    pub kind: &'a str,
    pub columns: Vec<ColumnRow>,
    pub problems: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct ErrorRow {
    pub line: u64,
    /// The first problem of its row (the line is shown once per row).
    pub first: bool,
    pub column: String,
    pub field: String,
    pub code: &'static str,
    pub message: String,
    /// The app's own message, when the translation leaves out what it says (the value, a limit).
    pub detail: String,
}

#[derive(Template)]
#[template(path = "import_preview.html")]
pub(crate) struct PreviewPage<'a> {
    pub f: Frame<'a>,
    pub token: &'a str,
    pub filename: &'a str,
    pub kind: &'a str,
    pub rows: usize,
    pub valid: usize,
    pub rejected: usize,
    pub errors: Vec<ErrorRow>,
    /// More errors than are listed.
    pub cut: bool,
    /// The mapping, repeated in every form of the page.
    pub mapping: Vec<(String, &'static str)>,
    /// The mapping by header (`HEADER=FIELD`), for a corrected file uploaded from this page.
    pub keep: Vec<String>,
}

#[derive(Template)]
#[template(path = "import_done.html")]
pub(crate) struct DonePage<'a> {
    pub f: Frame<'a>,
    pub kind: &'a str,
    pub kind_filter: &'a str,
    pub imported: usize,
    pub left_out: usize,
    pub repeated: bool,
    pub committing: bool,
    /// The matching job's state (`queued`, `running`, `done`, `failed`; empty when unknown).
    pub matching_state: &'a str,
    pub matching_done: i64,
    pub matching_total: i64,
}

fn kind_label(t: &'static Tr, k: RecordKind) -> &'static str {
    match k {
        RecordKind::TracingRequest => t.get("imp_kind_tracing_requests"),
        RecordKind::CustodyRecord => t.get("imp_kind_custody_records"),
    }
}

fn gone(t: &'static Tr) -> Response {
    render(
        t,
        StatusCode::NOT_FOUND,
        "import_expired",
        t.get("imp_expired"),
    )
}

fn with_status(status: StatusCode, r: PageResult) -> PageResult {
    r.map(|mut res| {
        *res.status_mut() = status;
        res
    })
}

fn upload_form(cx: &PageCtx, kind: RecordKind, problem: Option<(&str, String)>) -> PageResult {
    let page = UploadPage {
        f: cx.frame(),
        kind: kind_label(cx.t, kind),
        max_mib: MAX_UPLOAD >> 20,
        problem,
    };
    html(cx.t, &page)
}

/// The upload form.
pub(crate) async fn upload_page(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    let kind = s.app.import_target(&cx.caller).map_err(|e| cx.fail(e))?;
    upload_form(&cx, kind, None)
}

/// The upload: staged, then on to the mapping step.
pub(crate) async fn upload(State(s): State<AppState>, mp: PostMultipart) -> PageResult {
    let cx = &mp.cx;
    let kind = s.app.import_target(&cx.caller).map_err(|e| cx.fail(e))?;
    let Some(file) = mp.file("file") else {
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            upload_form(cx, kind, Some((cx.t.get("imp_choose_file"), String::new()))),
        );
    };
    if file.bytes.len() > MAX_UPLOAD {
        return Err(PageError::TooLarge(cx.t));
    }
    // A workbook is the commonest wrong file; say what to do rather than "not UTF-8".
    let workbook = file.bytes.starts_with(b"PK\x03\x04")
        || file.bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
        || file.content_type.as_deref().is_some_and(|c| {
            c.contains("spreadsheetml")
                || c.contains("opendocument")
                || c == "application/vnd.ms-excel.sheet.macroEnabled.12"
        });
    if workbook {
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            upload_form(cx, kind, Some((cx.t.get("imp_workbook"), String::new()))),
        );
    }
    // A corrected file comes with the mapping of the one it corrects.
    let preset: Vec<(String, Field)> = mp
        .fields
        .iter()
        .filter(|(k, _)| k == "keep")
        .filter_map(|(_, v)| parse_column_mapping(v).ok())
        .filter_map(|(h, f)| f.parse::<Field>().ok().map(|f| (h, f)))
        .collect();
    // Read the header now, so that a file that is not CSV at all is refused on this page.
    match s.app.describe_import(&cx.caller, &file.bytes, SAMPLES) {
        Ok(_) => {}
        Err(AppError::ImportFile(m)) => {
            return with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                upload_form(cx, kind, Some((cx.t.get("imp_unreadable"), m))),
            );
        }
        Err(e) => return Err(cx.fail(e)),
    }
    let filename = file.filename.clone().unwrap_or_default();
    let staged = s
        .app
        .stage_import(
            &cx.caller,
            &cx.session,
            filename,
            &preset,
            &file.bytes,
            mp.field("replaces"),
        )
        .await
        .map_err(|e| cx.fail(e))?;
    let Some(token) = staged else {
        return Ok(render(
            cx.t,
            StatusCode::SERVICE_UNAVAILABLE,
            "import_busy",
            cx.t.get("imp_busy"),
        ));
    };
    Ok(Redirect::to(&format!("/import/{token}")).into_response())
}

fn columns_page(
    cx: &PageCtx,
    token: &str,
    filename: &str,
    layout: &ImportLayout,
    map: &[Option<Field>],
    problems: Vec<String>,
) -> PageResult {
    let t = cx.t;
    let columns = layout
        .columns
        .iter()
        .zip(map)
        .enumerate()
        .map(|(i, (c, chosen))| ColumnRow {
            index: i,
            number: i + 1,
            header: c.header.clone(),
            recognised: c.recognised.is_some(),
            samples: c
                .samples
                .iter()
                .map(|v| match chosen {
                    Some(f) if is_name(*f) => shown_text(v),
                    _ => ShownName {
                        written: v.clone(),
                        lang: "",
                        latin: String::new(),
                    },
                })
                .collect(),
            choices: match chosen {
                None => Vec::new(),
                Some(chosen) => Field::ALL
                    .into_iter()
                    .map(|f| ChoiceRow {
                        value: f.as_str(),
                        label: field_label(t, f),
                        selected: f == *chosen,
                    })
                    .collect(),
            },
        })
        .collect();
    let page = ColumnsPage {
        f: cx.frame(),
        token,
        filename,
        kind: kind_label(t, layout.kind),
        columns,
        problems,
    };
    html(t, &page)
}

/// The staged file of this session, or the page to show instead.
type Ready = (Vec<u8>, String, Vec<(String, Field)>);

/// A page shown instead of the step asked for (boxed: a response is large).
type Detour = Box<Response>;

fn detour(r: PageResult) -> Detour {
    Box::new(r.unwrap_or_else(IntoResponse::into_response))
}

async fn ready(s: &AppState, cx: &PageCtx, token: &str) -> Result<Ready, Detour> {
    let found = s
        .app
        .staged_import(&cx.session, token)
        .await
        .map_err(|e| detour(Err(cx.fail(e))))?;
    match found {
        Staged::Ready {
            bytes,
            filename,
            preset,
        } => Ok((bytes, filename, preset)),
        Staged::Done(_) | Staged::Committing => Err(Box::new(
            Redirect::to(&format!("/import/{token}/done")).into_response(),
        )),
        Staged::Gone => Err(Box::new(gone(cx.t))),
    }
}

/// The mapping step, with each header's default.
pub(crate) async fn columns(
    State(s): State<AppState>,
    cx: PageCtx,
    Path(token): Path<String>,
) -> PageResult {
    s.app.import_target(&cx.caller).map_err(|e| cx.fail(e))?;
    let (bytes, filename, preset) = match ready(&s, &cx, &token).await {
        Ok(v) => v,
        Err(page) => return Ok(*page),
    };
    let layout = s
        .app
        .describe_import(&cx.caller, &bytes, SAMPLES)
        .map_err(|e| cx.fail(e))?;
    let map =
        chosen(&layout, &Fields::default(), &preset).map_err(|()| PageError::BadForm(cx.t))?;
    columns_page(&cx, &token, &filename, &layout, &map, Vec::new())
}

/// What every step after the upload starts from: the permission, the staged file, its layout,
/// and the mapping the form carries.
struct Step {
    kind: RecordKind,
    bytes: Vec<u8>,
    filename: String,
    layout: ImportLayout,
    map: Vec<Option<Field>>,
}

async fn step(s: &AppState, cx: &PageCtx, token: &str, form: &Fields) -> Result<Step, Detour> {
    let kind = s
        .app
        .import_target(&cx.caller)
        .map_err(|e| detour(Err(cx.fail(e))))?;
    let (bytes, filename, preset) = ready(s, cx, token).await?;
    let layout = s
        .app
        .describe_import(&cx.caller, &bytes, SAMPLES)
        .map_err(|e| detour(Err(cx.fail(e))))?;
    let map = chosen(&layout, form, &preset).map_err(|()| detour(Err(PageError::BadForm(cx.t))))?;
    Ok(Step {
        kind,
        bytes,
        filename,
        layout,
        map,
    })
}

/// Back to the mapping step with the choices made so far.
pub(crate) async fn remap(
    State(s): State<AppState>,
    Path(token): Path<String>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let st = match step(&s, &cx, &token, &form).await {
        Ok(v) => v,
        Err(page) => return Ok(*page),
    };
    columns_page(&cx, &token, &st.filename, &st.layout, &st.map, Vec::new())
}

/// The dry run with this mapping, or the mapping step again naming what is wrong with it.
async fn dry_run(
    s: &AppState,
    cx: &PageCtx,
    token: &str,
    st: &Step,
) -> Result<ImportCheck, Detour> {
    let problems = mapping_problems(cx.t, &st.layout, &st.map);
    let again = |problems| {
        Err(detour(with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            columns_page(cx, token, &st.filename, &st.layout, &st.map, problems),
        )))
    };
    if !problems.is_empty() {
        return again(problems);
    }
    let options = options(st.kind, &st.layout, &st.map, true, false, false);
    match s
        .app
        .check_import(&cx.caller, &st.bytes, &options, &|_| {})
        .await
    {
        Ok(check) => Ok(check),
        Err(AppError::ImportFile(m)) => again(vec![format!("{} {m}", cx.t.get("imp_unreadable"))]),
        Err(e) => Err(detour(Err(cx.fail(e)))),
    }
}

/// The staged file with the form's mapping, checked row by row: what the preview and the
/// rejected rows both start from.
async fn checked(
    s: &AppState,
    cx: &PageCtx,
    token: &str,
    form: &Fields,
) -> Result<(Step, ImportCheck), Detour> {
    let st = step(s, cx, token, form).await?;
    let check = dry_run(s, cx, token, &st).await?;
    Ok((st, check))
}

/// Where a row error points, in the words of the file: its header, and the field it was read as.
fn locate(
    t: &'static Tr,
    layout: &ImportLayout,
    map: &[Option<Field>],
    field: &str,
) -> (String, String) {
    if field == "row" {
        return (String::new(), t.get("imp_whole_row").to_owned());
    }
    if let Some(n) = field
        .strip_prefix("column ")
        .and_then(|n| n.parse::<usize>().ok())
    {
        let header = layout
            .columns
            .get(n.wrapping_sub(1))
            .map(|c| c.header.clone())
            .unwrap_or_default();
        return (header, format!("{} {n}", t.get("imp_column")));
    }
    let f = match field {
        "name" => Some(Field::FullName),
        "alt_name" => Some(Field::AltFullName),
        other => other.parse::<Field>().ok(),
    };
    let Some(f) = f else {
        return (String::new(), field.to_owned());
    };
    let header = layout
        .columns
        .iter()
        .zip(map)
        .find(|(_, m)| **m == Some(f))
        .map(|(c, _)| c.header.clone())
        .unwrap_or_default();
    let label = if field == "name" {
        t.get("imp_any_name").to_owned()
    } else {
        field_label(t, f).to_owned()
    };
    (header, label)
}

fn error_rows(
    t: &'static Tr,
    layout: &ImportLayout,
    map: &[Option<Field>],
    rejected: &[RowError],
) -> (Vec<ErrorRow>, bool) {
    let mut out = Vec::new();
    for row in rejected {
        for (i, e) in row.errors.iter().enumerate() {
            if out.len() == MAX_LISTED {
                return (out, true);
            }
            let (column, field) = locate(t, layout, map, &e.field);
            let key = format!("imp_err_{}", e.code);
            let (message, detail) = match t.get(&key) {
                // No words for this code: the app's English message, rather than nothing.
                v if v == key => (e.message.clone(), String::new()),
                v => (v.to_owned(), e.message.clone()),
            };
            out.push(ErrorRow {
                line: row.line,
                first: i == 0,
                column,
                field,
                code: e.code,
                message,
                detail,
            });
        }
    }
    (out, false)
}

fn mapping_fields(layout: &ImportLayout, map: &[Option<Field>]) -> Vec<(String, &'static str)> {
    layout
        .columns
        .iter()
        .zip(map)
        .enumerate()
        .filter_map(|(i, (_, f))| f.map(|f| (format!("map_{i}"), f.as_str())))
        .collect()
}

/// The check of every row: counts, every bad row, and the ways on.
pub(crate) async fn preview(
    State(s): State<AppState>,
    Path(token): Path<String>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let (st, check) = match checked(&s, &cx, &token, &form).await {
        Ok(v) => v,
        Err(page) => return Ok(*page),
    };
    let (errors, cut) = error_rows(cx.t, &st.layout, &st.map, &check.rejected);
    let page = PreviewPage {
        f: cx.frame(),
        token: &token,
        filename: &st.filename,
        kind: kind_label(cx.t, st.kind),
        rows: check.valid + check.rejected.len(),
        valid: check.valid,
        rejected: check.rejected.len(),
        errors,
        cut,
        mapping: mapping_fields(&st.layout, &st.map),
        keep: options(st.kind, &st.layout, &st.map, false, false, false)
            .columns
            .into_iter()
            .map(|(h, f)| format!("{h}={f}"))
            .collect(),
    };
    html(cx.t, &page)
}

/// The rejected rows as CSV (line, problems, then the original cells), to fix and import again.
pub(crate) async fn rejects(
    State(s): State<AppState>,
    Path(token): Path<String>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let (_, check) = match checked(&s, &cx, &token, &form).await {
        Ok(v) => v,
        Err(page) => return Ok(*page),
    };
    let csv = check.reject_csv.unwrap_or_default();
    let mut res = csv.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // A fixed name: the uploaded file's name may itself be personal (a child's surname).
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"rejected-rows.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Hands a taken upload back, nothing imported: the file can be mapped and tried again.
async fn release(s: &AppState, token: &str, e: PageError) -> PageResult {
    if let Err(r) = s.app.finish_staged_import(token, None).await {
        tracing::error!(error = %r, "a staged upload could not be released");
    }
    Err(e)
}

/// The import itself, once: the first confirmation takes the staged file, any later one finds
/// it imported and is sent to the same result.
pub(crate) async fn confirm(
    State(s): State<AppState>,
    Path(token): Path<String>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let kind = s.app.import_target(&cx.caller).map_err(|e| cx.fail(e))?;
    let done = Redirect::to(&format!("/import/{token}/done")).into_response();
    let taken = s
        .app
        .take_staged_import(&cx.session, &token)
        .await
        .map_err(|e| cx.fail(e))?;
    let bytes = match taken {
        Staged::Ready { bytes, .. } => bytes,
        Staged::Committing | Staged::Done(_) => return Ok(done),
        Staged::Gone => return Ok(gone(cx.t)),
    };
    let layout = match s.app.describe_import(&cx.caller, &bytes, 0) {
        Ok(l) => l,
        Err(e) => return release(&s, &token, cx.fail(e)).await,
    };
    let Ok(map) = chosen(&layout, &form, &[]) else {
        return release(&s, &token, PageError::BadForm(cx.t)).await;
    };
    let only_valid = form.all("only_valid").contains(&"1");
    let force = form.all("force").contains(&"1");
    let keep_unreadable = form.all("keep_unreadable").contains(&"1");
    let options = options(kind, &layout, &map, only_valid, force, keep_unreadable);
    // On its own task, so that a browser closing the connection mid-import cannot cancel it
    // between the commit and the bookkeeping that makes a second confirm a no-op.
    let (app, caller, key) = (s.app.clone(), cx.caller.clone(), token.clone());
    let job = tokio::spawn(async move {
        let result = app.import_records(&caller, &bytes, &options, &|_| {}).await;
        let outcome = result.as_ref().ok().map(|report| StagedOutcome {
            kind,
            imported: report.imported,
            left_out: report.rejected.len(),
            repeated: false,
            import_id: Some(report.import_id),
        });
        // All or nothing: without an outcome nothing was stored and the file is ready again.
        if let Err(e) = app.finish_staged_import(&key, outcome.as_ref()).await {
            tracing::error!(error = %e, "a staged upload's import could not be noted");
        }
        result
    });
    match job.await {
        Ok(Ok(_)) => Ok(done),
        Ok(Err(e)) => Err(cx.fail(e)),
        Err(e) => {
            tracing::error!(error = %e, "the import task failed");
            Ok(render(
                cx.t,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                cx.t.get("error_internal"),
            ))
        }
    }
}

/// The result of an import.
pub(crate) async fn done(
    State(s): State<AppState>,
    cx: PageCtx,
    Path(token): Path<String>,
) -> PageResult {
    let kind = s.app.import_target(&cx.caller).map_err(|e| cx.fail(e))?;
    let found = s
        .app
        .staged_import(&cx.session, &token)
        .await
        .map_err(|e| cx.fail(e))?;
    let (o, committing) = match found {
        Staged::Done(o) => (o, false),
        Staged::Committing => (
            StagedOutcome {
                kind,
                imported: 0,
                left_out: 0,
                repeated: false,
                import_id: None,
            },
            true,
        ),
        Staged::Ready { .. } => {
            return Ok(Redirect::to(&format!("/import/{token}")).into_response());
        }
        Staged::Gone => return Ok(gone(cx.t)),
    };
    // The matching runs as a job after the commit: say where it has got to.
    let matching = match o.import_id {
        Some(id) => s.app.import_matching(&cx.caller, id).await.ok(),
        None => None,
    };
    let page = DonePage {
        matching_state: matching.as_ref().map_or("", |m| m.state.as_str()),
        matching_done: matching.as_ref().map_or(0, |m| m.progress_done),
        matching_total: matching.as_ref().map_or(0, |m| m.progress_total),
        f: cx.frame(),
        kind: kind_label(cx.t, o.kind),
        kind_filter: o.kind.as_str(),
        imported: o.imported,
        left_out: o.left_out,
        repeated: o.repeated,
        committing,
    };
    html(cx.t, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use homeward_app::import::ColumnSample;
    use homeward_domain::Language;

    fn layout(headers: &[&str]) -> ImportLayout {
        ImportLayout {
            kind: RecordKind::CustodyRecord,
            columns: headers
                .iter()
                .map(|h| ColumnSample {
                    header: (*h).to_owned(),
                    recognised: homeward_app::import::recognise_header(h),
                    samples: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn every_field_has_a_label_in_every_language() {
        for lang in Language::ALL {
            let t = super::super::i18n::tr(lang);
            for f in Field::ALL {
                let key = format!("imp_field_{}", f.as_str());
                assert_ne!(t.get(&key), key, "{lang:?} lacks {key}");
            }
        }
    }

    #[test]
    fn the_form_overrides_the_headers_and_unnamed_columns_get_nothing() {
        let l = layout(&["Прізвище", "Колір очей", "", "Стать"]);
        assert_eq!(
            chosen(&l, &Fields::default(), &[]).unwrap(),
            vec![
                Some(Field::FamilyName),
                Some(Field::Ignore),
                None,
                Some(Field::Sex)
            ]
        );
        let form = Fields(vec![
            ("csrf".to_owned(), "x".to_owned()),
            ("map_1".to_owned(), "notes".to_owned()),
            ("map_2".to_owned(), "notes".to_owned()),
        ]);
        let map = chosen(&l, &form, &[]).unwrap();
        assert_eq!(map[1], Some(Field::Notes));
        assert_eq!(map[2], None, "a column without a header cannot be mapped");
        let o = options(RecordKind::CustodyRecord, &l, &map, true, false, false);
        assert_eq!(o.columns.len(), 3);
        let wrong = Fields(vec![("map_0".to_owned(), "eye_colour".to_owned())]);
        assert!(chosen(&l, &wrong, &[]).is_err());
    }

    #[test]
    fn a_field_read_twice_and_a_missing_name_are_named() {
        let t = super::super::i18n::tr(Language::En);
        let l = layout(&["Surname", "Last name", "Sex"]);
        let map = chosen(&l, &Fields::default(), &[]).unwrap();
        let p = mapping_problems(t, &l, &map);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("Surname, Last name"), "{p:?}");
        let map = vec![Some(Field::Ignore), Some(Field::Ignore), Some(Field::Sex)];
        assert_eq!(
            mapping_problems(t, &l, &map),
            vec![t.get("imp_problem_no_name").to_owned()]
        );
    }

    #[test]
    fn errors_point_at_the_files_own_headers() {
        let t = super::super::i18n::tr(Language::En);
        let l = layout(&["Прізвище", "Дата народження", ""]);
        let map = chosen(&l, &Fields::default(), &[]).unwrap();
        assert_eq!(
            locate(t, &l, &map, "birth_date"),
            ("Дата народження".to_owned(), "Date of birth".to_owned())
        );
        assert_eq!(locate(t, &l, &map, "column 3").1, "Column 3");
        assert_eq!(locate(t, &l, &map, "row").0, "");
        let rows = vec![RowError {
            line: 7,
            errors: vec![
                homeward_domain::FieldError::new("sex", "invalid_sex", "\"x\" is not a sex"),
                homeward_domain::FieldError::new("notes", "brand_new_code", "English only"),
            ],
        }];
        let (e, cut) = error_rows(t, &l, &map, &rows);
        assert!(!cut);
        assert!(e[0].first && !e[1].first);
        assert_eq!(e[0].detail, "\"x\" is not a sex");
        assert_eq!(
            (e[1].message.as_str(), e[1].detail.as_str()),
            ("English only", ""),
            "a code without words falls back to the app's message"
        );
    }
}
