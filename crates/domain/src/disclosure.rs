//! Disclosure to the counterpart: the mediator tells the other side chosen facts about a case, and
//! only those a standing consent to share covers.

use crate::condition::{Condition, ConditionCode as C, unmet};
use crate::consent::{Consent, ConsentScope, ConsentStatus, GiverKind};
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{CaseId, ConsentId, DisclosureId, PartyId, RecordId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A fact about a case that can be disclosed, from the least to the most sensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DisclosableField {
    /// That the child sought has been found.
    StatusFound,
    AliveAndWell,
    /// The region the child is in (not the place).
    Region,
    /// e.g. children's home, foster family, hospital.
    InstitutionType,
    /// The exact place: who has it can reach the child.
    CurrentLocation,
    Carer,
    Health,
    /// How to contact the child or its carer.
    Contact,
}

impl DisclosableField {
    pub const ALL: [DisclosableField; 8] = [
        Self::StatusFound,
        Self::AliveAndWell,
        Self::Region,
        Self::InstitutionType,
        Self::CurrentLocation,
        Self::Carer,
        Self::Health,
        Self::Contact,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StatusFound => "status_found",
            Self::AliveAndWell => "alive_and_well",
            Self::Region => "region",
            Self::InstitutionType => "institution_type",
            Self::CurrentLocation => "current_location",
            Self::Carer => "carer",
            Self::Health => "health",
            Self::Contact => "contact",
        }
    }
}

impl fmt::Display for DisclosableField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose consent to share counts: the guardian's, or the child's own (a child's consent is only
/// stored when the child was of consent age, see `Consent::validate`). A relative who is not the
/// guardian cannot open the child's file to the other side.
fn may_consent_to_share(kind: GiverKind) -> bool {
    matches!(kind, GiverKind::LegalGuardian | GiverKind::Child)
}

/// `Ok` when every field is covered by a data-sharing consent in force at `now` and no refusal in
/// force covers it; else one condition per field that may not be disclosed, saying why.
pub fn may_disclose(
    consents: &[Consent],
    fields: &[DisclosableField],
    now: DateTime<Utc>,
) -> Result<(), Vec<Condition>> {
    unmet(disclosure_conditions(consents, fields, now))
}

/// Every field's condition, met or not (for a form that shows which fields can be ticked).
pub fn disclosure_conditions(
    consents: &[Consent],
    fields: &[DisclosableField],
    now: DateTime<Utc>,
) -> Vec<Condition> {
    if fields.is_empty() {
        return vec![Condition::unmet(
            C::NoFieldsChosen,
            "choose at least one field to disclose",
        )];
    }
    let relevant = |f: DisclosableField| {
        consents
            .iter()
            .filter(move |c| may_consent_to_share(c.giver.kind) && c.scope.covers_field(f))
    };
    let unique: BTreeSet<DisclosableField> = fields.iter().copied().collect();
    unique
        .into_iter()
        .map(|f| {
            if let Some(r) = relevant(f).find(|c| c.is_standing_refusal(now)) {
                return Condition::unmet(
                    C::DisclosureRefused,
                    format!(
                        "{f}: {} ({}) refused to share it",
                        r.giver.name,
                        r.giver.kind.as_str()
                    ),
                );
            }
            if let Some(c) = relevant(f).find(|c| c.is_valid_given(now)) {
                return Condition::met(
                    C::DisclosureNotCovered,
                    format!(
                        "{f}: covered by the consent of {} given {}",
                        c.giver.name,
                        c.given_at.date_naive()
                    ),
                );
            }
            let statuses: Vec<ConsentStatus> = relevant(f)
                .filter(|c| c.decision == crate::consent::ConsentDecision::Given)
                .map(|c| c.status(now))
                .collect();
            if statuses.contains(&ConsentStatus::Withdrawn) {
                Condition::unmet(
                    C::ConsentWithdrawn,
                    format!("{f}: the consent to share it was withdrawn"),
                )
            } else if statuses.contains(&ConsentStatus::Expired) {
                Condition::unmet(
                    C::ConsentExpired,
                    format!("{f}: the consent to share it has expired"),
                )
            } else {
                Condition::unmet(
                    C::DisclosureNotCovered,
                    format!("{f}: no consent to share it"),
                )
            }
        })
        .collect()
}

/// One disclosed fact, in the words the mediator chose (e.g. "in a children's home").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisclosedField {
    pub field: DisclosableField,
    pub value: String,
}

/// What the counterpart was told, kept exactly: the counterpart reads these and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disclosure {
    pub id: DisclosureId,
    pub case_id: CaseId,
    pub to_party: PartyId,
    /// The receiving party's own record the facts are about (its tracing request or custody
    /// record in the case), so it knows which of its children they concern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<RecordId>,
    pub fields: Vec<DisclosedField>,
    /// The consents that covered the fields when disclosed.
    pub consents: Vec<ConsentId>,
    pub disclosed_by: UserId,
    pub disclosed_at: DateTime<Utc>,
}

const MAX_VALUE: usize = 2_000;

