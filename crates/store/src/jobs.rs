//! The job queue: follow-up work a commit promises, kept in the database.
//!
//! A job is written in the same transaction as the change and the audit entry that asked for it,
//! so that what a commit promises (the matching of the records it filed, and later exports or
//! re-scoring) is done at least once, by any server, whatever crashes in between. Workers claim
//! one job at a time under a lease (`locked_by`, `locked_until`): on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so servers never wait on each other's claims; on SQLite the write lock
//! already serialises claims. A job whose worker died is taken over once its lease has expired.
//! A failed attempt is retried after a backoff until `max_attempts`, then the job is `failed`
//! with a stable error code and a message, for an administrator to read.
//!
//! Why not a crate: the queues that fit sqlx 0.8 (apalis-sql) keep their own tables, different on
//! each backend, run their own migrations, and push through their own pool, never inside the
//! caller's transaction; the others (sqlxmq, underway, graphile_worker) are PostgreSQL only.
//! Enqueuing inside the change's transaction is the whole point, and the rest is a few queries.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use homeward_domain::{PartyId, RecordId, UserId};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The kind of job that matches records after they were filed, changed, merged or imported.
pub const MATCH_RECORDS: &str = "records.match";
/// The PostgreSQL channel a commit that enqueued a job notifies.
pub(crate) const CHANNEL: &str = "homeward_jobs";
/// Attempts a job enqueued by a record write gets before it is `failed`.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    /// Enqueuing a second job with the same key does nothing.
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl NewJob {
    pub fn new(kind: &str, payload: serde_json::Value, key: Option<String>) -> Self {
        let now = crate::rows::ts(Utc::now());
        Self {
            id: Uuid::now_v7(),
            kind: kind.to_owned(),
            payload,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_after: now,
            idempotency_key: key,
            created_at: now,
        }
    }
}

/// A stored job.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    /// Attempts started so far (a claim starts one).
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error_code: Option<String>,
    pub last_error: Option<String>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How an attempt ended.
#[derive(Clone, Debug)]
pub enum JobOutcome {
    Done,
    /// Failed; tried again at `at`.
    Retry {
        at: DateTime<Utc>,
        code: String,
        message: String,
    },
    /// Failed for good.
    Failed {
        code: String,
        message: String,
    },
}

/// Which jobs to list: newest first.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub limit: u32,
}

/// The payload of a [`MATCH_RECORDS`] job: which records to match, and who and what asked (the
/// audit entries the matching writes name them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchRecordsJob {
    pub records: Vec<RecordId>,
    /// The audit action that asked (`record.create`, `record.update`, `record.merge`,
    /// `import.commit`, or `match.recover` for the startup check).
    pub trigger: String,
    pub actor_user: Option<UserId>,
    pub actor_party: Option<PartyId>,
    pub source: Option<String>,
    /// The import that filed the records, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<Uuid>,
}

/// The fingerprint of an import, stored with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewImport {
    pub id: Uuid,
    pub party_id: PartyId,
    pub kind: homeward_domain::RecordKind,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub imported: i64,
    /// Imported although the same file had been imported before.
    pub forced: bool,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// What wakes a worker: on PostgreSQL a `LISTEN` on the queue's channel (a commit that enqueues
/// notifies it); on SQLite nothing, so the worker polls.
#[derive(Debug)]
pub struct JobSignal {
    listener: Option<sqlx::postgres::PgListener>,
}

impl JobSignal {
    /// Waits for a notification or `timeout`, whichever comes first; true when notified.
    pub async fn wait(&mut self, timeout: Duration) -> bool {
        let Some(listener) = self.listener.as_mut() else {
            tokio::time::sleep(timeout).await;
            return false;
        };
        match tokio::time::timeout(timeout, listener.recv()).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                // The listener reconnects on the next receive; wait out the interval meanwhile
                // rather than spin on a broken connection.
                tracing::warn!(error = %e, "job notifications interrupted; polling");
                tokio::time::sleep(timeout).await;
                false
            }
            Err(_) => false,
        }
    }
}

pub(crate) async fn poll_only<P: Sync>(_pool: &P) -> Result<JobSignal> {
    Ok(JobSignal { listener: None })
}

pub(crate) async fn listen_pg(pool: &sqlx::PgPool) -> Result<JobSignal> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(JobSignal {
        listener: Some(listener),
    })
}

