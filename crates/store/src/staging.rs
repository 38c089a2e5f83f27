//! Import staging: an uploaded file the import page keeps between its steps, in the database so
//! that the steps of one import may reach different app servers (no sticky sessions).
//!
//! A staged upload is `ready` (its file kept), `committing` (one confirmation took it; no other
//! may) or `done` (imported: the file dropped, only the outcome kept for the result page). Every
//! row goes at its expiry; the store purges expired rows whenever it stages a new one.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StagedState {
    Ready,
    Committing,
    Done,
}

impl StagedState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Committing => "committing",
            Self::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Ready, Self::Committing, Self::Done]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// An upload to stage.
#[derive(Clone, Debug)]
pub struct NewStagedUpload {
    pub token: String,
    /// A hash of the session that uploaded it: only that session reaches it.
    pub session_hash: String,
    pub filename: String,
    /// Opaque to the store (the app's JSON): the mapping the upload starts from.
    pub preset: String,
    pub content: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A staged upload as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedUpload {
    pub token: String,
    pub filename: String,
    pub preset: String,
    pub state: StagedState,
    /// The file, while `ready` or `committing`.
    pub content: Option<Vec<u8>>,
    /// Opaque to the store (the app's JSON): what the import did, once `done`.
    pub outcome: Option<String>,
}

/// The limits a new upload is staged within.
#[derive(Clone, Copy, Debug)]
pub struct StagingLimits {
    /// Ready uploads one session keeps; the oldest go first.
    pub per_session: usize,
    /// Bytes all ready and committing uploads may hold together.
    pub total_bytes: i64,
}

#[async_trait]
pub trait StagingStore: Send + Sync {
    /// Stages `upload` in one transaction: purges expired uploads, drops `replaces` (when it is
    /// the same session's and ready) and the session's oldest ready uploads beyond the limit;
    /// `false` (nothing stored) when all uploads together would exceed the byte limit.
    async fn stage_upload(
        &self,
        upload: &NewStagedUpload,
        replaces: Option<&str>,
        limits: StagingLimits,
    ) -> Result<bool>;
    /// The session's upload under `token`, unless it expired.
    async fn staged_upload(
        &self,
        session_hash: &str,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StagedUpload>>;
    /// Turns the session's ready upload into `committing` (kept until `hold_until`) and returns
    /// it as it was; only one caller ever gets it `ready`. Others get it as it is.
    async fn claim_staged_upload(
        &self,
        session_hash: &str,
        token: &str,
        now: DateTime<Utc>,
        hold_until: DateTime<Utc>,
    ) -> Result<Option<StagedUpload>>;
    /// Ends a commit: with an outcome the upload is `done` and its file dropped; without, the
    /// import failed and the upload is `ready` again.
    async fn finish_staged_upload(
        &self,
        token: &str,
        outcome: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Replaces a `done` upload's outcome (a repeated confirmation is noted on it).
    async fn set_staged_outcome(&self, token: &str, outcome: &str) -> Result<()>;
    /// Deletes every upload expired at `now`; returns how many.
    async fn purge_staged_uploads(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// Implements [`StagingStore`] for `$store` (database `$db`).
macro_rules! impl_staging {
    ($store:ident, $db:ty) => {
        mod staging_impl {
            use super::$store;
            use crate::rows::ts;
            use crate::staging::{
                NewStagedUpload, StagedState, StagedUpload, StagingLimits, StagingStore,
            };
            use crate::{Result, StoreError};
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;

            const COLUMNS: &str = "token, filename, preset, stage, content, outcome";

            #[derive(sqlx::FromRow)]
            struct Row {
                token: String,
                filename: String,
                preset: String,
                stage: String,
                content: Option<Vec<u8>>,
                outcome: Option<String>,
            }

            impl TryFrom<Row> for StagedUpload {
                type Error = StoreError;
                fn try_from(r: Row) -> Result<Self> {
                    let state = StagedState::parse(&r.stage)
                        .ok_or_else(|| StoreError::Corrupt(format!("staged upload stage {:?}", r.stage)))?;
                    Ok(Self {
                        token: r.token,
                        filename: r.filename,
                        preset: r.preset,
                        state,
                        content: r.content,
                        outcome: r.outcome,
                    })
                }
            }

            async fn purge_in(conn: &mut Conn, now: DateTime<Utc>) -> Result<u64> {
                Ok(sqlx::query("DELETE FROM import_staging WHERE expires_at <= $1")
                    .bind(ts(now))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected())
            }

            async fn get_in(conn: &mut Conn, session_hash: &str, token: &str, now: DateTime<Utc>) -> Result<Option<StagedUpload>> {
                let row: Option<Row> = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM import_staging WHERE token = $1 AND session_hash = $2 AND expires_at > $3"
                ))
                .bind(token)
                .bind(session_hash)
                .bind(ts(now))
                .fetch_optional(&mut *conn)
                .await?;
                row.map(StagedUpload::try_from).transpose()
            }

            /// Makes room for one more of the session's uploads.
            async fn trim_session_in(conn: &mut Conn, session_hash: &str, replaces: Option<&str>, keep: usize) -> Result<()> {
                if let Some(old) = replaces {
                    sqlx::query("DELETE FROM import_staging WHERE token = $1 AND session_hash = $2 AND stage = 'ready'")
                        .bind(old)
                        .bind(session_hash)
                        .execute(&mut *conn)
                        .await?;
                }
                let mine: Vec<String> = sqlx::query_scalar(
                    "SELECT token FROM import_staging WHERE session_hash = $1 AND stage = 'ready' \
                     ORDER BY created_at DESC, token",
                )
                .bind(session_hash)
                .fetch_all(&mut *conn)
                .await?;
                for old in mine.iter().skip(keep.saturating_sub(1)) {
                    sqlx::query("DELETE FROM import_staging WHERE token = $1")
                        .bind(old.as_str())
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            #[async_trait]
            impl StagingStore for $store {
                async fn stage_upload(&self, upload: &NewStagedUpload, replaces: Option<&str>, limits: StagingLimits) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    purge_in(&mut tx, upload.created_at).await?;
                    trim_session_in(&mut tx, &upload.session_hash, replaces, limits.per_session).await?;
                    let held: Option<i64> = sqlx::query_scalar(
                        "SELECT CAST(SUM(size) AS BIGINT) FROM import_staging WHERE stage <> 'done'",
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let size = i64::try_from(upload.content.len()).unwrap_or(i64::MAX);
                    if held.unwrap_or(0).saturating_add(size) > limits.total_bytes {
                        tx.commit().await?;
                        return Ok(false);
                    }
                    sqlx::query(
                        "INSERT INTO import_staging (token, session_hash, filename, preset, content, size, stage, \
                         outcome, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'ready', NULL, $7, $8)",
                    )
                    .bind(upload.token.as_str())
                    .bind(upload.session_hash.as_str())
                    .bind(upload.filename.as_str())
                    .bind(upload.preset.as_str())
                    .bind(upload.content.as_slice())
                    .bind(size)
                    .bind(ts(upload.created_at))
                    .bind(ts(upload.expires_at))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn staged_upload(&self, session_hash: &str, token: &str, now: DateTime<Utc>) -> Result<Option<StagedUpload>> {
                    let mut conn = self.pool.acquire().await?;
                    get_in(&mut conn, session_hash, token, now).await
                }

                async fn claim_staged_upload(
                    &self,
                    session_hash: &str,
                    token: &str,
                    now: DateTime<Utc>,
                    hold_until: DateTime<Utc>,
                ) -> Result<Option<StagedUpload>> {
                    let mut tx = self.begin_write().await?;
                    let found = get_in(&mut tx, session_hash, token, now).await?;
                    if found.as_ref().is_some_and(|f| f.state == StagedState::Ready) {
                        // The stage in the condition: of two servers claiming at once, one wins.
                        let n = sqlx::query(
                            "UPDATE import_staging SET stage = 'committing', expires_at = $2 \
                             WHERE token = $1 AND stage = 'ready'",
                        )
                        .bind(token)
                        .bind(ts(hold_until))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if n == 0 {
                            let now_as_is = get_in(&mut tx, session_hash, token, now).await?;
                            tx.commit().await?;
                            return Ok(now_as_is);
                        }
                    }
                    tx.commit().await?;
                    Ok(found)
                }

                async fn finish_staged_upload(&self, token: &str, outcome: Option<&str>, expires_at: DateTime<Utc>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let q = match outcome {
                        Some(o) => sqlx::query(
                            "UPDATE import_staging SET stage = 'done', content = NULL, size = 0, outcome = $2, \
                             expires_at = $3 WHERE token = $1",
                        )
                        .bind(token)
                        .bind(o),
                        None => sqlx::query("UPDATE import_staging SET stage = 'ready', expires_at = $2 WHERE token = $1")
                            .bind(token),
                    };
                    q.bind(ts(expires_at)).execute(&mut *tx).await?;
                    tx.commit().await
                }

                async fn set_staged_outcome(&self, token: &str, outcome: &str) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("UPDATE import_staging SET outcome = $2 WHERE token = $1 AND stage = 'done'")
                        .bind(token)
                        .bind(outcome)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }

                async fn purge_staged_uploads(&self, now: DateTime<Utc>) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    let n = purge_in(&mut tx, now).await?;
                    tx.commit().await?;
                    Ok(n)
                }
            }
        }
    };
}

pub(crate) use impl_staging;
