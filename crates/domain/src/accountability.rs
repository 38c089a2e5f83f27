//! The accountability record: how the child was taken, by whom, where it was held, and what was
//! done to its identity (a new name, citizenship, an adoption). It is evidence for prosecutions,
//! so each fact names its sources and nothing is edited once recorded: a correction is a new
//! fact that says what it corrects.

use crate::date::PartialDate;
use crate::error::{FieldError, ValidationErrors, check_text};
use crate::ids::{AccountabilityId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// When and from where the child was taken.
    Removal,
    /// A move from one place or custodian to another.
    Transfer,
    /// Where the child was held, and under whose care.
    PlaceHeld,
    NameChange,
    CitizenshipChange,
    Adoption,
    /// Foster care or guardianship given to someone on the holding side.
    GuardianshipChange,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Person,
    Institution,
}

/// Someone who took part: an official, a unit, a children's home, a court.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub kind: ActorKind,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub name: String,
    /// What they did, e.g. "signed the transfer order".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Where a fact comes from: a document, a witness statement, a published order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub description: String,
    /// The attachment holding it, if uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountabilityFact {
    pub id: AccountabilityId,
    pub kind: FactKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default)]
    pub actors: Vec<Actor>,
    pub details: String,
    pub sources: Vec<Source>,
    /// The earlier fact this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<AccountabilityId>,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
}

impl AccountabilityFact {
    /// Checks the fact against the facts already recorded (`earlier`).
    pub fn validate(&self, earlier: &[AccountabilityFact]) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        check_text(&mut errs, "details", &self.details, true);
        if let Some(p) = &self.place {
            check_text(&mut errs, "place", p, false);
        }
        for (i, a) in self.actors.iter().enumerate() {
            check_text(&mut errs, &format!("actors[{i}].name"), &a.name, true);
        }
        // A fact without a source cannot be put before a court.
        if self.sources.is_empty() {
            errs.push(FieldError::new(
                "sources",
                "required",
                "name at least one source (a document, a statement)",
            ));
        }
        for (i, s) in self.sources.iter().enumerate() {
            check_text(
                &mut errs,
                &format!("sources[{i}].description"),
                &s.description,
                true,
            );
        }
        if let Some(c) = self.corrects
            && !earlier.iter().any(|f| f.id == c)
        {
            errs.push(FieldError::new(
                "corrects",
                "unknown_fact",
                "no earlier fact of this case has that id",
            ));
        }
        errs.into_result(|| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact() -> AccountabilityFact {
        AccountabilityFact {
            id: AccountabilityId::new(),
            kind: FactKind::Removal,
            when: PartialDate::new(2022, Some(9), None, false).ok(),
            place: Some("Kherson".into()),
            actors: vec![Actor {
                kind: ActorKind::Institution,
                name: "Regional children's home".into(),
                role: Some("received the child".into()),
            }],
            details: "taken with the home's other children".into(),
            sources: vec![Source {
                description: "statement of the home's nurse".into(),
                attachment: None,
            }],
            corrects: None,
            recorded_by: UserId::new(),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn a_fact_needs_details_and_a_source() {
        assert!(fact().validate(&[]).is_ok());
        let mut f = fact();
        f.sources.clear();
        f.details = " ".into();
        let e = f.validate(&[]).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["details", "sources"]);
    }

    #[test]
    fn a_correction_names_an_earlier_fact() {
        let first = fact();
        let mut c = fact();
        c.corrects = Some(AccountabilityId::new());
        assert_eq!(
            c.validate(std::slice::from_ref(&first)).unwrap_err().0[0].code,
            "unknown_fact"
        );
        c.corrects = Some(first.id);
        assert!(c.validate(&[first]).is_ok());
    }
}
