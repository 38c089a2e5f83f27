//! PostgreSQL, for several app servers sharing one database.

use crate::backend::{WriteTx, impl_store};
use crate::case_work::{CaseWork, CaseWorkStore, Work, WorkBackend};
use crate::group_commit::{Filing, GroupCommit};
use crate::rowhash::RowRef;
use crate::{CaseChange, StoredCase};
use crate::{Result, StoreError};
use homeward_domain::AuditDraft;
use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Audited reads' entries, committed many to a transaction.
    pub(crate) audit_group: Arc<GroupCommit>,
    /// Filings of a few records, likewise.
    pub(crate) filings: Arc<GroupCommit<Filing>>,
}

impl PgStore {
    const BACKEND: &'static str = "postgres";
    /// The row lock on the chain head is what serialises appends, across every app server: the
    /// next writer blocks here until this transaction commits or rolls back.
    const LOCK_HEAD: &'static str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
    /// Locks two records' rows, in id order so that two transactions cannot deadlock on them.
    const LOCK_PAIR: &'static str =
        "SELECT id FROM records WHERE id = $1 OR id = $2 ORDER BY id FOR UPDATE";
    /// A case's version, held until commit so the case cannot change under a decision taken on it.
    const LOCK_CASE: &'static str = "SELECT version FROM cases WHERE id = $1 FOR UPDATE";
    /// Which of the tables an import fills (see [`crate::Store::refresh_statistics`]) were never
    /// analysed, or have grown by more than a quarter of their pages since (a table analysed
    /// empty, by any page): an import of a few rows into a full store does not pay for `ANALYZE`
    /// of all four (0.3 s, thirty times what the whole import of one row takes on SQLite), nor
    /// for a table still empty.
    const REFRESH_STATISTICS: Option<&'static str> = Some(
        "SELECT c.relname::text FROM pg_class c \
         WHERE c.oid = ANY(ARRAY['records', 'record_versions', 'record_block_keys', 'match_candidates']::regclass[]) \
         AND (c.reltuples < 0 \
              OR pg_relation_size(c.oid) / current_setting('block_size')::bigint > c.relpages * 5 / 4) \
         ORDER BY c.relname",
    );

    /// The planner's row count of the block keys, and how to refresh it (see
    /// `analyze_block_keys_if_grown`).
    const BLOCK_KEY_STATISTICS: Option<(&'static str, &'static str)> = Some((
        "SELECT reltuples::float8 FROM pg_class WHERE oid = 'record_block_keys'::regclass",
        "ANALYZE record_block_keys",
    ));

    /// Connects to the database a `postgres://` URL names. Does not migrate.
    pub async fn open(url: &str) -> Result<Self> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(format!("{e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            audit_group: Arc::default(),
            filings: Arc::default(),
        })
    }

    /// Read committed is enough: appends serialise on the head row, and record updates carry
    /// their expected version in the UPDATE's condition.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx<Postgres>> {
        Ok(WriteTx::new(self.pool.begin().await?, None))
    }
}

impl_store!(PgStore, sqlx::Postgres);
// Workers skip the jobs other servers hold instead of waiting for them.
crate::jobs::impl_jobs!(
    PgStore,
    sqlx::Postgres,
    " FOR UPDATE SKIP LOCKED",
    Some("SELECT pg_notify('homeward_jobs', '')"),
    crate::jobs::listen_pg
);
crate::pprl::impl_pprl!(PgStore, sqlx::Postgres);
crate::rescore::impl_rescore!(PgStore);
crate::bulk_match::impl_bulk_match!(
    PgStore,
    "(SELECT jsonb_array_elements_text($3::jsonb))",
    "records r"
);
// `pg_dump` makes PostgreSQL's copies (see docs/operations.md).
crate::ops::impl_ops!(PgStore, None);
crate::staging::impl_staging!(PgStore, sqlx::Postgres);
// Indicators and public statistics (issue 16): the backends differ in JSON, day and month arithmetic.
crate::indicators::impl_indicators!(
    PgStore,
    sqlx::Postgres,
    "(c.content -> 'listing' ->> 'list_ref')",
    "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM')",
    "",
    crate::indicators::PG_FOLD
);
crate::exports::impl_exports!(PgStore, sqlx::Postgres);
crate::transfer_work::impl_transfer_work!(PgStore, sqlx::Postgres);
crate::case_search::impl_case_search!(
    PgStore,
    sqlx::Postgres,
    "(c.content -> 'listing' ->> 'list_ref')"
);

#[async_trait::async_trait]
impl WorkBackend for PgStore {
    type Db = Postgres;
    /// The case's row is locked until commit, so the case cannot change under a decision taken on it.
    const HOLD_ROW: &'static str = " FOR UPDATE";

    async fn begin(&self) -> Result<WriteTx<Postgres>> {
        self.begin_write().await
    }

    async fn save_case(tx: &mut WriteTx<Postgres>, change: CaseChange<'_>) -> Result<StoredCase> {
        Self::case_update_in(tx, change).await
    }

    async fn append_written(
        tx: &mut WriteTx<Postgres>,
        drafts: Vec<AuditDraft>,
        written: &[RowRef],
    ) -> Result<()> {
        Self::append_written(tx, drafts, written).await.map(drop)
    }
}

#[async_trait::async_trait]
impl CaseWorkStore for PgStore {
    async fn begin_case_work(&self) -> Result<Box<dyn CaseWork>> {
        Work::begin(self).await
    }
}
