//! The mission dashboard (`/indicators`) and the public statistics (`/public/statistics`, no
//! sign-in). Charts are drawn here as SVG (no script), each with its figures as a table beside
//! it and a CSV download of the same figures.

use super::context::Frame;
use super::context::{PageCtx, PostForm};
use super::error::{PageResult, html};
use super::i18n::{self, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use homeward_app::indicators::{IndicatorPart, IndicatorQuery, Indicators};
use homeward_domain::Permission;
use homeward_domain::disclosure_stats::{ProtectedTable, StatCell};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "indicators.html")]
pub(crate) struct IndicatorsPage<'a> {
    pub f: Frame<'a>,
    pub from: String,
    pub until: String,
    pub round: String,
    /// The filters again, for the CSV links.
    pub csv_query: String,
    /// Why the filters were refused, if they were.
    pub problem: Option<String>,
    pub sought: i64,
    pub held: i64,
    pub overdue: Option<i64>,
    /// Case figures withheld from this caller.
    pub withheld: bool,
    pub may_publish: bool,
    pub charts: Vec<Chart>,
}

#[derive(Template)]
#[template(path = "public_statistics.html")]
pub(crate) struct PublicStatisticsPage<'a> {
    pub f: Frame<'a>,
    /// Published on, figures as of, lag in days; `None` before the first publication.
    pub meta: Option<(String, String, i32)>,
    pub tables: Vec<PublicTable>,
}

/// The dashboard's filters as the form sends them (empty fields are no filter).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    round: String,
}

impl Filters {
    fn query(&self) -> Result<IndicatorQuery, &'static str> {
        let day = |s: &str, field: &'static str| match s.trim() {
            "" => Ok(None),
            v => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| field),
        };
        Ok(IndicatorQuery {
            from: day(&self.from, "from")?,
            until: day(&self.until, "until")?,
            round: Some(self.round.trim().to_owned()).filter(|r| !r.is_empty()),
        })
    }

    /// The query string that repeats these filters (for the CSV links).
    fn query_string(&self) -> String {
        serde_urlencoded::to_string([
            ("from", self.from.trim()),
            ("until", self.until.trim()),
            ("round", self.round.trim()),
        ])
        .unwrap_or_default()
    }
}

/// One bar: its label, the figure shown, and its length.
#[derive(Debug)]
pub(crate) struct Bar {
    pub label: String,
    pub value: String,
    pub y: u32,
    pub text_y: u32,
    pub label_x: u32,
    pub bar_x: u32,
    pub bar_w: u32,
    pub num_x: u32,
    pub num_anchor: &'static str,
}

/// A chart with its table and CSV: `id` names the CSV (`/indicators/{id}.csv`).
#[derive(Debug)]
pub(crate) struct Chart {
    pub id: &'static str,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    /// The table beside the chart: its column headings and rows (first cell the label).
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

const ROW: u32 = 26;
const LABEL_W: u32 = 200;
const WIDTH: u32 = 560;
const NUM_W: u32 = 56;

/// Lays out bars for `(label, value)`, longest bar for the largest value; right to left the
/// labels go on the right and the bars grow leftwards.
fn bars(t: &Tr, points: &[(String, f64)]) -> Vec<Bar> {
    let max = points.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let room = f64::from(WIDTH - LABEL_W - NUM_W);
    points
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let y = i as u32 * ROW + 4;
            let bar_w = if *v > 0.0 {
                (v / max * room).ceil() as u32
            } else {
                0
            };
            let (label_x, bar_x, num_x, num_anchor) = if t.lang.is_rtl() {
                let right = WIDTH - LABEL_W;
                (WIDTH - 4, right - bar_w, right - bar_w - 6, "end")
            } else {
                (LABEL_W - 8, LABEL_W, LABEL_W + bar_w + 6, "start")
            };
            Bar {
                label: label.clone(),
                value: number(*v),
                y,
                text_y: y + 15,
                label_x,
                bar_x,
                bar_w,
                num_x,
                num_anchor,
            }
        })
        .collect()
}

/// Whole numbers without decimals, halves with one.
fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn chart(
    t: &Tr,
    id: &'static str,
    points: Vec<(String, f64)>,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
) -> Chart {
    let bars = bars(t, &points);
    Chart {
        id,
        title: t
            .get(&format!("ind_chart_{}", id.replace('-', "_")))
            .to_owned(),
        width: WIDTH,
        height: bars.len() as u32 * ROW + 8,
        bars,
        head,
        rows,
    }
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(String::new, |n| n.to_string())
}

