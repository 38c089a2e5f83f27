//! The rules a case's use-cases apply around a change of its facts: withdrawing a consent,
//! moving the case back when the facts no longer support its state, and whether the child is
//! already on its way (after which its listing is history, not a negotiable fact).

use crate::case::{Case, CasePolicy, CaseState, RefusedTransition, StaleTransition, Transition};
use crate::condition::Condition;
use crate::consent::Withdrawal;
use crate::error::ValidationErrors;
use crate::ids::{ConsentId, UserId};
use chrono::{DateTime, Utc};

/// Why a consent cannot be withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawalRefused {
    #[error("no consent of this case has that id")]
    NoSuchConsent,
    #[error("consent already withdrawn")]
    AlreadyWithdrawn,
    #[error("{0}")]
    Invalid(ValidationErrors),
}

/// What [`Case::fall_back`] found: the facts no longer support `state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FallBack {
    /// The state the facts no longer support (for a case on hold: the one it would resume to).
    pub state: CaseState,
    pub unmet: Vec<Condition>,
    /// The move back, applied to the case; `None` once the child is on its way or the case is
    /// on hold, where people decide (hold, exit, resume).
    pub moved: Option<Transition>,
}

/// The case could not move back to a state its facts support. Never expected: the target is
/// chosen among the states whose requirements are met.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FallBackFailed {
    #[error("revalidation cannot move back: {0}")]
    Refused(#[from] RefusedTransition),
    #[error("revalidation cannot move back: {0}")]
    Stale(#[from] StaleTransition),
}

impl Case {
    /// Withdraws one of the case's consents as of `withdrawal.at`: the consent stays on record
    /// with its end, and the guards it satisfied open again (see [`Case::fall_back`]). Nothing
    /// changes when it is refused.
    pub fn withdraw_consent(
        &mut self,
        consent: ConsentId,
        withdrawal: Withdrawal,
        policy: &CasePolicy,
        now: DateTime<Utc>,
    ) -> Result<(), WithdrawalRefused> {
        let birth = self.child_birth_date;
        let c = self
            .consents
            .iter_mut()
            .find(|c| c.id == consent)
            .ok_or(WithdrawalRefused::NoSuchConsent)?;
        if c.withdrawal.is_some() {
            return Err(WithdrawalRefused::AlreadyWithdrawn);
        }
        if withdrawal.at > now {
            return Err(WithdrawalRefused::Invalid(ValidationErrors::single(
                "at",
                "in_future",
                "a withdrawal cannot be recorded before it happens",
            )));
        }
        let mut next = c.clone();
        next.withdrawal = Some(withdrawal);
        next.validate(&policy.consent, birth, now)
            .map_err(WithdrawalRefused::Invalid)?;
        *c = next;
        Ok(())
    }

    /// After any change to the facts: when they no longer support the case's state, moves the
    /// case back to the latest earlier state they do support, giving the unmet conditions as the
    /// reason. `None` when the facts still support the state.
    pub fn fall_back(
        &mut self,
        by: UserId,
        policy: &CasePolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<FallBack>, FallBackFailed> {
        let Some(rv) = self.revalidate(policy, now) else {
            return Ok(None);
        };
        let moved = match rv.fall_back_to {
            Some(back) => {
                let reason = format!(
                    "the facts no longer support {}: {}",
                    rv.state,
                    rv.unmet
                        .iter()
                        .map(|c| c.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                let t = self.transition(back, Some(&reason), by, policy, now)?;
                self.apply(&t)?;
                Some(t)
            }
            None => None,
        };
        Ok(Some(FallBack {
            state: rv.state,
            unmet: rv.unmet,
            moved,
        }))
    }

    /// Whether the child is already on its way: the case, or the state it is on hold from, is
    /// past `listed`. From then on the physical facts (handovers) decide, not the paperwork.
    pub fn on_its_way(&self) -> bool {
        self.effective_state().rank() > CaseState::Listed.rank()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::tests::{later, ready, t0};
    use crate::condition::ConditionCode as C;
    use CaseState as S;
    use proptest::prelude::*;

    fn withdrawal(at: DateTime<Utc>) -> Withdrawal {
        Withdrawal {
            at,
            reason: "the mother changed her mind".into(),
            recorded_by: UserId::new(),
        }
    }

    #[test]
    fn a_consent_is_withdrawn_once_and_not_before_it_happens() {
        let p = CasePolicy::default();
        let mut c = ready(S::ConsentObtained);
        let id = c.consents[0].id;
        let before = c.clone();
        assert_eq!(
            c.withdraw_consent(ConsentId::new(), withdrawal(later(1)), &p, later(1)),
            Err(WithdrawalRefused::NoSuchConsent)
        );
        let refused = c.withdraw_consent(id, withdrawal(later(2)), &p, later(1));
        let Err(WithdrawalRefused::Invalid(errs)) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(errs.0[0].code, "in_future");
        // The consent's own rules still hold: a withdrawal needs its reason.
        let mut silent = withdrawal(later(1));
        silent.reason = " ".into();
        assert!(matches!(
            c.withdraw_consent(id, silent, &p, later(1)),
            Err(WithdrawalRefused::Invalid(_))
        ));
        assert_eq!(c, before, "a refusal changes nothing");

        c.withdraw_consent(id, withdrawal(later(1)), &p, later(1))
            .unwrap();
        assert_eq!(
            c.consents[0].withdrawal,
            Some(withdrawal(later(1))).map(|w| {
                Withdrawal {
                    recorded_by: c.consents[0].withdrawal.as_ref().unwrap().recorded_by,
                    ..w
                }
            })
        );
        assert_eq!(
            c.withdraw_consent(id, withdrawal(later(1)), &p, later(2)),
            Err(WithdrawalRefused::AlreadyWithdrawn)
        );
    }

    #[test]
    fn a_withdrawn_consent_moves_the_case_back_with_the_reason() {
        let p = CasePolicy::default();
        let by = UserId::new();
        let mut c = ready(S::Listed);
        assert_eq!(c.fall_back(by, &p, later(1)), Ok(None));
        let id = c.consents[0].id;
        c.withdraw_consent(id, withdrawal(later(1)), &p, later(1))
            .unwrap();
        let fb = c.fall_back(by, &p, later(1)).unwrap().unwrap();
        assert_eq!(fb.state, S::Listed);
        assert!(
            fb.unmet.iter().any(|u| u.code == C::ConsentWithdrawn),
            "{fb:?}"
        );
        let t = fb.moved.unwrap();
        assert_eq!((t.from, t.to, t.by), (S::Listed, S::IdentityVerified, by));
        assert!(
            t.reason
                .as_deref()
                .unwrap()
                .starts_with("the facts no longer support listed: "),
            "{t:?}"
        );
        assert_eq!(c.state, S::IdentityVerified);
        assert_eq!(c.fall_back(by, &p, later(1)), Ok(None));
    }

    #[test]
    fn once_on_its_way_the_case_stays_where_it_is() {
        let p = CasePolicy::default();
        let mut c = ready(S::InTransit);
        let id = c.consents[0].id;
        c.withdraw_consent(id, withdrawal(later(1)), &p, later(1))
            .unwrap();
        let before = c.clone();
        // In transit the unmet paperwork is told, but the case does not move on its own.
        let fb = c.fall_back(UserId::new(), &p, later(1)).unwrap().unwrap();
        assert_eq!((fb.state, fb.moved), (S::InTransit, None));
        assert_eq!(c, before);
        assert!(c.on_its_way());
        assert!(!ready(S::Listed).on_its_way());
        assert!(!ready(S::Withdrawn).on_its_way());
        let mut held = ready(S::OnHold);
        held.on_hold_from = Some(S::HandedOver);
        assert!(held.on_its_way());
        held.on_hold_from = Some(S::ConsentObtained);
        assert!(!held.on_its_way());
        held.on_hold_from = None;
        assert!(!held.on_its_way());
    }

    #[test]
    fn on_hold_the_unmet_facts_are_told_but_people_decide() {
        let p = CasePolicy::default();
        let mut c = ready(S::OnHold);
        c.on_hold_from = Some(S::ConsentObtained);
        let id = c.consents[0].id;
        c.withdraw_consent(id, withdrawal(t0()), &p, later(1))
            .unwrap();
        let fb = c.fall_back(UserId::new(), &p, later(1)).unwrap().unwrap();
        assert_eq!((fb.state, fb.moved), (S::ConsentObtained, None));
        assert!(!fb.unmet.is_empty());
        assert_eq!(c.state, S::OnHold);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever the facts, after falling back the case is in a state they support, or one
        /// where people decide.
        #[test]
        fn after_falling_back_the_facts_support_the_state(
            c in crate::case::tests::any_case(),
        ) {
            let p = CasePolicy::default();
            let mut c = c;
            let now = later(30);
            let fb = c.fall_back(UserId::new(), &p, now);
            prop_assert!(fb.is_ok(), "{fb:?}");
            let rv = c.revalidate(&p, now);
            prop_assert!(rv.as_ref().is_none_or(|rv| rv.fall_back_to.is_none()), "{rv:?}");
        }

        /// Once on its way, a child is back in negotiation only when people put the case on
        /// hold and resume it to an earlier state: every other move keeps it on its way, or ends
        /// the case.
        #[test]
        fn on_its_way_is_kept_by_every_move(
            c in crate::case::tests::any_case(),
            past_listed in 5..CaseState::MAIN_LINE.len(),
            held in any::<bool>(),
            to in 0..CaseState::ALL.len(),
        ) {
            let p = CasePolicy::default();
            let mut c = c;
            let on_the_way = CaseState::MAIN_LINE[past_listed];
            if held {
                c.state = S::OnHold;
                c.on_hold_from = Some(on_the_way);
            } else {
                c.state = on_the_way;
            }
            prop_assert!(c.on_its_way());
            if let Ok(t) = c.transition(CaseState::ALL[to], Some("because"), UserId::new(), &p, later(30)) {
                c.apply(&t).unwrap();
                let resumed = t.kind == crate::case::TransitionKind::Resume;
                prop_assert!(c.on_its_way() || c.state.is_terminal() || resumed, "{t:?}");
            }
        }
    }
}
