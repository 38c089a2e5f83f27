//! Group commit of the audit entries of reads.
//!
//! An audited read promises that its data leaves the store only after its audit entry is durably
//! on the hash chain, and that it fails (returning no data) if that commit fails. It need not
//! commit alone: the read runs on a read connection (WAL readers run beside the writer), and its
//! entry joins a queue. Whichever waiting read takes the turn next commits every queued entry in
//! one write transaction (chain order is commit order) and hands each waiter its own result, so
//! one write transaction (one chain-lock turn, one WAL record on PostgreSQL) serves many reads.
//!
//! There is no background task: the committer is always one of the waiting requests, so the
//! queue works under any runtime and never outlives its store.

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{Result, StoreError};
use async_trait::async_trait;
use homeward_domain::AuditDraft;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<()>>;

/// One store's queue of audit entries waiting for a commit.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Vec<(AuditDraft, Reply)>>,
    /// Held by the request committing a batch; replies are sent before it is released, so a
    /// request that gets the turn finds its own reply already there or its entry still queued.
    turn: tokio::sync::Mutex<()>,
}

/// How a backend commits a batch of entries: one write transaction appending them in order.
#[async_trait]
pub(crate) trait AuditBatch: Sync {
    async fn commit_audit_batch(&self, drafts: Vec<AuditDraft>) -> Result<()>;
}

impl GroupCommit {
    /// Returns once `draft` is committed on the chain, or with the error that kept it off.
    pub(crate) async fn submit(&self, backend: &dyn AuditBatch, draft: AuditDraft) -> Result<()> {
        let (reply, mut answer) = oneshot::channel();
        self.queue().push((draft, reply));
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

    fn queue(&self) -> MutexGuard<'_, Vec<(AuditDraft, Reply)>> {
        // A panic while the lock was held cannot leave the vector half-changed (push and take only).
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Commits the batch in one transaction; if that fails, each entry alone, so that one entry's
/// failure (or a conflict at the first try) does not fail the others' reads.
async fn commit_batch(backend: &dyn AuditBatch, batch: Vec<(AuditDraft, Reply)>) {
    let (drafts, replies): (Vec<AuditDraft>, Vec<Reply>) = batch.into_iter().unzip();
    if drafts.len() > 1 {
        match backend.commit_audit_batch(drafts.clone()).await {
            Ok(()) => {
                for reply in replies {
                    // The waiter may have gone (its request cancelled): nothing to tell it then.
                    let _ = reply.send(Ok(()));
                }
                return;
            }
            Err(e) => tracing::warn!(
                entries = drafts.len(),
                error = %e,
                "audit group commit failed; committing its entries one by one"
            ),
        }
    }
    for (draft, reply) in drafts.into_iter().zip(replies) {
        let _ = reply.send(backend.commit_audit_batch(vec![draft]).await);
    }
}

#[async_trait]
impl AuditBatch for SqliteStore {
    async fn commit_audit_batch(&self, drafts: Vec<AuditDraft>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::append(&mut tx, drafts).await?;
        tx.commit().await
    }
}

#[async_trait]
impl AuditBatch for PgStore {
    async fn commit_audit_batch(&self, drafts: Vec<AuditDraft>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::append(&mut tx, drafts).await?;
        tx.commit().await
    }
}
