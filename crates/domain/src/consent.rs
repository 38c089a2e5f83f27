//! Consent and the child's voice: who agreed (or refused) to what, how, until when, and whether it
//! was withdrawn; and what the child itself said.

use crate::date::PartialDate;
use crate::disclosure::DisclosableField;
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{ChildViewsId, ConsentId, UserId};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GiverKind {
    /// A parent with parental rights or an appointed guardian (including a guardianship
    /// authority): the only giver whose consent to return counts as the guardian's.
    LegalGuardian,
    /// A relative without legal guardianship: recorded, weighed in a best-interests
    /// determination, but never a substitute for the guardian's consent.
    Relative,
    /// The child, from the policy's consent age.
    Child,
}

impl GiverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LegalGuardian => "legal guardian",
            Self::Relative => "relative",
            Self::Child => "child",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentGiver {
    pub kind: GiverKind,
    pub name: String,
    /// e.g. mother, grandmother, guardianship authority of X.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
}

/// What the consent is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConsentScope {
    /// The child's return to the family / home state.
    Return,
    /// Sharing these fields of the case with the counterpart.
    DataSharing { fields: BTreeSet<DisclosableField> },
    /// Photographs or mention of the child in the media.
    Media,
}

impl ConsentScope {
    pub fn is_return(&self) -> bool {
        matches!(self, Self::Return)
    }
    pub fn covers_field(&self, f: DisclosableField) -> bool {
        matches!(self, Self::DataSharing { fields } if fields.contains(&f))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    Given,
    /// Recorded too, because a refusal is what makes consent "contested".
    Refused,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentMethod {
    Written,
    /// Spoken before a witness, who is named.
    OralWitnessed,
    Video,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Withdrawal {
    pub at: DateTime<Utc>,
    pub reason: String,
    pub recorded_by: UserId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub id: ConsentId,
    pub giver: ConsentGiver,
    pub scope: ConsentScope,
    pub decision: ConsentDecision,
    pub method: ConsentMethod,
    /// Required when `method` is `oral_witnessed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    pub given_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Attachment ids (signed form, recording).
    #[serde(default)]
    pub evidence: Vec<String>,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
    /// A withdrawn consent is kept: that it once existed, and when it ended, is evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<Withdrawal>,
}

/// Where a consent stands at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// In force (a given consent or a standing refusal).
    InForce,
    Withdrawn,
    Expired,
    /// Dated after the moment asked about.
    NotYetGiven,
}

impl Consent {
    pub fn status(&self, now: DateTime<Utc>) -> ConsentStatus {
        if self.given_at > now {
            ConsentStatus::NotYetGiven
        } else if self.withdrawal.as_ref().is_some_and(|w| w.at <= now) {
            ConsentStatus::Withdrawn
        } else if self.expires_at.is_some_and(|e| e <= now) {
            ConsentStatus::Expired
        } else {
            ConsentStatus::InForce
        }
    }

    /// A consent given and in force at `now`.
    pub fn is_valid_given(&self, now: DateTime<Utc>) -> bool {
        self.decision == ConsentDecision::Given && self.status(now) == ConsentStatus::InForce
    }

    /// A refusal standing at `now`.
    pub fn is_standing_refusal(&self, now: DateTime<Utc>) -> bool {
        self.decision == ConsentDecision::Refused && self.status(now) == ConsentStatus::InForce
    }

    /// Checks a consent before it is stored. The child's birth date decides whether a child is old
    /// enough to give consent at all; below that age the child's wishes go in a views record.
    pub fn validate(
        &self,
        policy: &ConsentPolicy,
        child_birth_date: Option<PartialDate>,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.giver.name.trim().is_empty() {
            errs.push(FieldError::new(
                "giver.name",
                "required",
                "name who gave the consent",
            ));
        }
        if self.method == ConsentMethod::OralWitnessed
            && self.witness.as_deref().is_none_or(|w| w.trim().is_empty())
        {
            errs.push(FieldError::new(
                "witness",
                "required",
                "an oral consent needs a named witness",
            ));
        }
        if self.given_at > now {
            errs.push(FieldError::new(
                "given_at",
                "in_future",
                "a consent cannot be recorded before it is given",
            ));
        }
        if self.expires_at.is_some_and(|e| e <= self.given_at) {
            errs.push(FieldError::new(
                "expires_at",
                "before_given",
                "expires before it was given",
            ));
        }
        if let ConsentScope::DataSharing { fields } = &self.scope
            && fields.is_empty()
        {
            errs.push(FieldError::new(
                "scope.fields",
                "required",
                "say which fields may be shared",
            ));
        }
        if let Some(w) = &self.withdrawal {
            if w.reason.trim().is_empty() {
                errs.push(FieldError::new(
                    "withdrawal.reason",
                    "required",
                    "say why the consent was withdrawn",
                ));
            }
            if w.at < self.given_at {
                errs.push(FieldError::new(
                    "withdrawal.at",
                    "before_given",
                    "withdrawn before it was given",
                ));
            }
        }
        if self.giver.kind == GiverKind::Child {
            let min_age = child_birth_date.map(|b| age_bounds(b, now.date_naive()).0);
            if min_age.is_none_or(|a| a < u32::from(policy.child_consent_age)) {
                errs.push(FieldError::new(
                    "giver.kind",
                    "child_too_young",
                    format!(
                        "a child gives consent from age {} (and the birth date must show it); \
                         record the child's views instead",
                        policy.child_consent_age
                    ),
                ));
            }
        }
        errs.into_result(|| ())
    }
}

/// The ages at which the child's own voice becomes required or decisive.
///
/// `child_views_age` (default 7): from this age the child's views must be on record before consent
/// counts as obtained. The UN Committee on the Rights of the Child (General Comment 12 on Art. 12)
/// warns against age limits on being heard, so this is a floor for what the guard *demands*, not a
/// limit on who may be heard: views of younger children are recorded too, and a child who cannot
/// express views gets a record saying so. Seven is when children in ordinary interviews can state
/// and explain a wish about where to live; deployments may lower it.
///
/// `child_consent_age` (default 14): from this age a child's own consent (for data sharing, media)
/// counts. Fourteen is where both sides' civil law gives a minor partial capacity (Ukrainian Civil
/// Code art. 32, Russian Civil Code art. 26), so a consent given at that age is one either side's
/// authorities can accept. A child's *objection* to return counts at any age: it triggers a
/// best-interests determination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ConsentPolicy {
    pub child_views_age: u8,
    pub child_consent_age: u8,
}

impl Default for ConsentPolicy {
    fn default() -> Self {
        Self {
            child_views_age: 7,
            child_consent_age: 14,
        }
    }
}

impl ConsentPolicy {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        for (field, v) in [
            ("consent.child_views_age", self.child_views_age),
            ("consent.child_consent_age", self.child_consent_age),
        ] {
            if v > 18 {
                errs.push(FieldError::new(
                    field,
                    "out_of_range",
                    "at most 18: past it there is no child",
                ));
            }
        }
        errs.into_result(|| ())
    }

