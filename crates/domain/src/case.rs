//! The case: one child's way from a tracing request to its family, as a state machine whose guards
//! the domain enforces, so that no layer above can list, move or close a case the facts do not
//! support.
//!
//! ```text
//! open → located → identity_verified → consent_obtained → listed → in_transit → handed_over
//!      → reunified → closed;   side exits: on_hold (resumable) · withdrawn · declined ·
//!      not_in_best_interests · deceased
//! ```

use crate::accountability::AccountabilityFact;
use crate::aftercare::{AftercareService, FollowUp, Reunification};
use crate::best_interests::{
    BestInterestsAssessment, BestInterestsDecision, BestInterestsDetermination, BestInterestsPolicy,
};
use crate::condition::{Condition, ConditionCode as C};
use crate::consent::{
    ChildViews, ChildWish, Consent, ConsentDecision, ConsentPolicy, ConsentStatus, GiverKind,
};
use crate::date::PartialDate;
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{CaseId, MatchId, PartyId, RecordId, UserId};
use crate::verification::{VerificationPolicy, VerificationStep};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Open,
    Located,
    IdentityVerified,
    ConsentObtained,
    Listed,
    InTransit,
    HandedOver,
    Reunified,
    Closed,
    OnHold,
    Withdrawn,
    Declined,
    NotInBestInterests,
    Deceased,
}

impl CaseState {
    /// The main line, in order.
    pub const MAIN_LINE: [CaseState; 9] = [
        Self::Open,
        Self::Located,
        Self::IdentityVerified,
        Self::ConsentObtained,
        Self::Listed,
        Self::InTransit,
        Self::HandedOver,
        Self::Reunified,
        Self::Closed,
    ];

    pub const ALL: [CaseState; 14] = [
        Self::Open,
        Self::Located,
        Self::IdentityVerified,
        Self::ConsentObtained,
        Self::Listed,
        Self::InTransit,
        Self::HandedOver,
        Self::Reunified,
        Self::Closed,
        Self::OnHold,
        Self::Withdrawn,
        Self::Declined,
        Self::NotInBestInterests,
        Self::Deceased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Located => "located",
            Self::IdentityVerified => "identity_verified",
            Self::ConsentObtained => "consent_obtained",
            Self::Listed => "listed",
            Self::InTransit => "in_transit",
            Self::HandedOver => "handed_over",
            Self::Reunified => "reunified",
            Self::Closed => "closed",
            Self::OnHold => "on_hold",
            Self::Withdrawn => "withdrawn",
            Self::Declined => "declined",
            Self::NotInBestInterests => "not_in_best_interests",
            Self::Deceased => "deceased",
        }
    }

    /// Position on the main line; `None` for on_hold and the side exits.
    pub fn rank(self) -> Option<usize> {
        Self::MAIN_LINE.iter().position(|s| *s == self)
    }

    /// Nothing follows these.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Closed
                | Self::Withdrawn
                | Self::Declined
                | Self::NotInBestInterests
                | Self::Deceased
        )
    }

    fn before_transit(self) -> bool {
        self.rank()
            .is_some_and(|r| Some(r) < Self::InTransit.rank())
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseState {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == wanted)
            .ok_or_else(|| {
                FieldError::new(
                    "state",
                    "invalid_state",
                    format!("unknown case state {s:?}"),
                )
            })
    }
}

/// A reviewer's confirmation of a candidate match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchConfirmation {
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// The confirmed match that says the tracing request and the custody record are the same child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchLink {
    pub match_id: MatchId,
    pub tracing_request: RecordId,
    pub custody_record: RecordId,
    pub confirmations: Vec<MatchConfirmation>,
}

/// The case's place on a transfer list (negotiated in issue 5): both sides must approve the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListEntry {
    /// The transfer list's id (opaque here).
    pub list_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_approved_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody_approved_at: Option<DateTime<Utc>>,
}

/// How the child travels (issue 5 fills in route, escort and documents).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferPlan {
    /// The plan's id (opaque here).
    pub plan_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<UserId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CustodianKind {
    /// The authority that held the child.
    CustodyAuthority,
    Mediator,
    Humanitarian,
    /// A relative or diplomat escorting the child.
    Escort,
    /// The home state's receiving authority.
    OriginAuthority,
    Family,
}

/// Who has the child at a moment of the journey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Custodian {
    pub kind: CustodianKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<PartyId>,
}

impl Custodian {
    /// The same custodian, whatever the spacing or case a clerk typed the name in.
    pub fn same_as(&self, other: &Custodian) -> bool {
        fn norm(s: &str) -> String {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        }
        self.kind == other.kind
            && self.party == other.party
            && norm(&self.name) == norm(&other.name)
    }
}

impl fmt::Display for Custodian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// One link of the custody chain: the child passes from `giver` to `receiver`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Handover {
    pub at: DateTime<Utc>,
    pub giver: Custodian,
    pub receiver: Custodian,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Who saw the child pass hands (names as they signed).
    #[serde(default)]
    pub witnesses: Vec<String>,
    pub recorded_by: UserId,
}

/// Every policy the case guards read, configured per deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct CasePolicy {
    pub verification: VerificationPolicy,
    pub consent: ConsentPolicy,
    pub best_interests: BestInterestsPolicy,
    pub matching: MatchPolicy,
    pub aftercare: AftercarePolicy,
}

/// Default: one reviewer confirms a match. Four eyes (2) is a deployment choice: it halves a
/// reviewer's mistakes but doubles the queue, and identity verification follows anyway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct MatchPolicy {
    pub confirmations: u8,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self { confirmations: 1 }
    }
}

/// Default: at least one follow-up visit done, and none scheduled left undone. How many visits a
/// child needs depends on the child, so the plan schedules them; the guard only refuses to close
/// a case with no visit at all or with a planned one skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AftercarePolicy {
    pub min_follow_ups: u8,
    /// Follow-up visits scheduled on reunification, in months after it.
    pub schedule_months: Vec<u16>,
}

impl Default for AftercarePolicy {
    fn default() -> Self {
        Self {
            min_follow_ups: 1,
            schedule_months: vec![1, 3, 6, 12],
        }
    }
}

impl CasePolicy {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        for r in [
            self.verification.validate(),
            self.consent.validate(),
            self.best_interests.validate(),
        ] {
            if let Err(e) = r {
                errs.0.extend(e.0);
            }
        }
        if self.matching.confirmations == 0 {
            errs.push(FieldError::new(
                "matching.confirmations",
                "out_of_range",
                "at least one reviewer confirms a match",
            ));
        }
        errs.into_result(|| ())
    }
}

/// Everything the guards read about one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Case {
    pub id: CaseId,
    pub state: CaseState,
    /// While on hold: the state it was put on hold from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_hold_from: Option<CaseState>,
    /// Why the case is on hold or left by a side exit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing_request: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody_record: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_match: Option<MatchLink>,
    /// From the linked records; the age rules (child's views) read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_birth_date: Option<PartialDate>,
    #[serde(default)]
    pub verification_steps: Vec<VerificationStep>,
    #[serde(default)]
    pub consents: Vec<Consent>,
    #[serde(default)]
    pub child_views: Vec<ChildViews>,
    #[serde(default)]
    pub assessments: Vec<BestInterestsAssessment>,
    #[serde(default)]
    pub determinations: Vec<BestInterestsDetermination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<ListEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_plan: Option<TransferPlan>,
    /// The custody chain, in the order the child passed hands.
    #[serde(default)]
    pub handovers: Vec<Handover>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reunification: Option<Reunification>,
    #[serde(default)]
    pub services: Vec<AftercareService>,
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
    /// How the child was taken and held: evidence, read by observers.
    #[serde(default)]
    pub accountability: Vec<AccountabilityFact>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: UserId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    /// The next state on the main line.
    Forward,
    /// Back to an earlier state before transit, when the facts no longer support the current one.
    Back,
    Hold,
    Resume,
    /// withdrawn, declined, not_in_best_interests, deceased.
    Exit,
}

