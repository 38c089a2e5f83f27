//! Tasks referred to humanitarian parties: a verification visit, a medical check, an escort,
//! psychological support. The party doing the work sees the task and a brief the mediator chose
//! for it (only the facts the work needs), never the case or the records behind it.

use crate::error::{FieldError, ValidationErrors, check_text};
use crate::ids::{CaseId, PartyId, TaskId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    VerificationVisit,
    MedicalCheck,
    Escort,
    PsychologicalSupport,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerificationVisit => "verification_visit",
            Self::MedicalCheck => "medical_check",
            Self::Escort => "escort",
            Self::PsychologicalSupport => "psychological_support",
        }
    }

    /// What the brief carries unless the mediator chooses otherwise: the least that lets the
    /// work be done. A medical check needs to know whom to examine and how old the child is,
    /// not who is looking for the child; only an escort needs to know who receives it.
    pub fn default_brief(self) -> &'static [BriefField] {
        use BriefField as B;
        match self {
            Self::VerificationVisit => &[B::ChildName, B::Sex, B::BirthDate, B::CurrentLocation],
            Self::MedicalCheck => &[B::ChildName, B::Sex, B::BirthDate, B::CurrentLocation],
            Self::Escort => &[
                B::ChildName,
                B::Sex,
                B::BirthDate,
                B::CurrentLocation,
                B::Enquirer,
            ],
            Self::PsychologicalSupport => &[B::ChildName, B::BirthDate, B::CurrentLocation],
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fact about the child that a task's brief may carry, copied from the case's records when the
/// task is assigned (so a later change to a record does not widen what the party was told).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BriefField {
    /// The child's name as written in the custody record (and its other spellings).
    ChildName,
    Sex,
    BirthDate,
    /// Where the child is now, from the custody record.
    CurrentLocation,
    /// Who is looking for the child, from the tracing request.
    Enquirer,
}

impl BriefField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChildName => "child_name",
            Self::Sex => "sex",
            Self::BirthDate => "birth_date",
            Self::CurrentLocation => "current_location",
            Self::Enquirer => "enquirer",
        }
    }
}

/// One fact of a brief, as copied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BriefEntry {
    pub field: BriefField,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Referred and waiting for the party's report.
    Assigned,
    /// The party reported the work done.
    Completed,
    /// The party reported it could not do the work (the report says why).
    NotPossible,
    /// The mediator withdrew the referral.
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::Completed => "completed",
            Self::NotPossible => "not_possible",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Assigned,
            Self::Completed,
            Self::NotPossible,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        self == Self::Assigned
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the party reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskReport {
    pub done: bool,
    pub outcome: String,
    /// When the work was done (or attempted).
    pub performed_at: DateTime<Utc>,
    pub reported_by: UserId,
    pub reported_at: DateTime<Utc>,
}

/// The mediator's withdrawal of a referral.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskCancellation {
    pub reason: String,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: TaskId,
    pub case_id: CaseId,
    /// The humanitarian party the task is referred to.
    pub party: PartyId,
    pub kind: TaskKind,
    pub instructions: String,
    pub due: NaiveDate,
    pub brief: Vec<BriefEntry>,
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<TaskReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<TaskCancellation>,
    pub assigned_by: UserId,
    pub assigned_at: DateTime<Utc>,
}

/// Why a task cannot change the way asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaskRefused {
    #[error("invalid: {0}")]
    Invalid(ValidationErrors),
    #[error("the task is {0}: only an assigned task can be reported on or cancelled")]
    NotOpen(TaskStatus),
}

impl Task {
    /// Checks a new task: instructions, a due date not in the past, a brief without repeats.
    pub fn validate_new(&self, today: NaiveDate) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        check_text(&mut errs, "instructions", &self.instructions, true);
        if self.due < today {
            errs.push(FieldError::new(
                "due",
                "in_past",
                "a task cannot be due before it is assigned",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, e) in self.brief.iter().enumerate() {
            if !seen.insert(e.field) {
                errs.push(FieldError::new(
                    format!("brief[{i}]"),
                    "duplicate",
                    format!("{} is in the brief twice", e.field.as_str()),
                ));
            }
        }
        errs.into_result(|| ())
    }

    /// Whether the task is still waiting and its due date has passed.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status.is_open() && self.due < today
    }

