//! The pages' templates (in `templates/`), checked by askama when the crate compiles: a field a
//! template names and the struct lacks is a build error, not a blank on the page.

use super::context::Frame;
use askama::Template;

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub f: Frame<'a>,
    pub title: &'a str,
    pub code: &'a str,
    pub message: &'a str,
    pub detail: &'a str,
    /// For a missing permission: what it allows, and who has it.
    pub because: &'a str,
    pub who_can: &'a str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    pub f: Frame<'a>,
    /// The translation key of the message above the form, if any.
    pub notice: Option<&'static str>,
    /// Whether the notice is an error (announced at once to screen readers).
    pub alert: bool,
    pub username: &'a str,
    /// Show the one-time code field: the account has a second factor.
    pub ask_totp: bool,
    /// A lockout's remaining time, in minutes.
    pub wait_minutes: Option<i64>,
    /// On a demo server: its accounts, each with a one-click sign-in.
    pub demo: &'a [crate::DemoLogin],
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub(crate) struct DashboardPage<'a> {
    pub f: Frame<'a>,
    pub tasks: Option<Vec<super::dashboard::TaskRow>>,
    pub overdue: Option<Vec<super::dashboard::TaskRow>>,
    pub queue: Option<super::dashboard::QueueCount>,
    /// The chart and the number of cases.
    pub cases: Option<(super::dashboard::Chart, i64)>,
    pub follow_ups: Option<Vec<super::dashboard::FollowUpRow>>,
    /// On a demo server, for someone who may review: the steps to a confirmed match.
    pub demo_tour: bool,
}

#[derive(Template)]
#[template(path = "records.html")]
pub(crate) struct RecordsPage<'a> {
    pub f: Frame<'a>,
    pub filters: &'a super::records::Filters,
    pub rows: Vec<super::records::Row>,
    /// The last id of this page, when there are more.
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "record.html")]
pub(crate) struct RecordPage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    pub names: Vec<super::names::ShownName>,
    pub fields: Vec<super::records::Field>,
    pub deleted: bool,
    pub version: i64,
    pub versions: Vec<super::records::VersionRow>,
}

#[derive(Template)]
#[template(path = "matches.html")]
pub(crate) struct QueuePage<'a> {
    pub f: Frame<'a>,
    pub rows: Vec<super::matches::QueueRow>,
    /// The queue's cursor for the next page, when there is one.
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "candidate.html")]
pub(crate) struct CandidatePage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    /// The first name of each child as written, with its transliteration: the pair's title.
    pub named: Vec<super::names::ShownName>,
    /// `pending`, `confirmed` or `rejected` (a class name), and its label.
    pub status: String,
    pub status_label: String,
    pub pending: bool,
    /// Four eyes: one reviewer confirmed, another must.
    pub awaiting_second: bool,
    pub reason: String,
    pub case: Option<String>,
    pub percent: String,
    pub weight: String,
    pub model: String,
    /// The tracing request, then the custody record, each with its heading.
    pub sides: Vec<(&'static str, super::matches::Side)>,
    pub wf: super::matches::Waterfall,
    /// Proposed by the renamed-child pattern: the page says so and why.
    pub possibly_renamed: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "case.html")]
pub(crate) struct CasePage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    /// The case number people know it by (HW-2026-00042).
    pub number: String,
    /// The version the forms' changes are decided on.
    pub version: i64,
    pub state: String,
    pub state_label: String,
    pub state_reason: Option<String>,
    pub on_hold_from: Option<String>,
    pub opened_at: String,
    pub tracing: Option<String>,
    pub custody: Option<String>,
    pub next: Vec<super::cases::Next>,
    pub timeline: Vec<super::cases::Event>,
    pub verifications: Vec<super::cases::Item>,
    pub consents: Vec<super::cases::Item>,
    pub views: Vec<super::cases::Fact>,
    pub disclosed: Vec<super::cases::Fact>,
    /// The work forms and what they need (the case area's, in `cases.rs`).
    pub work: super::cases::CaseWork,
    /// Code and label of each verification method, and of each outcome.
    pub methods: Vec<(&'static str, String)>,
    pub outcomes: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "case_list.html")]
pub(crate) struct CaseListPage<'a> {
    pub f: Frame<'a>,
    pub filters: &'a super::case_list::Filters,
    pub rows: Vec<super::case_list::Row>,
    pub states: Vec<super::case_list::Choice>,
    pub parties: Vec<super::case_list::Choice>,
    /// "N cases · page P of Q", in the language.
    pub summary: String,
    /// The previous and next pages, with their words.
    pub turns: Vec<(u32, String)>,
    /// The search text was read as this case number.
    pub by_number: Option<String>,
}
