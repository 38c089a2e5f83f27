//! The custody chain, the reunification and the aftercare of one case, and the overdue visits of
//! the party that does them.
//!
//! The chain's rules are the domain's (a handover that would leave a gap is refused by the app
//! and the refusal is shown here with its conditions). The party responsible for a visit reports
//! it from its own list, which reads exactly what `/api/v1/follow-ups/overdue` gives it: the visit
//! and its own record id, never the case.

use super::context::{Frame, PageCtx, PostForm};
use super::error::PageResult;
use super::refusal::{Fields, Refusal, refusal};
use super::show::{code_of, when};
use super::transfers::{CaseLabel, answer, case_label, to};
use crate::AppState;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::{Query, State};
use homeward_app::AppResult;
use homeward_app::aftercare::{
    FollowUpInput, FollowUpReportInput, HandoverInput, ReunificationInput, ServiceInput,
    WaiverInput,
};
use homeward_app::sight::CaseParts;
use homeward_app::transfers::ListPeople;
use homeward_domain::{
    CaseId, CaseState, Custodian, CustodianKind, FollowUpId, PartyId, PartyKind, Permission,
    Relative, ServiceKind,
};

const CUSTODIAN_KINDS: [CustodianKind; 6] = [
    CustodianKind::CustodyAuthority,
    CustodianKind::Mediator,
    CustodianKind::Humanitarian,
    CustodianKind::Escort,
    CustodianKind::OriginAuthority,
    CustodianKind::Family,
];

const SERVICE_KINDS: [ServiceKind; 6] = [
    ServiceKind::Medical,
    ServiceKind::Psychological,
    ServiceKind::Education,
    ServiceKind::LegalDocuments,
    ServiceKind::Housing,
    ServiceKind::Other,
];

#[derive(Debug)]
pub(crate) struct HandoverRow {
    pub at: String,
    pub place: String,
    pub giver: String,
    pub giver_kind: String,
    pub receiver: String,
    pub receiver_kind: String,
    pub witnesses: String,
}

#[derive(Debug)]
pub(crate) struct FollowUpRow {
    pub id: String,
    pub due: String,
    pub responsible: String,
    /// `done`, `waived`, `overdue` or `scheduled` (a class name), and its label.
    pub status: &'static str,
    pub status_label: String,
    pub note: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "custody.html")]
pub(crate) struct CustodyPage<'a> {
    pub f: Frame<'a>,
    pub id: String,
    /// The case as people know it: its number and the child's names on the records the reader
    /// may read.
    pub label: CaseLabel,
    pub version: i64,
    pub state: String,
    pub state_label: String,
    pub handovers: Vec<HandoverRow>,
    /// The chain's conditions as the domain checks them: met, translated, the domain's sentence.
    pub chain: Vec<(bool, String, String)>,
    /// Who has the child now (the next handover's giver): kind code and name.
    pub holder: (String, String),
    /// The reunification as label–value pairs, once recorded.
    pub reunification: Vec<(String, String)>,
    pub reunified: bool,
    pub services: Vec<Vec<(String, String)>>,
    pub follow_ups: Vec<FollowUpRow>,
    pub may_hand_over: bool,
    pub may_aftercare: bool,
    pub may_reunify: bool,
    pub custodian_kinds: Vec<(String, String)>,
    pub service_kinds: Vec<(String, String)>,
    /// Parties that may do follow-up visits: id and name.
    pub visitors: Vec<(String, String)>,
    pub today: String,
    pub refusal: Option<Refusal>,
    pub kept: Fields,
}

fn custodian_label(t: &super::i18n::Tr, k: CustodianKind) -> String {
    let c = code_of(&k);
    t.get_or(&format!("tr_custodian_{c}"), &c)
}

