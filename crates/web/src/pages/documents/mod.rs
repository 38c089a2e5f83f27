//! Printable documents (issue 15): the case summary, the custody chain, a handover receipt and
//! the transfer-list manifest both sides sign, in the reader's language (or `?lang=`), as
//! print-styled HTML or, with `?format=pdf`, as PDF with its fonts embedded.
//!
//! A document is built once as a neutral [`Doc`] (title, blocks of label–value pairs, tables,
//! signature lines) and drawn by either renderer, so the HTML and the PDF cannot say different
//! things. Each document reads through the app exactly what the page it comes from reads, with
//! the same permission and party scope.

mod pdf;

use super::context::PageCtx;
use super::error::{PageResult, html, render};
use super::i18n::{Tr, tr};
use super::names::{ShownName, all_names};
use super::show::{code_of, when};
use super::transfers::{DIRECTIONS, case_label};
use crate::AppState;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_app::documents::CaseDocument;
use homeward_app::transfers::{ListPeople, ListView};
use homeward_domain::{
    CaseId, ChildRecord, CustodianKind, Handover, Language, RecordId, TransferListId, UserId,
};
use serde::Deserialize;
use std::collections::HashMap;

/// One part of a document.
#[derive(Debug)]
pub(crate) enum Block {
    Heading(String),
    Para(String),
    /// Label–value pairs.
    Fields(Vec<(String, String)>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A line to sign above each caption.
    Signatures(Vec<String>),
}

/// A document, in one language.
#[derive(Debug, Template)]
#[template(path = "document.html")]
pub(crate) struct Doc {
    pub title: String,
    /// When it was printed and by whom.
    pub subtitle: String,
    /// What each page's foot says (the document and its case or list).
    pub footer: String,
    pub lang: &'static str,
    pub rtl: bool,
    pub blocks: Vec<Block>,
    /// The same document as PDF, for the HTML's link.
    pub pdf_href: String,
    pub pdf_label: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DocQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

impl DocQuery {
    fn tr(&self, cx: &PageCtx) -> &'static Tr {
        self.lang
            .as_deref()
            .and_then(Language::parse)
            .map_or(cx.t, tr)
    }

    fn pdf(&self) -> bool {
        self.format.as_deref() == Some("pdf")
    }
}

fn custodian(t: &Tr, k: CustodianKind) -> String {
    t.word("tr_custodian_", &code_of(&k))
}

/// The child as the documents name it: case number, each name as written with its
/// transliteration, the birth date.
fn child_fields(
    t: &Tr,
    number: &str,
    records: &[RecordId],
    children: &HashMap<RecordId, ChildRecord>,
) -> Vec<(String, String)> {
    let mut out = vec![(t.get("doc_case_number").to_owned(), number.to_owned())];
    let mut seen: Vec<ShownName> = Vec::new();
    let mut born = String::new();
    for r in records.iter().filter_map(|id| children.get(id)) {
        for n in all_names(r) {
            if !seen.iter().any(|m| m.written == n.written) {
                seen.push(n);
            }
        }
        if born.is_empty()
            && let Some(b) = &r.content.birth_date
        {
            born = b.to_string();
        }
    }
    if seen.is_empty() {
        out.push((
            t.get("doc_name_written").to_owned(),
            t.get("doc_names_hidden").to_owned(),
        ));
    }
    for n in seen {
        out.push((t.get("doc_name_written").to_owned(), n.written));
        if !n.latin.is_empty() {
            out.push((t.get("doc_translit").to_owned(), n.latin));
        }
    }
    if !born.is_empty() {
        out.push((t.get("doc_born").to_owned(), born));
    }
    out
}

fn user(t: &Tr, users: &HashMap<UserId, String>, u: &UserId) -> String {
    users
        .get(u)
        .cloned()
        .unwrap_or_else(|| t.get("tr_user_gone").to_owned())
}

fn chain_table(t: &Tr, d: &CaseDocument) -> Block {
    let case = &d.detail.view.case;
    if case.handovers.is_empty() {
        return Block::Para(t.get("doc_no_handovers").to_owned());
    }
    let head = [
        "#",
        "doc_when",
        "doc_place",
        "doc_from",
        "doc_to",
        "doc_witnesses",
        "doc_recorded_by",
    ]
    .map(|k| t.get(k).to_owned())
    .to_vec();
    let rows = case
        .handovers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            vec![
                (i + 1).to_string(),
                when(&h.at),
                h.place.clone().unwrap_or_default(),
                format!("{} ({})", h.giver.name, custodian(t, h.giver.kind)),
                format!("{} ({})", h.receiver.name, custodian(t, h.receiver.kind)),
                h.witnesses.join(", "),
                user(t, &d.users, &h.recorded_by),
            ]
        })
        .collect();
    Block::Table { head, rows }
}