    /// Whether the child's views are required. An unknown birth date counts as old enough: asking
    /// a child too young to answer costs a record saying so; not asking one who could is the harm.
    pub fn child_views_required(&self, birth: Option<PartialDate>, today: NaiveDate) -> bool {
        birth.is_none_or(|b| age_bounds(b, today).1 >= u32::from(self.child_views_age))
    }
}

/// The youngest and oldest age (full years) the child can be on `today`, given a partial birth date.
pub fn age_bounds(birth: PartialDate, today: NaiveDate) -> (u32, u32) {
    let earliest = birth.earliest();
    let latest = latest_day(birth);
    (full_years(latest, today), full_years(earliest, today))
}

fn latest_day(d: PartialDate) -> NaiveDate {
    let y = d.year();
    let (m, day) = match (d.month(), d.day()) {
        (Some(m), Some(day)) => (u32::from(m), u32::from(day)),
        (Some(m), None) => (u32::from(m), days_in_month(y, u32::from(m))),
        _ => (12, 31),
    };
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(d.earliest())
}

fn days_in_month(y: i32, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

fn full_years(born: NaiveDate, today: NaiveDate) -> u32 {
    if born > today {
        return 0;
    }
    let mut years = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChildWish {
    WantsReturn,
    /// The child does not want to return: a best-interests determination is then required.
    Objects,
    Undecided,
    /// The child could not, or would not, express a view.
    NotExpressed,
}

impl fmt::Display for ChildWish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WantsReturn => "wants to return",
            Self::Objects => "objects to return",
            Self::Undecided => "undecided",
            Self::NotExpressed => "did not express a view",
        })
    }
}

/// What the child said, heard apart from both sides' authorities where possible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildViews {
    pub id: ChildViewsId,
    pub heard_at: DateTime<Utc>,
    /// Who heard the child (often a humanitarian worker or psychologist).
    pub heard_by: String,
    /// Who else was present: the child speaks differently in front of its carers.
    #[serde(default)]
    pub present: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub wish: ChildWish,
    /// The child's views in the words recorded.
    pub summary: String,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
}

