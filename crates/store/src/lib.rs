//! Homeward's persistence. One [`Store`] trait, two implementations: SQLite (the embedded default)
//! and PostgreSQL (several app servers behind a load balancer). Only this crate speaks SQL.
//!
//! Contracts every implementation keeps (the conformance suite in `tests/` checks them):
//! - every method that changes data takes the audit entries describing the change and appends
//!   them to the hash chain **in the same transaction** as the change; a case changes through a
//!   unit of work ([`CaseWork`]), which reads, saves and commits with the action's entry;
//! - every method that writes a record, record version, case or case version lists each row it
//!   wrote, with the row's hash ([`RowTable`], [`homeward_domain::rowhash`]), in the `writes` of
//!   the entry that targets the row (else the transaction's first entry), so a row changed
//!   behind the store's back no longer matches the chain;
//! - every method that reads child records takes the caller's [`Scope`]; a record outside the
//!   scope is indistinguishable from a record that does not exist;
//! - appends to the audit chain are serialised (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a row lock
//!   on the chain head), so the chain never forks.

mod backend;
pub mod blobs;
pub mod bulk_match;
pub mod case_search;
pub mod case_work;
mod conflict;
mod error;
pub mod exports;
mod group_commit;
pub mod indicators;
pub mod jobs;
pub mod ops;
pub mod postgres;
pub mod pprl;
pub mod rescore;
mod rowhash;
mod rows;
pub mod scratch;
pub mod sqlite;
pub mod staging;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transfer_work;
mod types;

pub use case_search::{CaseSearch, CaseSearchPage, CaseSearchStore, CaseSort};
pub use case_work::{CaseWork, CaseWorkStore};
pub use conflict::Conflict;
pub use error::StoreError;
pub use exports::{EXPORT_RUN, Export, ExportEnd, ExportState, ExportStore};
pub use indicators::IndicatorStore;
pub use jobs::{
    Job, JobFilter, JobOutcome, JobSignal, JobState, JobStore, MATCH_RECORDS, MatchRecordsJob,
    NewImport, NewJob, match_key_of_import, match_key_of_record, match_key_of_records,
};
pub use ops::{OpsStore, PoolStats};
pub use pprl::PprlStore;
pub use rescore::{RESCORE_CANDIDATES, RescoreJob, RescoreStore, StaleCandidate};
pub use rowhash::{RowHash, RowRef, RowTable};
pub use staging::{NewStagedUpload, StagedState, StagedUpload, StagingLimits, StagingStore};
pub use transfer_work::{TransferWork, TransferWorkStore};
pub use types::*;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use homeward_domain::{
    AttachmentId, AuditDraft, AuditEntry, CaseId, ChildRecord, Disclosure, DuplicateId, Language,
    MatchId, Party, PartyId, RecordFilter, RecordId, RecordKind, RecordVersion, Role, Scope, Task,
    TaskId, TokenId, TransferListId, TransferPlanId, User, UserId, Username,
};
use std::sync::Arc;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Progress of a long write, in records done so far.
pub type Progress<'a> = &'a (dyn Fn(usize) + Send + Sync);

/// The one audit entry for the candidates a call actually inserted (or changed), called only when
/// there is at least one: an entry per run, naming them, not an entry per candidate.
pub type CandidateAudit<'a> = &'a (dyn Fn(&[NewCandidate]) -> AuditDraft + Send + Sync);

/// The one audit entry for the candidate duplicates a call actually inserted (as above).
pub type DuplicateAudit<'a> = &'a (dyn Fn(&[NewDuplicate]) -> AuditDraft + Send + Sync);