/// The document's header lines: printed when, by whom.
fn printed(t: &Tr, cx: &PageCtx) -> String {
    // The date isolated left to right: after Arabic letters its digits would otherwise be read
    // as Arabic numbers and its parts swapped (2026-12-08 shown as 08-12-2026).
    format!(
        "{} \u{2066}{}\u{2069} · {}",
        t.get("doc_printed"),
        when(&cx.now),
        cx.caller.user().display_name
    )
}

fn doc(t: &Tr, cx: &PageCtx, title: String, footer: String, blocks: Vec<Block>) -> Doc {
    Doc {
        subtitle: printed(t, cx),
        title,
        footer,
        lang: t.code(),
        rtl: t.lang.is_rtl(),
        blocks,
        pdf_href: format!("{}?format=pdf&lang={}", cx.here, t.code()),
        pdf_label: t.get("doc_pdf").to_owned(),
    }
}

fn records_of(d: &CaseDocument) -> Vec<RecordId> {
    let c = &d.detail.view.case;
    [c.tracing_request, c.custody_record]
        .into_iter()
        .flatten()
        .collect()
}

fn summary(t: &Tr, cx: &PageCtx, d: &CaseDocument) -> Doc {
    let v = &d.detail.view;
    let number = v.number.to_string();
    let mut facts = vec![
        (
            t.get("doc_state").to_owned(),
            t.get(&format!("state_{}", v.case.state.as_str()))
                .to_owned(),
        ),
        (t.get("doc_opened").to_owned(), when(&v.case.opened_at)),
        (
            t.get("doc_opened_by").to_owned(),
            user(t, &d.users, &v.case.opened_by),
        ),
    ];
    if let Some(r) = &v.case.reunification {
        facts.push((
            t.get("doc_reunification").to_owned(),
            format!("{} · {}", when(&r.at), r.place),
        ));
    }
    let blocks = vec![
        Block::Heading(t.get("doc_child").to_owned()),
        Block::Fields(child_fields(t, &number, &records_of(d), &d.children)),
        Block::Heading(t.get("doc_case").to_owned()),
        Block::Fields(facts),
        Block::Heading(t.get("doc_custody_chain").to_owned()),
        chain_table(t, d),
    ];
    let title = format!("{} · {number}", t.get("doc_case_summary"));
    doc(t, cx, title.clone(), title, blocks)
}

fn chain(t: &Tr, cx: &PageCtx, d: &CaseDocument) -> Doc {
    let number = d.detail.view.number.to_string();
    let blocks = vec![
        Block::Fields(child_fields(t, &number, &records_of(d), &d.children)),
        Block::Heading(t.get("doc_handovers").to_owned()),
        chain_table(t, d),
        Block::Signatures(vec![t.get("doc_sign_mediator").to_owned()]),
    ];
    let title = format!("{} · {number}", t.get("doc_custody_chain"));
    doc(t, cx, title.clone(), title, blocks)
}

