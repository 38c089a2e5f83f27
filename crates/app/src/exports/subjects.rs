//! Exports of transfer lists, plans and follow-up visits: one row per child (on a list, on a
//! plan, per visit), naming the child by the names as written, their Latin transliteration and
//! the case number, as a person reads them.
//!
//! Scoped by the very rules of the reads ([`App::list_reader`], [`App::plan_reader`],
//! [`App::follow_up_reader`] with [`follow_up_visible`]), applied to the requester as the job
//! runs: the mediator's staff who read cases get every list, plan and visit; an origin or custody
//! party gets the lists it is on as its side view shows them (its own record ids and the
//! directions: no case, no other side's record); the origin side gets the visits it is
//! responsible for. A party's children are named from its own records only, read through the
//! scoped record read; the mediator's from both records of the case (read for the names only,
//! under the audited read of the cases, as the case export does).

use super::{ExportActor, ExportFilters, latin};
use crate::aftercare::follow_up_visible;
use crate::jobs::Lease;
use crate::{App, AppResult, Caller};
use chrono::{DateTime, NaiveDate, Utc};
use homeward_domain::{
    AuditAction, CaseId, ChildRecord, FollowUp, NameEntry, PartyId, RecordId, Side, TransferList,
    TravelPlan,
};
use homeward_store::{CaseFilter, StoredCase, StoredTransferList, TransferListFilter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The columns of a transfer lists export (one row per child on a list), in their default order.
pub const TRANSFER_LIST_COLUMNS: [&str; 16] = [
    "list_id",
    "round",
    "list_state",
    "case_number",
    "case_id",
    "direction",
    "tracing_request",
    "custody_record",
    "name",
    "name_latin",
    "birth_date",
    "added_at",
    "withdrawn_at",
    "withdrawal_reason",
    "origin_approved_at",
    "custody_approved_at",
];

/// The columns of a plans export (one row per child on a plan), in their default order.
pub const PLAN_COLUMNS: [&str; 18] = [
    "plan_id",
    "list_id",
    "round",
    "case_number",
    "case_id",
    "name",
    "name_latin",
    "birth_date",
    "approved_at",
    "route",
    "modes",
    "planned_departure",
    "planned_arrival",
    "actual_departure",
    "actual_arrival",
    "escorts",
    "documents",
    "missing_for_approval",
];

/// The columns of a follow-ups export (one row per visit), in their default order.
pub const FOLLOW_UP_COLUMNS: [&str; 13] = [
    "case_number",
    "case_id",
    "record_id",
    "name",
    "name_latin",
    "birth_date",
    "follow_up_id",
    "due",
    "state",
    "responsible",
    "done_at",
    "outcome",
    "waiver_reason",
];

/// Lists read for an export at most (the list read takes no more at once; a round has one).
const LISTS: u32 = 1000;

/// Where a follow-up visit stands on the day of the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FollowUpState {
    /// Neither done nor waived, and not yet due.
    Open,
    /// Neither done nor waived, and past its due date.
    Overdue,
    Done,
    Waived,
}

impl FollowUpState {
    pub const ALL: [FollowUpState; 4] = [Self::Open, Self::Overdue, Self::Done, Self::Waived];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Overdue => "overdue",
            Self::Done => "done",
            Self::Waived => "waived",
        }
    }

    pub fn of(f: &FollowUp, now: DateTime<Utc>) -> Self {
        if f.waiver.is_some() {
            Self::Waived
        } else if !f.is_open(now) {
            Self::Done
        } else if f.is_overdue(now) {
            Self::Overdue
        } else {
            Self::Open
        }
    }
}

/// One row: its cells by column; a column without a cell is empty.
pub(super) type Cells = HashMap<&'static str, String>;

fn put(cells: &mut Cells, column: &'static str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        cells.insert(column, v);
    }
}

/// The names of a child as the rows give them: as written, and in Latin letters.
fn put_names(cells: &mut Cells, names: &[NameEntry]) {
    let joined = |f: &dyn Fn(&NameEntry) -> String| {
        let all: Vec<String> = names.iter().map(f).filter(|s| !s.is_empty()).collect();
        all.join(" | ")
    };
    put(cells, "name", Some(joined(&|n| n.as_written.clone())));
    put(cells, "name_latin", Some(joined(&latin)));
}

