//! Transfer lists and plans as pages: the rounds, one list with its entries in both directions,
//! each party's approval, the versions and the diff between two of them, and the plan of the
//! children travelling together.
//!
//! Every read and change is the JSON API's use-case, so a party sees a list exactly as the API
//! shows it to that party: its own record ids and the directions, nothing of the other side's.

use super::context::{Frame, PageCtx, PostForm};
use super::error::{PageResult, html};
use super::i18n::Tr;
use super::names::{ShownName, all_names};
use super::refusal::{Fields, Refusal, RefusalItem, refusal};
use super::show::{code_of, when};
use crate::AppState;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use homeward_app::cases::CaseQuery;
use homeward_app::transfers::{
    ApproveInput, CostsInput, DiffEntries, DocumentsInput, EntryInput, EntryWithdrawInput,
    EscortsInput, LegInput, LegUpdateInput, ListCreateInput, ListPeople, ListQuery, ListStep,
    ListVersionView, ListView, PlanCreateInput, TransferPlanDetail, VersionInput,
};
use homeward_app::{AppError, AppResult};
use homeward_domain::{
    CaseId, CaseNumber, CaseState, Cost, Direction, DocumentKind, Escort, EscortKind, LegId,
    LegUpdate, ListState, PartyKind, Permission, PlanGap, RecordId, TransferListEntry,
    TransferListId, TransferPlanId, TravelDocument, TravelMode, UserId,
};
use serde::Deserialize;

/// The first characters of a hash, enough to tell two apart on screen (the full one is beside).
fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

fn direction_label(t: &Tr, d: Direction) -> String {
    t.get(&format!("tr_dir_{}", d.as_str())).to_owned()
}

fn list_state_label(t: &Tr, s: ListState) -> String {
    t.get(&format!("tr_ls_{}", s.as_str())).to_owned()
}

pub(crate) const DIRECTIONS: [Direction; 2] = [Direction::ToOrigin, Direction::ToCustody];

/// A page drawn again after a refusal answers with the refusal's status, so a client (and a
/// test) can tell it from a success.
pub(crate) fn answer(
    t: &'static Tr,
    page: &impl Template,
    refused: Option<&Refusal>,
) -> PageResult {
    let res = html(t, page)?;
    Ok(match refused {
        Some(r) => (r.status, res).into_response(),
        None => res,
    })
}

pub(crate) fn to(path: String) -> Response {
    Redirect::to(&path).into_response()
}

// ---- the rounds ---------------------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct RoundRow {
    pub id: String,
    pub round: String,
    pub state: String,
    pub state_label: String,
    pub entries: usize,
    pub hash: String,
    /// The mediator's view: how many of the two sides approved the current content.
    pub approvals: Option<usize>,
}

#[derive(Template)]
#[template(path = "transfer_lists.html")]
pub(crate) struct RoundsPage<'a> {
    pub f: Frame<'a>,
    pub rows: Vec<RoundRow>,
    pub may_create: bool,
    /// Code and label of each origin party, and of each custody party.
    pub origins: Vec<(String, String)>,
    pub custodies: Vec<(String, String)>,
    pub refusal: Option<Refusal>,
    pub kept: Fields,
}

async fn rounds_page(
    s: &AppState,
    cx: &PageCtx,
    refused: Option<Refusal>,
    kept: Fields,
) -> PageResult {
    let t = cx.t;
    let lists = s
        .app
        .list_transfer_lists(&cx.caller, &ListQuery::default())
        .await
        .map_err(|e| cx.fail(e))?;
    let rows = lists
        .iter()
        .map(|l| match l {
            ListView::Mediator(d) => RoundRow {
                id: d.list.id.to_string(),
                round: d.list.round.clone(),
                state: d.list.state.as_str().to_owned(),
                state_label: list_state_label(t, d.list.state),
                entries: d.list.active_entries().count(),
                hash: short(&d.hash),
                approvals: Some(
                    [
                        homeward_domain::Side::Origin,
                        homeward_domain::Side::Custody,
                    ]
                    .iter()
                    .filter(|side| d.list.approval(**side).is_some())
                    .count(),
                ),
            },
            ListView::Party(p) => RoundRow {
                id: p.id.to_string(),
                round: p.round.clone(),
                state: p.state.as_str().to_owned(),
                state_label: list_state_label(t, p.state),
                entries: p.entries.len(),
                hash: short(&p.hash),
                approvals: None,
            },
        })
        .collect();
    let may_create = cx.caller.may(Permission::TransferListManage);
    let (mut origins, mut custodies) = (Vec::new(), Vec::new());
    if may_create {
        for p in s
            .app
            .list_parties(&cx.caller)
            .await
            .map_err(|e| cx.fail(e))?
        {
            let row = (p.id.to_string(), p.name.as_str().to_owned());
            match p.kind {
                PartyKind::Origin => origins.push(row),
                PartyKind::Custody => custodies.push(row),
                _ => {}
            }
        }
    }
    let page = RoundsPage {
        f: cx.frame(),
        rows,
        may_create,
        origins,
        custodies,
        refusal: refused,
        kept,
    };
    answer(t, &page, page.refusal.as_ref())
}

pub(crate) async fn rounds(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    rounds_page(&s, &cx, None, Fields::default()).await
}

pub(crate) async fn create(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = ListCreateInput {
            round: form.text("round"),
            origin_party: form.parse("origin_party")?,
            custody_party: form.parse("custody_party")?,
        };
        s.app.create_transfer_list(&cx.caller, &input).await
    }
    .await;
    match done {
        Ok(list) => Ok(to(format!("/transfer-lists/{}", list.list.id))),
        Err(e) => {
            let r = refusal(cx.t, "create-list", e).map_err(|e| cx.fail(e))?;
            rounds_page(&s, &cx, Some(r), form).await
        }
    }
}

