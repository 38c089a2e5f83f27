//! Running the job queue (see `homeward_store::jobs`): the follow-up work a commit promised,
//! written in the commit's own transaction, done at least once by whichever worker claims it.
//!
//! Where jobs run:
//! - inline, right after the commit that enqueued them, when [`AppConfig::inline_jobs`] is set
//!   (the command line, tests): the caller sees the matches on return, and a crash in between
//!   leaves the job queued for the next worker;
//! - in the server's worker ([`App::work_jobs`]): woken by PostgreSQL's `NOTIFY` or a poll
//!   interval, stopping gracefully;
//! - from `homeward jobs run` (drain once).
//!
//! A handler may run twice (a worker dies after the work but before marking the job done; a
//! lease expires under a slow worker): matching is idempotent, since a pair stored once is never
//! stored again.
//!
//! [`AppConfig::inline_jobs`]: crate::AppConfig::inline_jobs

use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Utc};
use homeward_domain::{AuditAction, AuditDraft, PartyId, Permission, RecordId, UserId};
use homeward_store::{
    Job, JobFilter, JobOutcome, MATCH_RECORDS, MatchRecordsJob, NewJob, RESCORE_CANDIDATES,
    RescoreJob,
};
use serde::Serialize;
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

pub use homeward_store::{
    JobState, match_key_of_import, match_key_of_record, match_key_of_records,
};

/// How long a claim holds a job before another worker may take it over (the default of
/// `AppConfig::job_lease`); a running job renews it every third of it, and with each chunk of
/// progress.
pub const LEASE: Duration = Duration::from_secs(300);
/// How often an idle worker looks at the queue when nothing wakes it (always on SQLite; on
/// PostgreSQL only a fallback to `LISTEN`).
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// The wait before the second attempt; it doubles with every attempt after that.
pub const BACKOFF_BASE: Duration = Duration::from_secs(2);
/// The longest wait between attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(3600);
/// The trigger of matching the startup check enqueues.
pub const RECOVER_TRIGGER: &str = "match.recover";
/// Records per recovery job.
const RECOVER_BATCH: u32 = 10_000;

/// Who the work of a job is done for: the audit entries it writes name the user and party whose
/// change asked for it, the job, and the action that asked.
#[derive(Clone, Debug)]
pub(crate) struct JobActor {
    user: Option<UserId>,
    party: Option<PartyId>,
    job: Uuid,
    trigger: String,
}

impl JobActor {
    fn new(user: Option<UserId>, party: Option<PartyId>, job: &Job, trigger: String) -> Self {
        Self {
            user,
            party,
            job: job.id,
            trigger,
        }
    }

    pub(crate) fn audit(&self, action: AuditAction, details: serde_json::Value) -> AuditDraft {
        let mut details = match details {
            serde_json::Value::Object(m) => m,
            other => serde_json::Map::from_iter([("details".to_owned(), other)]),
        };
        details.insert("job".to_owned(), self.job.to_string().into());
        details.insert("trigger".to_owned(), self.trigger.clone().into());
        AuditDraft {
            actor_user: self.user,
            actor_party: self.party,
            source: Some("job".to_owned()),
            ..AuditDraft::new(action)
        }
        .details(serde_json::Value::Object(details))
    }

    /// Whether the records' pending candidates must be scored again: their content may have
    /// changed since they were scored.
    pub(crate) fn rescores(&self) -> bool {
        [
            AuditAction::RecordUpdate.code(),
            AuditAction::RecordMerge.code(),
            RECOVER_TRIGGER,
        ]
        .contains(&self.trigger.as_str())
    }
}

/// A running job's hold on it: reports progress and renews the lease.
#[derive(Debug)]
pub(crate) struct Lease<'a> {
    app: &'a App,
    job: Uuid,
    worker: &'a str,
    total: i64,
    /// The progress last reported, which the heartbeat repeats.
    done: std::sync::atomic::AtomicUsize,
}

impl<'a> Lease<'a> {
    /// A hold on `job`, claimed by `worker`, whose work counts `total` steps (0: not counted).
    fn new(app: &'a App, job: &Job, worker: &'a str, total: usize) -> Self {
        Self {
            app,
            job: job.id,
            worker,
            total: i64::try_from(total).unwrap_or(i64::MAX),
            done: 0.into(),
        }
    }

