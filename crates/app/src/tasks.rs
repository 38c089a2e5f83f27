//! Tasks referred by the mediator to humanitarian parties (verification visits, medical checks,
//! escorts, psychological support). The party sees its own tasks and each task's brief — the few
//! facts copied from the case's records when the task was assigned — and never the case or its
//! records; it reports the outcome, and the mediator can cancel a referral.

use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, NaiveDate, Utc};
use homeward_domain::{
    AuditAction, BriefEntry, BriefField, CaseId, ChildRecord, PartyId, PartyKind, Permission,
    RecordKind, Task, TaskCancellation, TaskId, TaskKind, TaskRefused, TaskReport, TaskStatus,
};
use homeward_store::{StoredTask, TaskFilter};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// The humanitarian party the task is referred to.
    pub party: PartyId,
    pub kind: TaskKind,
    pub instructions: String,
    pub due: NaiveDate,
    /// The facts the brief carries; default: the task kind's minimum.
    #[serde(default)]
    pub brief: Option<Vec<BriefField>>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskReportInput {
    /// Whether the work was done; `false` means it could not be (say why in `outcome`).
    pub done: bool,
    pub outcome: String,
    /// Default: now.
    #[serde(default)]
    pub performed_at: Option<DateTime<Utc>>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskCancelInput {
    pub reason: String,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Default)]
pub struct TaskQuery {
    pub case: Option<CaseId>,
    pub status: Option<TaskStatus>,
    /// Only open tasks past their due date.
    pub overdue: bool,
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskView {
    #[serde(flatten)]
    pub task: Task,
    pub version: i64,
    pub overdue: bool,
    pub updated_at: DateTime<Utc>,
}

fn view(t: StoredTask, today: NaiveDate) -> TaskView {
    TaskView {
        overdue: t.task.is_overdue(today),
        task: t.task,
        version: t.version,
        updated_at: t.updated_at,
    }
}

fn refused(e: TaskRefused) -> AppError {
    match e {
        TaskRefused::Invalid(v) => AppError::Validation(v),
        TaskRefused::NotOpen(s) => AppError::TaskClosed(s),
    }
}

/// The brief's facts, copied from the records as they are now.
fn brief(fields: &[BriefField], records: &[ChildRecord]) -> Vec<BriefEntry> {
    let custody = records
        .iter()
        .find(|r| r.content.kind == RecordKind::CustodyRecord);
    let tracing = records
        .iter()
        .find(|r| r.content.kind == RecordKind::TracingRequest);
    // The custody record describes the child as it is now; the tracing request as the family
    // remembers it.
    let child = custody.or(tracing);
    let mut out = Vec::new();
    for f in fields {
        let value = match f {
            BriefField::ChildName => child.map(|r| {
                r.content
                    .names
                    .iter()
                    .map(|n| n.as_written.clone())
                    .collect::<Vec<_>>()
                    .join(" / ")
            }),
            BriefField::Sex => child.map(|r| r.content.sex.as_str().to_owned()),
            BriefField::BirthDate => {
                child.and_then(|r| r.content.birth_date.map(|d| d.to_string()))
            }
            BriefField::CurrentLocation => custody.and_then(|r| {
                r.content
                    .current_location
                    .clone()
                    .or_else(|| r.content.last_known_location.clone())
            }),
            BriefField::Enquirer => tracing.and_then(|r| {
                r.content
                    .enquirer
                    .as_ref()
                    .map(|e| format!("{} ({})", e.name, e.relationship))
            }),
        };
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            out.push(BriefEntry { field: *f, value });
        }
    }
    out
}

impl App {
    /// The party whose tasks the caller sees: `None` for the mediator (all of them).
    fn task_scope(caller: &Caller) -> AppResult<Option<PartyId>> {
        match caller.party().kind {
            PartyKind::Mediator => Ok(None),
            PartyKind::Humanitarian => Ok(Some(caller.party().id)),
            // The permission table already refuses the others; be explicit anyway.
            _ => Err(AppError::Forbidden(Permission::TaskRead)),
        }
    }