// ---- one list ---------------------------------------------------------------------------------

/// A child's record on a list: its id for the link, and the child as the record names it.
#[derive(Debug)]
pub(crate) struct RecordCell {
    pub id: String,
    /// Empty when the reader may not read the record.
    pub names: Vec<ShownName>,
    pub born: String,
}

impl RecordCell {
    fn of(id: RecordId, people: &ListPeople) -> Self {
        let record = people.children.get(&id);
        Self {
            id: id.to_string(),
            names: record.map(all_names).unwrap_or_default(),
            born: record
                .and_then(|r| r.content.birth_date.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default(),
        }
    }
}

/// A user's display name, or a word saying the user is gone.
fn user_name(t: &Tr, people: &ListPeople, u: &UserId) -> String {
    people
        .users
        .get(u)
        .cloned()
        .unwrap_or_else(|| t.get("tr_user_gone").to_owned())
}

/// How the mediator names a case of the list: its number and the names on both its records,
/// each spelling once.
pub(crate) fn case_label(people: &ListPeople, case: CaseId, records: &[RecordId]) -> CaseLabel {
    let mut names: Vec<ShownName> = Vec::new();
    for id in records {
        for n in people.children.get(id).map(all_names).unwrap_or_default() {
            if !names.iter().any(|m| m.written == n.written) {
                names.push(n);
            }
        }
    }
    CaseLabel {
        number: people
            .numbers
            .get(&case)
            .map(ToString::to_string)
            .unwrap_or_default(),
        names,
    }
}

/// A case as a person knows it: the case number and the child's names.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaseLabel {
    pub number: String,
    pub names: Vec<ShownName>,
}

