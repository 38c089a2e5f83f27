//! Child records: tracing requests (filed by the origin side) and custody records (filed by the
//! side holding the children). Input is parsed once into a `RecordDraft`; nothing downstream
//! re-validates.

use crate::date::PartialDate;
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{PartyId, RecordId, UserId};
use crate::name::{NameEntry, NameInput};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A child sought by a family or an authority.
    TracingRequest,
    /// A child in the custody party's care.
    CustodyRecord,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TracingRequest => "tracing_request",
            Self::CustodyRecord => "custody_record",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().replace('-', "_").as_str() {
            "tracing_request" | "tracing_requests" => Ok(Self::TracingRequest),
            "custody_record" | "custody_records" => Ok(Self::CustodyRecord),
            _ => Err(FieldError::new(
                "kind",
                "invalid_record_kind",
                format!("unknown record kind {s:?}"),
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Unknown,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::Unknown => "unknown",
        }
    }
}

impl FromStr for Sex {
    type Err = FieldError;
    /// Accepts the words and letters found in Ukrainian, Russian and English paperwork.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().trim_end_matches('.') {
            "f" | "female" | "girl" | "ж" | "жін" | "жен" | "жіноча" | "женский" | "дівчина"
            | "девочка" => Ok(Self::Female),
            "m" | "male" | "boy" | "ч" | "чол" | "м" | "муж" | "чоловіча" | "мужской"
            | "хлопчик" | "мальчик" => Ok(Self::Male),
            "" | "u" | "unknown" | "?" | "невідомо" | "неизвестно" => {
                Ok(Self::Unknown)
            }
            other => Err(FieldError::new(
                "sex",
                "invalid_sex",
                format!("{other:?} is not a sex (female, male or unknown)"),
            )),
        }
    }
}

/// The relative (or authority) looking for the child, on a tracing request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enquirer {
    pub name: String,
    /// e.g. mother, grandfather, aunt, legal guardian, authority.
    pub relationship: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// A child record as submitted, before validation. Everything is text, as it came.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChildRecordInput {
    /// The submitting party's own reference for this child (file number), if any.
    #[serde(default)]
    pub external_ref: Option<String>,
    pub names: Vec<NameInput>,
    #[serde(default)]
    pub sex: Option<String>,
    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `DD.MM.YYYY`; prefix `~` when approximate.
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub birth_place: Option<String>,
    #[serde(default)]
    pub separation_date: Option<String>,
    #[serde(default)]
    pub separation_circumstances: Option<String>,
    #[serde(default)]
    pub last_known_location: Option<String>,
    #[serde(default)]
    pub current_location: Option<String>,
    #[serde(default)]
    pub current_carer: Option<String>,
    #[serde(default)]
    pub enquirer_name: Option<String>,
    #[serde(default)]
    pub enquirer_relationship: Option<String>,
    #[serde(default)]
    pub enquirer_contact: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A valid child record's content (what a version of a record holds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordDraft {
    pub kind: RecordKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub names: Vec<NameEntry>,
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separation_date: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separation_circumstances: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_known_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_carer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enquirer: Option<Enquirer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

const SHORT_TEXT: usize = 500;
const LONG_TEXT: usize = 20_000;
const MAX_NAMES: usize = 20;

/// A name, a place or another short value that identifies: besides what [`text`] checks, it
/// holds no direction control (see [`crate::bidi`]).
fn identifying(
    errs: &mut ValidationErrors,
    field: &str,
    v: &Option<String>,
    max: usize,
) -> Option<String> {
    let t = text(errs, field, v, max)?;
    errs.take(crate::bidi::refuse_bidi_controls(field, &t))?;
    Some(t)
}

fn text(
    errs: &mut ValidationErrors,
    field: &str,
    v: &Option<String>,
    max: usize,
) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > max {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
        return None;
    }
    // Newlines and tabs are legitimate in free text; other control characters are corruption.
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errs.push(FieldError::new(
            field,
            "control_characters",
            "contains control characters",
        ));
        return None;
    }
    Some(t.to_owned())
}