/// The queue's half of the store. Every method is one short transaction.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Enqueues a job on its own; `false` when one with the same idempotency key exists (then
    /// nothing is written). Record writes enqueue theirs inside their own transaction.
    async fn enqueue_job(&self, job: &NewJob) -> Result<bool>;
    /// Claims the oldest due job (`id`: that one only), or one whose lease expired, for `worker`
    /// until `lease_until`, counting an attempt. A job whose lease expired after its last attempt
    /// is marked `failed` (`lease_expired`) instead.
    async fn claim_job(
        &self,
        worker: &str,
        id: Option<Uuid>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Job>>;
    /// Records progress and extends the lease; `false` when `worker` no longer holds the job.
    async fn job_progress(
        &self,
        id: Uuid,
        worker: &str,
        done: i64,
        total: i64,
        lease_until: DateTime<Utc>,
    ) -> Result<bool>;
    /// Ends an attempt; `false` when `worker` no longer held the job (another took it over).
    async fn finish_job(&self, id: Uuid, worker: &str, outcome: &JobOutcome) -> Result<bool>;
    async fn get_job(&self, id: Uuid) -> Result<Option<Job>>;
    async fn job_by_key(&self, key: &str) -> Result<Option<Job>>;
    async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>>;
    /// How many jobs are in each state.
    async fn job_counts(&self) -> Result<Vec<(JobState, i64)>>;
    /// The payloads of jobs of `kind` not finished yet (queued or running).
    async fn unfinished_payloads(&self, kind: &str) -> Result<Vec<serde_json::Value>>;
    /// What wakes a waiting worker (see [`JobSignal`]).
    async fn job_signal(&self) -> Result<JobSignal>;

    /// Records, not deleted, whose matching has not run on their current version, by id.
    async fn records_owing_match(
        &self,
        after: Option<RecordId>,
        limit: u32,
    ) -> Result<Vec<RecordId>>;
    /// Notes that matching ran on these records at these versions (a record changed since keeps
    /// owing its matching).
    async fn mark_matched(&self, records: &[(RecordId, i64)]) -> Result<()>;

    /// The latest import of a file with this fingerprint by this party, if any.
    async fn import_by_fingerprint(
        &self,
        party: PartyId,
        sha256: &str,
    ) -> Result<Option<NewImport>>;
    /// Stores an import in one transaction: its records (as `insert_records` does), its
    /// fingerprint, the `records.match` job for its records, and `audit`. Unless
    /// `import.forced`, fails with `AlreadyImported` when the party imported a file with the
    /// same fingerprint before (checked inside the transaction, so two concurrent uploads of one
    /// file do not both go in).
    async fn commit_import(
        &self,
        import: &NewImport,
        records: &[crate::NewRecord],
        audit: Vec<homeward_domain::AuditDraft>,
        progress: crate::Progress<'_>,
    ) -> Result<()>;
}

/// The idempotency key of the matching job of records filed together (the first record's id
/// and how many: record ids are never reused, so this names one write).
pub fn match_key_of_records(first: RecordId, count: usize) -> String {
    format!("{MATCH_RECORDS}:records:{first}:{count}")
}

/// The idempotency key of the matching job of one record at one version (an update, a merge).
pub fn match_key_of_record(id: RecordId, version: i64) -> String {
    format!("{MATCH_RECORDS}:record:{id}:v{version}")
}

/// The idempotency key of the matching job of an import's records.
pub fn match_key_of_import(import: Uuid) -> String {
    format!("{MATCH_RECORDS}:import:{import}")
}

/// The job a record write asks for: match `records`, as the audit entry `asking` says who and
/// why; `key` names the write so that it is enqueued once.
pub(crate) fn match_job(
    records: Vec<RecordId>,
    asking: &homeward_domain::AuditDraft,
    import: Option<Uuid>,
    key: String,
) -> Result<NewJob> {
    let payload = MatchRecordsJob {
        records,
        trigger: asking.action.code().to_owned(),
        actor_user: asking.actor_user,
        actor_party: asking.actor_party,
        source: asking.source.clone(),
        import,
    };
    let payload = serde_json::to_value(&payload)
        .map_err(|e| crate::StoreError::Corrupt(format!("job payload: {e}")))?;
    Ok(NewJob::new(MATCH_RECORDS, payload, Some(key)))
}

