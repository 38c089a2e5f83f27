//! Exports of child records, cases, transfer lists, plans and follow-up visits to CSV, XLSX or
//! JSON, made by an `export.run` job (lists, plans and follow-ups: see [`subjects`]).
//!
//! - Scoped exactly like the reads: the job reads the records through the same scoped, audited
//!   store read as a list (`list_records` with the requesting party's scope, a page at a time), so
//!   a party exports only its own records and the mediator what was submitted to it; each page's
//!   read is in the audit log with the record ids it carried, like any list.
//! - Streamed: pages of [`PAGE`] records go straight into the writer (XLSX in constant-memory
//!   mode), never the whole set at once.
//! - Kept encrypted: the finished file is a blob under the data directory (AES-256-GCM with the
//!   deployment's attachment key), deleted when the export expires (7 days by default).
//! - Password protection: a protected export is only ever handed out as a zip encrypted with
//!   AES-256 (WinZip AE-2, never ZipCrypto) under a password of at least
//!   [`MIN_PASSWORD_CHARS`] characters given *at download*, so the password never reaches the
//!   database, the job queue or a log; it is zeroed when the download is done.
//! - Every download is counted and audited (`export.download`) in one transaction.

use crate::error::ExportGone;
use crate::jobs::Lease;
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use homeward_domain::{
    AuditAction, AuditDraft, CaseId, CaseState, ChildRecord, ListState, NameEntry, Permission,
    RecordFilter, RecordId, RecordKind, Scope, Sex,
};
use homeward_store::blobs::BlobStore;
use homeward_store::{CaseFilter, EXPORT_RUN, Export, ExportEnd, ExportState, NewJob, StoredCase};
use serde::{Deserialize, Serialize};
use std::io::Write;
use uuid::Uuid;
use zeroize::Zeroizing;

mod subjects;
pub use subjects::{FOLLOW_UP_COLUMNS, FollowUpState, PLAN_COLUMNS, TRANSFER_LIST_COLUMNS};

/// How long an export's file is kept.
pub const DEFAULT_EXPIRY: Duration = Duration::days(7);
/// The shortest password a protected export takes.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The columns a cases export may have, in their default order; the child's names come from the
/// case's records.
pub const CASE_COLUMNS: [&str; 9] = [
    "case_id",
    "case_number",
    "state",
    "state_reason",
    "name",
    "name_latin",
    "birth_date",
    "created_at",
    "updated_at",
];

/// What can be exported: child records, (the mediator's) cases, transfer lists, (the mediator's)
/// plans, follow-up visits.
pub const SUBJECTS: [&str; 5] = ["records", "cases", "transfer_lists", "plans", "follow_ups"];

/// The columns a subject's export may have, in their default order.
pub fn columns_of(subject: &str) -> Option<&'static [&'static str]> {
    match subject {
        "records" => Some(&RECORD_COLUMNS),
        "cases" => Some(&CASE_COLUMNS),
        "transfer_lists" => Some(&TRANSFER_LIST_COLUMNS),
        "plans" => Some(&PLAN_COLUMNS),
        "follow_ups" => Some(&FOLLOW_UP_COLUMNS),
        _ => None,
    }
}

/// The filters a subject's export takes (the fields of [`ExportFilters`]).
pub fn filters_of(subject: &str) -> &'static [&'static str] {
    match subject {
        "records" => &["kind", "sex", "born_from_year", "born_to_year"],
        "cases" => &["state"],
        "transfer_lists" => &["list_state", "round"],
        "plans" => &["round", "plan_approved"],
        "follow_ups" => &["follow_up_state", "due_from", "due_to"],
        _ => &[],
    }
}

/// Records read (and written) per step.
pub const PAGE: u32 = 500;
/// Attempts an export job gets.
const MAX_ATTEMPTS: i32 = 3;

/// The columns a records export may have, in their default order.
pub const RECORD_COLUMNS: [&str; 19] = [
    "record_id",
    "kind",
    "external_ref",
    "name",
    "name_latin",
    "given",
    "patronymic",
    "family",
    "sex",
    "birth_date",
    "birth_place",
    "separation_date",
    "separation_circumstances",
    "last_known_location",
    "current_location",
    "current_carer",
    "notes",
    "created_at",
    "updated_at",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Json,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Json => "json",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Csv, Self::Xlsx, Self::Json]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Json => "application/json",
        }
    }
}

