//! One case: its state, what each next state still needs, its timeline in words, the facts
//! recorded so far, and a form for each piece of the work: verification and its resolution,
//! consent and its withdrawal, the child's views, best interests, disclosure, attachments, tasks.
//!
//! The checklist is the app's `next` as it is (the domain decides what a move needs, not this
//! page). When the app refuses a form (a guard, a validation, a stale version), the case page
//! comes back with the refusal on that form, each unmet condition in the person's language with
//! its stable code beside it, and what was typed still in the form. Every read goes through the
//! app's use-cases, which scope and audit it exactly as for the API.

use super::context::{PageCtx, PostForm, PostMultipart};
use super::error::{PageError, PageResult, html};
use super::i18n::Tr;
use super::names::{ShownName, all_names};
use super::refusal::Fields;
use super::show::{code_of, when};
use super::templates::CasePage;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use homeward_app::attachments::Upload;
use homeward_app::cases::{
    AssessmentInput, CaseVersionView, ChildViewsInput, ConsentInput, DeterminationInput,
    DisclosureInput, ResolutionInput, TransitionInput, VerificationInput, WithdrawalInput,
};
use homeward_app::sight::CaseParts;
use homeward_app::tasks::{TaskCancelInput, TaskInput, TaskQuery};
use homeward_app::{AppError, AppResult, Caller, ErrorKind, Viewed};
use homeward_domain::{
    AttachmentId, BestInterestsDecision, BriefField, Case, CaseId, CaseState, ChildWish, Condition,
    ConditionCode, ConsentDecision, ConsentGiver, ConsentId, ConsentMethod, ConsentScope,
    DisclosableField, DisclosedField, FieldError, GiverKind, PanelMember, PartyId, PartyKind,
    Permission, TaskId, TaskKind, ValidationErrors, VerificationMethod, VerificationOutcome,
    VerificationStepId, may_disclose,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Borrow;
use std::collections::BTreeSet;

fn state_label(t: &Tr, s: CaseState) -> String {
    t.get(&format!("state_{}", s.as_str())).to_owned()
}

/// One condition as the page shows it: in the person's language, with the domain's stable code
/// and, beside it, the domain's own (English) detail, which names counts and dates.
#[derive(Debug, Clone)]
pub(crate) struct Cond {
    pub met: bool,
    pub code: &'static str,
    pub label: String,
    pub detail: String,
}

/// The words for a condition: what is missing when unmet (`cond_…`), what satisfies it when met
/// (`condok_…`). A disclosure's conditions are per field, and say which field first.
pub(crate) fn cond(t: &Tr, c: &Condition) -> Cond {
    let code = c.code.as_str();
    let prefix = if c.met { "condok_" } else { "cond_" };
    let mut label = t.word(prefix, code);
    if let Some((field, _)) = c.message.split_once(':')
        && let Some(f) = DisclosableField::ALL.iter().find(|f| f.as_str() == field)
    {
        label = format!("{}: {label}", t.word("dfield_", f.as_str()));
    }
    Cond {
        met: c.met,
        code,
        label,
        detail: c.message.clone(),
    }
}

#[derive(Debug)]
pub(crate) struct Next {
    pub state: String,
    pub label: String,
    pub ready: bool,
    pub conditions: Vec<Cond>,
}

/// One version in the timeline: when, who (name and party), and what happened, in words.
#[derive(Debug)]
pub(crate) struct Event {
    pub version: i64,
    pub change: String,
    pub state: String,
    pub by: String,
    pub by_party: String,
    pub at: String,
    pub what: Vec<String>,
}

/// One recorded fact, as label–value pairs in the order shown.
pub(crate) type Fact = Vec<(&'static str, String)>;

/// A recorded fact with the form that acts on it, if any (resolving a negative step,
/// withdrawing a consent): the form's key and the id it posts to.
#[derive(Debug)]
pub(crate) struct Item {
    pub facts: Fact,
    pub form: Option<String>,
    pub id: String,
}

/// The label a form shows for a field the app names (`evidence[1]` is the evidence list).
fn field_label(t: &Tr, field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    let key = match base {
        "giver.name" => "giver_name",
        "giver.kind" => "giver_kind",
        "scope.fields" => "share_fields",
        "withdrawal.reason" => "reason",
        "summary" => "views_summary",
        "language" => "views_language",
        "to_party" => "disclosed_to",
        "fields" => "disclose_fields",
        "due" => "task_due",
        "party" => "task_party",
        "kind" => "task_kind",
        "outcome" => "task_outcome",
        "done" => "task_done",
        "to" => "to_state",
        "expected_version" => "version",
        other => other,
    };
    // Without a label of that name, the field's own name still says which it is.
    t.get_or(key, field)
}

/// A wrong field, for the form that sent it.
#[derive(Debug)]
pub(crate) struct FieldMsg {
    pub field: String,
    /// The form's label for it.
    pub label: String,
    pub code: String,
    pub message: String,
}

/// Why the app refused a form: its code, a sentence, the unmet conditions, the wrong fields.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub code: String,
    pub message: String,
    pub conditions: Vec<Cond>,
    pub fields: Vec<FieldMsg>,
}

pub(crate) fn refusal_of(t: &Tr, e: &AppError) -> Refusal {
    let code = e.code().to_owned();
    let message = match e {
        AppError::Conflict(c) => super::refusal::conflict_text(t, c),
        _ => t.get_or(
            &format!("refusal_{code}"),
            t.get(match e.kind() {
                ErrorKind::Invalid => "error_invalid",
                ErrorKind::Conflict => "error_conflict",
                _ => "error_internal",
            }),
        ),
    };
    let fields = match e {
        AppError::Validation(v) => {
            v.0.iter()
                .map(|f| FieldMsg {
                    field: f.field.clone(),
                    label: field_label(t, &f.field),
                    code: f.code.to_owned(),
                    message: t.get_or(&format!("fielderr_{}", f.code), &f.message),
                })
                .collect()
        }
        // The rest say enough in their own message (a limit, a type).
        AppError::AttachmentTooLarge { .. }
        | AppError::AttachmentTypeMismatch { .. }
        | AppError::AttachmentTypeNotAllowed
        | AppError::AttachmentEmpty => vec![FieldMsg {
            field: "file".to_owned(),
            label: t.get("file").to_owned(),
            code: code.clone(),
            message: e.to_string(),
        }],
        _ => Vec::new(),
    };
    Refusal {
        conditions: e
            .conditions()
            .iter()
            .filter(|c| !c.met)
            .map(|c| cond(t, c))
            .collect(),
        fields,
        code,
        message,
    }
}

/// The form that was posted and refused.
#[derive(Debug)]
pub(crate) struct Posted {
    pub form: String,
    pub data: Fields,
    pub refusal: Refusal,
}

/// A choice in a select or a set of checkboxes: its code and its label.
pub(crate) type Choice = (String, String);

/// Everything the work forms need beyond the facts shown, and the refused form if there is one.
#[derive(Debug, Default)]
pub(crate) struct CaseWork {
    pub posted: Option<Posted>,
    /// The refused form is not on the page any more.
    pub orphaned: bool,
    pub may_verify: bool,
    pub may_manage: bool,
    pub may_consent: bool,
    pub may_best_interests: bool,
    pub may_disclose: bool,
    pub may_tasks: bool,
    pub may_assign: bool,
    pub may_upload: bool,
    pub children: Vec<ShownName>,
    pub givers: Vec<Choice>,
    pub scopes: Vec<Choice>,
    pub decisions: Vec<Choice>,
    pub consent_methods: Vec<Choice>,
    pub fields: Vec<Choice>,
    pub wishes: Vec<Choice>,
    pub bi_decisions: Vec<Choice>,
    pub assessments: Vec<Fact>,
    pub assessment_choices: Vec<Choice>,
    pub determinations: Vec<Fact>,
    /// Each disclosable field with what the consents in force say about sharing it now.
    pub coverage: Vec<(String, String, Cond)>,
    /// The parties a disclosure may go to: id and name.
    pub counterparts: Vec<Choice>,
    pub attachments: Vec<AttachmentRow>,
    pub tasks: Vec<TaskRow>,
    pub ngos: Vec<Choice>,
    pub task_kinds: Vec<Choice>,
    pub brief_fields: Vec<Choice>,
    /// The panel's rows: number shown, and the name and role typed if the form came back.
    pub panel_rows: Vec<(usize, String, String)>,
    pub today: String,
    pub max_upload: String,
}

impl CaseWork {
    /// Whether a part of the case page (a kind of work, in a `<details>`) is open: the work the
    /// case's next step needs, and every part when a refused form came back (so its refusal and
    /// what was typed are in view). The rest stay folded, so the page starts with the summary.
    pub fn open(&self, part: &str, state: &str) -> bool {
        self.posted.is_some()
            || matches!(
                (part, state),
                ("verify", "located")
                    | ("consents" | "views" | "bi", "identity_verified")
                    | ("journey", "listed" | "in_transit" | "handed_over")
            )
    }

    fn posted_for(&self, form: &str) -> Option<&Posted> {
        self.posted.as_ref().filter(|p| p.form == form)
    }

    /// A refusal whose form is no longer on the page (the consent was withdrawn meanwhile, the
    /// task closed): shown at the top instead, so that it is never lost.
    pub fn orphan(&self) -> Option<&Refusal> {
        self.posted
            .as_ref()
            .filter(|_| self.orphaned)
            .map(|p| &p.refusal)
    }

    /// The refusal of this form, if it was the one refused.
    pub fn err(&self, form: &str) -> Option<&Refusal> {
        self.posted_for(form).map(|p| &p.refusal)
    }

    /// What was typed in a field of this form, to put it back.
    pub fn v(&self, form: &str, name: &str) -> &str {
        self.posted_for(form).map_or("", |p| p.data.get(name))
    }

    /// Whether an option is selected: as sent if this form came back, else `default`.
    pub fn sel(&self, form: &str, name: &str, value: &str, default: impl Borrow<bool>) -> bool {
        match self.posted_for(form) {
            Some(p) => p.data.all(name).contains(&value),
            None => *default.borrow(),
        }
    }

    /// The value typed for a field chosen for disclosure.
    pub fn dval(&self, code: &str) -> &str {
        self.v("disclosure", &format!("value_{code}"))
    }
}

#[derive(Debug)]
pub(crate) struct AttachmentRow {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: String,
    pub uploaded_at: String,
    pub description: String,
}

#[derive(Debug)]
pub(crate) struct TaskRow {
    pub id: String,
    pub form: String,
    pub version: i64,
    pub kind: String,
    pub party: String,
    pub due: String,
    pub status: String,
    pub status_label: String,
    pub overdue: bool,
    pub open: bool,
    pub outcome: String,
}

fn choices<T: Serialize>(t: &Tr, prefix: &str, all: &[T]) -> Vec<Choice> {
    all.iter()
        .map(|v| {
            let c = code_of(v);
            let l = t.word(prefix, &c);
            (c, l)
        })
        .collect()
}

fn human_size(n: i64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    } else if n >= 1 << 10 {
        format!("{:.0} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// What a version changed, in words: the facts it added and the state it moved the case to,
/// found by comparing it with the version before.
fn describe(t: &Tr, prev: Option<&Case>, v: &CaseVersionView) -> Vec<String> {
    let case = &v.case;
    let mut out = Vec::new();
    let Some(prev) = prev else {
        return out;
    };
    for s in &case.verification_steps {
        match prev.verification_steps.iter().find(|p| p.id == s.id) {
            None => out.push(format!(
                "{}: {} · {}",
                t.word("vm_", s.method.as_str()),
                t.word("outcome_", &code_of(&s.outcome)),
                s.performed_by
            )),
            Some(p) if p.resolution.is_none() => {
                if let Some(r) = &s.resolution {
                    out.push(format!(
                        "{}: {} · {}",
                        t.word("vm_", s.method.as_str()),
                        t.get("resolved"),
                        r.reason
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for c in &case.consents {
        let what = format!(
            "{} ({}) · {} · {}",
            c.giver.name,
            t.word("giver_", &code_of(&c.giver.kind)),
            scope_words(t, &c.scope),
            t.word("decision_", &code_of(&c.decision)),
        );
        match prev.consents.iter().find(|p| p.id == c.id) {
            None => out.push(what),
            Some(p) if p.withdrawal.is_none() => {
                if let Some(w) = &c.withdrawal {
                    out.push(format!("{what} · {}: {}", t.get("withdrawn_at"), w.reason));
                }
            }
            Some(_) => {}
        }
    }
    for cv in &case.child_views {
        if !prev.child_views.iter().any(|p| p.id == cv.id) {
            out.push(format!(
                "{}: {} · {}",
                t.get("wish"),
                t.word("wish_", &code_of(&cv.wish)),
                cv.heard_by
            ));
        }
    }
    for a in &case.assessments {
        if !prev.assessments.iter().any(|p| p.id == a.id) {
            out.push(format!(
                "{}: {}",
                a.assessed_by,
                a.recommendation
                    .map(|r| t.word("bid_", &code_of(&r)))
                    .unwrap_or_else(|| t.get("not_given").to_owned())
            ));
        }
    }
    for d in &case.determinations {
        if !prev.determinations.iter().any(|p| p.id == d.id) {
            out.push(format!(
                "{}: {}",
                t.get("decision"),
                t.word("bid_", &code_of(&d.decision))
            ));
        }
    }
    if prev.state != case.state {
        let mut moved = format!(
            "{} {} {}",
            state_label(t, prev.state),
            t.arrow(),
            state_label(t, case.state)
        );
        if let Some(r) = &case.state_reason {
            moved.push_str(&format!(" · {}: {r}", t.get("reason")));
        }
        out.push(moved);
    }
    out
}

fn scope_words(t: &Tr, s: &ConsentScope) -> String {
    let kind = t.word("scope_", &code_of(s));
    match s {
        ConsentScope::DataSharing { fields } => format!(
            "{kind}: {}",
            fields
                .iter()
                .map(|f| t.word("dfield_", f.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => kind,
    }
}

fn timeline(t: &Tr, history: &[CaseVersionView]) -> Vec<Event> {
    let mut prev: Option<&Case> = None;
    let mut out = Vec::new();
    for v in history {
        let (by, by_party) = match &v.changed_by_user {
            Some(a) => (a.display_name.clone(), a.party_name.clone()),
            None => (v.changed_by.to_string(), String::new()),
        };
        out.push(Event {
            version: v.version,
            change: t.word("casechange_", &v.change),
            state: state_label(t, v.state),
            by,
            by_party,
            at: when(&v.changed_at),
            what: describe(t, prev, v),
        });
        prev = Some(&v.case);
    }
    out.reverse();
    out
}

/// Draws the case page; `posted` is the form the app just refused, shown with its refusal.
/// Everything it shows is read in one page view: one audit entry, not one per read.
async fn render(
    s: &AppState,
    cx: &PageCtx,
    id: CaseId,
    posted: Option<Posted>,
    status: StatusCode,
) -> PageResult {
    s.app
        .view(&cx.caller, Viewed::Case(id), async |c| {
            draw(s, cx, c, id, posted, status).await
        })
        .await
        .map_err(|e| cx.fail(e))?
}

/// The case page as `c` (the caller inside the page view) may see it.
async fn draw(
    s: &AppState,
    cx: &PageCtx,
    c: &Caller,
    id: CaseId,
    posted: Option<Posted>,
    status: StatusCode,
) -> PageResult {
    let t = cx.t;
    let fail = |e| cx.fail(e);
    // The page shows the case's workflow, not its accountability record: it reads no more.
    let d = s
        .app
        .get_case_parts(c, id, CaseParts::WORKFLOW)
        .await
        .map_err(fail)?;
    let history = s
        .app
        .case_history_parts(c, id, CaseParts::WORKFLOW)
        .await
        .map_err(fail)?;
    let disclosures = s.app.case_disclosures(c, id).await.map_err(fail)?;
    let parties = s.app.list_parties(c).await.map_err(fail)?;
    let party_name = |p: PartyId| {
        parties
            .iter()
            .find(|x| x.id == p)
            .map_or_else(|| p.to_string(), |x| x.name.as_str().to_owned())
    };
    let case = &d.view.case;
    let mut work = CaseWork {
        may_verify: c.may(Permission::VerificationRecord),
        may_manage: c.may(Permission::CaseManage),
        may_consent: c.may(Permission::ConsentRecord),
        may_best_interests: c.may(Permission::BestInterestsRecord),
        may_disclose: c.may(Permission::Disclose),
        may_tasks: c.may(Permission::TaskRead),
        may_assign: c.may(Permission::TaskManage),
        may_upload: c.may(Permission::CaseManage),
        ..CaseWork::default()
    };
    // The records tell whose they are (where a disclosure may go) and the child's names.
    if c.may(Permission::RecordRead) {
        for r in case.tracing_request.into_iter().chain(case.custody_record) {
            let rec = s.app.get_record(c, r).await.map_err(fail)?;
            if work.children.is_empty()
                || rec.content.kind == homeward_domain::RecordKind::CustodyRecord
            {
                for n in all_names(&rec) {
                    if !work.children.iter().any(|x| x.written == n.written) {
                        work.children.push(n);
                    }
                }
            }
            let p = rec.party_id.to_string();
            if !work.counterparts.iter().any(|(x, _)| *x == p) {
                work.counterparts.push((p, party_name(rec.party_id)));
            }
        }
    }
    let now = s.app.now();
    let next: Vec<Next> = d
        .next
        .iter()
        .map(|n| Next {
            state: n.state.as_str().to_owned(),
            label: state_label(t, n.state),
            ready: n.ready,
            conditions: n.conditions.iter().map(|x| cond(t, x)).collect(),
        })
        .collect();
    let verifications: Vec<Item> = case
        .verification_steps
        .iter()
        .map(|v| {
            let mut f: Fact = vec![
                (t.get("method"), t.word("vm_", v.method.as_str())),
                (t.get("outcome"), t.word("outcome_", &code_of(&v.outcome))),
                (t.get("performed_by"), v.performed_by.clone()),
                (t.get("performed_at"), when(&v.performed_at)),
            ];
            if let Some(n) = &v.notes {
                f.push((t.get("notes"), n.clone()));
            }
            if !v.evidence.is_empty() {
                f.push((t.get("evidence"), v.evidence.len().to_string()));
            }
            if let Some(r) = &v.resolution {
                f.push((t.get("resolved"), r.reason.clone()));
            }
            let open = v.outcome == VerificationOutcome::Negative && v.resolution.is_none();
            Item {
                facts: f,
                form: open.then(|| format!("resolve-{}", v.id)),
                id: v.id.to_string(),
            }
        })
        .collect();
    let consents: Vec<Item> = case
        .consents
        .iter()
        .map(|x| {
            let mut f: Fact = vec![
                (
                    t.get("giver"),
                    match &x.giver.relationship {
                        Some(r) => format!(
                            "{} ({}, {r})",
                            x.giver.name,
                            t.word("giver_", &code_of(&x.giver.kind))
                        ),
                        None => format!(
                            "{} ({})",
                            x.giver.name,
                            t.word("giver_", &code_of(&x.giver.kind))
                        ),
                    },
                ),
                (t.get("scope"), scope_words(t, &x.scope)),
                (
                    t.get("decision"),
                    t.word("decision_", &code_of(&x.decision)),
                ),
                (
                    t.get("consent_method"),
                    t.word("cmethod_", &code_of(&x.method)),
                ),
                (t.get("given_at"), when(&x.given_at)),
            ];
            if let Some(w) = &x.witness {
                f.push((t.get("witness"), w.clone()));
            }
            if let Some(e) = &x.expires_at {
                f.push((t.get("expires_at"), when(e)));
            }
            if let Some(w) = &x.withdrawal {
                f.push((
                    t.get("withdrawn_at"),
                    format!("{} · {}", when(&w.at), w.reason),
                ));
            }
            Item {
                facts: f,
                form: x.withdrawal.is_none().then(|| format!("withdraw-{}", x.id)),
                id: x.id.to_string(),
            }
        })
        .collect();
    let views = case
        .child_views
        .iter()
        .map(|v| {
            let mut f = vec![
                (t.get("heard_by"), v.heard_by.clone()),
                (t.get("heard_at"), when(&v.heard_at)),
                (t.get("wish"), t.word("wish_", &code_of(&v.wish))),
                (t.get("summary"), v.summary.clone()),
            ];
            if !v.present.is_empty() {
                f.push((t.get("present"), v.present.join(", ")));
            }
            if let Some(l) = &v.language {
                f.push((t.get("views_language"), l.clone()));
            }
            f
        })
        .collect();
    work.assessments = case
        .assessments
        .iter()
        .map(|a| {
            vec![
                (t.get("assessed_by"), a.assessed_by.clone()),
                (t.get("assessed_at"), when(&a.assessed_at)),
                (t.get("findings"), a.findings.clone()),
                (
                    t.get("recommendation"),
                    a.recommendation
                        .map(|r| t.word("bid_", &code_of(&r)))
                        .unwrap_or_else(|| t.get("not_given").to_owned()),
                ),
            ]
        })
        .collect();
    work.assessment_choices = case
        .assessments
        .iter()
        .map(|a| {
            (
                a.id.to_string(),
                format!("{} · {}", when(&a.assessed_at), a.assessed_by),
            )
        })
        .collect();
    work.determinations = case
        .determinations
        .iter()
        .map(|x| {
            vec![
                (t.get("decision"), t.word("bid_", &code_of(&x.decision))),
                (t.get("decided_at"), when(&x.decided_at)),
                (
                    t.get("panel"),
                    x.panel
                        .iter()
                        .map(|m| format!("{} ({})", m.name, m.role))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                (t.get("reasons"), x.reasons.clone()),
            ]
        })
        .collect();
    let disclosed = disclosures
        .iter()
        .map(|x| {
            let mut f: Fact = vec![
                (t.get("disclosed_to"), party_name(x.to_party)),
                (t.get("disclosed_at"), when(&x.disclosed_at)),
            ];
            for df in &x.fields {
                f.push((
                    t.get("disclosed_fields"),
                    format!("{}: {}", t.word("dfield_", df.field.as_str()), df.value),
                ));
            }
            f
        })
        .collect();
    work.coverage = DisclosableField::ALL
        .iter()
        .map(|f| {
            let c = match may_disclose(&case.consents, &[*f], now) {
                Ok(()) => Condition::met(ConditionCode::DisclosureNotCovered, ""),
                Err(mut v) => v
                    .pop()
                    .unwrap_or_else(|| Condition::unmet(ConditionCode::DisclosureNotCovered, "")),
            };
            let mut shown = cond(t, &c);
            // The field is in its own column here.
            shown.label = t.word(if c.met { "condok_" } else { "cond_" }, c.code.as_str());
            (f.as_str().to_owned(), t.word("dfield_", f.as_str()), shown)
        })
        .collect();
    if c.may(Permission::CaseRead) {
        work.attachments = s
            .app
            .list_case_attachments(c, id)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|a| AttachmentRow {
                id: a.id.to_string(),
                filename: a.filename,
                content_type: a.content_type,
                size: human_size(a.size),
                uploaded_at: when(&a.uploaded_at),
                description: a.description.unwrap_or_default(),
            })
            .collect();
    }
    if work.may_tasks {
        let q = TaskQuery {
            case: Some(id),
            ..TaskQuery::default()
        };
        work.tasks = s
            .app
            .list_tasks(c, &q)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|v| TaskRow {
                id: v.task.id.to_string(),
                form: format!("cancel-{}", v.task.id),
                version: v.version,
                kind: t.word("taskkind_", v.task.kind.as_str()),
                party: party_name(v.task.party),
                due: v.task.due.to_string(),
                status: v.task.status.as_str().to_owned(),
                status_label: t.word("taskstatus_", v.task.status.as_str()),
                overdue: v.overdue,
                open: v.task.status.is_open(),
                outcome: v
                    .task
                    .report
                    .as_ref()
                    .map(|r| r.outcome.clone())
                    .or_else(|| v.task.cancellation.as_ref().map(|c| c.reason.clone()))
                    .unwrap_or_default(),
            })
            .collect();
    }
    work.ngos = parties
        .iter()
        .filter(|p| p.kind == PartyKind::Humanitarian)
        .map(|p| (p.id.to_string(), p.name.as_str().to_owned()))
        .collect();
    work.givers = choices(
        t,
        "giver_",
        &[
            GiverKind::LegalGuardian,
            GiverKind::Relative,
            GiverKind::Child,
        ],
    );
    work.scopes = ["return", "data_sharing", "media"]
        .iter()
        .map(|c| ((*c).to_owned(), t.word("scope_", c)))
        .collect();
    work.decisions = choices(
        t,
        "decision_",
        &[ConsentDecision::Given, ConsentDecision::Refused],
    );
    work.consent_methods = choices(
        t,
        "cmethod_",
        &[
            ConsentMethod::Written,
            ConsentMethod::OralWitnessed,
            ConsentMethod::Video,
        ],
    );
    work.fields = DisclosableField::ALL
        .iter()
        .map(|f| (f.as_str().to_owned(), t.word("dfield_", f.as_str())))
        .collect();
    work.wishes = choices(
        t,
        "wish_",
        &[
            ChildWish::WantsReturn,
            ChildWish::Objects,
            ChildWish::Undecided,
            ChildWish::NotExpressed,
        ],
    );
    work.bi_decisions = choices(
        t,
        "bid_",
        &[
            BestInterestsDecision::Return,
            BestInterestsDecision::NotReturn,
        ],
    );
    work.task_kinds = choices(
        t,
        "taskkind_",
        &[
            TaskKind::VerificationVisit,
            TaskKind::MedicalCheck,
            TaskKind::Escort,
            TaskKind::PsychologicalSupport,
        ],
    );
    work.brief_fields = choices(
        t,
        "brief_",
        &[
            BriefField::ChildName,
            BriefField::Sex,
            BriefField::BirthDate,
            BriefField::CurrentLocation,
            BriefField::Enquirer,
        ],
    );
    work.posted = posted;
    work.panel_rows = (0..4)
        .map(|i| {
            let typed = |name: &str| {
                work.posted_for("determination")
                    .and_then(|p| p.data.all(name).get(i).map(|v| (*v).to_owned()))
                    .unwrap_or_default()
            };
            (i + 1, typed("panel_name"), typed("panel_role"))
        })
        .collect();
    work.today = now.date_naive().to_string();
    work.max_upload =
        human_size(i64::try_from(s.app.config().max_attachment_bytes).unwrap_or(i64::MAX));
    work.orphaned = work.posted.as_ref().is_some_and(|p| {
        let f = p.form.as_str();
        let items = |list: &[Item]| list.iter().any(|i| i.form.as_deref() == Some(f));
        if f.starts_with("resolve-") {
            !items(&verifications)
        } else if f.starts_with("withdraw-") {
            !items(&consents)
        } else if f.starts_with("cancel-") {
            !work.tasks.iter().any(|k| k.open && k.form == f)
        } else if f == "transition" {
            next.is_empty() || !work.may_manage
        } else {
            false
        }
    });
    let tpl = CasePage {
        f: cx.frame(),
        id: case.id.to_string(),
        number: d.view.number.to_string(),
        version: d.view.version,
        state: case.state.as_str().to_owned(),
        state_label: state_label(t, case.state),
        state_reason: case.state_reason.clone(),
        on_hold_from: case.on_hold_from.map(|s| state_label(t, s)),
        opened_at: when(&case.opened_at),
        tracing: case.tracing_request.map(|r| r.to_string()),
        custody: case.custody_record.map(|r| r.to_string()),
        next,
        timeline: timeline(t, &history),
        verifications,
        consents,
        views,
        disclosed,
        work,
        methods: VerificationMethod::ALL
            .iter()
            .map(|m| (m.as_str(), t.word("vm_", m.as_str())))
            .collect(),
        outcomes: [
            VerificationOutcome::Positive,
            VerificationOutcome::Negative,
            VerificationOutcome::Inconclusive,
        ]
        .iter()
        .map(|o| {
            let c = code_of(o);
            let l = t.word("outcome_", &c);
            (c, l)
        })
        .collect(),
    };
    let mut res = html(t, &tpl)?;
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    Ok(res)
}

pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<CaseId>,
) -> PageResult {
    render(&s, &cx, id, None, StatusCode::OK).await
}

/// Whether a refusal belongs on the form (the person can act on it) rather than on an error page:
/// bad input, a guard or a stale version, a server without attachments. A case the caller may
/// not see is the API's 403 or 404 either way, because the page is drawn through the same reads.
fn on_form(e: &AppError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotConfigured
    )
}

/// After a form: back to the case, or the case again with the refusal on the form.
async fn settle<T>(
    s: &AppState,
    cx: PageCtx,
    id: CaseId,
    form: &str,
    data: Fields,
    r: AppResult<T>,
) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e) if on_form(&e) => {
            let refusal = refusal_of(cx.t, &e);
            let status = ApiError::from(e).status();
            let posted = Posted {
                form: form.to_owned(),
                data,
                refusal,
            };
            render(s, &cx, id, Some(posted), status).await
        }
        Err(e) => Err(cx.fail(e)),
    }
}

// Reading a form into the app's input: each problem becomes a field error of the same shape the
// app gives, so the person sees them all together on the form.

fn choice<T: DeserializeOwned>(errs: &mut ValidationErrors, d: &Fields, name: &str) -> Option<T> {
    let v = d.get(name).trim();
    if v.is_empty() {
        errs.push(FieldError::new(name, "required", "choose one"));
        return None;
    }
    match serde_json::from_value(serde_json::Value::String(v.to_owned())) {
        Ok(x) => Some(x),
        Err(_) => {
            errs.push(FieldError::new(
                name,
                "invalid_choice",
                "not one of the choices",
            ));
            None
        }
    }
}

fn version(errs: &mut ValidationErrors, d: &Fields) -> i64 {
    match d.get("expected_version").trim().parse() {
        Ok(v) => v,
        Err(_) => {
            errs.push(FieldError::new(
                "expected_version",
                "invalid",
                "reload the page",
            ));
            0
        }
    }
}

/// A moment typed in a `datetime-local` field, read as UTC (the label says so).
pub(crate) fn read_moment(
    errs: &mut ValidationErrors,
    d: &Fields,
    name: &str,
) -> Option<DateTime<Utc>> {
    let v = d.get(name).trim();
    if v.is_empty() {
        return None;
    }
    let parsed = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
    match parsed {
        Some(x) => Some(x.and_utc()),
        None => {
            errs.push(FieldError::new(
                name,
                "invalid_date",
                "a date and time such as 2026-03-01T14:30",
            ));
            None
        }
    }
}

fn day(errs: &mut ValidationErrors, d: &Fields, name: &str) -> Option<NaiveDate> {
    let v = d.get(name).trim();
    if v.is_empty() {
        errs.push(FieldError::new(name, "required", "choose a date"));
        return None;
    }
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(x) => Some(x),
        Err(_) => {
            errs.push(FieldError::new(
                name,
                "invalid_date",
                "a date such as 2026-03-01",
            ));
            None
        }
    }
}

fn attachment_ids(d: &Fields) -> Vec<String> {
    d.all("evidence")
        .into_iter()
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Runs the form's use-case once its fields read cleanly.
fn checked<T>(errs: ValidationErrors, input: Option<T>) -> AppResult<T> {
    errs.into_result(|| ())?;
    input.ok_or_else(|| AppError::Internal("form read without errors but without input".into()))
}

pub(crate) async fn record_verification(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let method = choice(&mut errs, &form, "method");
    let outcome = choice(&mut errs, &form, "outcome");
    let performed_at = read_moment(&mut errs, &form, "performed_at");
    let expected_version = version(&mut errs, &form);
    let input = method
        .zip(outcome)
        .map(|(method, outcome)| VerificationInput {
            method,
            performed_by: form.get("performed_by").to_owned(),
            performed_at,
            outcome,
            evidence: attachment_ids(&form),
            notes: form.opt("notes"),
            expected_version,
        });
    let r = match checked(errs, input) {
        Ok(i) => s.app.record_verification(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "verification", form, r).await
}

pub(crate) async fn resolve_verification(
    State(s): State<AppState>,
    ApiPath((id, step)): ApiPath<(CaseId, VerificationStepId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let expected_version = version(&mut errs, &form);
    let input = ResolutionInput {
        reason: form.get("reason").to_owned(),
        expected_version,
    };
    let r = match checked(errs, Some(input)) {
        Ok(i) => s.app.resolve_verification(&cx.caller, id, step, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, &format!("resolve-{step}"), form, r).await
}

pub(crate) async fn transition(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let to = choice(&mut errs, &form, "to");
    let expected_version = version(&mut errs, &form);
    let input = to.map(|to| TransitionInput {
        to,
        reason: form.opt("reason"),
        expected_version,
    });
    let r = match checked(errs, input) {
        Ok(i) => s.app.transition_case(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "transition", form, r).await
}

pub(crate) async fn record_consent(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let kind: Option<GiverKind> = choice(&mut errs, &form, "giver_kind");
    let decision = choice(&mut errs, &form, "decision");
    let method = choice(&mut errs, &form, "method");
    let given_at = read_moment(&mut errs, &form, "given_at");
    let expires_at = read_moment(&mut errs, &form, "expires_at");
    let expected_version = version(&mut errs, &form);
    let scope = match form.get("scope") {
        "return" => Some(ConsentScope::Return),
        "media" => Some(ConsentScope::Media),
        "data_sharing" => {
            let mut fields = BTreeSet::new();
            for f in form.all("share") {
                match DisclosableField::ALL.iter().find(|x| x.as_str() == f) {
                    Some(x) => {
                        fields.insert(*x);
                    }
                    None => errs.push(FieldError::new(
                        "scope.fields",
                        "invalid_choice",
                        "not one of the choices",
                    )),
                }
            }
            // An empty set is the app's to refuse, with its own words.
            Some(ConsentScope::DataSharing { fields })
        }
        "" => {
            errs.push(FieldError::new("scope", "required", "choose one"));
            None
        }
        _ => {
            errs.push(FieldError::new(
                "scope",
                "invalid_choice",
                "not one of the choices",
            ));
            None
        }
    };
    let input = match (kind, scope, decision, method) {
        (Some(kind), Some(scope), Some(decision), Some(method)) => Some(ConsentInput {
            giver: ConsentGiver {
                kind,
                name: form.get("giver_name").to_owned(),
                relationship: form.opt("relationship"),
            },
            scope,
            decision,
            method,
            witness: form.opt("witness"),
            given_at,
            expires_at,
            evidence: attachment_ids(&form),
            expected_version,
        }),
        _ => None,
    };
    let r = match checked(errs, input) {
        Ok(i) => s.app.record_consent(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "consent", form, r).await
}

pub(crate) async fn withdraw_consent(
    State(s): State<AppState>,
    ApiPath((id, consent)): ApiPath<(CaseId, ConsentId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let at = read_moment(&mut errs, &form, "at");
    let expected_version = version(&mut errs, &form);
    let input = WithdrawalInput {
        reason: form.get("reason").to_owned(),
        at,
        expected_version,
    };
    let r = match checked(errs, Some(input)) {
        Ok(i) => s.app.withdraw_consent(&cx.caller, id, consent, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, &format!("withdraw-{consent}"), form, r).await
}

pub(crate) async fn record_child_views(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let wish = choice(&mut errs, &form, "wish");
    let heard_at = read_moment(&mut errs, &form, "heard_at");
    let expected_version = version(&mut errs, &form);
    let input = wish.map(|wish| ChildViewsInput {
        heard_at,
        heard_by: form.get("heard_by").to_owned(),
        present: form
            .get("present")
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        language: form.opt("language"),
        wish,
        summary: form.get("summary").to_owned(),
        expected_version,
    });
    let r = match checked(errs, input) {
        Ok(i) => s.app.record_child_views(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "views", form, r).await
}

fn optional_choice<T: DeserializeOwned>(
    errs: &mut ValidationErrors,
    d: &Fields,
    name: &str,
) -> Option<T> {
    if d.get(name).trim().is_empty() {
        None
    } else {
        choice(errs, d, name)
    }
}

pub(crate) async fn record_assessment(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let recommendation = optional_choice(&mut errs, &form, "recommendation");
    let assessed_at = read_moment(&mut errs, &form, "assessed_at");
    let expected_version = version(&mut errs, &form);
    let input = AssessmentInput {
        assessed_at,
        assessed_by: form.get("assessed_by").to_owned(),
        findings: form.get("findings").to_owned(),
        recommendation,
        expected_version,
    };
    let r = match checked(errs, Some(input)) {
        Ok(i) => s.app.record_assessment(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "assessment", form, r).await
}

pub(crate) async fn record_determination(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let decision = choice(&mut errs, &form, "decision");
    let decided_at = read_moment(&mut errs, &form, "decided_at");
    let assessment = optional_choice(&mut errs, &form, "assessment");
    let expected_version = version(&mut errs, &form);
    let panel = form
        .all("panel_name")
        .into_iter()
        .zip(
            form.all("panel_role")
                .into_iter()
                .chain(std::iter::repeat("")),
        )
        .filter(|(n, r)| !n.trim().is_empty() || !r.trim().is_empty())
        .map(|(n, r)| PanelMember {
            name: n.trim().to_owned(),
            role: r.trim().to_owned(),
        })
        .collect();
    let input = decision.map(|decision| DeterminationInput {
        decided_at,
        panel,
        decision,
        reasons: form.get("reasons").to_owned(),
        assessment,
        evidence: attachment_ids(&form),
        expected_version,
    });
    let r = match checked(errs, input) {
        Ok(i) => s.app.record_determination(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "determination", form, r).await
}

pub(crate) async fn disclose(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let to_party: Option<PartyId> = match form.get("to_party").trim().parse() {
        Ok(p) => Some(p),
        Err(_) => {
            errs.push(FieldError::new(
                "to_party",
                "required",
                "choose the party to tell",
            ));
            None
        }
    };
    let expected_version = version(&mut errs, &form);
    let mut fields = Vec::new();
    for f in form.all("field") {
        match DisclosableField::ALL.iter().find(|x| x.as_str() == f) {
            Some(x) => fields.push(DisclosedField {
                field: *x,
                value: form.get(&format!("value_{f}")).to_owned(),
            }),
            None => errs.push(FieldError::new(
                "fields",
                "invalid_choice",
                "not one of the choices",
            )),
        }
    }
    let input = to_party.map(|to_party| DisclosureInput {
        to_party,
        fields,
        expected_version,
    });
    let r = match checked(errs, input) {
        Ok(i) => s.app.disclose(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "disclosure", form, r).await
}

pub(crate) async fn assign_task(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let party: Option<PartyId> = match form.get("party").trim().parse() {
        Ok(p) => Some(p),
        Err(_) => {
            errs.push(FieldError::new(
                "party",
                "required",
                "choose the organisation",
            ));
            None
        }
    };
    let kind = choice(&mut errs, &form, "kind");
    let due = day(&mut errs, &form, "due");
    let mut brief = Vec::new();
    for b in form.all("brief") {
        match serde_json::from_value::<BriefField>(serde_json::Value::String(b.to_owned())) {
            Ok(x) => brief.push(x),
            Err(_) => errs.push(FieldError::new(
                "brief",
                "invalid_choice",
                "not one of the choices",
            )),
        }
    }
    let input = match (party, kind, due) {
        (Some(party), Some(kind), Some(due)) => Some(TaskInput {
            party,
            kind,
            instructions: form.get("instructions").to_owned(),
            due,
            // None ticked: the task kind's own minimum.
            brief: (!brief.is_empty()).then_some(brief),
        }),
        _ => None,
    };
    let r = match checked(errs, input) {
        Ok(i) => s.app.assign_task(&cx.caller, id, &i).await,
        Err(e) => Err(e),
    };
    settle(&s, cx, id, "task", form, r).await
}

pub(crate) async fn cancel_task(
    State(s): State<AppState>,
    ApiPath((id, task)): ApiPath<(CaseId, TaskId)>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let mut errs = ValidationErrors::default();
    let expected_version = version(&mut errs, &form);
    let input = TaskCancelInput {
        reason: form.get("reason").to_owned(),
        expected_version,
    };
    // The task must be this case's, or the form could cancel any task from any case's page.
    let r = match checked(errs, Some(input)) {
        Ok(i) => match s.app.get_task(&cx.caller, task).await {
            Ok(v) if v.task.case_id == id => s.app.cancel_task(&cx.caller, task, &i).await,
            Ok(_) => Err(AppError::NotFound),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    settle(&s, cx, id, &format!("cancel-{task}"), form, r).await
}

/// An upload from the case page. The route's body limit is the app's attachment limit (plus
/// room for the form's framing), so a file just over it still reaches the app, which says the
/// limit in its refusal.
pub(crate) async fn upload_attachment(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    m: PostMultipart,
) -> PageResult {
    let data = Fields(m.fields.clone());
    let r = match m.file("file") {
        None => Err(AppError::invalid("file", "required", "choose a file")),
        Some(f) => {
            let upload = Upload {
                filename: f.filename.as_deref().unwrap_or_default(),
                declared_type: f.content_type.as_deref(),
                description: m.field("description").filter(|d| !d.trim().is_empty()),
                bytes: &f.bytes,
            };
            s.app.upload_case_attachment(&m.cx.caller, id, upload).await
        }
    };
    settle(&s, m.cx, id, "attachment", data, r).await
}

/// A download by id alone, by POST: nothing about the file is in the URL, and a link prefetch
/// cannot make an audited read.
pub(crate) async fn download_attachment(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<AttachmentId>,
    PostForm { cx, .. }: PostForm<Fields>,
) -> Result<Response, PageError> {
    let download = s
        .app
        .download_attachment(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let a = &download.attachment;
    let mut res = Body::from(download.bytes).into_response();
    let h = res.headers_mut();
    let content_type = HeaderValue::try_from(a.content_type.as_str())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    if let Ok(v) =
        HeaderValue::try_from(crate::routes::attachments::content_disposition(&a.filename))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disclosure_condition_names_its_field_in_the_language() {
        let t = super::super::i18n::tr(homeward_domain::Language::Uk);
        let c = Condition::unmet(
            ConditionCode::DisclosureNotCovered,
            "current_location: no consent to share it",
        );
        let shown = cond(t, &c);
        assert_eq!(shown.code, "disclosure_not_covered");
        assert!(shown.label.starts_with(t.get("dfield_current_location")));
        assert_ne!(shown.label, c.message);
    }

    #[test]
    fn a_form_keeps_every_value_sent() {
        let d: Fields = serde_urlencoded::from_str("a=1&share=x&share=y&b=").expect("parses");
        assert_eq!(d.get("a"), "1");
        assert_eq!(d.all("share"), ["x", "y"]);
        assert_eq!(d.opt("b"), None);
        assert_eq!(d.get("missing"), "");
    }
}
