//! Rows as both backends decode them, and their conversion into domain values. The column types
//! line up (`Uuid`, `DateTime<Utc>`, `Json<RecordDraft>`, `bool`, `i64`) so one struct serves both.

use crate::{
    ApiToken, Attachment, AttachmentOwner, CandidateStatus, CaseVersion, DuplicateCandidate,
    DuplicateStatus, MatchCandidate, Result, SessionRow, StoreError, StoredCase, StoredTask,
    StoredTransferList, StoredTransferPlan, TransferListVersion, UserCredentials,
};
use chrono::{DateTime, SubsecRound, Utc};
use homeward_domain::{
    AuditEntry, Case, ChildRecord, Language, Party, PartyName, RecordDraft, RecordVersion, Role,
    Task, TransferList, TravelPlan, User, Username,
};
use sqlx::types::Json;
use uuid::Uuid;

/// Both databases keep microseconds; binding everything at that precision makes what a caller
/// gets back identical on both backends, and keeps SQLite's text timestamps comparable.
pub(crate) fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.map(ts)
}

fn corrupt(what: &str, value: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}: {e}"))
}

/// Roles are stored as their codes joined by commas.
pub(crate) fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_roles(text: &str) -> Result<Vec<Role>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|e: homeward_domain::FieldError| corrupt("role", s, e.message))
        })
        .collect()
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PartyRow {
    id: Uuid,
    name: String,
    kind: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<PartyRow> for Party {
    type Error = StoreError;
    fn try_from(r: PartyRow) -> Result<Self> {
        Ok(Party {
            id: r.id.into(),
            name: PartyName::parse(&r.name)
                .map_err(|e| corrupt("party name", &r.name, e.message))?,
            kind: r.kind.parse().map_err(|e: homeward_domain::FieldError| {
                corrupt("party kind", &r.kind, e.message)
            })?,
            created_at: r.created_at,
        })
    }
}

/// The columns [`UserRow`] decodes, qualified so they can be joined.
macro_rules! user_columns {
    () => {
        "users.id, users.party_id, users.username, users.display_name, users.roles, users.totp_enabled, users.disabled, users.created_at, users.language"
    };
}
pub(crate) use user_columns;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    party_id: Uuid,
    username: String,
    display_name: String,
    roles: String,
    totp_enabled: bool,
    disabled: bool,
    created_at: DateTime<Utc>,
    language: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: r.id.into(),
            party_id: r.party_id.into(),
            username: Username::parse(&r.username)
                .map_err(|e| corrupt("username", &r.username, e.message))?,
            display_name: r.display_name,
            roles: parse_roles(&r.roles)?,
            totp_enabled: r.totp_enabled,
            disabled: r.disabled,
            created_at: r.created_at,
            language: match r.language.as_deref() {
                None => None,
                Some(code) => Some(
                    Language::parse(code).ok_or_else(|| corrupt("language", code, "unknown"))?,
                ),
            },
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
    totp_secret: Option<String>,
}

impl TryFrom<CredentialsRow> for UserCredentials {
    type Error = StoreError;
    fn try_from(r: CredentialsRow) -> Result<Self> {
        let user = User::try_from(r.user)?;
        // A secret whose enrolment was never confirmed must not be asked for at login.
        let totp_secret = r.totp_secret.filter(|_| user.totp_enabled);
        Ok(UserCredentials {
            user,
            password_hash: r.password_hash,
            totp_secret,
        })
    }
}

/// A session joined with its user; the session's own `created_at` is renamed in the query.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionUserRow {
    token_hash: String,
    user_id: Uuid,
    csrf_token: String,
    session_created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    absolute_expires_at: DateTime<Utc>,
    #[sqlx(flatten)]
    user: UserRow,
}

impl TryFrom<SessionUserRow> for (SessionRow, User) {
    type Error = StoreError;
    fn try_from(r: SessionUserRow) -> Result<Self> {
        let session = SessionRow {
            token_hash: r.token_hash,
            user_id: r.user_id.into(),
            csrf_token: r.csrf_token,
            created_at: r.session_created_at,
            expires_at: r.expires_at,
            absolute_expires_at: r.absolute_expires_at,
        };
        Ok((session, User::try_from(r.user)?))
    }
}

/// The columns [`TokenRow`] decodes.
macro_rules! token_columns {
    () => {
        "api_tokens.id, api_tokens.user_id, api_tokens.name, api_tokens.created_at, api_tokens.expires_at, api_tokens.last_used_at, api_tokens.revoked_at"
    };
}
pub(crate) use token_columns;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: r.id.into(),
            user_id: r.user_id.into(),
            name: r.name,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A token joined with its user; the token's columns that clash with the user's are renamed.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TokenUserRow {
    token_id: Uuid,
    token_name: String,
    token_created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    user: UserRow,
}

impl TryFrom<TokenUserRow> for (ApiToken, User) {
    type Error = StoreError;
    fn try_from(r: TokenUserRow) -> Result<Self> {
        let user = User::try_from(r.user)?;
        let token = ApiToken {
            id: r.token_id.into(),
            user_id: user.id,
            name: r.token_name,
            created_at: r.token_created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        };
        Ok((token, user))
    }
}