/// Which rows go in, by subject ([`filters_of`]): records by `kind`, `sex`, `born_*`; cases by
/// `state`; transfer lists by `list_state` and `round`; plans by `round` and `plan_approved`;
/// follow-ups by `follow_up_state` and the period of their due date (`due_from`, `due_to`). No
/// name filter, so the stored request holds no personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportFilters {
    pub kind: Option<RecordKind>,
    pub sex: Option<Sex>,
    pub born_from_year: Option<i32>,
    pub born_to_year: Option<i32>,
    /// Cases only: those in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<CaseState>,
    /// Transfer lists only: those in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_state: Option<ListState>,
    /// Transfer lists and plans: those of the round of this name (as negotiated, exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub round: Option<String>,
    /// Plans only: approved ones (`true`) or those not (yet) approved (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_approved: Option<bool>,
    /// Follow-ups only: those in this state on the day of the export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_state: Option<FollowUpState>,
    /// Follow-ups only: due on or after this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_from: Option<NaiveDate>,
    /// Follow-ups only: due on or before this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_to: Option<NaiveDate>,
}

impl ExportFilters {
    /// The names of the filters that are set.
    fn set(&self) -> Vec<&'static str> {
        [
            ("kind", self.kind.is_some()),
            ("sex", self.sex.is_some()),
            ("born_from_year", self.born_from_year.is_some()),
            ("born_to_year", self.born_to_year.is_some()),
            ("state", self.state.is_some()),
            ("list_state", self.list_state.is_some()),
            ("round", self.round.is_some()),
            ("plan_approved", self.plan_approved.is_some()),
            ("follow_up_state", self.follow_up_state.is_some()),
            ("due_from", self.due_from.is_some()),
            ("due_to", self.due_to.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

/// What a caller asks to export.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `records` (the default), `cases` (the mediator's: case number, state, the child's names),
    /// `transfer_lists` (a row per child on a list), `plans` (the mediator's: a row per child on
    /// a plan) or `follow_ups` (a row per follow-up visit).
    #[serde(default = "records_subject")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^(records|cases|transfer_lists|plans|follow_ups)$")
    )]
    pub subject: String,
    pub format: ExportFormat,
    /// Chosen columns, in order; empty or absent: all of the subject's ([`RECORD_COLUMNS`],
    /// [`CASE_COLUMNS`], [`TRANSFER_LIST_COLUMNS`], [`PLAN_COLUMNS`], [`FOLLOW_UP_COLUMNS`]).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = columns_schema))]
    pub columns: Vec<String>,
    #[serde(default)]
    pub filters: ExportFilters,
    /// Hand the file out only as an AES-256 zip under a password given at download.
    #[serde(default)]
    pub protected: bool,
}

/// The `columns` of a request in the OpenAPI document: each subject's columns, written from the
/// same lists the app checks against, so the document cannot drift from them.
#[cfg(feature = "openapi")]
fn columns_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let mut every: Vec<&str> = SUBJECTS
        .iter()
        .flat_map(|s| columns_of(s).unwrap_or_default().iter().copied())
        .collect();
    every.sort_unstable();
    every.dedup();
    let per_subject: Vec<String> = SUBJECTS
        .iter()
        .map(|s| {
            let cols: Vec<String> = columns_of(s)
                .unwrap_or_default()
                .iter()
                .map(|c| format!("`{c}`"))
                .collect();
            format!("`{s}`: {}", cols.join(", "))
        })
        .collect();
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(every)),
        )
        .description(Some(format!(
            "Chosen columns, in order; empty or absent: all of the subject's, in this order. {}. \
             A column not of the subject is refused (`export_column_unknown`), as is one chosen \
             twice (`export_column_repeated`).",
            per_subject.join("; ")
        )))
        .build()
}

fn records_subject() -> String {
    "records".to_owned()
}

/// An export as its requester sees it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportView {
    pub id: Uuid,
    pub subject: String,
    pub format: String,
    pub columns: Vec<String>,
    pub filters: serde_json::Value,
    pub protected: bool,
    /// `queued`, `running`, `done`, `failed` or `expired`.
    pub state: String,
    /// Records written so far.
    pub progress_done: i64,
    /// Records in the file once done; 0 while not known.
    pub progress_total: i64,
    pub file_size: Option<i64>,
    /// The name the download gets.
    pub file_name: String,
    pub error_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub downloads: i32,
    pub last_downloaded_at: Option<DateTime<Utc>>,
}

impl From<Export> for ExportView {
    fn from(e: Export) -> Self {
        Self {
            file_name: file_name(&e, e.protected),
            id: e.id,
            subject: e.subject,
            format: e.format,
            columns: e.columns,
            filters: e.filters,
            protected: e.protected,
            state: e.state.as_str().to_owned(),
            progress_done: e.progress_done,
            progress_total: e.progress_total,
            file_size: e.file_size,
            error_code: e.error_code,
            created_at: e.created_at,
            finished_at: e.finished_at,
            expires_at: e.expires_at,
            downloads: e.downloads,
            last_downloaded_at: e.last_downloaded_at,
        }
    }
}

