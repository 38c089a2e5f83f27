//! The dashboard: what each role needs first. Each panel appears only when the app answers its
//! use-case for the caller, so a humanitarian worker sees their tasks, a reviewer the
//! queue, a mediator caseworker the cases.

use super::context::PageCtx;
use super::error::{PageError, PageResult, html};
use super::i18n::Tr;
use super::templates::DashboardPage;
use crate::AppState;
use axum::extract::State;
use homeward_app::error::ErrorKind;
use homeward_app::matching::QUEUE_COUNT_CAP;
use homeward_app::tasks::{TaskQuery, TaskView};
use homeward_app::{AppResult, Caller, Viewed};
use homeward_domain::{CaseState, PartyKind, TaskStatus};

#[derive(Debug)]
pub(crate) struct TaskRow {
    /// Where the row leads: the task's own page for the organisation doing it (which never sees
    /// the case), the case for the mediator.
    pub href: String,
    pub kind: String,
    pub due: String,
    pub case: String,
    pub overdue: bool,
}

fn rows(t: &Tr, tasks: Vec<TaskView>, mediator: bool) -> Vec<TaskRow> {
    tasks
        .into_iter()
        .map(|v| TaskRow {
            href: if mediator {
                format!("/cases/{}", v.task.case_id)
            } else {
                format!("/tasks/{}", v.task.id)
            },
            kind: t
                .get(&format!("taskkind_{}", v.task.kind.as_str()))
                .to_owned(),
            due: v.task.due.to_string(),
            case: v.task.case_id.to_string(),
            overdue: v.overdue,
        })
        .collect()
}

/// A follow-up visit past its due date.
#[derive(Debug)]
pub(crate) struct FollowUpRow {
    pub due: String,
    pub days_late: i64,
    /// The party's own record id, or for the mediator the case id.
    pub record: String,
    /// A link to the case, for those who may read it.
    pub case: Option<String>,
    pub party: String,
}

/// The review queue's length, or the cap when it is longer (`more`).
#[derive(Debug)]
pub(crate) struct QueueCount {
    pub n: u64,
    pub more: bool,
}

/// A horizontal bar chart drawn on the server as SVG: one bar per case state.
#[derive(Debug)]
pub(crate) struct Chart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
}

#[derive(Debug)]
pub(crate) struct Bar {
    /// The Cases page with this state's cases.
    pub href: String,
    pub label: String,
    pub n: i64,
    pub y: u32,
    pub text_y: u32,
    pub label_x: u32,
    pub bar_x: u32,
    pub bar_w: u32,
    pub num_x: u32,
    /// `start` or `end`, for the count beside the bar.
    pub num_anchor: &'static str,
}

const ROW: u32 = 26;
const LABEL_W: u32 = 230;
const WIDTH: u32 = 640;
const NUM_W: u32 = 48;

/// Lays the chart out. Right to left, the labels go on the right and bars grow leftwards.
pub(crate) fn chart(t: &Tr, counts: &[(CaseState, i64)]) -> Chart {
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let room = WIDTH - LABEL_W - NUM_W;
    let rtl = t.lang.is_rtl();
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, (state, n))| {
            let y = i as u32 * ROW + 4;
            // Rounded up so that one case still shows a bar.
            let bar_w = ((*n as u64 * room as u64).div_ceil(max as u64)) as u32;
            let (label_x, bar_x, num_x, num_anchor) = if rtl {
                let right = WIDTH - LABEL_W;
                (WIDTH - 4, right - bar_w, right - bar_w - 6, "end")
            } else {
                (LABEL_W - 8, LABEL_W, LABEL_W + bar_w + 6, "start")
            };
            Bar {
                href: format!("/cases?state={}", state.as_str()),
                label: t.get(&format!("state_{}", state.as_str())).to_owned(),
                n: *n,
                y,
                text_y: y + 15,
                label_x,
                bar_x,
                bar_w,
                num_x,
                num_anchor,
            }
        })
        .collect::<Vec<_>>();
    Chart {
        width: WIDTH,
        height: bars.len() as u32 * ROW + 8,
        bars,
    }
}

