//! Observers' pages: the cases they may examine (children by name and transliteration), one
//! case's accountability record, and the button that downloads its signed evidence bundle (the
//! API's `/api/v1/cases/{id}/evidence`, which the session cookie authorises like any API GET).
//! The pages read through the same use-cases as the API, so they see exactly what it gives.

use super::context::{Frame, PageCtx};
use super::error::{PageResult, html};
use super::i18n::Tr;
use super::names::{ShownName, shown};
use super::show::{code_of, when};
use crate::AppState;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::State;
use homeward_app::evidence::ObservedCase;
use homeward_domain::{AccountabilityFact, ActorKind, CaseId, UserId};
use std::collections::HashMap;

#[derive(Debug)]
pub(crate) struct CaseRow {
    pub id: String,
    pub number: String,
    pub names: Vec<ShownName>,
    pub state: String,
    pub facts: usize,
}

#[derive(Template)]
#[template(path = "evidence_cases.html")]
pub(crate) struct CasesPage<'a> {
    pub f: Frame<'a>,
    pub rows: Vec<CaseRow>,
    pub next: Option<String>,
}

#[derive(Debug)]
pub(crate) struct FactRow {
    pub id: String,
    pub kind: String,
    pub when: String,
    pub place: String,
    /// Name, with its kind and role in words.
    pub actors: Vec<(String, String)>,
    pub details: String,
    /// Description, and the attachment id when one holds it.
    pub sources: Vec<(String, String)>,
    pub corrects: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

#[derive(Template)]
#[template(path = "evidence_case.html")]
pub(crate) struct CasePage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    pub number: String,
    pub names: Vec<ShownName>,
    pub state: String,
    pub facts: Vec<FactRow>,
    pub may_export: bool,
}

fn state_label(t: &Tr, c: &ObservedCase) -> String {
    t.get(&format!("state_{}", c.state.as_str())).to_owned()
}

fn row(t: &Tr, c: &ObservedCase) -> CaseRow {
    CaseRow {
        id: c.case_id.to_string(),
        number: c.number.to_string(),
        names: c.names.iter().map(shown).collect(),
        state: state_label(t, c),
        facts: c.facts,
    }
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct ListParams {
    after: Option<CaseId>,
}

pub(crate) async fn list(
    State(s): State<AppState>,
    cx: PageCtx,
    axum::extract::Query(q): axum::extract::Query<ListParams>,
) -> PageResult {
    let t = cx.t;
    let page = s
        .app
        .observed_cases(&cx.caller, q.after)
        .await
        .map_err(|e| cx.fail(e))?;
    let rows = page.items.iter().map(|c| row(t, c)).collect();
    html(
        t,
        &CasesPage {
            f: cx.frame(),
            rows,
            next: page.next.map(|n| n.to_string()),
        },
    )
}

fn fact_row(t: &Tr, f: &AccountabilityFact, recorders: &HashMap<UserId, String>) -> FactRow {
    FactRow {
        id: f.id.to_string(),
        kind: t.word("ev_fact_", &code_of(&f.kind)),
        when: f.when.map(|d| d.to_string()).unwrap_or_default(),
        place: f.place.clone().unwrap_or_default(),
        actors: f
            .actors
            .iter()
            .map(|a| {
                let kind = match a.kind {
                    ActorKind::Person => t.get("ev_actor_person"),
                    ActorKind::Institution => t.get("ev_actor_institution"),
                };
                let what = match &a.role {
                    Some(r) => format!("{kind} · {r}"),
                    None => kind.to_owned(),
                };
                (a.name.clone(), what)
            })
            .collect(),
        details: f.details.clone(),
        sources: f
            .sources
            .iter()
            .map(|s| {
                (
                    s.description.clone(),
                    s.attachment.clone().unwrap_or_default(),
                )
            })
            .collect(),
        corrects: f.corrects.map(|c| c.to_string()).unwrap_or_default(),
        recorded_by: recorders
            .get(&f.recorded_by)
            .cloned()
            .unwrap_or_else(|| t.get("ev_unknown_user").to_owned()),
        recorded_at: when(&f.recorded_at),
    }
}

pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<CaseId>,
) -> PageResult {
    let t = cx.t;
    let v = s
        .app
        .observed_case(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    html(
        t,
        &CasePage {
            f: cx.frame(),
            id: id.to_string(),
            number: v.case.number.to_string(),
            names: v.case.names.iter().map(shown).collect(),
            state: state_label(t, &v.case),
            facts: v
                .accountability
                .iter()
                .map(|f| fact_row(t, f, &v.recorders))
                .collect(),
            may_export: v.may_export,
        },
    )
}