impl CaseLabel {
    /// The case as one line of text: its number and the child's names as written.
    fn text(&self) -> String {
        let names = self.names.iter().map(|n| n.written.as_str());
        std::iter::once(self.number.as_str())
            .chain(names)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// One thing the plan lacks, in the reader's language; `child` names the case it concerns (the
/// case number and the child's names), left out when empty.
fn plan_gap_text(t: &Tr, gap: &PlanGap, child: &str) -> String {
    let about = |s: String| {
        if child.is_empty() {
            s
        } else {
            format!("{s} ({child})")
        }
    };
    match gap {
        PlanGap::NoRoute => t.get("tr_plan_no_route").to_owned(),
        PlanGap::NoEscort => t.get("tr_plan_no_escort").to_owned(),
        // The sentence ends with the case ("… listed for case"), so the case follows it.
        PlanGap::NoTravelDocument { .. } => format!("{} {child}", t.get("tr_plan_no_document"))
            .trim_end()
            .to_owned(),
        PlanGap::DocumentNotReady { kind, .. } => about(format!(
            "{}: {}",
            t.get("tr_plan_document_not_ready"),
            t.get_or(&format!("tr_doc_{}", kind.as_str()), kind.as_str())
        )),
        PlanGap::Invalid { fields } => fields
            .iter()
            .map(|f| t.get_or(&format!("tr_fe_{}", f.code), &f.message))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// What the plan lacks for approval, translated by code, each naming its child by `child` of
/// the case. The English sentence stays beside a gap only where it names no case (it would
/// name the case by its id).
fn plan_gaps(t: &Tr, gaps: &[PlanGap], child: impl Fn(CaseId) -> String) -> Vec<RefusalItem> {
    gaps.iter()
        .map(|g| {
            let text = plan_gap_text(t, g, &g.case().map(&child).unwrap_or_default());
            RefusalItem {
                code: g.code().to_owned(),
                field: String::new(),
                detail: if g.case().is_some() {
                    text.clone()
                } else {
                    g.to_string()
                },
                text,
            }
        })
        .collect()
}

#[derive(Debug)]
pub(crate) struct EntryRow {
    /// The mediator's view: the case (for links and forms), its number and names, and both
    /// records.
    pub case_id: Option<String>,
    pub case: CaseLabel,
    pub tracing: Option<RecordCell>,
    pub custody: Option<RecordCell>,
    /// A party's view: its own record.
    pub record: Option<RecordCell>,
    pub direction: String,
    pub direction_label: String,
    /// The other direction, for the form that turns it.
    pub other_direction: String,
    pub other_label: String,
    pub added_at: String,
    /// When, by whom and why it was withdrawn.
    pub withdrawn: Option<String>,
}

#[derive(Debug)]
pub(crate) struct DirectionGroup {
    pub code: &'static str,
    pub label: String,
    pub rows: Vec<EntryRow>,
}

#[derive(Debug)]
pub(crate) struct ApprovalRow {
    pub side: String,
    pub hash: String,
    pub by: String,
    pub at: String,
    /// When voided, when and why.
    pub voided: Option<String>,
}

#[derive(Debug)]
pub(crate) struct VersionRow {
    pub version: i64,
    pub change: String,
    pub by: String,
    pub at: String,
    pub state: String,
    pub hash: String,
    pub current: bool,
}

/// One line of the diff: what happened to which child, told in words and by a mark, so it reads
/// without colour.
#[derive(Debug)]
pub(crate) struct DiffRow {
    /// `added`, `removed`, `withdrawn` or `direction_changed` (a class name).
    pub kind: &'static str,
    pub mark: &'static str,
    pub label: String,
    /// The case (the mediator's view: number and names) or the party's own record (names).
    pub subject: CaseLabel,
    /// `/cases/..` or `/records/..`.
    pub href: String,
    pub detail: String,
}

#[derive(Debug)]
pub(crate) struct DiffView {
    pub from: i64,
    pub to: i64,
    pub from_hash: String,
    pub to_hash: String,
    pub rows: Vec<DiffRow>,
}

#[derive(Debug)]
pub(crate) struct PlanRow {
    pub id: String,
    /// The plan's place among the list's plans, from 1: how the page names it.
    pub n: usize,
    pub children: usize,
    pub legs: usize,
    pub approved: bool,
}

#[derive(Template)]
#[template(path = "transfer_list.html")]
pub(crate) struct ListPage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    pub round: String,
    pub state: String,
    pub state_label: String,
    pub hash: String,
    pub version: i64,
    pub mediator: bool,
    pub origin: String,
    pub custody: String,
    pub groups: Vec<DirectionGroup>,
    pub withdrawn: Vec<EntryRow>,
    pub approvals: Vec<ApprovalRow>,
    pub approved_by_both: bool,
    pub versions: Vec<VersionRow>,
    pub diff: Option<DiffView>,
    /// Versions after the first, each a link to what it changed.
    pub version_steps: Vec<i64>,
    pub plans: Vec<PlanRow>,
    /// The active entries, for the plan form: case id, the case as named, the direction's label.
    pub plan_cases: Vec<(String, CaseLabel, String)>,
    pub may_manage: bool,
    pub may_approve: bool,
    /// For a party: its own approval of the content as it is now (when, and the hash), or
    /// `None` while it has not approved it.
    pub own_approval: Option<(String, String)>,
    pub may_plan: bool,
    pub negotiable: bool,
    pub draft: bool,
    pub completed: bool,
    /// The steps the list may take now: code and label.
    pub steps: Vec<(&'static str, String)>,
    /// Cases at consent_obtained, offered when adding an entry: the number, and the child's
    /// names as one line of text.
    pub listable: Vec<(String, String)>,
    pub directions: Vec<(&'static str, String)>,
    pub refusal: Option<Refusal>,
    pub kept: Fields,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DiffParams {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

impl DiffParams {
    fn pick(v: &Option<String>) -> Option<i64> {
        v.as_deref().and_then(|s| s.trim().parse().ok())
    }
}

fn entry_row(t: &Tr, e: &TransferListEntry, people: &ListPeople) -> EntryRow {
    let other = match e.direction {
        Direction::ToOrigin => Direction::ToCustody,
        Direction::ToCustody => Direction::ToOrigin,
    };
    EntryRow {
        case_id: Some(e.case_id.to_string()),
        case: case_label(people, e.case_id, &[e.tracing_request, e.custody_record]),
        tracing: Some(RecordCell::of(e.tracing_request, people)),
        custody: Some(RecordCell::of(e.custody_record, people)),
        record: None,
        direction: e.direction.as_str().to_owned(),
        direction_label: direction_label(t, e.direction),
        other_direction: other.as_str().to_owned(),
        other_label: direction_label(t, other),
        added_at: when(&e.added_at),
        withdrawn: e
            .withdrawal
            .as_ref()
            .map(|w| format!("{} · {}", when(&w.at), w.reason)),
    }
}

fn diff_rows(t: &Tr, changes: &DiffEntries, people: &ListPeople) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    let numbered = |case: CaseId, tracing, custody| case_label(people, case, &[tracing, custody]);
    let own = |id: RecordId| CaseLabel {
        number: String::new(),
        names: RecordCell::of(id, people).names,
    };
    let mut push = |kind: &'static str, mark, subject: CaseLabel, href: String, detail: String| {
        rows.push(DiffRow {
            kind,
            mark,
            label: t.get(&format!("tr_diff_{kind}")).to_owned(),
            subject,
            href,
            detail,
        });
    };
    match changes {
        DiffEntries::Mediator(d) => {
            for (kind, mark, es) in [
                ("added", "+", &d.added),
                ("removed", "−", &d.removed),
                ("withdrawn", "⊘", &d.withdrawn),
            ] {
                for e in es {
                    let mut detail = direction_label(t, e.direction);
                    if let Some(w) = &e.withdrawal {
                        detail = format!("{detail} · {}", w.reason);
                    }
                    push(
                        kind,
                        mark,
                        numbered(e.case_id, e.tracing_request, e.custody_record),
                        format!("/cases/{}", e.case_id),
                        detail,
                    );
                }
            }
            for c in &d.direction_changed {
                push(
                    "direction_changed",
                    "⇄",
                    numbered(c.case_id, c.tracing_request, c.custody_record),
                    format!("/cases/{}", c.case_id),
                    format!(
                        "{} {} {}",
                        direction_label(t, c.from),
                        t.arrow(),
                        direction_label(t, c.to)
                    ),
                );
            }
        }
        DiffEntries::Party(d) => {
            for (kind, mark, es) in [
                ("added", "+", &d.added),
                ("removed", "−", &d.removed),
                ("withdrawn", "⊘", &d.withdrawn),
            ] {
                for e in es {
                    push(
                        kind,
                        mark,
                        own(e.record_id),
                        format!("/records/{}", e.record_id),
                        direction_label(t, e.direction),
                    );
                }
            }
            for c in &d.direction_changed {
                push(
                    "direction_changed",
                    "⇄",
                    own(c.record_id),
                    format!("/records/{}", c.record_id),
                    format!(
                        "{} {} {}",
                        direction_label(t, c.from),
                        t.arrow(),
                        direction_label(t, c.to)
                    ),
                );
            }
        }
    }
    rows
}

/// The cases offered for a list, each by its number and the names on its records as one line
/// (a datalist option holds text only).
async fn listable(
    s: &AppState,
    cx: &PageCtx,
    cases: &[homeward_app::matching::CaseView],
) -> Result<Vec<(String, String)>, super::error::PageError> {
    let ids: Vec<RecordId> = cases
        .iter()
        .flat_map(|v| [v.case.tracing_request, v.case.custody_record])
        .flatten()
        .collect();
    let named = s
        .app
        .children_named(&cx.caller, &ids)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(cases
        .iter()
        .map(|v| {
            let records: Vec<RecordId> = [v.case.tracing_request, v.case.custody_record]
                .into_iter()
                .flatten()
                .collect();
            let people = ListPeople {
                children: records
                    .iter()
                    .filter_map(|r| named.get(r).map(|c| (*r, c.clone())))
                    .collect(),
                ..ListPeople::default()
            };
            let names = case_label(&people, v.case.id, &records)
                .names
                .iter()
                .map(|n| match n.latin.as_str() {
                    "" => n.written.clone(),
                    latin => format!("{} ({latin})", n.written),
                })
                .collect::<Vec<_>>()
                .join(" · ");
            (v.number.to_string(), names)
        })
        .collect())
}

/// The users a mediator's list page names: approvers (in force and voided) and version authors.
fn people_of(view: &ListView, versions: &[ListVersionView]) -> Vec<UserId> {
    let ListView::Mediator(d) = view else {
        return Vec::new();
    };
    let l = &d.list;
    let mut ids: Vec<UserId> = l.approvals.iter().map(|a| a.by).collect();
    ids.extend(l.voided_approvals.iter().map(|v| v.approval.by));
    ids.extend(versions.iter().map(|v| v.changed_by));
    ids.sort();
    ids.dedup();
    ids
}

fn steps_for(t: &Tr, state: ListState) -> Vec<(&'static str, String)> {
    let step = |code: &'static str| (code, t.get(&format!("tr_step_{code}")).to_owned());
    match state {
        ListState::Draft => vec![step("propose")],
        ListState::Proposed | ListState::Approved => vec![step("fix")],
        ListState::Fixed => vec![step("start")],
        ListState::InProgress => vec![step("complete")],
        ListState::Completed => Vec::new(),
    }
}

async fn list_page(
    s: &AppState,
    cx: &PageCtx,
    id: TransferListId,
    q: DiffParams,
    refused: Option<Refusal>,
    kept: Fields,
) -> PageResult {
    let t = cx.t;
    let c = &cx.caller;
    let view = s
        .app
        .get_transfer_list(c, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let (version, state) = match &view {
        ListView::Mediator(d) => (d.version, d.list.state),
        ListView::Party(p) => (p.version, p.state),
    };
    // By default the last change: what the newest version did to the one before.
    let to_v = DiffParams::pick(&q.to)
        .unwrap_or(version)
        .clamp(1, version.max(1));
    let from_v = DiffParams::pick(&q.from)
        .unwrap_or(to_v - 1)
        .clamp(1, version.max(1));
    let diff = if from_v != to_v {
        Some(
            s.app
                .transfer_list_diff(c, id, from_v, to_v)
                .await
                .map_err(|e| cx.fail(e))?,
        )
    } else {
        None
    };
    let versions = match &view {
        ListView::Mediator(_) => s
            .app
            .transfer_list_versions(c, id)
            .await
            .map_err(|e| cx.fail(e))?,
        ListView::Party(_) => Vec::new(),
    };
    let people = s
        .app
        .transfer_list_people(c, &view, diff.as_ref(), &people_of(&view, &versions))
        .await
        .map_err(|e| cx.fail(e))?;
    let diff = diff.map(|d| DiffView {
        from: d.from,
        to: d.to,
        rows: diff_rows(t, &d.changes, &people),
        from_hash: d.from_hash,
        to_hash: d.to_hash,
    });
    let user = |u: &UserId| user_name(t, &people, u);
    let parties = s.app.list_parties(c).await.map_err(|e| cx.fail(e))?;
    let name_of = |p: homeward_domain::PartyId| {
        parties
            .iter()
            .find(|x| x.id == p)
            .map(|x| x.name.as_str().to_owned())
            .unwrap_or_else(|| p.to_string())
    };
    let side_label =
        |side: homeward_domain::Side| t.get(&format!("tr_side_{}", side.as_str())).to_owned();
    let mut page = ListPage {
        f: cx.frame(),
        id: id.to_string(),
        round: String::new(),
        state: state.as_str().to_owned(),
        state_label: list_state_label(t, state),
        hash: String::new(),
        version,
        mediator: false,
        origin: String::new(),
        custody: String::new(),
        groups: Vec::new(),
        withdrawn: Vec::new(),
        approvals: Vec::new(),
        approved_by_both: state == ListState::Approved,
        versions: Vec::new(),
        diff,
        version_steps: (2..=version).rev().collect(),
        plans: Vec::new(),
        plan_cases: Vec::new(),
        may_manage: c.may(Permission::TransferListManage),
        may_approve: c.may(Permission::TransferListApprove)
            && matches!(state, ListState::Proposed | ListState::Approved),
        own_approval: None,
        may_plan: c.may(Permission::TransferPlanManage)
            && matches!(state, ListState::Fixed | ListState::InProgress),
        negotiable: state.is_negotiable(),
        draft: state == ListState::Draft,
        completed: state == ListState::Completed,
        steps: Vec::new(),
        listable: Vec::new(),
        directions: DIRECTIONS
            .iter()
            .map(|d| (d.as_str(), direction_label(t, *d)))
            .collect(),
        refusal: refused,
        kept,
    };
    match view {
        ListView::Mediator(d) => {
            let l = &d.list;
            page.mediator = true;
            page.round = l.round.clone();
            page.hash = d.hash.clone();
            page.approved_by_both = d.approved_by_both;
            page.origin = name_of(l.origin_party);
            page.custody = name_of(l.custody_party);
            page.groups = DIRECTIONS
                .iter()
                .map(|dir| DirectionGroup {
                    code: dir.as_str(),
                    label: direction_label(t, *dir),
                    rows: l
                        .active_entries()
                        .filter(|e| e.direction == *dir)
                        .map(|e| entry_row(t, e, &people))
                        .collect(),
                })
                .collect();
            page.withdrawn = l
                .entries
                .iter()
                .filter(|e| !e.is_active())
                .map(|e| entry_row(t, e, &people))
                .collect();
            page.plan_cases = l
                .active_entries()
                .map(|e| {
                    (
                        e.case_id.to_string(),
                        case_label(&people, e.case_id, &[e.tracing_request, e.custody_record]),
                        direction_label(t, e.direction),
                    )
                })
                .collect();
            page.approvals = l
                .approvals
                .iter()
                .map(|a| ApprovalRow {
                    side: side_label(a.side),
                    hash: a.hash.clone(),
                    by: user(&a.by),
                    at: when(&a.at),
                    voided: None,
                })
                .chain(l.voided_approvals.iter().rev().map(|v| ApprovalRow {
                    side: side_label(v.approval.side),
                    hash: v.approval.hash.clone(),
                    by: user(&v.approval.by),
                    at: when(&v.approval.at),
                    voided: Some(format!("{} · {}", when(&v.voided_at), v.reason)),
                }))
                .collect();
            page.versions = versions
                .into_iter()
                .rev()
                .map(|v| VersionRow {
                    version: v.version,
                    change: t.get_or(&format!("tr_change_{}", v.change), &v.change),
                    by: user(&v.changed_by),
                    at: when(&v.changed_at),
                    state: list_state_label(t, v.state),
                    current: v.version == version,
                    hash: v.hash,
                })
                .collect();
            page.plans = s
                .app
                .transfer_plans_of_list(c, id)
                .await
                .map_err(|e| cx.fail(e))?
                .into_iter()
                .enumerate()
                .map(|(i, p)| PlanRow {
                    n: i + 1,
                    id: p.plan.id.to_string(),
                    children: p.plan.cases.len(),
                    legs: p.plan.legs.len(),
                    approved: p.plan.approval.is_some(),
                })
                .collect();
            if page.may_manage {
                page.steps = steps_for(t, state);
                if state.is_negotiable() {
                    let q = CaseQuery {
                        state: Some(CaseState::ConsentObtained),
                        limit: Some(200),
                        workflow_only: true,
                        ..CaseQuery::default()
                    };
                    let cases: Vec<_> = s
                        .app
                        .list_cases(c, &q)
                        .await
                        .map_err(|e| cx.fail(e))?
                        .items
                        .into_iter()
                        .filter(|v| l.entry(v.case.id).is_none_or(|e| !e.is_active()))
                        .collect();
                    page.listable = listable(s, cx, &cases).await?;
                }
            }
        }
        ListView::Party(p) => {
            page.round = p.round.clone();
            page.hash = p.hash.clone();
            page.own_approval = p.approved.as_ref().map(|a| (when(&a.at), a.hash.clone()));
            // Approving again would be refused with `already_approved`: the form is not offered.
            page.may_approve &= p.approved.is_none();
            page.groups = DIRECTIONS
                .iter()
                .map(|dir| DirectionGroup {
                    code: dir.as_str(),
                    label: direction_label(t, *dir),
                    rows: p
                        .entries
                        .iter()
                        .filter(|e| e.direction == *dir)
                        .map(|e| EntryRow {
                            case_id: None,
                            case: CaseLabel::default(),
                            tracing: None,
                            custody: None,
                            record: Some(RecordCell::of(e.record_id, &people)),
                            direction: e.direction.as_str().to_owned(),
                            direction_label: direction_label(t, e.direction),
                            other_direction: String::new(),
                            other_label: String::new(),
                            added_at: String::new(),
                            withdrawn: None,
                        })
                        .collect(),
                })
                .collect();
        }
    }
    answer(t, &page, page.refusal.as_ref())
}

pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<TransferListId>,
    Query(q): Query<DiffParams>,
) -> PageResult {
    list_page(&s, &cx, id, q, None, Fields::default()).await
}

/// After a change: the list again, or the list with the refusal and the form as it was sent.
async fn after_list_change<T>(
    s: &AppState,
    cx: PageCtx,
    id: TransferListId,
    form_id: &'static str,
    form: Fields,
    done: AppResult<T>,
) -> PageResult {
    match done {
        Ok(_) => Ok(to(format!("/transfer-lists/{id}"))),
        Err(e) => {
            let r = refusal(cx.t, form_id, e).map_err(|e| cx.fail(e))?;
            list_page(s, &cx, id, DiffParams::default(), Some(r), form).await
        }
    }
}

/// The case a person typed: its number as people know it (`HW-2026-00042`, any case or
/// spacing), or its id.
async fn typed_case(s: &AppState, cx: &PageCtx, form: &Fields) -> AppResult<CaseId> {
    let Some(number) = CaseNumber::lenient(&form.text("case_id")) else {
        return form.parse("case_id");
    };
    let q = CaseQuery {
        number: Some(number),
        limit: Some(1),
        workflow_only: true,
        ..CaseQuery::default()
    };
    s.app
        .list_cases(&cx.caller, &q)
        .await?
        .items
        .first()
        .map(|v| v.case.id)
        .ok_or_else(|| AppError::invalid("case_id", "unknown_case", "no case has this number"))
}

pub(crate) async fn add_entry(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferListId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = EntryInput {
            case_id: typed_case(&s, &cx, &form).await?,
            direction: form.parse("direction")?,
            expected_version: form.int("expected_version")?,
        };
        s.app.add_list_entry(&cx.caller, id, &input).await
    }
    .await;
    after_list_change(&s, cx, id, "add-entry", form, done).await
}

pub(crate) async fn remove_entry(
    State(s): State<AppState>,
    ApiPath((id, case)): ApiPath<(TransferListId, CaseId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = VersionInput {
            expected_version: form.int("expected_version")?,
        };
        s.app.remove_list_entry(&cx.caller, id, case, &input).await
    }
    .await;
    after_list_change(&s, cx, id, "entries", form, done).await
}

pub(crate) async fn withdraw_entry(
    State(s): State<AppState>,
    ApiPath((id, case)): ApiPath<(TransferListId, CaseId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = EntryWithdrawInput {
            reason: form.text("reason"),
            expected_version: form.int("expected_version")?,
        };
        s.app
            .withdraw_list_entry(&cx.caller, id, case, &input)
            .await
    }
    .await;
    after_list_change(&s, cx, id, "entries", form, done).await
}

pub(crate) async fn step(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferListId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let step = match form.text("step").as_str() {
            "propose" => ListStep::Propose,
            "fix" => ListStep::Fix,
            "start" => ListStep::Start,
            "complete" => ListStep::Complete,
            _ => {
                return Err(AppError::invalid(
                    "step",
                    "invalid",
                    "propose, fix, start or complete",
                ));
            }
        };
        let input = VersionInput {
            expected_version: form.int("expected_version")?,
        };
        s.app.step_list(&cx.caller, id, step, &input).await
    }
    .await;
    after_list_change(&s, cx, id, "steps", form, done).await
}

pub(crate) async fn approve(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferListId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let input = ApproveInput {
        hash: form.text("hash"),
    };
    let done = s.app.approve_list(&cx.caller, id, &input).await;
    after_list_change(&s, cx, id, "approve", form, done).await
}

pub(crate) async fn create_plan(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferListId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let mut cases = Vec::new();
        for i in form.rows("case") {
            if let Some(c) = form.opt_parse::<CaseId>(&format!("case{i}"))? {
                cases.push(c);
            }
        }
        let input = PlanCreateInput { list_id: id, cases };
        s.app.create_transfer_plan(&cx.caller, &input).await
    }
    .await;
    match done {
        Ok(p) => Ok(to(format!("/transfer-plans/{}", p.plan.id))),
        Err(e) => {
            let r = refusal(cx.t, "create-plan", e).map_err(|e| cx.fail(e))?;
            list_page(&s, &cx, id, DiffParams::default(), Some(r), form).await
        }
    }
}

// ---- one plan ---------------------------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct LegRow {
    pub id: String,
    pub n: usize,
    pub from: String,
    pub to: String,
    pub mode: String,
    pub mode_label: String,
    pub planned_departure: String,
    pub planned_arrival: String,
    pub actual_departure: String,
    pub actual_arrival: String,
    /// Departed or arrived later than planned.
    pub late: bool,
    pub carrier: String,
    /// Each change: when, why, what (field: before → after), whether it voided the approval.
    pub history: Vec<(String, String, String, bool)>,
}

#[derive(Clone, Debug)]
pub(crate) struct DocRow {
    pub case_id: String,
    /// The case as named (empty for a row typed in and refused).
    pub case: CaseLabel,
    pub kind: String,
    pub kind_label: String,
    pub ready: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "transfer_plan.html")]
