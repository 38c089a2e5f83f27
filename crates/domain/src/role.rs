//! Roles, permissions and scope: what a user may do is decided here and nowhere else.

use crate::error::FieldError;
use crate::ids::PartyId;
use crate::party::PartyKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Caseworker,
    Reviewer,
    Logistics,
    Viewer,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Self::Admin,
        Self::Caseworker,
        Self::Reviewer,
        Self::Logistics,
        Self::Viewer,
        Self::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Caseworker => "caseworker",
            Self::Reviewer => "reviewer",
            Self::Logistics => "logistics",
            Self::Viewer => "viewer",
            Self::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|r| r.as_str() == wanted).ok_or_else(|| {
            FieldError::new(
                "roles",
                "invalid_role",
                format!(
                    "unknown role {s:?}; expected admin, caseworker, reviewer, logistics, viewer or auditor"
                ),
            )
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read child records within the caller's scope (each read is audited).
    RecordRead,
    /// File a new child record (of the kind the caller's party files).
    RecordCreate,
    /// Change a child record; the previous version is kept.
    RecordUpdate,
    /// Soft-delete a child record with a reason.
    RecordDelete,
    /// Import many records from a spreadsheet.
    RecordImport,
    /// Create parties.
    PartyManage,
    /// Create users, reset their passwords, change their roles.
    UserManage,
    /// Revoke any user's API tokens (everyone may revoke their own).
    TokenRevokeAny,
    /// Read and verify the audit log.
    AuditRead,
    /// Confirm or reject candidate matches in the review queue.
    MatchReview,
    /// Read cases (the mediator's view of both sides).
    CaseRead,
    /// Open cases and move them through their states.
    CaseManage,
    /// Record identity-verification steps.
    VerificationRecord,
    /// Record consents, refusals and their withdrawal (the origin side records the family's).
    ConsentRecord,
    /// Record the child's views, best-interests assessments and determinations.
    BestInterestsRecord,
    /// Disclose chosen case fields to the counterpart.
    Disclose,
    /// Read what was disclosed to one's own party.
    DisclosureRead,
    /// Assign tasks to humanitarian parties and cancel them.
    TaskManage,
    /// See the tasks (and only the fields they need) referred to one's party.
    TaskRead,
    /// Report the outcome of a task referred to one's party.
    TaskReport,
    /// See the candidate duplicates among records within one's scope (a party's own records;
    /// the mediator's, all), dismiss them or merge the two records.
    DuplicateReview,
    /// Attach documents and photos to child records the caller can see: whoever may update the
    /// records of their own side, and the mediator's caseworkers (for the records shared with it).
    AttachmentUpload,
    /// Record the handovers of the custody chain.
    HandoverRecord,
    /// Record the reunification, aftercare services and follow-up visits of a case, and waive
    /// a visit in writing.
    AftercareRecord,
    /// See the follow-up visits one's own party is responsible for and report them done.
    FollowUpReport,
    /// Record how the child was taken and held (the accountability record).
    AccountabilityRecord,
    /// Read the accountability record (prosecutors, auditors; every read audited).
    AccountabilityRead,
    /// Draft transfer lists and move them through their states (the mediator negotiates them).
    TransferListManage,
    /// See the transfer lists one's party is on, in terms of its own records.
    TransferListRead,
    /// Approve a transfer list's content on behalf of one's party.
    TransferListApprove,
    /// Plan how children travel: route, escorts, documents, costs.
    TransferPlanManage,
    /// Approve a transfer plan for travel.
    TransferPlanApprove,
    /// Export a case's evidence bundle (its accountability record, attachments and the audit
    /// entries about them, signed): observers only, every export audited.
    EvidenceExport,
}

use PartyKind as K;
use Permission as P;
use Role as R;

/// The one table of who may do what: a permission is granted when the user holds one of the roles
/// *and* belongs to a party of one of the kinds. Every check in Homeward reads this table.
pub const PERMISSIONS: &[(Permission, &[Role], &[PartyKind])] = &[
    (
        P::RecordRead,
        &[R::Caseworker, R::Reviewer, R::Logistics, R::Viewer],
        &[K::Mediator, K::Origin, K::Custody],
    ),
    (P::RecordCreate, &[R::Caseworker], &[K::Origin, K::Custody]),
    (P::RecordUpdate, &[R::Caseworker], &[K::Origin, K::Custody]),
    (P::RecordDelete, &[R::Caseworker], &[K::Origin, K::Custody]),
    (P::RecordImport, &[R::Caseworker], &[K::Origin, K::Custody]),
    (P::PartyManage, &[R::Admin], &[K::Mediator]),
    (P::UserManage, &[R::Admin], &K::ALL),
    (P::TokenRevokeAny, &[R::Admin], &K::ALL),
    (
        P::AuditRead,
        &[R::Auditor, R::Admin],
        &[K::Mediator, K::Observer],
    ),
    (P::MatchReview, &[R::Reviewer], &[K::Mediator]),
    (
        P::CaseRead,
        &[R::Caseworker, R::Reviewer, R::Logistics, R::Viewer],
        &[K::Mediator],
    ),
    (P::CaseManage, &[R::Caseworker, R::Reviewer], &[K::Mediator]),
    (P::VerificationRecord, &[R::Caseworker], &[K::Mediator]),
    // The mediator's caseworkers record the consents (the origin side collects the family's and
    // hands it over): recording one on a case would show the case to the origin side.
    (P::ConsentRecord, &[R::Caseworker], &[K::Mediator]),
    (
        P::BestInterestsRecord,
        &[R::Caseworker, R::Reviewer],
        &[K::Mediator],
    ),
    (P::Disclose, &[R::Caseworker, R::Reviewer], &[K::Mediator]),
    (
        P::DisclosureRead,
        &[R::Caseworker, R::Reviewer, R::Logistics, R::Viewer],
        &[K::Origin, K::Custody],
    ),
    (P::TaskManage, &[R::Caseworker], &[K::Mediator]),
    (
        P::TaskRead,
        &[R::Caseworker, R::Logistics, R::Viewer],
        &[K::Mediator, K::Humanitarian],
    ),
    (
        P::TaskReport,
        &[R::Caseworker, R::Logistics],
        &[K::Humanitarian],
    ),
    // The parties know their own data best; the mediator's reviewers see every submitted record
    // anyway. Scope still confines each party to pairs of its own records.
    (
        P::DuplicateReview,
        &[R::Caseworker, R::Reviewer],
        &[K::Mediator, K::Origin, K::Custody],
    ),
    (
        P::AttachmentUpload,
        &[R::Caseworker],
        &[K::Mediator, K::Origin, K::Custody],
    ),
    (
        P::HandoverRecord,
        &[R::Caseworker, R::Logistics],
        &[K::Mediator],
    ),
    (P::AftercareRecord, &[R::Caseworker], &[K::Mediator]),
    // The home state's social services and the NGOs do the visits; they see only the visits
    // they are responsible for.
    (
        P::FollowUpReport,
        &[R::Caseworker, R::Logistics],
        &[K::Origin, K::Humanitarian],
    ),
    (P::AccountabilityRecord, &[R::Caseworker], &[K::Mediator]),
    (
        P::AccountabilityRead,
        &[R::Caseworker, R::Reviewer, R::Viewer, R::Auditor],
        &[K::Mediator, K::Observer],
    ),
    (
        P::TransferListManage,
        &[R::Caseworker, R::Logistics],
        &[K::Mediator],
    ),
    (
        P::TransferListRead,
        &[R::Admin, R::Caseworker, R::Logistics, R::Viewer],
        &[K::Origin, K::Custody],
    ),
    // Approving commits the party to hand over or receive the children: its administrators and
    // caseworkers, not its viewers or logistics staff.
    (
        P::TransferListApprove,
        &[R::Admin, R::Caseworker],
        &[K::Origin, K::Custody],
    ),
    (
        P::TransferPlanManage,
        &[R::Caseworker, R::Logistics],
        &[K::Mediator],
    ),
    (
        P::TransferPlanApprove,
        &[R::Caseworker, R::Logistics],
        &[K::Mediator],
    ),
    (P::EvidenceExport, &[R::Viewer, R::Auditor], &[K::Observer]),
];

impl Permission {
    pub const ALL: [Permission; 33] = [
        Self::RecordRead,
        Self::RecordCreate,
        Self::RecordUpdate,
        Self::RecordDelete,
        Self::RecordImport,
        Self::PartyManage,
        Self::UserManage,
        Self::TokenRevokeAny,
        Self::AuditRead,
        Self::MatchReview,
        Self::CaseRead,
        Self::CaseManage,
        Self::VerificationRecord,
        Self::ConsentRecord,
        Self::BestInterestsRecord,
        Self::Disclose,
        Self::DisclosureRead,
        Self::TaskManage,
        Self::TaskRead,
        Self::TaskReport,
        Self::DuplicateReview,
        Self::AttachmentUpload,
        Self::HandoverRecord,
        Self::AftercareRecord,
        Self::FollowUpReport,
        Self::AccountabilityRecord,
        Self::AccountabilityRead,
        Self::TransferListManage,
        Self::TransferListRead,
        Self::TransferListApprove,
        Self::TransferPlanManage,
        Self::TransferPlanApprove,
        Self::EvidenceExport,
    ];

    /// Whether any of `roles`, held in a party of `kind`, grants this permission.
    pub fn granted(self, kind: PartyKind, roles: &[Role]) -> bool {
        PERMISSIONS.iter().any(|(p, rs, ks)| {
            *p == self && ks.contains(&kind) && roles.iter().any(|r| rs.contains(r))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RecordRead => "record_read",
            Self::RecordCreate => "record_create",
            Self::RecordUpdate => "record_update",
            Self::RecordDelete => "record_delete",
            Self::RecordImport => "record_import",
            Self::PartyManage => "party_manage",
            Self::UserManage => "user_manage",
            Self::TokenRevokeAny => "token_revoke_any",
            Self::AuditRead => "audit_read",
            Self::MatchReview => "match_review",
            Self::CaseRead => "case_read",
            Self::CaseManage => "case_manage",
            Self::VerificationRecord => "verification_record",
            Self::ConsentRecord => "consent_record",
            Self::BestInterestsRecord => "best_interests_record",
            Self::Disclose => "disclose",
            Self::DisclosureRead => "disclosure_read",
            Self::TaskManage => "task_manage",
            Self::TaskRead => "task_read",
            Self::TaskReport => "task_report",
            Self::DuplicateReview => "duplicate_review",
            Self::AttachmentUpload => "attachment_upload",
            Self::HandoverRecord => "handover_record",
            Self::AftercareRecord => "aftercare_record",
            Self::FollowUpReport => "follow_up_report",
            Self::AccountabilityRecord => "accountability_record",
            Self::AccountabilityRead => "accountability_read",
            Self::TransferListManage => "transfer_list_manage",
            Self::TransferListRead => "transfer_list_read",
            Self::TransferListApprove => "transfer_list_approve",
            Self::TransferPlanManage => "transfer_plan_manage",
            Self::TransferPlanApprove => "transfer_plan_approve",
            Self::EvidenceExport => "evidence_export",
        }
    }
}

/// Which child records a caller can see. Every store query that reads records takes one, so there
/// is no way to ask the store for records without saying whose view it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The mediator sees every record submitted to it.
    AllSubmitted,
    /// An origin or custody party sees the records it filed itself.
    OwnParty(PartyId),
    /// Everybody else sees no child record.
    Nothing,
}

impl Scope {
    pub fn for_party(kind: PartyKind, party: PartyId) -> Self {
        match kind {
            PartyKind::Mediator => Self::AllSubmitted,
            PartyKind::Origin | PartyKind::Custody => Self::OwnParty(party),
            PartyKind::Humanitarian | PartyKind::Observer => Self::Nothing,
        }
    }

    pub fn covers(self, owner: PartyId) -> bool {
        match self {
            Self::AllSubmitted => true,
            Self::OwnParty(p) => p == owner,
            Self::Nothing => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caseworkers_file_records_only_for_the_two_sides() {
        assert!(P::RecordCreate.granted(K::Origin, &[R::Caseworker]));
        assert!(P::RecordCreate.granted(K::Custody, &[R::Caseworker]));
        assert!(!P::RecordCreate.granted(K::Mediator, &[R::Caseworker]));
        assert!(!P::RecordCreate.granted(K::Origin, &[R::Viewer]));
    }

    #[test]
    fn only_mediator_admins_create_parties() {
        assert!(P::PartyManage.granted(K::Mediator, &[R::Admin]));
        assert!(!P::PartyManage.granted(K::Origin, &[R::Admin]));
        assert!(!P::PartyManage.granted(K::Mediator, &[R::Caseworker, R::Auditor]));
    }

    #[test]
    fn humanitarian_and_observer_see_no_records() {
        for r in Role::ALL {
            assert!(!P::RecordRead.granted(K::Humanitarian, &[r]));
            assert!(!P::RecordRead.granted(K::Observer, &[r]));
        }
        let p = PartyId::new();
        assert!(!Scope::for_party(K::Observer, p).covers(p));
        assert!(Scope::for_party(K::Mediator, p).covers(PartyId::new()));
        assert!(!Scope::for_party(K::Origin, p).covers(PartyId::new()));
    }

    #[test]
    fn every_permission_has_a_row() {
        // With one row per listed permission, equal lengths mean no row names a permission
        // left out of ALL.
        assert_eq!(PERMISSIONS.len(), P::ALL.len());
        for p in P::ALL {
            assert_eq!(
                PERMISSIONS.iter().filter(|(q, _, _)| *q == p).count(),
                1,
                "{}",
                p.as_str()
            );
        }
    }

    #[test]
    fn case_work_stays_with_the_mediator_and_tasks_with_humanitarians() {
        for p in [P::MatchReview, P::CaseManage, P::Disclose, P::TaskManage] {
            for k in [K::Origin, K::Custody, K::Humanitarian, K::Observer] {
                assert!(
                    !p.granted(k, &Role::ALL),
                    "{} for {}",
                    p.as_str(),
                    k.as_str()
                );
            }
        }
        assert!(P::ConsentRecord.granted(K::Mediator, &[R::Caseworker]));
        assert!(!P::ConsentRecord.granted(K::Origin, &[R::Caseworker]));
        assert!(!P::ConsentRecord.granted(K::Custody, &[R::Caseworker]));
        assert!(P::TaskReport.granted(K::Humanitarian, &[R::Logistics]));
        assert!(!P::CaseRead.granted(K::Humanitarian, &Role::ALL));
        assert!(P::DisclosureRead.granted(K::Origin, &[R::Viewer]));
    }

    #[test]
    fn duplicates_are_reviewed_by_the_owning_sides_and_the_mediator() {
        for k in [K::Mediator, K::Origin, K::Custody] {
            assert!(P::DuplicateReview.granted(k, &[R::Caseworker]));
            assert!(P::DuplicateReview.granted(k, &[R::Reviewer]));
            for r in [R::Admin, R::Logistics, R::Viewer, R::Auditor] {
                assert!(!P::DuplicateReview.granted(k, &[r]), "{}", r.as_str());
            }
        }
        for k in [K::Humanitarian, K::Observer] {
            assert!(!P::DuplicateReview.granted(k, &Role::ALL));
        }
    }

    #[test]
    fn attachments_are_uploaded_by_caseworkers_of_parties_that_see_records() {
        for k in [K::Mediator, K::Origin, K::Custody] {
            assert!(
                P::AttachmentUpload.granted(k, &[R::Caseworker]),
                "{}",
                k.as_str()
            );
            // Whoever may attach to a record of their side may also change it (mediator aside,
            // whose caseworkers attach to what is shared with them).
            if k != K::Mediator {
                assert!(P::RecordUpdate.granted(k, &[R::Caseworker]));
            }
        }
        for r in [R::Viewer, R::Reviewer, R::Logistics, R::Auditor, R::Admin] {
            assert!(
                !P::AttachmentUpload.granted(K::Origin, &[r]),
                "{}",
                r.as_str()
            );
        }
        for k in [K::Humanitarian, K::Observer] {
            assert!(
                !P::AttachmentUpload.granted(k, &Role::ALL),
                "{}",
                k.as_str()
            );
        }
    }

    #[test]
    fn observers_read_the_accountability_record_and_nothing_of_the_case() {
        assert!(P::AccountabilityRead.granted(K::Observer, &[R::Auditor]));
        assert!(P::AccountabilityRead.granted(K::Observer, &[R::Viewer]));
        assert!(!P::AccountabilityRecord.granted(K::Observer, &Role::ALL));
        assert!(!P::CaseRead.granted(K::Observer, &Role::ALL));
        for k in [K::Origin, K::Custody, K::Humanitarian] {
            assert!(
                !P::AccountabilityRead.granted(k, &Role::ALL),
                "{}",
                k.as_str()
            );
        }
        assert!(P::FollowUpReport.granted(K::Humanitarian, &[R::Logistics]));
        assert!(!P::FollowUpReport.granted(K::Custody, &Role::ALL));
    }

    #[test]
    fn lists_are_negotiated_by_the_mediator_and_approved_by_the_two_sides() {
        assert!(P::TransferListManage.granted(K::Mediator, &[R::Logistics]));
        assert!(!P::TransferListManage.granted(K::Mediator, &[R::Viewer]));
        for k in [K::Origin, K::Custody, K::Humanitarian, K::Observer] {
            assert!(!P::TransferListManage.granted(k, &Role::ALL));
            assert!(!P::TransferPlanApprove.granted(k, &Role::ALL));
        }
        for k in [K::Origin, K::Custody] {
            assert!(P::TransferListApprove.granted(k, &[R::Caseworker]));
            assert!(P::TransferListApprove.granted(k, &[R::Admin]));
            assert!(!P::TransferListApprove.granted(k, &[R::Viewer, R::Logistics]));
            assert!(P::TransferListRead.granted(k, &[R::Viewer]));
        }
        assert!(!P::TransferListApprove.granted(K::Mediator, &Role::ALL));
        assert!(!P::TransferListRead.granted(K::Humanitarian, &Role::ALL));
        assert!(P::TransferPlanApprove.granted(K::Mediator, &[R::Logistics]));
        assert!(!P::TransferPlanApprove.granted(K::Mediator, &[R::Reviewer, R::Viewer]));
    }

    #[test]
    fn roles_parse_case_insensitively_and_reject_unknown() {
        assert_eq!("Reviewer".parse::<Role>().unwrap(), R::Reviewer);
        assert_eq!("root".parse::<Role>().unwrap_err().code, "invalid_role");
    }
}
