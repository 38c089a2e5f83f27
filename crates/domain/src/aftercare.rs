//! After the handover: the reunification itself, the services the child receives, and the
//! follow-up visits that show the child is safe and cared for. A case closes only when its
//! follow-ups are done or waived in writing.

use crate::error::{FieldError, ValidationErrors, check_text};
use crate::ids::{FollowUpId, PartyId, ServiceId, UserId};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A person the child was reunited with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Relative {
    pub name: String,
    /// e.g. mother, grandmother, aunt.
    pub relationship: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reunification {
    pub at: DateTime<Utc>,
    pub place: String,
    pub with_whom: Vec<Relative>,
    /// Who lives in the home, how it is, what the family needs: what the first follow-up checks
    /// against.
    pub family_environment: String,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
}

impl Reunification {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        check_text(&mut errs, "place", &self.place, true);
        check_text(
            &mut errs,
            "family_environment",
            &self.family_environment,
            true,
        );
        if self.with_whom.is_empty() {
            errs.push(FieldError::new(
                "with_whom",
                "required",
                "name whom the child was reunited with",
            ));
        }
        for (i, r) in self.with_whom.iter().enumerate() {
            check_text(&mut errs, &format!("with_whom[{i}].name"), &r.name, true);
            check_text(
                &mut errs,
                &format!("with_whom[{i}].relationship"),
                &r.relationship,
                true,
            );
        }
        if self.at > now {
            errs.push(FieldError::new(
                "at",
                "in_future",
                "a reunification cannot be recorded before it happens",
            ));
        }
        errs.into_result(|| ())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    Medical,
    Psychological,
    Education,
    /// Birth certificate, passport, citizenship papers restored.
    LegalDocuments,
    Housing,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AftercareService {
    pub id: ServiceId,
    pub kind: ServiceKind,
    /// Who provides it (a clinic, a school, a social service).
    pub provider: String,
    pub description: String,
    pub started_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
}

impl AftercareService {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        check_text(&mut errs, "provider", &self.provider, true);
        check_text(&mut errs, "description", &self.description, false);
        if self.ended_on.is_some_and(|e| e < self.started_on) {
            errs.push(FieldError::new(
                "ended_on",
                "before_start",
                "a service cannot end before it starts",
            ));
        }
        errs.into_result(|| ())
    }
}

/// Why a planned follow-up will not happen (the family moved abroad, the child turned 18).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpWaiver {
    pub reason: String,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// An aftercare visit after reunification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUp {
    #[serde(default)]
    pub id: FollowUpId,
    pub due: NaiveDate,
    /// The party that does the visit (the home state's social services, an NGO); it sees the
    /// visit in its overdue list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<FollowUpWaiver>,
}

impl FollowUp {
    pub fn scheduled(due: NaiveDate, responsible: Option<PartyId>) -> Self {
        Self {
            id: FollowUpId::new(),
            due,
            responsible,
            done_at: None,
            outcome: None,
            reported_by: None,
            waiver: None,
        }
    }

    /// Neither done nor waived by `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.done_at.is_none_or(|d| d > now) && self.waiver.is_none()
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open(now) && self.due < now.date_naive()
    }

    /// Records the visit done, with what was found.
    pub fn report(
        &mut self,
        outcome: &str,
        done_at: DateTime<Utc>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if !self.is_open(now) {
            errs.push(FieldError::new(
                "follow_up",
                "not_open",
                "this follow-up is already done or waived",
            ));
        }
        check_text(&mut errs, "outcome", outcome, true);
        if done_at > now {
            errs.push(FieldError::new(
                "done_at",
                "in_future",
                "a visit cannot be reported before it happens",
            ));
        }
        errs.into_result(|| ())?;
        self.done_at = Some(done_at);
        self.outcome = Some(outcome.trim().to_owned());
        self.reported_by = Some(by);
        Ok(())
    }

    pub fn waive(&mut self, w: FollowUpWaiver) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if !self.is_open(w.at) {
            errs.push(FieldError::new(
                "follow_up",
                "not_open",
                "this follow-up is already done or waived",
            ));
        }
        check_text(&mut errs, "reason", &w.reason, true);
        errs.into_result(|| ())?;
        self.waiver = Some(FollowUpWaiver {
            reason: w.reason.trim().to_owned(),
            ..w
        });
        Ok(())
    }
}

/// The follow-up visits scheduled from a reunification date, `months` after it each (the default
/// 1, 3, 6 and 12 months follow the inter-agency practice of closer visits while the child
/// settles and a last one a year on). A month that has no such day ends at its last day.
pub fn follow_up_schedule(from: NaiveDate, months: &[u16]) -> Vec<NaiveDate> {
    let mut out: Vec<NaiveDate> = months
        .iter()
        .filter_map(|m| from.checked_add_months(Months::new(u32::from(*m))))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(d: NaiveDate) -> DateTime<Utc> {
        d.and_hms_opt(12, 0, 0).unwrap().and_utc()
    }

    #[test]
    fn the_default_schedule_is_one_three_six_and_twelve_months() {
        assert_eq!(
            follow_up_schedule(day(2025, 1, 31), &[1, 3, 6, 12]),
            [
                day(2025, 2, 28),
                day(2025, 4, 30),
                day(2025, 7, 31),
                day(2026, 1, 31)
            ]
        );
        assert_eq!(follow_up_schedule(day(2025, 1, 1), &[3, 1, 3]).len(), 2);
    }

    #[test]
    fn a_follow_up_is_done_or_waived_once() {
        let mut f = FollowUp::scheduled(day(2025, 3, 1), None);
        let now = at(day(2025, 3, 5));
        assert!(f.is_overdue(now));
        assert!(f.report(" ", now, UserId::new(), now).is_err());
        f.report("child well, attends school", now, UserId::new(), now)
            .unwrap();
        assert!(!f.is_open(now) && !f.is_overdue(now));
        let again = f.report("again", now, UserId::new(), now).unwrap_err();
        assert_eq!(again.0[0].code, "not_open");
        let mut g = FollowUp::scheduled(day(2025, 6, 1), None);
        let w = |reason: &str| FollowUpWaiver {
            reason: reason.into(),
            by: UserId::new(),
            at: now,
        };
        assert!(g.waive(w("")).is_err());
        g.waive(w("family moved abroad")).unwrap();
        assert!(!g.is_open(now));
        assert!(g.waive(w("twice")).is_err());
    }

    #[test]
    fn a_reunification_names_whom_where_and_the_home() {
        let now = at(day(2025, 3, 5));
        let mut r = Reunification {
            at: now,
            place: "Kyiv".into(),
            with_whom: vec![],
            family_environment: "".into(),
            recorded_by: UserId::new(),
            recorded_at: now,
        };
        let e = r.validate(now).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["family_environment", "with_whom"]);
        r.with_whom.push(Relative {
            name: "Olena K.".into(),
            relationship: "mother".into(),
        });
        r.family_environment = "mother and grandmother, two rooms".into();
        assert!(r.validate(now).is_ok());
        r.at = at(day(2025, 3, 6));
        assert!(r.validate(now).is_err());
    }
}
