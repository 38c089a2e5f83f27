use sqlx::error::{DatabaseError, ErrorKind};
use thiserror::Error;

use crate::Conflict;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The change clashes with what is already there (a taken name, a decided candidate).
    #[error(transparent)]
    Conflict(Conflict),
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
                ErrorKind::UniqueViolation => Self::Conflict(unique_conflict(d.as_ref())),
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

/// What already exists. PostgreSQL names the constraint; SQLite only says
/// `UNIQUE constraint failed: table.column` in the message.
fn unique_conflict(d: &dyn DatabaseError) -> Conflict {
    let key = match d.constraint() {
        Some(c) => c,
        None => d
            .message()
            .split_once("constraint failed: ")
            .map_or("", |(_, c)| c),
    };
    Conflict::of_constraint(key)
}