impl TransitionKind {
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Back | Self::Hold | Self::Exit)
    }
}

/// An allowed change of state, ready to be stored in the case's history and applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transition {
    pub case_id: CaseId,
    pub from: CaseState,
    pub to: CaseState,
    pub kind: TransitionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// A refused transition with every condition that is missing, not just the first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("cannot move the case from {from} to {to}: {}", .missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct RefusedTransition {
    pub from: CaseState,
    pub to: CaseState,
    pub missing: Vec<Condition>,
}

impl RefusedTransition {
    pub fn codes(&self) -> Vec<C> {
        self.missing.iter().map(|c| c.code).collect()
    }
}

/// The transition was decided on a case that has moved since.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the case is {actual}, not {expected}: decide the transition again")]
pub struct StaleTransition {
    pub expected: CaseState,
    pub actual: CaseState,
}

/// The current state is no longer supported by the facts (e.g. a consent was withdrawn).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revalidation {
    /// The state the facts no longer support (for a case on hold: the state it would resume to).
    pub state: CaseState,
    pub unmet: Vec<Condition>,
    /// Where the app should move the case back to: the latest earlier state the facts support.
    /// `None` once the child is on its way or on hold: people decide then (hold, exit, resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fall_back_to: Option<CaseState>,
}

const REASON_MAX: usize = 2_000;

impl Case {
    /// A new case in `open`, with no facts yet.
    pub fn new(id: CaseId, opened_by: UserId, opened_at: DateTime<Utc>) -> Self {
        Self {
            id,
            state: CaseState::Open,
            on_hold_from: None,
            state_reason: None,
            tracing_request: None,
            custody_record: None,
            confirmed_match: None,
            child_birth_date: None,
            verification_steps: Vec::new(),
            consents: Vec::new(),
            child_views: Vec::new(),
            assessments: Vec::new(),
            determinations: Vec::new(),
            listing: None,
            transfer_plan: None,
            handovers: Vec::new(),
            reunification: None,
            services: Vec::new(),
            follow_ups: Vec::new(),
            accountability: Vec::new(),
            opened_at,
            opened_by,
        }
    }