impl ChildRecordInput {
    /// Validates everything at once and reports every problem with its field.
    pub fn parse(
        &self,
        kind: RecordKind,
        today: NaiveDate,
    ) -> Result<RecordDraft, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let mut names = Vec::with_capacity(self.names.len());
        if self.names.is_empty() {
            errs.push(FieldError::new(
                "names",
                "name_required",
                "a child record needs at least one name",
            ));
        }
        if self.names.len() > MAX_NAMES {
            errs.push(FieldError::new(
                "names",
                "too_many",
                format!("at most {MAX_NAMES} names"),
            ));
        }
        for (i, n) in self.names.iter().enumerate().take(MAX_NAMES) {
            match n.parse(&format!("names[{i}]")) {
                Ok(n) => names.push(n),
                Err(es) => es.into_iter().for_each(|e| errs.push(e)),
            }
        }
        let sex = match self.sex.as_deref() {
            None => Sex::Unknown,
            Some(s) => errs.take(s.parse()).unwrap_or(Sex::Unknown),
        };
        let date = |errs: &mut ValidationErrors, field: &str, v: &Option<String>| {
            let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
            let d = errs.take(PartialDate::parse_field(field, s))?;
            if d.is_after(today) {
                errs.push(FieldError::new(
                    field,
                    "date_in_future",
                    format!("{d} is in the future"),
                ));
                return None;
            }
            Some(d)
        };
        let birth_date = date(&mut errs, "birth_date", &self.birth_date);
        let separation_date = date(&mut errs, "separation_date", &self.separation_date);
        // Compared by year only: with partial dates, anything finer could refuse a true record.
        if let (Some(b), Some(s)) = (birth_date, separation_date)
            && s.year() < b.year()
        {
            errs.push(FieldError::new(
                "separation_date",
                "before_birth",
                "separation date is before the birth date",
            ));
        }
        let external_ref = identifying(&mut errs, "external_ref", &self.external_ref, 100);
        let birth_place = identifying(&mut errs, "birth_place", &self.birth_place, SHORT_TEXT);
        let separation_circumstances = text(
            &mut errs,
            "separation_circumstances",
            &self.separation_circumstances,
            LONG_TEXT,
        );
        let last_known_location = identifying(
            &mut errs,
            "last_known_location",
            &self.last_known_location,
            SHORT_TEXT,
        );
        let current_location = identifying(
            &mut errs,
            "current_location",
            &self.current_location,
            SHORT_TEXT,
        );
        let current_carer =
            identifying(&mut errs, "current_carer", &self.current_carer, SHORT_TEXT);
        let notes = text(&mut errs, "notes", &self.notes, LONG_TEXT);
        let enquirer_name =
            identifying(&mut errs, "enquirer_name", &self.enquirer_name, SHORT_TEXT);
        let enquirer_relationship = identifying(
            &mut errs,
            "enquirer_relationship",
            &self.enquirer_relationship,
            100,
        );
        let enquirer_contact = identifying(
            &mut errs,
            "enquirer_contact",
            &self.enquirer_contact,
            SHORT_TEXT,
        );

        let enquirer = match kind {
            RecordKind::TracingRequest => {
                if enquirer_name.is_none() {
                    errs.push(FieldError::new(
                        "enquirer_name",
                        "required",
                        "a tracing request names the enquiring relative",
                    ));
                }
                if enquirer_relationship.is_none() {
                    errs.push(FieldError::new(
                        "enquirer_relationship",
                        "required",
                        "a tracing request says how the enquirer is related to the child",
                    ));
                }
                enquirer_name
                    .zip(enquirer_relationship)
                    .map(|(name, relationship)| Enquirer {
                        name,
                        relationship,
                        contact: enquirer_contact,
                    })
            }
            RecordKind::CustodyRecord => {
                if enquirer_name.is_some()
                    || enquirer_relationship.is_some()
                    || enquirer_contact.is_some()
                {
                    errs.push(FieldError::new(
                        "enquirer_name",
                        "not_allowed",
                        "a custody record has no enquirer; enquirers belong on tracing requests",
                    ));
                }
                None
            }
        };
        if kind == RecordKind::CustodyRecord && current_location.is_none() {
            errs.push(FieldError::new(
                "current_location",
                "required",
                "a custody record says where the child is",
            ));
        }
        errs.into_result(|| RecordDraft {
            kind,
            external_ref,
            names,
            sex,
            birth_date,
            birth_place,
            separation_date,
            separation_circumstances,
            last_known_location,
            current_location,
            current_carer,
            enquirer,
            notes,
        })
    }
}

