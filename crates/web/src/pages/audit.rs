//! The audit viewer: the log newest first, a page at a time (keyset on the sequence number),
//! filtered by actor, action, target and time; each entry in full; and the hash chain verified
//! on demand. Every page of entries is read through `list_audit`, which audits the read exactly
//! as the API's `GET /api/v1/audit` does.
//!
//! Filters travel in POST bodies, not query strings: an actor is named by username, and names
//! stay out of URLs (and so out of proxy logs and browser history).

use super::admin::{Problems, problems};
use super::context::{Frame, PageCtx, PostForm};
use super::error::{PageError, PageResult, html};
use super::refusal::Fields;
use super::show::when;
use crate::AppState;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::State;
use chrono::{DateTime, NaiveDateTime, Utc};
use homeward_app::{AppError, AuditFilter};
use homeward_domain::{AuditEntry, UserId};
use std::collections::HashMap;

const PAGE: u32 = 50;

/// The filters as typed, sent back with every next-page form.
#[derive(Debug, Default, Clone)]
pub(crate) struct Filters {
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub from: String,
    pub until: String,
}

impl Filters {
    fn from_form(p: &Fields) -> Self {
        let f = |n| p.get(n).trim().to_owned();
        Self {
            actor: f("actor"),
            action: f("action"),
            target_kind: f("target_kind"),
            target_id: f("target_id"),
            from: f("from"),
            until: f("until"),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Row {
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub actor: String,
    pub party: String,
    pub target: String,
    pub source: String,
}

/// The chain's state after "verify now".
#[derive(Debug)]
pub(crate) enum Verified {
    Intact { entries: i64, head: String },
    Broken { seq: i64, reason: String },
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage<'a> {
    pub f: Frame<'a>,
    pub filters: Filters,
    pub rows: Vec<Row>,
    /// The sequence number to read below for the next (older) page.
    pub next: Option<i64>,
    pub verified: Option<Verified>,
    pub problems: Problems,
    pub actions: Vec<&'static str>,
}

impl AuditPage<'_> {
    fn intact(&self) -> Option<(i64, &str)> {
        match &self.verified {
            Some(Verified::Intact { entries, head }) => Some((*entries, head.as_str())),
            _ => None,
        }
    }

    fn broken(&self) -> Option<(i64, &str)> {
        match &self.verified {
            Some(Verified::Broken { seq, reason }) => Some((*seq, reason.as_str())),
            _ => None,
        }
    }
}

/// A `datetime-local` value (or a date alone), read as UTC.
fn moment(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .ok()
        .map(|n| n.and_utc())
        .or_else(|| DateTime::parse_from_rfc3339(t).ok().map(|d| d.to_utc()))
}

/// The names of an entry's actor and target, as the page shows them.
struct Names {
    users: HashMap<UserId, String>,
    targets: HashMap<(String, String), String>,
}

fn row(e: &AuditEntry, parties: &[homeward_domain::Party], n: &Names) -> Row {
    let names = &n.users;
    Row {
        seq: e.seq,
        at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
        action: e.action.clone(),
        actor: e
            .actor_user
            .map(|u| names.get(&u).cloned().unwrap_or_else(|| u.to_string()))
            .unwrap_or_default(),
        party: e
            .actor_party
            .map(|p| {
                parties
                    .iter()
                    .find(|x| x.id == p)
                    .map(|x| x.name.as_str().to_owned())
                    .unwrap_or_else(|| p.to_string())
            })
            .unwrap_or_default(),
        target: match (&e.target_kind, &e.target_id) {
            (Some(k), Some(id)) => match n.targets.get(&(k.clone(), id.clone())) {
                Some(name) => format!("{k} {name}"),
                None => format!("{k} {id}"),
            },
            (Some(k), None) => k.clone(),
            _ => String::new(),
        },
        source: e.source.clone().unwrap_or_default(),
    }
}

/// The action codes a filter may name, for the form's suggestions.
fn known_actions() -> Vec<&'static str> {
    use homeward_domain::AuditAction as A;
    let mut v: Vec<&'static str> = [
        A::PartyCreate,
        A::UserCreate,
        A::UserUpdate,
        A::UserPasswordReset,
        A::UserTotpEnable,
        A::Login,
        A::LoginFailed,
        A::Logout,
        A::TokenCreate,
        A::TokenRevoke,
        A::RecordCreate,
        A::RecordRead,
        A::RecordList,
        A::RecordUpdate,
        A::RecordDelete,
        A::ImportCommit,
        A::AuditRead,
        A::MatchConfirm,
        A::MatchReject,
        A::CaseCreate,
        A::CaseRead,
        A::CaseTransition,
        A::DisclosureCreate,
        A::AttachmentRead,
        A::AccountabilityRead,
    ]
    .iter()
    .map(|a| a.code())
    .collect();
    v.sort_unstable();
    v
}

