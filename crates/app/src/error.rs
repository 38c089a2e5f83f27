//! One error enum for every use-case. Each variant has a stable machine-readable code and a kind
//! that the web layer maps to an HTTP status; the CLI maps kinds to exit codes.

use homeward_domain::{ChainBreak, Condition, FieldError, Permission, ValidationErrors};
use homeward_store::StoreError;
use serde::Serialize;
use thiserror::Error;

/// What sort of failure this is, independent of transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong; the caller can fix it.
    Invalid,
    /// Who the caller is could not be established.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    NotFound,
    /// The change clashes with the current state.
    Conflict,
    /// Too many attempts; try later.
    RateLimited,
    /// The deployment is not set up for this (e.g. no attachment key configured).
    NotConfigured,
    /// Our fault: storage failure or a broken invariant.
    Internal,
}

/// One bad row of an import, by the line number in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    pub line: u64,
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Error)]
pub enum AppError {
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    #[error("sign-in required")]
    Unauthenticated,
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("this account needs a one-time code from its authenticator app")]
    SecondFactorRequired,
    #[error("the one-time code is wrong or expired")]
    InvalidSecondFactor,
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("not allowed: requires permission {}", .0.as_str())]
    Forbidden(Permission),
    #[error("not allowed: {0}")]
    ForbiddenBecause(&'static str),
    #[error("administrators must set up a second factor (TOTP) before doing this")]
    TotpEnrolmentRequired,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Conflict(Conflict),
    #[error("the record is at version {current}; reload it and apply the change again")]
    VersionConflict { current: i64 },
    #[error("this reviewer already confirmed the candidate; a different reviewer must confirm it")]
    SameReviewer,
    #[error("the candidate has already been decided")]
    CandidateDecided,
    #[error(transparent)]
    TransitionRefused(homeward_domain::RefusedTransition),
    #[error("the consents to share do not cover this disclosure: {}", .0.iter().filter(|c| !c.met).map(|c| c.message.as_str()).collect::<Vec<_>>().join("; "))]
    DisclosureNotCovered(Vec<Condition>),
    #[error("the handover would break the custody chain: {}", .0.iter().map(|c| c.message.as_str()).collect::<Vec<_>>().join("; "))]
    HandoverRefused(Vec<Condition>),
    #[error("the task is {0}: only an assigned task can be reported on or cancelled")]
    TaskClosed(homeward_domain::TaskStatus),
    #[error("the candidate duplicate has already been decided")]
    DuplicateDecided,
    /// One of two records changed at once is stale: names which.
    #[error("record {record} is at version {current}; reload it and decide again")]
    RecordVersionConflict {
        record: homeward_domain::RecordId,
        current: i64,
    },
    #[error(
        "the two records are in different cases; settle which case goes on before merging them"
    )]
    CasesDiffer,
    #[error("{} row(s) of the import are invalid; nothing was imported", .0.len())]
    ImportInvalid(Vec<RowError>),
    #[error("bad import file: {0}")]
    ImportFile(String),
    /// The party imported the same file before; names that import.
    #[error(
        "this file was imported before (import {import} at {at}); import it again only on purpose, with force"
    )]
    AlreadyImported {
        import: uuid::Uuid,
        at: chrono::DateTime<chrono::Utc>,
    },
    #[error("the file is empty")]
    AttachmentEmpty,
    #[error(
        "the file is larger than the limit of {limit} bytes ({:.1} MiB)",
        *.limit as f64 / 1048576.0
    )]
    AttachmentTooLarge { limit: usize },
    #[error(
        "this kind of file is not taken; attach a {} file",
        crate::attachments::ALLOWED_KINDS
    )]
    AttachmentTypeNotAllowed,
    #[error("the file was declared as {declared:?} but its content is {detected}")]
    AttachmentTypeMismatch {
        declared: String,
        detected: &'static str,
    },
    #[error("attachments are not configured on this server (no attachment key)")]
    AttachmentsNotConfigured,
    #[error("evidence bundles are not configured on this server (no evidence signing key)")]
    EvidenceNotConfigured,
    /// The stored content is missing, altered or under another key: never served as garbage.
    #[error("the attachment's content cannot be read: {0}")]
    AttachmentUnreadable(homeward_store::blobs::BlobError),
    #[error("the transfer list changed since it was read: approve its current content ({current})")]
    StaleListHash { current: String },
    #[error(transparent)]
    TransferRefused(homeward_domain::TransferRefused),
    #[error("the case cannot go on a transfer list: {}", .0.iter().map(|c| c.message.as_str()).collect::<Vec<_>>().join("; "))]
    CaseNotListable(Vec<Condition>),
    /// Privacy-preserving linkage: a list, run or pair step refused (see its code).
    #[error(transparent)]
    PprlRefused(homeward_domain::pprl::PprlRefused),
    #[error(transparent)]
    ChainBroken(#[from] ChainBreak),
    /// An export's file cannot be had (yet, or any more): says why.
    #[error("the export is {0}: only a done export can be downloaded")]
    ExportUnavailable(ExportGone),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("storage error: {0}")]
    Store(StoreError),
}