impl ChildViews {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.heard_by.trim().is_empty() {
            errs.push(FieldError::new(
                "heard_by",
                "required",
                "say who heard the child",
            ));
        }
        if self.summary.trim().is_empty() {
            errs.push(FieldError::new(
                "summary",
                "required",
                "record what the child said (or why it could not say)",
            ));
        }
        if self.heard_at > now {
            errs.push(FieldError::new(
                "heard_at",
                "in_future",
                "cannot be heard in the future",
            ));
        }
        errs.into_result(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    pub(crate) fn consent(kind: GiverKind, scope: ConsentScope) -> Consent {
        Consent {
            id: ConsentId::new(),
            giver: ConsentGiver {
                kind,
                name: "Olena K.".into(),
                relationship: Some("mother".into()),
            },
            scope,
            decision: ConsentDecision::Given,
            method: ConsentMethod::Written,
            witness: None,
            given_at: at("2025-03-01T10:00:00Z"),
            expires_at: None,
            evidence: vec![],
            recorded_by: UserId::new(),
            recorded_at: at("2025-03-01T10:00:00Z"),
            withdrawal: None,
        }
    }

    #[test]
    fn status_follows_withdrawal_and_expiry() {
        let mut c = consent(GiverKind::LegalGuardian, ConsentScope::Return);
        c.expires_at = Some(at("2025-09-01T00:00:00Z"));
        assert_eq!(
            c.status(at("2025-02-01T00:00:00Z")),
            ConsentStatus::NotYetGiven
        );
        assert_eq!(c.status(at("2025-04-01T00:00:00Z")), ConsentStatus::InForce);
        assert_eq!(c.status(at("2025-09-01T00:00:00Z")), ConsentStatus::Expired);
        c.withdrawal = Some(Withdrawal {
            at: at("2025-05-01T00:00:00Z"),
            reason: "family reconsidered".into(),
            recorded_by: UserId::new(),
        });
        assert_eq!(c.status(at("2025-04-30T00:00:00Z")), ConsentStatus::InForce);
        assert_eq!(
            c.status(at("2025-05-02T00:00:00Z")),
            ConsentStatus::Withdrawn
        );
        assert!(!c.is_valid_given(at("2025-05-02T00:00:00Z")));
    }

    #[test]
    fn validation_names_every_problem() {
        let mut c = consent(
            GiverKind::Child,
            ConsentScope::DataSharing {
                fields: BTreeSet::new(),
            },
        );
        c.giver.name = String::new();
        c.method = ConsentMethod::OralWitnessed;
        c.expires_at = Some(at("2025-01-01T00:00:00Z"));
        let born = PartialDate::new(2015, Some(6), None, false).ok();
        let errs = c
            .validate(&ConsentPolicy::default(), born, at("2025-04-01T00:00:00Z"))
            .unwrap_err();
        let codes: Vec<&str> = errs.0.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "required",
                "required",
                "before_given",
                "required",
                "child_too_young"
            ]
        );
    }

    #[test]
    fn a_child_of_consent_age_may_consent() {
        let c = consent(GiverKind::Child, ConsentScope::Media);
        let p = ConsentPolicy::default();
        let now = at("2025-04-01T00:00:00Z");
        // Born in 2010: 14 at the youngest on 2025-04-01.
        assert!(
            c.validate(&p, PartialDate::new(2010, None, None, false).ok(), now)
                .is_ok()
        );
        // Born in 2011: could still be 13.
        assert!(
            c.validate(&p, PartialDate::new(2011, None, None, false).ok(), now)
                .is_err()
        );
        assert!(c.validate(&p, None, now).is_err());
    }

    #[test]
    fn views_are_required_when_the_child_may_be_old_enough() {
        let p = ConsentPolicy::default();
        let today = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
        assert!(p.child_views_required(None, today));
        assert!(p.child_views_required(PartialDate::new(2018, None, None, true).ok(), today));
        assert!(
            !p.child_views_required(PartialDate::new(2018, Some(5), Some(1), false).ok(), today)
        );
        assert!(!p.child_views_required(PartialDate::new(2021, None, None, false).ok(), today));
    }

    #[test]
    fn age_bounds_of_partial_dates() {
        let today = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
        let y = PartialDate::new(2015, None, None, false).unwrap();
        assert_eq!(age_bounds(y, today), (9, 10));
        let ym = PartialDate::new(2015, Some(2), None, false).unwrap();
        assert_eq!(age_bounds(ym, today), (10, 10));
        let leap = PartialDate::new(2016, Some(2), None, false).unwrap();
        assert_eq!(
            latest_day(leap),
            NaiveDate::from_ymd_opt(2016, 2, 29).unwrap()
        );
    }

    #[test]
    fn policy_ages_are_bounded() {
        assert!(ConsentPolicy::default().validate().is_ok());
        let p = ConsentPolicy {
            child_views_age: 30,
            child_consent_age: 14,
        };
        assert_eq!(
            p.validate().unwrap_err().0[0].field,
            "consent.child_views_age"
        );
    }
}
