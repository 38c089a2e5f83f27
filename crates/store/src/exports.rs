//! Exports: what a party asked to export, how far its job got, where its file is, when the file
//! goes and how often it was downloaded. The file itself is an encrypted blob (see `blobs`); the
//! password of a protected export is never here (it is asked at download, see the app).
//!
//! Each write is one transaction with its audit entry (and, for a request, its `export.run` job).

use crate::Result;
use crate::StoredCase;
use crate::jobs::NewJob;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use homeward_domain::{AuditDraft, CaseId, PartyId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kind of job that makes an export's file.
pub const EXPORT_RUN: &str = "export.run";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    Queued,
    Running,
    Done,
    Failed,
    /// Its file was deleted at `expires_at`.
    Expired,
}

impl ExportState {
    pub const ALL: [ExportState; 5] = [
        Self::Queued,
        Self::Running,
        Self::Done,
        Self::Failed,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// An export as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Export {
    pub id: Uuid,
    pub party_id: PartyId,
    pub requested_by: UserId,
    /// What is exported: `records`.
    pub subject: String,
    /// `csv`, `xlsx` or `json`.
    pub format: String,
    pub columns: Vec<String>,
    /// The filters, as the app wrote them (no personal data).
    pub filters: serde_json::Value,
    /// Handed out only as an AES-256 zip under a password given at download.
    pub protected: bool,
    pub state: ExportState,
    pub progress_done: i64,
    pub progress_total: i64,
    /// The encrypted file's blob name, once made.
    pub file_sha256: Option<String>,
    pub file_size: Option<i64>,
    pub error_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub downloads: i32,
    pub last_downloaded_at: Option<DateTime<Utc>>,
}

/// How an export's job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportEnd {
    Done { sha256: String, size: i64 },
    Failed { code: String },
}