    /// Runs `work` while the heartbeat renews the lease: the work ends first, or the heartbeat
    /// finds the lease lost and the work stops.
    async fn hold_while<T>(
        &self,
        work: impl std::future::Future<Output = AppResult<T>>,
    ) -> AppResult<T> {
        tokio::select! {
            done = work => done,
            lost = self.heartbeat() => Err(lost.err().unwrap_or_else(|| {
                AppError::Internal("lease lost: another worker took the job over".to_owned())
            })),
        }
    }

    /// Renews the lease every third of it, however long a chunk of the work takes, so that only
    /// a worker that died loses its job; returns only when the lease was lost.
    async fn heartbeat(&self) -> AppResult<()> {
        let every = self.app.config.job_lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let done = self.done.load(std::sync::atomic::Ordering::Relaxed);
            self.progress(done).await?;
        }
    }

    pub(crate) async fn progress(&self, done: usize) -> AppResult<()> {
        self.done.store(done, std::sync::atomic::Ordering::Relaxed);
        let until = lease_until(&self.app.config, self.app.now());
        let held = self
            .app
            .store
            .job_progress(
                self.job,
                self.worker,
                i64::try_from(done).unwrap_or(i64::MAX),
                self.total,
                until,
            )
            .await?;
        if held {
            Ok(())
        } else {
            Err(AppError::Internal(
                "lease lost: another worker took the job over".to_owned(),
            ))
        }
    }
}

fn lease_until(config: &crate::AppConfig, now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(config.job_lease).unwrap_or(chrono::Duration::minutes(5))
}

/// The wait before attempt `attempts + 1`: `BACKOFF_BASE` doubled per attempt made, at most
/// `BACKOFF_MAX`.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    BACKOFF_BASE
        .saturating_mul(2_u32.saturating_pow(doublings))
        .min(BACKOFF_MAX)
}

/// A job as administrators see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: Uuid,
    pub kind: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    /// A stable code of the last failure (`internal`, `bad_payload`, `unknown_kind`,
    /// `lease_expired`, …).
    pub last_error_code: Option<String>,
    pub last_error: Option<String>,
    pub progress_done: i64,
    pub progress_total: i64,
    /// How many records the job works on (matching), not which: ids stay in the database.
    pub records: Option<usize>,
    pub trigger: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        let payload: Option<MatchRecordsJob> = (j.kind == MATCH_RECORDS)
            .then(|| serde_json::from_value(j.payload.clone()).ok())
            .flatten();
        Self {
            id: j.id,
            kind: j.kind,
            state: j.state.as_str().to_owned(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_after: j.run_after,
            locked_by: j.locked_by,
            locked_until: j.locked_until,
            last_error_code: j.last_error_code,
            last_error: j.last_error,
            progress_done: j.progress_done,
            progress_total: j.progress_total,
            records: payload.as_ref().map(|p| p.records.len()),
            trigger: payload.map(|p| p.trigger),
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

/// The queue at a glance, for administrators.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobsOverview {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
    /// Newest first: every job not done, then the latest done ones, up to the limit.
    pub jobs: Vec<JobView>,
}

/// What a drain did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    pub done: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Records whose matching never ran on their current version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OwedMatching {
    /// Owed and named by no unfinished job: matching that was lost.
    pub lost: Vec<RecordId>,
    /// Owed and waiting in a queued or running job.
    pub queued: usize,
}

impl App {
    /// A name for this process's worker, unique enough to tell leases apart.
    pub fn worker_name(role: &str) -> String {
        let id = Uuid::new_v4().simple().to_string();
        format!("{role}-{}-{}", std::process::id(), &id[..8])
    }