fn file_name(e: &Export, zipped: bool) -> String {
    let base = format!(
        "homeward-{}-{}-{}.{}",
        e.subject,
        e.created_at.format("%Y%m%d-%H%M"),
        &e.id.simple().to_string()[24..],
        e.format
    );
    if zipped { format!("{base}.zip") } else { base }
}

/// A password for a protected download: checked for length, zeroed when dropped, never printed.
pub struct ExportPassword(Zeroizing<String>);

impl ExportPassword {
    /// Printable ASCII (so 7-Zip and every other tool reads it the same way), at least
    /// [`MIN_PASSWORD_CHARS`] characters.
    pub fn new(password: String) -> AppResult<Self> {
        let p = Zeroizing::new(password);
        if !p.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return Err(AppError::invalid(
                "password",
                "export_password_not_ascii",
                "the password must be printable ASCII characters",
            ));
        }
        if p.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AppError::invalid(
                "password",
                "export_password_too_short",
                format!("at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        Ok(Self(p))
    }
}

impl std::fmt::Debug for ExportPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExportPassword(…)")
    }
}

/// A file to hand out.
#[derive(Debug)]
pub struct ExportFile {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The payload of an [`EXPORT_RUN`] job.
#[derive(Debug, Serialize, Deserialize)]
struct ExportJob {
    export: Uuid,
}

fn check_request(req: &ExportRequest) -> AppResult<Vec<String>> {
    let all = columns_of(&req.subject).ok_or_else(|| {
        AppError::invalid(
            "subject",
            "export_subject_unknown",
            format!("one of {}", SUBJECTS.join(", ")),
        )
    })?;
    let f = &req.filters;
    let allowed = filters_of(&req.subject);
    if let Some(name) = f.set().into_iter().find(|n| !allowed.contains(n)) {
        return Err(AppError::invalid(
            &format!("filters.{name}"),
            "export_filter_not_for_subject",
            format!("{} are filtered by {}", req.subject, allowed.join(", ")),
        ));
    }
    if f.round
        .as_deref()
        .is_some_and(|r| r.trim().is_empty() || r.chars().count() > 200)
    {
        return Err(AppError::invalid(
            "filters.round",
            "out_of_range",
            "a round's name, 1 to 200 characters",
        ));
    }
    if let (Some(a), Some(b)) = (f.due_from, f.due_to)
        && a > b
    {
        return Err(AppError::invalid(
            "filters.due_from",
            "out_of_range",
            "due_from is after due_to",
        ));
    }
    if let (Some(a), Some(b)) = (f.born_from_year, f.born_to_year)
        && a > b
    {
        return Err(AppError::invalid(
            "filters.born_from_year",
            "out_of_range",
            "born_from_year is after born_to_year",
        ));
    }
    if req.columns.is_empty() {
        return Ok(all.iter().map(|c| (*c).to_owned()).collect());
    }
    for (i, c) in req.columns.iter().enumerate() {
        if !all.contains(&c.as_str()) {
            return Err(AppError::invalid(
                &format!("columns[{i}]"),
                "export_column_unknown",
                format!("{c:?} is not a column; columns are {}", all.join(", ")),
            ));
        }
        if req.columns[..i].contains(c) {
            return Err(AppError::invalid(
                &format!("columns[{i}]"),
                "export_column_repeated",
                format!("{c:?} is chosen twice"),
            ));
        }
    }
    Ok(req.columns.clone())
}

impl Caller {
    /// Whether this caller may ask for exports: it reads child records, and its party sees some
    /// (the pages ask this to offer the exports page only to those the app will serve).
    pub fn may_export(&self) -> bool {
        self.may(Permission::RecordRead) && self.scope() != Scope::Nothing
    }
}

/// Who an export job reads as: its requester, as they are when the job runs (roles can change
/// meanwhile); `None` when disabled, who exports nothing.
fn job_reader(user: homeward_domain::User, party: homeward_domain::Party) -> Option<Caller> {
    (!user.disabled).then(|| Caller::new(user, party, Some("job".to_owned())))
}

impl App {
    /// Where export files are kept: beside the attachments, under the same key.
    fn export_blobs(&self) -> AppResult<BlobStore> {
        match (&self.config.attachment_dir, &self.config.attachment_key) {
            (Some(dir), Some(key)) => Ok(BlobStore::new(dir.join("exports"), key.bytes())),
            _ => Err(AppError::AttachmentsNotConfigured),
        }
    }

