//! Conditions: the one shape in which every guard and policy says what is met and what is missing,
//! so that a refused transition, a checklist and an API error read the same.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable, machine-readable name for a condition. Clients key translations and tests on these,
/// so a code is never renamed; new ones are added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConditionCode {
    /// The target state cannot be reached from the current one at all.
    IllegalTransition,
    /// Side exits, holds and moves back need a written reason.
    ReasonRequired,
    MatchNotConfirmed,
    /// The confirmed match does not link the case's own tracing request and custody record.
    MatchRecordsMismatch,
    /// Fewer distinct reviewers confirmed the match than the policy asks (four-eyes rule).
    MatchConfirmationsMissing,
    IdentityNotVerified,
    /// A negative verification result that nobody has resolved.
    VerificationNegative,
    ConsentMissing,
    ConsentWithdrawn,
    ConsentExpired,
    ConsentRefused,
    ChildViewsMissing,
    /// A best-interests determination is required (or, when met, not required or in favour).
    BidRequired,
    /// The latest determination decided against return.
    BidAgainstReturn,
    /// A best-interests assessment is required by the policy and missing.
    BiaMissing,
    NotOnAgreedList,
    NoApprovedTransferPlan,
    HandoverMissing,
    /// The first handover is not from the authority that held the child.
    CustodyChainStart,
    /// A handover's receiver is not the next handover's giver.
    CustodyChainGap,
    /// Handovers are recorded out of time order.
    CustodyChainOrder,
    /// The last handover is not to the family or the receiving authority.
    ReceptionMissing,
    FollowUpMissing,
    FollowUpsOutstanding,
    /// No valid consent to share covers a field chosen for disclosure.
    DisclosureNotCovered,
    /// A valid refusal to share covers a field chosen for disclosure.
    DisclosureRefused,
    NoFieldsChosen,
    /// A handover can only be recorded while the child is on its way.
    HandoverNotAllowed,
    /// Reunified needs the reunification recorded: with whom, where, when, the home.
    ReunificationMissing,
}

impl ConditionCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IllegalTransition => "illegal_transition",
            Self::ReasonRequired => "reason_required",
            Self::MatchNotConfirmed => "match_not_confirmed",
            Self::MatchRecordsMismatch => "match_records_mismatch",
            Self::MatchConfirmationsMissing => "match_confirmations_missing",
            Self::IdentityNotVerified => "identity_not_verified",
            Self::VerificationNegative => "verification_negative",
            Self::ConsentMissing => "consent_missing",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::ConsentExpired => "consent_expired",
            Self::ConsentRefused => "consent_refused",
            Self::ChildViewsMissing => "child_views_missing",
            Self::BidRequired => "bid_required",
            Self::BidAgainstReturn => "bid_against_return",
            Self::BiaMissing => "bia_missing",
            Self::NotOnAgreedList => "not_on_agreed_list",
            Self::NoApprovedTransferPlan => "no_approved_transfer_plan",
            Self::HandoverMissing => "handover_missing",
            Self::CustodyChainStart => "custody_chain_start",
            Self::CustodyChainGap => "custody_chain_gap",
            Self::CustodyChainOrder => "custody_chain_order",
            Self::ReceptionMissing => "reception_missing",
            Self::FollowUpMissing => "follow_up_missing",
            Self::FollowUpsOutstanding => "follow_ups_outstanding",
            Self::DisclosureNotCovered => "disclosure_not_covered",
            Self::DisclosureRefused => "disclosure_refused",
            Self::NoFieldsChosen => "no_fields_chosen",
            Self::HandoverNotAllowed => "handover_not_allowed",
            Self::ReunificationMissing => "reunification_missing",
        }
    }
}

impl fmt::Display for ConditionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One requirement and whether it holds. When unmet, `code` names what is missing and `message`
/// says what to do; when met, `message` says what satisfies it (so the UI can show both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Condition {
    pub code: ConditionCode,
    pub met: bool,
    pub message: String,
}

impl Condition {
    pub fn met(code: ConditionCode, message: impl Into<String>) -> Self {
        Self {
            code,
            met: true,
            message: message.into(),
        }
    }
    pub fn unmet(code: ConditionCode, message: impl Into<String>) -> Self {
        Self {
            code,
            met: false,
            message: message.into(),
        }
    }
    pub fn check(code: ConditionCode, met: bool, message: impl Into<String>) -> Self {
        Self {
            code,
            met,
            message: message.into(),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// The unmet conditions of a list, or `Ok` when there are none.
pub fn unmet(conditions: Vec<Condition>) -> Result<(), Vec<Condition>> {
    let missing: Vec<Condition> = conditions.into_iter().filter(|c| !c.met).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}