/// Every chart the figures allow, in page order.
pub(crate) fn charts(t: &Tr, ind: &Indicators) -> Vec<Chart> {
    let g = |k: &str| t.get(k).to_owned();
    let state_label =
        |s: homeward_domain::CaseState| t.get(&format!("state_{}", s.as_str())).to_owned();
    let mut out = Vec::new();
    if !ind.withheld.contains(&IndicatorPart::Cases) {
        let head = vec![
            g("ind_state"),
            g("ind_cases"),
            g("ind_median_days"),
            g("ind_spells"),
        ];
        let rows: Vec<Vec<String>> = ind
            .states
            .iter()
            .map(|s| {
                vec![
                    state_label(s.state),
                    s.cases.to_string(),
                    s.median_days.map(number).unwrap_or_default(),
                    s.spells.to_string(),
                ]
            })
            .collect();
        let points = ind
            .states
            .iter()
            .map(|s| (state_label(s.state), s.cases as f64))
            .collect();
        out.push(chart(t, "states", points, head.clone(), rows.clone()));
        let points = ind
            .states
            .iter()
            .map(|s| (state_label(s.state), s.median_days.unwrap_or(0.0)))
            .collect();
        out.push(chart(t, "median-days", points, head, rows));
        let months: Vec<_> = ind.months.iter().filter(|m| m.returns.is_some()).collect();
        let points = months
            .iter()
            .map(|m| (m.month.clone(), m.returns.unwrap_or(0) as f64))
            .collect();
        let rows = months
            .iter()
            .map(|m| vec![m.month.clone(), opt(m.returns)])
            .collect();
        out.push(chart(
            t,
            "returns",
            points,
            vec![g("ind_month"), g("ind_returns")],
            rows,
        ));
    }
    let breakdown_head = |first: &str| {
        let mut h = vec![g(first), g("ind_sought"), g("ind_held")];
        if ind.withheld.is_empty() {
            h.push(g("ind_cases"));
        }
        h
    };
    let breakdown =
        |id: &'static str, list: &[homeward_app::indicators::Breakdown], key: &str, first: &str| {
            let label =
                |grp: &str| t.get_or(&format!("{key}{}", grp.replace(['-', '+'], "_")), grp);
            let points = list
                .iter()
                .map(|b| (label(&b.group), (b.sought + b.held) as f64))
                .collect();
            let rows = list
                .iter()
                .map(|b| {
                    let mut r = vec![label(&b.group), b.sought.to_string(), b.held.to_string()];
                    if let Some(c) = b.cases {
                        r.push(c.to_string());
                    }
                    r
                })
                .collect();
            chart(t, id, points, breakdown_head(first), rows)
        };
    out.push(breakdown("sex", &ind.by_sex, "sex_", "ind_sex"));
    out.push(breakdown(
        "age-band",
        &ind.by_age_band,
        "ind_band_",
        "ind_age_band",
    ));
    let points = ind
        .months
        .iter()
        .map(|m| (m.month.clone(), (m.sought + m.held) as f64))
        .collect();
    let rows = ind
        .months
        .iter()
        .map(|m| vec![m.month.clone(), m.sought.to_string(), m.held.to_string()])
        .collect();
    out.push(chart(
        t,
        "filed",
        points,
        vec![g("ind_month"), g("ind_sought"), g("ind_held")],
        rows,
    ));
    out
}

