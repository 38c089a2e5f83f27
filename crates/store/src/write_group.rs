//! Group commit of writes on SQLite.
//!
//! SQLite has one writer, and each commit writes every page it changed to the WAL again (the
//! tails of the records, versions, jobs and audit tables, their indexes, the chain head), so a
//! commit per filed record repeats most of its work. Here a use-case that finds other writers
//! queued behind it leaves its transaction open for the next one: each use-case runs in its own
//! savepoint of the shared transaction (failing alone: its savepoint is rolled back and the
//! others' work stays), and the last of the group commits for all of them. Nobody is answered
//! before the commit that holds its work succeeded; if it fails, every member fails.
//!
//! The writer's turn is the same mutex every other write takes: a write that is not grouped
//! commits a waiting group before it begins, so the queue keeps its order.

use crate::backend::WriteTx;
use crate::{Result, StoreError};
use sqlx::{Database, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{OwnedMutexGuard, oneshot};

/// Use-cases per commit at most: bounds how long the first of them waits for its answer.
const MAX_GROUP: usize = 64;
/// How long a member waits for the next writer to take the group on before it commits the
/// group itself (only when the writer it counted on went away, e.g. its request was cancelled).
const TAKE_OVER_AFTER: Duration = Duration::from_millis(50);

type Reply = oneshot::Sender<Result<()>>;

/// A transaction left open for the next writer, and who waits for its commit.
struct Parked {
    tx: Transaction<'static, Sqlite>,
    members: Vec<Reply>,
}

/// One SQLite store's writer turn and the group waiting for its commit.
#[derive(Default)]
pub(crate) struct WriteGroup {
    writer: Arc<tokio::sync::Mutex<()>>,
    parked: Mutex<Option<Parked>>,
    /// Writers waiting for the turn: a group goes on only while someone will take it on.
    waiting: AtomicUsize,
}

impl std::fmt::Debug for WriteGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteGroup")
            .field("waiting", &self.waiting.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Counts a writer as waiting until it has the turn (or gave up waiting).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Self(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl WriteGroup {
    /// The writer's turn, with any group left waiting committed first.
    pub(crate) async fn turn(&self) -> OwnedMutexGuard<()> {
        let serial = self.queue().await;
        self.commit_parked().await;
        serial
    }

    async fn queue(&self) -> OwnedMutexGuard<()> {
        let _waiting = Waiting::new(&self.waiting);
        Arc::clone(&self.writer).lock_owned().await
    }

    fn parked(&self) -> MutexGuard<'_, Option<Parked>> {
        // Only `take` and `replace` run under this lock: a panic cannot leave it half-changed.
        self.parked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Commits the waiting group, if any, and answers its members. Only with the turn held.
    async fn commit_parked(&self) {
        let parked = self.parked().take();
        if let Some(Parked { tx, members }) = parked {
            answer(members, tx.commit().await.map_err(StoreError::from));
        }
    }

    /// A savepoint for one use-case, in the waiting group's transaction or a new one.
    pub(crate) async fn begin(&self, pool: &SqlitePool) -> Result<GroupTx<'_>> {
        let serial = self.queue().await;
        let parked = self.parked().take();
        let (mut tx, members) = match parked {
            Some(p) => (p.tx, p.members),
            // As every write here: `BEGIN IMMEDIATE`, so other processes wait for it.
            None => (pool.begin_with("BEGIN IMMEDIATE").await?, Vec::new()),
        };
        if let Err(e) = sqlx::query("SAVEPOINT grouped").execute(&mut *tx).await {
            answer(members, Err(StoreError::GroupCommit(e.to_string())));
            return Err(e.into());
        }
        Ok(GroupTx {
            group: self,
            tx,
            members,
            _serial: serial,
        })
    }

    /// Waits for the commit of the group `answer` belongs to, committing the group itself if
    /// nobody took it on.
    async fn outcome(&self, mut answer: oneshot::Receiver<Result<()>>) -> Result<()> {
        loop {
            if let Ok(result) = tokio::time::timeout(TAKE_OVER_AFTER, &mut answer).await {
                return result.unwrap_or_else(|_| Err(abandoned()));
            }
            let _serial = self.queue().await;
            if let Ok(result) = answer.try_recv() {
                return result;
            }
            self.commit_parked().await;
        }
    }
}

fn abandoned() -> StoreError {
    StoreError::GroupCommit("the group's transaction was dropped before its commit".to_owned())
}

/// Tells each member how the commit of its group went.
fn answer(members: Vec<Reply>, result: Result<()>) {
    let message = result.as_ref().err().map(ToString::to_string);
    for member in members {
        let r = match &message {
            None => Ok(()),
            Some(m) => Err(StoreError::GroupCommit(m.clone())),
        };
        // A member whose request was cancelled no longer listens.
        let _ = member.send(r);
    }
}

/// One use-case's part of a group: its savepoint, open on the shared transaction.
pub(crate) struct GroupTx<'a> {
    group: &'a WriteGroup,
    tx: Transaction<'static, Sqlite>,
    members: Vec<Reply>,
    _serial: OwnedMutexGuard<()>,
}

impl Deref for GroupTx<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for GroupTx<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl GroupTx<'_> {
    /// Ends the use-case: keeps its work if `result` is `Ok` (returned once the commit holding
    /// it succeeded), rolls it back alone otherwise; then commits the group, or leaves it open
    /// for the writer queued next.
    pub(crate) async fn finish<T>(self, result: Result<T>) -> Result<T> {
        let GroupTx {
            group,
            mut tx,
            mut members,
            _serial,
        } = self;
        let end = match &result {
            Ok(_) => "RELEASE SAVEPOINT grouped",
            Err(_) => "ROLLBACK TO SAVEPOINT grouped",
        };
        if let Err(e) = sqlx::query(end).execute(&mut *tx).await {
            // The transaction is in an unknown state: nobody's work in it can be kept.
            drop(tx);
            answer(members, Err(StoreError::GroupCommit(e.to_string())));
            return Err(e.into());
        }
        let mine = match result {
            Ok(v) => {
                let (reply, answer) = oneshot::channel();
                members.push(reply);
                Ok((v, answer))
            }
            Err(e) => {
                if let Err(e) = sqlx::query("RELEASE SAVEPOINT grouped")
                    .execute(&mut *tx)
                    .await
                {
                    drop(tx);
                    answer(members, Err(StoreError::GroupCommit(e.to_string())));
                    return Err(e.into());
                }
                Err(e)
            }
        };
        let goes_on = group.waiting.load(Ordering::SeqCst) > 0 && members.len() < MAX_GROUP;
        if members.is_empty() {
            // Only a failed use-case was in it: nothing to commit.
            drop(tx);
        } else if goes_on {
            *group.parked() = Some(Parked { tx, members });
        } else {
            answer(members, tx.commit().await.map_err(StoreError::from));
        }
        drop(_serial);
        let (v, answer) = mine?;
        group.outcome(answer).await?;
        Ok(v)
    }
}

impl<DB: Database> WriteTx<DB> {
    /// The ungrouped form of [`GroupTx::finish`]: commits if `result` is `Ok`, else rolls back.
    pub(crate) async fn finish<T>(self, result: Result<T>) -> Result<T> {
        let v = result?;
        self.commit().await?;
        Ok(v)
    }
}
