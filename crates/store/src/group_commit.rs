//! Group commit of the audit entries of reads.
//!
//! An audited read promises that its data leaves the store only after its audit entry is durably
//! on the hash chain, and that it fails (returning no data) if that commit fails. It need not
//! commit alone: the read runs on a read connection (WAL readers run beside the writer), and its
//! entry joins a queue. Whichever waiting read takes the turn next commits every queued entry in
//! one write transaction (chain order is commit order) and hands each waiter its own result, so
//! one write transaction (one chain-lock turn, one WAL record on PostgreSQL) serves many reads.
//!
//! Filing a record gets the same treatment: its rows, its matching job and its audit entries
//! join a queue, and one write transaction stores every queued filing, in order. Profiling the
//! filing route (issue 19) found the writer's time in handing each statement to SQLite's
//! connection thread and back, eight statements a filing under the write lock; a group of N
//! filings takes about N + 6. If the group's transaction fails, each filing is tried again
//! alone, so a filing that breaks a rule fails by itself, with its own error.
//!
//! There is no background task: the committer is always one of the waiting requests, so the
//! queue works under any runtime and never outlives its store.

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{NewJob, NewRecord, Result, StoreError};
use async_trait::async_trait;
use homeward_domain::AuditDraft;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<()>>;

/// Filings of at most this many records are committed in groups.
pub(crate) const GROUPED_FILING: usize = 16;

/// One store's queue of audit entries (or filings) waiting for a commit.
#[derive(Debug)]
pub(crate) struct GroupCommit<T = AuditDraft> {
    queue: Mutex<Vec<(T, Reply)>>,
    /// Held by the request committing a batch; replies are sent before it is released, so a
    /// request that gets the turn finds its own reply already there or its entry still queued.
    turn: tokio::sync::Mutex<()>,
}

impl<T> Default for GroupCommit<T> {
    fn default() -> Self {
        Self {
            queue: Mutex::default(),
            turn: tokio::sync::Mutex::default(),
        }
    }
}

/// One filing of records: what `Store::insert_records` stores in one transaction.
#[derive(Clone, Debug)]
pub(crate) struct Filing {
    pub(crate) records: Vec<NewRecord>,
    pub(crate) job: Option<NewJob>,
    pub(crate) audit: Vec<AuditDraft>,
}

/// How a backend commits a batch in one write transaction, in order: audit entries of reads,
/// or filings.
#[async_trait]
pub(crate) trait Batch<T>: Sync {
    async fn commit_batch(&self, items: Vec<T>) -> Result<()>;
}

impl<T: Clone + Send> GroupCommit<T> {
    /// Returns once `item` is committed, or with the error that kept it out.
    pub(crate) async fn submit(&self, backend: &dyn Batch<T>, item: T) -> Result<()> {
        let (reply, mut answer) = oneshot::channel();
        self.queue().push((item, reply));
        let turn = self.turn.lock().await;
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        let batch = std::mem::take(&mut *self.queue());
        commit_batch(backend, batch).await;
        drop(turn);
        // Our own entry was in the batch just committed (it was queued before we took the turn
        // and nobody else drained the queue while we held it).
        answer.await.map_err(|_| {
            StoreError::GroupCommit("the committing request stopped before answering".to_owned())
        })?
    }

    fn queue(&self) -> MutexGuard<'_, Vec<(T, Reply)>> {
        // A panic while the lock was held cannot leave the vector half-changed (push and take only).
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Commits the batch in one transaction; if that fails, each item alone, so that one item's
/// failure does not fail the others.
async fn commit_batch<T: Clone + Send>(backend: &dyn Batch<T>, batch: Vec<(T, Reply)>) {
    let (items, replies): (Vec<T>, Vec<Reply>) = batch.into_iter().unzip();
    if items.len() > 1 {
        match backend.commit_batch(items.clone()).await {
            Ok(()) => {
                for reply in replies {
                    // The waiter may have gone (its request cancelled): nothing to tell it then.
                    let _ = reply.send(Ok(()));
                }
                return;
            }
            Err(e) => tracing::debug!(
                items = items.len(),
                error = %e,
                "a group commit failed; committing its items one by one"
            ),
        }
    }
    for (item, reply) in items.into_iter().zip(replies) {
        let _ = reply.send(backend.commit_batch(vec![item]).await);
    }
}

/// The audit entries of reads, and filings, committed in groups on both backends.
macro_rules! impl_batches {
    ($store:ty) => {
        #[async_trait]
        impl Batch<AuditDraft> for $store {
            async fn commit_batch(&self, drafts: Vec<AuditDraft>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                Self::append(&mut tx, drafts).await?;
                tx.commit().await
            }
        }

        #[async_trait]
        impl Batch<Filing> for $store {
            async fn commit_batch(&self, filings: Vec<Filing>) -> Result<()> {
                let records: Vec<NewRecord> = filings
                    .iter()
                    .flat_map(|f| f.records.iter().cloned())
                    .collect();
                let mut tx = self.begin_write().await?;
                Self::insert_records_in(&mut tx, &records, &|_| {}).await?;
                let mut audit = Vec::with_capacity(filings.len());
                for f in filings {
                    if let Some(job) = &f.job {
                        Self::enqueue_in(&mut tx, job).await?;
                    }
                    audit.extend(f.audit);
                }
                Self::append(&mut tx, audit).await?;
                tx.commit().await
            }
        }
    };
}

impl_batches!(SqliteStore);
impl_batches!(PgStore);
