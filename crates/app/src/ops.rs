//! Operating a deployment (issue 19): what metrics and readiness report, and the parts of a backup
//! that need the store or the attachment key. Console and monitoring only: nothing here reads or
//! returns a child's data, so none of it takes a caller.

use crate::{App, AppError, AppResult};
use homeward_domain::{AuditAction, AuditDraft};
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

/// A backup written or restored, as the audit log keeps it: who ran the command on the server
/// (the operating-system account and the host: the command line has no signed-in user), the
/// archive's name and SHA-256, and what it holds. No child's data, no key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupEvent {
    /// The archive's file name, as the operator gave it.
    pub file: String,
    /// Hex SHA-256 of the whole archive.
    pub sha256: String,
    pub bytes: u64,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub attachments: usize,
    /// When the backup was made (for a restore: the archive's own time).
    pub made_at: chrono::DateTime<chrono::Utc>,
}

/// The hex SHA-256 of a file and its length, read in pieces.
pub fn file_sha256(path: &Path) -> std::io::Result<(String, u64)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0_u8; 1 << 16];
    let mut len = 0_u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), len))
}

/// Who runs this command: the operating-system account (`USER`, `LOGNAME`) and the host name.
fn operator() -> (String, String) {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    (user, host)
}

impl App {
    /// Enters a backup (`backup.create`) or a restore (`backup.restore`) in the audit log, from
    /// the command line on the server. Returns the entry's sequence number.
    #[tracing::instrument(skip_all)]
    pub async fn audit_backup(&self, restore: bool, event: &BackupEvent) -> AppResult<i64> {
        let (os_user, host) = operator();
        let action = if restore {
            AuditAction::BackupRestore
        } else {
            AuditAction::BackupCreate
        };
        let draft = AuditDraft {
            source: Some("cli".to_owned()),
            ..AuditDraft::new(action)
        }
        .details(serde_json::json!({
            "os_user": os_user,
            "host": host,
            "file": event.file,
            "sha256": event.sha256,
            "bytes": event.bytes,
            "backend": event.backend,
            "attachments": event.attachments,
            "made_at": event.made_at,
        }));
        Ok(self.store.append_audit(draft).await?.seq)
    }

    #[tracing::instrument(skip_all)]
    pub async fn ops_snapshot(&self) -> AppResult<OpsSnapshot> {
        Ok(OpsSnapshot {
            pool: self.store.pool_stats(),
            jobs: job_counts(&self.store.job_counts().await?),
            audit_length: self.store.audit_head().await?.0,
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn readiness(&self) -> Readiness {
        match self.store.pending_migrations().await {
            Ok(0) => Readiness::Ready,
            Ok(n) => Readiness::MigrationsPending(n),
            Err(_) => Readiness::DatabaseUnreachable,
        }
    }

    /// A consistent copy of the database in `out` (which must not exist) while the server runs;
    /// `false` where the backend's own tool makes it (PostgreSQL: `pg_dump`).
    #[tracing::instrument(skip_all)]
    pub async fn backup_database(&self, out: &Path) -> AppResult<bool> {
        Ok(self.store.backup_into(out).await?)
    }

    /// The names of every attachment blob the database points at.
    #[tracing::instrument(skip_all)]
    pub async fn attachment_blobs(&self) -> AppResult<Vec<String>> {
        Ok(self.store.attachment_blobs().await?)
    }

    /// Opens every attachment with the configured key. With attachments and no key, fails with
    /// `attachments_not_configured`: a backup that cannot show its files are readable is not
    /// checked.
    #[tracing::instrument(skip_all)]
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
