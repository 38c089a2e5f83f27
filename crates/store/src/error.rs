use sqlx::error::{DatabaseError, ErrorKind};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the text names what already exists (e.g. `username`).
    #[error("already exists: {0}")]
    Conflict(String),
    /// Someone changed the record since the caller read it.
    #[error("the record is at version {current}, not the version the change was based on")]
    VersionConflict { current: i64 },
    /// Like `VersionConflict`, in a change to two records at once: names the stale one.
    #[error("record {record} is at version {current}, not the version the change was based on")]
    RecordVersionConflict {
        record: homeward_domain::RecordId,
        current: i64,
    },
    /// The party imported a file with the same fingerprint before: that import.
    #[error("the same file was imported before, as import {import}")]
    AlreadyImported {
        import: uuid::Uuid,
        at: chrono::DateTime<chrono::Utc>,
    },
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// Data in the database that does not decode into a domain value (should never happen).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The commit of a group this write or audited read belonged to (see `group_commit` and
    /// `write_group`) failed or was abandoned: its work is not stored, a read returns no data.
    #[error("the group commit failed: {0}")]
    GroupCommit(String),
}

/// Every `?` on a sqlx result goes through here, so constraint and decoding failures get their
/// meaning on both backends without each call site having to remember to map them.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(ref d) => match d.kind() {
                ErrorKind::UniqueViolation => Self::Conflict(unique_label(d.as_ref()).to_owned()),
                // The only foreign keys point at parties, users and records that must exist first.
                ErrorKind::ForeignKeyViolation => Self::NotFound,
                _ => Self::Database(e),
            },
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_) => Self::Corrupt(e.to_string()),
            e => Self::Database(e),
        }
    }
}

/// Names what already exists. PostgreSQL reports the constraint (its default names); SQLite only
/// says `UNIQUE constraint failed: table.column` in the message.
fn unique_label(d: &dyn DatabaseError) -> &str {
    let key = match d.constraint() {
        Some(c) => c,
        None => d
            .message()
            .split_once("constraint failed: ")
            .map_or("", |(_, c)| c),
    };
    match key {
        "users_username_key" | "users.username" => "username",
        "parties_name_key" | "parties.name" => "party name",
        "api_tokens_token_hash_key" | "api_tokens.token_hash" => "token",
        "api_tokens_pkey" | "api_tokens.id" => "token id",
        "sessions_pkey" | "sessions.token_hash" => "session",
        "parties_pkey" | "parties.id" => "party id",
        "users_pkey" | "users.id" => "user id",
        "records_pkey" | "records.id" => "record id",
        "attachments_pkey" | "attachments.id" => "attachment id",
        "transfer_list_cases_pkey" | "transfer_list_cases.case_id" => "case on another open list",
        "transfer_plan_cases_pkey" | "transfer_plan_cases.case_id" => "case on another plan",
        "transfer_lists_pkey" | "transfer_lists.id" => "transfer list id",
        "transfer_plans_pkey" | "transfer_plans.id" => "transfer plan id",
        "" => "a unique value",
        other => other,
    }
}
