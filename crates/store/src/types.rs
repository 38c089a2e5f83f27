//! Rows the store reads and writes that are not domain types of their own.

use chrono::{DateTime, Utc};
use homeward_domain::{
    AttachmentId, Case, CaseId, ChildRecord, DuplicateId, MatchId, PartyId, RecordDraft, RecordId,
    RecordKind, Scope, TokenId, User, UserId,
};
use serde::{Deserialize, Serialize};

/// A user together with the secrets needed to log them in.
#[derive(Clone, Debug)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
    /// Present only when TOTP is enabled (not while enrolment is pending).
    pub totp_secret: Option<String>,
}

/// A browser session. Only the SHA-256 of the session token is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The absolute end, however active the session is.
    pub absolute_expires_at: DateTime<Utc>,
}

/// An API token's metadata. The token itself is shown once at creation; only its hash is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A record to insert, with the folded name text list filters match against.
#[derive(Clone, Debug)]
pub struct NewRecord {
    pub record: ChildRecord,
    pub search_key: String,
    /// `create` or `import`, kept in the record's history.
    pub change: &'static str,
}

/// A change to a record's content.
#[derive(Clone, Debug)]
pub struct RecordChange<'a> {
    pub id: RecordId,
    pub expected_version: i64,
    pub content: &'a RecordDraft,
    pub search_key: &'a str,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// A soft deletion.
#[derive(Clone, Debug)]
pub struct RecordDeletion<'a> {
    pub id: RecordId,
    pub reason: &'a str,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// Which audit entries to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub after_seq: i64,
    pub limit: u32,
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub actor_user: Option<UserId>,
    pub actor_party: Option<PartyId>,
    /// Entries at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this moment.
    pub until: Option<DateTime<Utc>>,
    /// Reads backwards instead: entries with `seq` below this, newest first (the audit viewer
    /// opens on the latest entries; `after_seq` still bounds the page from below).
    pub before_seq: Option<i64>,
}

/// Where a candidate match stands. A decided candidate stays in the table for ever, so that the
/// pair is never scored again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    Pending,
    Confirmed,
    Rejected,
    /// Nothing left to decide: its record was merged into another record of its party that
    /// already has its own candidate with the same record of the other side.
    Closed,
}

impl CandidateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Closed => "closed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "confirmed" => Some(Self::Confirmed),
            "rejected" => Some(Self::Rejected),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// A scored pair to store for review.
#[derive(Clone, Debug)]
pub struct NewCandidate {
    pub id: MatchId,
    pub tracing_record_id: RecordId,
    pub custody_record_id: RecordId,
    pub probability: f64,
    pub match_weight: f64,
    /// The engine's explanation as JSON text.
    pub explanation: String,
    pub model_version: String,
    pub created_at: DateTime<Utc>,
}

/// A stored candidate and the decisions taken on it.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchCandidate {
    pub id: MatchId,
    pub tracing_record_id: RecordId,
    pub custody_record_id: RecordId,
    pub probability: f64,
    pub match_weight: f64,
    pub explanation: String,
    pub model_version: String,
    pub status: CandidateStatus,
    /// Who confirmed or rejected it; with four eyes, who confirmed first (status still pending).
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// With four eyes: the different reviewer whose confirmation completed it.
    pub second_reviewer: Option<UserId>,
    pub second_decided_at: Option<DateTime<Utc>>,
    /// The case a confirmation created or joined.
    pub case_id: Option<CaseId>,
    pub created_at: DateTime<Utc>,
}

/// Which pending candidates to list: probability within `[min, max]`, best first.
#[derive(Clone, Copy, Debug)]
pub struct QueueFilter {
    pub min_probability: f64,
    pub max_probability: f64,
    /// The last candidate of the previous page (its probability and id).
    pub after: Option<(f64, MatchId)>,
    /// Read the candidates before `after` instead, nearest first (going back through the queue).
    pub before: bool,
    /// 0 means 50; at most 500.
    pub limit: u32,
}

/// What a reviewer decided about a pending candidate.
#[derive(Clone, Debug)]
pub enum Decision<'a> {
    Reject {
        reason: &'a str,
    },
    /// The first of two confirmations (four eyes): the candidate stays pending.
    FirstConfirmation {
        reason: Option<&'a str>,
    },
    /// The confirmation that makes the match: alone, or the second of two (`second_of_two`, which
    /// must come from another reviewer than the first). `new_case` is stored unless a case already
    /// holds either record, in which case that one is joined.
    Confirm {
        reason: Option<&'a str>,
        second_of_two: bool,
        new_case: &'a Case,
    },
}