    /// Records the party's report: done, or not possible with the reason in `outcome`.
    pub fn report(&mut self, report: TaskReport) -> Result<(), TaskRefused> {
        if !self.status.is_open() {
            return Err(TaskRefused::NotOpen(self.status));
        }
        let mut errs = ValidationErrors::default();
        check_text(&mut errs, "outcome", &report.outcome, true);
        if report.performed_at > report.reported_at {
            errs.push(FieldError::new(
                "performed_at",
                "in_future",
                "the work cannot be reported before it was done",
            ));
        }
        if report.performed_at < self.assigned_at {
            errs.push(FieldError::new(
                "performed_at",
                "before_assigned",
                "the work cannot have been done before the task was assigned",
            ));
        }
        if !errs.is_empty() {
            return Err(TaskRefused::Invalid(errs));
        }
        self.status = if report.done {
            TaskStatus::Completed
        } else {
            TaskStatus::NotPossible
        };
        self.report = Some(report);
        Ok(())
    }

    pub fn cancel(&mut self, c: TaskCancellation) -> Result<(), TaskRefused> {
        if !self.status.is_open() {
            return Err(TaskRefused::NotOpen(self.status));
        }
        let mut errs = ValidationErrors::default();
        check_text(&mut errs, "reason", &c.reason, true);
        if !errs.is_empty() {
            return Err(TaskRefused::Invalid(errs));
        }
        self.status = TaskStatus::Cancelled;
        self.cancellation = Some(c);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2025, 3, day)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
            .and_utc()
    }

    fn task() -> Task {
        Task {
            id: TaskId::new(),
            case_id: CaseId::new(),
            party: PartyId::new(),
            kind: TaskKind::VerificationVisit,
            instructions: "Visit the home and show the mother's photographs".into(),
            due: at(10).date_naive(),
            brief: vec![BriefEntry {
                field: BriefField::ChildName,
                value: "Олександр".into(),
            }],
            status: TaskStatus::Assigned,
            report: None,
            cancellation: None,
            assigned_by: UserId::new(),
            assigned_at: at(1),
        }
    }

    fn report(done: bool, performed: u32) -> TaskReport {
        TaskReport {
            done,
            outcome: "seen".into(),
            performed_at: at(performed),
            reported_by: UserId::new(),
            reported_at: at(5),
        }
    }

    #[test]
    fn a_new_task_needs_instructions_a_future_due_date_and_no_repeated_brief() {
        let mut t = task();
        assert!(t.validate_new(at(1).date_naive()).is_ok());
        t.instructions = "  ".into();
        t.due = at(1).date_naive();
        t.brief.push(t.brief[0].clone());
        let e = t.validate_new(at(2).date_naive()).unwrap_err();
        let codes: Vec<&str> = e.0.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["required", "in_past", "duplicate"]);
    }

    #[test]
    fn a_report_closes_the_task_once() {
        let mut t = task();
        t.report(report(false, 3)).unwrap();
        assert_eq!(t.status, TaskStatus::NotPossible);
        assert_eq!(
            t.report(report(true, 4)),
            Err(TaskRefused::NotOpen(TaskStatus::NotPossible))
        );
        assert!(matches!(
            t.cancel(TaskCancellation {
                reason: "x".into(),
                by: UserId::new(),
                at: at(6)
            }),
            Err(TaskRefused::NotOpen(_))
        ));
    }

    #[test]
    fn a_report_cannot_predate_the_assignment_or_follow_its_own_filing() {
        let mut t = task();
        assert!(matches!(
            t.report(report(true, 9)),
            Err(TaskRefused::Invalid(_))
        ));
        let mut early = report(true, 1);
        early.performed_at = at(1) - chrono::Duration::days(1);
        assert!(matches!(t.report(early), Err(TaskRefused::Invalid(_))));
        assert_eq!(t.status, TaskStatus::Assigned);
    }

    #[test]
    fn overdue_only_while_open() {
        let mut t = task();
        assert!(!t.is_overdue(at(10).date_naive()));
        assert!(t.is_overdue(at(11).date_naive()));
        t.cancel(TaskCancellation {
            reason: "family found by other means".into(),
            by: UserId::new(),
            at: at(2),
        })
        .unwrap();
        assert!(!t.is_overdue(at(11).date_naive()));
    }

    #[test]
    fn each_kind_has_a_brief_without_the_enquirer_unless_it_escorts() {
        for k in [
            TaskKind::VerificationVisit,
            TaskKind::MedicalCheck,
            TaskKind::PsychologicalSupport,
        ] {
            assert!(!k.default_brief().contains(&BriefField::Enquirer), "{k}");
        }
        assert!(
            TaskKind::Escort
                .default_brief()
                .contains(&BriefField::Enquirer)
        );
    }
}