/// Every name of these records, each name written differently once.
fn names_of(ids: impl IntoIterator<Item = RecordId>, records: &[ChildRecord]) -> Vec<NameEntry> {
    let mut names: Vec<NameEntry> = Vec::new();
    for id in ids {
        let Some(r) = records.iter().find(|r| r.id == id) else {
            continue;
        };
        for n in &r.content.names {
            if !names.iter().any(|m| m.as_written == n.as_written) {
                names.push(n.clone());
            }
        }
    }
    names
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

/// A value's code as the API writes it (`birth_certificate`, `ngo_worker`).
fn code<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn case_cells(cells: &mut Cells, c: &StoredCase) {
    put(cells, "case_number", Some(c.number.to_string()));
    put(cells, "case_id", Some(c.case.id.to_string()));
}

fn list_cells(cells: &mut Cells, list: &TransferList) {
    put(cells, "list_id", Some(list.id.to_string()));
    put(cells, "round", Some(list.round.clone()));
    put(cells, "list_state", Some(list.state.as_str().to_owned()));
}

fn plan_cells(cells: &mut Cells, plan: &TravelPlan, case: CaseId) {
    let legs = &plan.legs;
    put(cells, "plan_id", Some(plan.id.to_string()));
    put(
        cells,
        "approved_at",
        time(plan.approval.as_ref().map(|a| a.at)),
    );
    let route: Vec<&str> = legs
        .first()
        .map(|l| l.from.as_str())
        .into_iter()
        .chain(legs.iter().map(|l| l.to.as_str()))
        .collect();
    put(cells, "route", Some(route.join(" → ")));
    let modes: Vec<&str> = legs.iter().map(|l| l.mode.as_str()).collect();
    put(cells, "modes", Some(modes.join(" | ")));
    put(
        cells,
        "planned_departure",
        time(legs.first().map(|l| l.planned_departure)),
    );
    put(
        cells,
        "planned_arrival",
        time(legs.last().map(|l| l.planned_arrival)),
    );
    put(
        cells,
        "actual_departure",
        time(legs.first().and_then(|l| l.actual_departure)),
    );
    put(
        cells,
        "actual_arrival",
        time(legs.last().and_then(|l| l.actual_arrival)),
    );
    let escorts: Vec<String> = plan
        .escorts
        .iter()
        .map(|e| format!("{} ({})", e.name, code(&e.kind)))
        .collect();
    put(cells, "escorts", Some(escorts.join(" | ")));
    let documents: Vec<String> = plan
        .documents
        .iter()
        .filter(|d| d.case_id == case)
        .map(|d| {
            format!(
                "{}: {}",
                code(&d.kind),
                if d.ready { "ready" } else { "missing" }
            )
        })
        .collect();
    put(cells, "documents", Some(documents.join(" | ")));
    put(
        cells,
        "missing_for_approval",
        Some(
            plan.missing_for_approval()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" | "),
        ),
    );
}

fn follow_up_cells(cells: &mut Cells, f: &FollowUp, now: DateTime<Utc>) {
    put(cells, "follow_up_id", Some(f.id.to_string()));
    put(cells, "due", Some(f.due.to_string()));
    put(
        cells,
        "state",
        Some(FollowUpState::of(f, now).as_str().to_owned()),
    );
    put(cells, "done_at", time(f.done_at));
    put(cells, "outcome", f.outcome.clone());
    put(
        cells,
        "waiver_reason",
        f.waiver.as_ref().map(|w| w.reason.clone()),
    );
}

/// The child of a case as a follow-up row gives it to its reader.
struct Child {
    /// The reader's own record in the case (a party's; none for the mediator).
    record: Option<RecordId>,
    names: Vec<NameEntry>,
    born: Option<String>,
}

impl Child {
    fn cells(&self, c: &StoredCase) -> Cells {
        let mut cells = Cells::new();
        case_cells(&mut cells, c);
        put(&mut cells, "record_id", self.record.map(|r| r.to_string()));
        put_names(&mut cells, &self.names);
        put(&mut cells, "birth_date", self.born.clone());
        cells
    }
}

