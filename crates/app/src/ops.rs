//! Operating a deployment (issue 19): what metrics and readiness report, and the parts of a backup
//! that need the store or the attachment key. Console and monitoring only: nothing here reads or
//! returns a child's data, so none of it takes a caller.

use crate::{App, AppError, AppResult};
use homeward_store::blobs::BlobError;
use homeward_store::{JobState, PoolStats};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The figures `/metrics` publishes beside its request counts: counts and sizes only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpsSnapshot {
    pub pool: PoolStats,
    /// Jobs in every state (`queued`, `running`, `done`, `failed`), zero included.
    pub jobs: Vec<(&'static str, i64)>,
    /// Entries in the audit chain (the head's sequence number).
    pub audit_length: i64,
}

/// Whether this server should be sent requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// The database does not answer.
    DatabaseUnreachable,
    /// The database answers but lacks migrations this build needs.
    MigrationsPending(usize),
}

/// What opening every attachment with the configured key found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyCheck {
    /// Blobs that opened (decrypted to the content their name says).
    pub opened: usize,
    /// Blobs the database names that are not on the disk.
    pub missing: Vec<String>,
    /// Blobs on the disk that the key does not open.
    pub unopenable: Vec<String>,
}

impl KeyCheck {
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty() && self.unopenable.is_empty()
    }
}

impl App {
    pub async fn ops_snapshot(&self) -> AppResult<OpsSnapshot> {
        Ok(OpsSnapshot {
            pool: self.store.pool_stats(),
            jobs: job_counts(&self.store.job_counts().await?),
            audit_length: self.store.audit_head().await?.0,
        })
    }

    pub async fn readiness(&self) -> Readiness {
        match self.store.pending_migrations().await {
            Ok(0) => Readiness::Ready,
            Ok(n) => Readiness::MigrationsPending(n),
            Err(_) => Readiness::DatabaseUnreachable,
        }
    }

    /// A consistent copy of the database in `out` (which must not exist) while the server runs;
    /// `false` where the backend's own tool makes it (PostgreSQL: `pg_dump`).
    pub async fn backup_database(&self, out: &Path) -> AppResult<bool> {
        Ok(self.store.backup_into(out).await?)
    }

    /// The names of every attachment blob the database points at.
    pub async fn attachment_blobs(&self) -> AppResult<Vec<String>> {
        Ok(self.store.attachment_blobs().await?)
    }

    /// Opens every attachment with the configured key. With attachments and no key, fails with
    /// `attachments_not_configured`: a backup that cannot show its files are readable is not
    /// checked.
    pub async fn check_attachment_key(&self) -> AppResult<KeyCheck> {
        let names = self.store.attachment_blobs().await?;
        let mut check = KeyCheck::default();
        if names.is_empty() {
            return Ok(check);
        }
        let blobs = self
            .blobs
            .as_ref()
            .ok_or(AppError::AttachmentsNotConfigured)?;
        for name in names {
            match blobs.get(&name).await {
                Ok(_) => check.opened += 1,
                Err(BlobError::NotFound(_)) => check.missing.push(name),
                Err(BlobError::Undecryptable(_) | BlobError::HashMismatch(_)) => {
                    check.unopenable.push(name);
                }
                Err(e) => return Err(AppError::Internal(e.to_string())),
            }
        }
        Ok(check)
    }

    /// Names the configured attachment key without revealing it: the first 16 hex digits of a
    /// domain-separated SHA-256 of the key (a 256-bit random key cannot be found from it). A
    /// backup records it, so a restore can tell that the key it is given is the one in use.
    pub fn attachment_key_fingerprint(&self) -> Option<String> {
        let key = self.config.attachment_key.as_ref()?;
        let mut h = Sha256::new();
        h.update(b"homeward attachment key fingerprint v1\0");
        h.update(key.bytes());
        Some(hex::encode(&h.finalize()[..8]))
    }
}

fn job_counts(counts: &[(JobState, i64)]) -> Vec<(&'static str, i64)> {
    JobState::ALL
        .into_iter()
        .map(|state| {
            let n = counts
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n);
            (state.as_str(), n)
        })
        .collect()
}
