//! The unit of work on one case: a use-case opens one write transaction, reads the case inside
//! it, lets the domain decide, saves the new version and commits with its audit entry. Reads
//! made inside the work serve the change and are not audited on their own: the action's entry,
//! appended at commit with the hashes of the rows it wrote, is what the log keeps.
//!
//! Dropped without [`CaseWork::commit`], the work rolls back (nothing written, nothing audited).

use crate::backend::{WriteTx, scope_party};
use crate::rowhash::RowRef;
use crate::rows::CaseRow;
use crate::{AttachmentOwner, AttachmentScope, CaseChange, Result, StoredCase};
use async_trait::async_trait;
use homeward_domain::{AttachmentId, AuditDraft, CaseId, PartyId, RecordId};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use uuid::Uuid;

/// One transaction on one case. On PostgreSQL the case's row is locked when it is read, on
/// SQLite the work holds the write lock from the start, so nobody changes the case between the
/// read and the save.
#[async_trait]
pub trait CaseWork: Send {
    /// The case as it is now; `None` when there is no such case.
    async fn case(&mut self, id: CaseId) -> Result<Option<StoredCase>>;

    /// Who owns an attachment, when it is not deleted and its owner is within `scope` (an
    /// attachment out of scope answers like a missing one): to check that evidence a change
    /// names belongs to the case.
    async fn attachment_owner(
        &mut self,
        scope: AttachmentScope,
        id: AttachmentId,
    ) -> Result<Option<AttachmentOwner>>;

    /// The party of each of `records` that exists and is not deleted. Scope-free, like
    /// [`Store::records_for_linkage`](crate::Store::records_for_linkage): it answers which
    /// party a case's own records belong to, never what they say.
    async fn record_parties(&mut self, records: &[RecordId]) -> Result<Vec<(RecordId, PartyId)>>;

    /// Stores a new version of the case (its whole content), keeping it in the case's history.
    /// `NotFound` when no such case; `VersionConflict` when the case is no longer at
    /// `change.expected_version` (a decision taken on an earlier page of a person's work).
    async fn save(&mut self, change: CaseChange<'_>) -> Result<StoredCase>;

    /// Appends `action` (the entry of what the work did), then `more` (changes the domain made
    /// as a consequence, such as moving the case back), with every row saved listed and hashed
    /// under the entry that targets it, and commits.
    async fn commit(self: Box<Self>, action: AuditDraft, more: Vec<AuditDraft>) -> Result<()>;
}

/// Stores that can open a [`CaseWork`]; part of every [`Store`](crate::Store).
#[async_trait]
pub trait CaseWorkStore {
    /// Opens a write transaction for one case's use-case.
    async fn begin_case_work(&self) -> Result<Box<dyn CaseWork>>;
}

/// What differs between the backends for a unit of work: how the transaction starts, how a
/// case's row is held, and what is already written once in `backend.rs` for each of them
/// (saving a case version, appending to the audit chain).
#[async_trait]
pub(crate) trait WorkBackend: Send + Sync + 'static {
    type Db: Database;
    /// Appended to [`READ_CASE`]: what holds the row until commit.
    const HOLD_ROW: &'static str;

    async fn begin(&self) -> Result<WriteTx<Self::Db>>;
    async fn save_case(tx: &mut WriteTx<Self::Db>, change: CaseChange<'_>) -> Result<StoredCase>;
    async fn append_written(
        tx: &mut WriteTx<Self::Db>,
        drafts: Vec<AuditDraft>,
        written: &[RowRef],
    ) -> Result<()>;
}

/// The case as [`CaseWork::case`] reads it (the backend appends [`WorkBackend::HOLD_ROW`]).
pub(crate) const READ_CASE: &str =
    "SELECT content, version, created_at, updated_at, number FROM cases WHERE id = $1";

/// An attachment's owner, with the same scope rule as `Store::get_attachment`.
pub(crate) const READ_OWNER: &str = concat!(
    "SELECT owner_kind, record_id, case_id FROM attachments WHERE ",
    crate::rows::attachment_in_scope!()
);

/// The parties of a few records, by id (the backend binds the ids one by one).
pub(crate) const READ_PARTY: &str =
    "SELECT id, party_id FROM records WHERE id = $1 AND deleted_at IS NULL";

/// The work of one backend: its transaction and the rows saved so far.
pub(crate) struct Work<B: WorkBackend> {
    tx: WriteTx<B::Db>,
    written: Vec<RowRef>,
}

impl<B: WorkBackend> Work<B> {
    pub(crate) async fn open(backend: &B) -> Result<Self> {
        Ok(Self {
            tx: backend.begin().await?,
            written: Vec::new(),
        })
    }