impl Disclosure {
    /// Checks the content, then that the consents cover every field at `disclosed_at`; fills
    /// `consents` with the ids that covered them.
    pub fn check(&mut self, consents: &[Consent]) -> Result<(), DisclosureRefused> {
        let mut errs = ValidationErrors::default();
        let mut seen = BTreeSet::new();
        for (i, f) in self.fields.iter().enumerate() {
            if !seen.insert(f.field) {
                errs.push(FieldError::new(
                    format!("fields[{i}].field"),
                    "duplicate",
                    format!("{} is disclosed twice", f.field),
                ));
            }
            let len = f.value.trim().chars().count();
            if len == 0 || len > MAX_VALUE {
                errs.push(FieldError::new(
                    format!("fields[{i}].value"),
                    "invalid_length",
                    format!("between 1 and {MAX_VALUE} characters"),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(DisclosureRefused::Invalid(errs));
        }
        let chosen: Vec<DisclosableField> = self.fields.iter().map(|f| f.field).collect();
        may_disclose(consents, &chosen, self.disclosed_at)
            .map_err(DisclosureRefused::NotCovered)?;
        self.consents = consents
            .iter()
            .filter(|c| {
                may_consent_to_share(c.giver.kind)
                    && c.is_valid_given(self.disclosed_at)
                    && matches!(&c.scope, ConsentScope::DataSharing { fields } if chosen.iter().any(|f| fields.contains(f)))
            })
            .map(|c| c.id)
            .collect();
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "details", rename_all = "snake_case")]
pub enum DisclosureRefused {
    #[error("invalid disclosure: {0}")]
    Invalid(ValidationErrors),
    #[error("not covered by consent: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    NotCovered(Vec<Condition>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{ConsentDecision, ConsentGiver, ConsentMethod, Withdrawal};
    use DisclosableField as F;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sharing(kind: GiverKind, fields: &[F], decision: ConsentDecision) -> Consent {
        Consent {
            id: ConsentId::new(),
            giver: ConsentGiver {
                kind,
                name: "Olena K.".into(),
                relationship: None,
            },
            scope: ConsentScope::DataSharing {
                fields: fields.iter().copied().collect(),
            },
            decision,
            method: ConsentMethod::Written,
            witness: None,
            given_at: at("2025-03-01T00:00:00Z"),
            expires_at: None,
            evidence: vec![],
            recorded_by: UserId::new(),
            recorded_at: at("2025-03-01T00:00:00Z"),
            withdrawal: None,
        }
    }

    fn codes(r: Result<(), Vec<Condition>>) -> Vec<C> {
        r.unwrap_err().into_iter().map(|c| c.code).collect()
    }

    #[test]
    fn covered_fields_may_be_disclosed_and_others_not() {
        let now = at("2025-04-01T00:00:00Z");
        let cs = [sharing(
            GiverKind::LegalGuardian,
            &[F::StatusFound, F::Region, F::InstitutionType],
            ConsentDecision::Given,
        )];
        assert!(may_disclose(&cs, &[F::StatusFound, F::Region], now).is_ok());
        assert_eq!(
            codes(may_disclose(&cs, &[F::Region, F::CurrentLocation], now)),
            [C::DisclosureNotCovered]
        );
        assert_eq!(codes(may_disclose(&cs, &[], now)), [C::NoFieldsChosen]);
    }

    #[test]
    fn a_relatives_consent_does_not_open_the_file() {
        let now = at("2025-04-01T00:00:00Z");
        let cs = [sharing(
            GiverKind::Relative,
            &[F::StatusFound],
            ConsentDecision::Given,
        )];
        assert_eq!(
            codes(may_disclose(&cs, &[F::StatusFound], now)),
            [C::DisclosureNotCovered]
        );
    }

    #[test]
    fn withdrawn_expired_and_refused_consents_block() {
        let now = at("2025-04-01T00:00:00Z");
        let mut withdrawn = sharing(
            GiverKind::LegalGuardian,
            &[F::Region],
            ConsentDecision::Given,
        );
        withdrawn.withdrawal = Some(Withdrawal {
            at: at("2025-03-15T00:00:00Z"),
            reason: "changed mind".into(),
            recorded_by: UserId::new(),
        });
        let mut expired = sharing(
            GiverKind::LegalGuardian,
            &[F::Health],
            ConsentDecision::Given,
        );
        expired.expires_at = Some(at("2025-03-20T00:00:00Z"));
        let refused = sharing(GiverKind::Child, &[F::Contact], ConsentDecision::Refused);
        let given = sharing(
            GiverKind::LegalGuardian,
            &[F::Contact],
            ConsentDecision::Given,
        );
        let cs = [withdrawn, expired, refused, given];
        assert_eq!(
            codes(may_disclose(&cs, &[F::Region, F::Health, F::Contact], now)),
            // In field order: region, health, contact.
            [C::ConsentWithdrawn, C::ConsentExpired, C::DisclosureRefused]
        );
    }

    #[test]
    fn a_disclosure_records_the_covering_consents() {
        let cs = [sharing(
            GiverKind::LegalGuardian,
            &[F::StatusFound, F::Region],
            ConsentDecision::Given,
        )];
        let mut d = Disclosure {
            id: DisclosureId::new(),
            case_id: CaseId::new(),
            to_party: PartyId::new(),
            record_id: None,
            fields: vec![
                DisclosedField {
                    field: F::StatusFound,
                    value: "found".into(),
                },
                DisclosedField {
                    field: F::Region,
                    value: "region X".into(),
                },
            ],
            consents: vec![],
            disclosed_by: UserId::new(),
            disclosed_at: at("2025-04-01T00:00:00Z"),
        };
        d.check(&cs).unwrap();
        assert_eq!(d.consents, [cs[0].id]);
        d.fields.push(DisclosedField {
            field: F::Region,
            value: " ".into(),
        });
        assert!(matches!(d.check(&cs), Err(DisclosureRefused::Invalid(e)) if e.0.len() == 2));
    }
}