    /// Decides a transition; the case itself does not change until `apply`.
    pub fn transition(
        &self,
        to: CaseState,
        reason: Option<&str>,
        by: UserId,
        policy: &CasePolicy,
        now: DateTime<Utc>,
    ) -> Result<Transition, RefusedTransition> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let kind = self.kind_of(to);
        let mut missing = Vec::new();
        match &kind {
            Err(illegal) => missing.push(illegal.clone()),
            Ok(k) if k.needs_reason() && reason.is_none() => missing.push(Condition::unmet(
                C::ReasonRequired,
                format!("moving a case to {to} needs a reason"),
            )),
            Ok(_) => {}
        }
        if reason.is_some_and(|r| r.chars().count() > REASON_MAX) {
            missing.push(Condition::unmet(
                C::ReasonRequired,
                format!("the reason is longer than {REASON_MAX} characters"),
            ));
        }
        missing.extend(
            self.target_requirements(to, policy, now)
                .into_iter()
                .filter(|c| !c.met),
        );
        match kind {
            Ok(kind) if missing.is_empty() => Ok(Transition {
                case_id: self.id,
                from: self.state,
                to,
                kind,
                reason: reason.map(str::to_owned),
                by,
                at: now,
            }),
            _ => Err(RefusedTransition {
                from: self.state,
                to,
                missing,
            }),
        }
    }

    /// Applies a transition decided by `transition` on this same state.
    pub fn apply(&mut self, t: &Transition) -> Result<(), StaleTransition> {
        if t.from != self.state || t.case_id != self.id {
            return Err(StaleTransition {
                expected: t.from,
                actual: self.state,
            });
        }
        match t.kind {
            TransitionKind::Hold => {
                self.on_hold_from = Some(t.from);
                self.state_reason = t.reason.clone();
            }
            TransitionKind::Exit => {
                self.on_hold_from = None;
                self.state_reason = t.reason.clone();
            }
            TransitionKind::Forward | TransitionKind::Back | TransitionKind::Resume => {
                self.on_hold_from = None;
                self.state_reason = None;
            }
        }
        self.state = t.to;
        Ok(())
    }

    /// Everything moving to `to` needs, met or not: the UI's "what does the next step still need".
    /// A side exit's reason is given with the transition, so it is not on the list.
    pub fn checklist(
        &self,
        to: CaseState,
        policy: &CasePolicy,
        now: DateTime<Utc>,
    ) -> Vec<Condition> {
        let mut out = Vec::new();
        if let Err(illegal) = self.kind_of(to) {
            out.push(illegal);
        }
        out.extend(self.target_requirements(to, policy, now));
        out
    }

    /// The states the case may move to from here, guards aside.
    pub fn legal_targets(&self) -> Vec<CaseState> {
        CaseState::ALL
            .into_iter()
            .filter(|s| self.kind_of(*s).is_ok())
            .collect()
    }

    /// Whether the facts still support the current state. After any change to the facts (a
    /// withdrawn consent, a resolved or new negative verification, an expired consent), the app
    /// asks this and moves the case back to `fall_back_to`.
    pub fn revalidate(&self, policy: &CasePolicy, now: DateTime<Utc>) -> Option<Revalidation> {
        let (state, may_fall_back) = match self.state {
            s @ (CaseState::Located
            | CaseState::IdentityVerified
            | CaseState::ConsentObtained
            | CaseState::Listed) => (s, true),
            CaseState::InTransit => (CaseState::InTransit, false),
            CaseState::OnHold => {
                let from = self.on_hold_from.unwrap_or(CaseState::Open);
                if from.rank() > CaseState::InTransit.rank() {
                    return None;
                }
                (from, false)
            }
            _ => return None,
        };
        let unmet: Vec<Condition> = self
            .requirements(state, policy, now)
            .into_iter()
            .filter(|c| !c.met)
            .collect();
        if unmet.is_empty() {
            return None;
        }
        let fall_back_to = may_fall_back.then(|| {
            CaseState::MAIN_LINE
                .into_iter()
                .take_while(|s| *s != state)
                .filter(|s| self.requirements(*s, policy, now).iter().all(|c| c.met))
                .last()
                .unwrap_or(CaseState::Open)
        });
        Some(Revalidation {
            state,
            unmet,
            fall_back_to,
        })
    }

    /// The state the case is in, or, while on hold, the state it is on hold from.
    pub fn effective_state(&self) -> CaseState {
        match self.state {
            CaseState::OnHold => self.on_hold_from.unwrap_or(CaseState::Open),
            state => state,
        }
    }

    fn kind_of(&self, to: CaseState) -> Result<TransitionKind, Condition> {
        let from = self.state;
        let illegal = |why: String| Condition::unmet(C::IllegalTransition, why);
        if from.is_terminal() {
            return Err(illegal(format!("the case is {from}: nothing follows")));
        }
        if to == from {
            return Err(illegal(format!("the case is already {from}")));
        }
        let effective = self.effective_state();
        match to {
            CaseState::OnHold => Ok(TransitionKind::Hold),
            CaseState::Deceased => Ok(TransitionKind::Exit),
            CaseState::Withdrawn | CaseState::Declined | CaseState::NotInBestInterests => {
                if effective.before_transit() {
                    Ok(TransitionKind::Exit)
                } else {
                    Err(illegal(format!(
                        "the child is already on its way ({effective}): put the case on hold \
                         and resume it to listed before it can be {to}"
                    )))
                }
            }
            _ => {
                let (Some(r_to), Some(r_eff)) = (to.rank(), effective.rank()) else {
                    return Err(illegal(format!("{from} cannot move to {to}")));
                };
                if from == CaseState::OnHold {
                    if r_to <= r_eff {
                        Ok(TransitionKind::Resume)
                    } else {
                        Err(illegal(format!(
                            "a case on hold resumes to {effective} or an earlier state"
                        )))
                    }
                } else if r_to == r_eff + 1 {
                    Ok(TransitionKind::Forward)
                } else if r_to < r_eff && from.rank() <= CaseState::Listed.rank() {
                    Ok(TransitionKind::Back)
                } else if r_to < r_eff {
                    Err(illegal(format!(
                        "the child is already on its way ({from}): a case cannot go back from here"
                    )))
                } else {
                    Err(illegal(format!(
                        "{from} cannot jump to {to}: the next step is {}",
                        CaseState::MAIN_LINE.get(r_eff + 1).copied().unwrap_or(from)
                    )))
                }
            }
        }
    }

    fn target_requirements(
        &self,
        to: CaseState,
        policy: &CasePolicy,
        now: DateTime<Utc>,
    ) -> Vec<Condition> {
        if to == CaseState::NotInBestInterests {
            return self.bid_against_conditions(policy, now);
        }
        self.requirements(to, policy, now)
    }

    /// What being in `state` requires. The paperwork states accumulate (listed needs everything
    /// before it, still valid); once the child is moving, the physical facts take over, because a
    /// consent expiring mid-journey cannot undo a handover.
    pub fn requirements(
        &self,
        state: CaseState,
        policy: &CasePolicy,
        now: DateTime<Utc>,
    ) -> Vec<Condition> {
        let mut out = Vec::new();
        let rank = state.rank();
        let upto = |s: CaseState| rank.is_some_and(|r| Some(r) >= s.rank());
        let paperwork = rank.is_some_and(|r| Some(r) <= CaseState::InTransit.rank());
        if paperwork && upto(CaseState::Located) {
            out.extend(self.match_conditions(policy));
        }
        if paperwork && upto(CaseState::IdentityVerified) {
            out.extend(policy.verification.evaluate(&self.verification_steps));
        }
        if paperwork && upto(CaseState::ConsentObtained) {
            out.extend(self.consent_conditions(policy, now));
        }
        if paperwork && upto(CaseState::Listed) {
            out.push(self.list_condition());
        }
        if upto(CaseState::InTransit) && state != CaseState::Closed {
            out.push(self.plan_condition(now));
        }
        if upto(CaseState::HandedOver) {
            out.extend(self.chain_conditions());
        }
        if upto(CaseState::Reunified) {
            out.push(self.reception_condition());
            out.push(Condition::check(
                C::ReunificationMissing,
                self.reunification.is_some(),
                if self.reunification.is_some() {
                    "the reunification is recorded"
                } else {
                    "record the reunification: with whom, where, when, the family environment"
                },
            ));
        }
        if upto(CaseState::Closed) {
            out.extend(self.follow_up_conditions(policy, now));
        }
        out
    }

    fn match_conditions(&self, policy: &CasePolicy) -> Vec<Condition> {
        let Some(m) = &self.confirmed_match else {
            return vec![Condition::unmet(
                C::MatchNotConfirmed,
                "no confirmed match links a tracing request to a custody record",
            )];
        };
        let linked = self.tracing_request == Some(m.tracing_request)
            && self.custody_record == Some(m.custody_record);
        let reviewers: BTreeSet<UserId> = m.confirmations.iter().map(|c| c.by).collect();
        let need = usize::from(policy.matching.confirmations);
        vec![
            Condition::met(
                C::MatchNotConfirmed,
                format!("match {} confirmed", m.match_id),
            ),
            Condition::check(
                C::MatchRecordsMismatch,
                linked,
                if linked {
                    "the match links the case's tracing request and custody record".to_owned()
                } else {
                    "the confirmed match does not link this case's tracing request and custody \
                     record"
                        .to_owned()
                },
            ),
            Condition::check(
                C::MatchConfirmationsMissing,
                reviewers.len() >= need,
                format!(
                    "{} of {need} distinct reviewers confirmed the match",
                    reviewers.len()
                ),
            ),
        ]
    }

    fn consent_conditions(&self, policy: &CasePolicy, now: DateTime<Utc>) -> Vec<Condition> {
        let bp = &policy.best_interests;
        let return_consents = || self.consents.iter().filter(|c| c.scope.is_return());
        let guardian = || return_consents().filter(|c| c.giver.kind == GiverKind::LegalGuardian);
        let given: Vec<&Consent> = guardian().filter(|c| c.is_valid_given(now)).collect();
        let refusals: Vec<&Consent> = guardian().filter(|c| c.is_standing_refusal(now)).collect();
        let contested = !given.is_empty() && !refusals.is_empty();
        let latest_views = self
            .child_views
            .iter()
            .filter(|v| v.heard_at <= now)
            .max_by_key(|v| v.heard_at);
        let child_objects = latest_views.is_some_and(|v| v.wish == ChildWish::Objects)
            || return_consents()
                .any(|c| c.giver.kind == GiverKind::Child && c.is_standing_refusal(now));
        let bid = bp.standing(&self.determinations, now);
        let bid_for = bid.is_some_and(|d| d.decision == BestInterestsDecision::Return);
        let mut out = Vec::new();

        out.push(if let Some(c) = given.first() {
            Condition::met(
                C::ConsentMissing,
                format!(
                    "consent to return given by {} ({}) on {}",
                    c.giver.name,
                    c.giver
                        .relationship
                        .as_deref()
                        .unwrap_or(c.giver.kind.as_str()),
                    c.given_at.date_naive()
                ),
            )
        } else if bid_for {
            Condition::met(
                C::ConsentMissing,
                "no guardian consent in force; the best-interests determination decided for return",
            )
        } else {
            let statuses: Vec<ConsentStatus> = guardian()
                .filter(|c| c.decision == ConsentDecision::Given)
                .map(|c| c.status(now))
                .collect();
            if !refusals.is_empty() {
                Condition::unmet(
                    C::ConsentRefused,
                    format!(
                        "the legal guardian ({}) refuses the return; a best-interests \
                         determination must decide",
                        refusals[0].giver.name
                    ),
                )
            } else if statuses.contains(&ConsentStatus::Withdrawn) {
                Condition::unmet(
                    C::ConsentWithdrawn,
                    "the guardian's consent to return was withdrawn",
                )
            } else if statuses.contains(&ConsentStatus::Expired) {
                Condition::unmet(
                    C::ConsentExpired,
                    "the guardian's consent to return has expired; record it again",
                )
            } else {
                Condition::unmet(
                    C::ConsentMissing,
                    "no consent to return from a legal guardian is recorded",
                )
            }
        });

        let views_age = policy.consent.child_views_age;
        out.push(
            if !policy
                .consent
                .child_views_required(self.child_birth_date, now.date_naive())
            {
                Condition::met(
                    C::ChildViewsMissing,
                    format!("not required: the child is younger than {views_age}"),
                )
            } else if let Some(v) = latest_views {
                Condition::met(
                    C::ChildViewsMissing,
                    format!(
                        "the child was heard on {}: {}",
                        v.heard_at.date_naive(),
                        v.wish
                    ),
                )
            } else {
                let why = if self.child_birth_date.is_some() {
                    format!("the child may be {views_age} or older")
                } else {
                    "the child's age is unknown".to_owned()
                };
                Condition::unmet(
                    C::ChildViewsMissing,
                    format!(
                        "{why}: record the child's views (or that the child could not express them)"
                    ),
                )
            },
        );

        let mut needs: Vec<&str> = Vec::new();
        if bp.always {
            needs.push("the policy requires one for every child");
        }
        if given.is_empty() && bp.when_guardian_consent_missing {
            needs.push("no guardian consent in force");
        }
        if contested && bp.when_consent_contested {
            needs.push("the guardians disagree");
        }
        if child_objects && bp.when_child_objects {
            needs.push("the child objects to return");
        }
        out.push(match bid {
            Some(d) if d.decision == BestInterestsDecision::NotReturn => Condition::unmet(
                C::BidAgainstReturn,
                format!(
                    "the determination of {} decided against return: the case should leave by \
                     not_in_best_interests",
                    d.decided_at.date_naive()
                ),
            ),
            Some(d) => Condition::met(
                C::BidRequired,
                format!(
                    "the determination of {} decided for return",
                    d.decided_at.date_naive()
                ),
            ),
            None if needs.is_empty() => {
                Condition::met(C::BidRequired, "no best-interests determination required")
            }
            None => Condition::unmet(
                C::BidRequired,
                format!(
                    "a best-interests determination is required: {}",
                    needs.join("; ")
                ),
            ),
        });

        if bp.assessment_required {
            out.push(Condition::check(
                C::BiaMissing,
                self.assessments.iter().any(|a| a.assessed_at <= now),
                "a best-interests assessment is on record (required by the policy)",
            ));
        }
        out
    }

    fn bid_against_conditions(&self, policy: &CasePolicy, now: DateTime<Utc>) -> Vec<Condition> {
        let against = policy
            .best_interests
            .standing(&self.determinations, now)
            .is_some_and(|d| d.decision == BestInterestsDecision::NotReturn);
        vec![Condition::check(
            C::BidRequired,
            against,
            if against {
                "a best-interests determination decided against return"
            } else {
                "only a best-interests determination against return can close a case as not in \
                 the child's best interests"
            },
        )]
    }

    fn list_condition(&self) -> Condition {
        match &self.listing {
            Some(l) if l.origin_approved_at.is_some() && l.custody_approved_at.is_some() => {
                Condition::met(
                    C::NotOnAgreedList,
                    format!("on transfer list {}, approved by both sides", l.list_ref),
                )
            }
            Some(l) => Condition::unmet(
                C::NotOnAgreedList,
                format!(
                    "transfer list {} is not yet approved by both sides",
                    l.list_ref
                ),
            ),
            None => Condition::unmet(C::NotOnAgreedList, "the child is on no transfer list"),
        }
    }

    fn plan_condition(&self, now: DateTime<Utc>) -> Condition {
        match &self.transfer_plan {
            Some(p) if p.approved_at.is_some_and(|a| a <= now) => Condition::met(
                C::NoApprovedTransferPlan,
                format!("transfer plan {} approved", p.plan_ref),
            ),
            Some(p) => Condition::unmet(
                C::NoApprovedTransferPlan,
                format!("transfer plan {} is not approved", p.plan_ref),
            ),
            None => Condition::unmet(C::NoApprovedTransferPlan, "no transfer plan"),
        }
    }

    /// The custody chain must start at the holding authority, have no gaps (each receiver is the
    /// next giver) and run forward in time: a gap is a moment nobody answers for the child.
    pub fn chain_conditions(&self) -> Vec<Condition> {
        let hs = &self.handovers;
        let Some(first) = hs.first() else {
            return vec![Condition::unmet(C::HandoverMissing, "no handover recorded")];
        };
        let mut out = vec![
            Condition::met(
                C::HandoverMissing,
                format!("{} handovers recorded", hs.len()),
            ),
            Condition::check(
                C::CustodyChainStart,
                first.giver.kind == CustodianKind::CustodyAuthority,
                format!(
                    "the chain starts from {} (it must start from the authority that held the child)",
                    first.giver
                ),
            ),
        ];
        let mut gaps = 0;
        let mut disordered = 0;
        for (i, w) in hs.windows(2).enumerate() {
            if !w[0].receiver.same_as(&w[1].giver) {
                gaps += 1;
                out.push(Condition::unmet(
                    C::CustodyChainGap,
                    format!(
                        "handover {} ends with {} but handover {} starts from {}",
                        i + 1,
                        w[0].receiver,
                        i + 2,
                        w[1].giver
                    ),
                ));
            }
            if w[1].at < w[0].at {
                disordered += 1;
                out.push(Condition::unmet(
                    C::CustodyChainOrder,
                    format!("handover {} is dated before handover {}", i + 2, i + 1),
                ));
            }
        }
        if gaps == 0 {
            out.push(Condition::met(
                C::CustodyChainGap,
                "no gap in the custody chain",
            ));
        }
        if disordered == 0 {
            out.push(Condition::met(
                C::CustodyChainOrder,
                "handovers in time order",
            ));
        }
        out
    }

    /// Adds a handover to the custody chain, refusing one that would break it: the chain starts
    /// at the authority that held the child, each giver is the previous receiver, and time runs
    /// forward. Only while the child is on its way (in transit, or handed over and passing on to
    /// the family).
    pub fn record_handover(&mut self, h: Handover) -> Result<(), Vec<Condition>> {
        let mut refused = Vec::new();
        if !matches!(self.state, CaseState::InTransit | CaseState::HandedOver) {
            refused.push(Condition::unmet(
                C::HandoverNotAllowed,
                format!(
                    "the case is {}: handovers are recorded once it is in_transit",
                    self.state
                ),
            ));
        }
        match self.handovers.last() {
            None if h.giver.kind != CustodianKind::CustodyAuthority => {
                refused.push(Condition::unmet(
                    C::CustodyChainStart,
                    format!(
                        "the first handover must be from the authority that held the child, not {}",
                        h.giver
                    ),
                ))
            }
            Some(last) if !last.receiver.same_as(&h.giver) => refused.push(Condition::unmet(
                C::CustodyChainGap,
                format!(
                    "the child is with {} (kind {:?}); a handover from {} would leave a gap",
                    last.receiver, last.receiver.kind, h.giver
                ),
            )),
            _ => {}
        }
        if let Some(last) = self.handovers.last()
            && h.at < last.at
        {
            refused.push(Condition::unmet(
                C::CustodyChainOrder,
                format!(
                    "the handover is dated {} but the last one is dated {}",
                    h.at, last.at
                ),
            ));
        }
        if h.giver.same_as(&h.receiver) {
            refused.push(Condition::unmet(
                C::CustodyChainGap,
                "giver and receiver are the same custodian",
            ));
        }
        if !refused.is_empty() {
            return Err(refused);
        }
        self.handovers.push(h);
        Ok(())
    }

    /// The custody chain as one document to print and sign: every handover in order, with
    /// place, time, giver, receiver and witnesses.
    pub fn chain_document(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "CUSTODY CHAIN — case {}", self.id);
        let _ = writeln!(out, "State: {}", self.state);
        if let Some(p) = &self.transfer_plan {
            let _ = writeln!(out, "Transfer plan: {}", p.plan_ref);
        }
        let _ = writeln!(out);
        if self.handovers.is_empty() {
            let _ = writeln!(out, "No handover recorded.");
        }
        for (i, h) in self.handovers.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. {} UTC{}",
                i + 1,
                h.at.format("%Y-%m-%d %H:%M"),
                h.place
                    .as_deref()
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default()
            );
            let _ = writeln!(out, "   from: {} ({:?})", h.giver, h.giver.kind);
            let _ = writeln!(out, "   to:   {} ({:?})", h.receiver, h.receiver.kind);
            if !h.witnesses.is_empty() {
                let _ = writeln!(out, "   witnesses: {}", h.witnesses.join(", "));
            }
        }
        let _ = writeln!(out);
        for c in self.chain_conditions() {
            let _ = writeln!(out, "[{}] {}", if c.met { "x" } else { " " }, c.message);
        }
        out
    }

    /// The earliest follow-up visit still open at `now`: when the case next needs someone.
    pub fn next_follow_up_due(&self, now: DateTime<Utc>) -> Option<chrono::NaiveDate> {
        self.follow_ups
            .iter()
            .filter(|f| f.is_open(now))
            .map(|f| f.due)
            .min()
    }

    fn reception_condition(&self) -> Condition {
        let received = self.handovers.last().is_some_and(|h| {
            matches!(
                h.receiver.kind,
                CustodianKind::Family | CustodianKind::OriginAuthority
            )
        });
        Condition::check(
            C::ReceptionMissing,
            received,
            if received {
                "received by the family or the receiving authority"
            } else {
                "no handover to the family or the receiving authority"
            },
        )
    }

    fn follow_up_conditions(&self, policy: &CasePolicy, now: DateTime<Utc>) -> Vec<Condition> {
        let done = self
            .follow_ups
            .iter()
            .filter(|f| f.done_at.is_some_and(|d| d <= now))
            .count();
        let outstanding: Vec<String> = self
            .follow_ups
            .iter()
            .filter(|f| f.is_open(now))
            .map(|f| f.due.to_string())
            .collect();
        let need = usize::from(policy.aftercare.min_follow_ups);
        vec![
            Condition::check(
                C::FollowUpMissing,
                done >= need,
                format!("{done} of at least {need} follow-up visits done"),
            ),
            Condition::check(
                C::FollowUpsOutstanding,
                outstanding.is_empty(),
                if outstanding.is_empty() {
                    "no follow-up outstanding".to_owned()
                } else {
                    format!("follow-ups due {} not done", outstanding.join(", "))
                },
            ),
        ]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::best_interests::PanelMember;
    use crate::consent::{ConsentGiver, ConsentMethod, ConsentScope, Withdrawal};
    use crate::ids::{BestInterestsId, ChildViewsId, ConsentId, VerificationStepId};
    use crate::verification::{VerificationMethod as M, VerificationOutcome as O};
    use CaseState as S;
    use proptest::prelude::*;

    pub(crate) fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }
    pub(crate) fn later(days: i64) -> DateTime<Utc> {
        t0() + chrono::Duration::days(days)
    }

    fn step(method: M, outcome: O) -> VerificationStep {
        VerificationStep {
            id: VerificationStepId::new(),
            method,
            performed_by: "delegate".into(),
            performed_at: t0(),
            outcome,
            evidence: vec![],
            notes: None,
            recorded_by: UserId::new(),
            recorded_at: t0(),
            resolution: None,
        }
    }

    fn consent(kind: GiverKind, decision: ConsentDecision) -> Consent {
        Consent {
            id: ConsentId::new(),
            giver: ConsentGiver {
                kind,
                name: "Olena K.".into(),
                relationship: Some("mother".into()),
            },
            scope: ConsentScope::Return,
            decision,
            method: ConsentMethod::Written,
            witness: None,
            given_at: t0(),
            expires_at: None,
            evidence: vec![],
            recorded_by: UserId::new(),
            recorded_at: t0(),
            withdrawal: None,
        }
    }

    fn views(wish: ChildWish) -> ChildViews {
        ChildViews {
            id: ChildViewsId::new(),
            heard_at: t0(),
            heard_by: "psychologist".into(),
            present: vec![],
            language: Some("uk".into()),
            wish,
            summary: "wants to see mum".into(),
            recorded_by: UserId::new(),
            recorded_at: t0(),
        }
    }

    fn bid(decision: BestInterestsDecision) -> BestInterestsDetermination {
        BestInterestsDetermination {
            id: BestInterestsId::new(),
            decided_at: t0(),
            panel: ["a", "b", "c"]
                .iter()
                .map(|n| PanelMember {
                    name: (*n).into(),
                    role: "panel".into(),
                })
                .collect(),
            decision,
            reasons: "weighed".into(),
            assessment: None,
            evidence: vec![],
            recorded_by: UserId::new(),
            recorded_at: t0(),
        }
    }

    fn custodian(kind: CustodianKind, name: &str) -> Custodian {
        Custodian {
            kind,
            name: name.into(),
            party: None,
        }
    }

    fn handover(at: DateTime<Utc>, giver: Custodian, receiver: Custodian) -> Handover {
        Handover {
            at,
            giver,
            receiver,
            place: None,
            witnesses: vec![],
            recorded_by: UserId::new(),
        }
    }

    fn reunification() -> Reunification {
        Reunification {
            at: t0(),
            place: "Kyiv".into(),
            with_whom: vec![crate::aftercare::Relative {
                name: "Olena K.".into(),
                relationship: "mother".into(),
            }],
            family_environment: "mother and grandmother".into(),
            recorded_by: UserId::new(),
            recorded_at: t0(),
        }
    }

    fn matched() -> Case {
        let mut c = Case::new(CaseId::new(), UserId::new(), t0());
        let (tr, cr) = (RecordId::new(), RecordId::new());
        c.tracing_request = Some(tr);
        c.custody_record = Some(cr);
        c.confirmed_match = Some(MatchLink {
            match_id: MatchId::new(),
            tracing_request: tr,
            custody_record: cr,
            confirmations: vec![MatchConfirmation {
                by: UserId::new(),
                at: t0(),
            }],
        });
        c.child_birth_date = PartialDate::new(2014, Some(5), None, false).ok();
        c
    }

    /// A case with every paperwork fact in place, in `state`.
    pub(crate) fn ready(state: CaseState) -> Case {
        let mut c = matched();
        c.verification_steps = vec![
            step(M::DocumentCheck, O::Positive),
            step(M::VideoCall, O::Positive),
        ];
        c.consents = vec![consent(GiverKind::LegalGuardian, ConsentDecision::Given)];
        c.child_views = vec![views(ChildWish::WantsReturn)];
        c.listing = Some(ListEntry {
            list_ref: "round-7".into(),
            origin_approved_at: Some(t0()),
            custody_approved_at: Some(t0()),
        });
        c.state = state;
        c
    }

    fn go(c: &Case, to: CaseState) -> Result<Transition, RefusedTransition> {
        c.transition(to, None, UserId::new(), &CasePolicy::default(), later(1))
    }

    fn refused(c: &Case, to: CaseState) -> Vec<C> {
        go(c, to).unwrap_err().codes()
    }

    #[test]
    fn the_happy_path_reaches_closed() {
        let p = CasePolicy::default();
        let mut c = ready(S::Open);
        let chain = |c: &mut Case| {
            c.transfer_plan = Some(TransferPlan {
                plan_ref: "plan-1".into(),
                approved_at: Some(t0()),
                approved_by: Some(UserId::new()),
            });
            let auth = custodian(CustodianKind::CustodyAuthority, "Children's home N");
            let med = custodian(CustodianKind::Mediator, "Embassy");
            let mum = custodian(CustodianKind::Family, "Olena K.");
            c.handovers = vec![
                handover(t0(), auth, med.clone()),
                handover(later(1), med, mum),
            ];
            c.reunification = Some(reunification());
            let mut visit = FollowUp::scheduled(later(30).date_naive(), None);
            visit.done_at = Some(later(1));
            visit.outcome = Some("well".into());
            c.follow_ups = vec![visit];
        };
        chain(&mut c);
        for to in &S::MAIN_LINE[1..] {
            let t = c
                .transition(*to, None, UserId::new(), &p, later(2))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.kind, TransitionKind::Forward);
            c.apply(&t).unwrap();
        }
        assert_eq!(c.state, S::Closed);
        assert!(c.legal_targets().is_empty());
    }

    #[test]
    fn illegal_jumps_are_refused() {
        let c = ready(S::Open);
        let codes = refused(&c, S::Listed);
        assert_eq!(codes[0], C::IllegalTransition);
        assert_eq!(
            refused(&ready(S::Listed), S::HandedOver)[0],
            C::IllegalTransition
        );
        assert_eq!(refused(&ready(S::Closed), S::Open), [C::IllegalTransition]);
        assert_eq!(refused(&ready(S::Open), S::Open), [C::IllegalTransition]);
        let mut transit = ready(S::InTransit);
        transit.transfer_plan = None;
        assert_eq!(refused(&transit, S::Listed)[0], C::IllegalTransition);
        assert_eq!(
            refused(&ready(S::InTransit), S::Withdrawn)[0],
            C::IllegalTransition
        );
    }

    #[test]
    fn located_needs_a_confirmed_match_of_both_records() {
        let c = Case::new(CaseId::new(), UserId::new(), t0());
        assert_eq!(refused(&c, S::Located), [C::MatchNotConfirmed]);
        let mut c = matched();
        c.custody_record = Some(RecordId::new());
        assert_eq!(refused(&c, S::Located), [C::MatchRecordsMismatch]);
        let c = matched();
        let four_eyes = CasePolicy {
            matching: MatchPolicy { confirmations: 2 },
            ..Default::default()
        };
        let r = c
            .transition(S::Located, None, UserId::new(), &four_eyes, later(1))
            .unwrap_err();
        assert_eq!(r.codes(), [C::MatchConfirmationsMissing]);
        assert!(go(&c, S::Located).is_ok());
    }

    #[test]
    fn identity_verified_needs_the_policy_met() {
        let mut c = matched();
        c.state = S::Located;
        assert_eq!(refused(&c, S::IdentityVerified), [C::IdentityNotVerified]);
        c.verification_steps = vec![
            step(M::Interview, O::Positive),
            step(M::Interview, O::Positive),
            step(M::Dna, O::Negative),
        ];
        assert_eq!(
            refused(&c, S::IdentityVerified),
            [C::VerificationNegative, C::IdentityNotVerified]
        );
    }

    #[test]
    fn consent_obtained_lists_every_missing_condition() {
        let mut c = ready(S::IdentityVerified);
        c.consents.clear();
        c.child_views.clear();
        assert_eq!(
            refused(&c, S::ConsentObtained),
            [C::ConsentMissing, C::ChildViewsMissing, C::BidRequired]
        );
        assert!(go(&ready(S::IdentityVerified), S::ConsentObtained).is_ok());
    }

    #[test]
    fn a_young_child_needs_no_views_but_an_unknown_age_does() {
        let mut c = ready(S::IdentityVerified);
        c.child_views.clear();
        c.child_birth_date = PartialDate::new(2021, Some(1), Some(1), false).ok();
        assert!(go(&c, S::ConsentObtained).is_ok());
        c.child_birth_date = None;
        assert_eq!(refused(&c, S::ConsentObtained), [C::ChildViewsMissing]);
    }

    #[test]
    fn an_expired_or_refused_consent_is_named() {
        let mut c = ready(S::IdentityVerified);
        c.consents[0].expires_at = Some(later(1));
        assert_eq!(
            refused(&c, S::ConsentObtained),
            [C::ConsentExpired, C::BidRequired]
        );
        c.consents = vec![consent(GiverKind::LegalGuardian, ConsentDecision::Refused)];
        assert_eq!(
            refused(&c, S::ConsentObtained),
            [C::ConsentRefused, C::BidRequired]
        );
        // A relative's consent does not stand in for the guardian's.
        c.consents = vec![consent(GiverKind::Relative, ConsentDecision::Given)];
        assert_eq!(
            refused(&c, S::ConsentObtained),
            [C::ConsentMissing, C::BidRequired]
        );
    }

    #[test]
    fn contested_consent_or_an_objecting_child_needs_a_determination() {
        let mut c = ready(S::IdentityVerified);
        c.consents
            .push(consent(GiverKind::LegalGuardian, ConsentDecision::Refused));
        assert_eq!(refused(&c, S::ConsentObtained), [C::BidRequired]);
        c.determinations.push(bid(BestInterestsDecision::Return));
        assert!(go(&c, S::ConsentObtained).is_ok());

        let mut c = ready(S::IdentityVerified);
        c.child_views = vec![views(ChildWish::Objects)];
        let r = go(&c, S::ConsentObtained).unwrap_err();
        assert_eq!(r.codes(), [C::BidRequired]);
        assert!(r.missing[0].message.contains("the child objects"));
        c.determinations.push(bid(BestInterestsDecision::NotReturn));
        assert_eq!(refused(&c, S::ConsentObtained), [C::BidAgainstReturn]);
        // ... and that determination is what allows the not_in_best_interests exit.
        let t = c
            .transition(
                S::NotInBestInterests,
                Some("panel decided"),
                UserId::new(),
                &CasePolicy::default(),
                later(1),
            )
            .unwrap();
        assert_eq!(t.kind, TransitionKind::Exit);
    }

    #[test]
    fn a_determination_for_return_stands_in_for_missing_guardian_consent() {
        let mut c = ready(S::IdentityVerified);
        c.consents.clear();
        c.determinations.push(bid(BestInterestsDecision::Return));
        assert!(go(&c, S::ConsentObtained).is_ok());
    }

    #[test]
    fn the_assessment_is_required_only_when_the_policy_says_so() {
        let c = ready(S::IdentityVerified);
        let mut p = CasePolicy::default();
        p.best_interests.assessment_required = true;
        let r = c
            .transition(S::ConsentObtained, None, UserId::new(), &p, later(1))
            .unwrap_err();
        assert_eq!(r.codes(), [C::BiaMissing]);
    }

    #[test]
    fn listed_needs_an_agreed_list_and_everything_before_still_valid() {
        let mut c = ready(S::ConsentObtained);
        c.listing.as_mut().unwrap().custody_approved_at = None;
        assert_eq!(refused(&c, S::Listed), [C::NotOnAgreedList]);
        c.listing = None;
        c.verification_steps.pop();
        assert_eq!(
            refused(&c, S::Listed),
            [C::IdentityNotVerified, C::NotOnAgreedList]
        );
    }

    #[test]
    fn withdrawal_reopens_the_guard_and_revalidate_says_where_to_go_back() {
        let p = CasePolicy::default();
        let mut c = ready(S::Listed);
        assert_eq!(c.revalidate(&p, later(1)), None);
        c.consents[0].withdrawal = Some(Withdrawal {
            at: later(1),
            reason: "family reconsidered".into(),
            recorded_by: UserId::new(),
        });
        let r = c.revalidate(&p, later(2)).unwrap();
        assert_eq!(r.state, S::Listed);
        assert_eq!(r.fall_back_to, Some(S::IdentityVerified));
        let codes: Vec<C> = r.unmet.iter().map(|c| c.code).collect();
        assert_eq!(codes, [C::ConsentWithdrawn, C::BidRequired]);

        // Moving back needs a reason, then listing is refused with the withdrawal named.
        assert_eq!(
            c.transition(S::IdentityVerified, None, UserId::new(), &p, later(2))
                .unwrap_err()
                .codes(),
            [C::ReasonRequired]
        );
        let back = c
            .transition(
                S::IdentityVerified,
                Some("consent withdrawn"),
                UserId::new(),
                &p,
                later(2),
            )
            .unwrap();
        assert_eq!(back.kind, TransitionKind::Back);
        c.apply(&back).unwrap();
        c.state = S::ConsentObtained;
        let r = c
            .transition(S::Listed, None, UserId::new(), &p, later(2))
            .unwrap_err();
        assert!(r.codes().contains(&C::ConsentWithdrawn));
    }

    #[test]
    fn on_hold_needs_a_reason_and_resumes_where_it_left() {
        let p = CasePolicy::default();
        let mut c = ready(S::ConsentObtained);
        assert_eq!(refused(&c, S::OnHold), [C::ReasonRequired]);
        let hold = c
            .transition(
                S::OnHold,
                Some("  child in hospital "),
                UserId::new(),
                &p,
                later(1),
            )
            .unwrap();
        assert_eq!(hold.reason.as_deref(), Some("child in hospital"));
        c.apply(&hold).unwrap();
        assert_eq!(
            (c.state, c.on_hold_from),
            (S::OnHold, Some(S::ConsentObtained))
        );
        assert_eq!(refused(&c, S::Listed), [C::IllegalTransition]);
        assert!(c.legal_targets().contains(&S::Located));
        let resume = go(&c, S::ConsentObtained).unwrap();
        assert_eq!(resume.kind, TransitionKind::Resume);
        c.apply(&resume).unwrap();
        assert_eq!(
            (c.state, c.on_hold_from, c.state_reason.clone()),
            (S::ConsentObtained, None, None)
        );

        // Resuming checks the guards again: a consent withdrawn during the hold blocks it.
        let hold = go_with_reason(&c, S::OnHold);
        c.apply(&hold).unwrap();
        c.consents[0].withdrawal = Some(Withdrawal {
            at: later(1),
            reason: "changed mind".into(),
            recorded_by: UserId::new(),
        });
        assert!(refused(&c, S::ConsentObtained).contains(&C::ConsentWithdrawn));
        assert_eq!(c.revalidate(&p, later(2)).unwrap().fall_back_to, None);
        assert!(go(&c, S::IdentityVerified).is_ok());
    }

    fn go_with_reason(c: &Case, to: CaseState) -> Transition {
        c.transition(
            to,
            Some("reason"),
            UserId::new(),
            &CasePolicy::default(),
            later(1),
        )
        .unwrap()
    }

    #[test]
    fn side_exits_need_a_reason() {
        let c = ready(S::Located);
        for to in [S::Withdrawn, S::Declined, S::Deceased] {
            assert_eq!(refused(&c, to), [C::ReasonRequired]);
            assert_eq!(go_with_reason(&c, to).kind, TransitionKind::Exit);
        }
        assert_eq!(
            refused(&c, S::NotInBestInterests),
            [C::ReasonRequired, C::BidRequired]
        );
        // The exit is final.
        let mut c = c;
        c.apply(&go_with_reason(&c, S::Deceased)).unwrap();
        assert_eq!(c.state_reason.as_deref(), Some("reason"));
        assert!(c.legal_targets().is_empty());
    }

    #[test]
    fn in_transit_needs_an_approved_plan() {
        let mut c = ready(S::Listed);
        assert_eq!(refused(&c, S::InTransit), [C::NoApprovedTransferPlan]);
        c.transfer_plan = Some(TransferPlan {
            plan_ref: "p".into(),
            approved_at: None,
            approved_by: None,
        });
        assert_eq!(refused(&c, S::InTransit), [C::NoApprovedTransferPlan]);
    }

    #[test]
    fn custody_chain_gaps_are_found() {
        let mut c = ready(S::InTransit);
        c.transfer_plan = Some(TransferPlan {
            plan_ref: "p".into(),
            approved_at: Some(t0()),
            approved_by: None,
        });
        assert_eq!(refused(&c, S::HandedOver), [C::HandoverMissing]);
        let auth = custodian(CustodianKind::CustodyAuthority, "Home N");
        let med = custodian(CustodianKind::Mediator, "Embassy");
        let esc = custodian(CustodianKind::Escort, "Aunt");
        let ngo = custodian(CustodianKind::Humanitarian, "NGO driver");
        c.handovers = vec![
            handover(t0(), auth.clone(), med.clone()),
            handover(later(2), esc.clone(), ngo.clone()),
            handover(
                later(1),
                custodian(CustodianKind::Humanitarian, " ngo  DRIVER"),
                esc,
            ),
        ];
        let r = go(&c, S::HandedOver).unwrap_err();
        assert_eq!(r.codes(), [C::CustodyChainGap, C::CustodyChainOrder]);
        assert!(
            r.missing[0]
                .message
                .contains("ends with Embassy but handover 2 starts from Aunt")
        );
        c.handovers = vec![handover(t0(), med, auth)];
        assert_eq!(refused(&c, S::HandedOver), [C::CustodyChainStart]);
    }

    #[test]
    fn a_handover_that_breaks_the_chain_is_refused() {
        let mut c = ready(S::Listed);
        let auth = custodian(CustodianKind::CustodyAuthority, "Home N");
        let med = custodian(CustodianKind::Mediator, "Embassy");
        let esc = custodian(CustodianKind::Escort, "Aunt");
        let codes = |r: Result<(), Vec<Condition>>| -> Vec<C> {
            r.unwrap_err().into_iter().map(|c| c.code).collect()
        };
        // Not before the child is on its way.
        assert_eq!(
            codes(c.record_handover(handover(t0(), auth.clone(), med.clone()))),
            [C::HandoverNotAllowed]
        );
        c.state = S::InTransit;
        assert_eq!(
            codes(c.record_handover(handover(t0(), med.clone(), esc.clone()))),
            [C::CustodyChainStart]
        );
        c.record_handover(handover(t0(), auth.clone(), med.clone()))
            .unwrap();
        // The aunt never received the child: a gap.
        assert_eq!(
            codes(c.record_handover(handover(later(1), esc.clone(), med.clone()))),
            [C::CustodyChainGap]
        );
        assert_eq!(
            codes(c.record_handover(handover(
                t0() - chrono::Duration::hours(1),
                med.clone(),
                esc.clone()
            ))),
            [C::CustodyChainOrder]
        );
        let mut h = handover(later(1), med, esc);
        h.witnesses = vec!["consul".into()];
        c.record_handover(h).unwrap();
        assert_eq!(c.handovers.len(), 2);
        let doc = c.chain_document();
        assert!(
            doc.contains("1. ") && doc.contains("2. ") && doc.contains("witnesses: consul"),
            "{doc}"
        );
        assert!(doc.contains("[x] no gap in the custody chain"), "{doc}");
    }

    #[test]
    fn reunified_needs_a_handover_to_the_family_and_closed_needs_follow_ups() {
        let mut c = ready(S::HandedOver);
        c.transfer_plan = Some(TransferPlan {
            plan_ref: "p".into(),
            approved_at: Some(t0()),
            approved_by: None,
        });
        let auth = custodian(CustodianKind::CustodyAuthority, "Home N");
        let med = custodian(CustodianKind::Mediator, "Embassy");
        c.handovers = vec![handover(t0(), auth, med.clone())];
        assert_eq!(
            refused(&c, S::Reunified),
            [C::ReceptionMissing, C::ReunificationMissing]
        );
        c.handovers.push(handover(
            t0(),
            med,
            custodian(CustodianKind::Family, "Olena K."),
        ));
        assert_eq!(refused(&c, S::Reunified), [C::ReunificationMissing]);
        c.reunification = Some(reunification());
        assert!(go(&c, S::Reunified).is_ok());

        c.state = S::Reunified;
        assert_eq!(refused(&c, S::Closed), [C::FollowUpMissing]);
        let mut done = FollowUp::scheduled(t0().date_naive(), None);
        done.done_at = Some(t0());
        c.follow_ups = vec![done, FollowUp::scheduled(later(90).date_naive(), None)];
        assert_eq!(refused(&c, S::Closed), [C::FollowUpsOutstanding]);
        // A visit waived in writing no longer holds the case open.
        c.follow_ups[1]
            .waive(crate::aftercare::FollowUpWaiver {
                reason: "the family moved abroad".into(),
                by: UserId::new(),
                at: t0(),
            })
            .unwrap();
        assert!(go(&c, S::Closed).is_ok());
    }

    #[test]
    fn the_checklist_shows_met_and_missing() {
        let mut c = ready(S::IdentityVerified);
        c.child_views.clear();
        let list = c.checklist(S::ConsentObtained, &CasePolicy::default(), later(1));
        let summary: Vec<(C, bool)> = list.iter().map(|c| (c.code, c.met)).collect();
        assert_eq!(
            summary,
            [
                (C::MatchNotConfirmed, true),
                (C::MatchRecordsMismatch, true),
                (C::MatchConfirmationsMissing, true),
                (C::VerificationNegative, true),
                (C::IdentityNotVerified, true),
                (C::ConsentMissing, true),
                (C::ChildViewsMissing, false),
                (C::BidRequired, true),
            ]
        );
        let illegal = c.checklist(S::Closed, &CasePolicy::default(), later(1));
        assert_eq!(
            (illegal[0].code, illegal[0].met),
            (C::IllegalTransition, false)
        );
    }

    #[test]
    fn apply_refuses_a_stale_transition() {
        let mut c = ready(S::Open);
        let t = go(&c, S::Located).unwrap();
        c.state = S::Located;
        assert_eq!(
            c.apply(&t),
            Err(StaleTransition {
                expected: S::Open,
                actual: S::Located
            })
        );
    }

    #[test]
    fn states_parse_and_serialise_by_code() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<CaseState>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            "nope".parse::<CaseState>().unwrap_err().code,
            "invalid_state"
        );
        assert!(CasePolicy::default().validate().is_ok());
        let case = ready(S::Listed);
        let back: Case = serde_json::from_str(&serde_json::to_string(&case).unwrap()).unwrap();
        assert_eq!(back, case);
    }

    #[derive(Clone, Debug)]
    enum Action {
        Step(usize, usize),
        ResolveNegatives,
        Consent(bool),
        WithdrawConsents,
        ExpireConsents,
        Views(bool),
        Bid(bool),
        Move(usize, bool),
        /// The next main-line state: random targets alone rarely get far along the line.
        Next,
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            (0..5usize, 0..3usize).prop_map(|(m, o)| Action::Step(m, o)),
            Just(Action::ResolveNegatives),
            any::<bool>().prop_map(Action::Consent),
            Just(Action::WithdrawConsents),
            Just(Action::ExpireConsents),
            any::<bool>().prop_map(Action::Views),
            any::<bool>().prop_map(Action::Bid),
            (0..14usize, any::<bool>()).prop_map(|(s, r)| Action::Move(s, r)),
            Just(Action::Next),
            Just(Action::Next),
            Just(Action::Next),
        ]
    }

    /// Plays one action on `c` at `now`; `true` when it moved the case.
    fn act(c: &mut Case, a: Action, p: &CasePolicy, now: DateTime<Utc>) -> bool {
        let outcomes = [O::Positive, O::Negative, O::Inconclusive];
        match a {
            Action::Step(m, o) => {
                let mut s = step(M::ALL[m], outcomes[o]);
                s.performed_at = now;
                c.verification_steps.push(s);
            }
            Action::ResolveNegatives => {
                for s in c
                    .verification_steps
                    .iter_mut()
                    .filter(|s| s.outcome == O::Negative)
                {
                    s.resolution = Some(crate::verification::Resolution {
                        at: now,
                        by: UserId::new(),
                        reason: "mistake".into(),
                    });
                }
            }
            Action::Consent(given) => {
                let mut k = consent(
                    GiverKind::LegalGuardian,
                    if given {
                        ConsentDecision::Given
                    } else {
                        ConsentDecision::Refused
                    },
                );
                k.given_at = now;
                c.consents.push(k);
            }
            Action::WithdrawConsents => {
                for k in &mut c.consents {
                    k.withdrawal.get_or_insert(Withdrawal {
                        at: now,
                        reason: "withdrawn".into(),
                        recorded_by: UserId::new(),
                    });
                }
            }
            Action::ExpireConsents => {
                for k in &mut c.consents {
                    k.expires_at.get_or_insert(now);
                }
            }
            Action::Views(objects) => {
                let mut v = views(if objects {
                    ChildWish::Objects
                } else {
                    ChildWish::WantsReturn
                });
                v.heard_at = now;
                c.child_views.push(v);
            }
            Action::Bid(for_return) => {
                let mut d = bid(if for_return {
                    BestInterestsDecision::Return
                } else {
                    BestInterestsDecision::NotReturn
                });
                d.decided_at = now;
                c.determinations.push(d);
            }
            Action::Move(..) | Action::Next => {
                let (to, reason) = match a {
                    Action::Move(s, r) => (CaseState::ALL[s], r.then_some("because")),
                    _ => {
                        let r = c
                            .state
                            .rank()
                            .or(c.on_hold_from.and_then(CaseState::rank))
                            .unwrap_or(0);
                        (CaseState::MAIN_LINE[(r + 1).min(8)], None)
                    }
                };
                if let Ok(t) = c.transition(to, reason, UserId::new(), p, now) {
                    c.apply(&t).unwrap();
                    return true;
                }
            }
        }
        false
    }

    /// A matched and listed case after a random run of changes and moves, as of up to 60 hours
    /// after `t0`.
    pub(crate) fn any_case() -> impl Strategy<Value = Case> {
        proptest::collection::vec(action(), 1..60).prop_map(|actions| {
            let p = CasePolicy::default();
            let mut c = listed_matched();
            let mut now = t0();
            for a in actions {
                now += chrono::Duration::hours(1);
                act(&mut c, a, &p, now);
            }
            c
        })
    }

    fn listed_matched() -> Case {
        let mut c = matched();
        c.listing = Some(ListEntry {
            list_ref: "r".into(),
            origin_approved_at: Some(t0()),
            custody_approved_at: Some(t0()),
        });
        c
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn nothing_is_listed_without_verified_identity_and_valid_consent(
            actions in proptest::collection::vec(action(), 1..60)
        ) {
            let p = CasePolicy::default();
            let mut c = listed_matched();
            let mut now = t0();
            for a in actions {
                now += chrono::Duration::hours(1);
                if act(&mut c, a, &p, now) && c.state == CaseState::Listed {
                    prop_assert!(p.verification.is_met(&c.verification_steps).is_ok());
                    let guardian = c.consents.iter().any(|k| {
                        k.giver.kind == GiverKind::LegalGuardian && k.is_valid_given(now)
                    });
                    let bid = p.best_interests.standing(&c.determinations, now);
                    prop_assert!(bid.is_none_or(|d| d.decision == BestInterestsDecision::Return));
                    prop_assert!(guardian || bid.is_some());
                }
            }
        }
    }
}
