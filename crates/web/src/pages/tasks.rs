//! Tasks for humanitarian organisations: the list of the party's own tasks and one task with only
//! the brief the app gives (never the case or its records), with the form that reports the
//! outcome. Another party's task is the API's 404, because the page reads through the same
//! use-case.

use super::cases::{Posted, Refusal};
use super::context::{Frame, PageCtx, PostForm};
use super::error::{PageResult, html};
use super::refusal::Fields;
use super::show::when;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use homeward_app::tasks::{TaskQuery, TaskReportInput};
use homeward_app::{AppError, ErrorKind};
use homeward_domain::{FieldError, Permission, TaskId, ValidationErrors};

#[derive(Debug)]
pub(crate) struct Row {
    pub id: String,
    pub kind: String,
    pub due: String,
    pub status: String,
    pub status_label: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "tasks.html")]
pub(crate) struct TasksPage<'a> {
    pub f: Frame<'a>,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "task.html")]
pub(crate) struct TaskPage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    pub version: i64,
    pub kind: String,
    pub due: String,
    pub status: String,
    pub status_label: String,
    pub overdue: bool,
    pub instructions: String,
    pub brief: Vec<(String, String)>,
    /// Label–value pairs of the report or the cancellation, once there is one.
    pub outcome: Vec<(&'static str, String)>,
    pub may_report: bool,
    /// The case, only for those who may read it (the mediator).
    pub case: Option<String>,
    pub posted: Option<Posted>,
}

impl TaskPage<'_> {
    pub fn err(&self) -> Option<&Refusal> {
        self.posted.as_ref().map(|p| &p.refusal)
    }

    pub fn v(&self, name: &str) -> &str {
        self.posted.as_ref().map_or("", |p| p.data.get(name))
    }

    /// Whether the "done" choice `value` is the one to show chosen (the first, unless sent).
    pub fn done_is(&self, value: &str) -> bool {
        match &self.posted {
            Some(p) => p.data.get("done") == value,
            None => value == "true",
        }
    }
}

pub(crate) async fn list(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    let t = cx.t;
    let tasks = s
        .app
        .list_tasks(&cx.caller, &TaskQuery::default())
        .await
        .map_err(|e| cx.fail(e))?;
    let rows = tasks
        .into_iter()
        .map(|v| Row {
            id: v.task.id.to_string(),
            kind: t.word("taskkind_", v.task.kind.as_str()),
            due: v.task.due.to_string(),
            status: v.task.status.as_str().to_owned(),
            status_label: t.word("taskstatus_", v.task.status.as_str()),
            overdue: v.overdue,
        })
        .collect();
    html(
        t,
        &TasksPage {
            f: cx.frame(),
            rows,
        },
    )
}

async fn render(
    s: &AppState,
    cx: &PageCtx,
    id: TaskId,
    posted: Option<Posted>,
    status: StatusCode,
) -> PageResult {
    let t = cx.t;
    let v = s
        .app
        .get_task(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let task = &v.task;
    let mut outcome = Vec::new();
    if let Some(r) = &task.report {
        outcome.push((
            t.get("task_done"),
            t.get(if r.done { "yes" } else { "no" }).to_owned(),
        ));
        outcome.push((t.get("task_outcome"), r.outcome.clone()));
        outcome.push((t.get("performed_at"), when(&r.performed_at)));
    }
    if let Some(c) = &task.cancellation {
        outcome.push((t.get("reason"), c.reason.clone()));
        outcome.push((t.get("changed_at"), when(&c.at)));
    }
    let page = TaskPage {
        f: cx.frame(),
        id: task.id.to_string(),
        version: v.version,
        kind: t.word("taskkind_", task.kind.as_str()),
        due: task.due.to_string(),
        status: task.status.as_str().to_owned(),
        status_label: t.word("taskstatus_", task.status.as_str()),
        overdue: v.overdue,
        instructions: task.instructions.clone(),
        brief: task
            .brief
            .iter()
            .map(|b| (t.word("brief_", b.field.as_str()), b.value.clone()))
            .collect(),
        outcome,
        may_report: cx.caller.may(Permission::TaskReport) && task.status.is_open(),
        case: cx
            .caller
            .may(Permission::CaseRead)
            .then(|| task.case_id.to_string()),
        posted,
    };
    let mut res = html(t, &page)?;
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    Ok(res)
}

pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<TaskId>,
) -> PageResult {
    render(&s, &cx, id, None, StatusCode::OK).await
}

pub(crate) async fn report(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TaskId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let done = match form.get("done") {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            errs.push(FieldError::new("done", "required", "choose one"));
            None
        }
    };
    let expected_version = form.get("expected_version").trim().parse().unwrap_or(0);
    let performed_at = super::cases::read_moment(&mut errs, &form, "performed_at");
    let r = match (errs.into_result(|| ()), done) {
        (Ok(()), Some(done)) => {
            let input = TaskReportInput {
                done,
                outcome: form.get("outcome").to_owned(),
                performed_at,
                expected_version,
            };
            s.app.report_task(&cx.caller, id, &input).await.map(|_| ())
        }
        (Err(e), _) => Err(AppError::Validation(e)),
        (Ok(()), None) => Err(AppError::invalid("done", "required", "choose one")),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/tasks/{id}")).into_response()),
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::Conflict) => {
            let refusal = super::cases::refusal_of(cx.t, &e);
            let status = ApiError::from(e).status();
            let posted = Posted {
                form: "report".to_owned(),
                data: form,
                refusal,
            };
            render(&s, &cx, id, Some(posted), status).await
        }
        Err(e) => Err(cx.fail(e)),
    }
}
