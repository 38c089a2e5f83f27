//! Match review: the queue of candidate pairs, and one pair with both records side by side, the
//! engine's explanation as a waterfall, and the confirm and reject forms.
//!
//! A decision is a form post (works without script); the keyboard shortcuts in `app.js` only
//! move focus and follow the queue's links. After a decision the pair's page comes back showing
//! its new status, and after a confirmation the case it opened.

use super::context::{PageCtx, PostForm};
use super::error::{PageResult, html};
use super::i18n::Tr;
use super::names::{ShownName, all_names};
use super::show::when;
use super::templates::{CandidatePage, QueuePage};
use crate::AppState;
use crate::extract::ApiPath;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use homeward_app::matching::{CandidateView, QueueQuery};
use homeward_app::{Caller, Viewed};
use homeward_domain::{ChildRecord, MatchId};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueParams {
    /// The queue's own cursor (a probability and an id: nothing personal).
    #[serde(default)]
    pub after: Option<String>,
}

#[derive(Debug)]
pub(crate) struct QueueRow {
    pub id: String,
    /// The sought child and the child held, as written, transliterated, with birth dates.
    pub sought: Vec<ShownName>,
    pub sought_born: String,
    pub held: Vec<ShownName>,
    pub held_born: String,
    pub percent: String,
    pub weight: String,
    pub created: String,
}

fn percent(p: f64) -> String {
    format!("{:.1} %", p * 100.0)
}