pub(crate) struct PlanPage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    pub list_id: String,
    /// The round of the plan's list: how the page names the plan.
    pub round: String,
    pub version: i64,
    /// The children: case id (for links and forms) and the case as named.
    pub cases: Vec<(String, CaseLabel)>,
    pub legs: Vec<LegRow>,
    /// Where the next leg starts: where the last one ends.
    pub next_from: String,
    /// Kind code, kind label, name; then empty rows to add more.
    pub escorts: Vec<(String, String, String)>,
    pub documents: Vec<DocRow>,
    pub costs: Vec<(String, String, String, String)>,
    /// The rows the forms start from: what is stored, or after a refusal of that form, what was
    /// typed (so that nothing typed is lost).
    pub escort_rows: Vec<(String, String, String)>,
    pub document_rows: Vec<DocRow>,
    pub cost_rows: Vec<(String, String, String, String)>,
    pub approved: Option<String>,
    pub voided: Vec<String>,
    pub missing: Vec<RefusalItem>,
    pub may_manage: bool,
    pub may_approve: bool,
    pub modes: Vec<(&'static str, String)>,
    pub escort_kinds: Vec<(String, String)>,
    pub doc_kinds: Vec<(String, String)>,
    /// How many blank rows each repeating form offers.
    pub blank: Vec<usize>,
    pub refusal: Option<Refusal>,
    pub kept: Fields,
}