    /// Asks for an export: stored with its job and audit entry in one transaction; the job makes
    /// the file (inline or on a worker).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn request_export(
        &self,
        caller: &Caller,
        req: &ExportRequest,
    ) -> AppResult<ExportView> {
        caller.require(Permission::RecordRead, &self.config)?;
        if !caller.may_export() {
            return Err(AppError::ForbiddenBecause(
                "this party sees no child records, so it has none to export",
            ));
        }
        let columns = check_request(req)?;
        self.may_read_subject(caller, &req.subject)?;
        self.export_blobs()?;
        let now = self.now();
        let export = Export {
            id: Uuid::now_v7(),
            party_id: caller.party().id,
            requested_by: caller.user().id,
            subject: req.subject.clone(),
            format: req.format.as_str().to_owned(),
            columns,
            filters: serde_json::to_value(&req.filters)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            protected: req.protected,
            state: ExportState::Queued,
            progress_done: 0,
            progress_total: 0,
            file_sha256: None,
            file_size: None,
            error_code: None,
            created_at: now,
            finished_at: None,
            expires_at: now + DEFAULT_EXPIRY,
            downloads: 0,
            last_downloaded_at: None,
        };
        let key = format!("{EXPORT_RUN}:{}", export.id);
        let payload = serde_json::to_value(ExportJob { export: export.id })
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut job = NewJob::new(EXPORT_RUN, payload, Some(key.clone()));
        job.max_attempts = MAX_ATTEMPTS;
        let audit = caller
            .audit(AuditAction::ExportRequest)
            .target("export", export.id)
            .details(serde_json::json!({
                "subject": export.subject,
                "format": export.format,
                "columns": export.columns,
                "filters": export.filters,
                "protected": export.protected,
            }));
        self.store.create_export(&export, &job, audit).await?;
        self.after_commit(&key).await;
        self.own_export(caller, export.id)
            .await
            .map(ExportView::from)
    }

    /// Whether the caller reads what `subject` exports, by the rule of that subject's reads.
    fn may_read_subject(&self, caller: &Caller, subject: &str) -> AppResult<()> {
        match subject {
            // Cases are the mediator's: only those who read them export them.
            "cases" => caller.require(Permission::CaseRead, &self.config),
            "transfer_lists" => self.list_reader(caller).map(|_| ()),
            "plans" => self.plan_reader(caller),
            "follow_ups" => self.follow_up_reader(caller).map(|_| ()),
            _ => caller.require(Permission::RecordRead, &self.config),
        }
    }