fn in_period(due: NaiveDate, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    from.is_none_or(|f| due >= f) && to.is_none_or(|t| due <= t)
}

impl App {
    /// Tells the job (and the page) how far it got.
    async fn export_step(
        &self,
        actor: &ExportActor,
        done: usize,
        lease: &Lease<'_>,
    ) -> AppResult<()> {
        self.store
            .export_progress(actor.export, i64::try_from(done).unwrap_or(i64::MAX), 0)
            .await?;
        lease.progress(done).await
    }

    /// The lists the reader may see that pass the filters, read as a list read (audited).
    async fn export_lists(
        &self,
        party: Option<PartyId>,
        filters: &ExportFilters,
        actor: &ExportActor,
    ) -> AppResult<Vec<StoredTransferList>> {
        let f = TransferListFilter {
            party,
            state: filters.list_state,
            limit: LISTS,
        };
        let audit = actor.within(AuditAction::TransferListList);
        let lists = self.store.list_transfer_lists(&f, audit).await?;
        Ok(lists
            .into_iter()
            .filter(|l| filters.round.as_deref().is_none_or(|r| l.list.round == r))
            .collect())
    }

    /// The cases among `ids` with the names of both their records: the mediator's view.
    async fn export_cases_named(
        &self,
        ids: &[CaseId],
        actor: &ExportActor,
    ) -> AppResult<Vec<(StoredCase, Vec<NameEntry>)>> {
        let cases = self
            .store
            .cases_by_ids(ids, actor.case_list_audit())
            .await?;
        let record_ids: Vec<RecordId> = cases
            .iter()
            .flat_map(|c| [c.case.tracing_request, c.case.custody_record])
            .flatten()
            .collect();
        let records = self.store.records_for_linkage(&record_ids).await?;
        Ok(cases
            .into_iter()
            .map(|c| {
                let names = names_of(
                    [c.case.tracing_request, c.case.custody_record]
                        .into_iter()
                        .flatten(),
                    &records,
                );
                (c, names)
            })
            .collect())
    }