impl From<&RecordDraft> for ChildRecordInput {
    fn from(d: &RecordDraft) -> Self {
        Self {
            external_ref: d.external_ref.clone(),
            names: d.names.iter().map(NameInput::from).collect(),
            sex: Some(d.sex.as_str().to_owned()),
            birth_date: d.birth_date.map(|x| x.to_string()),
            birth_place: d.birth_place.clone(),
            separation_date: d.separation_date.map(|x| x.to_string()),
            separation_circumstances: d.separation_circumstances.clone(),
            last_known_location: d.last_known_location.clone(),
            current_location: d.current_location.clone(),
            current_carer: d.current_carer.clone(),
            enquirer_name: d.enquirer.as_ref().map(|e| e.name.clone()),
            enquirer_relationship: d.enquirer.as_ref().map(|e| e.relationship.clone()),
            enquirer_contact: d.enquirer.as_ref().and_then(|e| e.contact.clone()),
            notes: d.notes.clone(),
        }
    }
}

/// A stored child record: its current version plus who filed it and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildRecord {
    pub id: RecordId,
    pub party_id: PartyId,
    /// Starts at 1; every update adds one. Updates must name the version they change.
    pub version: i64,
    #[serde(flatten)]
    pub content: RecordDraft,
    pub created_at: DateTime<Utc>,
    pub created_by: UserId,
    pub updated_at: DateTime<Utc>,
    pub updated_by: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_reason: Option<String>,
    /// Set when the record was merged into another record of its party as a duplicate: the
    /// survivor, which now carries this child's story (this record is then also deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<RecordId>,
}

/// One past or present version of a record, as kept in its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordVersion {
    pub record_id: RecordId,
    pub version: i64,
    pub content: RecordDraft,
    pub changed_at: DateTime<Utc>,
    pub changed_by: UserId,
    /// `create`, `update`, `delete`, `import` or `merge`.
    pub change: String,
    /// On a `merge` version: the other record of the merge (on the survivor's version the record
    /// it absorbed, on the absorbed record's version the survivor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_record: Option<RecordId>,
}