async fn list_page(
    s: &AppState,
    cx: &PageCtx,
    filters: Filters,
    before: Option<i64>,
    verified: Option<Verified>,
) -> PageResult {
    let t = cx.t;
    let mut p = Problems::default();
    let actor_user = if filters.actor.is_empty() {
        None
    } else {
        match s.app.audit_actor(&cx.caller, &filters.actor).await {
            Ok(id) => Some(id),
            Err(e) => {
                p.0.extend(problems(cx, e)?.0);
                None
            }
        }
    };
    let mut time = |text: &str, name: &str| {
        if text.is_empty() {
            return None;
        }
        let m = moment(text);
        if m.is_none() {
            p.0.extend(Problems::one(t, name, "invalid_time", "a date and time").0);
        }
        m
    };
    let from = time(&filters.from, "from");
    let until = time(&filters.until, "until");
    let opt = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
    let mut rows = Vec::new();
    let mut next = None;
    if p.is_empty() {
        let filter = AuditFilter {
            limit: PAGE,
            before_seq: Some(before.unwrap_or(i64::MAX)),
            action: opt(&filters.action),
            target_kind: opt(&filters.target_kind),
            target_id: opt(&filters.target_id),
            actor_user,
            from,
            until,
            ..AuditFilter::default()
        };
        let entries = s
            .app
            .list_audit(&cx.caller, filter)
            .await
            .map_err(|e| cx.fail(e))?;
        // Names of parties are not confidential; they make the actor column readable.
        let parties = s
            .app
            .list_parties(&cx.caller)
            .await
            .map_err(|e| cx.fail(e))?;
        next = (entries.len() == PAGE as usize)
            .then(|| entries.last().map(|e| e.seq))
            .flatten();
        let actors: Vec<UserId> = entries.iter().filter_map(|e| e.actor_user).collect();
        let names = s
            .app
            .audit_actor_names(&cx.caller, &actors)
            .await
            .map_err(|e| cx.fail(e))?;
        let targets: Vec<(String, String)> = entries
            .iter()
            .filter_map(|e| e.target_kind.clone().zip(e.target_id.clone()))
            .collect();
        let names = Names {
            users: names,
            targets: s
                .app
                .audit_target_names(&cx.caller, &targets)
                .await
                .map_err(|e| cx.fail(e))?,
        };
        rows = entries.iter().map(|e| row(e, &parties, &names)).collect();
    } else {
        // A filter that cannot be read is not run. The permission is checked all the same (an
        // empty, audited read), so that someone who may not read the log gets the API's refusal
        // rather than help with the form.
        s.app
            .list_audit(
                &cx.caller,
                AuditFilter {
                    limit: 1,
                    after_seq: i64::MAX,
                    ..AuditFilter::default()
                },
            )
            .await
            .map_err(|e| cx.fail(e))?;
    }
    let page = AuditPage {
        f: cx.frame(),
        filters,
        rows,
        next,
        verified,
        problems: p,
        actions: known_actions(),
    };
    html(t, &page)
}

pub(crate) async fn list(State(s): State<AppState>, cx: PageCtx) -> PageResult {
    list_page(&s, &cx, Filters::default(), None, None).await
}

pub(crate) async fn search(
    State(s): State<AppState>,
    PostForm { cx, form }: PostForm<Fields>,
) -> PageResult {
    let filters = Filters::from_form(&form);
    let before = match form.get("before") {
        "" => None,
        b => Some(b.parse::<i64>().map_err(|_| PageError::BadForm(cx.t))?),
    };
    list_page(&s, &cx, filters, before, None).await
}

/// Walks the whole chain now and shows how far it holds.
pub(crate) async fn verify(
    State(s): State<AppState>,
    PostForm { cx, .. }: PostForm<Fields>,
) -> PageResult {
    let verified = match s.app.verify_audit_as(&cx.caller).await {
        Ok(r) => Verified::Intact {
            entries: r.entries,
            head: r.head_hash,
        },
        Err(AppError::ChainBroken(b)) => Verified::Broken {
            seq: b.seq,
            reason: b.reason,
        },
        Err(e) => return Err(cx.fail(e)),
    };
    list_page(&s, &cx, Filters::default(), None, Some(verified)).await
}

#[derive(Template)]
#[template(path = "audit_entry.html")]
pub(crate) struct EntryPage<'a> {
    pub f: Frame<'a>,
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub actor_user: String,
    pub actor_party: String,
    pub target_kind: String,
    pub target_id: String,
    pub source: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

pub(crate) async fn entry(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(seq): ApiPath<i64>,
) -> PageResult {
    let filter = AuditFilter {
        after_seq: seq.saturating_sub(1),
        limit: 1,
        ..AuditFilter::default()
    };
    let e = s
        .app
        .list_audit(&cx.caller, filter)
        .await
        .map_err(|e| cx.fail(e))?
        .into_iter()
        .find(|e| e.seq == seq)
        .ok_or_else(|| cx.fail(AppError::NotFound))?;
    let parties = s
        .app
        .list_parties(&cx.caller)
        .await
        .map_err(|e| cx.fail(e))?;
    let party = e
        .actor_party
        .map(|p| {
            let name = parties
                .iter()
                .find(|x| x.id == p)
                .map(|x| x.name.as_str().to_owned())
                .unwrap_or_default();
            format!("{name} ({p})")
        })
        .unwrap_or_default();
    let details = serde_json::from_str::<serde_json::Value>(&e.details)
        .ok()
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_default();
    let page = EntryPage {
        f: cx.frame(),
        seq: e.seq,
        at: when(&e.at),
        action: e.action.clone(),
        actor_user: match e.actor_user {
            Some(u) => {
                let names = s
                    .app
                    .audit_actor_names(&cx.caller, &[u])
                    .await
                    .map_err(|e| cx.fail(e))?;
                match names.get(&u) {
                    Some(n) => format!("{n} ({u})"),
                    None => u.to_string(),
                }
            }
            None => String::new(),
        },
        actor_party: party,
        target_kind: e.target_kind.clone().unwrap_or_default(),
        target_id: e.target_id.clone().unwrap_or_default(),
        source: e.source.clone().unwrap_or_default(),
        details,
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    };
    html(cx.t, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_utc() {
        let m = moment("2026-03-04T05:06").expect("datetime-local");
        assert_eq!(m.to_rfc3339(), "2026-03-04T05:06:00+00:00");
        assert!(moment("2026-03-04").is_some());
        assert!(moment("2026-03-04T05:06:07Z").is_some());
        assert!(moment("yesterday").is_none());
    }
}