fn row(
    c: &CandidateView,
    named: &std::collections::HashMap<homeward_domain::RecordId, homeward_domain::ChildRecord>,
) -> QueueRow {
    let names = |id| named.get(&id).map(all_names).unwrap_or_default();
    let born = |id| {
        named
            .get(&id)
            .and_then(|r: &homeward_domain::ChildRecord| r.content.birth_date.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    QueueRow {
        id: c.id.to_string(),
        sought: names(c.tracing_record_id),
        sought_born: born(c.tracing_record_id),
        held: names(c.custody_record_id),
        held_born: born(c.custody_record_id),
        percent: percent(c.probability),
        weight: format!("{:+.1}", c.match_weight),
        created: when(&c.created_at),
    }
}

pub(crate) async fn queue(
    State(s): State<AppState>,
    cx: PageCtx,
    Query(q): Query<QueueParams>,
) -> PageResult {
    let page = s
        .app
        .review_queue(
            &cx.caller,
            &QueueQuery {
                after: q.after.filter(|a| !a.is_empty()),
                ..QueueQuery::default()
            },
        )
        .await
        .map_err(|e| cx.fail(e))?;
    let ids: Vec<_> = page
        .items
        .iter()
        .flat_map(|c| [c.tracing_record_id, c.custody_record_id])
        .collect();
    let named = s
        .app
        .children_named(&cx.caller, &ids)
        .await
        .map_err(|e| cx.fail(e))?;
    let tpl = QueuePage {
        f: cx.frame(),
        rows: page.items.iter().map(|c| row(c, &named)).collect(),
        next: page.next,
    };
    html(cx.t, &tpl)
}

/// One bar of the waterfall, laid out in the SVG's coordinates.
#[derive(Debug, PartialEq)]
pub(crate) struct Step {
    pub label: String,
    pub level: String,
    pub left: String,
    pub right: String,
    pub weight: String,
    /// `for` (positive weight), `against` (negative) or `total`.
    pub class: &'static str,
    pub x: u32,
    pub w: u32,
    pub y: u32,
    pub text_y: u32,
    pub label_x: u32,
    pub num_x: u32,
    pub num_anchor: &'static str,
}

#[derive(Debug)]
pub(crate) struct Waterfall {
    pub width: u32,
    pub height: u32,
    pub steps: Vec<Step>,
    /// The x of the zero line.
    pub zero_x: u32,
}

const ROW: u32 = 26;
const LABEL_W: u32 = 250;
const WIDTH: u32 = 720;
const NUM_W: u32 = 56;

fn num(v: &serde_json::Value, k: &str) -> f64 {
    v.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0)
}

fn text(v: &serde_json::Value, k: &str) -> String {
    v.get(k)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A value the engine compared, as the person reads it: a sex in their language (the engine
/// speaks codes), anything else as written on the record.
fn compared(t: &Tr, field: &str, value: String) -> String {
    if field == "sex" && !value.is_empty() {
        return t.word("sex_", &value);
    }
    value
}

/// Lays out the waterfall of an explanation: the prior, then each field's weight starting where
/// the one before ended, then the total. Right to left the picture is mirrored: labels on the
/// right, evidence for a match grows leftwards.
pub(crate) fn waterfall(t: &Tr, explanation: &serde_json::Value) -> Waterfall {
    let prior = num(explanation, "prior");
    let fields: Vec<&serde_json::Value> = explanation
        .get("fields")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    // (label, level, left, right, from, to, class)
    let mut raw = vec![(
        t.get("wf_prior").to_owned(),
        String::new(),
        String::new(),
        String::new(),
        0.0,
        prior,
        if prior >= 0.0 { "for" } else { "against" },
    )];
    let mut at = prior;
    for f in fields {
        let w = num(f, "weight");
        let field = text(f, "field");
        raw.push((
            t.word("field_", &field),
            t.word("level_", &text(f, "level")),
            compared(t, &field, text(f, "left")),
            compared(t, &field, text(f, "right")),
            at,
            at + w,
            if w >= 0.0 { "for" } else { "against" },
        ));
        at += w;
    }
    let total = explanation
        .get("match_weight")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(at);
    raw.push((
        t.get("wf_total").to_owned(),
        String::new(),
        String::new(),
        String::new(),
        0.0,
        total,
        "total",
    ));
    let lo = raw.iter().flat_map(|r| [r.4, r.5]).fold(0.0_f64, f64::min);
    let hi = raw.iter().flat_map(|r| [r.4, r.5]).fold(0.0_f64, f64::max);
    let span = (hi - lo).max(1.0);
    let room = f64::from(WIDTH - LABEL_W - 2 * NUM_W);
    let rtl = t.lang.is_rtl();
    // Left-to-right coordinates; mirrored below for right to left.
    let pos = |v: f64| f64::from(LABEL_W + NUM_W) + (v - lo) / span * room;
    let mirror = |x: f64| if rtl { f64::from(WIDTH) - x } else { x };
    let steps = raw
        .into_iter()
        .enumerate()
        .map(|(i, (label, level, left, right, from, to, class))| {
            let y = i as u32 * ROW + 4;
            let (a, b) = (mirror(pos(from)), mirror(pos(to)));
            let (x0, x1) = (a.min(b), a.max(b));
            // At least one pixel, so a weight of nearly nothing still shows where it is.
            let w = (x1 - x0).round().max(1.0) as u32;
            let x = x0.round() as u32;
            // The number sits beyond the end of the bar the weight points to.
            let ahead = (to >= from) != rtl;
            let (num_x, num_anchor) = if ahead {
                (x + w + 4, "start")
            } else {
                (x.saturating_sub(4), "end")
            };
            Step {
                label,
                level,
                left,
                right,
                weight: format!("{:+.2}", to - from),
                class,
                x,
                w,
                y,
                text_y: y + 15,
                label_x: if rtl { WIDTH - 4 } else { LABEL_W - 8 },
                num_x,
                num_anchor,
            }
        })
        .collect::<Vec<_>>();
    Waterfall {
        width: WIDTH,
        height: steps.len() as u32 * ROW + 8,
        zero_x: mirror(pos(0.0)).round() as u32,
        steps,
    }
}

/// One record of the pair, for its column.
#[derive(Debug)]
pub(crate) struct Side {
    pub id: String,
    pub names: Vec<ShownName>,
    pub facts: Vec<(&'static str, String)>,
}

fn side(t: &'static Tr, r: &ChildRecord) -> Side {
    let c = &r.content;
    let date = |d: &Option<homeward_domain::PartialDate>| d.as_ref().map(ToString::to_string);
    let facts = [
        (
            "sex",
            Some(t.get(&format!("sex_{}", c.sex.as_str())).to_owned()),
        ),
        ("born", date(&c.birth_date)),
        ("birth_place", c.birth_place.clone()),
        ("separation_date", date(&c.separation_date)),
        ("last_known_location", c.last_known_location.clone()),
        ("current_location", c.current_location.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (t.get(k), v)))
    .collect();
    Side {
        id: r.id.to_string(),
        names: all_names(r),
        facts,
    }
}

/// The review page, read in one page view: one audit entry for the pair, its two records and
/// its neighbours in the queue.
pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<MatchId>,
) -> PageResult {
    s.app
        .view(&cx.caller, Viewed::Match(id), async |c| {
            draw(&s, &cx, c, id).await
        })
        .await
        .map_err(|e| cx.fail(e))?
}

async fn draw(s: &AppState, cx: &PageCtx, caller: &Caller, id: MatchId) -> PageResult {
    let d = s
        .app
        .get_candidate(caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    // The neighbours in the queue, for going through it one pair after another; once a pair is
    // decided it has left the queue, and the queue's first pair is the next one to look at.
    let (prev, next) = if d.candidate.status == "pending" {
        s.app
            .queue_neighbours(caller, &d.candidate)
            .await
            .map_err(|e| cx.fail(e))?
    } else {
        let first = s
            .app
            .review_queue(
                caller,
                &QueueQuery {
                    limit: Some(1),
                    ..QueueQuery::default()
                },
            )
            .await
            .map_err(|e| cx.fail(e))?;
        (None, first.items.first().map(|c| c.id))
    };
    let c = &d.candidate;
    let named = [&d.tracing_request, &d.custody_record]
        .into_iter()
        .filter_map(|r| r.content.names.first().map(super::names::shown))
        .collect();
    let tpl = CandidatePage {
        f: cx.frame(),
        id: c.id.to_string(),
        named,
        status: c.status.clone(),
        status_label: cx.t.get(&format!("match_{}", c.status)).to_owned(),
        pending: c.status == "pending",
        awaiting_second: c.status == "pending" && c.decided_by.is_some(),
        reason: c.reason.clone().unwrap_or_default(),
        case: c.case_id.map(|x| x.to_string()),
        percent: percent(c.probability),
        weight: format!("{:+.2}", c.match_weight),
        model: c.model_version.clone(),
        sides: vec![
            (
                cx.t.get("kind_tracing_request"),
                side(cx.t, &d.tracing_request),
            ),
            (
                cx.t.get("kind_custody_record"),
                side(cx.t, &d.custody_record),
            ),
        ],
        wf: waterfall(cx.t, &c.explanation),
        possibly_renamed: c.possibly_renamed,
        prev: prev.map(|x| x.to_string()),
        next: next.map(|x| x.to_string()),
    };
    html(cx.t, &tpl)
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionFields {
    #[serde(default)]
    reason: String,
}

fn back(id: MatchId) -> axum::response::Response {
    Redirect::to(&format!("/matches/{id}")).into_response()
}

pub(crate) async fn confirm(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<MatchId>,
    PostForm { cx, form }: PostForm<DecisionFields>,
) -> PageResult {
    let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
    s.app
        .confirm_candidate(&cx.caller, id, reason)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(back(id))
}

pub(crate) async fn reject(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<MatchId>,
    PostForm { cx, form }: PostForm<DecisionFields>,
) -> PageResult {
    s.app
        .reject_candidate(&cx.caller, id, &form.reason)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(back(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use homeward_domain::Language;

    fn explanation() -> serde_json::Value {
        serde_json::json!({
            "prior": -10.0,
            "fields": [
                { "field": "given_name", "level": "equivalent", "left": "Олександр", "right": "Александр", "weight": 8.0 },
                { "field": "sex", "level": "disagree", "left": "m", "right": "f", "weight": -4.0 },
                { "field": "Some column", "level": "exact", "left": null, "right": null, "weight": 6.0 },
            ],
            "match_weight": 0.0,
            "probability": 0.5,
        })
    }

    #[test]
    fn each_bar_starts_where_the_one_before_ended() {
        let wf = waterfall(super::super::i18n::tr(Language::En), &explanation());
        let s = &wf.steps;
        assert_eq!(s.len(), 5, "prior, three fields, total");
        assert_eq!(s[0].label, "Prior (before any field)");
        assert_eq!(s[1].label, "Given name");
        assert_eq!(s[1].level, "Equivalent spelling");
        assert_eq!(
            s[3].label, "Some column",
            "an untranslated column keeps its name"
        );
        // Prior −10 ends at the left edge (the lowest running sum); given name starts there.
        assert_eq!(s[0].x, LABEL_W + NUM_W);
        assert_eq!(s[1].x, s[0].x);
        // Sex takes 4 of the 8 the given name added: it ends where the given name's midpoint is.
        assert_eq!(s[2].x + s[2].w, s[1].x + s[1].w);
        assert_eq!(s[2].w * 2, s[1].w);
        assert_eq!(
            (s[1].class, s[2].class, s[4].class),
            ("for", "against", "total")
        );
        assert_eq!(s[2].weight, "-4.00");
        // The total (0) is drawn from the zero line, which is the prior's end plus 10.
        assert_eq!(s[4].x, wf.zero_x);
    }

    #[test]
    fn right_to_left_mirrors_the_bars() {
        let en = waterfall(super::super::i18n::tr(Language::En), &explanation());
        let ar = waterfall(super::super::i18n::tr(Language::Ar), &explanation());
        for (a, b) in en.steps.iter().zip(&ar.steps) {
            assert_eq!(a.w, b.w);
            assert!(
                (i64::from(b.x + b.w) - i64::from(WIDTH - a.x)).abs() <= 1,
                "{a:?} {b:?}"
            );
        }
        assert!(ar.steps[0].label_x > ar.steps[0].x);
    }

    #[test]
    fn the_sexes_compared_are_words_of_the_page_language() {
        let mut e = explanation();
        e["fields"][1]["left"] = "male".into();
        e["fields"][1]["right"] = "female".into();
        let uk = waterfall(super::super::i18n::tr(Language::Uk), &e);
        let sex = &uk.steps[2];
        let tr = super::super::i18n::tr(Language::Uk);
        assert_eq!(
            (sex.left.as_str(), sex.right.as_str()),
            (tr.get("sex_male"), tr.get("sex_female"))
        );
        assert_ne!(sex.left, "male");
        // Other fields keep what the records say.
        assert_eq!(uk.steps[1].left, "Олександр");
    }
}