#[derive(Clone, Debug)]
pub struct CandidateDecision<'a> {
    pub id: MatchId,
    pub by: UserId,
    pub at: DateTime<Utc>,
    pub decision: Decision<'a>,
}

/// A case as stored, with its optimistic-locking version.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCase {
    pub case: Case,
    /// The number people know the case by, given when it was opened.
    pub number: homeward_domain::CaseNumber,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a decision changed.
#[derive(Clone, Debug)]
pub struct DecisionOutcome {
    pub candidate: MatchCandidate,
    /// After a completing confirmation: the case created or joined.
    pub case: Option<StoredCase>,
    /// Whether that case was created by this confirmation (rather than joined).
    pub case_created: bool,
}

/// The trained linkage model, as the engine's JSON.
#[derive(Clone, Debug)]
pub struct StoredModel {
    pub model: String,
    pub trained_at: DateTime<Utc>,
}

/// Where a candidate duplicate stands. Decided pairs stay for ever, so that a pair is never
/// scored again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateStatus {
    Pending,
    /// A person said the two records are different children.
    Dismissed,
    /// The two records were merged into one.
    Merged,
    /// One of its records was merged away in another pair: nothing is left to decide.
    Closed,
}

impl DuplicateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Dismissed => "dismissed",
            Self::Merged => "merged",
            Self::Closed => "closed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "dismissed" => Some(Self::Dismissed),
            "merged" => Some(Self::Merged),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// A scored pair of records of one party and kind, to store for review. The store keeps the
/// pair with the smaller id first, whichever way round it is given here.
#[derive(Clone, Debug)]
pub struct NewDuplicate {
    pub id: DuplicateId,
    pub party_id: PartyId,
    pub kind: RecordKind,
    pub first_record_id: RecordId,
    pub second_record_id: RecordId,
    pub probability: f64,
    pub match_weight: f64,
    /// The engine's explanation as JSON text, the first record on the left.
    pub explanation: String,
    pub model_version: String,
    pub created_at: DateTime<Utc>,
}

/// A stored candidate duplicate and what was decided about it.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateCandidate {
    pub id: DuplicateId,
    pub party_id: PartyId,
    pub kind: RecordKind,
    /// The smaller of the two ids.
    pub first_record_id: RecordId,
    pub second_record_id: RecordId,
    pub probability: f64,
    pub match_weight: f64,
    pub explanation: String,
    pub model_version: String,
    pub status: DuplicateStatus,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// After a merge: the record that survived.
    pub survivor_id: Option<RecordId>,
    pub created_at: DateTime<Utc>,
}

/// Which pending candidate duplicates to list (within the caller's scope): best first.
#[derive(Clone, Copy, Debug)]
pub struct DuplicateFilter {
    pub min_probability: f64,
    /// The last candidate of the previous page (its probability and id).
    pub after: Option<(f64, DuplicateId)>,
    /// 0 means 50; at most 500.
    pub limit: u32,
}

/// Merging a pending candidate duplicate: `survivor` (one of the pair) absorbs the other record.
#[derive(Clone, Debug)]
pub struct DuplicateMerge<'a> {
    pub id: DuplicateId,
    pub survivor: RecordId,
    /// The versions the caller saw; a record at another version refuses the merge.
    pub survivor_version: i64,
    pub absorbed_version: i64,
    /// The survivor's new content, when the caller merged the two; `None` keeps its content.
    pub content: Option<(&'a RecordDraft, &'a str)>,
    pub reason: &'a str,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// What a merge changed besides the two records.
#[derive(Clone, Debug)]
pub struct MergeOutcome {
    pub duplicate: DuplicateCandidate,
    pub survivor: ChildRecord,
    pub absorbed: ChildRecord,
    /// Other pending duplicates of the absorbed record, closed.
    pub closed_duplicates: Vec<DuplicateId>,
    /// The absorbed record's pending cross-side candidates now proposing the survivor.
    pub repointed_matches: Vec<MatchId>,
    /// The absorbed record's pending cross-side candidates rejected because the survivor already
    /// has a candidate with the same record of the other side.
    pub closed_matches: Vec<MatchId>,
    /// The case that followed the absorbed record to the survivor.
    pub repointed_case: Option<CaseId>,
}