    /// Refers a task on a case to a humanitarian party, with a brief of only the facts chosen.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn assign_task(
        &self,
        caller: &Caller,
        case_id: CaseId,
        input: &TaskInput,
    ) -> AppResult<TaskView> {
        caller.require(Permission::TaskManage, &self.config)?;
        let now = self.now();
        let audit = caller.audit(AuditAction::CaseRead).target("case", case_id);
        let case = self
            .store
            .get_case(case_id, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        let party = self.store.get_party(input.party).await?;
        if party.is_none_or(|p| p.kind != PartyKind::Humanitarian) {
            return Err(AppError::invalid(
                "party",
                "not_humanitarian",
                "tasks are referred to a humanitarian party",
            ));
        }
        let fields: Vec<BriefField> = match &input.brief {
            Some(f) => f.clone(),
            None => input.kind.default_brief().to_vec(),
        };
        let ids: Vec<_> = case
            .case
            .tracing_request
            .into_iter()
            .chain(case.case.custody_record)
            .collect();
        let records = self.store.records_for_linkage(&ids).await?;
        let task = Task {
            id: TaskId::new(),
            case_id,
            party: input.party,
            kind: input.kind,
            instructions: input.instructions.trim().to_owned(),
            due: input.due,
            brief: brief(&fields, &records),
            status: TaskStatus::Assigned,
            report: None,
            cancellation: None,
            assigned_by: caller.user().id,
            assigned_at: now,
        };
        // Validated with the brief fields asked for, so a repeated field is reported even when
        // a record had no value for it.
        let mut asked = task.clone();
        asked.brief = fields
            .iter()
            .map(|f| BriefEntry {
                field: *f,
                value: String::new(),
            })
            .collect();
        asked.validate_new(now.date_naive())?;
        let audit = caller
            .audit(AuditAction::TaskCreate)
            .target("task", task.id)
            .details(serde_json::json!({
                "case": case_id, "party": task.party, "kind": task.kind, "due": task.due,
                "brief": task.brief.iter().map(|b| b.field).collect::<Vec<_>>(),
            }));
        let stored = self.store.insert_task(&task, audit).await?;
        Ok(view(stored, now.date_naive()))
    }

    /// The caller's tasks: all of them for the mediator, the party's own for a humanitarian
    /// party. `overdue` lists open tasks past their due date.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_tasks(&self, caller: &Caller, q: &TaskQuery) -> AppResult<Vec<TaskView>> {
        caller.require(Permission::TaskRead, &self.config)?;
        let party = Self::task_scope(caller)?;
        let limit = q.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(AppError::invalid("limit", "out_of_range", "1 to 1000"));
        }
        let today = self.now().date_naive();
        let f = TaskFilter {
            party,
            case: q.case,
            status: if q.overdue {
                Some(TaskStatus::Assigned)
            } else {
                q.status
            },
            due_before: q.overdue.then_some(today),
            limit,
        };
        let audit = vec![caller.audit(AuditAction::TaskList)];
        let tasks = self
            .store
            .list_tasks_audited(&f, caller.for_store(audit.clone()))
            .await?;
        caller.viewed_ids(audit, "task_ids", || {
            tasks.iter().map(|t| t.task.id.to_string()).collect()
        });
        Ok(tasks.into_iter().map(|t| view(t, today)).collect())
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_task(&self, caller: &Caller, id: TaskId) -> AppResult<TaskView> {
        caller.require(Permission::TaskRead, &self.config)?;
        let party = Self::task_scope(caller)?;
        let audit = caller.audit(AuditAction::TaskRead).target("task", id);
        let t = self
            .store
            .get_task(id, party, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(view(t, self.now().date_naive()))
    }

    /// The humanitarian party reports what it did.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn report_task(
        &self,
        caller: &Caller,
        id: TaskId,
        input: &TaskReportInput,
    ) -> AppResult<TaskView> {
        caller.require(Permission::TaskReport, &self.config)?;
        let party = Some(caller.party().id);
        let now = self.now();
        let audit = caller.audit(AuditAction::TaskRead).target("task", id);
        let stored = self
            .store
            .get_task(id, party, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut task = stored.task;
        task.report(TaskReport {
            done: input.done,
            outcome: input.outcome.trim().to_owned(),
            performed_at: input.performed_at.unwrap_or(now),
            reported_by: caller.user().id,
            reported_at: now,
        })
        .map_err(refused)?;
        let audit = caller
            .audit(AuditAction::TaskReport)
            .target("task", id)
            .details(serde_json::json!({ "status": task.status, "case": task.case_id }));
        let stored = self
            .store
            .update_task(&task, input.expected_version, party, audit)
            .await?;
        Ok(view(stored, now.date_naive()))
    }

    /// The mediator withdraws a referral that is still open.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn cancel_task(
        &self,
        caller: &Caller,
        id: TaskId,
        input: &TaskCancelInput,
    ) -> AppResult<TaskView> {
        caller.require(Permission::TaskManage, &self.config)?;
        let now = self.now();
        let audit = caller.audit(AuditAction::TaskRead).target("task", id);
        let stored = self
            .store
            .get_task(id, None, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut task = stored.task;
        task.cancel(TaskCancellation {
            reason: input.reason.trim().to_owned(),
            by: caller.user().id,
            at: now,
        })
        .map_err(refused)?;
        let audit = caller
            .audit(AuditAction::TaskCancel)
            .target("task", id)
            .details(serde_json::json!({ "reason": input.reason.trim(), "case": task.case_id }));
        let stored = self
            .store
            .update_task(&task, input.expected_version, None, audit)
            .await?;
        Ok(view(stored, now.date_naive()))
    }
}
