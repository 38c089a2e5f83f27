//! Case numbers and the search behind the Cases page.
//!
//! A case's number (`HW-2026-00042`, [`CaseNumber`]) is taken from `case_number_counters`, one row
//! per year that only grows, in the transaction that opens the case: the counter's row is updated
//! with `RETURNING`, so two openings never get the same number (on PostgreSQL the row lock orders
//! them; SQLite serialises writers anyway) and a number given is never given again.
//!
//! The search finds cases by state, by a party either record was filed by, by the round of the
//! list the case was put on, by an overdue follow-up, by case number, and by the name of either
//! child record, in any script: the name terms are the linkage normaliser's
//! ([`homeward_linkage::search_terms`] in the app), matched against the records' `search_key`
//! like the record list does. It pages by offset and counts every case the filters keep.

use crate::{Result, StoredCase};
use async_trait::async_trait;
use chrono::NaiveDate;
use homeward_domain::{AuditDraft, CaseId, CaseNumber, CaseState, ChildRecord, PartyId, Scope};

/// How a case search is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// By when the case was opened, which is the order of the numbers.
    #[default]
    Opened,
    /// By the last change.
    Updated,
    /// By state (alphabetically by its code), then by number.
    State,
}

/// What the Cases page asks for. Every filter left empty keeps every case.
#[derive(Clone, Debug, Default)]
pub struct CaseSearch {
    pub state: Option<CaseState>,
    /// Cases with a record filed by this party (either side).
    pub party: Option<PartyId>,
    /// Cases listed in this round (the `list_ref` of their listing).
    pub round: Option<String>,
    /// Cases with an open follow-up due before this day.
    pub overdue_on: Option<NaiveDate>,
    pub number: Option<CaseNumber>,
    /// Every inner list must have one alternative in either record's search key.
    pub name_terms: Vec<Vec<String>>,
    pub sort: CaseSort,
    pub descending: bool,
    pub offset: u32,
    /// 0 means 50; at most 200.
    pub limit: u32,
}

/// One page of a search, and how many cases the filters keep in all.
#[derive(Clone, Debug)]
pub struct CaseSearchPage {
    pub items: Vec<StoredCase>,
    pub total: i64,
    /// The child records of the page's cases that the `records` scope reaches (not deleted ones
    /// too: a merged or deleted record still names its case's child).
    pub records: Vec<ChildRecord>,
}

#[async_trait]
pub trait CaseSearchStore: Send + Sync {
    /// The cases the search keeps, one page of them, with their child records within `records`
    /// (`Scope::Nothing`: none); every entry of `audit` is appended with the page's `"case_ids"`
    /// and the `"record_ids"` read.
    async fn search_cases(
        &self,
        q: &CaseSearch,
        records: Scope,
        audit: Vec<AuditDraft>,
    ) -> Result<CaseSearchPage>;

    /// The case with this number, if any. Not audited (it says no more than that the number was
    /// given, which the caller reads next with an audited read).
    async fn case_by_number(&self, number: CaseNumber) -> Result<Option<CaseId>>;

    /// The records among `ids` that `scope` reaches (deleted ones too: they still name a child
    /// a page shows), for naming the children of a page in one read; each entry of `audit` is
    /// appended with the `"record_ids"` read when there are any (none for a read that another
    /// entry already covers).
    async fn records_by_ids(
        &self,
        scope: Scope,
        ids: &[homeward_domain::RecordId],
        audit: Vec<AuditDraft>,
    ) -> Result<Vec<ChildRecord>>;
}

/// The number of the `seq`-th case opened in `year`, or `Corrupt` when the counter went
/// somewhere no number can be.
pub(crate) fn number_of(year: i32, seq: i64) -> Result<CaseNumber> {
    CaseNumber::new(year, seq)
        .map_err(|e| crate::StoreError::Corrupt(format!("case number {year}/{seq}: {e}")))
}

