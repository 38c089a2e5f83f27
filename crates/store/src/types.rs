//! Rows the store reads and writes that are not domain types of their own.

use chrono::{DateTime, Utc};
use homeward_domain::{ChildRecord, PartyId, RecordDraft, RecordId, TokenId, User, UserId};
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
}
