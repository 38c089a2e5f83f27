//! The embedded default: one SQLite file in WAL mode.

use crate::backend::{WriteTx, impl_store};
use crate::case_work::{CaseWork, CaseWorkStore, Work, WorkBackend};
use crate::group_commit::{Filing, GroupCommit};
use crate::rowhash::RowRef;
use crate::{CaseChange, StoredCase};
use crate::{Result, StoreError};
use homeward_domain::AuditDraft;
use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one writer at a time anyway. Queueing this process's writers here, in order,
    /// spares them SQLite's busy-wait (which sleeps up to 100 ms between tries); `BEGIN IMMEDIATE`
    /// and the busy timeout still guard against other processes using the same file.
    writer: Arc<Mutex<()>>,
    /// Audited reads' entries, committed many to a transaction.
    pub(crate) audit_group: Arc<GroupCommit>,
    /// Filings of a few records, likewise.
    pub(crate) filings: Arc<GroupCommit<Filing>>,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// `BEGIN IMMEDIATE` already holds the write lock, so a plain read is enough.
    const LOCK_HEAD: &'static str = "SELECT seq, hash FROM audit_head WHERE id = 1";
    /// Likewise: the write lock already keeps every other writer out.
    const LOCK_PAIR: &'static str = "SELECT id FROM records WHERE id = $1 OR id = $2";
    const LOCK_CASE: &'static str = "SELECT version FROM cases WHERE id = $1";
    /// Which tables to analyse: none (see [`crate::Store::refresh_statistics`]).
    const REFRESH_STATISTICS: Option<&'static str> = None;
    /// SQLite plans the block-key lookups by their index without statistics.
    const BLOCK_KEY_STATISTICS: Option<(&'static str, &'static str)> = None;

    /// Opens (creating it if missing) the database a `sqlite://PATH` URL names. Does not migrate.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            // 64 MiB of page cache per connection instead of SQLite's 2 MiB: an import writes
            // each record into several indexes and its blocking keys into one ordered by key,
            // i.e. at random places; with 2 MiB most of those pages were evicted and read back
            // for every few rows (issue 13, 400k records). Only pages used are allocated.
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new()
            // Readers run in parallel under WAL; writers queue on `writer`.
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            writer: Arc::new(Mutex::new(())),
            audit_group: Arc::default(),
            filings: Arc::default(),
        })
    }

    /// Every write starts with `BEGIN IMMEDIATE`: a deferred transaction that reads and then
    /// writes can fail with "database is locked" at once, without waiting out the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Sqlite>> {
        let serial = Arc::clone(&self.writer).lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx::new(tx, Some(serial)))
    }
}

impl_store!(SqliteStore, sqlx::Sqlite);
crate::jobs::impl_jobs!(SqliteStore, sqlx::Sqlite, "", None, crate::jobs::poll_only);
crate::pprl::impl_pprl!(SqliteStore, sqlx::Sqlite);
crate::rescore::impl_rescore!(SqliteStore);
crate::bulk_match::impl_bulk_match!(
    SqliteStore,
    "(SELECT value FROM json_each($3))",
    "records r INDEXED BY records_live"
);
// A consistent copy while others read and write: SQLite's own `VACUUM INTO`.
crate::ops::impl_ops!(SqliteStore, Some("VACUUM INTO $1"));
crate::staging::impl_staging!(SqliteStore, sqlx::Sqlite);
// Indicators and public statistics (issue 16): the backends differ in JSON, day and month arithmetic.
crate::indicators::impl_indicators!(
    SqliteStore,
    sqlx::Sqlite,
    "json_extract(c.content, '$.listing.list_ref')",
    "substr({}, 1, 7)",
    " INDEXED BY records_sex_born",
    [("", ""); 0]
);
crate::exports::impl_exports!(SqliteStore, sqlx::Sqlite);
crate::transfer_work::impl_transfer_work!(SqliteStore, sqlx::Sqlite);
crate::case_search::impl_case_search!(
    SqliteStore,
    sqlx::Sqlite,
    "json_extract(c.content, '$.listing.list_ref')"
);

#[async_trait::async_trait]
impl WorkBackend for SqliteStore {
    type Db = Sqlite;
    /// The write lock `begin_write` takes already keeps every other writer off the case.
    const HOLD_ROW: &'static str = "";

    async fn begin(&self) -> Result<WriteTx<Sqlite>> {
        self.begin_write().await
    }

    async fn save_case(tx: &mut WriteTx<Sqlite>, change: CaseChange<'_>) -> Result<StoredCase> {
        Self::case_update_in(tx, change).await
    }

    async fn append_written(
        tx: &mut WriteTx<Sqlite>,
        drafts: Vec<AuditDraft>,
        written: &[RowRef],
    ) -> Result<()> {
        Self::append_written(tx, drafts, written).await.map(drop)
    }
}

#[async_trait::async_trait]
impl CaseWorkStore for SqliteStore {
    async fn begin_case_work(&self) -> Result<Box<dyn CaseWork>> {
        Work::begin(self).await
    }
}
