//! Best interests: the assessment done for a child, and the formal determination by a panel that
//! the policy requires when the family's consent alone cannot settle the return.

use crate::error::{FieldError, ValidationErrors};
use crate::ids::{BestInterestsId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BestInterestsDecision {
    /// Return to the family (or the home state's care) is in the child's best interests.
    Return,
    /// It is not: the case leaves by `not_in_best_interests`.
    NotReturn,
}

impl fmt::Display for BestInterestsDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Return => "return",
            Self::NotReturn => "not return",
        })
    }
}

/// A caseworker's assessment of the child's situation and needs, done early and updated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BestInterestsAssessment {
    pub id: BestInterestsId,
    pub assessed_at: DateTime<Utc>,
    pub assessed_by: String,
    /// Safety, health, family situation, the child's views as weighed.
    pub findings: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<BestInterestsDecision>,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PanelMember {
    pub name: String,
    /// e.g. child protection officer, psychologist, legal adviser; and their organisation.
    pub role: String,
}

/// The panel's formal decision, with its reasons written down so that it can be reviewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BestInterestsDetermination {
    pub id: BestInterestsId,
    pub decided_at: DateTime<Utc>,
    pub panel: Vec<PanelMember>,
    pub decision: BestInterestsDecision,
    pub reasons: String,
    /// The assessment the panel worked from, if one is on record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<BestInterestsId>,
    #[serde(default)]
    pub evidence: Vec<String>,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
}

impl BestInterestsDetermination {
    pub fn validate(
        &self,
        policy: &BestInterestsPolicy,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let named = self
            .panel
            .iter()
            .filter(|m| !m.name.trim().is_empty())
            .count();
        if named < usize::from(policy.min_panel) {
            errs.push(FieldError::new(
                "panel",
                "panel_too_small",
                format!(
                    "a determination needs a panel of at least {} named members",
                    policy.min_panel
                ),
            ));
        }
        if self.reasons.trim().is_empty() {
            errs.push(FieldError::new(
                "reasons",
                "required",
                "a determination must give its reasons",
            ));
        }
        if self.decided_at > now {
            errs.push(FieldError::new(
                "decided_at",
                "in_future",
                "cannot be decided in the future",
            ));
        }
        errs.into_result(|| ())
    }
}

/// When a best-interests determination (BID) is required before consent counts as obtained.
///
/// Defaults follow the inter-agency guidance: a BID is needed where separation from (or return to)
/// the family is not settled by the family's will, so when the legal guardian's consent is
/// missing, when guardians disagree, and when the child objects. It is not required for every
/// child (`always: false`) because most returns in these rounds are children wanted back by a
/// parent who consents, and a panel for each would delay them for nothing. The panel has at least
/// three members so that no single official decides alone. The assessment is not required by
/// default: the guards the issue names are the determination's; deployments may turn it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct BestInterestsPolicy {
    pub when_guardian_consent_missing: bool,
    pub when_consent_contested: bool,
    pub when_child_objects: bool,
    pub always: bool,
    pub assessment_required: bool,
    pub min_panel: u8,
}

impl Default for BestInterestsPolicy {
    fn default() -> Self {
        Self {
            when_guardian_consent_missing: true,
            when_consent_contested: true,
            when_child_objects: true,
            always: false,
            assessment_required: false,
            min_panel: 3,
        }
    }
}

impl BestInterestsPolicy {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        if self.min_panel == 0 {
            return Err(ValidationErrors::single(
                "best_interests.min_panel",
                "out_of_range",
                "a panel has at least one member",
            ));
        }
        Ok(())
    }

    /// The latest determination that meets the policy (earlier ones are superseded).
    pub fn standing<'a>(
        &self,
        determinations: &'a [BestInterestsDetermination],
        now: DateTime<Utc>,
    ) -> Option<&'a BestInterestsDetermination> {
        determinations
            .iter()
            .filter(|d| d.decided_at <= now && self.validate_one(d))
            .max_by_key(|d| d.decided_at)
    }

    fn validate_one(&self, d: &BestInterestsDetermination) -> bool {
        d.panel.iter().filter(|m| !m.name.trim().is_empty()).count() >= usize::from(self.min_panel)
            && !d.reasons.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn bid(
        when: &str,
        decision: BestInterestsDecision,
        panel: usize,
    ) -> BestInterestsDetermination {
        BestInterestsDetermination {
            id: BestInterestsId::new(),
            decided_at: at(when),
            panel: (0..panel)
                .map(|i| PanelMember {
                    name: format!("member {i}"),
                    role: "child protection".into(),
                })
                .collect(),
            decision,
            reasons: "weighed the factors".into(),
            assessment: None,
            evidence: vec![],
            recorded_by: UserId::new(),
            recorded_at: at(when),
        }
    }

    #[test]
    fn the_latest_valid_determination_stands() {
        let p = BestInterestsPolicy::default();
        let ds = [
            bid("2025-01-01T00:00:00Z", BestInterestsDecision::NotReturn, 3),
            bid("2025-02-01T00:00:00Z", BestInterestsDecision::Return, 3),
            bid("2025-03-01T00:00:00Z", BestInterestsDecision::NotReturn, 2),
        ];
        let now = at("2025-04-01T00:00:00Z");
        assert_eq!(
            p.standing(&ds, now).map(|d| d.decision),
            Some(BestInterestsDecision::Return)
        );
        assert!(ds[2].validate(&p, now).is_err());
        assert!(ds[1].validate(&p, now).is_ok());
    }
}