/// What a change clashed with. The API answers all of them with the code `conflict` (and its
/// sentence); pages translate by [`Conflict::code`], so no caller matches a message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Conflict {
    /// Refused by the store: a taken name, a decided candidate, a case on another list.
    #[error(transparent)]
    Store(homeward_store::Conflict),
    #[error("the verification step is already resolved")]
    StepResolved,
    #[error("the consent is already withdrawn")]
    ConsentWithdrawn,
    #[error("the case is {0}: a reunification is recorded once the child is handed_over")]
    NotHandedOver(homeward_domain::CaseState),
    #[error("the reunification is already recorded")]
    ReunificationRecorded,
    #[error("aftercare services follow a recorded reunification")]
    ServiceBeforeReunification,
    #[error("follow-up visits follow a recorded reunification")]
    FollowUpBeforeReunification,
    /// The case moved between the decision and its application.
    #[error(transparent)]
    StaleTransition(homeward_domain::StaleTransition),
    /// The other side deleted its record of a PPRL pair since it answered.
    #[error("the other side's record of the pair was deleted")]
    PprlRecordDeleted,
}

impl Conflict {
    /// A stable machine-readable name for what clashed.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(c) => c.code(),
            Self::StepResolved => "step_resolved",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::NotHandedOver(_) => "not_handed_over",
            Self::ReunificationRecorded => "reunification_recorded",
            Self::ServiceBeforeReunification => "service_before_reunification",
            Self::FollowUpBeforeReunification => "follow_up_before_reunification",
            Self::StaleTransition(_) => "stale_transition",
            Self::PprlRecordDeleted => "pprl_record_deleted",
        }
    }
}

