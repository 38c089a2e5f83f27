//! Child records: a filtered list with a name search, and one record with its history.
//!
//! A name is personal data, so it never goes into a URL (where it would reach browser history,
//! proxies and logs): the search box posts it, and the next page of a search is posted too. The
//! other filters (kind, sex, years of birth) and ids may be in the query string.

use super::context::{PageCtx, PostForm};
use super::error::{PageResult, html};
use super::i18n::Tr;
use super::names::{ShownName, all_names};
use super::show::when;
use super::templates::{RecordPage, RecordsPage};
use crate::AppState;
use crate::extract::ApiPath;
use axum::extract::{Query, State};
use homeward_app::records::RecordQuery;
use homeward_domain::{ChildRecord, RecordId, RecordKind, Sex};
use serde::Deserialize;

/// The filters as the form sends them: empty fields mean "any".
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub born_from: String,
    #[serde(default)]
    pub born_to: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub after: String,
}

impl Filters {
    fn query(&self) -> RecordQuery {
        RecordQuery {
            kind: self.kind.parse::<RecordKind>().ok(),
            // Paperwork parsing reads an empty sex as "unknown"; an empty filter means "any".
            sex: Some(self.sex.trim())
                .filter(|v| !v.is_empty())
                .and_then(|v| v.parse::<Sex>().ok()),
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            born_from_year: self.born_from.trim().parse().ok(),
            born_to_year: self.born_to.trim().parse().ok(),
            after: self.after.parse::<uuid::Uuid>().ok().map(RecordId::from),
            limit: Some(50),
            ..RecordQuery::default()
        }
    }
}

#[derive(Debug)]
pub(crate) struct Row {
    pub id: String,
    pub names: Vec<ShownName>,
    pub kind: String,
    pub sex: String,
    pub born: String,
    pub deleted: bool,
}

fn kind_label(t: &Tr, k: RecordKind) -> String {
    t.get(&format!("kind_{}", k.as_str())).to_owned()
}

fn sex_label(t: &Tr, s: Sex) -> String {
    t.get(&format!("sex_{}", s.as_str())).to_owned()
}

fn row(t: &Tr, r: &ChildRecord) -> Row {
    Row {
        id: r.id.to_string(),
        names: all_names(r),
        kind: kind_label(t, r.content.kind),
        sex: sex_label(t, r.content.sex),
        born: r
            .content
            .birth_date
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        deleted: r.deleted_at.is_some(),
    }
}

async fn render(s: &AppState, cx: &PageCtx, f: Filters) -> PageResult {
    let page = s
        .app
        .list_records(&cx.caller, &f.query())
        .await
        .map_err(|e| cx.fail(e))?;
    let rows = page.items.iter().map(|r| row(cx.t, r)).collect();
    let next = page.next.map(|id| id.to_string());
    let tpl = RecordsPage {
        f: cx.frame(),
        filters: &f,
        rows,
        next,
    };
    html(cx.t, &tpl)
}

/// The list without a name: filters in the query string.
pub(crate) async fn list(
    State(s): State<AppState>,
    cx: PageCtx,
    Query(mut f): Query<Filters>,
) -> PageResult {
    // A name typed into a URL by hand is not searched: it is already in the browser's history,
    // and answering would teach people that it works.
    f.name.clear();
    render(&s, &cx, f).await
}

/// A search with a name, posted.
pub(crate) async fn search(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Filters>,
) -> PageResult {
    render(&s, &cx, form).await
}

#[derive(Debug)]
pub(crate) struct Field {
    pub label: &'static str,
    pub value: String,
}

#[derive(Debug)]
pub(crate) struct VersionRow {
    pub version: i64,
    pub change: String,
    pub at: String,
}

fn fields(t: &'static Tr, r: &ChildRecord) -> Vec<Field> {
    let c = &r.content;
    let date = |d: &Option<homeward_domain::PartialDate>| d.as_ref().map(ToString::to_string);
    [
        ("kind", Some(kind_label(t, c.kind))),
        ("sex", Some(sex_label(t, c.sex))),
        ("born", date(&c.birth_date)),
        ("birth_place", c.birth_place.clone()),
        ("external_ref", c.external_ref.clone()),
        ("separation_date", date(&c.separation_date)),
        (
            "separation_circumstances",
            c.separation_circumstances.clone(),
        ),
        ("last_known_location", c.last_known_location.clone()),
        ("current_location", c.current_location.clone()),
        ("current_carer", c.current_carer.clone()),
        (
            "enquirer",
            c.enquirer
                .as_ref()
                .map(|e| format!("{} ({})", e.name, e.relationship)),
        ),
        ("notes", c.notes.clone()),
    ]
    .into_iter()
    .filter_map(|(key, v)| {
        v.map(|value| Field {
            label: t.get(key),
            value,
        })
    })
    .collect()
}

pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<RecordId>,
) -> PageResult {
    let record = s
        .app
        .get_record(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let history = s
        .app
        .record_history(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let versions = history
        .iter()
        .rev()
        .map(|v| VersionRow {
            version: v.version,
            change: cx.t.get(&format!("change_{}", v.change)).to_owned(),
            at: when(&v.changed_at),
        })
        .collect();
    let tpl = RecordPage {
        f: cx.frame(),
        id: record.id.to_string(),
        names: all_names(&record),
        fields: fields(cx.t, &record),
        deleted: record.deleted_at.is_some(),
        version: record.version,
        versions,
    };
    html(cx.t, &tpl)
}
