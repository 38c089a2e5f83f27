//! The Cases page's use-case: find cases by state, party, round, an overdue follow-up, a child's
//! name in any script or a case number; sorted, counted and paged. Scoped exactly like the API's
//! case list ([`App::list_cases`]): the same permission, the same sight of each case (its
//! workflow only) and the same list audit, plus the child records of the page within the caller's
//! record scope, audited in the same entry, so the page can name each child.

use crate::matching::CaseView;
use crate::sight::{CaseParts, CaseSight};
use crate::{App, AppError, AppResult, Caller};
use homeward_domain::{
    AuditAction, CaseNumber, CaseState, ChildRecord, PartyId, Permission, RecordId, Scope,
};
use homeward_store::CaseSearch;
pub use homeward_store::CaseSort;
use std::collections::HashMap;

/// At most this many cases on one page.
pub const MAX_PER_PAGE: u32 = 200;
/// What a search is up to.
pub const TEXT_MAX: usize = 200;

/// What the Cases page asks for.
#[derive(Clone, Debug, Default)]
pub struct CaseListQuery {
    pub state: Option<CaseState>,
    /// Cases with a record filed by this party.
    pub party: Option<PartyId>,
    /// Cases listed in this round (the list reference of their listing).
    pub round: Option<String>,
    /// Only cases with a follow-up visit overdue today.
    pub overdue: bool,
    /// A case number (`HW-2026-00042`, or typed loosely: `hw 2026 42`) or a child's name in any
    /// script and spelling.
    pub text: Option<String>,
    pub sort: CaseSort,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
    /// 0 means 50.
    pub per_page: u32,
}

/// One case on the page, with the child records the caller may read.
#[derive(Clone, Debug)]
pub struct CaseListItem {
    pub case: CaseView,
    pub tracing: Option<ChildRecord>,
    pub custody: Option<ChildRecord>,
}

/// One page of the search.
#[derive(Clone, Debug)]
pub struct CaseList {
    pub items: Vec<CaseListItem>,
    /// Every case the filters keep.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    /// The text was read as this case number (rather than as a name).
    pub number: Option<CaseNumber>,
}

impl CaseList {
    pub fn pages(&self) -> u32 {
        let per = i64::from(self.per_page.max(1));
        u32::try_from((self.total + per - 1) / per).unwrap_or(u32::MAX)
    }
}

impl App {
    /// The child records among `ids` the caller may read, in one audited read (`record.list`
    /// with the ids): how a page names the children of a list (the review queue, transfer
    /// lists) without one read per row. Those the caller may not read are left out.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn children_named(
        &self,
        caller: &Caller,
        ids: &[RecordId],
    ) -> AppResult<HashMap<RecordId, ChildRecord>> {
        if !caller.may(Permission::RecordRead) {
            return Ok(HashMap::new());
        }
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        let audit = caller
            .audit(AuditAction::RecordList)
            .details(serde_json::json!({ "named": true }));
        let records = self
            .store
            .records_by_ids(caller.scope(), &ids, vec![audit])
            .await?;
        Ok(records.into_iter().map(|r| (r.id, r)).collect())
    }

    /// The Cases page's search (see the module).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn case_list(&self, caller: &Caller, q: &CaseListQuery) -> AppResult<CaseList> {
        caller.require(Permission::CaseRead, &self.config)?;
        let per_page = if q.per_page == 0 { 50 } else { q.per_page };
        if per_page > MAX_PER_PAGE {
            return Err(AppError::invalid(
                "per_page",
                "out_of_range",
                format!("1 to {MAX_PER_PAGE}"),
            ));
        }
        let page = q.page.max(1);
        let offset = (page - 1)
            .checked_mul(per_page)
            .ok_or_else(|| AppError::invalid("page", "out_of_range", "too far"))?;
        let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if text.is_some_and(|t| t.chars().count() > TEXT_MAX) {
            return Err(AppError::invalid(
                "q",
                "too_long",
                format!("at most {TEXT_MAX} characters"),
            ));
        }
        let number = text.and_then(CaseNumber::lenient);
        // A name matches in any script or spelling: the linkage normaliser's terms, as the
        // record list searches them.
        let name_terms = match (number, text) {
            (None, Some(t)) => homeward_linkage::search_terms(t),
            _ => Vec::new(),
        };
        if text.is_some() && number.is_none() && name_terms.iter().all(Vec::is_empty) {
            return Err(AppError::invalid(
                "q",
                "no_letters",
                "a name or a case number such as HW-2026-00042",
            ));
        }
        let search = CaseSearch {
            state: q.state,
            party: q.party,
            round: q.round.clone().filter(|r| !r.trim().is_empty()),
            overdue_on: q.overdue.then(|| self.now().date_naive()),
            number,
            name_terms,
            sort: q.sort,
            descending: q.descending,
            offset,
            limit: per_page,
        };
        let sight = CaseSight::of(caller, CaseParts::WORKFLOW);
        let mut audit = vec![caller.audit(AuditAction::CaseList)];
        audit.extend(sight.list_audits(caller));
        let records = if caller.may(Permission::RecordRead) {
            caller.scope()
        } else {
            Scope::Nothing
        };
        let found = self.store.search_cases(&search, records, audit).await?;
        let mut by_id: HashMap<RecordId, ChildRecord> =
            found.records.into_iter().map(|r| (r.id, r)).collect();
        let items = found
            .items
            .into_iter()
            .map(|c| {
                let tracing = c.case.tracing_request.and_then(|r| by_id.remove(&r));
                let custody = c.case.custody_record.and_then(|r| by_id.remove(&r));
                CaseListItem {
                    case: CaseView::seen(c, sight),
                    tracing,
                    custody,
                }
            })
            .collect();
        Ok(CaseList {
            items,
            total: found.total,
            page,
            per_page,
            number,
        })
    }
}