/// The job queue's methods are on [`JobStore`] (`jobs.rs`), a part of every store.
#[async_trait]
pub trait Store:
    JobStore
    + bulk_match::BulkMatchStore
    + PprlStore
    + OpsStore
    + RescoreStore
    + StagingStore
    + IndicatorStore
    + exports::ExportStore
    + case_search::CaseSearchStore
    + CaseWorkStore
    + TransferWorkStore
    + Send
    + Sync
    + std::fmt::Debug
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies pending migrations (also done by [`connect`]).
    async fn migrate(&self) -> Result<()>;

    /// Closes the pool, waiting for connections to finish.
    async fn close(&self);

    // ---- parties -------------------------------------------------------------------------------

    /// Fails with `Conflict` if a party of the same name exists.
    async fn create_party(&self, party: &Party, audit: AuditDraft) -> Result<()>;
    async fn get_party(&self, id: PartyId) -> Result<Option<Party>>;
    async fn list_parties(&self) -> Result<Vec<Party>>;

    // ---- users ---------------------------------------------------------------------------------

    /// Fails with `Conflict` if the username is taken, `NotFound` if the party does not exist.
    async fn create_user(&self, user: &User, password_hash: &str, audit: AuditDraft) -> Result<()>;
    async fn get_user(&self, id: UserId) -> Result<Option<User>>;
    /// The user with its secrets, for logging in.
    async fn user_credentials(&self, username: &Username) -> Result<Option<UserCredentials>>;
    async fn list_users(&self, party: Option<PartyId>) -> Result<Vec<User>>;
    /// Replaces the password hash, ends all of the user's sessions and, unless `keep_tokens`,
    /// revokes all of the user's API tokens, in one transaction. `NotFound` if no such user.
    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep_tokens: bool,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Records that the user's one-time code of TOTP time step `step` was accepted, if no code
    /// of that step or a later one was accepted before; `false` (nothing changed) otherwise, so
    /// each code signs in once. Atomic: of two concurrent calls with one step, one wins.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool>;
    /// Stores a TOTP secret; `enabled` false while enrolment waits for the first code.
    async fn set_totp(
        &self,
        user: UserId,
        secret: Option<&str>,
        enabled: bool,
        audit: AuditDraft,
    ) -> Result<()>;
    async fn totp_secret(&self, user: UserId) -> Result<Option<String>>;
    /// Changes roles and the disabled flag; disabling ends the user's sessions and revokes tokens.
    async fn update_user(
        &self,
        user: UserId,
        roles: &[Role],
        disabled: bool,
        audit: AuditDraft,
    ) -> Result<()>;

    /// Sets the language of the user's web interface. `NotFound` if no such user.
    async fn set_user_language(
        &self,
        user: UserId,
        language: Language,
        audit: AuditDraft,
    ) -> Result<()>;

    // ---- login throttling ----------------------------------------------------------------------

    /// Records a failed login under each key (e.g. `user:anna`, `ip:10.0.0.1`) and audits it.
    async fn record_login_failure(
        &self,
        keys: &[String],
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Failures recorded under `key` at or after `since`.
    async fn count_login_failures(&self, key: &str, since: DateTime<Utc>) -> Result<i64>;
    /// Forgets failures under `key` (after a successful login), and every failure recorded before
    /// `expired_before` (outside any throttling window), so the table stays small.
    async fn clear_login_failures(&self, key: &str, expired_before: DateTime<Utc>) -> Result<()>;

    // ---- sessions ------------------------------------------------------------------------------

    /// Stores a new session, and drops every session that expired before it was created.
    async fn create_session(&self, session: &SessionRow, audit: AuditDraft) -> Result<()>;
    /// The session and its user, if the session exists, has not expired at `now`, and the user is
    /// not disabled.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(SessionRow, User)>>;
    /// Slides the idle expiry forward.
    async fn touch_session(&self, token_hash: &str, expires_at: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, token_hash: &str, audit: AuditDraft) -> Result<()>;

    // ---- API tokens ----------------------------------------------------------------------------

    async fn create_token(
        &self,
        token: &ApiToken,
        token_hash: &str,
        audit: AuditDraft,
    ) -> Result<()>;
    /// The token and its user if the token is neither revoked nor expired at `now` and the user is
    /// not disabled; records `now` as the token's last use unless the last use recorded is less
    /// than a minute old.
    async fn token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiToken, User)>>;
    async fn get_token(&self, id: TokenId) -> Result<Option<ApiToken>>;
    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>>;
    /// Marks the token revoked at `at`. `NotFound` if no such token; revoking twice is a no-op
    /// that still audits.
    async fn revoke_token(&self, id: TokenId, at: DateTime<Utc>, audit: AuditDraft) -> Result<()>;

    // ---- child records -------------------------------------------------------------------------

    /// Inserts new records (version 1, with a history entry each) and appends `audit`, all in one
    /// transaction: either every record is stored or none is. Calls `progress` as it goes (about
    /// every 1000 records, and once at the end). Each record is stored at version 1 whatever its
    /// `version` says, and not deleted. `Conflict::RecordId` for an id already taken (or twice
    /// in the batch), `NotFound` for a party that does not exist.
    async fn insert_records(
        &self,
        records: &[NewRecord],
        audit: Vec<AuditDraft>,
        progress: Progress<'_>,
    ) -> Result<()>;

    /// Brings the query planner's statistics up to date after a bulk write (an import), so that
    /// the next queries are planned for the tables as they now are. PostgreSQL: `ANALYZE` of the
    /// tables an import fills that were never analysed or have grown by more than a quarter
    /// since (a small import into a large store skips it); until autovacuum gets to them (about
    /// a minute) the planner takes them for as small as they were, and scans where an index
    /// would serve (the dashboard's review-queue count: 7.9 ms instead of 1.2 ms at 6,000
    /// records). SQLite: nothing; it keeps
    /// no statistics unless `ANALYZE` is run, and its plans without them are the ones the page
    /// benchmark measured.
    async fn refresh_statistics(&self) -> Result<()>;

    /// The record if it exists within `scope` (deleted ones included: they carry `deleted_at`).
    /// When found, `audit` is appended in the same transaction as the read.
    async fn get_record(
        &self,
        scope: Scope,
        id: RecordId,
        audit: AuditDraft,
    ) -> Result<Option<ChildRecord>> {
        self.get_record_audited(scope, id, vec![audit]).await
    }
    /// [`Store::get_record`] with every entry of `audit` (none inside a page view, which
    /// audits its reads once).
    async fn get_record_audited(
        &self,
        scope: Scope,
        id: RecordId,
        audit: Vec<AuditDraft>,
    ) -> Result<Option<ChildRecord>>;

    /// Records within `scope` matching `filter`, ordered by id, at most `filter.limit` (0 means
    /// 50; at most 1000). `audit` is appended in the same transaction, with `"record_ids": [...]`
    /// (the ids returned) added to its details object (a non-object `details` is kept under
    /// `"details"`). With [`Scope::Nothing`] nothing is read and nothing is audited.
    async fn list_records(
        &self,
        scope: Scope,
        filter: &RecordFilter,
        audit: AuditDraft,
    ) -> Result<Vec<ChildRecord>>;

    /// Replaces the record's content if its current version is `expected_version`, keeping the old
    /// version in the history. `NotFound` outside the scope or when deleted; `VersionConflict`
    /// when someone else changed it first.
    async fn update_record(
        &self,
        scope: Scope,
        change: RecordChange<'_>,
        audit: AuditDraft,
    ) -> Result<ChildRecord>;

    /// Soft-deletes the record with a reason (kept in the history). `NotFound` outside the scope
    /// or when already deleted. The deletion is a version of its own (change `delete`, same
    /// content), so the returned record's version is one more than before.
    async fn delete_record(
        &self,
        scope: Scope,
        deletion: RecordDeletion<'_>,
        audit: AuditDraft,
    ) -> Result<ChildRecord>;

    /// Every version of the record, oldest first; `None` outside the scope. Audited like a read.
    async fn record_history(
        &self,
        scope: Scope,
        id: RecordId,
        audit: AuditDraft,
    ) -> Result<Option<Vec<RecordVersion>>>;

    // ---- matching --------------------------------------------------------------------------------
    //
    // The linkage engine's reads below take no scope: they serve the mediator's matching, which by
    // design compares the records of both sides. They return ids and blocking keys (no content
    // beyond what `records_for_linkage` hands to the engine), and the app shows their results
    // (candidates) only to the mediator's reviewers, so no party learns anything of the other
    // side through them.

    /// Replaces the blocking keys of each record, given with the record's kind (derived data, like
    /// a record's search key: not audited on its own, the record's own change is).
    async fn put_block_keys(&self, keys: &[(RecordId, RecordKind, Vec<String>)]) -> Result<()>;
    /// The record's blocking keys, sorted.
    async fn block_keys(&self, record: RecordId) -> Result<Vec<String>>;
    /// Replaces the search key of each record (derived data, not audited: see `put_block_keys`).
    async fn put_search_keys(&self, keys: &[(RecordId, String)]) -> Result<()>;
    /// The label of how the stored derived keys were computed, if one was ever stored.
    async fn derived_keys_version(&self) -> Result<Option<String>>;
    async fn set_derived_keys_version(&self, version: &str) -> Result<()>;
    /// The records of `kind`, not deleted, sharing any of `keys`, as `(key, record id)` pairs,
    /// at most `limit` pairs (a key shared by very many records is a poor key; the cap keeps one
    /// record's work bounded). Scope-free: see above.
    async fn blocked_records(
        &self,
        kind: RecordKind,
        keys: &[String],
        limit: u32,
    ) -> Result<Vec<(String, RecordId)>>;
    /// The records with these ids (deleted ones left out), for the linkage engine. Scope-free and
    /// not audited: the content goes to the engine, never to a caller.
    async fn records_for_linkage(&self, ids: &[RecordId]) -> Result<Vec<ChildRecord>>;
    /// Every record of `kind`, not deleted, for training; ordered by id, `limit` at a time.
    async fn records_of_kind(
        &self,
        kind: RecordKind,
        after: Option<RecordId>,
        limit: u32,
    ) -> Result<Vec<ChildRecord>>;

    /// Inserts the candidates whose pair is not stored yet, in any status (so a rejected pair
    /// never comes back), appending `audit(inserted)` once when any was inserted, in one
    /// transaction. Returns the ids inserted.
    async fn insert_candidates(
        &self,
        candidates: &[NewCandidate],
        audit: CandidateAudit<'_>,
    ) -> Result<Vec<MatchId>>;
    /// The pending candidate pairs (tracing request, custody record) that involve any of
    /// `records`: what must be scored again when those records change.
    async fn pending_pairs(&self, records: &[RecordId]) -> Result<Vec<(RecordId, RecordId)>>;
    /// Replaces the score and explanation of each pair that is still pending (decided pairs keep
    /// the score they were decided on), clearing a first confirmation of four eyes (it was given
    /// on the record as it was), and appends `audit(changed)` once when any changed (the
    /// candidates carry their stored ids), in one transaction. Returns the ids changed.
    async fn rescore_candidates(
        &self,
        candidates: &[NewCandidate],
        audit: CandidateAudit<'_>,
    ) -> Result<Vec<MatchId>>;
    /// Pending candidates in the filter's probability band, by probability descending then id,
    /// with keyset paging. `audit` is appended with the ids returned (like `list_records`).
    async fn review_queue(
        &self,
        filter: &QueueFilter,
        audit: AuditDraft,
    ) -> Result<Vec<MatchCandidate>> {
        self.review_queue_audited(filter, vec![audit]).await
    }
    /// [`Store::review_queue`] with every entry of `audit` (each with the ids).
    async fn review_queue_audited(
        &self,
        filter: &QueueFilter,
        audit: Vec<AuditDraft>,
    ) -> Result<Vec<MatchCandidate>>;
    /// How many candidates [`Store::review_queue`] would list in this band, all pages together,
    /// counting no further than `cap`. A count names no child, so it is not audited.
    async fn review_queue_count(
        &self,
        min_probability: f64,
        max_probability: f64,
        cap: u64,
    ) -> Result<u64>;
    /// One candidate; `audit` is appended when found.
    async fn get_candidate(
        &self,
        id: MatchId,
        audit: AuditDraft,
    ) -> Result<Option<MatchCandidate>> {
        self.get_candidate_audited(id, vec![audit]).await
    }
    /// [`Store::get_candidate`] with every entry of `audit` (none inside a page view).
    async fn get_candidate_audited(
        &self,
        id: MatchId,
        audit: Vec<AuditDraft>,
    ) -> Result<Option<MatchCandidate>>;
    /// Applies a reviewer's decision to a pending candidate, in one transaction with `audit` and,
    /// when a confirmation completes the match, with creating (or joining) the case; `case_audit`
    /// is then appended too, targeted at the case, with `"created": true|false` in its details and
    /// its action changed to `case.join` when an existing case was joined.
    /// `NotFound` when no such candidate; `Conflict::CandidateDecided` when it is no longer
    /// pending (or, four eyes, already confirmed once / not yet confirmed once);
    /// `Conflict::SameReviewer` when the second confirmation comes from the first reviewer.
    async fn decide_candidate(
        &self,
        decision: CandidateDecision<'_>,
        audit: Vec<AuditDraft>,
        case_audit: Option<AuditDraft>,
    ) -> Result<DecisionOutcome>;
    /// One case; `audit` is appended when found.
    async fn get_case(&self, id: CaseId, audit: AuditDraft) -> Result<Option<StoredCase>> {
        self.get_case_audited(id, vec![audit]).await
    }
    /// One case; every entry of `audit` is appended when found, in the read's transaction (a
    /// read that hands out more than the case's workflow is audited as that too).
    async fn get_case_audited(
        &self,
        id: CaseId,
        audit: Vec<AuditDraft>,
    ) -> Result<Option<StoredCase>>;

    // ---- cases, disclosures, tasks ---------------------------------------------------------------
    //
    // Cases take no scope: they are the mediator's (the app checks the caller may read them, and
    // gives other parties only disclosures and task briefs, which carry their party).

    // A case changes through a unit of work ([`CaseWorkStore::begin_case_work`]): the read, the
    // new version and its audit entry in one transaction.

    /// Cases matching the filter, ordered by id; `audit` is appended with `"case_ids"`.
    /// How many cases are in each state (states without cases are left out); audited like a list.
    async fn count_cases_by_state(
        &self,
        audit: AuditDraft,
    ) -> Result<Vec<(homeward_domain::CaseState, i64)>> {
        self.count_cases_by_state_audited(vec![audit]).await
    }
    /// [`Store::count_cases_by_state`] with every entry of `audit` (none inside a page view).
    async fn count_cases_by_state_audited(
        &self,
        audit: Vec<AuditDraft>,
    ) -> Result<Vec<(homeward_domain::CaseState, i64)>>;
    async fn list_cases(&self, filter: &CaseFilter, audit: AuditDraft) -> Result<Vec<StoredCase>> {
        self.list_cases_audited(filter, vec![audit]).await
    }
    /// [`Store::list_cases`] with several entries, each given the `"case_ids"`.
    async fn list_cases_audited(
        &self,
        filter: &CaseFilter,
        audit: Vec<AuditDraft>,
    ) -> Result<Vec<StoredCase>>;
    /// Every version of a case, oldest first; `None` when no such case. Audited when found.
    async fn case_history(
        &self,
        id: CaseId,
        audit: AuditDraft,
    ) -> Result<Option<Vec<CaseVersion>>> {
        self.case_history_audited(id, vec![audit]).await
    }
    /// [`Store::case_history`] with several entries.
    async fn case_history_audited(
        &self,
        id: CaseId,
        audit: Vec<AuditDraft>,
    ) -> Result<Option<Vec<CaseVersion>>>;

    /// Stores a disclosure if the case is still at `case_version` (the consents that allowed it
    /// were read from that version: a consent withdrawn meanwhile must stop it), with `audit`.
    /// `VersionConflict` otherwise; `NotFound` when no such case.
    async fn insert_disclosure(
        &self,
        disclosure: &Disclosure,
        case_version: i64,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Disclosures matching the filter, oldest first; `audit` is appended with
    /// `"disclosure_ids"`.
    async fn list_disclosures(
        &self,
        filter: DisclosureFilter,
        audit: AuditDraft,
    ) -> Result<Vec<Disclosure>> {
        self.list_disclosures_audited(filter, vec![audit]).await
    }
    /// [`Store::list_disclosures`] with every entry of `audit` (each with the ids).
    async fn list_disclosures_audited(
        &self,
        filter: DisclosureFilter,
        audit: Vec<AuditDraft>,
    ) -> Result<Vec<Disclosure>>;

    /// Stores a new task (version 1) with `audit`. `NotFound` when the case or party does not
    /// exist.
    async fn insert_task(&self, task: &Task, audit: AuditDraft) -> Result<StoredTask>;
    /// One task, if it exists and (when `party` is given) is referred to that party. Audited
    /// when found.
    async fn get_task(
        &self,
        id: TaskId,
        party: Option<PartyId>,
        audit: AuditDraft,
    ) -> Result<Option<StoredTask>>;
    /// Tasks matching the filter, by due date then id; `audit` is appended with `"task_ids"`.
    async fn list_tasks(&self, filter: &TaskFilter, audit: AuditDraft) -> Result<Vec<StoredTask>> {
        self.list_tasks_audited(filter, vec![audit]).await
    }
    /// [`Store::list_tasks`] with every entry of `audit` (each with the ids).
    async fn list_tasks_audited(
        &self,
        filter: &TaskFilter,
        audit: Vec<AuditDraft>,
    ) -> Result<Vec<StoredTask>>;
    /// Replaces a task's content if it is at `expected_version` and (when `party` is given)
    /// referred to that party. `NotFound` / `VersionConflict` otherwise.
    async fn update_task(
        &self,
        task: &Task,
        expected_version: i64,
        party: Option<PartyId>,
        audit: AuditDraft,
    ) -> Result<StoredTask>;

    // ---- transfer lists and plans ----------------------------------------------------------------
    //
    // Reads of a list take the party asking (`None` for the mediator): a list the party is not on
    // answers like one that does not exist. What of a list the party may see (its own record
    // ids) is the app's projection. A list or plan changes through a unit of work
    // ([`TransferWorkStore::begin_transfer_work`]), with the cases whose references to it change:
    // in one transaction, with one entry for the action, or not at all.

    /// Stores a new list (version 1, kept in its history) with `audit`. `NotFound` when either
    /// party does not exist; `Conflict::CaseOnAnotherList` when an entry's case is on
    /// another list that is not completed.
    async fn insert_transfer_list(
        &self,
        list: &homeward_domain::TransferList,
        audit: AuditDraft,
    ) -> Result<StoredTransferList>;
    /// One list, if it exists and (when `party` is given) that party is on it. Audited when found.
    async fn get_transfer_list(
        &self,
        id: TransferListId,
        party: Option<PartyId>,
        audit: AuditDraft,
    ) -> Result<Option<StoredTransferList>>;
    /// Lists matching the filter, by id; `audit` is appended with `"transfer_list_ids"`.
    async fn list_transfer_lists(
        &self,
        filter: &TransferListFilter,
        audit: AuditDraft,
    ) -> Result<Vec<StoredTransferList>>;
    /// Every version of a list, oldest first; `None` when no such list or (when `party` is
    /// given) the party is not on it. Audited when found.
    async fn transfer_list_versions(
        &self,
        id: TransferListId,
        party: Option<PartyId>,
        audit: AuditDraft,
    ) -> Result<Option<Vec<TransferListVersion>>>;
    /// One plan (plans are the mediator's); audited when found.
    async fn get_transfer_plan(
        &self,
        id: TransferPlanId,
        audit: AuditDraft,
    ) -> Result<Option<StoredTransferPlan>>;
    /// The plans of one list, oldest first; audited with their ids.
    async fn transfer_plans_of_list(
        &self,
        list: TransferListId,
        audit: AuditDraft,
    ) -> Result<Vec<StoredTransferPlan>>;

    /// The trained model, if any.
    async fn linkage_model(&self) -> Result<Option<StoredModel>>;
    /// Stores (replaces) the trained model.
    async fn put_linkage_model(&self, model: &StoredModel, audit: AuditDraft) -> Result<()>;

    // ---- duplicates ----------------------------------------------------------------------------
    //
    // The same child filed twice by one party. The lookup for scoring is scope-free like the
    // matching reads above (ids only, and only of one party's own records); everything that shows
    // a candidate duplicate takes the caller's scope, and a pair always lies within one party.

    /// The records of `party` and `kind`, not deleted, sharing any of `keys`, as `(key, record
    /// id)` pairs, at most `limit` pairs. The records whose keys these are come back too, when
    /// they are stored: the caller leaves each record out of its own candidates (a batch's
    /// records must still find each other).
    async fn blocked_records_in_party(
        &self,
        party: PartyId,
        kind: RecordKind,
        keys: &[String],
        limit: u32,
    ) -> Result<Vec<(String, RecordId)>>;
    /// Inserts the candidate duplicates whose pair (in either order) is not stored yet, in any
    /// status (so a dismissed pair never comes back), appending `audit(inserted)` once when any
    /// was inserted, in one transaction. Returns the ids inserted.
    async fn insert_duplicates(
        &self,
        duplicates: &[NewDuplicate],
        audit: DuplicateAudit<'_>,
    ) -> Result<Vec<DuplicateId>>;
    /// Pending candidate duplicates within `scope` whose records are both still there, by
    /// probability descending then id, with keyset paging. `audit` is appended with the ids
    /// returned (`"duplicate_ids"`). With [`Scope::Nothing`] nothing is read or audited.
    async fn duplicate_queue(
        &self,
        scope: Scope,
        filter: &DuplicateFilter,
        audit: AuditDraft,
    ) -> Result<Vec<DuplicateCandidate>>;
    /// One candidate duplicate within `scope`, in any status; `audit` is appended when found.
    async fn get_duplicate(
        &self,
        scope: Scope,
        id: DuplicateId,
        audit: AuditDraft,
    ) -> Result<Option<DuplicateCandidate>>;
    /// Marks a pending candidate duplicate dismissed (not the same child), for ever.
    /// `NotFound` outside the scope; `Conflict::DuplicateDecided` when no longer pending.
    async fn dismiss_duplicate(
        &self,
        scope: Scope,
        id: DuplicateId,
        by: UserId,
        at: DateTime<Utc>,
        reason: &str,
        audit: AuditDraft,
    ) -> Result<DuplicateCandidate>;
    /// Merges a pending candidate duplicate, all in one transaction or not at all:
    /// - the survivor gets a `merge` version naming the absorbed record (its content replaced
    ///   when the merge carries content);
    /// - the absorbed record gets a `merge` version naming the survivor, and is deleted with the
    ///   reason and `merged_into` set;
    /// - the candidate becomes `merged`, and the absorbed record's other pending candidate
    ///   duplicates `closed`;
    /// - the absorbed record's pending cross-side candidates are re-pointed at the survivor (the
    ///   same child), except where the survivor already has a candidate with the same record, in
    ///   which case they are `closed`;
    /// - a case holding the absorbed record is re-pointed at the survivor when the survivor has
    ///   no case, and `case_audit` is appended targeted at it.
    ///
    /// Each of `audit` gets what was closed and re-pointed added to its details.
    /// `NotFound` outside the scope; `Conflict::DuplicateDecided` when no longer pending;
    /// `Conflict::SurvivorNotInPair`; `Conflict::RecordDeleted`;
    /// `RecordVersionConflict` when either record is not at the version given;
    /// `Conflict::CasesDiffer` when both records are in different cases.
    async fn merge_duplicate(
        &self,
        scope: Scope,
        merge: DuplicateMerge<'_>,
        audit: Vec<AuditDraft>,
        case_audit: Option<AuditDraft>,
    ) -> Result<MergeOutcome>;
    // ---- attachments -----------------------------------------------------------------------------
    //
    // Metadata only: the content is in the blob store, written before the metadata so that a row
    // never names a blob that is not there.

    /// Stores an attachment's metadata and appends `audit`, in one transaction. The owner must be
    /// visible within `scope` when the row is written: a record within `scope.records`, not
    /// deleted, whose party is `attachment.party_id`; a case only with `scope.cases`. `NotFound`
    /// otherwise (an owner out of scope answers like a missing one); `Conflict::AttachmentId`
    /// for an id already taken.
    async fn insert_attachment(
        &self,
        scope: AttachmentScope,
        attachment: &Attachment,
        audit: AuditDraft,
    ) -> Result<()>;
    /// The attachment if it exists, is not deleted and is within `scope` (one out of scope is
    /// indistinguishable from a missing one). When found, `audit` is appended in the same
    /// transaction as the read.
    async fn get_attachment(
        &self,
        scope: AttachmentScope,
        id: AttachmentId,
        audit: AuditDraft,
    ) -> Result<Option<Attachment>>;
    /// The owner's attachments (not deleted), oldest first; `None` when the owner does not exist
    /// or is outside `scope` (a record that is deleted still lists its attachments, as it can
    /// still be read). `audit` is appended with `"attachment_ids": [...]` (like `list_records`).
    async fn list_attachments(
        &self,
        scope: AttachmentScope,
        owner: AttachmentOwner,
        audit: AuditDraft,
    ) -> Result<Option<Vec<Attachment>>> {
        self.list_attachments_audited(scope, owner, vec![audit])
            .await
    }
    /// [`Store::list_attachments`] with every entry of `audit` (each with the ids).
    async fn list_attachments_audited(
        &self,
        scope: AttachmentScope,
        owner: AttachmentOwner,
        audit: Vec<AuditDraft>,
    ) -> Result<Option<Vec<Attachment>>>;

    // ---- audit log -----------------------------------------------------------------------------

    /// The rows of `table` the audit chain covers, with their hashes recomputed from what is
    /// stored now, ordered by key (id, then version), after the key `after`, at most `limit`
    /// (0 means 1000; at most 10,000). For `audit verify`.
    async fn row_hashes(
        &self,
        table: RowTable,
        after: Option<(uuid::Uuid, i64)>,
        limit: u32,
    ) -> Result<Vec<RowHash>>;
    /// Appends one entry on its own (events that change nothing else, such as reading the log).
    async fn append_audit(&self, audit: AuditDraft) -> Result<AuditEntry>;
    /// Entries with `seq > filter.after_seq`, ascending, matching the filter, at most
    /// `filter.limit` (0 means 1000; at most 10,000).
    async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
    /// The sequence number and hash of the last entry (`0` and the genesis hash when empty).
    async fn audit_head(&self) -> Result<(i64, String)>;
}

/// Opens the store a URL names and applies its migrations: `sqlite://PATH` (created when missing)
/// or `postgres://…` / `postgresql://…`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteStore::open(url).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(postgres::PgStore::open(url).await?)
    } else {
        return Err(StoreError::BadUrl(
            "a database URL starts with sqlite:// or postgres://".to_owned(),
        ));
    };
    store.migrate().await?;
    Ok(store)
}

/// The SQLite URL for a data directory: `DIR/homeward.db`.
pub fn sqlite_url_for_dir(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("homeward.db").display())
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