/// A new version of a case: its whole content, replacing the current one if that is still at
/// `expected_version`. `change` names what happened (kept in the case's history).
#[derive(Clone, Debug)]
pub struct CaseChange<'a> {
    pub case: &'a Case,
    pub expected_version: i64,
    pub change: &'a str,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// One version of a case, as kept in its history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseVersion {
    pub version: i64,
    pub case: Case,
    pub change: String,
    pub changed_by: UserId,
    pub changed_at: DateTime<Utc>,
}

/// Which cases to list (the caller's permission to read cases is the app's to check: cases are
/// the mediator's). Ordered by id, keyset-paged.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub state: Option<homeward_domain::CaseState>,
    /// Cases linking this record, on either side.
    pub record: Option<RecordId>,
    /// Cases with a follow-up visit still open that was due before this day: the overdue ones.
    pub follow_up_due_before: Option<chrono::NaiveDate>,
    /// The case with this number.
    pub number: Option<homeward_domain::CaseNumber>,
    pub after: Option<CaseId>,
    /// 0 means 50; at most 500.
    pub limit: u32,
}

/// Which disclosures to list: those of one case, those made to one party, or both.
#[derive(Clone, Copy, Debug, Default)]
pub struct DisclosureFilter {
    pub case: Option<CaseId>,
    pub to_party: Option<PartyId>,
}

/// A task as stored, with its optimistic-locking version.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTask {
    pub task: homeward_domain::Task,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which tasks to list, by due date then id.
#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    /// Only tasks referred to this party (a humanitarian caller's scope).
    pub party: Option<PartyId>,
    pub case: Option<CaseId>,
    pub status: Option<homeward_domain::TaskStatus>,
    /// Only tasks due before this date (`YYYY-MM-DD`): with status `assigned`, the overdue ones.
    pub due_before: Option<chrono::NaiveDate>,
    /// 0 means 100; at most 1000.
    pub limit: u32,
}

/// What an attachment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AttachmentOwner {
    Record(RecordId),
    Case(CaseId),
}

impl AttachmentOwner {
    /// `record` or `case`, as stored and audited.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Record(_) => "record",
            Self::Case(_) => "case",
        }
    }

    pub fn id(self) -> uuid::Uuid {
        match self {
            Self::Record(r) => r.0,
            Self::Case(c) => c.0,
        }
    }
}

/// An attachment's metadata. Its content is the blob named `sha256` in the blob store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub sha256: String,
    pub owner: AttachmentOwner,
    /// Whose scope it is in: the owning record's party, or for a case the mediator's.
    pub party_id: PartyId,
    /// As the uploader's client named it.
    pub filename: String,
    /// Sniffed from the content.
    pub content_type: String,
    pub size: i64,
    pub uploaded_by: UserId,
    pub uploaded_at: DateTime<Utc>,
    pub description: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Which attachments a caller can see: those of the records within `records` (as for the
/// records themselves), and those of cases only when `cases` (the mediator's case readers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachmentScope {
    pub records: Scope,
    pub cases: bool,
}

/// A transfer list as stored, with its optimistic-locking version.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTransferList {
    pub list: homeward_domain::TransferList,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One version of a transfer list, as kept in its history.
#[derive(Clone, Debug, PartialEq)]
pub struct TransferListVersion {
    pub version: i64,
    pub list: homeward_domain::TransferList,
    pub change: String,
    pub changed_by: UserId,
    pub changed_at: DateTime<Utc>,
}

/// A new version of a list, replacing the current one if that is still at `expected_version`.
#[derive(Clone, Debug)]
pub struct TransferListChange<'a> {
    pub list: &'a homeward_domain::TransferList,
    pub expected_version: i64,
    pub change: &'a str,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// Which lists to list, by id.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransferListFilter {
    /// Only lists this party is on (an origin or custody caller's scope).
    pub party: Option<PartyId>,
    pub state: Option<homeward_domain::ListState>,
    /// 0 means 100; at most 1000.
    pub limit: u32,
}

/// A transfer plan as stored, with its optimistic-locking version.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTransferPlan {
    pub plan: homeward_domain::TravelPlan,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new version of a plan, replacing the current one if that is still at `expected_version`.
#[derive(Clone, Debug)]
pub struct TransferPlanChange<'a> {
    pub plan: &'a homeward_domain::TravelPlan,
    pub expected_version: i64,
    pub at: DateTime<Utc>,
}
