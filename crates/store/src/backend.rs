//! What the SQLite and PostgreSQL stores share: the whole [`Store`](crate::Store) implementation,
//! written once in [`impl_store!`] and expanded for each backend's concrete sqlx types.
//!
//! A macro rather than generic functions: sqlx code generic over the database needs higher-ranked
//! `Executor` bounds that `async_trait`'s `Send` futures do not get through. Each backend supplies
//! only what truly differs: how a write transaction starts, how the chain head is locked, and
//! its migrations.

use crate::like_escape;
use crate::rows::{audit_columns, record_columns};
use crate::{AuditFilter, Result, RowTable};
use chrono::{DateTime, Utc};
use homeward_domain::{RecordFilter, Scope};
use sqlx::{Database, Encode, QueryBuilder, Transaction, Type};
use std::ops::{Deref, DerefMut};
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

/// Rows per multi-row INSERT in bulk writes: few round trips, and far below both databases'
/// limits on bound parameters (SQLite 32766, PostgreSQL 65535) at 13 columns a row.
pub(crate) const BULK_ROWS: usize = 500;

/// A write transaction, holding whatever the backend uses to serialise writers. Dropped without
/// [`commit`](Self::commit), the transaction rolls back (sqlx queues the ROLLBACK on drop).
pub(crate) struct WriteTx<DB: Database> {
    // Declared first so it is dropped (rolled back) before the guard lets the next writer in.
    tx: Transaction<'static, DB>,
    _serial: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> WriteTx<DB> {
    pub(crate) fn new(tx: Transaction<'static, DB>, serial: Option<OwnedMutexGuard<()>>) -> Self {
        Self {
            tx,
            _serial: serial,
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

/// `None` when the scope sees no record at all (answer without asking the database); otherwise
/// the party the caller is confined to, if any.
pub(crate) fn scope_party(scope: Scope) -> Option<Option<Uuid>> {
    match scope {
        Scope::AllSubmitted => Some(None),
        Scope::OwnParty(p) => Some(Some(p.0)),
        Scope::Nothing => None,
    }
}

/// `limit` 0 means the default page; nobody gets more than the cap in one page.
pub(crate) fn page_limit(limit: u32, default: u32, cap: u32) -> i64 {
    i64::from(if limit == 0 { default } else { limit.min(cap) })
}

/// Adds the ids a list returned to its audit details, which must then be an object.
pub(crate) fn with_record_ids(details: serde_json::Value, ids: Vec<String>) -> serde_json::Value {
    with_ids(details, "record_ids", ids)
}

pub(crate) use homeward_domain::audit::details_with_ids as with_ids;

/// The query behind `list_records`: only the conditions the filter sets, so each combination gets
/// a plan that can use the indexes.
pub(crate) fn record_list_query<'a, DB>(
    party: Option<Uuid>,
    f: &RecordFilter,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    Uuid: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    i32: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(concat!(
        "SELECT ",
        record_columns!(),
        " FROM records WHERE 1 = 1"
    ));
    if let Some(p) = party {
        qb.push(" AND party_id = ").push_bind(p);
    }
    if let Some(p) = f.party {
        qb.push(" AND party_id = ").push_bind(p.0);
    }
    if let Some(k) = f.kind {
        qb.push(" AND kind = ").push_bind(k.as_str().to_owned());
    }
    if let Some(s) = f.sex {
        qb.push(" AND sex = ").push_bind(s.as_str().to_owned());
    }
    if let Some(n) = &f.name {
        qb.push(" AND search_key LIKE '%' || ")
            .push_bind(like_escape(n))
            .push(" || '%' ESCAPE '\\'");
    }
    for alternatives in f.name_terms.iter().filter(|a| !a.is_empty()) {
        qb.push(" AND (");
        for (i, a) in alternatives.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("search_key LIKE '%' || ")
                .push_bind(like_escape(a))
                .push(" || '%' ESCAPE '\\'");
        }
        qb.push(")");
    }
    if let Some(y) = f.born_from_year {
        qb.push(" AND birth_year >= ").push_bind(y);
    }
    if let Some(y) = f.born_to_year {
        qb.push(" AND birth_year <= ").push_bind(y);
    }
    if let Some(r) = &f.external_ref {
        qb.push(" AND external_ref = ").push_bind(r.clone());
    }
    if !f.include_deleted {
        qb.push(" AND deleted_at IS NULL");
    }
    if let Some(after) = f.after {
        qb.push(" AND id > ").push_bind(after.0);
    }
    qb.push(" ORDER BY id LIMIT ")
        .push_bind(page_limit(f.limit, 50, 1000));
    qb
}

/// Ends a queue query of scored pairs: best first, then by id, after the keyset `after` (the last
/// pair of the previous page), at most `limit` (0 means 50; at most 500).
pub(crate) fn probability_page<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    after: Option<(f64, Uuid)>,
    before: bool,
    limit: u32,
) where
    DB: Database,
    f64: Encode<'a, DB> + Type<DB>,
    Uuid: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    // Backwards is the same keyset with every comparison and the order turned round, so that
    // the nearest neighbour comes first.
    let (further, id_further, order) = if before {
        (" > ", " < ", " ORDER BY probability ASC, id DESC LIMIT ")
    } else {
        (" < ", " > ", " ORDER BY probability DESC, id LIMIT ")
    };
    if let Some((p, id)) = after {
        qb.push(" AND (probability")
            .push(further)
            .push_bind(p)
            .push(" OR (probability = ")
            .push_bind(p)
            .push(" AND id")
            .push(id_further)
            .push_bind(id)
            .push("))");
    }
    qb.push(order).push_bind(page_limit(limit, 50, 500));
}

/// The query behind `audit_entries`.
pub(crate) fn audit_query<'a, DB>(f: &AuditFilter) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    Uuid: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(concat!(
        "SELECT ",
        audit_columns!(),
        " FROM audit_log WHERE seq > "
    ));
    qb.push_bind(f.after_seq);
    if let Some(a) = &f.action {
        qb.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(k) = &f.target_kind {
        qb.push(" AND target_kind = ").push_bind(k.clone());
    }
    if let Some(t) = &f.target_id {
        qb.push(" AND target_id = ").push_bind(t.clone());
    }
    if let Some(u) = f.actor_user {
        qb.push(" AND actor_user = ").push_bind(u.0);
    }
    if let Some(p) = f.actor_party {
        qb.push(" AND actor_party = ").push_bind(p.0);
    }
    // SQLite keeps `at` as RFC 3339 text in UTC, which sorts as the moments do; a bound
    // `DateTime<Utc>` is written in the same form.
    if let Some(t) = f.from {
        qb.push(" AND at >= ").push_bind(t);
    }
    if let Some(t) = f.until {
        qb.push(" AND at < ").push_bind(t);
    }
    if let Some(b) = f.before_seq {
        qb.push(" AND seq < ").push_bind(b);
        qb.push(" ORDER BY seq DESC LIMIT ");
    } else {
        qb.push(" ORDER BY seq LIMIT ");
    }
    qb.push_bind(page_limit(f.limit, 1000, 10_000));
    qb
}

/// The query behind `row_hashes`: a page of `table`'s hashed columns in key order, after `after`.
pub(crate) fn row_page_query<'a, DB>(
    table: RowTable,
    after: Option<(Uuid, i64)>,
    limit: u32,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    DB::Arguments<'a>: Default,
    Uuid: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let (k1, k2) = table.key_columns();
    let mut qb = QueryBuilder::new(format!("SELECT {} FROM {}", table.columns(), table.table()));
    if let Some((id, version)) = after {
        qb.push(format!(" WHERE {k1} > ")).push_bind(id);
        if let Some(k2) = k2 {
            qb.push(format!(" OR ({k1} = ")).push_bind(id);
            qb.push(format!(" AND {k2} > "))
                .push_bind(version)
                .push(")");
        }
    }
    qb.push(format!(" ORDER BY {k1}"));
    if let Some(k2) = k2 {
        qb.push(format!(", {k2}"));
    }
    qb.push(" LIMIT ")
        .push_bind(page_limit(limit, 1000, 10_000));
    qb
}