fn receipt(t: &Tr, cx: &PageCtx, d: &CaseDocument, n: usize, h: &Handover) -> Doc {
    let number = d.detail.view.number.to_string();
    let facts = vec![
        (t.get("doc_when").to_owned(), when(&h.at)),
        (
            t.get("doc_place").to_owned(),
            h.place.clone().unwrap_or_default(),
        ),
        (
            t.get("doc_from").to_owned(),
            format!("{} ({})", h.giver.name, custodian(t, h.giver.kind)),
        ),
        (
            t.get("doc_to").to_owned(),
            format!("{} ({})", h.receiver.name, custodian(t, h.receiver.kind)),
        ),
        (t.get("doc_witnesses").to_owned(), h.witnesses.join(", ")),
        (
            t.get("doc_recorded_by").to_owned(),
            user(t, &d.users, &h.recorded_by),
        ),
    ];
    let mut signs = vec![
        format!("{}: {}", t.get("doc_sign_giver"), h.giver.name),
        format!("{}: {}", t.get("doc_sign_receiver"), h.receiver.name),
    ];
    signs.extend(
        h.witnesses
            .iter()
            .map(|w| format!("{}: {w}", t.get("doc_sign_witness"))),
    );
    let blocks = vec![
        Block::Heading(t.get("doc_child").to_owned()),
        Block::Fields(child_fields(t, &number, &records_of(d), &d.children)),
        Block::Heading(format!("{} {n}", t.get("doc_handover"))),
        Block::Fields(facts),
        Block::Signatures(signs),
    ];
    let title = format!("{} · {number} · {n}", t.get("doc_handover_receipt"));
    doc(t, cx, title.clone(), title, blocks)
}

/// The document as the query asks: HTML to print, or PDF.
fn answer(t: &'static Tr, d: &Doc, q: &DocQuery) -> PageResult {
    if !q.pdf() {
        return html(t, d);
    }
    match pdf::render(d) {
        Ok(bytes) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            )],
            bytes,
        )
            .into_response()),
        Err(e) => {
            tracing::error!(error = %e, "document failed to render as PDF");
            Ok(render(
                t,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                t.get("error_internal"),
            ))
        }
    }
}

fn format_code(q: &DocQuery) -> &'static str {
    if q.pdf() { "pdf" } else { "html" }
}

async fn read(
    s: &AppState,
    cx: &PageCtx,
    id: CaseId,
    what: &str,
) -> Result<CaseDocument, Response> {
    s.app
        .case_document(&cx.caller, id, what)
        .await
        .map_err(|e| cx.fail(e).into_response())
}