    /// The subjects the caller may export (the page offers these).
    pub fn export_subjects(&self, caller: &Caller) -> Vec<&'static str> {
        if !caller.may_export() {
            return Vec::new();
        }
        SUBJECTS
            .into_iter()
            .filter(|s| self.may_read_subject(caller, s).is_ok())
            .collect()
    }

    /// The caller's exports, newest first.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_exports(&self, caller: &Caller, limit: u32) -> AppResult<Vec<ExportView>> {
        caller.require(Permission::RecordRead, &self.config)?;
        if limit == 0 || limit > 1000 {
            return Err(AppError::invalid(
                "limit",
                "out_of_range",
                "between 1 and 1000",
            ));
        }
        let list = self.store.list_exports(caller.user().id, limit).await?;
        Ok(list.into_iter().map(ExportView::from).collect())
    }

    /// One of the caller's exports. Another user's answers like a missing one.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_export(&self, caller: &Caller, id: Uuid) -> AppResult<ExportView> {
        caller.require(Permission::RecordRead, &self.config)?;
        self.own_export(caller, id).await.map(ExportView::from)
    }

    async fn own_export(&self, caller: &Caller, id: Uuid) -> AppResult<Export> {
        match self.store.get_export(id).await? {
            Some(e) if e.requested_by == caller.user().id => Ok(e),
            _ => Err(AppError::NotFound),
        }
    }

    /// The file of one of the caller's finished exports: zipped with AES-256 under `password`
    /// when one is given (a protected export needs one). Audited, in one transaction with the
    /// download count, before the bytes are handed out.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn download_export(
        &self,
        caller: &Caller,
        id: Uuid,
        password: Option<ExportPassword>,
    ) -> AppResult<ExportFile> {
        caller.require(Permission::RecordRead, &self.config)?;
        let export = self.own_export(caller, id).await?;
        let gone = match export.state {
            ExportState::Done => None,
            ExportState::Queued | ExportState::Running => Some(ExportGone::NotReady),
            ExportState::Failed => Some(ExportGone::Failed),
            ExportState::Expired => Some(ExportGone::Expired),
        };
        if let Some(gone) = gone {
            return Err(AppError::ExportUnavailable(gone));
        }
        if export.protected && password.is_none() {
            return Err(AppError::invalid(
                "password",
                "export_password_required",
                "this export is protected: give a password to zip it with",
            ));
        }
        let sha = export
            .file_sha256
            .as_deref()
            .ok_or_else(|| AppError::Internal("a done export without a file".to_owned()))?;
        let plain = Zeroizing::new(self.export_blobs()?.get(sha).await?);
        let format = ExportFormat::parse(&export.format)
            .ok_or_else(|| AppError::Internal(format!("export format {:?}", export.format)))?;
        let file = match password {
            Some(p) => ExportFile {
                name: file_name(&export, true),
                content_type: "application/zip",
                bytes: aes_zip(&file_name(&export, false), &plain, &p)?,
            },
            None => ExportFile {
                name: file_name(&export, false),
                content_type: format.content_type(),
                bytes: plain.to_vec(),
            },
        };
        let audit = caller
            .audit(AuditAction::ExportDownload)
            .target("export", export.id)
            .details(serde_json::json!({
                "zipped": file.content_type == "application/zip",
                "bytes": file.bytes.len(),
            }));
        self.store
            .record_export_download(export.id, self.now(), audit)
            .await?;
        Ok(file)
    }

    /// Deletes the files of exports past their expiry and marks them expired (audited). Run by
    /// each worker's drain of the queue. Returns how many expired.
    #[tracing::instrument(skip_all)]
    pub async fn sweep_exports(&self, now: DateTime<Utc>) -> AppResult<usize> {
        let mut expired = 0;
        loop {
            let due = self.store.exports_due_to_expire(now, 100).await?;
            if due.is_empty() {
                return Ok(expired);
            }
            for e in due {
                let audit = AuditDraft {
                    source: Some("job".to_owned()),
                    ..AuditDraft::new(AuditAction::ExportExpire)
                }
                .target("export", e.id)
                .details(serde_json::json!({ "expires_at": e.expires_at }));
                if !self.store.expire_export(e.id, now, audit).await? {
                    continue;
                }
                expired += 1;
                if let Some(sha) = e.file_sha256.as_deref() {
                    self.delete_export_file(sha).await?;
                }
            }
        }
    }

    async fn delete_export_file(&self, sha: &str) -> AppResult<()> {
        if self.store.export_file_in_use(sha).await? {
            return Ok(());
        }
        let path = self.export_blobs()?.path_of(sha)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(AppError::Internal(format!(
                "deleting {}: {e}",
                path.display()
            ))),
        }
    }

    /// The `export.run` job: on its last attempt a failure marks the export failed too.
    pub(crate) async fn run_export_job(
        &self,
        job: &homeward_store::Job,
        lease: &Lease<'_>,
    ) -> AppResult<()> {
        let p: ExportJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| AppError::Internal(format!("export job payload: {e}")))?;
        let result = self.make_export(p.export, job.id, lease).await;
        if let Err(e) = &result
            && job.attempts >= job.max_attempts
        {
            let audit = AuditDraft {
                source: Some("job".to_owned()),
                ..AuditDraft::new(AuditAction::ExportMake)
            }
            .target("export", p.export)
            .details(serde_json::json!({ "job": job.id, "error_code": e.code() }));
            let end = ExportEnd::Failed {
                code: e.code().to_owned(),
            };
            self.store
                .finish_export(p.export, &end, self.now(), audit)
                .await?;
        }
        result
    }

    async fn make_export(&self, id: Uuid, job: Uuid, lease: &Lease<'_>) -> AppResult<()> {
        let export = self.store.get_export(id).await?.ok_or(AppError::NotFound)?;
        if !matches!(export.state, ExportState::Queued | ExportState::Running) {
            return Ok(());
        }
        let party = self
            .store
            .get_party(export.party_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let requester = self
            .store
            .get_user(export.requested_by)
            .await?
            .ok_or(AppError::NotFound)?;
        let actor = ExportActor {
            user: export.requested_by,
            party: export.party_id,
            export: id,
            job,
        };
        let reader = job_reader(requester, party);
        let format = ExportFormat::parse(&export.format)
            .ok_or_else(|| AppError::Internal(format!("export format {:?}", export.format)))?;
        let filters: ExportFilters = serde_json::from_value(export.filters.clone())
            .map_err(|e| AppError::Internal(format!("export filters: {e}")))?;
        let tmp = self.export_blobs()?.dir().join("tmp");
        let mut sink = Sink::new(format, &export.columns, &tmp)?;
        let rows = match &reader {
            Some(reader) => {
                let to = Rows {
                    columns: &export.columns,
                    filters: &filters,
                    actor: &actor,
                    lease,
                };
                self.export_rows(&export.subject, reader, to, &mut sink)
                    .await?
            }
            // A requester disabled before the job ran exports nothing.
            None => 0,
        };
        let bytes = Zeroizing::new(sink.finish().await?);
        let blob = self.export_blobs()?.put(bytes.to_vec()).await?;
        let end = ExportEnd::Done {
            sha256: blob.sha256,
            size: i64::try_from(blob.size).unwrap_or(i64::MAX),
        };
        let audit = actor.audit(serde_json::json!({ "rows": rows, "bytes": blob.size }));
        self.store
            .finish_export(id, &end, self.now(), audit)
            .await?;
        Ok(())
    }

    /// Reads the rows of `subject` the reader may read (by the rule of that subject's reads, as
    /// the reader is when the job runs: roles can change meanwhile; one who no longer reads the
    /// subject exports nothing) into the sink. Returns how many rows.
    async fn export_rows(
        &self,
        subject: &str,
        reader: &Caller,
        to: Rows<'_, '_>,
        sink: &mut Sink,
    ) -> AppResult<usize> {
        if self.may_read_subject(reader, subject).is_err() {
            return Ok(0);
        }
        let Rows {
            columns,
            filters,
            actor,
            lease,
        } = to;
        let cells = |rows: &[subjects::Cells]| {
            for r in rows {
                sink.row(columns, |c| r.get(c).cloned())?;
            }
            Ok(())
        };
        match subject {
            "transfer_lists" => {
                self.stream_transfer_lists(reader, filters, actor, cells, lease)
                    .await
            }
            "plans" => {
                self.stream_plans(reader, filters, actor, cells, lease)
                    .await
            }
            "follow_ups" => {
                self.stream_follow_ups(reader, filters, actor, cells, lease)
                    .await
            }
            "cases" => {
                let write = |page: &[(StoredCase, Vec<NameEntry>)]| {
                    for (c, names) in page {
                        sink.row(columns, |col| case_cell(c, names, col))?;
                    }
                    Ok(())
                };
                self.stream_cases(filters, actor, write, lease).await
            }
            _ => {
                let write = |page: &[ChildRecord]| {
                    for r in page {
                        sink.row(columns, |col| cell(r, col))?;
                    }
                    Ok(())
                };
                self.stream_records(reader.scope(), filters, actor, write, lease)
                    .await
            }
        }
    }

    /// Reads every record `scope` sees that passes `filters`, a page at a time, each page read
    /// audited like a list; hands each page to `write`. Returns how many records.
    async fn stream_records(
        &self,
        scope: Scope,
        filters: &ExportFilters,
        actor: &ExportActor,
        mut write: impl FnMut(&[ChildRecord]) -> AppResult<()>,
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        let mut after: Option<RecordId> = None;
        let mut done = 0_usize;
        loop {
            let filter = RecordFilter {
                kind: filters.kind,
                sex: filters.sex,
                born_from_year: filters.born_from_year,
                born_to_year: filters.born_to_year,
                after,
                limit: PAGE,
                ..RecordFilter::default()
            };
            let audit = actor.list_audit();
            let page = self.store.list_records(scope, &filter, audit).await?;
            write(&page)?;
            done += page.len();
            self.store
                .export_progress(actor.export, i64::try_from(done).unwrap_or(i64::MAX), 0)
                .await?;
            lease.progress(done).await?;
            if page.len() < PAGE as usize {
                return Ok(done);
            }
            after = page.last().map(|r| r.id);
        }
    }
}