async fn figures(
    s: &AppState,
    cx: &PageCtx,
    f: &Filters,
) -> Result<Result<Indicators, String>, super::error::PageError> {
    let q = match f.query() {
        Ok(q) => q,
        Err(field) => return Ok(Err(format!("{}: {}", field, cx.t.get("ind_bad_date")))),
    };
    match s.app.indicators(&cx.caller, &q).await {
        Ok(ind) => Ok(Ok(ind)),
        Err(homeward_app::AppError::Validation(v)) => Ok(Err(v
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "))),
        Err(e) => Err(cx.fail(e)),
    }
}

pub(crate) async fn page(
    State(s): State<AppState>,
    cx: PageCtx,
    Query(f): Query<Filters>,
) -> PageResult {
    let (ind, problem) = match figures(&s, &cx, &f).await? {
        Ok(ind) => (Some(ind), None),
        Err(p) => (None, Some(p)),
    };
    let charts = ind.as_ref().map(|i| charts(cx.t, i)).unwrap_or_default();
    let page = IndicatorsPage {
        f: cx.frame(),
        from: f.from.trim().to_owned(),
        until: f.until.trim().to_owned(),
        round: f.round.trim().to_owned(),
        csv_query: f.query_string(),
        problem,
        sought: ind.as_ref().map_or(0, |i| i.sought),
        held: ind.as_ref().map_or(0, |i| i.held),
        overdue: ind.as_ref().and_then(|i| i.overdue_follow_ups),
        withheld: ind.as_ref().is_some_and(|i| !i.withheld.is_empty()),
        may_publish: cx.caller.may(Permission::PartyManage),
        charts,
    };
    html(cx.t, &page)
}

fn csv_field(s: &str) -> String {
    // Labels are our own words, but a spreadsheet must never read one as a formula.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One chart's figures as CSV, with the same filters.
pub(crate) async fn csv(
    State(s): State<AppState>,
    cx: PageCtx,
    Path(file): Path<String>,
    Query(f): Query<Filters>,
) -> PageResult {
    let Some(id) = file.strip_suffix(".csv") else {
        return Err(super::error::PageError::app(
            homeward_app::AppError::NotFound,
            cx.t,
        ));
    };
    let ind = match figures(&s, &cx, &f).await? {
        Ok(ind) => ind,
        Err(p) => return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response()),
    };
    let Some(c) = charts(cx.t, &ind).into_iter().find(|c| c.id == id) else {
        return Err(super::error::PageError::app(
            homeward_app::AppError::NotFound,
            cx.t,
        ));
    };
    let mut out = String::new();
    for row in std::iter::once(&c.head).chain(&c.rows) {
        out.push_str(
            &row.iter()
                .map(|x| csv_field(x))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"indicators-{id}.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct PublishFields {
    #[serde(default)]
    lag_days: String,
}

/// Publishes the public statistics, then shows them.
pub(crate) async fn publish(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<PublishFields>,
) -> PageResult {
    let lag = match form.lag_days.trim() {
        "" => None,
        v => Some(v.parse::<i32>().map_err(|_| {
            cx.fail(homeward_app::AppError::Validation(
                homeward_domain::ValidationErrors::single(
                    "lag_days",
                    "not_a_number",
                    "the lag is a number of days",
                ),
            ))
        })?),
    };
    s.app
        .publish_statistics(&cx.caller, lag)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(Redirect::to("/public/statistics").into_response())
}

/// One row of a published table, as shown.
#[derive(Debug)]
pub(crate) struct PublicRow {
    pub label: String,
    pub cells: Vec<String>,
    pub total: String,
}

/// A published table as shown: suppressed cells as a mark the legend explains.
#[derive(Debug)]
pub(crate) struct PublicTable {
    pub id: &'static str,
    pub caption: String,
    pub first: String,
    pub columns: Vec<String>,
    pub rows: Vec<PublicRow>,
    pub totals: PublicRow,
}

fn shown(c: StatCell) -> String {
    c.value().map_or_else(|| "—".to_owned(), |v| v.to_string())
}

fn public_table(
    t: &Tr,
    id: &'static str,
    p: &ProtectedTable,
    row_key: &str,
    first: &str,
) -> PublicTable {
    let label = |r: &str| t.get_or(&format!("{row_key}{}", r.replace(['-', '+'], "_")), r);
    PublicTable {
        id,
        caption: t.get(&format!("pub_table_{id}")).to_owned(),
        first: t.get(first).to_owned(),
        columns: p
            .columns
            .iter()
            .map(|c| t.get_or(&format!("sex_{c}"), c))
            .collect(),
        rows: p
            .rows
            .iter()
            .zip(&p.cells)
            .zip(&p.row_totals)
            .map(|((r, cells), tot)| PublicRow {
                label: label(r),
                cells: cells.iter().map(|c| shown(*c)).collect(),
                total: shown(*tot),
            })
            .collect(),
        totals: PublicRow {
            label: t.get("pub_total").to_owned(),
            cells: p.column_totals.iter().map(|c| shown(*c)).collect(),
            total: shown(p.total),
        },
    }
}

/// The public statistics, for anyone: no sign-in, the language from the browser.
pub(crate) async fn public(State(s): State<AppState>, headers: HeaderMap) -> PageResult {
    let t = i18n::tr(i18n::choose(None, &headers));
    let published = s
        .app
        .public_statistics()
        .await
        .map_err(|e| super::error::PageError::app(e, t))?;
    let (meta, tables) = match &published {
        None => (None, Vec::new()),
        Some(p) => (
            Some((
                p.published_on.to_string(),
                p.tables.as_of.to_string(),
                p.lag_days,
            )),
            vec![
                public_table(t, "by_state", &p.tables.by_state, "state_", "ind_state"),
                public_table(
                    t,
                    "by_age_band",
                    &p.tables.by_age_band,
                    "ind_band_",
                    "ind_age_band",
                ),
            ],
        ),
    };
    let page = PublicStatisticsPage {
        f: Frame {
            t,
            csrf: "",
            here: "/public/statistics",
            user: None,
            nav: Vec::new(),
        },
        meta,
        tables,
    };
    html(t, &page)
}
