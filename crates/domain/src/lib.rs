//! Homeward's domain: pure types and rules, no I/O.
//!
//! Everything that decides *what is allowed* or *what is valid* lives here, so that the store, the
//! app and the web layer cannot disagree about it.

pub mod accountability;
pub mod aftercare;
pub mod audit;
pub mod best_interests;
pub mod bidi;
pub mod case;
pub mod case_number;
pub mod case_rules;
pub mod condition;
pub mod consent;
pub mod csv_cell;
pub mod date;
pub mod disclosure;
pub mod disclosure_stats;
pub mod error;
pub mod evidence;
pub mod ids;
pub mod name;
pub mod party;
pub mod plan_gap;
pub mod pprl;
pub mod record;
pub mod role;
pub mod rowhash;
pub mod task;
pub mod transfer;
pub mod user;
pub mod ustar;
pub mod verification;

pub use accountability::{AccountabilityFact, Actor, ActorKind, FactKind, Source};
pub use aftercare::{
    AftercareService, FollowUp, FollowUpWaiver, Relative, Reunification, ServiceKind,
    follow_up_schedule,
};
pub use audit::{AuditAction, AuditDraft, AuditEntry, ChainBreak, GENESIS_HASH};
pub use best_interests::{
    BestInterestsAssessment, BestInterestsDecision, BestInterestsDetermination,
    BestInterestsPolicy, PanelMember,
};
pub use case::{
    AftercarePolicy, Case, CasePolicy, CaseState, Custodian, CustodianKind, Handover, ListEntry,
    MatchConfirmation, MatchLink, MatchPolicy, RefusedTransition, Revalidation, StaleTransition,
    TransferPlan, Transition, TransitionKind,
};
pub use case_number::{CaseNumber, CaseNumberError};
pub use case_rules::{FallBack, FallBackFailed, WithdrawalRefused};
pub use condition::{Condition, ConditionCode};
pub use consent::{
    ChildViews, ChildWish, Consent, ConsentDecision, ConsentGiver, ConsentMethod, ConsentPolicy,
    ConsentScope, ConsentStatus, GiverKind, Withdrawal,
};
pub use date::PartialDate;
pub use disclosure::{
    DisclosableField, DisclosedField, Disclosure, DisclosureRefused, may_disclose,
};
pub use error::{FieldError, ValidationErrors};
pub use ids::{
    AccountabilityId, AttachmentId, BestInterestsId, CaseId, ChildViewsId, ConsentId, DisclosureId,
    DuplicateId, FollowUpId, LegId, MatchId, PartyId, RecordId, ServiceId, TaskId, TokenId,
    TransferListId, TransferPlanId, UserId, VerificationStepId,
};
pub use name::{NameEntry, Script};
pub use party::{Party, PartyKind, PartyName};
pub use plan_gap::PlanGap;
pub use record::{
    ChildRecord, ChildRecordInput, Enquirer, RecordDraft, RecordFilter, RecordKind, RecordVersion,
    Sex,
};
pub use role::{Permission, Role, Scope};
pub use rowhash::{canonical_json, row_hash};
pub use task::{
    BriefEntry, BriefField, Task, TaskCancellation, TaskKind, TaskRefused, TaskReport, TaskStatus,
};
pub use transfer::{
    Cost, Direction, DirectionChange, DocumentKind, Escort, EscortKind, FieldChange, Leg,
    LegChange, LegUpdate, ListApproval, ListDiff, ListState, PartyDirectionChange, PartyEntry,
    PartyListDiff, PartyListView, PlanApproval, Side, TransferList, TransferListEntry,
    TransferRefused, TravelDocument, TravelMode, TravelPlan, content_hash,
};
pub use user::{DisplayName, Language, Password, User, Username};
pub use verification::{
    Resolution, VerificationMethod, VerificationOutcome, VerificationPolicy, VerificationStep,
};