pub(crate) async fn case_summary(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<CaseId>,
    Query(q): Query<DocQuery>,
) -> PageResult {
    let t = q.tr(&cx);
    let d = match read(&s, &cx, id, &format!("case_summary.{}", format_code(&q))).await {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    answer(t, &summary(t, &cx, &d), &q)
}

pub(crate) async fn custody_chain(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<CaseId>,
    Query(q): Query<DocQuery>,
) -> PageResult {
    let t = q.tr(&cx);
    let d = match read(&s, &cx, id, &format!("custody_chain.{}", format_code(&q))).await {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    answer(t, &chain(t, &cx, &d), &q)
}

pub(crate) async fn handover_receipt(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath((id, n)): ApiPath<(CaseId, usize)>,
    Query(q): Query<DocQuery>,
) -> PageResult {
    let t = q.tr(&cx);
    let what = format!("handover_receipt.{n}.{}", format_code(&q));
    let d = match read(&s, &cx, id, &what).await {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let Some(h) = n
        .checked_sub(1)
        .and_then(|i| d.detail.view.case.handovers.get(i))
    else {
        return Err(cx.fail(homeward_app::AppError::NotFound));
    };
    answer(t, &receipt(t, &cx, &d, n, h), &q)
}

/// The rows of one direction of a manifest: number, child, born, record.
fn manifest_rows(
    t: &Tr,
    view: &ListView,
    people: &ListPeople,
    dir: homeward_domain::Direction,
) -> Vec<Vec<String>> {
    let name_cell = |names: &[ShownName]| {
        if names.is_empty() {
            return t.get("doc_names_hidden").to_owned();
        }
        names
            .iter()
            .map(|n| match n.latin.as_str() {
                "" => n.written.clone(),
                latin => format!("{} ({latin})", n.written),
            })
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let born = |ids: &[RecordId]| {
        ids.iter()
            .filter_map(|r| people.children.get(r))
            .find_map(|r| r.content.birth_date.as_ref().map(ToString::to_string))
            .unwrap_or_default()
    };
    match view {
        ListView::Mediator(d) => d
            .list
            .active_entries()
            .filter(|e| e.direction == dir)
            .enumerate()
            .map(|(i, e)| {
                let ids = [e.tracing_request, e.custody_record];
                let label = case_label(people, e.case_id, &ids);
                vec![
                    (i + 1).to_string(),
                    label.number.clone(),
                    name_cell(&label.names),
                    born(&ids),
                ]
            })
            .collect(),
        ListView::Party(p) => p
            .entries
            .iter()
            .filter(|e| e.direction == dir)
            .enumerate()
            .map(|(i, e)| {
                let names = people
                    .children
                    .get(&e.record_id)
                    .map(all_names)
                    .unwrap_or_default();
                vec![
                    (i + 1).to_string(),
                    String::new(),
                    name_cell(&names),
                    born(&[e.record_id]),
                ]
            })
            .collect(),
    }
}

fn manifest(t: &Tr, cx: &PageCtx, view: &ListView, people: &ListPeople) -> Doc {
    let (round, version, hash) = match view {
        ListView::Mediator(d) => (d.list.round.clone(), d.version, d.hash.clone()),
        ListView::Party(p) => (p.round.clone(), p.version, p.hash.clone()),
    };
    let mut blocks = vec![Block::Fields(vec![
        (t.get("doc_round").to_owned(), round.clone()),
        (t.get("doc_version").to_owned(), version.to_string()),
        (t.get("doc_hash").to_owned(), hash),
    ])];
    let head = ["#", "doc_case_number", "doc_child", "doc_born"]
        .map(|k| t.get(k).to_owned())
        .to_vec();
    for dir in DIRECTIONS {
        blocks.push(Block::Heading(
            t.get(&format!("tr_dir_{}", dir.as_str())).to_owned(),
        ));
        let rows = manifest_rows(t, view, people, dir);
        if rows.is_empty() {
            blocks.push(Block::Para(t.get("doc_none").to_owned()));
        } else {
            blocks.push(Block::Table {
                head: head.clone(),
                rows,
            });
        }
    }
    if let ListView::Mediator(d) = view {
        let approvals: Vec<Vec<String>> = d
            .list
            .approvals
            .iter()
            .map(|a| {
                vec![
                    t.get(&format!("tr_side_{}", a.side.as_str())).to_owned(),
                    user(t, &people.users, &a.by),
                    when(&a.at),
                ]
            })
            .collect();
        if !approvals.is_empty() {
            blocks.push(Block::Heading(t.get("doc_approvals").to_owned()));
            blocks.push(Block::Table {
                head: ["doc_side", "doc_by", "doc_when"]
                    .map(|k| t.get(k).to_owned())
                    .to_vec(),
                rows: approvals,
            });
        }
    }
    blocks.push(Block::Signatures(vec![
        t.get("doc_sign_origin").to_owned(),
        t.get("doc_sign_custody").to_owned(),
        t.get("doc_sign_mediator").to_owned(),
    ]));
    let title = format!("{} · {round} · v{version}", t.get("doc_manifest"));
    doc(t, cx, title.clone(), title, blocks)
}

/// The manifest of a transfer list, as the list page shows it to the reader (the mediator:
/// case numbers and both records' names; a side: its own records).
pub(crate) async fn list_manifest(
    State(s): State<AppState>,
    cx: PageCtx,
    ApiPath(id): ApiPath<TransferListId>,
    Query(q): Query<DocQuery>,
) -> PageResult {
    let t = q.tr(&cx);
    let what = format!("manifest.{}", format_code(&q));
    let (view, people) = s
        .app
        .list_document(&cx.caller, id, &what)
        .await
        .map_err(|e| cx.fail(e))?;
    answer(t, &manifest(t, &cx, &view, &people), &q)
}