async fn custody_page(
    s: &AppState,
    cx: &PageCtx,
    id: CaseId,
    refused: Option<Refusal>,
    kept: Fields,
) -> PageResult {
    let t = cx.t;
    let d = s
        .app
        .get_case_parts(&cx.caller, id, CaseParts::WORKFLOW)
        .await
        .map_err(|e| cx.fail(e))?;
    let parties = s
        .app
        .list_parties(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?;
    let name_of = |p: Option<PartyId>| {
        p.map(|p| {
            parties
                .iter()
                .find(|x| x.id == p)
                .map(|x| x.name.as_str().to_owned())
                .unwrap_or_else(|| p.to_string())
        })
        .unwrap_or_else(|| t.get("tr_nobody").to_owned())
    };
    let case = &d.view.case;
    let now = s.app.now();
    let records: Vec<homeward_domain::RecordId> = [case.tracing_request, case.custody_record]
        .into_iter()
        .flatten()
        .collect();
    let children = s
        .app
        .children_named(&cx.caller, &records)
        .await
        .map_err(|e| cx.fail(e))?;
    let label = case_label(
        &ListPeople {
            numbers: [(id, d.view.number)].into_iter().collect(),
            children,
            ..ListPeople::default()
        },
        id,
        &records,
    );
    let handovers = case
        .handovers
        .iter()
        .map(|h| HandoverRow {
            at: when(&h.at),
            place: h.place.clone().unwrap_or_default(),
            giver: h.giver.name.clone(),
            giver_kind: custodian_label(t, h.giver.kind),
            receiver: h.receiver.name.clone(),
            receiver_kind: custodian_label(t, h.receiver.kind),
            witnesses: h.witnesses.join(", "),
        })
        .collect();
    let chain = case
        .chain_conditions()
        .into_iter()
        .map(|c| {
            let key = format!("tr_cond_{}", c.code.as_str());
            let text = if c.met {
                c.message.clone()
            } else {
                t.get_or(&key, &c.message)
            };
            (c.met, text, c.message)
        })
        .collect();
    let holder = case
        .handovers
        .last()
        .map(|h| (code_of(&h.receiver.kind), h.receiver.name.clone()))
        .unwrap_or_else(|| (code_of(&CustodianKind::CustodyAuthority), String::new()));
    let reunification = case
        .reunification
        .as_ref()
        .map(|r| {
            vec![
                (t.get("tr_reunified_at").to_owned(), when(&r.at)),
                (t.get("tr_place").to_owned(), r.place.clone()),
                (
                    t.get("tr_with_whom").to_owned(),
                    r.with_whom
                        .iter()
                        .map(|w| format!("{} ({})", w.name, w.relationship))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                (
                    t.get("tr_family_environment").to_owned(),
                    r.family_environment.clone(),
                ),
            ]
        })
        .unwrap_or_default();
    let services = case
        .services
        .iter()
        .map(|sv| {
            let c = code_of(&sv.kind);
            let mut f = vec![
                (
                    t.get("tr_service_kind").to_owned(),
                    t.get_or(&format!("tr_service_{c}"), &c),
                ),
                (t.get("tr_provider").to_owned(), sv.provider.clone()),
                (t.get("tr_started_on").to_owned(), sv.started_on.to_string()),
            ];
            if let Some(e) = sv.ended_on {
                f.push((t.get("tr_ended_on").to_owned(), e.to_string()));
            }
            if !sv.description.is_empty() {
                f.push((t.get("tr_description").to_owned(), sv.description.clone()));
            }
            f
        })
        .collect();
    let follow_ups = case
        .follow_ups
        .iter()
        .map(|fu| {
            let (status, note) = if let Some(w) = &fu.waiver {
                ("waived", w.reason.clone())
            } else if let Some(done) = fu.done_at.filter(|d| *d <= now) {
                (
                    "done",
                    format!(
                        "{} · {}",
                        when(&done),
                        fu.outcome.clone().unwrap_or_default()
                    ),
                )
            } else if fu.is_overdue(now) {
                ("overdue", String::new())
            } else {
                ("scheduled", String::new())
            };
            FollowUpRow {
                id: fu.id.to_string(),
                due: fu.due.to_string(),
                responsible: name_of(fu.responsible),
                status,
                status_label: t.get(&format!("tr_fu_{status}")).to_owned(),
                note,
                open: fu.is_open(now),
            }
        })
        .collect();
    let c = &cx.caller;
    let page = CustodyPage {
        f: cx.frame(),
        id: id.to_string(),
        label,
        version: d.view.version,
        state: case.state.as_str().to_owned(),
        state_label: t.get(&format!("state_{}", case.state.as_str())).to_owned(),
        handovers,
        chain,
        holder,
        reunified: case.reunification.is_some(),
        reunification,
        services,
        follow_ups,
        may_hand_over: c.may(Permission::HandoverRecord)
            && matches!(case.state, CaseState::InTransit | CaseState::HandedOver),
        may_aftercare: c.may(Permission::AftercareRecord),
        may_reunify: c.may(Permission::AftercareRecord)
            && case.reunification.is_none()
            && case.state == CaseState::HandedOver,
        custodian_kinds: CUSTODIAN_KINDS
            .iter()
            .map(|k| (code_of(k), custodian_label(t, *k)))
            .collect(),
        service_kinds: SERVICE_KINDS
            .iter()
            .map(|k| {
                let c = code_of(k);
                (c.clone(), t.get_or(&format!("tr_service_{c}"), &c))
            })
            .collect(),
        visitors: parties
            .iter()
            .filter(|p| matches!(p.kind, PartyKind::Origin | PartyKind::Humanitarian))
            .map(|p| (p.id.to_string(), p.name.as_str().to_owned()))
            .collect(),
        today: now.date_naive().to_string(),
        refusal: refused,
        kept,
    };
    answer(t, &page, page.refusal.as_ref())
}

pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<CaseId>,
) -> PageResult {
    custody_page(&s, &cx, id, None, Fields::default()).await
}

async fn after_change<T>(
    s: &AppState,
    cx: PageCtx,
    id: CaseId,
    form_id: &'static str,
    form: Fields,
    done: AppResult<T>,
) -> PageResult {
    match done {
        Ok(_) => Ok(to(format!("/cases/{id}/custody"))),
        Err(e) => {
            let r = refusal(cx.t, form_id, e).map_err(|e| cx.fail(e))?;
            custody_page(s, &cx, id, Some(r), form).await
        }
    }
}

fn custodian(form: &Fields, prefix: &str) -> AppResult<Custodian> {
    Ok(Custodian {
        kind: form.parse(&format!("{prefix}_kind"))?,
        name: form.text(&format!("{prefix}_name")),
        party: None,
    })
}

pub(crate) async fn record_handover(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = HandoverInput {
            at: form.time("at")?,
            giver: custodian(&form, "giver")?,
            receiver: custodian(&form, "receiver")?,
            place: form.opt("place"),
            witnesses: form
                .text("witnesses")
                .lines()
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
            expected_version: form.int("expected_version")?,
        };
        s.app.record_handover(&cx.caller, id, &input).await
    }
    .await;
    after_change(&s, cx, id, "handover", form, done).await
}