/// Implements [`Store`](crate::Store) for `$store`, whose database is `$db`. The type must have a
/// field `pool: sqlx::Pool<$db>`, constants `BACKEND`, `LOCK_HEAD` (the query reading the
/// chain head so that no other writer can move it until commit) and `LOCK_PAIR` (the same for
/// two records' rows, `$1` and `$2`), `LOCK_CASE` (a case's version, `$1`, locked likewise), a `static MIGRATOR` in the
/// invoking module, and `async fn begin_write(&self) -> Result<WriteTx<$db>>`.
macro_rules! impl_store {
    ($store:ident, $db:ty) => {
        mod store_impl {
            use super::{$store, MIGRATOR};
            use crate::backend::{
                page_limit, record_list_query, audit_query, row_page_query, scope_party, with_ids, with_record_ids, BULK_ROWS,
            };
            use crate::rows::{
                AttachmentRow, AuditRow, CandidateRow, CaseRow, CaseVersionRow, CredentialsRow, DuplicateRow, PartyRow, RecordRow, SessionUserRow, TaskRow, TokenRow, TokenUserRow, TransferListRow, TransferListVersionRow, TransferPlanRow, UserRow, VersionRow, attachment_columns, attachment_in_scope, audit_columns, candidate_columns, convert, duplicate_columns, opt_ts, record_columns, roles_text, token_columns, ts, user_columns,
            };
            use crate::rowhash::{
                attach_writes, CaseHashRow, CaseVersionHashRow, RecordHashRow, RecordVersionHashRow, RowHash, RowRef, RowTable,
            };
            use crate::{
                ApiToken, Attachment, AttachmentOwner, AttachmentScope, AuditFilter, CandidateAudit, CandidateDecision, CandidateStatus, CaseChange, CaseFilter, CaseVersion, Decision, DecisionOutcome, DisclosureFilter, DuplicateAudit, DuplicateCandidate, DuplicateFilter, DuplicateMerge, DuplicateStatus, MatchCandidate, MergeOutcome, NewCandidate, NewDuplicate, NewRecord, Progress, QueueFilter, RecordChange, RecordDeletion, Result, SessionRow, Store, StoreError, StoredCase, StoredModel, StoredTask, StoredTransferList, StoredTransferPlan, TaskFilter, TransferListFilter, TransferListVersion, UserCredentials,
            };
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use homeward_domain::{
                AttachmentId, AuditDraft, AuditEntry, CaseId, ChildRecord, Disclosure, DuplicateId, Language, ListState, MatchId, Party, PartyId, RecordFilter, RecordId, RecordKind, RecordVersion, Role, Scope, Task, TaskId, TokenId, TransferList, TransferListId, TransferPlanId, User, UserId, Username,
            };
            use sqlx::types::Json;
            use sqlx::QueryBuilder;

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;

            impl $store {
                /// Seals `drafts` onto the chain inside the caller's transaction and returns the
                /// last entry. The head is read (and, where the backend needs it, locked) first,
                /// so concurrent writers line up instead of forking the chain.
                pub(crate) async fn append(conn: &mut Conn, drafts: Vec<AuditDraft>) -> Result<Option<AuditEntry>> {
                    if drafts.is_empty() {
                        return Ok(None);
                    }
                    let (mut seq, mut hash): (i64, String) =
                        sqlx::query_as(Self::LOCK_HEAD).fetch_one(&mut *conn).await?;
                    let mut drafts = drafts.into_iter();
                    let mut batch: Vec<AuditEntry> = Vec::with_capacity(drafts.len().min(BULK_ROWS));
                    let mut last = None;
                    loop {
                        batch.clear();
                        for d in drafts.by_ref().take(BULK_ROWS) {
                            seq += 1;
                            let e = d.seal(seq, Utc::now(), &hash);
                            hash.clone_from(&e.hash);
                            batch.push(e);
                        }
                        if batch.is_empty() {
                            break;
                        }
                        let mut qb = QueryBuilder::<Db>::new(concat!("INSERT INTO audit_log (", audit_columns!(), ") "));
                        qb.push_values(&batch, |mut b, e| {
                            b.push_bind(e.seq)
                                .push_bind(e.at)
                                .push_bind(e.actor_user.map(|u| u.0))
                                .push_bind(e.actor_party.map(|p| p.0))
                                .push_bind(e.action.as_str())
                                .push_bind(e.target_kind.as_deref())
                                .push_bind(e.target_id.as_deref())
                                .push_bind(e.source.as_deref())
                                .push_bind(e.details.as_str())
                                .push_bind(e.prev_hash.as_str())
                                .push_bind(e.hash.as_str());
                        });
                        qb.build().execute(&mut *conn).await?;
                        drop(qb);
                        last = batch.pop();
                    }
                    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                        .bind(seq)
                        .bind(&hash)
                        .execute(&mut *conn)
                        .await?;
                    Ok(last)
                }

                /// The rows a query selects (the table's hashed columns), with their hashes.
                async fn fetch_row_hashes(conn: &mut Conn, table: RowTable, mut qb: QueryBuilder<'_, Db>) -> Result<Vec<RowHash>> {
                    let q = &mut qb;
                    Ok(match table {
                        RowTable::Records => q.build_query_as::<RecordHashRow>().fetch_all(&mut *conn).await?.into_iter().map(RecordHashRow::hashed).collect(),
                        RowTable::RecordVersions => q.build_query_as::<RecordVersionHashRow>().fetch_all(&mut *conn).await?.into_iter().map(RecordVersionHashRow::hashed).collect(),
                        RowTable::Cases => q.build_query_as::<CaseHashRow>().fetch_all(&mut *conn).await?.into_iter().map(CaseHashRow::hashed).collect(),
                        RowTable::CaseVersions => q.build_query_as::<CaseVersionHashRow>().fetch_all(&mut *conn).await?.into_iter().map(CaseVersionHashRow::hashed).collect(),
                    })
                }

                /// The hashes of rows this transaction wrote, read back as `audit verify` will read them.
                async fn hash_rows(conn: &mut Conn, refs: &[RowRef]) -> Result<Vec<RowHash>> {
                    let mut out = Vec::with_capacity(refs.len());
                    for r in refs {
                        let (k1, k2) = r.table.key_columns();
                        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {} FROM {} WHERE {k1} = ", r.table.columns(), r.table.table()));
                        qb.push_bind(r.id);
                        if let Some(k2) = k2 {
                            qb.push(format!(" AND {k2} = "));
                            qb.push_bind(r.version);
                        }
                        let found = Self::fetch_row_hashes(conn, r.table, qb).await?;
                        if found.is_empty() {
                            return Err(StoreError::Corrupt(format!("row {} was written but cannot be read back", r.name())));
                        }
                        out.extend(found);
                    }
                    Ok(out)
                }

                /// [`Self::append`], with the rows in `written` listed (and hashed) under the drafts
                /// that describe them.
                pub(crate) async fn append_written(conn: &mut Conn, mut drafts: Vec<AuditDraft>, written: &[RowRef]) -> Result<Option<AuditEntry>> {
                    let hashes = Self::hash_rows(conn, written).await?;
                    attach_writes(&mut drafts, hashes);
                    Self::append(conn, drafts).await
                }

                /// Lists the rows stored before the chain carried row hashes in `audit.rows_adopted`
                /// entries (a thousand rows each), once: the migration that brought row hashes
                /// leaves `pending` set, and this clears it in the same transaction.
                async fn adopt_rows(&self) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // Holding the chain head first: two servers starting at once adopt only once.
                    let _: (i64, String) = sqlx::query_as(Self::LOCK_HEAD).fetch_one(&mut *tx).await?;
                    let pending: i64 = sqlx::query_scalar("SELECT pending FROM audit_row_adoption WHERE id = 1")
                        .fetch_one(&mut *tx)
                        .await?;
                    if pending == 0 {
                        return Ok(());
                    }
                    let mut drafts = Vec::new();
                    for table in RowTable::ALL {
                        let mut after = None;
                        loop {
                            let rows = Self::fetch_row_hashes(&mut tx, table, row_page_query(table, after, 1000)).await?;
                            let Some(last) = rows.last() else { break };
                            after = Some((last.row.id, last.row.version));
                            let mut d = vec![AuditDraft::new(homeward_domain::AuditAction::RowsAdopted)
                                .details(serde_json::json!({ "table": table.table(), "rows": rows.len() }))];
                            d[0].source = Some("migrate".to_owned());
                            attach_writes(&mut d, rows);
                            drafts.extend(d);
                        }
                    }
                    Self::append(&mut tx, drafts).await?;
                    sqlx::query("UPDATE audit_row_adoption SET pending = 0 WHERE id = 1").execute(&mut *tx).await?;
                    tx.commit().await
                }

                /// Refreshes the planner's statistics of the block keys when the `added` rows are
                /// more than a quarter of what it last counted. The lookups of a matching run
                /// right after its block keys are stored, and a table last analysed empty (the
                /// first import into a new store) has no column statistics: PostgreSQL then
                /// chose plans that took a second a lookup, three quarters of that import
                /// (issue 19). The estimate grows with the table's pages after that, so a few
                /// refreshes while a store fills up are enough.
                async fn analyze_block_keys_if_grown(&self, added: usize) -> Result<()> {
                    let Some((estimate, analyze)) = Self::BLOCK_KEY_STATISTICS else {
                        return Ok(());
                    };
                    let known: f64 = sqlx::query_scalar(estimate).fetch_one(&self.pool).await?;
                    // Never analysed reads -1.
                    if added as f64 > known.max(0.0) / 4.0 {
                        sqlx::query(analyze).execute(&self.pool).await?;
                    }
                    Ok(())
                }

                /// Inserts new records (version 1, each with its history entry) inside the caller's
                /// transaction: `insert_records` and `commit_import`.
                pub(crate) async fn insert_records_in(conn: &mut Conn, records: &[NewRecord], progress: Progress<'_>) -> Result<()> {
                    let mut done = 0usize;
                    for chunk in records.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<Db>::new(
                            "INSERT INTO records (id, party_id, kind, version, content, search_key, sex, birth_year, \
                             external_ref, created_at, created_by, updated_at, updated_by) ",
                        );
                        qb.push_values(chunk, |mut b, n: &NewRecord| {
                            let r = &n.record;
                            b.push_bind(r.id.0)
                                .push_bind(r.party_id.0)
                                .push_bind(r.content.kind.as_str())
                                .push_bind(1_i64)
                                .push_bind(Json(&r.content))
                                .push_bind(n.search_key.as_str())
                                .push_bind(r.content.sex.as_str())
                                .push_bind(r.content.birth_date.map(|d| d.year()))
                                .push_bind(r.content.external_ref.as_deref())
                                .push_bind(ts(r.created_at))
                                .push_bind(r.created_by.0)
                                .push_bind(ts(r.updated_at))
                                .push_bind(r.updated_by.0);
                        });
                        qb.build().execute(&mut *conn).await?;
                        drop(qb);

                        let mut qb = QueryBuilder::<Db>::new(
                            "INSERT INTO record_versions (record_id, version, content, changed_at, changed_by, change) ",
                        );
                        qb.push_values(chunk, |mut b, n: &NewRecord| {
                            let r = &n.record;
                            b.push_bind(r.id.0)
                                .push_bind(1_i64)
                                .push_bind(Json(&r.content))
                                .push_bind(ts(r.created_at))
                                .push_bind(r.created_by.0)
                                .push_bind(n.change);
                        });
                        qb.build().execute(&mut *conn).await?;
                        drop(qb);

                        let before = done;
                        done += chunk.len();
                        if done / 1000 != before / 1000 || done == records.len() {
                            progress(done);
                        }
                    }
                    Ok(())
                }

                /// The candidate duplicate, when it lies within `party` (`None`: any party).
                async fn duplicate_in(conn: &mut Conn, id: DuplicateId, party: Option<uuid::Uuid>) -> Result<Option<DuplicateCandidate>> {
                    sqlx::query_as::<Db, DuplicateRow>(concat!(
                        "SELECT ", duplicate_columns!(), " FROM duplicate_candidates WHERE id = $1 AND ($2 IS NULL OR party_id = $2)"
                    ))
                    .bind(id.0)
                    .bind(party)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(DuplicateCandidate::try_from)
                    .transpose()
                }

                /// Whether `owner` is visible within `scope`: a record within the scope (deleted
                /// ones too, when `deleted` allows them, and of `party` when given), or a case when
                /// cases are in the scope.
                async fn owner_visible(
                    conn: &mut Conn,
                    scope: AttachmentScope,
                    owner: AttachmentOwner,
                    party: Option<PartyId>,
                    deleted: bool,
                ) -> Result<bool> {
                    // EXISTS gives a boolean on both backends (a bare `SELECT 1` is INT4 on one
                    // and INT8 on the other).
                    let found: bool = match owner {
                        AttachmentOwner::Record(id) => {
                            let Some(scoped) = scope_party(scope.records) else { return Ok(false) };
                            sqlx::query_scalar(
                                "SELECT EXISTS (SELECT 1 FROM records WHERE id = $1 AND ($2 IS NULL OR party_id = $2) \
                                 AND ($3 IS NULL OR party_id = $3) AND ($4 OR deleted_at IS NULL))",
                            )
                            .bind(id.0)
                            .bind(scoped)
                            .bind(party.map(|p| p.0))
                            .bind(deleted)
                            .fetch_one(&mut *conn)
                            .await?
                        }
                        AttachmentOwner::Case(id) => {
                            if !scope.cases {
                                return Ok(false);
                            }
                            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)")
                                .bind(id.0)
                                .fetch_one(&mut *conn)
                                .await?
                        }
                    };
                    Ok(found)
                }

                async fn candidate_in(conn: &mut Conn, id: MatchId) -> Result<Option<MatchCandidate>> {
                    sqlx::query_as::<Db, CandidateRow>(concat!(
                        "SELECT ", candidate_columns!(), " FROM match_candidates WHERE id = $1"
                    ))
                    .bind(id.0)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(MatchCandidate::try_from)
                    .transpose()
                }

                /// Why an update of a versioned row of `table` (cases, lists, plans) matched no row:
                /// it is gone, or at another version.
                pub(crate) async fn version_refused(conn: &mut Conn, table: &'static str, id: uuid::Uuid) -> StoreError {
                    let sql = format!("SELECT version FROM {table} WHERE id = $1");
                    let current: Result<Option<i64>, sqlx::Error> =
                        sqlx::query_scalar(&sql).bind(id).fetch_optional(&mut *conn).await;
                    match current {
                        Err(e) => e.into(),
                        Ok(Some(current)) => StoreError::VersionConflict { current },
                        Ok(None) => StoreError::NotFound,
                    }
                }

                /// Why an update matched no row: the record is gone, deleted, or at another version.
                async fn update_refused(conn: &mut Conn, id: RecordId, party: Option<uuid::Uuid>) -> StoreError {
                    let current: Result<Option<(i64, Option<DateTime<Utc>>)>, sqlx::Error> = sqlx::query_as(
                        "SELECT version, deleted_at FROM records WHERE id = $1 AND ($2 IS NULL OR party_id = $2)",
                    )
                    .bind(id.0)
                    .bind(party)
                    .fetch_optional(&mut *conn)
                    .await;
                    match current {
                        Err(e) => e.into(),
                        Ok(None) | Ok(Some((_, Some(_)))) => StoreError::NotFound,
                        // Also when `current == expected`: then a concurrent change came and went
                        // between the UPDATE and this look, and the caller should re-read anyway.
                        Ok(Some((current, None))) => StoreError::VersionConflict { current },
                    }
                }

                /// Stores a new version of a case inside the caller's transaction, keeping it in the
                /// case's history (a case's unit of work, and lists and plans that change cases with them).
                pub(crate) async fn case_update_in(conn: &mut Conn, change: CaseChange<'_>) -> Result<StoredCase> {
                    let c = change.case;
                    let at = ts(change.at);
                    // The version condition makes a concurrent change lose cleanly on PostgreSQL.
                    let row = sqlx::query_as::<Db, CaseRow>(
                        "UPDATE cases SET state = $3, tracing_record_id = $4, custody_record_id = $5, content = $6, \
                         version = version + 1, updated_at = $7, follow_up_due = $8 \
                         WHERE id = $1 AND version = $2 RETURNING content, version, created_at, updated_at, number",
                    )
                    .bind(c.id.0)
                    .bind(change.expected_version)
                    .bind(c.state.as_str())
                    .bind(c.tracing_request.map(|r| r.0))
                    .bind(c.custody_record.map(|r| r.0))
                    .bind(Json(c))
                    .bind(at)
                    .bind(c.next_follow_up_due(change.at).map(|d| d.to_string()))
                    .fetch_optional(&mut *conn)
                    .await?;
                    let Some(row) = row else {
                        return Err(Self::version_refused(conn, "cases", c.id.0).await);
                    };
                    let stored = StoredCase::try_from(row)?;
                    sqlx::query(
                        "INSERT INTO case_versions (case_id, version, content, change, changed_by, changed_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(c.id.0)
                    .bind(stored.version)
                    .bind(Json(c))
                    .bind(change.change)
                    .bind(change.by.0)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                    Ok(stored)
                }

                /// Keeps `transfer_list_cases` in step with a list's entries: the cases still on it
                /// while it is not completed. Its primary key refuses a case on two open lists.
                pub(crate) async fn sync_list_cases(conn: &mut Conn, list: &TransferList) -> Result<()> {
                    sqlx::query("DELETE FROM transfer_list_cases WHERE list_id = $1")
                        .bind(list.id.0)
                        .execute(&mut *conn)
                        .await?;
                    if list.state == ListState::Completed {
                        return Ok(());
                    }
                    for e in list.active_entries() {
                        sqlx::query("INSERT INTO transfer_list_cases (case_id, list_id) VALUES ($1, $2)")
                            .bind(e.case_id.0)
                            .bind(list.id.0)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                }

                pub(crate) async fn list_version_in(
                    conn: &mut Conn,
                    list: &TransferList,
                    version: i64,
                    change: &str,
                    by: UserId,
                    at: DateTime<Utc>,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO transfer_list_versions (list_id, version, content, change, changed_by, changed_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(list.id.0)
                    .bind(version)
                    .bind(Json(list))
                    .bind(change)
                    .bind(by.0)
                    .bind(ts(at))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                }
            }

            #[async_trait]
            impl Store for $store {
                fn backend(&self) -> &'static str {
                    Self::BACKEND
                }

                async fn migrate(&self) -> Result<()> {
                    MIGRATOR.run(&self.pool).await?;
                    self.adopt_rows().await
                }

                async fn close(&self) {
                    self.pool.close().await;
                }

                async fn refresh_statistics(&self) -> Result<()> {
                    if let Some(sql) = Self::REFRESH_STATISTICS {
                        // Names from the catalogue, among the fixed list the query asks about.
                        let stale: Vec<String> = sqlx::query_scalar(sql).fetch_all(&self.pool).await?;
                        if !stale.is_empty() {
                            sqlx::query(&format!("ANALYZE {}", stale.join(", "))).execute(&self.pool).await?;
                        }
                    }
                    Ok(())
                }

                // ---- parties ---------------------------------------------------------------

                async fn create_party(&self, party: &Party, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("INSERT INTO parties (id, name, kind, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(party.id.0)
                        .bind(party.name.as_str())
                        .bind(party.kind.as_str())
                        .bind(ts(party.created_at))
                        .execute(&mut *tx)
                        .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn get_party(&self, id: PartyId) -> Result<Option<Party>> {
                    sqlx::query_as::<Db, PartyRow>("SELECT id, name, kind, created_at FROM parties WHERE id = $1")
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(Party::try_from)
                        .transpose()
                }

                async fn list_parties(&self) -> Result<Vec<Party>> {
                    let rows = sqlx::query_as::<Db, PartyRow>("SELECT id, name, kind, created_at FROM parties ORDER BY name, id")
                        .fetch_all(&self.pool)
                        .await?;
                    convert(rows)
                }

                // ---- users -----------------------------------------------------------------

                async fn create_user(&self, user: &User, password_hash: &str, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO users (id, party_id, username, display_name, roles, password_hash, totp_enabled, disabled, created_at, language) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(user.id.0)
                    .bind(user.party_id.0)
                    .bind(user.username.as_str())
                    .bind(&user.display_name)
                    .bind(roles_text(&user.roles))
                    .bind(password_hash)
                    .bind(user.totp_enabled)
                    .bind(user.disabled)
                    .bind(ts(user.created_at))
                    .bind(user.language.map(Language::code))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn get_user(&self, id: UserId) -> Result<Option<User>> {
                    sqlx::query_as::<Db, UserRow>(concat!("SELECT ", user_columns!(), " FROM users WHERE users.id = $1"))
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(User::try_from)
                        .transpose()
                }

                async fn user_credentials(&self, username: &Username) -> Result<Option<UserCredentials>> {
                    sqlx::query_as::<Db, CredentialsRow>(concat!(
                        "SELECT ", user_columns!(), ", users.password_hash, users.totp_secret FROM users WHERE users.username = $1"
                    ))
                    .bind(username.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map(UserCredentials::try_from)
                    .transpose()
                }

                async fn list_users(&self, party: Option<PartyId>) -> Result<Vec<User>> {
                    let rows = sqlx::query_as::<Db, UserRow>(concat!(
                        "SELECT ", user_columns!(), " FROM users WHERE ($1 IS NULL OR users.party_id = $1) ORDER BY users.username"
                    ))
                    .bind(party.map(|p| p.0))
                    .fetch_all(&self.pool)
                    .await?;
                    convert(rows)
                }

                async fn set_password(&self, user: UserId, password_hash: &str, keep_tokens: bool, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(user.0)
                        .bind(password_hash)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    // Whoever knew the old password may hold a session or have made a token; a
                    // reset must lock them out.
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.0).execute(&mut *tx).await?;
                    if !keep_tokens {
                        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                            .bind(user.0)
                            .bind(ts(Utc::now()))
                            .execute(&mut *tx)
                            .await?;
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query(
                        "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                    )
                    .bind(user.0)
                    .bind(step)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    Ok(changed == 1)
                }

                async fn set_totp(&self, user: UserId, secret: Option<&str>, enabled: bool, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query("UPDATE users SET totp_secret = $2, totp_enabled = $3 WHERE id = $1")
                        .bind(user.0)
                        .bind(secret)
                        .bind(enabled)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn totp_secret(&self, user: UserId) -> Result<Option<String>> {
                    let secret: Option<Option<String>> = sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
                        .bind(user.0)
                        .fetch_optional(&self.pool)
                        .await?;
                    Ok(secret.flatten())
                }

                async fn update_user(&self, user: UserId, roles: &[Role], disabled: bool, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query("UPDATE users SET roles = $2, disabled = $3 WHERE id = $1")
                        .bind(user.0)
                        .bind(roles_text(roles))
                        .bind(disabled)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    if disabled {
                        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.0).execute(&mut *tx).await?;
                        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                            .bind(user.0)
                            .bind(ts(Utc::now()))
                            .execute(&mut *tx)
                            .await?;
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn set_user_language(&self, user: UserId, language: Language, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let changed = sqlx::query("UPDATE users SET language = $2 WHERE id = $1")
                        .bind(user.0)
                        .bind(language.code())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                // ---- login throttling ------------------------------------------------------

                async fn record_login_failure(&self, keys: &[String], at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    for key in keys {
                        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                            .bind(key)
                            .bind(ts(at))
                            .execute(&mut *tx)
                            .await?;
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn count_login_failures(&self, key: &str, since: DateTime<Utc>) -> Result<i64> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
                        .bind(key)
                        .bind(ts(since))
                        .fetch_one(&self.pool)
                        .await?)
                }

                async fn clear_login_failures(&self, key: &str, expired_before: DateTime<Utc>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("DELETE FROM login_failures WHERE key = $1 OR at < $2")
                        .bind(key)
                        .bind(ts(expired_before))
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }

                // ---- sessions --------------------------------------------------------------

                async fn create_session(&self, session: &SessionRow, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // Expired sessions are useless; dropping them here keeps the table small without a job.
                    sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR absolute_expires_at < $1")
                        .bind(ts(session.created_at))
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, absolute_expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&session.token_hash)
                    .bind(session.user_id.0)
                    .bind(&session.csrf_token)
                    .bind(ts(session.created_at))
                    .bind(ts(session.expires_at))
                    .bind(ts(session.absolute_expires_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(SessionRow, User)>> {
                    sqlx::query_as::<Db, SessionUserRow>(concat!(
                        "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at AS session_created_at, s.expires_at, \
                         s.absolute_expires_at, ", user_columns!(), " \
                         FROM sessions s JOIN users ON users.id = s.user_id \
                         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.absolute_expires_at > $2 AND users.disabled = FALSE"
                    ))
                    .bind(token_hash)
                    .bind(ts(now))
                    .fetch_optional(&self.pool)
                    .await?
                    .map(<(SessionRow, User)>::try_from)
                    .transpose()
                }

                async fn touch_session(&self, token_hash: &str, expires_at: DateTime<Utc>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("UPDATE sessions SET expires_at = $2 WHERE token_hash = $1")
                        .bind(token_hash)
                        .bind(ts(expires_at))
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }

                async fn delete_session(&self, token_hash: &str, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                // ---- API tokens ------------------------------------------------------------

                async fn create_token(&self, token: &ApiToken, token_hash: &str, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, last_used_at, revoked_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(token.id.0)
                    .bind(token.user_id.0)
                    .bind(&token.name)
                    .bind(token_hash)
                    .bind(ts(token.created_at))
                    .bind(opt_ts(token.expires_at))
                    .bind(opt_ts(token.last_used_at))
                    .bind(opt_ts(token.revoked_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn token_by_hash(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(ApiToken, User)>> {
                    let now = ts(now);
                    // Look first without the write lock, so that requests with unknown or dead
                    // tokens cannot queue up behind writers.
                    let found = sqlx::query_as::<Db, TokenUserRow>(concat!(
                        "SELECT api_tokens.id AS token_id, api_tokens.name AS token_name, api_tokens.created_at AS token_created_at, \
                         api_tokens.expires_at, api_tokens.last_used_at, api_tokens.revoked_at, ", user_columns!(), " \
                         FROM api_tokens JOIN users ON users.id = api_tokens.user_id \
                         WHERE api_tokens.token_hash = $1 AND api_tokens.revoked_at IS NULL \
                         AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > $2) AND users.disabled = FALSE"
                    ))
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = found else { return Ok(None) };
                    let (mut token, user) = <(ApiToken, User)>::try_from(row)?;
                    // The last use is kept to the minute: a write per request would queue every
                    // request behind the writer. The look-up above checked revocation already.
                    if token.last_used_at.is_some_and(|t| now - t < chrono::Duration::minutes(1)) {
                        return Ok(Some((token, user)));
                    }
                    let mut tx = self.begin_write().await?;
                    // Revocation (or disabling) may have committed since the look-up.
                    let used = sqlx::query(
                        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND revoked_at IS NULL \
                         AND EXISTS (SELECT 1 FROM users WHERE users.id = api_tokens.user_id AND users.disabled = FALSE)",
                    )
                    .bind(token.id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    if used == 0 {
                        return Ok(None);
                    }
                    token.last_used_at = Some(now);
                    Ok(Some((token, user)))
                }

                async fn get_token(&self, id: TokenId) -> Result<Option<ApiToken>> {
                    Ok(sqlx::query_as::<Db, TokenRow>(concat!("SELECT ", token_columns!(), " FROM api_tokens WHERE api_tokens.id = $1"))
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?
                        .map(ApiToken::from))
                }

                async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
                    let rows = sqlx::query_as::<Db, TokenRow>(concat!(
                        "SELECT ", token_columns!(), " FROM api_tokens WHERE api_tokens.user_id = $1 ORDER BY api_tokens.created_at, api_tokens.id"
                    ))
                    .bind(user.0)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(ApiToken::from).collect())
                }

                async fn revoke_token(&self, id: TokenId, at: DateTime<Utc>, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // COALESCE keeps the first revocation time when revoked twice.
                    let found = sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
                        .bind(id.0)
                        .bind(ts(at))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if found == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                // ---- child records ---------------------------------------------------------

                async fn insert_records(&self, records: &[NewRecord], audit: Vec<AuditDraft>, progress: Progress<'_>) -> Result<()> {
                    let mut audit = audit;
                    crate::rowhash::attach_new_records(&mut audit, records)?;
                    // The matching these records are owed, promised in the same transaction.
                    let job = match (records.first(), audit.last()) {
                        (Some(first), Some(asking)) => {
                            let key = crate::jobs::match_key_of_records(first.record.id, records.len());
                            let ids = records.iter().map(|r| r.record.id).collect();
                            Some(crate::jobs::match_job(ids, asking, None, key)?)
                        }
                        _ => None,
                    };
                    // A filing of a few records shares its commit with the filings queued
                    // beside it, and still fails alone (see `group_commit`); a large one (an
                    // import's worth) has its transaction to itself.
                    if records.len() <= crate::group_commit::GROUPED_FILING {
                        let filing = crate::group_commit::Filing { records: records.to_vec(), job, audit };
                        self.filings.submit(self, filing).await?;
                        progress(records.len());
                        return Ok(());
                    }
                    let mut tx = self.begin_write().await?;
                    Self::insert_records_in(&mut tx, records, progress).await?;
                    if let Some(job) = &job {
                        Self::enqueue_in(&mut tx, job).await?;
                    }
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await
                }

                async fn get_record_audited(&self, scope: Scope, id: RecordId, audit: Vec<AuditDraft>) -> Result<Option<ChildRecord>> {
                    let Some(party) = scope_party(scope) else { return Ok(None) };
                    // Read beside the writer; the entry joins the next group commit, and the
                    // record is returned only once that commit succeeded.
                    let row = sqlx::query_as::<Db, RecordRow>(concat!(
                        "SELECT ", record_columns!(), " FROM records WHERE id = $1 AND ($2 IS NULL OR party_id = $2)"
                    ))
                    .bind(id.0)
                    .bind(party)
                    .fetch_optional(&self.pool)
                    .await?;
                    // Nothing was read, so there is nothing to audit.
                    let Some(row) = row else { return Ok(None) };
                    // Inside a page view the caller appends one entry for the whole view and
                    // hands none here.
                    for draft in audit {
                        self.audit_group.submit(self, draft).await?;
                    }
                    Ok(Some(row.into()))
                }

                async fn list_records(&self, scope: Scope, filter: &RecordFilter, audit: AuditDraft) -> Result<Vec<ChildRecord>> {
                    let Some(party) = scope_party(scope) else { return Ok(Vec::new()) };
                    // As `get_record`: one snapshot read, then the entry's group commit.
                    let mut qb = record_list_query::<Db>(party, filter);
                    let rows: Vec<RecordRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                    drop(qb);
                    let records: Vec<ChildRecord> = rows.into_iter().map(ChildRecord::from).collect();
                    let mut audit = audit;
                    audit.details = with_record_ids(audit.details, records.iter().map(|r| r.id.to_string()).collect());
                    self.audit_group.submit(self, audit).await?;
                    Ok(records)
                }

                async fn update_record(&self, scope: Scope, change: RecordChange<'_>, audit: AuditDraft) -> Result<ChildRecord> {
                    let Some(party) = scope_party(scope) else { return Err(StoreError::NotFound) };
                    let mut tx = self.begin_write().await?;
                    let c = change.content;
                    // The version condition makes a concurrent change lose cleanly on PostgreSQL,
                    // where the row may change between this transaction's start and the UPDATE.
                    let row = sqlx::query_as::<Db, RecordRow>(concat!(
                        "UPDATE records SET kind = $4, content = $5, search_key = $6, sex = $7, birth_year = $8, \
                         external_ref = $9, version = version + 1, updated_at = $10, updated_by = $11 \
                         WHERE id = $1 AND ($2 IS NULL OR party_id = $2) AND version = $3 AND deleted_at IS NULL \
                         RETURNING ", record_columns!()
                    ))
                    .bind(change.id.0)
                    .bind(party)
                    .bind(change.expected_version)
                    .bind(c.kind.as_str())
                    .bind(Json(c))
                    .bind(change.search_key)
                    .bind(c.sex.as_str())
                    .bind(c.birth_date.map(|d| d.year()))
                    .bind(c.external_ref.as_deref())
                    .bind(ts(change.at))
                    .bind(change.by.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else {
                        return Err(Self::update_refused(&mut tx, change.id, party).await);
                    };
                    sqlx::query(
                        "INSERT INTO record_versions (record_id, version, content, changed_at, changed_by, change) \
                         SELECT id, version, content, updated_at, updated_by, 'update' FROM records WHERE id = $1",
                    )
                    .bind(change.id.0)
                    .execute(&mut *tx)
                    .await?;
                    let key = crate::jobs::match_key_of_record(change.id, row.version);
                    Self::enqueue_in(&mut tx, &crate::jobs::match_job(vec![change.id], &audit, None, key)?).await?;
                    let written = [RowRef::record(change.id.0), RowRef::record_version(change.id.0, row.version)];
                    Self::append_written(&mut tx, vec![audit], &written).await?;
                    tx.commit().await?;
                    Ok(row.into())
                }

                async fn delete_record(&self, scope: Scope, deletion: RecordDeletion<'_>, audit: AuditDraft) -> Result<ChildRecord> {
                    let Some(party) = scope_party(scope) else { return Err(StoreError::NotFound) };
                    let mut tx = self.begin_write().await?;
                    // A deletion is a version of its own, so the history shows who deleted and why.
                    let row = sqlx::query_as::<Db, RecordRow>(concat!(
                        "UPDATE records SET deleted_at = $3, deleted_by = $4, deletion_reason = $5, version = version + 1, \
                         updated_at = $3, updated_by = $4 \
                         WHERE id = $1 AND ($2 IS NULL OR party_id = $2) AND deleted_at IS NULL \
                         RETURNING ", record_columns!()
                    ))
                    .bind(deletion.id.0)
                    .bind(party)
                    .bind(ts(deletion.at))
                    .bind(deletion.by.0)
                    .bind(deletion.reason)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Err(StoreError::NotFound) };
                    sqlx::query(
                        "INSERT INTO record_versions (record_id, version, content, changed_at, changed_by, change, reason) \
                         SELECT id, version, content, deleted_at, deleted_by, 'delete', deletion_reason FROM records WHERE id = $1",
                    )
                    .bind(deletion.id.0)
                    .execute(&mut *tx)
                    .await?;
                    let written = [RowRef::record(deletion.id.0), RowRef::record_version(deletion.id.0, row.version)];
                    Self::append_written(&mut tx, vec![audit], &written).await?;
                    tx.commit().await?;
                    Ok(row.into())
                }

                async fn record_history(&self, scope: Scope, id: RecordId, audit: AuditDraft) -> Result<Option<Vec<RecordVersion>>> {
                    let Some(party) = scope_party(scope) else { return Ok(None) };
                    let mut tx = self.begin_write().await?;
                    let visible: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM records WHERE id = $1 AND ($2 IS NULL OR party_id = $2)")
                            .bind(id.0)
                            .bind(party)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if visible.is_none() {
                        return Ok(None);
                    }
                    let rows = sqlx::query_as::<Db, VersionRow>(
                        "SELECT record_id, version, content, changed_at, changed_by, change, merged_record FROM record_versions \
                         WHERE record_id = $1 ORDER BY version",
                    )
                    .bind(id.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(rows.into_iter().map(RecordVersion::from).collect()))
                }

                // ---- matching --------------------------------------------------------------

                async fn put_search_keys(&self, keys: &[(RecordId, String)]) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    for (id, key) in keys {
                        sqlx::query("UPDATE records SET search_key = $1 WHERE id = $2")
                            .bind(key.as_str())
                            .bind(id.0)
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await
                }

                async fn derived_keys_version(&self) -> Result<Option<String>> {
                    Ok(sqlx::query_scalar("SELECT version FROM derived_keys WHERE id = 1")
                        .fetch_optional(&self.pool)
                        .await?)
                }

                async fn set_derived_keys_version(&self, version: &str) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO derived_keys (id, version) VALUES (1, $1) \
                         ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                    )
                    .bind(version)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn put_block_keys(&self, keys: &[(RecordId, RecordKind, Vec<String>)]) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    for chunk in keys.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<Db>::new("DELETE FROM record_block_keys WHERE record_id IN (");
                        let mut sep = qb.separated(", ");
                        for (id, _, _) in chunk {
                            sep.push_bind(id.0);
                        }
                        qb.push(")");
                        qb.build().execute(&mut *tx).await?;
                        drop(qb);
                        let rows: Vec<(uuid::Uuid, &str, &str)> = chunk
                            .iter()
                            .flat_map(|(id, kind, ks)| {
                                let mut ks: Vec<&str> = ks.iter().map(String::as_str).collect();
                                ks.sort_unstable();
                                ks.dedup();
                                ks.into_iter().map(move |k| (id.0, kind.as_str(), k))
                            })
                            .collect();
                        for part in rows.chunks(BULK_ROWS) {
                            let mut qb = QueryBuilder::<Db>::new("INSERT INTO record_block_keys (record_id, kind, key) ");
                            qb.push_values(part, |mut b, (id, kind, k)| {
                                b.push_bind(*id).push_bind(*kind).push_bind(*k);
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                    }
                    tx.commit().await?;
                    let added = keys.iter().map(|(_, _, ks)| ks.len()).sum();
                    self.analyze_block_keys_if_grown(added).await
                }

                async fn block_keys(&self, record: RecordId) -> Result<Vec<String>> {
                    Ok(sqlx::query_scalar("SELECT key FROM record_block_keys WHERE record_id = $1 ORDER BY key")
                        .bind(record.0)
                        .fetch_all(&self.pool)
                        .await?)
                }

                async fn blocked_records(&self, kind: RecordKind, keys: &[String], limit: u32) -> Result<Vec<(String, RecordId)>> {
                    let mut out = Vec::new();
                    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
                    for chunk in keys.chunks(BULK_ROWS) {
                        if out.len() >= cap {
                            break;
                        }
                        let mut qb = QueryBuilder::<Db>::new(
                            "SELECT k.key, k.record_id FROM record_block_keys k JOIN records r ON r.id = k.record_id \
                             WHERE r.deleted_at IS NULL AND k.kind = ",
                        );
                        qb.push_bind(kind.as_str()).push(" AND k.key IN (");
                        let mut sep = qb.separated(", ");
                        for k in chunk {
                            sep.push_bind(k.as_str());
                        }
                        qb.push(") ORDER BY k.key, k.record_id LIMIT ")
                            .push_bind(i64::try_from(cap - out.len()).unwrap_or(i64::MAX));
                        let rows: Vec<(String, uuid::Uuid)> = qb.build_query_as().fetch_all(&self.pool).await?;
                        out.extend(rows.into_iter().map(|(k, id)| (k, RecordId::from(id))));
                    }
                    Ok(out)
                }

                async fn records_for_linkage(&self, ids: &[RecordId]) -> Result<Vec<ChildRecord>> {
                    let mut out = Vec::with_capacity(ids.len());
                    for chunk in ids.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<Db>::new(concat!(
                            "SELECT ", record_columns!(), " FROM records WHERE deleted_at IS NULL AND id IN ("
                        ));
                        let mut sep = qb.separated(", ");
                        for id in chunk {
                            sep.push_bind(id.0);
                        }
                        qb.push(") ORDER BY id");
                        let rows: Vec<RecordRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                        out.extend(rows.into_iter().map(ChildRecord::from));
                    }
                    Ok(out)
                }

                async fn records_of_kind(&self, kind: RecordKind, after: Option<RecordId>, limit: u32) -> Result<Vec<ChildRecord>> {
                    let rows = sqlx::query_as::<Db, RecordRow>(concat!(
                        "SELECT ", record_columns!(), " FROM records WHERE deleted_at IS NULL AND kind = $1 \
                         AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
                    ))
                    .bind(kind.as_str())
                    .bind(after.map(|a| a.0))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(ChildRecord::from).collect())
                }

                async fn insert_candidates(&self, candidates: &[NewCandidate], audit: CandidateAudit<'_>) -> Result<Vec<MatchId>> {
                    let mut tx = self.begin_write().await?;
                    let mut stored = Vec::new();
                    // Many rows a statement (an import's matching stores tens of thousands); which
                    // pairs were new, and so get an audit entry, is what the insert returns.
                    for chunk in candidates.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<Db>::new(
                            "INSERT INTO match_candidates (id, tracing_record_id, custody_record_id, probability, match_weight, \
                             explanation, model_version, status, created_at) ",
                        );
                        qb.push_values(chunk, |mut b, c: &NewCandidate| {
                            b.push_bind(c.id.0)
                                .push_bind(c.tracing_record_id.0)
                                .push_bind(c.custody_record_id.0)
                                .push_bind(c.probability)
                                .push_bind(c.match_weight)
                                .push_bind(c.explanation.as_str())
                                .push_bind(c.model_version.as_str())
                                .push("'pending'")
                                .push_bind(ts(c.created_at));
                        });
                        qb.push(" ON CONFLICT (tracing_record_id, custody_record_id) DO NOTHING RETURNING id");
                        let ids: Vec<uuid::Uuid> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                        let new: std::collections::HashSet<uuid::Uuid> = ids.into_iter().collect();
                        stored.extend(chunk.iter().filter(|c| new.contains(&c.id.0)).cloned());
                    }
                    if !stored.is_empty() {
                        Self::append(&mut tx, vec![audit(&stored)]).await?;
                    }
                    tx.commit().await?;
                    Ok(stored.iter().map(|c| c.id).collect())
                }

                async fn pending_pairs(&self, records: &[RecordId]) -> Result<Vec<(RecordId, RecordId)>> {
                    let mut out = Vec::new();
                    for chunk in records.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<Db>::new(
                            "SELECT tracing_record_id, custody_record_id FROM match_candidates WHERE status = 'pending' AND (tracing_record_id IN (",
                        );
                        let mut sep = qb.separated(", ");
                        for id in chunk {
                            sep.push_bind(id.0);
                        }
                        qb.push(") OR custody_record_id IN (");
                        let mut sep = qb.separated(", ");
                        for id in chunk {
                            sep.push_bind(id.0);
                        }
                        qb.push(")) ORDER BY tracing_record_id, custody_record_id");
                        let rows: Vec<(uuid::Uuid, uuid::Uuid)> = qb.build_query_as().fetch_all(&self.pool).await?;
                        out.extend(rows.into_iter().map(|(t, c)| (RecordId(t), RecordId(c))));
                    }
                    out.sort();
                    out.dedup();
                    Ok(out)
                }

                async fn rescore_candidates(&self, candidates: &[NewCandidate], audit: CandidateAudit<'_>) -> Result<Vec<MatchId>> {
                    let mut tx = self.begin_write().await?;
                    let mut changed = Vec::new();
                    let mut stored = Vec::new();
                    for c in candidates {
                        let id: Option<uuid::Uuid> = sqlx::query_scalar(
                            "UPDATE match_candidates SET probability = $3, match_weight = $4, explanation = $5, model_version = $6, \
                             decided_by = NULL, decided_at = NULL, reason = NULL \
                             WHERE tracing_record_id = $1 AND custody_record_id = $2 AND status = 'pending' RETURNING id",
                        )
                        .bind(c.tracing_record_id.0)
                        .bind(c.custody_record_id.0)
                        .bind(c.probability)
                        .bind(c.match_weight)
                        .bind(c.explanation.as_str())
                        .bind(c.model_version.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some(id) = id {
                            changed.push(MatchId(id));
                            // The audit names the stored candidate, not the draft's fresh id.
                            stored.push(NewCandidate { id: MatchId(id), ..c.clone() });
                        }
                    }
                    if !stored.is_empty() {
                        Self::append(&mut tx, vec![audit(&stored)]).await?;
                    }
                    tx.commit().await?;
                    Ok(changed)
                }

                async fn review_queue_audited(&self, f: &QueueFilter, audit: Vec<AuditDraft>) -> Result<Vec<MatchCandidate>> {
                    let mut tx = self.begin_write().await?;
                    let mut qb = QueryBuilder::<Db>::new(concat!(
                        "SELECT ", candidate_columns!(), " FROM match_candidates m WHERE status = 'pending' \
                         AND NOT EXISTS (SELECT 1 FROM records r WHERE r.deleted_at IS NOT NULL \
                         AND (r.id = m.tracing_record_id OR r.id = m.custody_record_id)) AND probability >= "
                    ));
                    qb.push_bind(f.min_probability)
                        .push(" AND probability <= ")
                        .push_bind(f.max_probability);
                    crate::backend::probability_page(&mut qb, f.after.map(|(p, id)| (p, id.0)), f.before, f.limit);
                    let rows: Vec<CandidateRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let items: Vec<MatchCandidate> = convert(rows)?;
                    let ids: Vec<String> = items.iter().map(|c| c.id.to_string()).collect();
                    let audit = audit.into_iter().map(|a| AuditDraft { details: with_ids(a.details.clone(), "match_ids", ids.clone()), ..a }).collect();
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(items)
                }

                async fn review_queue_count(&self, min_probability: f64, max_probability: f64, cap: u64) -> Result<u64> {
                    // Counting stops at `cap`: a whole count reads every pending pair in the band
                    // (about a second at 100,000 records), and past a few thousand the number only
                    // says "many". The deleted records' pairs come from a partial index, once: written
                    // as `IN (deleted records)` so that SQLite drives from that index and looks the
                    // pairs up by record, rather than scanning every pair for a deleted record.
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM (SELECT m.id FROM match_candidates m WHERE m.status = 'pending' \
                         AND m.probability >= $1 AND m.probability <= $2 AND m.id NOT IN ( \
                         SELECT c.id FROM match_candidates c WHERE c.tracing_record_id IN ( \
                         SELECT r.id FROM records r WHERE r.deleted_at IS NOT NULL) UNION ALL \
                         SELECT c.id FROM match_candidates c WHERE c.custody_record_id IN ( \
                         SELECT r.id FROM records r WHERE r.deleted_at IS NOT NULL)) LIMIT $3) AS counted",
                    )
                    .bind(min_probability)
                    .bind(max_probability)
                    .bind(i64::try_from(cap).unwrap_or(i64::MAX))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn get_candidate_audited(&self, id: MatchId, audit: Vec<AuditDraft>) -> Result<Option<MatchCandidate>> {
                    let mut tx = self.begin_write().await?;
                    let Some(c) = Self::candidate_in(&mut tx, id).await? else { return Ok(None) };
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(Some(c))
                }

                async fn decide_candidate(
                    &self,
                    d: CandidateDecision<'_>,
                    audit: Vec<AuditDraft>,
                    case_audit: Option<AuditDraft>,
                ) -> Result<DecisionOutcome> {
                    let mut tx = self.begin_write().await?;
                    let Some(current) = Self::candidate_in(&mut tx, d.id).await? else {
                        return Err(StoreError::NotFound);
                    };
                    let decided = || StoreError::Conflict(crate::Conflict::CandidateDecided);
                    if current.status != CandidateStatus::Pending {
                        return Err(decided());
                    }
                    let at = ts(d.at);
                    // Each UPDATE repeats the state it was decided on, so a concurrent decision on
                    // PostgreSQL makes this one match no row instead of overwriting it.
                    let (sql, reason, new_case): (&str, Option<&str>, Option<&homeward_domain::Case>) = match &d.decision {
                        Decision::Reject { reason } if current.decided_by.is_none() => (
                            "UPDATE match_candidates SET status = 'rejected', decided_by = $2, decided_at = $3, reason = $4 \
                             WHERE id = $1 AND status = 'pending' AND decided_by IS NULL",
                            Some(*reason),
                            None,
                        ),
                        // A second reviewer disagreeing with the first confirmation.
                        Decision::Reject { reason } => (
                            "UPDATE match_candidates SET status = 'rejected', second_reviewer = $2, second_decided_at = $3, reason = $4 \
                             WHERE id = $1 AND status = 'pending' AND decided_by IS NOT NULL",
                            Some(*reason),
                            None,
                        ),
                        Decision::FirstConfirmation { reason } => {
                            if current.decided_by.is_some() {
                                return Err(decided());
                            }
                            (
                                "UPDATE match_candidates SET decided_by = $2, decided_at = $3, reason = $4 \
                                 WHERE id = $1 AND status = 'pending' AND decided_by IS NULL",
                                *reason,
                                None,
                            )
                        }
                        Decision::Confirm { reason, second_of_two: false, new_case } => {
                            if current.decided_by.is_some() {
                                return Err(decided());
                            }
                            (
                                "UPDATE match_candidates SET status = 'confirmed', decided_by = $2, decided_at = $3, reason = $4 \
                                 WHERE id = $1 AND status = 'pending' AND decided_by IS NULL",
                                *reason,
                                Some(*new_case),
                            )
                        }
                        Decision::Confirm { reason, second_of_two: true, new_case } => {
                            match current.decided_by {
                                None => return Err(decided()),
                                Some(first) if first == d.by => {
                                    return Err(StoreError::Conflict(crate::Conflict::SameReviewer))
                                }
                                Some(_) => {}
                            }
                            (
                                "UPDATE match_candidates SET status = 'confirmed', second_reviewer = $2, second_decided_at = $3, \
                                 reason = COALESCE($4, reason) \
                                 WHERE id = $1 AND status = 'pending' AND decided_by IS NOT NULL AND decided_by <> $2",
                                *reason,
                                Some(*new_case),
                            )
                        }
                    };
                    let n = sqlx::query(sql)
                        .bind(d.id.0)
                        .bind(d.by.0)
                        .bind(at)
                        .bind(reason)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Err(decided());
                    }
                    let mut case = None;
                    let mut case_created = false;
                    let mut drafts = audit;
                    let mut written = Vec::new();
                    if let Some(new_case) = new_case {
                        // Two confirmations sharing a record must not both find no case and open
                        // two: lock both records' rows until commit (SQLite is serialised anyway).
                        sqlx::query(Self::LOCK_PAIR)
                            .bind(current.tracing_record_id.0)
                            .bind(current.custody_record_id.0)
                            .fetch_all(&mut *tx)
                            .await?;
                        // Either record already in a case: this match joins it rather than
                        // splitting one child's story over two cases.
                        let existing = sqlx::query_as::<Db, CaseRow>(
                            "SELECT content, version, created_at, updated_at, number FROM cases \
                             WHERE tracing_record_id = $1 OR custody_record_id = $2 ORDER BY created_at, id LIMIT 1",
                        )
                        .bind(current.tracing_record_id.0)
                        .bind(current.custody_record_id.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let stored = match existing {
                            Some(row) => StoredCase::try_from(row)?,
                            None => {
                                // The case's number, from the year's counter, in this transaction.
                                let year = chrono::Datelike::year(&at);
                                let seq = Self::reserve_case_numbers_in(&mut tx, year, 1).await?;
                                let number = crate::case_search::number_of(year, seq)?;
                                sqlx::query(
                                    "INSERT INTO cases (id, tracing_record_id, custody_record_id, state, content, version, created_at, updated_at, number) \
                                     VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7)",
                                )
                                .bind(new_case.id.0)
                                .bind(new_case.tracing_request.map(|r| r.0))
                                .bind(new_case.custody_record.map(|r| r.0))
                                .bind(new_case.state.as_str())
                                .bind(Json(new_case))
                                .bind(at)
                                .bind(number.to_string())
                                .execute(&mut *tx)
                                .await?;
                                sqlx::query(
                                    "INSERT INTO case_versions (case_id, version, content, change, changed_by, changed_at) \
                                     VALUES ($1, 1, $2, 'create', $3, $4)",
                                )
                                .bind(new_case.id.0)
                                .bind(Json(new_case))
                                .bind(d.by.0)
                                .bind(at)
                                .execute(&mut *tx)
                                .await?;
                                case_created = true;
                                written.extend([RowRef::case(new_case.id.0), RowRef::case_version(new_case.id.0, 1)]);
                                StoredCase { case: new_case.clone(), number, version: 1, created_at: at, updated_at: at }
                            }
                        };
                        sqlx::query("UPDATE match_candidates SET case_id = $2 WHERE id = $1")
                            .bind(d.id.0)
                            .bind(stored.case.id.0)
                            .execute(&mut *tx)
                            .await?;
                        if let Some(ca) = case_audit {
                            let details = match ca.details.clone() {
                                serde_json::Value::Object(mut m) => {
                                    m.insert("created".to_owned(), case_created.into());
                                    serde_json::Value::Object(m)
                                }
                                other => serde_json::json!({ "details": other, "created": case_created }),
                            };
                            let mut ca = ca.target("case", stored.case.id).details(details);
                            if !case_created {
                                ca.action = homeward_domain::AuditAction::CaseJoin;
                            }
                            drafts.push(ca);
                        }
                        case = Some(stored);
                    }
                    Self::append_written(&mut tx, drafts, &written).await?;
                    let candidate = Self::candidate_in(&mut tx, d.id).await?.ok_or(StoreError::NotFound)?;
                    tx.commit().await?;
                    Ok(DecisionOutcome { candidate, case, case_created })
                }

                async fn get_case_audited(&self, id: CaseId, audit: Vec<AuditDraft>) -> Result<Option<StoredCase>> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, CaseRow>(
                        "SELECT content, version, created_at, updated_at, number FROM cases WHERE id = $1",
                    )
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(Some(StoredCase::try_from(row)?))
                }

                // ---- cases, disclosures, tasks --------------------------------------------

                async fn list_cases_audited(&self, filter: &CaseFilter, audit: Vec<AuditDraft>) -> Result<Vec<StoredCase>> {
                    let mut tx = self.begin_write().await?;
                    let mut qb = QueryBuilder::<Db>::new("SELECT content, version, created_at, updated_at, number FROM cases WHERE 1 = 1");
                    if let Some(st) = filter.state {
                        qb.push(" AND state = ").push_bind(st.as_str());
                    }
                    if let Some(r) = filter.record {
                        qb.push(" AND (tracing_record_id = ").push_bind(r.0);
                        qb.push(" OR custody_record_id = ").push_bind(r.0).push(")");
                    }
                    if let Some(d) = filter.follow_up_due_before {
                        qb.push(" AND follow_up_due < ").push_bind(d.to_string());
                    }
                    if let Some(n) = filter.number {
                        qb.push(" AND number = ").push_bind(n.to_string());
                    }
                    if let Some(after) = filter.after {
                        qb.push(" AND id > ").push_bind(after.0);
                    }
                    qb.push(" ORDER BY id LIMIT ").push_bind(page_limit(filter.limit, 50, 500));
                    let rows: Vec<CaseRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let cases: Vec<StoredCase> = rows.into_iter().map(StoredCase::try_from).collect::<Result<_>>()?;
                    let ids: Vec<String> = cases.iter().map(|c| c.case.id.to_string()).collect();
                    let audit = audit
                        .into_iter()
                        .map(|a| AuditDraft { details: with_ids(a.details.clone(), "case_ids", ids.clone()), ..a })
                        .collect();
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(cases)
                }

                async fn count_cases_by_state_audited(&self, audit: Vec<AuditDraft>) -> Result<Vec<(homeward_domain::CaseState, i64)>> {
                    let mut tx = self.begin_write().await?;
                    let rows: Vec<(String, i64)> =
                        sqlx::query_as("SELECT state, COUNT(*) FROM cases GROUP BY state ORDER BY state")
                            .fetch_all(&mut *tx)
                            .await?;
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    rows.into_iter()
                        .map(|(state, n)| {
                            state
                                .parse::<homeward_domain::CaseState>()
                                .map(|st| (st, n))
                                .map_err(|_| StoreError::Corrupt(format!("case state {state:?}")))
                        })
                        .collect()
                }

                async fn case_history_audited(&self, id: CaseId, audit: Vec<AuditDraft>) -> Result<Option<Vec<CaseVersion>>> {
                    let mut tx = self.begin_write().await?;
                    let exists: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
                        .bind(id.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if exists.is_none() {
                        return Ok(None);
                    }
                    let rows = sqlx::query_as::<Db, CaseVersionRow>(
                        "SELECT version, content, change, changed_by, changed_at FROM case_versions \
                         WHERE case_id = $1 ORDER BY version",
                    )
                    .bind(id.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(Some(rows.into_iter().map(CaseVersion::from).collect()))
                }

                async fn insert_disclosure(&self, d: &Disclosure, case_version: i64, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // Read under the write lock (SQLite) or a row lock (PostgreSQL), so a consent
                    // withdrawn by a concurrent change cannot slip between the check and the insert.
                    let current: Option<i64> = sqlx::query_scalar(Self::LOCK_CASE)
                        .bind(d.case_id.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                    match current {
                        None => return Err(StoreError::NotFound),
                        Some(v) if v != case_version => return Err(StoreError::VersionConflict { current: v }),
                        Some(_) => {}
                    }
                    let party: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM parties WHERE id = $1")
                        .bind(d.to_party.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if party.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query("INSERT INTO disclosures (id, case_id, to_party, content, disclosed_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(d.id.0)
                        .bind(d.case_id.0)
                        .bind(d.to_party.0)
                        .bind(Json(d))
                        .bind(ts(d.disclosed_at))
                        .execute(&mut *tx)
                        .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn list_disclosures_audited(&self, filter: DisclosureFilter, audit: Vec<AuditDraft>) -> Result<Vec<Disclosure>> {
                    let mut tx = self.begin_write().await?;
                    let mut qb = QueryBuilder::<Db>::new("SELECT content FROM disclosures WHERE 1 = 1");
                    if let Some(c) = filter.case {
                        qb.push(" AND case_id = ").push_bind(c.0);
                    }
                    if let Some(p) = filter.to_party {
                        qb.push(" AND to_party = ").push_bind(p.0);
                    }
                    qb.push(" ORDER BY disclosed_at, id");
                    let rows: Vec<(Json<Disclosure>,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let out: Vec<Disclosure> = rows.into_iter().map(|(d,)| d.0).collect();
                    let ids: Vec<String> = out.iter().map(|d| d.id.to_string()).collect();
                    let audit = audit.into_iter().map(|a| AuditDraft { details: with_ids(a.details.clone(), "disclosure_ids", ids.clone()), ..a }).collect();
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(out)
                }

                async fn insert_task(&self, task: &Task, audit: AuditDraft) -> Result<StoredTask> {
                    let mut tx = self.begin_write().await?;
                    let case: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE id = $1")
                        .bind(task.case_id.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let party: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM parties WHERE id = $1")
                        .bind(task.party.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if case.is_none() || party.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    let at = ts(task.assigned_at);
                    let row = sqlx::query_as::<Db, TaskRow>(
                        "INSERT INTO tasks (id, case_id, party_id, status, due, content, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING content, version, created_at, updated_at",
                    )
                    .bind(task.id.0)
                    .bind(task.case_id.0)
                    .bind(task.party.0)
                    .bind(task.status.as_str())
                    .bind(task.due.to_string())
                    .bind(Json(task))
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(row.into())
                }

                async fn get_task(&self, id: TaskId, party: Option<PartyId>, audit: AuditDraft) -> Result<Option<StoredTask>> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, TaskRow>(
                        "SELECT content, version, created_at, updated_at FROM tasks WHERE id = $1 AND ($2 IS NULL OR party_id = $2)",
                    )
                    .bind(id.0)
                    .bind(party.map(|p| p.0))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(row.into()))
                }

                async fn list_tasks_audited(&self, filter: &TaskFilter, audit: Vec<AuditDraft>) -> Result<Vec<StoredTask>> {
                    let mut tx = self.begin_write().await?;
                    let mut qb = QueryBuilder::<Db>::new("SELECT content, version, created_at, updated_at FROM tasks WHERE 1 = 1");
                    if let Some(p) = filter.party {
                        qb.push(" AND party_id = ").push_bind(p.0);
                    }
                    if let Some(c) = filter.case {
                        qb.push(" AND case_id = ").push_bind(c.0);
                    }
                    if let Some(st) = filter.status {
                        qb.push(" AND status = ").push_bind(st.as_str());
                    }
                    if let Some(d) = filter.due_before {
                        qb.push(" AND due < ").push_bind(d.to_string());
                    }
                    qb.push(" ORDER BY due, id LIMIT ").push_bind(page_limit(filter.limit, 100, 1000));
                    let rows: Vec<TaskRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let out: Vec<StoredTask> = rows.into_iter().map(StoredTask::from).collect();
                    let ids: Vec<String> = out.iter().map(|t| t.task.id.to_string()).collect();
                    let audit = audit.into_iter().map(|a| AuditDraft { details: with_ids(a.details.clone(), "task_ids", ids.clone()), ..a }).collect();
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(out)
                }

                async fn update_task(&self, task: &Task, expected_version: i64, party: Option<PartyId>, audit: AuditDraft) -> Result<StoredTask> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, TaskRow>(
                        "UPDATE tasks SET status = $4, due = $5, content = $6, version = version + 1, updated_at = $7 \
                         WHERE id = $1 AND version = $2 AND ($3 IS NULL OR party_id = $3) \
                         RETURNING content, version, created_at, updated_at",
                    )
                    .bind(task.id.0)
                    .bind(expected_version)
                    .bind(party.map(|p| p.0))
                    .bind(task.status.as_str())
                    .bind(task.due.to_string())
                    .bind(Json(task))
                    .bind(ts(Utc::now()))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else {
                        let current: Option<i64> = sqlx::query_scalar(
                            "SELECT version FROM tasks WHERE id = $1 AND ($2 IS NULL OR party_id = $2)",
                        )
                        .bind(task.id.0)
                        .bind(party.map(|p| p.0))
                        .fetch_optional(&mut *tx)
                        .await?;
                        return Err(match current {
                            Some(current) => StoreError::VersionConflict { current },
                            None => StoreError::NotFound,
                        });
                    };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(row.into())
                }

                // ---- transfer lists and plans ----------------------------------------------

                async fn insert_transfer_list(&self, list: &TransferList, audit: AuditDraft) -> Result<StoredTransferList> {
                    let at = ts(list.created_at);
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, TransferListRow>(
                        "INSERT INTO transfer_lists (id, origin_party, custody_party, state, content, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING content, version, created_at, updated_at",
                    )
                    .bind(list.id.0)
                    .bind(list.origin_party.0)
                    .bind(list.custody_party.0)
                    .bind(list.state.as_str())
                    .bind(Json(list))
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                    Self::list_version_in(&mut tx, list, 1, "create", list.created_by, at).await?;
                    Self::sync_list_cases(&mut tx, list).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(row.into())
                }

                async fn get_transfer_list(&self, id: TransferListId, party: Option<PartyId>, audit: AuditDraft) -> Result<Option<StoredTransferList>> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, TransferListRow>(
                        "SELECT content, version, created_at, updated_at FROM transfer_lists \
                         WHERE id = $1 AND ($2 IS NULL OR origin_party = $2 OR custody_party = $2)",
                    )
                    .bind(id.0)
                    .bind(party.map(|p| p.0))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(row.into()))
                }

                async fn list_transfer_lists(&self, filter: &TransferListFilter, audit: AuditDraft) -> Result<Vec<StoredTransferList>> {
                    let mut tx = self.begin_write().await?;
                    let mut qb = QueryBuilder::<Db>::new("SELECT content, version, created_at, updated_at FROM transfer_lists WHERE 1 = 1");
                    if let Some(p) = filter.party {
                        qb.push(" AND (origin_party = ").push_bind(p.0);
                        qb.push(" OR custody_party = ").push_bind(p.0).push(")");
                    }
                    if let Some(st) = filter.state {
                        qb.push(" AND state = ").push_bind(st.as_str());
                    }
                    qb.push(" ORDER BY id LIMIT ").push_bind(page_limit(filter.limit, 100, 1000));
                    let rows: Vec<TransferListRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let out: Vec<StoredTransferList> = rows.into_iter().map(StoredTransferList::from).collect();
                    let ids = out.iter().map(|l| l.list.id.to_string()).collect();
                    let audit = AuditDraft { details: with_ids(audit.details.clone(), "transfer_list_ids", ids), ..audit };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(out)
                }

                async fn transfer_list_versions(&self, id: TransferListId, party: Option<PartyId>, audit: AuditDraft) -> Result<Option<Vec<TransferListVersion>>> {
                    let mut tx = self.begin_write().await?;
                    let exists: Option<i64> = sqlx::query_scalar(
                        "SELECT version FROM transfer_lists WHERE id = $1 AND ($2 IS NULL OR origin_party = $2 OR custody_party = $2)",
                    )
                    .bind(id.0)
                    .bind(party.map(|p| p.0))
                    .fetch_optional(&mut *tx)
                    .await?;
                    if exists.is_none() {
                        return Ok(None);
                    }
                    let rows = sqlx::query_as::<Db, TransferListVersionRow>(
                        "SELECT version, content, change, changed_by, changed_at FROM transfer_list_versions \
                         WHERE list_id = $1 ORDER BY version",
                    )
                    .bind(id.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(rows.into_iter().map(TransferListVersion::from).collect()))
                }

                async fn get_transfer_plan(&self, id: TransferPlanId, audit: AuditDraft) -> Result<Option<StoredTransferPlan>> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, TransferPlanRow>(
                        "SELECT content, version, created_at, updated_at FROM transfer_plans WHERE id = $1",
                    )
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(row.into()))
                }

                async fn transfer_plans_of_list(&self, list: TransferListId, audit: AuditDraft) -> Result<Vec<StoredTransferPlan>> {
                    let mut tx = self.begin_write().await?;
                    let rows = sqlx::query_as::<Db, TransferPlanRow>(
                        "SELECT content, version, created_at, updated_at FROM transfer_plans \
                         WHERE list_id = $1 ORDER BY created_at, id",
                    )
                    .bind(list.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    let out: Vec<StoredTransferPlan> = rows.into_iter().map(StoredTransferPlan::from).collect();
                    let ids = out.iter().map(|p| p.plan.id.to_string()).collect();
                    let audit = AuditDraft { details: with_ids(audit.details.clone(), "transfer_plan_ids", ids), ..audit };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(out)
                }

                async fn linkage_model(&self) -> Result<Option<StoredModel>> {
                    let row: Option<(String, DateTime<Utc>)> =
                        sqlx::query_as("SELECT model, trained_at FROM linkage_model WHERE id = 1")
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(|(model, trained_at)| StoredModel { model, trained_at }))
                }

                async fn put_linkage_model(&self, model: &StoredModel, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO linkage_model (id, model, trained_at) VALUES (1, $1, $2) \
                         ON CONFLICT (id) DO UPDATE SET model = excluded.model, trained_at = excluded.trained_at",
                    )
                    .bind(model.model.as_str())
                    .bind(ts(model.trained_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                // ---- duplicates ------------------------------------------------------------

                async fn blocked_records_in_party(
                    &self,
                    party: PartyId,
                    kind: RecordKind,
                    keys: &[String],
                    limit: u32,
                ) -> Result<Vec<(String, RecordId)>> {
                    let mut out = Vec::new();
                    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
                    for chunk in keys.chunks(BULK_ROWS) {
                        if out.len() >= cap {
                            break;
                        }
                        let mut qb = QueryBuilder::<Db>::new(
                            "SELECT k.key, k.record_id FROM record_block_keys k JOIN records r ON r.id = k.record_id \
                             WHERE r.deleted_at IS NULL AND k.kind = ",
                        );
                        qb.push_bind(kind.as_str())
                            .push(" AND r.party_id = ")
                            .push_bind(party.0)
                            .push(" AND k.key IN (");
                        let mut sep = qb.separated(", ");
                        for k in chunk {
                            sep.push_bind(k.as_str());
                        }
                        qb.push(") ORDER BY k.key, k.record_id LIMIT ")
                            .push_bind(i64::try_from(cap - out.len()).unwrap_or(i64::MAX));
                        let rows: Vec<(String, uuid::Uuid)> = qb.build_query_as().fetch_all(&self.pool).await?;
                        out.extend(rows.into_iter().map(|(k, id)| (k, RecordId::from(id))));
                    }
                    Ok(out)
                }

                async fn insert_duplicates(&self, duplicates: &[NewDuplicate], audit: DuplicateAudit<'_>) -> Result<Vec<DuplicateId>> {
                    let mut tx = self.begin_write().await?;
                    let mut stored = Vec::new();
                    for chunk in duplicates.chunks(BULK_ROWS) {
                        let mut qb = QueryBuilder::<Db>::new(
                            "INSERT INTO duplicate_candidates (id, party_id, kind, first_record_id, second_record_id, probability, \
                             match_weight, explanation, model_version, status, created_at) ",
                        );
                        qb.push_values(chunk, |mut b, d: &NewDuplicate| {
                            // One row per pair whichever record found the other.
                            let (first, second) = if d.first_record_id <= d.second_record_id {
                                (d.first_record_id, d.second_record_id)
                            } else {
                                (d.second_record_id, d.first_record_id)
                            };
                            b.push_bind(d.id.0)
                                .push_bind(d.party_id.0)
                                .push_bind(d.kind.as_str())
                                .push_bind(first.0)
                                .push_bind(second.0)
                                .push_bind(d.probability)
                                .push_bind(d.match_weight)
                                .push_bind(d.explanation.as_str())
                                .push_bind(d.model_version.as_str())
                                .push("'pending'")
                                .push_bind(ts(d.created_at));
                        });
                        qb.push(" ON CONFLICT (first_record_id, second_record_id) DO NOTHING RETURNING id");
                        let ids: Vec<uuid::Uuid> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
                        let new: std::collections::HashSet<uuid::Uuid> = ids.into_iter().collect();
                        stored.extend(chunk.iter().filter(|d| new.contains(&d.id.0)).cloned());
                    }
                    if !stored.is_empty() {
                        Self::append(&mut tx, vec![audit(&stored)]).await?;
                    }
                    tx.commit().await?;
                    Ok(stored.iter().map(|d| d.id).collect())
                }

                async fn duplicate_queue(&self, scope: Scope, f: &DuplicateFilter, audit: AuditDraft) -> Result<Vec<DuplicateCandidate>> {
                    let Some(party) = scope_party(scope) else { return Ok(Vec::new()) };
                    let mut tx = self.begin_write().await?;
                    let mut qb = QueryBuilder::<Db>::new(concat!(
                        "SELECT ", duplicate_columns!(), " FROM duplicate_candidates d WHERE status = 'pending' \
                         AND NOT EXISTS (SELECT 1 FROM records r WHERE r.deleted_at IS NOT NULL \
                         AND (r.id = d.first_record_id OR r.id = d.second_record_id))"
                    ));
                    if let Some(p) = party {
                        qb.push(" AND party_id = ").push_bind(p);
                    }
                    qb.push(" AND probability >= ").push_bind(f.min_probability);
                    crate::backend::probability_page(&mut qb, f.after.map(|(p, id)| (p, id.0)), false, f.limit);
                    let rows: Vec<DuplicateRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let items: Vec<DuplicateCandidate> = convert(rows)?;
                    let mut audit = audit;
                    audit.details = with_ids(audit.details, "duplicate_ids", items.iter().map(|d| d.id.to_string()).collect());
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(items)
                }

                async fn get_duplicate(&self, scope: Scope, id: DuplicateId, audit: AuditDraft) -> Result<Option<DuplicateCandidate>> {
                    let Some(party) = scope_party(scope) else { return Ok(None) };
                    let mut tx = self.begin_write().await?;
                    let Some(d) = Self::duplicate_in(&mut tx, id, party).await? else { return Ok(None) };
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(d))
                }

                async fn dismiss_duplicate(
                    &self,
                    scope: Scope,
                    id: DuplicateId,
                    by: UserId,
                    at: DateTime<Utc>,
                    reason: &str,
                    audit: AuditDraft,
                ) -> Result<DuplicateCandidate> {
                    let Some(party) = scope_party(scope) else { return Err(StoreError::NotFound) };
                    let mut tx = self.begin_write().await?;
                    if Self::duplicate_in(&mut tx, id, party).await?.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    // The status condition makes a concurrent decision on PostgreSQL match no row
                    // instead of being overwritten.
                    let n = sqlx::query(
                        "UPDATE duplicate_candidates SET status = 'dismissed', decided_by = $2, decided_at = $3, reason = $4 \
                         WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id.0)
                    .bind(by.0)
                    .bind(ts(at))
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(StoreError::Conflict(crate::Conflict::DuplicateDecided));
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    let d = Self::duplicate_in(&mut tx, id, party).await?.ok_or(StoreError::NotFound)?;
                    tx.commit().await?;
                    Ok(d)
                }

                async fn merge_duplicate(
                    &self,
                    scope: Scope,
                    m: DuplicateMerge<'_>,
                    audit: Vec<AuditDraft>,
                    case_audit: Option<AuditDraft>,
                ) -> Result<MergeOutcome> {
                    let Some(party) = scope_party(scope) else { return Err(StoreError::NotFound) };
                    let mut tx = self.begin_write().await?;
                    let Some(d) = Self::duplicate_in(&mut tx, m.id, party).await? else {
                        return Err(StoreError::NotFound);
                    };
                    let decided = || StoreError::Conflict(crate::Conflict::DuplicateDecided);
                    if d.status != DuplicateStatus::Pending {
                        return Err(decided());
                    }
                    let absorbed = if m.survivor == d.first_record_id {
                        d.second_record_id
                    } else if m.survivor == d.second_record_id {
                        d.first_record_id
                    } else {
                        return Err(StoreError::Conflict(crate::Conflict::SurvivorNotInPair));
                    };
                    // Nobody may change either record (or open a case on it) until this commits.
                    sqlx::query(Self::LOCK_PAIR)
                        .bind(d.first_record_id.0)
                        .bind(d.second_record_id.0)
                        .fetch_all(&mut *tx)
                        .await?;
                    for (id, expected) in [(m.survivor, m.survivor_version), (absorbed, m.absorbed_version)] {
                        let current: Option<(i64, Option<DateTime<Utc>>)> =
                            sqlx::query_as("SELECT version, deleted_at FROM records WHERE id = $1")
                                .bind(id.0)
                                .fetch_optional(&mut *tx)
                                .await?;
                        match current {
                            None => return Err(StoreError::NotFound),
                            Some((_, Some(_))) => return Err(StoreError::Conflict(crate::Conflict::RecordDeleted)),
                            Some((v, None)) if v != expected => {
                                return Err(StoreError::RecordVersionConflict { record: id, current: v })
                            }
                            Some(_) => {}
                        }
                    }
                    // Both records are of the pair's kind: one column of cases and candidates.
                    let (col, other_col) = match d.kind {
                        RecordKind::TracingRequest => ("tracing_record_id", "custody_record_id"),
                        RecordKind::CustodyRecord => ("custody_record_id", "tracing_record_id"),
                    };
                    let cases_of = format!(
                        "SELECT id FROM cases WHERE {col} = $1 \
                         UNION SELECT case_id FROM match_candidates WHERE case_id IS NOT NULL AND {col} = $1"
                    );
                    let mut cases: Vec<uuid::Uuid> = Vec::new();
                    for id in [absorbed, m.survivor] {
                        let found: Vec<uuid::Uuid> = sqlx::query_scalar(&cases_of).bind(id.0).fetch_all(&mut *tx).await?;
                        cases.extend(found);
                    }
                    cases.sort_unstable();
                    cases.dedup();
                    // One child, two cases: which one goes on is a decision for a person, not
                    // for a merge.
                    if cases.len() > 1 {
                        return Err(StoreError::Conflict(crate::Conflict::CasesDiffer));
                    }
                    let at = ts(m.at);

                    let survivor_row = match m.content {
                        Some((c, search_key)) => sqlx::query_as::<Db, RecordRow>(concat!(
                            "UPDATE records SET content = $2, search_key = $3, sex = $4, birth_year = $5, external_ref = $6, \
                             version = version + 1, updated_at = $7, updated_by = $8 \
                             WHERE id = $1 AND version = $9 AND deleted_at IS NULL RETURNING ", record_columns!()
                        ))
                        .bind(m.survivor.0)
                        .bind(Json(c))
                        .bind(search_key)
                        .bind(c.sex.as_str())
                        .bind(c.birth_date.map(|b| b.year()))
                        .bind(c.external_ref.as_deref())
                        .bind(at)
                        .bind(m.by.0)
                        .bind(m.survivor_version)
                        .fetch_optional(&mut *tx)
                        .await?,
                        None => sqlx::query_as::<Db, RecordRow>(concat!(
                            "UPDATE records SET version = version + 1, updated_at = $2, updated_by = $3 \
                             WHERE id = $1 AND version = $4 AND deleted_at IS NULL RETURNING ", record_columns!()
                        ))
                        .bind(m.survivor.0)
                        .bind(at)
                        .bind(m.by.0)
                        .bind(m.survivor_version)
                        .fetch_optional(&mut *tx)
                        .await?,
                    };
                    let Some(survivor_row) = survivor_row else {
                        return Err(match Self::update_refused(&mut tx, m.survivor, None).await {
                            StoreError::VersionConflict { current } => StoreError::RecordVersionConflict { record: m.survivor, current },
                            e => e,
                        });
                    };
                    let absorbed_row = sqlx::query_as::<Db, RecordRow>(concat!(
                        "UPDATE records SET deleted_at = $2, deleted_by = $3, deletion_reason = $4, merged_into = $5, \
                         version = version + 1, updated_at = $2, updated_by = $3 \
                         WHERE id = $1 AND version = $6 AND deleted_at IS NULL RETURNING ", record_columns!()
                    ))
                    .bind(absorbed.0)
                    .bind(at)
                    .bind(m.by.0)
                    .bind(m.reason)
                    .bind(m.survivor.0)
                    .bind(m.absorbed_version)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(absorbed_row) = absorbed_row else {
                        return Err(match Self::update_refused(&mut tx, absorbed, None).await {
                            StoreError::VersionConflict { current } => StoreError::RecordVersionConflict { record: absorbed, current },
                            e => e,
                        });
                    };
                    for (id, other) in [(m.survivor, absorbed), (absorbed, m.survivor)] {
                        sqlx::query(
                            "INSERT INTO record_versions (record_id, version, content, changed_at, changed_by, change, reason, merged_record) \
                             SELECT id, version, content, updated_at, updated_by, 'merge', $2, $3 FROM records WHERE id = $1",
                        )
                        .bind(id.0)
                        .bind(m.reason)
                        .bind(other.0)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let n = sqlx::query(
                        "UPDATE duplicate_candidates SET status = 'merged', decided_by = $2, decided_at = $3, reason = $4, \
                         survivor_id = $5 WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(m.id.0)
                    .bind(m.by.0)
                    .bind(at)
                    .bind(m.reason)
                    .bind(m.survivor.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(decided());
                    }
                    let why = format!("record {absorbed} was merged into record {}", m.survivor);
                    let closed_duplicates: Vec<uuid::Uuid> = sqlx::query_scalar(
                        "UPDATE duplicate_candidates SET status = 'closed', decided_by = $2, decided_at = $3, reason = $4 \
                         WHERE status = 'pending' AND (first_record_id = $1 OR second_record_id = $1) RETURNING id",
                    )
                    .bind(absorbed.0)
                    .bind(m.by.0)
                    .bind(at)
                    .bind(&why)
                    .fetch_all(&mut *tx)
                    .await?;
                    // Where the survivor already has its own candidate with the same record of the
                    // other side, that one stands; the absorbed record's is closed, not moved.
                    let closed_matches: Vec<uuid::Uuid> = sqlx::query_scalar(&format!(
                        "UPDATE match_candidates SET status = 'closed', reason = COALESCE(reason, $3) \
                         WHERE {col} = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM match_candidates o \
                         WHERE o.{col} = $2 AND o.{other_col} = match_candidates.{other_col}) RETURNING id"
                    ))
                    .bind(absorbed.0)
                    .bind(m.survivor.0)
                    .bind(&why)
                    .fetch_all(&mut *tx)
                    .await?;
                    // The rest now propose the survivor: it is the same child, and a reviewer must
                    // not lose a lead because the record it was found on was merged away.
                    let repointed_matches: Vec<uuid::Uuid> = sqlx::query_scalar(&format!(
                        "UPDATE match_candidates SET {col} = $2 WHERE {col} = $1 AND status = 'pending' RETURNING id"
                    ))
                    .bind(absorbed.0)
                    .bind(m.survivor.0)
                    .fetch_all(&mut *tx)
                    .await?;
                    let held = sqlx::query_as::<Db, (uuid::Uuid, Json<homeward_domain::Case>)>(&format!(
                        "SELECT id, content FROM cases WHERE {col} = $1"
                    ))
                    .bind(absorbed.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let mut repointed_case = None;
                    if let Some((case_id, Json(mut case))) = held {
                        match d.kind {
                            RecordKind::TracingRequest => case.tracing_request = Some(m.survivor),
                            RecordKind::CustodyRecord => case.custody_record = Some(m.survivor),
                        }
                        sqlx::query(&format!(
                            "UPDATE cases SET {col} = $2, content = $3, version = version + 1, updated_at = $4 WHERE id = $1"
                        ))
                        .bind(case_id)
                        .bind(m.survivor.0)
                        .bind(Json(&case))
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                        repointed_case = Some(CaseId::from(case_id));
                    }

                    let strings = |ids: &[uuid::Uuid]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();
                    let mut drafts: Vec<AuditDraft> = audit
                        .into_iter()
                        .map(|mut a| {
                            a.details = with_ids(a.details, "closed_duplicate_ids", strings(&closed_duplicates));
                            a.details = with_ids(a.details, "repointed_match_ids", strings(&repointed_matches));
                            a.details = with_ids(a.details, "closed_match_ids", strings(&closed_matches));
                            a.details = with_ids(
                                a.details,
                                "repointed_case_ids",
                                repointed_case.iter().map(ToString::to_string).collect(),
                            );
                            a
                        })
                        .collect();
                    if let (Some(case_id), Some(ca)) = (repointed_case, case_audit) {
                        drafts.push(ca.target("case", case_id));
                    }
                    if let Some(asking) = drafts.first() {
                        let key = crate::jobs::match_key_of_record(m.survivor, survivor_row.version);
                        Self::enqueue_in(&mut tx, &crate::jobs::match_job(vec![m.survivor], asking, None, key)?).await?;
                    }
                    let mut written = vec![
                        RowRef::record(m.survivor.0),
                        RowRef::record_version(m.survivor.0, survivor_row.version),
                        RowRef::record(absorbed.0),
                        RowRef::record_version(absorbed.0, absorbed_row.version),
                    ];
                    written.extend(repointed_case.map(|c| RowRef::case(c.0)));
                    Self::append_written(&mut tx, drafts, &written).await?;
                    let duplicate = Self::duplicate_in(&mut tx, m.id, None).await?.ok_or(StoreError::NotFound)?;
                    tx.commit().await?;
                    fn ids<T: From<uuid::Uuid>>(v: Vec<uuid::Uuid>) -> Vec<T> {
                        v.into_iter().map(T::from).collect()
                    }
                    Ok(MergeOutcome {
                        duplicate,
                        survivor: survivor_row.into(),
                        absorbed: absorbed_row.into(),
                        closed_duplicates: ids(closed_duplicates),
                        repointed_matches: ids(repointed_matches),
                        closed_matches: ids(closed_matches),
                        repointed_case,
                    })
                }

                // ---- attachments -----------------------------------------------------------

                async fn insert_attachment(&self, scope: AttachmentScope, a: &Attachment, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    // Checked again here, not only by the caller: the record may have been deleted
                    // since it was read, and the row must never land outside the owner's scope.
                    if !Self::owner_visible(&mut tx, scope, a.owner, Some(a.party_id), false).await? {
                        return Err(StoreError::NotFound);
                    }
                    let (record_id, case_id) = match a.owner {
                        AttachmentOwner::Record(r) => (Some(r.0), None),
                        AttachmentOwner::Case(c) => (None, Some(c.0)),
                    };
                    sqlx::query(concat!(
                        "INSERT INTO attachments (", attachment_columns!(), ") \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                    ))
                    .bind(a.id.0)
                    .bind(a.sha256.as_str())
                    .bind(a.owner.kind())
                    .bind(record_id)
                    .bind(case_id)
                    .bind(a.party_id.0)
                    .bind(a.filename.as_str())
                    .bind(a.content_type.as_str())
                    .bind(a.size)
                    .bind(a.uploaded_by.0)
                    .bind(ts(a.uploaded_at))
                    .bind(a.description.as_deref())
                    .bind(opt_ts(a.deleted_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn get_attachment(&self, scope: AttachmentScope, id: AttachmentId, audit: AuditDraft) -> Result<Option<Attachment>> {
                    let party = scope_party(scope.records);
                    if party.is_none() && !scope.cases {
                        return Ok(None);
                    }
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query_as::<Db, AttachmentRow>(concat!(
                        "SELECT ", attachment_columns!(), " FROM attachments WHERE ", attachment_in_scope!()
                    ))
                    .bind(id.0)
                    .bind(party.is_some())
                    .bind(party.flatten())
                    .bind(scope.cases)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    let attachment = Attachment::try_from(row)?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(Some(attachment))
                }

                async fn list_attachments_audited(&self, scope: AttachmentScope, owner: AttachmentOwner, audit: Vec<AuditDraft>) -> Result<Option<Vec<Attachment>>> {
                    let mut tx = self.begin_write().await?;
                    if !Self::owner_visible(&mut tx, scope, owner, None, true).await? {
                        return Ok(None);
                    }
                    let column = match owner {
                        AttachmentOwner::Record(_) => "record_id",
                        AttachmentOwner::Case(_) => "case_id",
                    };
                    let mut qb = QueryBuilder::<Db>::new(concat!("SELECT ", attachment_columns!(), " FROM attachments WHERE "));
                    qb.push(column)
                        .push(" = ")
                        .push_bind(owner.id())
                        .push(" AND deleted_at IS NULL ORDER BY uploaded_at, id");
                    let rows: Vec<AttachmentRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let items: Vec<Attachment> = convert(rows)?;
                    let ids: Vec<String> = items.iter().map(|a| a.id.to_string()).collect();
                    let audit = audit.into_iter().map(|a| AuditDraft { details: with_ids(a.details.clone(), "attachment_ids", ids.clone()), ..a }).collect();
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(Some(items))
                }

                // ---- audit log -------------------------------------------------------------

                async fn row_hashes(&self, table: RowTable, after: Option<(uuid::Uuid, i64)>, limit: u32) -> Result<Vec<RowHash>> {
                    let mut conn = self.pool.acquire().await?;
                    Self::fetch_row_hashes(&mut conn, table, row_page_query(table, after, limit)).await
                }

                async fn append_audit(&self, audit: AuditDraft) -> Result<AuditEntry> {
                    let mut tx = self.begin_write().await?;
                    let entry = Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    entry.ok_or_else(|| StoreError::Corrupt("appending one audit entry produced none".to_owned()))
                }

                async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
                    let mut qb = audit_query::<Db>(filter);
                    let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(AuditEntry::from).collect())
                }

                async fn audit_head(&self) -> Result<(i64, String)> {
                    Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
                }
            }
        }
    };
}
pub(crate) use impl_store;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_ids_join_whatever_details_there_were() {
        let ids = || vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            with_record_ids(json!(null), ids()),
            json!({"record_ids": ["a", "b"]})
        );
        assert_eq!(
            with_record_ids(json!({"page": 2}), ids()),
            json!({"page": 2, "record_ids": ["a", "b"]})
        );
        assert_eq!(
            with_record_ids(json!("why"), vec![]),
            json!({"details": "why", "record_ids": []})
        );
        // A caller cannot smuggle in ids that were not returned.
        assert_eq!(
            with_record_ids(json!({"record_ids": ["x"]}), ids())["record_ids"],
            json!(["a", "b"])
        );
    }

    #[test]
    fn page_limits_default_and_cap() {
        assert_eq!(page_limit(0, 50, 1000), 50);
        assert_eq!(page_limit(7, 50, 1000), 7);
        assert_eq!(page_limit(u32::MAX, 50, 1000), 1000);
    }

    #[test]
    fn list_queries_only_carry_the_conditions_asked_for() {
        let sql = record_list_query::<sqlx::Postgres>(None, &RecordFilter::default()).into_sql();
        assert!(
            sql.ends_with("WHERE 1 = 1 AND deleted_at IS NULL ORDER BY id LIMIT $1"),
            "{sql}"
        );
        let f = RecordFilter {
            name: Some("a%".into()),
            include_deleted: true,
            ..Default::default()
        };
        let sql = record_list_query::<sqlx::Sqlite>(Some(Uuid::nil()), &f).into_sql();
        assert!(
            sql.contains("party_id = ? AND search_key LIKE '%' || ? || '%' ESCAPE '\\'"),
            "{sql}"
        );
        assert!(!sql.contains("deleted_at IS NULL"), "{sql}");
        let f = RecordFilter {
            name_terms: vec![vec!["a".into(), "~b".into()], vec!["c".into()]],
            ..Default::default()
        };
        let sql = record_list_query::<sqlx::Postgres>(None, &f).into_sql();
        assert!(
            sql.contains(
                "AND (search_key LIKE '%' || $1 || '%' ESCAPE '\\' OR search_key LIKE '%' || $2 || '%' ESCAPE '\\') \
                 AND (search_key LIKE '%' || $3 || '%' ESCAPE '\\')"
            ),
            "{sql}"
        );
    }
}
