//! Identity verification: the steps that prove the child in custody is the child the family seeks,
//! and the policy that decides when those steps are enough.

use crate::condition::{Condition, ConditionCode as C, unmet};
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{UserId, VerificationStepId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// Birth certificate, passport, school or medical papers compared with the child.
    DocumentCheck,
    /// A relative recognises the child on a photograph.
    PhotoRecognitionByRelative,
    /// Child and family see each other on a video call.
    VideoCall,
    /// Child and family interviewed separately about facts only the family would know.
    Interview,
    Dna,
}

impl VerificationMethod {
    pub const ALL: [VerificationMethod; 5] = [
        Self::DocumentCheck,
        Self::PhotoRecognitionByRelative,
        Self::VideoCall,
        Self::Interview,
        Self::Dna,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentCheck => "document_check",
            Self::PhotoRecognitionByRelative => "photo_recognition_by_relative",
            Self::VideoCall => "video_call",
            Self::Interview => "interview",
            Self::Dna => "dna",
        }
    }
}

impl fmt::Display for VerificationMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationOutcome {
    Positive,
    Negative,
    Inconclusive,
}

/// Why a negative result no longer stands (e.g. the wrong photograph was shown). Kept rather than
/// deleting the step, because how identity was verified must survive a later dispute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resolution {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerificationStep {
    pub id: VerificationStepId,
    pub method: VerificationMethod,
    /// Who did it: often someone outside Homeward (an ICRC delegate, a laboratory).
    pub performed_by: String,
    pub performed_at: DateTime<Utc>,
    pub outcome: VerificationOutcome,
    /// Attachment ids of the evidence (opaque here; the app resolves them).
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

impl VerificationStep {
    /// Checks what a form can get wrong; `now` rejects steps claimed to happen in the future.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.performed_by.trim().is_empty() {
            errs.push(FieldError::new(
                "performed_by",
                "required",
                "say who performed the verification",
            ));
        }
        if self.performed_at > now {
            errs.push(FieldError::new(
                "performed_at",
                "in_future",
                "a verification cannot be recorded before it happened",
            ));
        }
        if let Some(r) = &self.resolution {
            if self.outcome != VerificationOutcome::Negative {
                errs.push(FieldError::new(
                    "resolution",
                    "not_negative",
                    "only a negative result is resolved",
                ));
            }
            if r.reason.trim().is_empty() {
                errs.push(FieldError::new(
                    "resolution.reason",
                    "required",
                    "say why the negative result no longer stands",
                ));
            }
        }
        errs.into_result(|| ())
    }

    fn blocks(&self) -> bool {
        self.outcome == VerificationOutcome::Negative && self.resolution.is_none()
    }
}

/// When identity counts as verified.
///
/// Default: two *independent* methods with a positive result, or one positive DNA result; any
/// unresolved negative result blocks. Two methods because each on its own has a known failure
/// (documents are forged or lost, a relative hoping for a match recognises the wrong child), and
/// the steps of one method share that failure, so a second step of the same method proves nothing
/// new. DNA alone suffices because its error rate is orders of magnitude below the others'. A
/// negative result blocks until someone resolves it in writing: returning the wrong child is the
/// one mistake the whole process exists to avoid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct VerificationPolicy {
    /// Distinct methods with a positive result needed.
    pub min_independent_methods: u8,
    /// Whether one positive DNA result verifies identity on its own.
    pub dna_suffices: bool,
}

impl Default for VerificationPolicy {
    fn default() -> Self {
        Self {
            min_independent_methods: 2,
            dna_suffices: true,
        }
    }
}

