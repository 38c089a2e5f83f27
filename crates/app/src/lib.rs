//! Homeward's use-cases. Each one authorises the caller, validates the input, makes the change and
//! audits it, in one store transaction. Access control lives here and nowhere else: a [`Caller`]
//! can only be obtained by authenticating, and it carries the scope every read is filtered by.

pub mod admin;
pub mod aftercare;
pub mod attachments;
pub mod audit;
pub mod auth;
mod caller;
pub mod case_list;
mod case_work;
pub mod cases;
pub mod checkpoint;
pub mod clock;
#[cfg(feature = "console")]
pub mod console;
pub mod documents;
pub mod duplicates;
pub mod error;
pub mod evidence;
pub mod exports;
pub mod import;
pub mod indicators;
pub mod jobs;
pub mod learning;
pub mod matching;
pub mod ops;
pub mod pprl;
pub mod records;
pub mod reindex;
mod secret;
pub mod sight;
pub mod staging;
pub mod synthetic;
pub mod tasks;
mod throttle;
pub mod transfers;
mod view;

pub use caller::{Actor, Caller, ConsoleProof};
pub use error::{AppError, AppResult, ErrorKind, RowError};
/// Store types that the use-cases take or return, so that callers (the web layer) need not depend
/// on the store themselves.
pub use homeward_store::{ApiToken, AuditFilter};
pub use view::Viewed;

use attachments::{AttachmentKey, DEFAULT_MAX_ATTACHMENT_BYTES};
use chrono::Duration;
use homeward_store::Store;
use homeward_store::blobs::BlobStore;
use std::path::PathBuf;
use std::sync::Arc;

/// Deployment settings that change what the use-cases allow.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Administrators must enrol a TOTP second factor before administering anything.
    pub require_admin_totp: bool,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends after this long whatever happens.
    pub session_absolute: Duration,
    /// Failed sign-ins for one username within `login_window` before sign-in is refused.
    pub login_max_failures: i64,
    /// Failed sign-ins from one address within `login_window` before sign-in is refused.
    pub login_max_failures_per_source: i64,
    pub login_window: Duration,
    /// Name shown in authenticator apps.
    pub totp_issuer: String,
    /// Four eyes on matches: a candidate is confirmed only when a second, different reviewer
    /// confirms it too.
    pub require_second_review: bool,
    /// The policies the case guards read: verification, consent, best interests, aftercare.
    pub case_policy: homeward_domain::CasePolicy,
    /// Largest attachment taken, in bytes.
    pub max_attachment_bytes: usize,
    /// The key attachments are encrypted with. Without it (or without `attachment_dir`) uploads
    /// and downloads answer `attachments_not_configured`.
    pub attachment_key: Option<AttachmentKey>,
    /// Where attachment contents are kept: the data directory's `attachments/`.
    pub attachment_dir: Option<PathBuf>,
    /// Run the job a commit enqueues (its matching) right after the commit, in the same request,
    /// as well as leaving it to the workers: the command line and tests see the matches on
    /// return. `serve` turns it off and runs workers instead (see [`jobs`]).
    pub inline_jobs: bool,
    /// Privacy-preserving linkage: the smallest encoded list a side may upload (so nobody can
    /// probe for one child), and the largest.
    pub pprl_min_list_size: usize,
    pub pprl_max_list_size: usize,
    /// How long a job worker's claim holds a job before another server may take it over (a
    /// running job renews it with each chunk of progress). See [`jobs::LEASE`].
    pub job_lease: std::time::Duration,
    /// The Ed25519 key evidence bundles are signed with (the audit checkpoint key, made by
    /// `homeward audit keygen`). Without it, exports answer `evidence_not_configured`.
    pub evidence_key: Option<evidence::EvidenceKey>,
    /// Where the use-cases read the time (the system's; a settable one in tests).
    pub clock: clock::Clock,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            require_admin_totp: false,
            session_idle: Duration::minutes(30),
            session_absolute: Duration::hours(12),
            login_max_failures: 5,
            login_max_failures_per_source: 50,
            login_window: Duration::minutes(15),
            totp_issuer: "Homeward".to_owned(),
            require_second_review: false,
            case_policy: homeward_domain::CasePolicy::default(),
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            attachment_key: None,
            attachment_dir: None,
            inline_jobs: true,
            pprl_min_list_size: pprl::DEFAULT_MIN_LIST_SIZE,
            pprl_max_list_size: pprl::DEFAULT_MAX_LIST_SIZE,
            job_lease: jobs::LEASE,
            evidence_key: None,
            clock: clock::Clock::system(),
        }
    }
}

/// The application: a store and the deployment's settings. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    store: Arc<dyn Store>,
    config: Arc<AppConfig>,
    /// Attachment contents; `None` when the deployment configured no key or directory.
    blobs: Option<BlobStore>,
    /// Wakes this process's job worker when a commit here enqueued a job (other processes hear
    /// of it through PostgreSQL's NOTIFY, or their poll).
    jobs_wake: Arc<tokio::sync::Notify>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, config: AppConfig) -> Self {
        let blobs = match (&config.attachment_dir, &config.attachment_key) {
            (Some(dir), Some(key)) => Some(BlobStore::new(dir, key.bytes())),
            _ => None,
        };
        Self {
            store,
            config: Arc::new(config),
            blobs,
            jobs_wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Now, by the deployment's clock (see [`clock::Clock`]).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    /// The same app, leaving the jobs its commits enqueue to the workers.
    pub fn without_inline_jobs(&self) -> Self {
        let mut app = self.clone();
        let mut config = (*self.config).clone();
        config.inline_jobs = false;
        app.config = Arc::new(config);
        app
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// `sqlite` or `postgres`, for health checks.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Whether the database answers.
    #[tracing::instrument(skip_all)]
    pub async fn healthy(&self) -> bool {
        self.store.audit_head().await.is_ok()
    }

    #[tracing::instrument(skip_all)]
    pub async fn close(&self) {
        self.store.close().await;
    }
}