    /// The party's own records among `ids`, through the scoped record read (audited like a list).
    async fn export_own_records(
        &self,
        reader: &Caller,
        ids: &[RecordId],
        actor: &ExportActor,
    ) -> AppResult<Vec<ChildRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let audit = actor.list_audit();
        Ok(self
            .store
            .records_by_ids(reader.scope(), ids, vec![audit])
            .await?)
    }

    /// One row per child on each list the requester may read, a list at a time.
    pub(super) async fn stream_transfer_lists(
        &self,
        reader: &Caller,
        filters: &ExportFilters,
        actor: &ExportActor,
        mut write: impl FnMut(&[Cells]) -> AppResult<()>,
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        let Ok(party) = self.list_reader(reader) else {
            return Ok(0);
        };
        let mut done = 0;
        for stored in self.export_lists(party, filters, actor).await? {
            let rows = match party {
                None => self.mediator_list_rows(&stored.list, actor).await?,
                Some(p) => self.side_list_rows(&stored, p, reader, actor).await?,
            };
            write(&rows)?;
            done += rows.len();
            self.export_step(actor, done, lease).await?;
        }
        Ok(done)
    }

    async fn mediator_list_rows(
        &self,
        list: &TransferList,
        actor: &ExportActor,
    ) -> AppResult<Vec<Cells>> {
        let ids: Vec<CaseId> = list.entries.iter().map(|e| e.case_id).collect();
        let cases = self.export_cases_named(&ids, actor).await?;
        let approved = |side| time(list.approval(side).map(|a| a.at));
        Ok(list
            .entries
            .iter()
            .map(|e| {
                let mut cells = Cells::new();
                list_cells(&mut cells, list);
                if let Some((c, names)) = cases.iter().find(|(c, _)| c.case.id == e.case_id) {
                    case_cells(&mut cells, c);
                    put_names(&mut cells, names);
                    put(
                        &mut cells,
                        "birth_date",
                        c.case.child_birth_date.map(|d| d.to_string()),
                    );
                }
                put(&mut cells, "case_id", Some(e.case_id.to_string()));
                put(
                    &mut cells,
                    "direction",
                    Some(e.direction.as_str().to_owned()),
                );
                put(
                    &mut cells,
                    "tracing_request",
                    Some(e.tracing_request.to_string()),
                );
                put(
                    &mut cells,
                    "custody_record",
                    Some(e.custody_record.to_string()),
                );
                put(&mut cells, "added_at", time(Some(e.added_at)));
                put(
                    &mut cells,
                    "withdrawn_at",
                    time(e.withdrawal.as_ref().map(|w| w.at)),
                );
                put(
                    &mut cells,
                    "withdrawal_reason",
                    e.withdrawal.as_ref().map(|w| w.reason.clone()),
                );
                put(&mut cells, "origin_approved_at", approved(Side::Origin));
                put(&mut cells, "custody_approved_at", approved(Side::Custody));
                cells
            })
            .collect())
    }

    /// A side's rows: exactly what its view of the list shows (its own record ids, the
    /// directions, its own approval), the child named from its own record.
    async fn side_list_rows(
        &self,
        stored: &StoredTransferList,
        party: PartyId,
        reader: &Caller,
        actor: &ExportActor,
    ) -> AppResult<Vec<Cells>> {
        let side = stored.list.side_of(party);
        let view = Self::side_view(&stored.list, party, stored.version)?;
        let ids: Vec<RecordId> = view.entries.iter().map(|e| e.record_id).collect();
        let records = self.export_own_records(reader, &ids, actor).await?;
        let (record_column, approval_column) = match side {
            Some(Side::Custody) => ("custody_record", "custody_approved_at"),
            _ => ("tracing_request", "origin_approved_at"),
        };
        Ok(view
            .entries
            .iter()
            .map(|e| {
                let mut cells = Cells::new();
                list_cells(&mut cells, &stored.list);
                put(
                    &mut cells,
                    "direction",
                    Some(e.direction.as_str().to_owned()),
                );
                put(&mut cells, record_column, Some(e.record_id.to_string()));
                put_names(&mut cells, &names_of([e.record_id], &records));
                let born = records.iter().find(|r| r.id == e.record_id);
                put(
                    &mut cells,
                    "birth_date",
                    born.and_then(|r| r.content.birth_date)
                        .map(|d| d.to_string()),
                );
                put(
                    &mut cells,
                    approval_column,
                    time(view.approved.as_ref().map(|a| a.at)),
                );
                cells
            })
            .collect())
    }

    /// One row per child on each plan (the mediator's), the plans of a list at a time.
    pub(super) async fn stream_plans(
        &self,
        reader: &Caller,
        filters: &ExportFilters,
        actor: &ExportActor,
        mut write: impl FnMut(&[Cells]) -> AppResult<()>,
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        if self.plan_reader(reader).is_err() {
            return Ok(0);
        }
        let mut done = 0;
        for stored in self.export_lists(None, filters, actor).await? {
            let list = &stored.list;
            let audit = actor
                .within(AuditAction::TransferPlanRead)
                .target("transfer_list", list.id);
            let plans: Vec<TravelPlan> = self
                .store
                .transfer_plans_of_list(list.id, audit)
                .await?
                .into_iter()
                .map(|p| p.plan)
                .filter(|p| {
                    filters
                        .plan_approved
                        .is_none_or(|a| a == p.approval.is_some())
                })
                .collect();
            if plans.is_empty() {
                continue;
            }
            let ids: Vec<CaseId> = plans.iter().flat_map(|p| p.cases.iter().copied()).collect();
            let cases = self.export_cases_named(&ids, actor).await?;
            let mut rows = Vec::new();
            for plan in &plans {
                for case in &plan.cases {
                    let mut cells = Cells::new();
                    list_cells(&mut cells, list);
                    plan_cells(&mut cells, plan, *case);
                    put(&mut cells, "case_id", Some(case.to_string()));
                    if let Some((c, names)) = cases.iter().find(|(c, _)| c.case.id == *case) {
                        case_cells(&mut cells, c);
                        put_names(&mut cells, names);
                        put(
                            &mut cells,
                            "birth_date",
                            c.case.child_birth_date.map(|d| d.to_string()),
                        );
                    }
                    rows.push(cells);
                }
            }
            write(&rows)?;
            done += rows.len();
            self.export_step(actor, done, lease).await?;
        }
        Ok(done)
    }

    /// One row per follow-up visit the requester may read, a page of cases at a time.
    pub(super) async fn stream_follow_ups(
        &self,
        reader: &Caller,
        filters: &ExportFilters,
        actor: &ExportActor,
        mut write: impl FnMut(&[Cells]) -> AppResult<()>,
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        let Ok(party) = self.follow_up_reader(reader) else {
            return Ok(0);
        };
        let now = self.now();
        let keep = |f: &FollowUp| {
            follow_up_visible(f, party)
                && in_period(f.due, filters.due_from, filters.due_to)
                && filters
                    .follow_up_state
                    .is_none_or(|s| s == FollowUpState::of(f, now))
        };
        let mut responsible: HashMap<PartyId, String> = HashMap::new();
        let (mut done, mut after) = (0, None);
        loop {
            let filter = CaseFilter {
                after,
                limit: super::PAGE,
                ..CaseFilter::default()
            };
            let audit = actor.within(AuditAction::FollowUpList);
            let page = self.store.list_cases_audited(&filter, vec![audit]).await?;
            let cases: Vec<&StoredCase> = page
                .iter()
                .filter(|c| c.case.follow_ups.iter().any(keep))
                .collect();
            let named = self.follow_up_names(&cases, party, reader, actor).await?;
            let mut rows = Vec::new();
            for (c, child) in cases.iter().zip(&named) {
                for f in c.case.follow_ups.iter().filter(|f| keep(f)) {
                    let mut cells = child.cells(c);
                    follow_up_cells(&mut cells, f, now);
                    if let Some(p) = f.responsible {
                        let name = self.party_name(p, &mut responsible).await?;
                        put(&mut cells, "responsible", Some(name));
                    }
                    rows.push(cells);
                }
            }
            write(&rows)?;
            done += rows.len();
            self.export_step(actor, done, lease).await?;
            if page.len() < super::PAGE as usize {
                return Ok(done);
            }
            after = page.last().map(|c| c.case.id);
        }
    }

    /// For each case: the reader's own record in it (a party's, as the follow-up read gives
    /// it), the child's names and date of birth as the reader may see them.
    async fn follow_up_names(
        &self,
        cases: &[&StoredCase],
        party: Option<PartyId>,
        reader: &Caller,
        actor: &ExportActor,
    ) -> AppResult<Vec<Child>> {
        let Some(p) = party else {
            let ids: Vec<CaseId> = cases.iter().map(|c| c.case.id).collect();
            let named = self.export_cases_named(&ids, actor).await?;
            return Ok(cases
                .iter()
                .map(|c| Child {
                    record: None,
                    names: named
                        .iter()
                        .find(|(n, _)| n.case.id == c.case.id)
                        .map(|(_, names)| names.clone())
                        .unwrap_or_default(),
                    born: c.case.child_birth_date.map(|d| d.to_string()),
                })
                .collect());
        };
        let mut own = Vec::with_capacity(cases.len());
        for c in cases {
            own.push(self.own_record(&c.case, p).await?);
        }
        let ids: Vec<RecordId> = own.iter().flatten().copied().collect();
        let records = self.export_own_records(reader, &ids, actor).await?;
        Ok(own
            .into_iter()
            .map(|r| {
                let record = r.and_then(|id| records.iter().find(|x| x.id == id));
                Child {
                    record: r,
                    names: record.map(|x| x.content.names.clone()).unwrap_or_default(),
                    born: record
                        .and_then(|x| x.content.birth_date)
                        .map(|d| d.to_string()),
                }
            })
            .collect())
    }

    async fn party_name(
        &self,
        id: PartyId,
        known: &mut HashMap<PartyId, String>,
    ) -> AppResult<String> {
        if let Some(n) = known.get(&id) {
            return Ok(n.clone());
        }
        let name = self
            .store
            .get_party(id)
            .await?
            .map_or_else(|| id.to_string(), |p| p.name.into());
        known.insert(id, name.clone());
        Ok(name)
    }
}