/// A panel's data, or `None` when the app refuses the caller its use-case: the panel is then
/// not shown. The page does not repeat the app's access rules (who may see tasks, the queue,
/// the cases, which visits); it asks, and a refusal is an answer.
fn panel<T>(cx: &PageCtx, r: AppResult<T>) -> Result<Option<T>, PageError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == ErrorKind::Forbidden => Ok(None),
        Err(e) => Err(cx.fail(e)),
    }
}

/// The dashboard, read in one page view: one audit entry for all its panels.
pub(crate) async fn dashboard(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    s.app
        .view(&cx.caller, Viewed::Dashboard, async |c| {
            draw(&s, &cx, c).await
        })
        .await
        .map_err(|e| cx.fail(e))?
}

async fn draw(s: &AppState, cx: &PageCtx, c: &Caller) -> PageResult {
    let mediator = c.party().kind == PartyKind::Mediator;
    let app = &s.app;
    let tasks_of = |q: TaskQuery| async move { app.list_tasks(c, &q).await };
    let open = panel(
        cx,
        tasks_of(TaskQuery {
            status: Some(TaskStatus::Assigned),
            limit: Some(50),
            ..TaskQuery::default()
        })
        .await,
    )?;
    let (tasks, overdue) = match open {
        None => (None, None),
        Some(open) => {
            let late = tasks_of(TaskQuery {
                overdue: true,
                limit: Some(50),
                ..TaskQuery::default()
            })
            .await
            .map_err(|e| cx.fail(e))?;
            (
                Some(rows(cx.t, open, mediator)),
                Some(rows(cx.t, late, mediator)),
            )
        }
    };
    let queue = panel(cx, s.app.review_queue_count(c).await)?.map(|n| QueueCount {
        n: n.min(QUEUE_COUNT_CAP),
        more: n > QUEUE_COUNT_CAP,
    });
    let cases = panel(cx, s.app.case_counts(c).await)?.map(|counts| {
        let total: i64 = counts.iter().map(|(_, n)| n).sum();
        (chart(cx.t, &counts), total)
    });
    let follow_ups = match panel(cx, s.app.overdue_follow_ups(c).await)? {
        None => None,
        Some(late) => {
            let parties = s.app.list_parties(c).await.map_err(|e| cx.fail(e))?;
            let today = s.app.now().date_naive();
            Some(
                late.into_iter()
                    .take(50)
                    .map(|v| FollowUpRow {
                        due: v.follow_up.due.to_string(),
                        days_late: (today - v.follow_up.due).num_days(),
                        record: v
                            .record_id
                            .map_or_else(|| v.case_id.to_string(), |r| r.to_string()),
                        case: mediator.then(|| v.case_id.to_string()),
                        party: v
                            .follow_up
                            .responsible
                            .and_then(|p| parties.iter().find(|x| x.id == p))
                            .map(|p| p.name.as_str().to_owned())
                            .unwrap_or_default(),
                    })
                    .collect(),
            )
        }
    };
    let page = DashboardPage {
        f: cx.frame(),
        tasks,
        overdue,
        demo_tour: !s.opts.demo_logins.is_empty() && queue.is_some(),
        queue,
        cases,
        follow_ups,
    };
    html(cx.t, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use homeward_domain::Language;

    #[test]
    fn bars_are_proportional_and_mirror_right_to_left() {
        let counts = [
            (CaseState::Open, 10),
            (CaseState::Located, 5),
            (CaseState::Closed, 0),
        ];
        let en = chart(super::super::i18n::tr(Language::En), &counts);
        let room = WIDTH - LABEL_W - NUM_W;
        assert_eq!(en.bars[0].bar_w, room);
        assert_eq!(en.bars[1].bar_w, room / 2);
        assert_eq!(en.bars[2].bar_w, 0);
        assert_eq!(en.bars[0].bar_x, LABEL_W);
        assert_eq!(en.bars[0].label, "Open");
        let ar = chart(super::super::i18n::tr(Language::Ar), &counts);
        assert_eq!(ar.bars[0].bar_x + ar.bars[0].bar_w, WIDTH - LABEL_W);
        assert!(ar.bars[0].label_x > ar.bars[0].bar_x);
        assert_eq!(ar.bars[0].label, "مفتوحة");
    }
}