/// The minor units of an amount as written (`1200.50`), from the currency's two decimals; the
/// form asks for the amount as people write it.
fn amount_text(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

fn parse_amount(form: &Fields, k: &str) -> AppResult<i64> {
    let v = form.text(k).replace([' ', '\u{a0}'], "").replace(',', ".");
    let bad = || AppError::invalid(k, "invalid_amount", "an amount such as 1200 or 1200.50");
    let (whole, frac) = v.split_once('.').unwrap_or((&v, ""));
    if whole.is_empty() || frac.len() > 2 {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
}

async fn plan_page(
    s: &AppState,
    cx: &PageCtx,
    id: TransferPlanId,
    refused: Option<Refusal>,
    kept: Fields,
) -> PageResult {
    let t = cx.t;
    let d: TransferPlanDetail = s
        .app
        .get_transfer_plan(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let p = &d.plan;
    let mut users: Vec<UserId> = p.approval.iter().map(|a| a.by).collect();
    users.extend(p.voided_approvals.iter().map(|v| v.approval.by));
    let (round, people) = s
        .app
        .transfer_plan_people(&cx.caller, p, &users)
        .await
        .map_err(|e| cx.fail(e))?;
    let label = |case: CaseId| {
        let records = people.records_of.get(&case).cloned().unwrap_or_default();
        case_label(&people, case, &records)
    };
    let user = |u: &UserId| user_name(t, &people, u);
    let legs = p
        .legs
        .iter()
        .enumerate()
        .map(|(i, l)| LegRow {
            id: l.id.to_string(),
            n: i + 1,
            from: l.from.clone(),
            to: l.to.clone(),
            mode: l.mode.as_str().to_owned(),
            mode_label: t.get(&format!("tr_mode_{}", l.mode.as_str())).to_owned(),
            planned_departure: when(&l.planned_departure),
            planned_arrival: when(&l.planned_arrival),
            actual_departure: l.actual_departure.as_ref().map(when).unwrap_or_default(),
            actual_arrival: l.actual_arrival.as_ref().map(when).unwrap_or_default(),
            late: l.actual_departure.is_some_and(|a| a > l.planned_departure)
                || l.actual_arrival.is_some_and(|a| a > l.planned_arrival),
            carrier: l.carrier.clone().unwrap_or_default(),
            history: l
                .history
                .iter()
                .map(|h| {
                    let what = h
                        .changes
                        .iter()
                        .map(|c| {
                            format!(
                                "{}: {} {} {}",
                                t.get_or(&format!("tr_leg_{}", c.field), &c.field),
                                c.before.as_deref().unwrap_or("—"),
                                t.arrow(),
                                c.after.as_deref().unwrap_or("—")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ");
                    (when(&h.at), h.reason.clone(), what, h.voided_approval)
                })
                .collect(),
        })
        .collect();
    let kind_label = |prefix: &str, c: &str| t.get_or(&format!("{prefix}{c}"), c);
    let typed = |form: &str| refused.as_ref().is_some_and(|r| r.form == form);
    let escorts: Vec<(String, String, String)> = p
        .escorts
        .iter()
        .map(|e| {
            let c = code_of(&e.kind);
            (c.clone(), kind_label("tr_escort_", &c), e.name.clone())
        })
        .collect();
    let escort_rows = if typed("escorts") {
        kept.rows("escort")
            .into_iter()
            .map(|i| {
                let c = kept.text(&format!("escort{i}_kind"));
                let label = kind_label("tr_escort_", &c);
                (c, label, kept.text(&format!("escort{i}_name")))
            })
            .collect()
    } else {
        escorts.clone()
    };
    let documents: Vec<DocRow> = p
        .documents
        .iter()
        .map(|doc| {
            let c = code_of(&doc.kind);
            DocRow {
                case_id: doc.case_id.to_string(),
                case: label(doc.case_id),
                kind_label: kind_label("tr_doc_", &c),
                kind: c,
                ready: doc.ready,
                note: doc.note.clone().unwrap_or_default(),
            }
        })
        .collect();
    let document_rows = if typed("documents") {
        kept.rows("doc")
            .into_iter()
            .map(|i| {
                let c = kept.text(&format!("doc{i}_kind"));
                DocRow {
                    case_id: kept.text(&format!("doc{i}_case")),
                    case: CaseLabel::default(),
                    kind_label: kind_label("tr_doc_", &c),
                    kind: c,
                    ready: kept.on(&format!("doc{i}_ready")),
                    note: kept.text(&format!("doc{i}_note")),
                }
            })
            .collect()
    } else {
        documents.clone()
    };
    let costs: Vec<(String, String, String, String)> = p
        .costs
        .iter()
        .map(|c| {
            (
                amount_text(c.amount_minor),
                c.currency.clone(),
                c.funded_by.clone(),
                c.purpose.clone().unwrap_or_default(),
            )
        })
        .collect();
    let cost_rows = if typed("costs") {
        kept.rows("cost")
            .into_iter()
            .map(|i| {
                let f = |k: &str| kept.text(&format!("cost{i}_{k}"));
                (f("amount"), f("currency"), f("funded_by"), f("purpose"))
            })
            .collect()
    } else {
        costs.clone()
    };
    let missing = plan_gaps(t, &d.gaps, |c| label(c).text());
    // A refused approval names the same gaps as the page, with the children by name.
    let refused = refused.map(|mut r| {
        if r.code == "plan_not_ready" {
            r.items = missing.clone();
        }
        r
    });
    let page = PlanPage {
        f: cx.frame(),
        id: id.to_string(),
        list_id: p.list_id.to_string(),
        version: d.version,
        cases: p.cases.iter().map(|c| (c.to_string(), label(*c))).collect(),
        round,
        next_from: p.legs.last().map(|l| l.to.clone()).unwrap_or_default(),
        legs,
        escorts,
        documents,
        costs,
        escort_rows,
        document_rows,
        cost_rows,
        approved: p
            .approval
            .as_ref()
            .map(|a| format!("{} · {}", when(&a.at), user(&a.by))),
        voided: p
            .voided_approvals
            .iter()
            .map(|v| format!("{} · {}", when(&v.voided_at), v.reason))
            .collect(),
        missing,
        may_manage: cx.caller.may(Permission::TransferPlanManage),
        may_approve: cx.caller.may(Permission::TransferPlanApprove) && p.approval.is_none(),
        modes: [
            TravelMode::Road,
            TravelMode::Rail,
            TravelMode::Air,
            TravelMode::Foot,
            TravelMode::Other,
        ]
        .iter()
        .map(|m| {
            (
                m.as_str(),
                t.get(&format!("tr_mode_{}", m.as_str())).to_owned(),
            )
        })
        .collect(),
        escort_kinds: [
            EscortKind::Relative,
            EscortKind::Diplomat,
            EscortKind::NgoWorker,
            EscortKind::Other,
        ]
        .iter()
        .map(|k| {
            let c = code_of(k);
            (c.clone(), kind_label("tr_escort_", &c))
        })
        .collect(),
        doc_kinds: [
            DocumentKind::Passport,
            DocumentKind::BirthCertificate,
            DocumentKind::TravelDocument,
            DocumentKind::Other,
        ]
        .iter()
        .map(|k| {
            let c = code_of(k);
            (c.clone(), kind_label("tr_doc_", &c))
        })
        .collect(),
        blank: vec![0, 1],
        refusal: refused,
        kept,
    };
    answer(t, &page, page.refusal.as_ref())
}

pub(crate) async fn show_plan(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<TransferPlanId>,
) -> PageResult {
    plan_page(&s, &cx, id, None, Fields::default()).await
}

async fn after_plan_change<T>(
    s: &AppState,
    cx: PageCtx,
    id: TransferPlanId,
    form_id: &'static str,
    form: Fields,
    done: AppResult<T>,
) -> PageResult {
    match done {
        Ok(_) => Ok(to(format!("/transfer-plans/{id}"))),
        Err(e) => {
            let r = refusal(cx.t, form_id, e).map_err(|e| cx.fail(e))?;
            plan_page(s, &cx, id, Some(r), form).await
        }
    }
}

pub(crate) async fn add_leg(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferPlanId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = LegInput {
            from: form.text("from"),
            to: form.text("to"),
            mode: form.parse("mode")?,
            planned_departure: form.required_time("planned_departure")?,
            planned_arrival: form.required_time("planned_arrival")?,
            carrier: form.opt("carrier"),
            expected_version: form.int("expected_version")?,
        };
        s.app.add_plan_leg(&cx.caller, id, &input).await
    }
    .await;
    after_plan_change(&s, cx, id, "add-leg", form, done).await
}

pub(crate) async fn update_leg(
    State(s): State<AppState>,
    ApiPath((id, leg)): ApiPath<(TransferPlanId, LegId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let changes = LegUpdate {
            from: form.opt("from"),
            to: form.opt("to"),
            mode: form.opt_parse("mode")?,
            planned_departure: form.time("planned_departure")?,
            planned_arrival: form.time("planned_arrival")?,
            actual_departure: form.time("actual_departure")?,
            actual_arrival: form.time("actual_arrival")?,
            carrier: form.opt("carrier"),
        };
        let input = LegUpdateInput {
            changes,
            reason: form.text("reason"),
            expected_version: form.int("expected_version")?,
        };
        s.app.update_plan_leg(&cx.caller, id, leg, &input).await
    }
    .await;
    after_plan_change(&s, cx, id, "legs", form, done).await
}

pub(crate) async fn set_escorts(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferPlanId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let mut escorts = Vec::new();
        for i in form.rows("escort") {
            // A row left blank is no escort; a name without a kind is asked for.
            let Some(name) = form.opt(&format!("escort{i}_name")) else {
                continue;
            };
            escorts.push(Escort {
                kind: form.parse(&format!("escort{i}_kind"))?,
                name,
                party: None,
            });
        }
        let input = EscortsInput {
            escorts,
            expected_version: form.int("expected_version")?,
        };
        s.app.set_plan_escorts(&cx.caller, id, &input).await
    }
    .await;
    after_plan_change(&s, cx, id, "escorts", form, done).await
}

pub(crate) async fn set_documents(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferPlanId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let mut documents = Vec::new();
        for i in form.rows("doc") {
            let Some(case_id) = form.opt_parse::<CaseId>(&format!("doc{i}_case"))? else {
                continue;
            };
            documents.push(TravelDocument {
                case_id,
                kind: form.parse(&format!("doc{i}_kind"))?,
                ready: form.on(&format!("doc{i}_ready")),
                note: form.opt(&format!("doc{i}_note")),
            });
        }
        let input = DocumentsInput {
            documents,
            expected_version: form.int("expected_version")?,
        };
        s.app.set_plan_documents(&cx.caller, id, &input).await
    }
    .await;
    after_plan_change(&s, cx, id, "documents", form, done).await
}

pub(crate) async fn set_costs(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferPlanId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let mut costs = Vec::new();
        for i in form.rows("cost") {
            if form.text(&format!("cost{i}_amount")).is_empty() {
                continue;
            }
            costs.push(Cost {
                amount_minor: parse_amount(&form, &format!("cost{i}_amount"))?,
                currency: form.text(&format!("cost{i}_currency")).to_uppercase(),
                funded_by: form.text(&format!("cost{i}_funded_by")),
                purpose: form.opt(&format!("cost{i}_purpose")),
            });
        }
        let input = CostsInput {
            costs,
            expected_version: form.int("expected_version")?,
        };
        s.app.set_plan_costs(&cx.caller, id, &input).await
    }
    .await;
    after_plan_change(&s, cx, id, "costs", form, done).await
}

pub(crate) async fn approve_plan(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<TransferPlanId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = VersionInput {
            expected_version: form.int("expected_version")?,
        };
        s.app.approve_transfer_plan(&cx.caller, id, &input).await
    }
    .await;
    after_plan_change(&s, cx, id, "approve-plan", form, done).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_written() {
        let f = |v: &str| parse_amount(&Fields(vec![("a".to_owned(), v.to_owned())]), "a");
        assert_eq!(f("1200").ok(), Some(120_000));
        assert_eq!(f("1200.5").ok(), Some(120_050));
        assert_eq!(f("1 200,05").ok(), Some(120_005));
        assert!(f("12.345").is_err());
        assert!(f("abc").is_err());
        assert_eq!(amount_text(120_005), "1200.05");
    }
}