impl VerificationPolicy {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let max = VerificationMethod::ALL.len();
        if self.min_independent_methods == 0 || usize::from(self.min_independent_methods) > max {
            return Err(ValidationErrors::single(
                "verification.min_independent_methods",
                "out_of_range",
                format!("between 1 and {max}"),
            ));
        }
        Ok(())
    }

    /// Every condition of the policy, met or not.
    pub fn evaluate(&self, steps: &[VerificationStep]) -> Vec<Condition> {
        let mut out = Vec::new();
        let blocking: Vec<&VerificationStep> = steps.iter().filter(|s| s.blocks()).collect();
        if blocking.is_empty() {
            out.push(Condition::met(
                C::VerificationNegative,
                "no unresolved negative result",
            ));
        }
        for s in blocking {
            out.push(Condition::unmet(
                C::VerificationNegative,
                format!(
                    "negative {} result of {} by {}; resolve it before identity counts as verified",
                    s.method,
                    s.performed_at.date_naive(),
                    s.performed_by
                ),
            ));
        }

        let positive: BTreeSet<VerificationMethod> = steps
            .iter()
            .filter(|s| s.outcome == VerificationOutcome::Positive)
            .map(|s| s.method)
            .collect();
        let listed = positive
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let need = usize::from(self.min_independent_methods);
        if self.dna_suffices && positive.contains(&VerificationMethod::Dna) {
            out.push(Condition::met(
                C::IdentityNotVerified,
                "verified by a positive DNA result",
            ));
        } else if positive.len() >= need {
            out.push(Condition::met(
                C::IdentityNotVerified,
                format!("verified by {listed}"),
            ));
        } else {
            let dna = if self.dna_suffices {
                ", or a positive DNA result"
            } else {
                ""
            };
            let have = if positive.is_empty() {
                "no positive result yet".to_owned()
            } else {
                format!("positive results from {} ({listed})", positive.len())
            };
            out.push(Condition::unmet(
                C::IdentityNotVerified,
                format!("{have}; {need} independent methods needed{dna}"),
            ));
        }
        out
    }

    /// `Ok` when identity counts as verified, else every unmet condition.
    pub fn is_met(&self, steps: &[VerificationStep]) -> Result<(), Vec<Condition>> {
        unmet(self.evaluate(steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationMethod as M;
    use VerificationOutcome as O;

    pub(crate) fn step(method: M, outcome: O) -> VerificationStep {
        let at = DateTime::parse_from_rfc3339("2025-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        VerificationStep {
            id: VerificationStepId::new(),
            method,
            performed_by: "delegate A".into(),
            performed_at: at,
            outcome,
            evidence: vec!["sha256:ab".into()],
            notes: None,
            recorded_by: UserId::new(),
            recorded_at: at,
            resolution: None,
        }
    }

    fn codes(r: Result<(), Vec<Condition>>) -> Vec<C> {
        r.unwrap_err().into_iter().map(|c| c.code).collect()
    }

    #[test]
    fn two_independent_methods_verify() {
        let p = VerificationPolicy::default();
        let steps = [
            step(M::DocumentCheck, O::Positive),
            step(M::VideoCall, O::Positive),
        ];
        assert!(p.is_met(&steps).is_ok());
    }

    #[test]
    fn dna_alone_verifies_unless_the_policy_says_otherwise() {
        let steps = [step(M::Dna, O::Positive)];
        assert!(VerificationPolicy::default().is_met(&steps).is_ok());
        let strict = VerificationPolicy {
            dna_suffices: false,
            ..Default::default()
        };
        assert_eq!(codes(strict.is_met(&steps)), [C::IdentityNotVerified]);
    }

    #[test]
    fn the_same_method_twice_counts_once() {
        let steps = [
            step(M::PhotoRecognitionByRelative, O::Positive),
            step(M::PhotoRecognitionByRelative, O::Positive),
        ];
        let err = VerificationPolicy::default().is_met(&steps).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].code, C::IdentityNotVerified);
        assert!(err[0].message.contains("positive results from 1"));
    }

    #[test]
    fn inconclusive_results_do_not_count() {
        let steps = [
            step(M::DocumentCheck, O::Positive),
            step(M::Interview, O::Inconclusive),
        ];
        assert_eq!(
            codes(VerificationPolicy::default().is_met(&steps)),
            [C::IdentityNotVerified]
        );
    }

    #[test]
    fn a_negative_result_blocks_until_resolved() {
        let mut steps = vec![
            step(M::Dna, O::Positive),
            step(M::DocumentCheck, O::Positive),
            step(M::VideoCall, O::Negative),
        ];
        assert_eq!(
            codes(VerificationPolicy::default().is_met(&steps)),
            [C::VerificationNegative]
        );
        steps[2].resolution = Some(Resolution {
            at: steps[2].performed_at,
            by: UserId::new(),
            reason: "the call showed the child's cousin, by mistake".into(),
        });
        assert!(VerificationPolicy::default().is_met(&steps).is_ok());
    }

    #[test]
    fn nothing_recorded_is_not_verified() {
        assert_eq!(
            codes(VerificationPolicy::default().is_met(&[])),
            [C::IdentityNotVerified]
        );
    }

    #[test]
    fn policy_and_step_validation() {
        let bad = VerificationPolicy {
            min_independent_methods: 0,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().0[0].code, "out_of_range");
        assert!(VerificationPolicy::default().validate().is_ok());

        let mut s = step(M::Interview, O::Positive);
        s.performed_by = " ".into();
        s.resolution = Some(Resolution {
            at: s.performed_at,
            by: UserId::new(),
            reason: String::new(),
        });
        let now = s.performed_at - chrono::Duration::days(1);
        let errs: Vec<&str> = s
            .validate(now)
            .unwrap_err()
            .0
            .iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(errs, ["required", "in_future", "not_negative", "required"]);
    }
}