/// The columns [`RecordRow`] decodes.
macro_rules! record_columns {
    () => {
        "id, party_id, version, content, created_at, created_by, updated_at, updated_by, deleted_at, deletion_reason, \
         merged_into"
    };
}
pub(crate) use record_columns;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RecordRow {
    id: Uuid,
    party_id: Uuid,
    pub(crate) version: i64,
    content: Json<RecordDraft>,
    created_at: DateTime<Utc>,
    created_by: Uuid,
    updated_at: DateTime<Utc>,
    updated_by: Uuid,
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    deletion_reason: Option<String>,
    merged_into: Option<Uuid>,
}

impl From<RecordRow> for ChildRecord {
    fn from(r: RecordRow) -> Self {
        ChildRecord {
            id: r.id.into(),
            party_id: r.party_id.into(),
            version: r.version,
            content: r.content.0,
            created_at: r.created_at,
            created_by: r.created_by.into(),
            updated_at: r.updated_at,
            updated_by: r.updated_by.into(),
            deleted_at: r.deleted_at,
            deletion_reason: r.deletion_reason,
            merged_into: r.merged_into.map(Into::into),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct VersionRow {
    record_id: Uuid,
    version: i64,
    content: Json<RecordDraft>,
    changed_at: DateTime<Utc>,
    changed_by: Uuid,
    change: String,
    merged_record: Option<Uuid>,
}

impl From<VersionRow> for RecordVersion {
    fn from(r: VersionRow) -> Self {
        RecordVersion {
            record_id: r.record_id.into(),
            version: r.version,
            content: r.content.0,
            changed_at: r.changed_at,
            changed_by: r.changed_by.into(),
            change: r.change,
            merged_record: r.merged_record.map(Into::into),
        }
    }
}

/// The columns [`AuditRow`] decodes, in the order they are inserted.
macro_rules! audit_columns {
    () => {
        "seq, at, actor_user, actor_party, action, target_kind, target_id, source, details, prev_hash, hash"
    };
}
pub(crate) use audit_columns;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: DateTime<Utc>,
    actor_user: Option<Uuid>,
    actor_party: Option<Uuid>,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    source: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            seq: r.seq,
            at: r.at,
            actor_user: r.actor_user.map(Into::into),
            actor_party: r.actor_party.map(Into::into),
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            source: r.source,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The columns [`CandidateRow`] decodes.
macro_rules! candidate_columns {
    () => {
        "id, tracing_record_id, custody_record_id, probability, match_weight, explanation, model_version, \
         status, decided_by, decided_at, reason, second_reviewer, second_decided_at, case_id, created_at"
    };
}
pub(crate) use candidate_columns;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CandidateRow {
    id: Uuid,
    tracing_record_id: Uuid,
    custody_record_id: Uuid,
    probability: f64,
    match_weight: f64,
    explanation: String,
    model_version: String,
    status: String,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    reason: Option<String>,
    second_reviewer: Option<Uuid>,
    second_decided_at: Option<DateTime<Utc>>,
    case_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<CandidateRow> for MatchCandidate {
    type Error = StoreError;
    fn try_from(r: CandidateRow) -> Result<Self> {
        Ok(MatchCandidate {
            id: r.id.into(),
            tracing_record_id: r.tracing_record_id.into(),
            custody_record_id: r.custody_record_id.into(),
            probability: r.probability,
            match_weight: r.match_weight,
            explanation: r.explanation,
            model_version: r.model_version,
            status: CandidateStatus::parse(&r.status)
                .ok_or_else(|| corrupt("candidate status", &r.status, "unknown"))?,
            decided_by: r.decided_by.map(Into::into),
            decided_at: r.decided_at,
            reason: r.reason,
            second_reviewer: r.second_reviewer.map(Into::into),
            second_decided_at: r.second_decided_at,
            case_id: r.case_id.map(Into::into),
            created_at: r.created_at,
        })
    }
}

/// The columns [`DuplicateRow`] decodes.
macro_rules! duplicate_columns {
    () => {
        "id, party_id, kind, first_record_id, second_record_id, probability, match_weight, explanation, \
         model_version, status, decided_by, decided_at, reason, survivor_id, created_at"
    };
}
pub(crate) use duplicate_columns;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DuplicateRow {
    id: Uuid,
    party_id: Uuid,
    kind: String,
    first_record_id: Uuid,
    second_record_id: Uuid,
    probability: f64,
    match_weight: f64,
    explanation: String,
    model_version: String,
    status: String,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    reason: Option<String>,
    survivor_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<DuplicateRow> for DuplicateCandidate {
    type Error = StoreError;
    fn try_from(r: DuplicateRow) -> Result<Self> {
        Ok(DuplicateCandidate {
            id: r.id.into(),
            party_id: r.party_id.into(),
            kind: r.kind.parse().map_err(|e: homeward_domain::FieldError| {
                corrupt("record kind", &r.kind, e.message)
            })?,
            first_record_id: r.first_record_id.into(),
            second_record_id: r.second_record_id.into(),
            probability: r.probability,
            match_weight: r.match_weight,
            explanation: r.explanation,
            model_version: r.model_version,
            status: DuplicateStatus::parse(&r.status)
                .ok_or_else(|| corrupt("duplicate status", &r.status, "unknown"))?,
            decided_by: r.decided_by.map(Into::into),
            decided_at: r.decided_at,
            reason: r.reason,
            survivor_id: r.survivor_id.map(Into::into),
            created_at: r.created_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CaseRow {
    content: Json<Case>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    number: Option<String>,
}

impl TryFrom<CaseRow> for StoredCase {
    type Error = StoreError;

    fn try_from(r: CaseRow) -> Result<Self> {
        let case = r.content.0;
        let number = r
            .number
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt(format!("case {} has no number", case.id)))?
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("case {}'s number: {e}", case.id)))?;
        Ok(StoredCase {
            case,
            number,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CaseVersionRow {
    version: i64,
    content: Json<Case>,
    change: String,
    changed_by: Uuid,
    changed_at: DateTime<Utc>,
}

impl From<CaseVersionRow> for CaseVersion {
    fn from(r: CaseVersionRow) -> Self {
        CaseVersion {
            version: r.version,
            case: r.content.0,
            change: r.change,
            changed_by: r.changed_by.into(),
            changed_at: r.changed_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TaskRow {
    content: Json<Task>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TaskRow> for StoredTask {
    fn from(r: TaskRow) -> Self {
        StoredTask {
            task: r.content.0,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The columns [`AttachmentRow`] decodes.
macro_rules! attachment_columns {
    () => {
        "id, sha256, owner_kind, record_id, case_id, party_id, filename, content_type, size, \
         uploaded_by, uploaded_at, description, deleted_at"
    };
}
pub(crate) use attachment_columns;

/// Which attachment `$1` a scope may see: `$2` whether it reads records, `$3` its party (NULL
/// for every party), `$4` whether it reads cases. One rule for every read of one attachment.
macro_rules! attachment_in_scope {
    () => {
        "id = $1 AND deleted_at IS NULL \
         AND ((owner_kind = 'record' AND $2 AND ($3 IS NULL OR party_id = $3)) \
         OR (owner_kind = 'case' AND $4))"
    };
}
pub(crate) use attachment_in_scope;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    id: Uuid,
    sha256: String,
    owner_kind: String,
    record_id: Option<Uuid>,
    case_id: Option<Uuid>,
    party_id: Uuid,
    filename: String,
    content_type: String,
    size: i64,
    uploaded_by: Uuid,
    uploaded_at: DateTime<Utc>,
    description: Option<String>,
    deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<AttachmentRow> for Attachment {
    type Error = StoreError;
    fn try_from(r: AttachmentRow) -> Result<Self> {
        let owner = match (r.owner_kind.as_str(), r.record_id, r.case_id) {
            ("record", Some(id), None) => AttachmentOwner::Record(id.into()),
            ("case", None, Some(id)) => AttachmentOwner::Case(id.into()),
            _ => {
                return Err(corrupt(
                    "attachment owner",
                    &r.owner_kind,
                    "ids do not match",
                ));
            }
        };
        Ok(Attachment {
            id: r.id.into(),
            sha256: r.sha256,
            owner,
            party_id: r.party_id.into(),
            filename: r.filename,
            content_type: r.content_type,
            size: r.size,
            uploaded_by: r.uploaded_by.into(),
            uploaded_at: r.uploaded_at,
            description: r.description,
            deleted_at: r.deleted_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TransferListRow {
    content: Json<TransferList>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TransferListRow> for StoredTransferList {
    fn from(r: TransferListRow) -> Self {
        StoredTransferList {
            list: r.content.0,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TransferListVersionRow {
    version: i64,
    content: Json<TransferList>,
    change: String,
    changed_by: Uuid,
    changed_at: DateTime<Utc>,
}

impl From<TransferListVersionRow> for TransferListVersion {
    fn from(r: TransferListVersionRow) -> Self {
        TransferListVersion {
            version: r.version,
            list: r.content.0,
            change: r.change,
            changed_by: r.changed_by.into(),
            changed_at: r.changed_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TransferPlanRow {
    content: Json<TravelPlan>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TransferPlanRow> for StoredTransferPlan {
    fn from(r: TransferPlanRow) -> Self {
        StoredTransferPlan {
            plan: r.content.0,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Converts every row, failing on the first that does not decode.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_ones_are_corruption() {
        let roles = [Role::Admin, Role::Viewer];
        assert_eq!(roles_text(&roles), "admin,viewer");
        assert_eq!(parse_roles("admin,viewer").unwrap(), roles);
        assert_eq!(parse_roles("").unwrap(), vec![]);
        assert!(matches!(
            parse_roles("admin,root"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn timestamps_keep_microseconds() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(ts(t).timestamp_subsec_nanos(), 123_456_000);
    }
}