    /// The transaction, for the reads and writes of a work that extends this one.
    pub(crate) fn tx(&mut self) -> &mut WriteTx<B::Db> {
        &mut self.tx
    }
}

impl<B: WorkBackend> Work<B>
where
    Self: CaseWork,
{
    pub(crate) async fn begin(backend: &B) -> Result<Box<dyn CaseWork>> {
        Ok(Box::new(Self::open(backend).await?))
    }
}

#[async_trait]
impl<B> CaseWork for Work<B>
where
    B: WorkBackend,
    WriteTx<B::Db>: Send,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'r> CaseRow: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (String, Option<Uuid>, Option<Uuid>): FromRow<'r, <B::Db as Database>::Row>,
    for<'r> (Uuid, Uuid): FromRow<'r, <B::Db as Database>::Row>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'q> Uuid: Encode<'q, B::Db> + Type<B::Db>,
    for<'q> Option<Uuid>: Encode<'q, B::Db> + Type<B::Db>,
    for<'q> bool: Encode<'q, B::Db> + Type<B::Db>,
{
    async fn case(&mut self, id: CaseId) -> Result<Option<StoredCase>> {
        let sql = format!("{READ_CASE}{}", B::HOLD_ROW);
        sqlx::query_as::<B::Db, CaseRow>(&sql)
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .map(StoredCase::try_from)
            .transpose()
    }

    async fn attachment_owner(
        &mut self,
        scope: AttachmentScope,
        id: AttachmentId,
    ) -> Result<Option<AttachmentOwner>> {
        let party = scope_party(scope.records);
        if party.is_none() && !scope.cases {
            return Ok(None);
        }
        let row: Option<(String, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(READ_OWNER)
            .bind(id.0)
            .bind(party.is_some())
            .bind(party.flatten())
            .bind(scope.cases)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.and_then(|(kind, record, case)| match kind.as_str() {
            "record" => record.map(|r| AttachmentOwner::Record(RecordId(r))),
            "case" => case.map(|c| AttachmentOwner::Case(CaseId(c))),
            _ => None,
        }))
    }

    async fn record_parties(&mut self, records: &[RecordId]) -> Result<Vec<(RecordId, PartyId)>> {
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let row: Option<(Uuid, Uuid)> = sqlx::query_as(READ_PARTY)
                .bind(r.0)
                .fetch_optional(&mut *self.tx)
                .await?;
            out.extend(row.map(|(r, p)| (RecordId(r), PartyId(p))));
        }
        Ok(out)
    }

    async fn save(&mut self, change: CaseChange<'_>) -> Result<StoredCase> {
        let stored = B::save_case(&mut self.tx, change).await?;
        let id = stored.case.id.0;
        self.written
            .extend([RowRef::case(id), RowRef::case_version(id, stored.version)]);
        Ok(stored)
    }

    async fn commit(self: Box<Self>, action: AuditDraft, more: Vec<AuditDraft>) -> Result<()> {
        let Self { mut tx, written } = *self;
        let mut drafts = Vec::with_capacity(1 + more.len());
        drafts.push(action);
        drafts.extend(more);
        B::append_written(&mut tx, drafts, &written).await?;
        tx.commit().await
    }
}
