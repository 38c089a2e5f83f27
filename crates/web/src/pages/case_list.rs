//! The Cases page: every case the caller may read, found by state, party, round, an overdue
//! follow-up, a child's name in any script (the linkage normaliser's terms, so Олександр finds
//! Oleksandr) or a case number; sorted, counted, paged. The app's `case_list` use-case decides
//! who may see what, exactly as for the API's case list.
//!
//! A name is personal data, so it never goes into a URL: the search box posts it, and the other
//! pages of a search are posted too. The other filters may be in the query string (the
//! dashboard's chart links to `/cases?state=…`).

use super::context::{PageCtx, PostForm};
use super::error::{PageResult, html};
use super::i18n::Tr;
use super::names::{ShownName, all_names};
use super::templates::CaseListPage;
use crate::AppState;
use axum::extract::{Query, State};
use homeward_app::case_list::{CaseListItem, CaseListQuery, CaseSort};
use homeward_domain::{CaseState, ChildRecord, PartyId};
use serde::Deserialize;

/// The filters as the form sends them: empty fields mean "any".
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub party: String,
    #[serde(default)]
    pub round: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: String,
    /// A name or a case number; only ever posted.
    #[serde(default)]
    pub q: String,
}

impl Filters {
    fn query(&self) -> CaseListQuery {
        CaseListQuery {
            state: self.state.parse::<CaseState>().ok(),
            party: self.party.parse::<uuid::Uuid>().ok().map(PartyId::from),
            round: Some(self.round.trim().to_owned()).filter(|r| !r.is_empty()),
            overdue: self.overdue == "1",
            text: Some(self.q.trim().to_owned()).filter(|q| !q.is_empty()),
            sort: match self.sort.as_str() {
                "updated" => CaseSort::Updated,
                "state" => CaseSort::State,
                _ => CaseSort::Opened,
            },
            descending: self.dir != "asc",
            page: self.page.trim().parse().unwrap_or(1),
            per_page: 50,
        }
    }

    /// The query string of these filters on another page (never the name).
    pub fn href(&self, page: impl ToString) -> String {
        let page = page.to_string();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("state", &self.state),
            ("party", &self.party),
            ("round", &self.round),
            ("overdue", &self.overdue),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ] {
            if !v.is_empty() {
                pairs.push((k, v.as_str()));
            }
        }
        pairs.push(("page", &page));
        format!(
            "/cases?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

/// One child of a case, as the list names it.
#[derive(Debug)]
pub(crate) struct Child {
    pub names: Vec<ShownName>,
    pub born: String,
    pub side: String,
}

#[derive(Debug)]
pub(crate) struct Row {
    pub href: String,
    pub number: String,
    pub children: Vec<Child>,
    pub state: String,
    pub round: String,
    pub opened: String,
    pub updated: String,
    pub overdue: bool,
}

#[derive(Debug)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

fn child(t: &Tr, r: &ChildRecord) -> Child {
    Child {
        names: all_names(r),
        born: r
            .content
            .birth_date
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        side: t
            .get(&format!("kind_{}", r.content.kind.as_str()))
            .to_owned(),
    }
}

fn row(t: &Tr, item: &CaseListItem, today: chrono::NaiveDate) -> Row {
    let c = &item.case.case;
    Row {
        href: format!("/cases/{}", c.id),
        number: item.case.number.to_string(),
        children: [&item.tracing, &item.custody]
            .into_iter()
            .flatten()
            .map(|r| child(t, r))
            .collect(),
        state: t.get(&format!("state_{}", c.state.as_str())).to_owned(),
        round: c
            .listing
            .as_ref()
            .map(|l| l.list_ref.clone())
            .unwrap_or_default(),
        opened: item.case.created_at.format("%Y-%m-%d").to_string(),
        updated: item.case.updated_at.format("%Y-%m-%d").to_string(),
        overdue: c
            .next_follow_up_due(item.case.updated_at)
            .is_some_and(|d| d < today),
    }
}

async fn render(s: &AppState, cx: &PageCtx, f: Filters) -> PageResult {
    let found = s
        .app
        .case_list(&cx.caller, &f.query())
        .await
        .map_err(|e| cx.fail(e))?;
    let today = s.app.now().date_naive();
    let t = cx.t;
    let rows = found.items.iter().map(|i| row(t, i, today)).collect();
    let states = CaseState::ALL
        .into_iter()
        .map(|st| Choice {
            value: st.as_str().to_owned(),
            label: t.get(&format!("state_{}", st.as_str())).to_owned(),
        })
        .collect();
    let parties = s
        .app
        .list_parties(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?
        .into_iter()
        .filter(|p| {
            matches!(
                p.kind,
                homeward_domain::PartyKind::Origin | homeward_domain::PartyKind::Custody
            )
        })
        .map(|p| Choice {
            value: p.id.to_string(),
            label: p.name.as_str().to_owned(),
        })
        .collect();
    let pages = found.pages();
    let page = found.page;
    let summary = t
        .get("cl_summary")
        .replace("{total}", &found.total.to_string())
        .replace("{page}", &page.to_string())
        .replace("{pages}", &pages.max(1).to_string());
    let tpl = CaseListPage {
        f: cx.frame(),
        filters: &f,
        rows,
        states,
        parties,
        summary,
        turns: [
            (page > 1).then(|| (page - 1, t.get("cl_prev").to_owned())),
            (page < pages).then(|| (page + 1, t.get("next_page").to_owned())),
        ]
        .into_iter()
        .flatten()
        .collect(),
        by_number: found.number.map(|n| n.to_string()),
    };
    html(t, &tpl)
}

/// The list without a name: filters in the query string.
pub(crate) async fn list(
    State(s): State<AppState>,
    cx: PageCtx,
    Query(mut f): Query<Filters>,
) -> PageResult {
    // A name typed into a URL by hand is not searched (see the module).
    f.q.clear();
    render(&s, &cx, f).await
}

/// A search with a name or number, posted.
pub(crate) async fn search(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Filters>,
) -> PageResult {
    render(&s, &cx, form).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_other_pages_keep_the_filters_but_never_the_name() {
        let f = Filters {
            state: "listed".into(),
            round: "Round 7 (March)".into(),
            q: "Олександр".into(),
            ..Default::default()
        };
        let href = f.href(3);
        assert_eq!(href, "/cases?state=listed&round=Round+7+%28March%29&page=3");
        assert!(!href.contains("q="));
        let q = f.query();
        assert_eq!(q.page, 1);
        assert_eq!(q.state, Some(CaseState::Listed));
        assert!(q.descending);
        assert_eq!(q.text.as_deref(), Some("Олександр"));
    }
}