impl From<homeward_domain::StaleTransition> for AppError {
    fn from(e: homeward_domain::StaleTransition) -> Self {
        Self::Conflict(Conflict::StaleTransition(e))
    }
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::SecondFactorRequired => "second_factor_required",
            Self::InvalidSecondFactor => "invalid_second_factor",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Forbidden(_) | Self::ForbiddenBecause(_) => "forbidden",
            Self::TotpEnrolmentRequired => "totp_enrolment_required",
            Self::NotFound => "not_found",
            Self::Conflict(_) => "conflict",
            Self::VersionConflict { .. } => "version_conflict",
            Self::SameReviewer => "second_reviewer_required",
            Self::CandidateDecided => "candidate_decided",
            Self::TransitionRefused(_) => "transition_refused",
            Self::DisclosureNotCovered(_) => "disclosure_not_covered",
            Self::TaskClosed(_) => "task_closed",
            Self::HandoverRefused(_) => "handover_refused",
            Self::DuplicateDecided => "duplicate_decided",
            Self::RecordVersionConflict { .. } => "version_conflict",
            Self::CasesDiffer => "cases_differ",
            Self::ImportInvalid(_) => "import_invalid",
            Self::ImportFile(_) => "import_file_invalid",
            Self::AlreadyImported { .. } => "already_imported",
            Self::AttachmentEmpty => "attachment_empty",
            Self::AttachmentTooLarge { .. } => "attachment_too_large",
            Self::AttachmentTypeNotAllowed => "attachment_type_not_allowed",
            Self::AttachmentTypeMismatch { .. } => "attachment_type_mismatch",
            Self::AttachmentsNotConfigured => "attachments_not_configured",
            Self::EvidenceNotConfigured => "evidence_not_configured",
            Self::AttachmentUnreadable(_) => "attachment_unreadable",
            Self::StaleListHash { .. } => "stale_list_hash",
            Self::TransferRefused(r) => r.code(),
            Self::CaseNotListable(_) => "case_not_listable",
            Self::PprlRefused(r) => r.code(),
            Self::ChainBroken(_) => "audit_chain_broken",
            Self::ExportUnavailable(gone) => gone.code(),
            Self::Internal(_) | Self::Store(_) => "internal",
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Validation(_)
            | Self::ImportInvalid(_)
            | Self::ImportFile(_)
            | Self::AttachmentEmpty
            | Self::AttachmentTooLarge { .. }
            | Self::AttachmentTypeNotAllowed
            | Self::AttachmentTypeMismatch { .. } => ErrorKind::Invalid,
            Self::Unauthenticated
            | Self::InvalidCredentials
            | Self::SecondFactorRequired
            | Self::InvalidSecondFactor => ErrorKind::Unauthenticated,
            Self::TooManyAttempts { .. } => ErrorKind::RateLimited,
            Self::Forbidden(_) | Self::ForbiddenBecause(_) | Self::TotpEnrolmentRequired => {
                ErrorKind::Forbidden
            }
            Self::NotFound => ErrorKind::NotFound,
            Self::Conflict(_)
            | Self::VersionConflict { .. }
            | Self::SameReviewer
            | Self::CandidateDecided
            | Self::TransitionRefused(_)
            | Self::DisclosureNotCovered(_)
            | Self::TaskClosed(_)
            | Self::HandoverRefused(_) => ErrorKind::Conflict,
            Self::DuplicateDecided
            | Self::RecordVersionConflict { .. }
            | Self::CasesDiffer
            | Self::AlreadyImported { .. } => ErrorKind::Conflict,
            Self::AttachmentsNotConfigured | Self::EvidenceNotConfigured => {
                ErrorKind::NotConfigured
            }
            Self::StaleListHash { .. } | Self::TransferRefused(_) | Self::CaseNotListable(_) => {
                ErrorKind::Conflict
            }
            Self::PprlRefused(r) if r.is_invalid_input() => ErrorKind::Invalid,
            Self::PprlRefused(_) => ErrorKind::Conflict,
            Self::ExportUnavailable(_) => ErrorKind::Conflict,
            Self::ChainBroken(_)
            | Self::AttachmentUnreadable(_)
            | Self::Internal(_)
            | Self::Store(_) => ErrorKind::Internal,
        }
    }

    /// The conditions behind a refusal (every one a transition or disclosure still needs).
    pub fn conditions(&self) -> &[Condition] {
        match self {
            Self::TransitionRefused(r) => &r.missing,
            Self::DisclosureNotCovered(c) | Self::HandoverRefused(c) | Self::CaseNotListable(c) => {
                c
            }
            _ => &[],
        }
    }

    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(ValidationErrors::single(field, code, message))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict(c) => Self::Conflict(Conflict::Store(c)),
            StoreError::VersionConflict { current } => Self::VersionConflict { current },
            StoreError::RecordVersionConflict { record, current } => {
                Self::RecordVersionConflict { record, current }
            }
            other => Self::Store(other),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        Self::Validation(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        Self::Validation(ValidationErrors(vec![e]))
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Why an export's file cannot be downloaded (each answered 409 with its own code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportGone {
    /// Queued or running: not made yet.
    NotReady,
    /// Its job failed.
    Failed,
    /// Its file was deleted at its expiry.
    Expired,
}

impl ExportGone {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotReady => "export_not_ready",
            Self::Failed => "export_failed",
            Self::Expired => "export_expired",
        }
    }
}

impl std::fmt::Display for ExportGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotReady => "not ready yet",
            Self::Failed => "failed",
            Self::Expired => "expired",
        })
    }
}