/// Implements [`CaseSearchStore`] for `$store` (database `$db`); `$list_ref` reads the round of
/// a case `c`'s listing from its content. Also gives the store `reserve_case_numbers_in`.
macro_rules! impl_case_search {
    ($store:ident, $db:ty, $list_ref:expr) => {
        mod case_search_impl {
            use super::$store;
            use crate::backend::{page_limit, scope_party, with_ids};
            use crate::case_search::{CaseSearch, CaseSearchPage, CaseSearchStore, CaseSort};
            use crate::rows::{record_columns, CaseRow, RecordRow};
            use crate::{like_escape, Result, StoreError, StoredCase};
            use async_trait::async_trait;
            use homeward_domain::{AuditDraft, CaseId, CaseNumber, ChildRecord, Scope};
            use sqlx::QueryBuilder;
            use uuid::Uuid;

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;

            impl $store {
                /// Takes `n` numbers of `year` (n ≥ 1) in the caller's transaction; returns the
                /// last one's sequence (the first is `last - n + 1`).
                pub(crate) async fn reserve_case_numbers_in(conn: &mut Conn, year: i32, n: i64) -> Result<i64> {
                    let last: i64 = sqlx::query_scalar(
                        "INSERT INTO case_number_counters (year, last) VALUES ($1, $2) \
                         ON CONFLICT (year) DO UPDATE SET last = case_number_counters.last + $2 \
                         RETURNING last",
                    )
                    .bind(year)
                    .bind(n)
                    .fetch_one(&mut *conn)
                    .await?;
                    Ok(last)
                }
            }

            fn push_filters<'a>(qb: &mut QueryBuilder<'a, Db>, q: &'a CaseSearch) {
                if let Some(st) = q.state {
                    qb.push(" AND c.state = ").push_bind(st.as_str());
                }
                if let Some(p) = q.party {
                    qb.push(" AND EXISTS (SELECT 1 FROM records r WHERE (r.id = c.tracing_record_id OR r.id = c.custody_record_id) AND r.party_id = ")
                        .push_bind(p.0)
                        .push(")");
                }
                if let Some(round) = &q.round {
                    qb.push(" AND ").push($list_ref).push(" = ").push_bind(round.as_str());
                }
                if let Some(d) = q.overdue_on {
                    qb.push(" AND c.follow_up_due IS NOT NULL AND c.follow_up_due < ").push_bind(d.to_string());
                }
                if let Some(n) = q.number {
                    qb.push(" AND c.number = ").push_bind(n.to_string());
                }
                let terms: Vec<&Vec<String>> = q.name_terms.iter().filter(|a| !a.is_empty()).collect();
                if !terms.is_empty() {
                    qb.push(" AND EXISTS (SELECT 1 FROM records r WHERE (r.id = c.tracing_record_id OR r.id = c.custody_record_id)");
                    for alternatives in terms {
                        qb.push(" AND (");
                        for (i, a) in alternatives.iter().enumerate() {
                            if i > 0 {
                                qb.push(" OR ");
                            }
                            qb.push("r.search_key LIKE '%' || ")
                                .push_bind(like_escape(a))
                                .push(" || '%' ESCAPE '\\'");
                        }
                        qb.push(")");
                    }
                    qb.push(")");
                }
            }

            #[async_trait]
            impl CaseSearchStore for $store {
                async fn search_cases(&self, q: &CaseSearch, records: Scope, audit: Vec<AuditDraft>) -> Result<CaseSearchPage> {
                    let mut tx = self.begin_write().await?;
                    let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM cases c WHERE 1 = 1");
                    push_filters(&mut count, q);
                    let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
                    drop(count);
                    let mut qb = QueryBuilder::<Db>::new(
                        "SELECT c.content, c.version, c.created_at, c.updated_at, c.number FROM cases c WHERE 1 = 1",
                    );
                    push_filters(&mut qb, q);
                    let dir = if q.descending { " DESC" } else { "" };
                    match q.sort {
                        CaseSort::Opened => qb.push(format!(" ORDER BY c.created_at{dir}, c.id{dir}")),
                        CaseSort::Updated => qb.push(format!(" ORDER BY c.updated_at{dir}, c.id{dir}")),
                        CaseSort::State => qb.push(format!(" ORDER BY c.state{dir}, c.created_at, c.id")),
                    };
                    qb.push(" LIMIT ").push_bind(page_limit(q.limit, 50, 200));
                    qb.push(" OFFSET ").push_bind(i64::from(q.offset));
                    let rows: Vec<CaseRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    drop(qb);
                    let items = rows.into_iter().map(StoredCase::try_from).collect::<Result<Vec<_>>>()?;
                    let ids: Vec<String> = items.iter().map(|c| c.case.id.to_string()).collect();
                    let wanted: Vec<Uuid> = items
                        .iter()
                        .flat_map(|c| [c.case.tracing_request, c.case.custody_record])
                        .flatten()
                        .map(|r| r.0)
                        .collect();
                    let mut children: Vec<ChildRecord> = Vec::new();
                    if let (Some(party), false) = (scope_party(records), wanted.is_empty()) {
                        let mut qb = QueryBuilder::<Db>::new(concat!("SELECT ", record_columns!(), " FROM records WHERE id IN ("));
                        let mut sep = qb.separated(", ");
                        for id in &wanted {
                            sep.push_bind(*id);
                        }
                        qb.push(")");
                        if let Some(p) = party {
                            qb.push(" AND party_id = ").push_bind(p);
                        }
                        let rows: Vec<RecordRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                        children = rows.into_iter().map(ChildRecord::from).collect();
                    }
                    let record_ids: Vec<String> = children.iter().map(|r| r.id.to_string()).collect();
                    let audit = audit
                        .into_iter()
                        .map(|a| {
                            let details = with_ids(a.details.clone(), "case_ids", ids.clone());
                            let details = if record_ids.is_empty() { details } else { with_ids(details, "record_ids", record_ids.clone()) };
                            AuditDraft { details, ..a }
                        })
                        .collect();
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(CaseSearchPage { items, total, records: children })
                }

                async fn records_by_ids(&self, scope: Scope, ids: &[homeward_domain::RecordId], audit: Vec<AuditDraft>) -> Result<Vec<ChildRecord>> {
                    let Some(party) = scope_party(scope) else { return Ok(Vec::new()) };
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut tx = self.begin_write().await?;
                    let mut records = Vec::new();
                    for chunk in ids.chunks(500) {
                        let mut qb = QueryBuilder::<Db>::new(concat!("SELECT ", record_columns!(), " FROM records WHERE id IN ("));
                        let mut sep = qb.separated(", ");
                        for id in chunk {
                            sep.push_bind(id.0);
                        }
                        qb.push(")");
                        if let Some(p) = party {
                            qb.push(" AND party_id = ").push_bind(p);
                        }
                        let rows: Vec<RecordRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                        records.extend(rows.into_iter().map(ChildRecord::from));
                    }
                    if records.is_empty() || audit.is_empty() {
                        return Ok(records);
                    }
                    let read: Vec<String> = records.iter().map(|r| r.id.to_string()).collect();
                    let audit = audit
                        .into_iter()
                        .map(|a| AuditDraft { details: with_ids(a.details.clone(), "record_ids", read.clone()), ..a })
                        .collect();
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(records)
                }

                async fn case_by_number(&self, number: CaseNumber) -> Result<Option<CaseId>> {
                    let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM cases WHERE number = $1")
                        .bind(number.to_string())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(StoreError::from)?;
                    Ok(id.map(CaseId))
                }
            }
        }
    };
}

pub(crate) use impl_case_search;