/// Filters for listing records; the store applies them inside the caller's scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordFilter {
    pub kind: Option<RecordKind>,
    pub party: Option<PartyId>,
    pub sex: Option<Sex>,
    /// Already folded by the caller (see `linkage::fold`); matched against every name entry.
    pub name: Option<String>,
    /// A name search in any script or spelling (see `linkage::search_terms`): every inner list is
    /// one typed word, and a record matches when its search key contains, for every word, at
    /// least one of that word's alternatives.
    pub name_terms: Vec<Vec<String>>,
    pub born_from_year: Option<i32>,
    pub born_to_year: Option<i32>,
    pub external_ref: Option<String>,
    pub include_deleted: bool,
    /// Keyset paging: only records whose id sorts after this one.
    pub after: Option<RecordId>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn tracing() -> ChildRecordInput {
        ChildRecordInput {
            names: vec![NameInput {
                given: Some("Дмитро".into()),
                family: Some("Олійник".into()),
                ..Default::default()
            }],
            sex: Some("ч".into()),
            birth_date: Some("03.2015".into()),
            enquirer_name: Some("Оксана Олійник".into()),
            enquirer_relationship: Some("mother".into()),
            ..Default::default()
        }
    }

    type Setter = fn(&mut ChildRecordInput, String);

    /// Every name and place of a record, as (field, setter).
    fn identifying_fields() -> Vec<(&'static str, Setter)> {
        vec![
            ("names[0].given", |i, v| i.names[0].given = Some(v)),
            ("names[0].family", |i, v| i.names[0].family = Some(v)),
            ("names[0].patronymic", |i, v| {
                i.names[0].patronymic = Some(v)
            }),
            ("names[0].as_written", |i, v| {
                i.names[0].as_written = Some(v)
            }),
            ("external_ref", |i, v| i.external_ref = Some(v)),
            ("birth_place", |i, v| i.birth_place = Some(v)),
            ("last_known_location", |i, v| {
                i.last_known_location = Some(v)
            }),
            ("current_location", |i, v| i.current_location = Some(v)),
            ("current_carer", |i, v| i.current_carer = Some(v)),
            ("enquirer_name", |i, v| i.enquirer_name = Some(v)),
            ("enquirer_relationship", |i, v| {
                i.enquirer_relationship = Some(v)
            }),
            ("enquirer_contact", |i, v| i.enquirer_contact = Some(v)),
        ]
    }

    #[test]
    fn a_direction_control_in_a_name_or_place_is_refused_naming_the_field() {
        for (field, set) in identifying_fields() {
            let mut i = tracing();
            set(&mut i, "\u{202e}fdp.exe".into());
            let e = i.parse(RecordKind::TracingRequest, today()).unwrap_err();
            let found: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
            // (A refused enquirer name is also missing, which the second error says.)
            assert_eq!(found[0], (field, "bidi_control"));
            assert!(found.iter().all(|(f, _)| *f == field), "{found:?}");
        }
        // Free text may need a mark between Arabic and Latin words; it is kept.
        let mut i = tracing();
        i.notes = Some("قال \u{200f}Kherson".into());
        assert!(i.parse(RecordKind::TracingRequest, today()).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn no_accepted_name_or_place_holds_a_direction_control(
            field in 0usize..12,
            value in "[a-zА-я \u{200e}\u{200f}\u{061c}\u{202a}-\u{202e}\u{2066}-\u{2069}]{1,8}",
        ) {
            let (_, set) = identifying_fields()[field];
            let mut i = tracing();
            set(&mut i, value);
            if let Ok(d) = i.parse(RecordKind::TracingRequest, today()) {
                let e = d.enquirer.unwrap_or_else(|| panic!("a tracing request has its enquirer"));
                let mut all: Vec<&str> = vec![e.name.as_str(), e.relationship.as_str()];
                all.extend(e.contact.as_deref());
                for n in &d.names {
                    all.push(&n.as_written);
                    all.extend(n.given.as_deref());
                    all.extend(n.family.as_deref());
                    all.extend(n.patronymic.as_deref());
                }
                for v in [&d.external_ref, &d.birth_place, &d.last_known_location, &d.current_location, &d.current_carer] {
                    all.extend(v.as_deref());
                }
                for v in all {
                    proptest::prop_assert!(!v.chars().any(crate::bidi::is_bidi_control), "{v:?}");
                }
            }
        }
    }

    #[test]
    fn a_valid_tracing_request_parses() {
        let d = tracing()
            .parse(RecordKind::TracingRequest, today())
            .unwrap();
        assert_eq!(d.sex, Sex::Male);
        assert_eq!(d.birth_date.unwrap().to_string(), "2015-03");
        assert_eq!(d.enquirer.unwrap().relationship, "mother");
        assert_eq!(d.names[0].as_written, "Дмитро Олійник");
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut i = tracing();
        i.birth_date = Some("2030-01-01".into());
        i.sex = Some("x".into());
        i.enquirer_relationship = None;
        i.separation_date = Some("31.02.2022".into());
        let e = i.parse(RecordKind::TracingRequest, today()).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert!(
            fields.contains(&("birth_date", "date_in_future")),
            "{fields:?}"
        );
        assert!(fields.contains(&("sex", "invalid_sex")));
        assert!(fields.contains(&("enquirer_relationship", "required")));
        assert!(fields.contains(&("separation_date", "invalid_date")));
    }

    #[test]
    fn custody_records_need_a_location_and_no_enquirer() {
        let e = tracing()
            .parse(RecordKind::CustodyRecord, today())
            .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"current_location"));
        assert!(fields.contains(&"enquirer_name"));
    }

    #[test]
    fn a_draft_round_trips_through_its_input_form() {
        let d = tracing()
            .parse(RecordKind::TracingRequest, today())
            .unwrap();
        let again = ChildRecordInput::from(&d)
            .parse(RecordKind::TracingRequest, today())
            .unwrap();
        assert_eq!(d, again);
    }

    #[test]
    fn sex_words_in_three_languages() {
        for (s, want) in [
            ("F", Sex::Female),
            ("жін.", Sex::Female),
            ("мальчик", Sex::Male),
            ("", Sex::Unknown),
        ] {
            assert_eq!(s.parse::<Sex>().unwrap(), want, "{s}");
        }
    }
}