    /// Runs the job a commit just enqueued (found by its key), when jobs run inline. The commit
    /// stands whatever happens here: a failure leaves the job to its retries.
    pub(crate) async fn after_commit(&self, key: &str) {
        if !self.config.inline_jobs {
            self.jobs_wake.notify_one();
            return;
        }
        let worker = Self::worker_name("inline");
        let result = async {
            match self.store.job_by_key(key).await? {
                Some(job) => self.run_job(&worker, Some(job.id)).await.map(|_| ()),
                None => Ok(()),
            }
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, key, "the job a commit enqueued did not run; it stays queued");
        }
    }

    /// Claims a due job (or `id`, due or not) and runs it; `None` when there was nothing to
    /// claim. Returns the job as the attempt left it.
    #[tracing::instrument(skip_all)]
    pub async fn run_job(&self, worker: &str, id: Option<Uuid>) -> AppResult<Option<Job>> {
        self.run_job_until(worker, id, None).await
    }

    /// [`App::run_job`], handing the job back (queued, due at once, its lease released) if
    /// `stop` turns true before it ends: a server shutting down leaves its job to another
    /// server at once rather than when the lease expires. The interrupted attempt counts.
    async fn run_job_until(
        &self,
        worker: &str,
        id: Option<Uuid>,
        stop: Option<&mut tokio::sync::watch::Receiver<bool>>,
    ) -> AppResult<Option<Job>> {
        let now = self.now();
        let Some(job) = self
            .store
            .claim_job(worker, id, now, lease_until(&self.config, now))
            .await?
        else {
            return Ok(None);
        };
        let result = match stop {
            None => self.handle_job(worker, &job).await.map(Some),
            Some(stop) => tokio::select! {
                r = self.handle_job(worker, &job) => r.map(Some),
                () = stopped(stop) => Ok(None),
            },
        };
        let outcome = match result {
            Ok(Some(())) => JobOutcome::Done,
            Ok(None) => {
                tracing::info!(job = %job.id, kind = job.kind, "shutting down: the job is handed back");
                JobOutcome::Retry {
                    at: self.now(),
                    code: "shutdown".to_owned(),
                    message: "the server running it shut down; handed back".to_owned(),
                }
            }
            Err(JobError { code, message }) if job.attempts >= job.max_attempts => {
                tracing::error!(job = %job.id, kind = job.kind, code, message, "job failed for good");
                JobOutcome::Failed { code, message }
            }
            Err(JobError { code, message }) => {
                let wait = chrono::Duration::from_std(backoff(job.attempts))
                    .unwrap_or(chrono::Duration::hours(1));
                tracing::warn!(job = %job.id, kind = job.kind, code, message, "job attempt failed; retrying");
                JobOutcome::Retry {
                    at: self.now() + wait,
                    code,
                    message,
                }
            }
        };
        if !self.store.finish_job(job.id, worker, &outcome).await? {
            tracing::warn!(job = %job.id, "job finished after another worker took it over");
        }
        Ok(self.store.get_job(job.id).await?)
    }

    /// Runs every due job once, until none is left (jobs whose retry is not due yet wait).
    #[tracing::instrument(skip_all)]
    pub async fn drain_jobs(&self, worker: &str) -> AppResult<DrainReport> {
        let mut report = DrainReport::default();
        // Expired exports' files go on every drain (the server's worker, `homeward jobs run`).
        self.sweep_exports(self.now()).await?;
        while let Some(job) = self.run_job(worker, None).await? {
            match job.state {
                JobState::Done => report.done += 1,
                JobState::Failed => report.failed += 1,
                JobState::Queued | JobState::Running => report.retried += 1,
            }
        }
        Ok(report)
    }

    /// [`App::drain_jobs`] until `stop` turns true; a job running then is handed back.
    async fn drain_until(
        &self,
        worker: &str,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> AppResult<()> {
        while !*stop.borrow() {
            if self
                .run_job_until(worker, None, Some(stop))
                .await?
                .is_none()
            {
                break;
            }
        }
        Ok(())
    }

    /// The server's worker: drains the queue, then waits for a notification (PostgreSQL) or the
    /// poll interval, until `stop` turns true. A job being run when `stop` arrives is handed
    /// back at once; one interrupted by a crash is taken over when its lease expires.
    #[tracing::instrument(skip_all)]
    pub async fn work_jobs(&self, worker: &str, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut signal = match self.store.job_signal().await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "no job notifications; polling");
                None
            }
        };
        while !*stop.borrow() {
            if let Err(e) = self.drain_until(worker, &mut stop).await {
                tracing::error!(error = %e, "the job worker could not reach the queue");
            }
            let wait = async {
                match signal.as_mut() {
                    Some(s) => {
                        s.wait(POLL_INTERVAL).await;
                    }
                    None => tokio::time::sleep(POLL_INTERVAL).await,
                }
            };
            tokio::select! {
                _ = wait => {}
                _ = self.jobs_wake.notified() => {}
                changed = stop.changed() => {
                    // Whoever could stop this worker is gone (the server shut down without
                    // saying so): between jobs, that is a stop; looping on would spin on a
                    // closed pool.
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn handle_job(&self, worker: &str, job: &Job) -> Result<(), JobError> {
        match job.kind.as_str() {
            MATCH_RECORDS => {
                let p: MatchRecordsJob = decode(job)?;
                let actor = JobActor::new(p.actor_user, p.actor_party, job, p.trigger.clone());
                let lease = Lease::new(self, job, worker, p.records.len());
                lease.progress(0).await?;
                let work = async {
                    if p.import.is_some() {
                        self.refresh_statistics_after_import(job.id).await;
                    }
                    self.match_records(&actor, &p.records, &lease).await
                };
                lease.hold_while(work).await?;
                Ok(())
            }
            RESCORE_CANDIDATES => {
                let p: RescoreJob = decode(job)?;
                let actor = JobActor::new(
                    p.actor_user,
                    p.actor_party,
                    job,
                    AuditAction::LinkageTrain.code().to_owned(),
                );
                // The model stored now: a newer one than the job's scores everything anyway.
                let (model, version) = self.scoring_model().await?;
                let total = self
                    .store
                    .count_stale_candidates(&version)
                    .await
                    .map_err(AppError::from)?;
                let lease = Lease::new(self, job, worker, usize::try_from(total).unwrap_or(0));
                lease.progress(0).await?;
                let work = self.rescore_stale_candidates(&actor, &model, &version, &lease);
                lease.hold_while(work).await?;
                Ok(())
            }
            homeward_store::pprl::PPRL_LINK => {
                let p: homeward_store::pprl::PprlLinkJob = decode(job)?;
                let actor = JobActor::new(
                    p.actor_user,
                    p.actor_party,
                    job,
                    AuditAction::PprlRunCreate.code().to_owned(),
                );
                let lease = Lease::new(self, job, worker, 3);
                lease.progress(0).await?;
                self.link_pprl_run(&actor, &p, &lease).await?;
                Ok(())
            }
            homeward_store::EXPORT_RUN => {
                let lease = Lease::new(self, job, worker, 0);
                Ok(self.run_export_job(job, &lease).await?)
            }
            other => Err(JobError {
                code: "unknown_kind".to_owned(),
                message: format!("no handler for jobs of kind {other:?}"),
            }),
        }
    }

    /// Brings the planner's statistics up to date with the rows an import just added, before
    /// its matching runs: on PostgreSQL, block-key lookups planned for tables it still believes
    /// empty scan them whole, each (issue 19: 221 s for 5,000 rows, against 1 s on SQLite).
    async fn refresh_statistics_after_import(&self, job: Uuid) {
        if let Err(e) = self.store.refresh_statistics().await {
            // Stale statistics only slow the matching down until autovacuum catches up.
            tracing::warn!(%job, error = %e, "table statistics not refreshed before matching an import");
        }
    }

    /// Records whose matching never ran on their current version, split into those a queued or
    /// running job will match and those nothing will (`lost`).
    #[tracing::instrument(skip_all)]
    pub async fn owed_matching(&self) -> AppResult<OwedMatching> {
        let mut owed = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.records_owing_match(after, RECOVER_BATCH).await?;
            let full = page.len() == RECOVER_BATCH as usize;
            after = page.last().copied();
            owed.extend(page);
            if !full {
                break;
            }
        }
        if owed.is_empty() {
            return Ok(OwedMatching::default());
        }
        let mut covered: HashSet<RecordId> = HashSet::new();
        for payload in self.store.unfinished_payloads(MATCH_RECORDS).await? {
            if let Ok(p) = serde_json::from_value::<MatchRecordsJob>(payload) {
                covered.extend(p.records);
            }
        }
        let (queued, lost): (Vec<RecordId>, Vec<RecordId>) =
            owed.into_iter().partition(|id| covered.contains(id));
        Ok(OwedMatching {
            lost,
            queued: queued.len(),
        })
    }

    /// The startup check (`serve`, `migrate`): enqueues the matching of every record whose
    /// matching was lost (records filed before the queue existed, or by a job that failed for
    /// good). Returns how many records it enqueued.
    #[tracing::instrument(skip_all)]
    pub async fn enqueue_owed_matching(&self) -> AppResult<usize> {
        let owed = self.owed_matching().await?;
        for batch in owed.lost.chunks(RECOVER_BATCH as usize) {
            let Some(first) = batch.first() else { continue };
            let payload = MatchRecordsJob {
                records: batch.to_vec(),
                trigger: RECOVER_TRIGGER.to_owned(),
                actor_user: None,
                actor_party: None,
                source: Some("startup check".to_owned()),
                import: None,
            };
            let payload =
                serde_json::to_value(&payload).map_err(|e| AppError::Internal(e.to_string()))?;
            // Keyed by the time too: a record whose recovery failed for good is tried again at
            // the next start.
            let key = format!(
                "{RECOVER_TRIGGER}:{first}:{}:{}",
                batch.len(),
                self.now().timestamp_micros()
            );
            self.store
                .enqueue_job(&NewJob::new(MATCH_RECORDS, payload, Some(key)))
                .await?;
        }
        if !owed.lost.is_empty() {
            tracing::warn!(
                records = owed.lost.len(),
                "records whose matching never ran were queued for matching"
            );
        }
        Ok(owed.lost.len())
    }

    /// The queue for administrators: counts by state and the latest jobs.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn admin_jobs(
        &self,
        caller: &Caller,
        state: Option<JobState>,
        limit: u32,
    ) -> AppResult<JobsOverview> {
        caller.require(Permission::PartyManage, &self.config)?;
        self.jobs_overview(state, limit).await
    }

    /// The queue as the server's own command line sees it (`homeward jobs list`).
    #[tracing::instrument(skip_all)]
    pub async fn jobs_overview(
        &self,
        state: Option<JobState>,
        limit: u32,
    ) -> AppResult<JobsOverview> {
        if limit == 0 || limit > 1000 {
            return Err(AppError::invalid(
                "limit",
                "out_of_range",
                "between 1 and 1000",
            ));
        }
        let mut counts = [0_i64; 4];
        for (s, n) in self.store.job_counts().await? {
            counts[JobState::ALL.iter().position(|x| *x == s).unwrap_or(0)] = n;
        }
        let jobs = self
            .store
            .list_jobs(&JobFilter { state, limit })
            .await?
            .into_iter()
            .map(JobView::from)
            .collect();
        Ok(JobsOverview {
            queued: counts[0],
            running: counts[1],
            done: counts[2],
            failed: counts[3],
            jobs,
        })
    }

    /// How the matching of an import is getting on: its job, if the import exists and the
    /// caller's party made it (another party's import answers like a missing one).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn import_matching(&self, caller: &Caller, import: Uuid) -> AppResult<JobView> {
        caller.require(Permission::RecordImport, &self.config)?;
        let job = self
            .store
            .job_by_key(&match_key_of_import(import))
            .await?
            .ok_or(AppError::NotFound)?;
        let ours = serde_json::from_value::<MatchRecordsJob>(job.payload.clone())
            .is_ok_and(|p| p.actor_party == Some(caller.party().id));
        if !ours {
            return Err(AppError::NotFound);
        }
        Ok(job.into())
    }
}

/// A job's payload as its kind says, or `bad_payload`.
fn decode<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| JobError {
        code: "bad_payload".to_owned(),
        message: e.to_string(),
    })
}

/// Why an attempt failed: a stable code and a message, kept on the job.
#[derive(Debug)]
struct JobError {
    code: String,
    message: String,
}

impl From<AppError> for JobError {
    fn from(e: AppError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

/// Resolves once `stop` holds true (never, if its sender is gone without saying so).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(4), Duration::from_secs(16));
        assert_eq!(backoff(40), BACKOFF_MAX);
    }
}