pub(crate) async fn record_reunification(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let with_whom = form
            .rows("with")
            .into_iter()
            .filter_map(|i| {
                let name = form.opt(&format!("with{i}_name"))?;
                Some(Relative {
                    name,
                    relationship: form.text(&format!("with{i}_relationship")),
                })
            })
            .collect();
        let input = ReunificationInput {
            at: form.time("at")?,
            place: form.text("place"),
            with_whom,
            family_environment: form.text("family_environment"),
            follow_up_party: form.opt_parse("follow_up_party")?,
            expected_version: form.int("expected_version")?,
        };
        s.app.record_reunification(&cx.caller, id, &input).await
    }
    .await;
    after_change(&s, cx, id, "reunification", form, done).await
}

pub(crate) async fn record_service(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = ServiceInput {
            kind: form.parse("kind")?,
            provider: form.text("provider"),
            description: form.text("description"),
            started_on: form.required_date("started_on")?,
            ended_on: form.date("ended_on")?,
            expected_version: form.int("expected_version")?,
        };
        s.app.record_service(&cx.caller, id, &input).await
    }
    .await;
    after_change(&s, cx, id, "service", form, done).await
}

pub(crate) async fn schedule_follow_up(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = FollowUpInput {
            due: form.required_date("due")?,
            responsible: form.opt_parse("responsible")?,
            expected_version: form.int("expected_version")?,
        };
        s.app.schedule_follow_up(&cx.caller, id, &input).await
    }
    .await;
    after_change(&s, cx, id, "schedule", form, done).await
}

fn report_input(form: &Fields) -> AppResult<FollowUpReportInput> {
    Ok(FollowUpReportInput {
        outcome: form.text("outcome"),
        done_at: form.time("done_at")?,
    })
}

/// Marks which visit's form `form` came from, so that a refused report or waiver comes back
/// in that visit's row with what was typed.
fn for_visit(mut form: Fields, fu: FollowUpId, which: &str) -> Fields {
    form.insert("visit", fu.to_string());
    form.insert("visit_form", which.to_owned());
    form
}

pub(crate) async fn report_follow_up(
    State(s): State<AppState>,
    ApiPath((id, fu)): ApiPath<(CaseId, FollowUpId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = report_input(&form)?;
        let v = form.int("expected_version")?;
        s.app.report_follow_up(&cx.caller, id, fu, &input, v).await
    }
    .await;
    after_change(
        &s,
        cx,
        id,
        "follow-ups",
        for_visit(form, fu, "report"),
        done,
    )
    .await
}