impl App {
    /// Reads every case that passes `filters` (cases are the mediator's, whole: the job checked
    /// the requester may read them), a page at a time, each page audited as a case list naming
    /// the cases it carried; the child's names come from each case's records (read for the names
    /// only, under that entry, as the evidence pages do). Returns how many cases.
    async fn stream_cases(
        &self,
        filters: &ExportFilters,
        actor: &ExportActor,
        mut write: impl FnMut(&[(StoredCase, Vec<NameEntry>)]) -> AppResult<()>,
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        let mut after: Option<CaseId> = None;
        let mut done = 0_usize;
        loop {
            let filter = CaseFilter {
                state: filters.state,
                after,
                limit: PAGE,
                ..CaseFilter::default()
            };
            let page = self
                .store
                .list_cases_audited(&filter, vec![actor.case_list_audit()])
                .await?;
            let ids: Vec<RecordId> = page
                .iter()
                .flat_map(|c| [c.case.tracing_request, c.case.custody_record])
                .flatten()
                .collect();
            let records = self.store.records_for_linkage(&ids).await?;
            let rows: Vec<(StoredCase, Vec<NameEntry>)> = page
                .into_iter()
                .map(|c| {
                    let mut names: Vec<NameEntry> = [c.case.tracing_request, c.case.custody_record]
                        .into_iter()
                        .flatten()
                        .filter_map(|id| records.iter().find(|r| r.id == id))
                        .flat_map(|r| r.content.names.iter().cloned())
                        .collect();
                    names.dedup_by(|a, b| a.as_written == b.as_written);
                    (c, names)
                })
                .collect();
            write(&rows)?;
            done += rows.len();
            self.store
                .export_progress(actor.export, i64::try_from(done).unwrap_or(i64::MAX), 0)
                .await?;
            lease.progress(done).await?;
            if rows.len() < PAGE as usize {
                return Ok(done);
            }
            after = rows.last().map(|(c, _)| c.case.id);
        }
    }
}