/// The exports' half of the store.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Stores a new (queued) export, its job and its audit entry in one transaction.
    async fn create_export(&self, export: &Export, job: &NewJob, audit: AuditDraft) -> Result<()>;
    async fn get_export(&self, id: Uuid) -> Result<Option<Export>>;
    /// The exports `user` asked for, newest first.
    async fn list_exports(&self, user: UserId, limit: u32) -> Result<Vec<Export>>;
    /// Marks the export running with this progress (`total` 0: not known yet).
    async fn export_progress(&self, id: Uuid, done: i64, total: i64) -> Result<()>;
    /// Ends the export (done with its file, or failed), with its audit entry.
    async fn finish_export(
        &self,
        id: Uuid,
        end: &ExportEnd,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Counts a download, with its audit entry, in one transaction.
    async fn record_export_download(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Exports not yet expired whose `expires_at` is before `now`, oldest first.
    async fn exports_due_to_expire(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Export>>;
    /// Marks the export expired (its file gone), with its audit entry; `false` when it already
    /// was (another worker's sweep).
    async fn expire_export(&self, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<bool>;
    /// Whether an export not expired still names this file: blobs are content-addressed, so two
    /// exports of the same rows share one.
    async fn export_file_in_use(&self, sha256: &str) -> Result<bool>;
    /// The cases among `ids` (in the order of their ids), for naming the children of a page of
    /// list entries or plans by case number; `audit` is appended with the `"case_ids"` read.
    /// Cases take no scope: the app reads them only for a caller who reads cases.
    async fn cases_by_ids(&self, ids: &[CaseId], audit: AuditDraft) -> Result<Vec<StoredCase>>;
}

/// Implements [`ExportStore`] for `$store` (database `$db`).
macro_rules! impl_exports {
    ($store:ident, $db:ty) => {
        mod exports_impl {
            use super::$store;
            use crate::exports::{Export, ExportEnd, ExportState, ExportStore};
            use crate::jobs::NewJob;
            use crate::backend::{BULK_ROWS, with_ids};
            use crate::rows::{CaseRow, ts};
            use crate::{Result, StoreError, StoredCase};
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use homeward_domain::{AuditDraft, CaseId, PartyId, UserId};
            use sqlx::QueryBuilder;
            use uuid::Uuid;

            const COLUMNS: &str = "id, party_id, requested_by, subject, format, columns, filters, protected, state, \
                 progress_done, progress_total, file_sha256, file_size, error_code, created_at, finished_at, \
                 expires_at, downloads, last_downloaded_at";

            #[derive(sqlx::FromRow)]
            struct Row {
                id: Uuid,
                party_id: Uuid,
                requested_by: Uuid,
                subject: String,
                format: String,
                columns: String,
                filters: String,
                protected: bool,
                state: String,
                progress_done: i64,
                progress_total: i64,
                file_sha256: Option<String>,
                file_size: Option<i64>,
                error_code: Option<String>,
                created_at: DateTime<Utc>,
                finished_at: Option<DateTime<Utc>>,
                expires_at: DateTime<Utc>,
                downloads: i32,
                last_downloaded_at: Option<DateTime<Utc>>,
            }

            impl TryFrom<Row> for Export {
                type Error = StoreError;
                fn try_from(r: Row) -> Result<Export> {
                    let corrupt = |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("export {what}: {e}"));
                    Ok(Export {
                        id: r.id,
                        party_id: PartyId::from(r.party_id),
                        requested_by: UserId::from(r.requested_by),
                        subject: r.subject,
                        format: r.format,
                        columns: serde_json::from_str(&r.columns).map_err(|e| corrupt("columns", &e))?,
                        filters: serde_json::from_str(&r.filters).map_err(|e| corrupt("filters", &e))?,
                        protected: r.protected,
                        state: ExportState::parse(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
                        progress_done: r.progress_done,
                        progress_total: r.progress_total,
                        file_sha256: r.file_sha256,
                        file_size: r.file_size,
                        error_code: r.error_code,
                        created_at: r.created_at,
                        finished_at: r.finished_at,
                        expires_at: r.expires_at,
                        downloads: r.downloads,
                        last_downloaded_at: r.last_downloaded_at,
                    })
                }
            }

            fn all(rows: Vec<Row>) -> Result<Vec<Export>> {
                rows.into_iter().map(Export::try_from).collect()
            }

            #[async_trait]
            impl ExportStore for $store {
                async fn create_export(&self, e: &Export, job: &NewJob, audit: AuditDraft) -> Result<()> {
                    let columns = serde_json::to_string(&e.columns).map_err(|x| StoreError::Corrupt(x.to_string()))?;
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO exports (id, party_id, requested_by, subject, format, columns, filters, protected, \
                         state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10)",
                    )
                    .bind(e.id)
                    .bind(e.party_id.0)
                    .bind(e.requested_by.0)
                    .bind(e.subject.as_str())
                    .bind(e.format.as_str())
                    .bind(columns)
                    .bind(e.filters.to_string())
                    .bind(e.protected)
                    .bind(ts(e.created_at))
                    .bind(ts(e.expires_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::enqueue_in(&mut tx, job).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn get_export(&self, id: Uuid) -> Result<Option<Export>> {
                    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM exports WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map(Export::try_from).transpose()
                }

                async fn list_exports(&self, user: UserId, limit: u32) -> Result<Vec<Export>> {
                    let rows: Vec<Row> = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM exports WHERE requested_by = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
                    ))
                    .bind(user.0)
                    .bind(i64::from(limit.clamp(1, 1000)))
                    .fetch_all(&self.pool)
                    .await?;
                    all(rows)
                }

                async fn export_progress(&self, id: Uuid, done: i64, total: i64) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "UPDATE exports SET state = 'running', progress_done = $2, progress_total = $3 \
                         WHERE id = $1 AND state IN ('queued', 'running')",
                    )
                    .bind(id)
                    .bind(done)
                    .bind(total)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await
                }

                async fn finish_export(&self, id: Uuid, end: &ExportEnd, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
                    let (state, sha, size, code) = match end {
                        ExportEnd::Done { sha256, size } => ("done", Some(sha256.as_str()), Some(*size), None),
                        ExportEnd::Failed { code } => ("failed", None, None, Some(code.as_str())),
                    };
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE exports SET state = $2, file_sha256 = $3, file_size = $4, error_code = $5, finished_at = $6, \
                         progress_total = CASE WHEN $2 = 'done' THEN progress_done ELSE progress_total END \
                         WHERE id = $1 AND state IN ('queued', 'running')",
                    )
                    .bind(id)
                    .bind(state)
                    .bind(sha)
                    .bind(size)
                    .bind(code)
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn record_export_download(&self, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE exports SET downloads = downloads + 1, last_downloaded_at = $2 WHERE id = $1 AND state = 'done'",
                    )
                    .bind(id)
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn exports_due_to_expire(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Export>> {
                    let rows: Vec<Row> = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM exports WHERE state <> 'expired' AND expires_at < $1 \
                         ORDER BY expires_at, id LIMIT $2"
                    ))
                    .bind(ts(now))
                    .bind(i64::from(limit.clamp(1, 1000)))
                    .fetch_all(&self.pool)
                    .await?;
                    all(rows)
                }

                async fn expire_export(&self, id: Uuid, at: DateTime<Utc>, audit: AuditDraft) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE exports SET state = 'expired', finished_at = COALESCE(finished_at, $2) \
                         WHERE id = $1 AND state <> 'expired'",
                    )
                    .bind(id)
                    .bind(ts(at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn export_file_in_use(&self, sha256: &str) -> Result<bool> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exports WHERE file_sha256 = $1 AND state <> 'expired'")
                        .bind(sha256)
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(n > 0)
                }

                async fn cases_by_ids(&self, ids: &[CaseId], audit: AuditDraft) -> Result<Vec<StoredCase>> {
                    let mut tx = self.begin_write().await?;
                    let mut cases = Vec::with_capacity(ids.len());
                    for chunk in ids.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<$db>::new(
                            "SELECT content, version, created_at, updated_at, number FROM cases WHERE id IN (",
                        );
                        let mut sep = qb.separated(", ");
                        for id in chunk {
                            sep.push_bind(id.0);
                        }
                        qb.push(") ORDER BY id");
                        let rows: Vec<CaseRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                        drop(qb);
                        for r in rows {
                            cases.push(StoredCase::try_from(r)?);
                        }
                    }
                    let read: Vec<String> = cases.iter().map(|c| c.case.id.to_string()).collect();
                    let audit = AuditDraft { details: with_ids(audit.details.clone(), "case_ids", read), ..audit };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(cases)
                }
            }
        }
    };
}
pub(crate) use impl_exports;