/// Implements [`JobStore`] for `$store` (database `$db`): `$claim_lock` ends the claim's inner
/// select (`FOR UPDATE SKIP LOCKED` on PostgreSQL), `$notify` is the statement run after an
/// insert to wake workers (if any), `$signal` makes the [`JobSignal`] from the pool. Also gives
/// the store `enqueue_in` and `insert_import_in`, for writes that enqueue inside their own
/// transaction.
macro_rules! impl_jobs {
    ($store:ident, $db:ty, $claim_lock:expr, $notify:expr, $signal:path) => {
        mod jobs_impl {
            use super::$store;
            use crate::jobs::{Job, JobFilter, JobOutcome, JobSignal, JobState, JobStore, NewImport, NewJob};
            use crate::rows::ts;
            use crate::{NewRecord, Progress, Result, StoreError};
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use homeward_domain::{AuditDraft, PartyId, RecordId, RecordKind, UserId};
            use uuid::Uuid;

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;

            const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, run_after, locked_by, locked_until, \
                 last_error_code, last_error, progress_done, progress_total, idempotency_key, created_at, updated_at";

            #[derive(sqlx::FromRow)]
            struct JobRow {
                id: Uuid,
                kind: String,
                payload: String,
                state: String,
                attempts: i32,
                max_attempts: i32,
                run_after: DateTime<Utc>,
                locked_by: Option<String>,
                locked_until: Option<DateTime<Utc>>,
                last_error_code: Option<String>,
                last_error: Option<String>,
                progress_done: i64,
                progress_total: i64,
                idempotency_key: Option<String>,
                created_at: DateTime<Utc>,
                updated_at: DateTime<Utc>,
            }

            impl TryFrom<JobRow> for Job {
                type Error = StoreError;
                fn try_from(r: JobRow) -> Result<Job> {
                    let state = JobState::parse(&r.state)
                        .ok_or_else(|| StoreError::Corrupt(format!("job state {:?}", r.state)))?;
                    let payload = serde_json::from_str(&r.payload)
                        .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?;
                    Ok(Job {
                        id: r.id,
                        kind: r.kind,
                        payload,
                        state,
                        attempts: r.attempts,
                        max_attempts: r.max_attempts,
                        run_after: r.run_after,
                        locked_by: r.locked_by,
                        locked_until: r.locked_until,
                        last_error_code: r.last_error_code,
                        last_error: r.last_error,
                        progress_done: r.progress_done,
                        progress_total: r.progress_total,
                        idempotency_key: r.idempotency_key,
                        created_at: r.created_at,
                        updated_at: r.updated_at,
                    })
                }
            }

            fn jobs(rows: Vec<JobRow>) -> Result<Vec<Job>> {
                rows.into_iter().map(Job::try_from).collect()
            }

            impl $store {
                /// Enqueues `job` inside the caller's transaction; `false` when its key was taken.
                pub(crate) async fn enqueue_in(conn: &mut Conn, job: &NewJob) -> Result<bool> {
                    let n = sqlx::query(
                        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_after, \
                         idempotency_key, created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $7) \
                         ON CONFLICT (idempotency_key) DO NOTHING",
                    )
                    .bind(job.id)
                    .bind(job.kind.as_str())
                    .bind(job.payload.to_string())
                    .bind(job.max_attempts)
                    .bind(ts(job.run_after))
                    .bind(job.idempotency_key.as_deref())
                    .bind(ts(job.created_at))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    let notify: Option<&str> = $notify;
                    if let (1, Some(sql)) = (n, notify) {
                        // Delivered at commit, and only then: a rolled-back job wakes nobody.
                        sqlx::query(sql).execute(&mut *conn).await?;
                    }
                    Ok(n == 1)
                }

                /// Refuses a second import of the same file by the same party, unless forced, and
                /// stores the import's fingerprint; inside the import's transaction.
                pub(crate) async fn insert_import_in(conn: &mut Conn, import: &NewImport) -> Result<()> {
                    if !import.forced {
                        if let Some((earlier, at)) = Self::fingerprint_in(conn, import.party_id, &import.sha256).await? {
                            return Err(StoreError::AlreadyImported { import: earlier, at });
                        }
                    }
                    sqlx::query(
                        "INSERT INTO imports (id, party_id, kind, sha256, imported, forced, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(import.id)
                    .bind(import.party_id.0)
                    .bind(import.kind.as_str())
                    .bind(import.sha256.as_str())
                    .bind(import.imported)
                    .bind(import.forced)
                    .bind(import.created_by.0)
                    .bind(ts(import.created_at))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                }

                async fn fingerprint_in(conn: &mut Conn, party: PartyId, sha256: &str) -> Result<Option<(Uuid, DateTime<Utc>)>> {
                    Ok(sqlx::query_as(
                        "SELECT id, created_at FROM imports WHERE party_id = $1 AND sha256 = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
                    )
                    .bind(party.0)
                    .bind(sha256)
                    .fetch_optional(&mut *conn)
                    .await?)
                }
            }

            #[async_trait]
            impl JobStore for $store {
                async fn enqueue_job(&self, job: &NewJob) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let inserted = Self::enqueue_in(&mut tx, job).await?;
                    tx.commit().await?;
                    Ok(inserted)
                }

                async fn claim_job(
                    &self,
                    worker: &str,
                    id: Option<Uuid>,
                    now: DateTime<Utc>,
                    lease_until: DateTime<Utc>,
                ) -> Result<Option<Job>> {
                    let (now, lease_until) = (ts(now), ts(lease_until));
                    let mut tx = self.begin_write().await?;
                    // A worker that died on its last attempt leaves nothing to retry.
                    sqlx::query(
                        "UPDATE jobs SET state = 'failed', last_error_code = 'lease_expired', \
                         last_error = 'the worker running the last attempt stopped before finishing', \
                         locked_by = NULL, locked_until = NULL, updated_at = $1 \
                         WHERE state = 'running' AND locked_until < $1 AND attempts >= max_attempts",
                    )
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let sql = format!(
                        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, \
                         updated_at = $3 WHERE id = (SELECT id FROM jobs WHERE ($4 IS NULL OR id = $4) AND \
                         ((state = 'queued' AND (run_after <= $3 OR $4 IS NOT NULL)) OR (state = 'running' AND locked_until < $3)) \
                         ORDER BY run_after, id LIMIT 1{}) RETURNING {JOB_COLUMNS}",
                        $claim_lock
                    );
                    let row: Option<JobRow> = sqlx::query_as(&sql)
                        .bind(worker)
                        .bind(lease_until)
                        .bind(now)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    row.map(Job::try_from).transpose()
                }

                async fn job_progress(&self, id: Uuid, worker: &str, done: i64, total: i64, lease_until: DateTime<Utc>) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE jobs SET progress_done = $3, progress_total = $4, locked_until = $5, updated_at = $6 \
                         WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                    )
                    .bind(id)
                    .bind(worker)
                    .bind(done)
                    .bind(total)
                    .bind(ts(lease_until))
                    .bind(ts(Utc::now()))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    Ok(n == 1)
                }

                async fn finish_job(&self, id: Uuid, worker: &str, outcome: &JobOutcome) -> Result<bool> {
                    let now = ts(Utc::now());
                    let (state, run_after, code, message) = match outcome {
                        JobOutcome::Done => ("done", None, None, None),
                        JobOutcome::Retry { at, code, message } => ("queued", Some(ts(*at)), Some(code.as_str()), Some(message.as_str())),
                        JobOutcome::Failed { code, message } => ("failed", None, Some(code.as_str()), Some(message.as_str())),
                    };
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE jobs SET state = $3, run_after = COALESCE($4, run_after), \
                         last_error_code = COALESCE($5, last_error_code), last_error = COALESCE($6, last_error), \
                         locked_by = NULL, locked_until = NULL, updated_at = $7, \
                         progress_done = CASE WHEN $3 = 'done' THEN progress_total ELSE progress_done END \
                         WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                    )
                    .bind(id)
                    .bind(worker)
                    .bind(state)
                    .bind(run_after)
                    .bind(code)
                    .bind(message)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    Ok(n == 1)
                }

                async fn get_job(&self, id: Uuid) -> Result<Option<Job>> {
                    let row: Option<JobRow> = sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map(Job::try_from).transpose()
                }

                async fn job_by_key(&self, key: &str) -> Result<Option<Job>> {
                    let row: Option<JobRow> = sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE idempotency_key = $1"))
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map(Job::try_from).transpose()
                }

                async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
                    let limit = i64::from(if filter.limit == 0 { 50 } else { filter.limit.min(1000) });
                    let rows: Vec<JobRow> = sqlx::query_as(&format!(
                        "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 IS NULL OR state = $1) ORDER BY created_at DESC, id DESC LIMIT $2"
                    ))
                    .bind(filter.state.map(JobState::as_str))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    jobs(rows)
                }

                async fn job_counts(&self) -> Result<Vec<(JobState, i64)>> {
                    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
                        .fetch_all(&self.pool)
                        .await?;
                    rows.into_iter()
                        .map(|(s, n)| {
                            JobState::parse(&s)
                                .map(|s| (s, n))
                                .ok_or_else(|| StoreError::Corrupt(format!("job state {s:?}")))
                        })
                        .collect()
                }

                async fn unfinished_payloads(&self, kind: &str) -> Result<Vec<serde_json::Value>> {
                    let rows: Vec<String> = sqlx::query_scalar(
                        "SELECT payload FROM jobs WHERE kind = $1 AND state IN ('queued', 'running') ORDER BY id",
                    )
                    .bind(kind)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|p| serde_json::from_str(p).map_err(|e| StoreError::Corrupt(format!("job payload: {e}"))))
                        .collect()
                }

                async fn job_signal(&self) -> Result<JobSignal> {
                    $signal(&self.pool).await
                }

                async fn records_owing_match(&self, after: Option<RecordId>, limit: u32) -> Result<Vec<RecordId>> {
                    let rows: Vec<Uuid> = sqlx::query_scalar(
                        "SELECT id FROM records WHERE deleted_at IS NULL AND (matched_version IS NULL OR matched_version < version) \
                         AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
                    )
                    .bind(after.map(|a| a.0))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(RecordId::from).collect())
                }

                async fn mark_matched(&self, records: &[(RecordId, i64)]) -> Result<()> {
                    // One statement per version and slice of ids (an import's records are all at
                    // version 1), not one per record.
                    let mut by_version: std::collections::BTreeMap<i64, Vec<uuid::Uuid>> = std::collections::BTreeMap::new();
                    for (id, version) in records {
                        by_version.entry(*version).or_default().push(id.0);
                    }
                    let mut tx = self.begin_write().await?;
                    for (version, ids) in &by_version {
                        for chunk in ids.chunks(crate::backend::BULK_ROWS) {
                            let mut qb = sqlx::QueryBuilder::<$db>::new("UPDATE records SET matched_version = ");
                            qb.push_bind(*version).push(" WHERE version = ").push_bind(*version).push(" AND id IN (");
                            let mut sep = qb.separated(", ");
                            for id in chunk {
                                sep.push_bind(*id);
                            }
                            qb.push(")");
                            qb.build().execute(&mut *tx).await?;
                        }
                    }
                    tx.commit().await
                }

                async fn import_by_fingerprint(&self, party: PartyId, sha256: &str) -> Result<Option<NewImport>> {
                    let row: Option<(Uuid, Uuid, String, String, i64, bool, Uuid, DateTime<Utc>)> = sqlx::query_as(
                        "SELECT id, party_id, kind, sha256, imported, forced, created_by, created_at FROM imports \
                         WHERE party_id = $1 AND sha256 = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
                    )
                    .bind(party.0)
                    .bind(sha256)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|(id, party_id, kind, sha256, imported, forced, created_by, created_at)| {
                        Ok(NewImport {
                            id,
                            party_id: PartyId::from(party_id),
                            kind: kind.parse::<RecordKind>().map_err(|_| StoreError::Corrupt(format!("import kind {kind:?}")))?,
                            sha256,
                            imported,
                            forced,
                            created_by: UserId::from(created_by),
                            created_at,
                        })
                    })
                    .transpose()
                }

                async fn commit_import(
                    &self,
                    import: &NewImport,
                    records: &[NewRecord],
                    audit: Vec<AuditDraft>,
                    progress: Progress<'_>,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let mut audit = audit;
                    crate::rowhash::attach_new_records(&mut audit, records)?;
                    Self::insert_import_in(&mut tx, import).await?;
                    Self::insert_records_in(&mut tx, records, progress).await?;
                    if let Some(asking) = audit.last() {
                        let ids = records.iter().map(|r| r.record.id).collect();
                        let key = crate::jobs::match_key_of_import(import.id);
                        Self::enqueue_in(&mut tx, &crate::jobs::match_job(ids, asking, Some(import.id), key)?).await?;
                    }
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await
                }
            }
        }
    };
}
pub(crate) use impl_jobs;