/// Where an export job's rows go and under whom they are read.
struct Rows<'a, 'l> {
    columns: &'a [String],
    filters: &'a ExportFilters,
    actor: &'a ExportActor,
    lease: &'a Lease<'l>,
}

/// Who an export's job reads and writes for: its requester, named in every audit entry.
#[derive(Debug)]
struct ExportActor {
    user: homeward_domain::UserId,
    party: homeward_domain::PartyId,
    export: Uuid,
    job: Uuid,
}

impl ExportActor {
    fn draft(&self, action: AuditAction) -> AuditDraft {
        AuditDraft {
            actor_user: Some(self.user),
            actor_party: Some(self.party),
            source: Some("job".to_owned()),
            ..AuditDraft::new(action)
        }
    }

    fn list_audit(&self) -> AuditDraft {
        self.within(AuditAction::RecordList)
    }

    /// A read of the job's, under `action`, saying it was for this export.
    fn within(&self, action: AuditAction) -> AuditDraft {
        self.draft(action).details(serde_json::json!({
            "within": "export", "export": self.export, "job": self.job,
        }))
    }

    fn case_list_audit(&self) -> AuditDraft {
        self.draft(AuditAction::CaseList)
            .details(serde_json::json!({
                "within": "export", "export": self.export, "job": self.job,
                "names_from_records": true,
            }))
    }