pub(crate) async fn waive_follow_up(
    State(s): State<AppState>,
    ApiPath((id, fu)): ApiPath<(CaseId, FollowUpId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = WaiverInput {
            reason: form.text("reason"),
            expected_version: form.int("expected_version")?,
        };
        s.app.waive_follow_up(&cx.caller, id, fu, &input).await
    }
    .await;
    after_change(&s, cx, id, "follow-ups", for_visit(form, fu, "waive"), done).await
}

// ---- the visits a party does ------------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct VisitRow {
    pub case_id: String,
    /// The case (the mediator's: number and names) or the child on the party's own record.
    pub label: CaseLabel,
    pub id: String,
    pub due: String,
    pub days_late: i64,
    /// The party's own record in the case (never the case, for a party).
    pub record: Option<String>,
    pub responsible: String,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
pub(crate) struct VisitsPage<'a> {
    pub f: Frame<'a>,
    pub rows: Vec<VisitRow>,
    /// The mediator sees every overdue visit and goes to the case; a party reports its own here.
    pub mediator: bool,
    pub may_report: bool,
    pub may_read_records: bool,
    /// Just reported a visit: say so.
    pub reported: bool,
    pub refusal: Option<Refusal>,
    pub kept: Fields,
}

async fn visits_page(
    s: &AppState,
    cx: &PageCtx,
    refused: Option<Refusal>,
    kept: Fields,
    reported: bool,
) -> PageResult {
    let t = cx.t;
    let c = &cx.caller;
    let visits = s.app.overdue_follow_ups(c).await.map_err(|e| cx.fail(e))?;
    let mediator = c.party().kind == PartyKind::Mediator;
    let parties = if mediator {
        s.app.list_parties(c).await.map_err(|e| cx.fail(e))?
    } else {
        Vec::new()
    };
    let today = s.app.now().date_naive();
    let people = if mediator {
        let ids: Vec<CaseId> = visits.iter().map(|v| v.case_id).collect();
        s.app.cases_named(c, &ids).await.map_err(|e| cx.fail(e))?
    } else {
        let ids: Vec<_> = visits.iter().filter_map(|v| v.record_id).collect();
        ListPeople {
            children: s
                .app
                .children_named(c, &ids)
                .await
                .map_err(|e| cx.fail(e))?,
            ..ListPeople::default()
        }
    };
    let rows = visits
        .iter()
        .map(|v| VisitRow {
            case_id: v.case_id.to_string(),
            label: match v.record_id {
                Some(r) if !mediator => case_label(&people, v.case_id, &[r]),
                _ => {
                    let records = people.records_of.get(&v.case_id).cloned();
                    case_label(&people, v.case_id, &records.unwrap_or_default())
                }
            },
            id: v.follow_up.id.to_string(),
            due: v.follow_up.due.to_string(),
            days_late: (today - v.follow_up.due).num_days(),
            record: v.record_id.map(|r| r.to_string()),
            responsible: v
                .follow_up
                .responsible
                .map(|p| {
                    parties
                        .iter()
                        .find(|x| x.id == p)
                        .map(|x| x.name.as_str().to_owned())
                        .unwrap_or_else(|| c.party().name.as_str().to_owned())
                })
                .unwrap_or_else(|| t.get("tr_nobody").to_owned()),
        })
        .collect();
    let page = VisitsPage {
        f: cx.frame(),
        rows,
        mediator,
        may_report: !mediator && c.may(Permission::FollowUpReport),
        may_read_records: c.may(Permission::RecordRead),
        reported,
        refusal: refused,
        kept,
    };
    answer(t, &page, page.refusal.as_ref())
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct VisitsParams {
    #[serde(default)]
    reported: Option<u8>,
}

pub(crate) async fn visits(
    State(s): State<AppState>,
    cx: PageCtx,
    Query(q): Query<VisitsParams>,
) -> PageResult {
    visits_page(&s, &cx, None, Fields::default(), q.reported.is_some()).await
}

pub(crate) async fn report_own(
    State(s): State<AppState>,
    ApiPath((id, fu)): ApiPath<(CaseId, FollowUpId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let done = async {
        let input = report_input(&form)?;
        s.app.report_own_follow_up(&cx.caller, id, fu, &input).await
    }
    .await;
    match done {
        Ok(_) => Ok(to("/follow-ups?reported=1".to_owned())),
        Err(e) => {
            let r = refusal(cx.t, "visit", e).map_err(|e| cx.fail(e))?;
            visits_page(&s, &cx, Some(r), form, false).await
        }
    }
}
