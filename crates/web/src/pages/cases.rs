//! One case: its state, what each next state still needs, its timeline, the facts recorded so
//! far, and the forms that record a verification step and move the case on.
//!
//! The checklist is the app's `next` as it is (the domain decides what a move needs, not this
//! page), and a refused move comes back as the app's error. Every read goes through the app's
//! use-cases, which audit it.

use super::context::{PageCtx, PostForm};
use super::error::{PageResult, html};
use super::i18n::Tr;
use super::templates::CasePage;
use crate::AppState;
use crate::extract::ApiPath;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use homeward_app::cases::{TransitionInput, VerificationInput};
use homeward_domain::{CaseId, CaseState, VerificationMethod, VerificationOutcome};
use serde::{Deserialize, Serialize};

/// An enum's snake_case code as serde writes it (a tagged enum's tag).
fn code_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// A translation if the file has one, else the code itself.
fn word(t: &Tr, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}{code}");
    let v = t.get(&key);
    if v == key {
        code.to_owned()
    } else {
        v.to_owned()
    }
}

fn when(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn state_label(t: &Tr, s: CaseState) -> String {
    t.get(&format!("state_{}", s.as_str())).to_owned()
}

#[derive(Debug)]
pub(crate) struct Next {
    pub state: String,
    pub label: String,
    pub ready: bool,
    /// Met or not, and the domain's message.
    pub conditions: Vec<(bool, String)>,
}

#[derive(Debug)]
pub(crate) struct Event {
    pub version: i64,
    pub change: String,
    pub state: String,
    pub by: String,
    pub at: String,
}

/// One recorded fact, as label–value pairs in the order shown.
pub(crate) type Fact = Vec<(&'static str, String)>;

pub(crate) async fn show(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<CaseId>,
) -> PageResult {
    let t = cx.t;
    let d = s
        .app
        .get_case(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let history = s
        .app
        .case_history(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let disclosures = s
        .app
        .case_disclosures(&cx.caller, id)
        .await
        .map_err(|e| cx.fail(e))?;
    let case = &d.view.case;
    let next = d
        .next
        .iter()
        .map(|n| Next {
            state: n.state.as_str().to_owned(),
            label: state_label(t, n.state),
            ready: n.ready,
            conditions: n
                .conditions
                .iter()
                .map(|c| (c.met, c.message.clone()))
                .collect(),
        })
        .collect();
    let timeline = history
        .iter()
        .rev()
        .map(|v| Event {
            version: v.version,
            change: word(t, "casechange_", &v.change),
            state: state_label(t, v.state),
            by: v.changed_by.to_string(),
            at: when(&v.changed_at),
        })
        .collect();
    let verifications = case
        .verification_steps
        .iter()
        .map(|v| {
            let mut f: Fact = vec![
                (t.get("method"), word(t, "vm_", v.method.as_str())),
                (t.get("outcome"), word(t, "outcome_", &code_of(&v.outcome))),
                (t.get("performed_by"), v.performed_by.clone()),
                (t.get("performed_at"), when(&v.performed_at)),
            ];
            if let Some(n) = &v.notes {
                f.push((t.get("notes"), n.clone()));
            }
            if let Some(r) = &v.resolution {
                f.push((t.get("resolved"), r.reason.clone()));
            }
            f
        })
        .collect();
    let consents = case
        .consents
        .iter()
        .map(|c| {
            let mut f: Fact = vec![
                (t.get("giver"), c.giver.name.clone()),
                (t.get("scope"), word(t, "scope_", &code_of(&c.scope))),
                (
                    t.get("decision"),
                    word(t, "decision_", &code_of(&c.decision)),
                ),
                (t.get("given_at"), when(&c.given_at)),
            ];
            if let Some(w) = &c.withdrawal {
                f.push((
                    t.get("withdrawn_at"),
                    format!("{} · {}", when(&w.at), w.reason),
                ));
            }
            f
        })
        .collect();
    let views = case
        .child_views
        .iter()
        .map(|v| {
            vec![
                (t.get("heard_by"), v.heard_by.clone()),
                (t.get("heard_at"), when(&v.heard_at)),
                (t.get("wish"), word(t, "wish_", &code_of(&v.wish))),
                (t.get("summary"), v.summary.clone()),
            ]
        })
        .collect();
    let disclosed = disclosures
        .iter()
        .map(|x| {
            let fields: Vec<String> = x.fields.iter().map(|f| code_of(&f.field)).collect();
            vec![
                (t.get("disclosed_to"), x.to_party.to_string()),
                (t.get("disclosed_fields"), fields.join(", ")),
                (t.get("disclosed_at"), when(&x.disclosed_at)),
            ]
        })
        .collect();
    let tpl = CasePage {
        f: cx.frame(),
        id: case.id.to_string(),
        version: d.view.version,
        state: case.state.as_str().to_owned(),
        state_label: state_label(t, case.state),
        state_reason: case.state_reason.clone(),
        on_hold_from: case.on_hold_from.map(|s| state_label(t, s)),
        opened_at: when(&case.opened_at),
        tracing: case.tracing_request.map(|r| r.to_string()),
        custody: case.custody_record.map(|r| r.to_string()),
        next,
        timeline,
        verifications,
        consents,
        views,
        disclosed,
        methods: VerificationMethod::ALL
            .iter()
            .map(|m| (m.as_str(), word(t, "vm_", m.as_str())))
            .collect(),
        outcomes: [
            VerificationOutcome::Positive,
            VerificationOutcome::Negative,
            VerificationOutcome::Inconclusive,
        ]
        .iter()
        .map(|o| {
            let c = code_of(o);
            let l = word(t, "outcome_", &c);
            (c, l)
        })
        .collect(),
    };
    html(t, &tpl)
}

fn back(id: CaseId) -> axum::response::Response {
    Redirect::to(&format!("/cases/{id}")).into_response()
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|v| !v.is_empty())
}

#[derive(Debug, Deserialize)]
pub(crate) struct VerificationFields {
    method: VerificationMethod,
    #[serde(default)]
    performed_by: String,
    outcome: VerificationOutcome,
    #[serde(default)]
    notes: String,
    expected_version: i64,
}

pub(crate) async fn record_verification(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<VerificationFields>,
) -> PageResult {
    let input = VerificationInput {
        method: form.method,
        performed_by: form.performed_by,
        performed_at: None,
        outcome: form.outcome,
        evidence: Vec::new(),
        notes: opt(&form.notes),
        expected_version: form.expected_version,
    };
    s.app
        .record_verification(&cx.caller, id, &input)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(back(id))
}

#[derive(Debug, Deserialize)]
pub(crate) struct TransitionFields {
    to: CaseState,
    #[serde(default)]
    reason: String,
    expected_version: i64,
}

pub(crate) async fn transition(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<CaseId>,
    PostForm { cx, form }: PostForm<TransitionFields>,
) -> PageResult {
    let input = TransitionInput {
        to: form.to,
        reason: opt(&form.reason),
        expected_version: form.expected_version,
    };
    s.app
        .transition_case(&cx.caller, id, &input)
        .await
        .map_err(|e| cx.fail(e))?;
    Ok(back(id))
}