    fn audit(&self, details: serde_json::Value) -> AuditDraft {
        let mut d = self
            .draft(AuditAction::ExportMake)
            .target("export", self.export);
        let mut m = match details {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        m.insert("job".to_owned(), self.job.to_string().into());
        d.details = serde_json::Value::Object(m);
        d
    }
}

/// Zips `bytes` as one entry `name`, encrypted with AES-256 (WinZip AE-2) under `password`.
fn aes_zip(name: &str, bytes: &[u8], password: &ExportPassword) -> AppResult<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| AppError::Internal(format!("zipping the export: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_aes_encryption(zip::AesMode::Aes256, password.0.as_str());
    zip.start_file(name, options).map_err(|e| fail(&e))?;
    zip.write_all(bytes).map_err(|e| fail(&e))?;
    let cursor = zip.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}

/// The Latin transliteration of a name, in the standard of its script's country (as the pages
/// show it); empty when it is Latin already or no standard applies.
fn latin(n: &NameEntry) -> String {
    homeward_linkage::passport_latin(&n.as_written, n.script).unwrap_or_default()
}

/// One cell of a record: `None` when empty. Several names are joined with ` | `.
fn cell(r: &ChildRecord, column: &str) -> Option<String> {
    let c = &r.content;
    let first = c.names.first();
    let opt = |v: &Option<String>| v.clone();
    let names = |f: &dyn Fn(&NameEntry) -> String| {
        let all: Vec<String> = c.names.iter().map(f).filter(|s| !s.is_empty()).collect();
        (!all.is_empty()).then(|| all.join(" | "))
    };
    match column {
        "record_id" => Some(r.id.to_string()),
        "kind" => Some(c.kind.as_str().to_owned()),
        "external_ref" => opt(&c.external_ref),
        "name" => names(&|n| n.as_written.clone()),
        "name_latin" => names(&latin),
        "given" => first.and_then(|n| n.given.clone()),
        "patronymic" => first.and_then(|n| n.patronymic.clone()),
        "family" => first.and_then(|n| n.family.clone()),
        "sex" => Some(c.sex.as_str().to_owned()),
        "birth_date" => c.birth_date.map(|d| d.to_string()),
        "birth_place" => opt(&c.birth_place),
        "separation_date" => c.separation_date.map(|d| d.to_string()),
        "separation_circumstances" => opt(&c.separation_circumstances),
        "last_known_location" => opt(&c.last_known_location),
        "current_location" => opt(&c.current_location),
        "current_carer" => opt(&c.current_carer),
        "notes" => opt(&c.notes),
        "created_at" => Some(r.created_at.to_rfc3339()),
        "updated_at" => Some(r.updated_at.to_rfc3339()),
        _ => None,
    }
}

/// One cell of a case: `None` when empty.
fn case_cell(c: &StoredCase, names: &[NameEntry], column: &str) -> Option<String> {
    let joined = |f: &dyn Fn(&NameEntry) -> String| {
        let all: Vec<String> = names.iter().map(f).filter(|s| !s.is_empty()).collect();
        (!all.is_empty()).then(|| all.join(" | "))
    };
    match column {
        "case_id" => Some(c.case.id.to_string()),
        "case_number" => Some(c.number.to_string()),
        "state" => Some(c.case.state.as_str().to_owned()),
        "state_reason" => c.case.state_reason.clone(),
        "name" => joined(&|n| n.as_written.clone()),
        "name_latin" => joined(&latin),
        "birth_date" => c.case.child_birth_date.map(|d| d.to_string()),
        "created_at" => Some(c.created_at.to_rfc3339()),
        "updated_at" => Some(c.updated_at.to_rfc3339()),
        _ => None,
    }
}

/// Where the rows go, in the export's format.
enum Sink {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Json {
        out: Vec<u8>,
        first: bool,
    },
    Xlsx {
        // Boxed: the workbook is far larger than the other sinks.
        book: Box<rust_xlsxwriter::Workbook>,
        row: u32,
    },
}

fn sink_error(e: &dyn std::fmt::Display) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

impl Sink {
    fn new(format: ExportFormat, columns: &[String], tmp: &std::path::Path) -> AppResult<Self> {
        match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(columns).map_err(|e| sink_error(&e))?;
                Ok(Self::Csv(Box::new(w)))
            }
            ExportFormat::Json => Ok(Self::Json {
                out: b"[".to_vec(),
                first: true,
            }),
            ExportFormat::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                // Constant-memory rows go to temporary files: keep them in the data directory,
                // beside the encrypted exports, not in a shared /tmp.
                std::fs::create_dir_all(tmp).map_err(|e| sink_error(&e))?;
                book.set_tempdir(tmp).map_err(|e| sink_error(&e))?;
                let sheet = book.add_worksheet_with_constant_memory();
                for (i, c) in columns.iter().enumerate() {
                    let col = u16::try_from(i).map_err(|e| sink_error(&e))?;
                    sheet
                        .write_string(0, col, c.as_str())
                        .map_err(|e| sink_error(&e))?;
                }
                Ok(Self::Xlsx {
                    book: Box::new(book),
                    row: 1,
                })
            }
        }
    }

    fn row(&mut self, columns: &[String], cell: impl Fn(&str) -> Option<String>) -> AppResult<()> {
        match self {
            Self::Csv(w) => {
                let cells: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let v = cell(c).unwrap_or_default();
                        homeward_domain::csv_cell::neutralise(&v).into_owned()
                    })
                    .collect();
                w.write_record(&cells).map_err(|e| sink_error(&e))
            }
            Self::Json { out, first } => {
                let obj: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .map(|c| {
                        (
                            c.clone(),
                            cell(c).map_or(serde_json::Value::Null, Into::into),
                        )
                    })
                    .collect();
                if !*first {
                    out.push(b',');
                }
                *first = false;
                out.push(b'\n');
                serde_json::to_writer(&mut *out, &obj).map_err(|e| sink_error(&e))
            }
            Self::Xlsx { book, row } => {
                let sheet = book.worksheet_from_index(0).map_err(|e| sink_error(&e))?;
                for (i, c) in columns.iter().enumerate() {
                    let col = u16::try_from(i).map_err(|e| sink_error(&e))?;
                    // Strings, never formulas: a cell starting with `=` stays text.
                    if let Some(v) = cell(c) {
                        sheet
                            .write_string(*row, col, v)
                            .map_err(|e| sink_error(&e))?;
                    }
                }
                *row += 1;
                Ok(())
            }
        }
    }

    async fn finish(self) -> AppResult<Vec<u8>> {
        match self {
            Self::Csv(w) => w.into_inner().map_err(|e| sink_error(&e)),
            Self::Json { mut out, .. } => {
                out.extend_from_slice(b"\n]\n");
                Ok(out)
            }
            // Compressing the workbook is seconds of CPU at 100,000 rows: off the async threads.
            Self::Xlsx { mut book, .. } => tokio::task::spawn_blocking(move || {
                book.save_to_buffer().map_err(|e| sink_error(&e))
            })
            .await
            .map_err(|e| sink_error(&e))?,
        }
    }
}
