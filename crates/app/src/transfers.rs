//! Transfer lists and transfer plans: negotiating who travels in a round, and how.
//!
//! The mediator drafts a list between one origin and one custody party and proposes it; each
//! party approves the content hash it was shown. Every change stores the list's new version
//! together with the cases whose reference to it (`Case::listing`) changes, in one transaction:
//! - both approvals in force put both approval times on every entry's case, so the case guard
//!   allows `listed`; a change that voids them clears them again (and a case already moved to
//!   `listed` moves back, like any case whose facts no longer support its state);
//! - **fixing the list moves every entry's case to `listed`** (the guards are checked for each;
//!   one refusal refuses the fix), so nobody has to move 29 cases by hand, and no case is listed
//!   on a list that can still change under it;
//! - after fixing, a withdrawal is recorded without voiding anything (the other children still
//!   travel) and clears the withdrawn child's listing, moving a `listed` case back;
//! - cases already on their way (`in_transit` and later) keep their listing as history.
//!
//! A plan covers entries of a fixed list travelling together. Approving it puts the approval on
//! each covered case (`Case::transfer_plan`), which lets the case move to `in_transit`; a change
//! that voids it (the route, escorts or documents; not actual times or costs) clears it again.

use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Utc};
use homeward_domain::{
    AuditAction, AuditDraft, Case, CaseId, CaseNumber, CaseState, ChildRecord, ConditionCode, Cost,
    Direction, Escort, FallBackFailed, Leg, LegId, LegUpdate, ListDiff, ListState, PartyId,
    PartyKind, PartyListDiff, PartyListView, Permission, PlanGap, RecordId, Side, TransferList,
    TransferListEntry, TransferListId, TransferPlanId, TransferRefused, TravelDocument, TravelMode,
    TravelPlan, UserId,
};
use homeward_store::{
    CaseChange, StoreError, StoredCase, StoredTransferList, StoredTransferPlan, TransferListChange,
    TransferListFilter, TransferPlanChange, TransferWork,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

impl From<TransferRefused> for AppError {
    fn from(e: TransferRefused) -> Self {
        match e {
            TransferRefused::Invalid(v) => Self::Validation(v),
            TransferRefused::StaleHash { current } => Self::StaleListHash { current },
            other => Self::TransferRefused(other),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ListCreateInput {
    /// The round's name as negotiated.
    pub round: String,
    pub origin_party: PartyId,
    pub custody_party: PartyId,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    pub case_id: CaseId,
    pub direction: Direction,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EntryWithdrawInput {
    pub reason: String,
    pub expected_version: i64,
}

/// A change that needs nothing but the version it was decided on.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionInput {
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveInput {
    /// The content hash the party saw; a list that changed since is refused (`stale_list_hash`).
    pub hash: String,
}

/// A list as the mediator sees it: everything.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferListDetail {
    #[serde(flatten)]
    pub list: TransferList,
    pub version: i64,
    pub hash: String,
    pub approved_by_both: bool,
}

impl From<StoredTransferList> for TransferListDetail {
    fn from(s: StoredTransferList) -> Self {
        Self {
            hash: s.list.hash(),
            approved_by_both: s.list.approved_by_both(),
            version: s.version,
            list: s.list,
        }
    }
}

/// A list as the caller may see it: the mediator's full view, or a party's own.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ListView {
    Mediator(TransferListDetail),
    Party(PartyListView),
}

/// One version of a list, for the mediator.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListVersionView {
    pub version: i64,
    pub change: String,
    pub changed_by: UserId,
    pub changed_at: DateTime<Utc>,
    pub state: ListState,
    pub hash: String,
    pub list: TransferList,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum DiffEntries {
    Mediator(ListDiff),
    Party(PartyListDiff),
}

/// What changed between two versions of a list.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListDiffView {
    pub from: i64,
    pub to: i64,
    pub from_hash: String,
    pub to_hash: String,
    #[serde(flatten)]
    pub changes: DiffEntries,
}

/// Who a list page names, as its reader may see them: the children by their records, and for
/// the mediator the case numbers and the display names of approvers and version authors.
#[derive(Clone, Debug, Default)]
pub struct ListPeople {
    /// The case number of each case on the list (the mediator's view only).
    pub numbers: HashMap<CaseId, CaseNumber>,
    /// The child records among the view's that the reader may read, by id.
    pub children: HashMap<RecordId, ChildRecord>,
    /// The tracing request and custody record of each case (the mediator's view only).
    pub records_of: HashMap<CaseId, Vec<RecordId>>,
    /// Display names of the users asked for (the mediator's view only); one since removed is
    /// left out.
    pub users: HashMap<UserId, String>,
}

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub state: Option<ListState>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanCreateInput {
    pub list_id: TransferListId,
    /// The children travelling together: entries of the (fixed) list.
    pub cases: Vec<CaseId>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LegInput {
    pub from: String,
    pub to: String,
    pub mode: TravelMode,
    pub planned_departure: DateTime<Utc>,
    pub planned_arrival: DateTime<Utc>,
    #[serde(default)]
    pub carrier: Option<String>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LegUpdateInput {
    /// Only the fields that change. Actual times keep the plan's approval; anything else voids it.
    pub changes: LegUpdate,
    /// Why (kept in the leg's history).
    pub reason: String,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EscortsInput {
    pub escorts: Vec<Escort>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentsInput {
    pub documents: Vec<TravelDocument>,
    pub expected_version: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CostsInput {
    pub costs: Vec<Cost>,
    pub expected_version: i64,
}

/// A plan with what its approval still needs.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferPlanDetail {
    #[serde(flatten)]
    pub plan: TravelPlan,
    pub version: i64,
    /// Empty when the plan may be approved (or is). The sentences of [`Self::gaps`], as the API
    /// has always answered them.
    pub missing_for_approval: Vec<String>,
    /// What approval still needs, each with a stable `code` and the case it concerns.
    pub gaps: Vec<PlanGap>,
}

impl From<StoredTransferPlan> for TransferPlanDetail {
    fn from(s: StoredTransferPlan) -> Self {
        let gaps = s.plan.missing_for_approval();
        Self {
            missing_for_approval: gaps.iter().map(ToString::to_string).collect(),
            gaps,
            version: s.version,
            plan: s.plan,
        }
    }
}

fn check_version(current: i64, expected: i64) -> AppResult<()> {
    if current == expected {
        Ok(())
    } else {
        Err(AppError::VersionConflict { current })
    }
}

/// Cases whose new versions go into the same work as the list or plan change, and the entries
/// of what the change did to each.
struct CaseUpdates {
    cases: Vec<(Case, i64, &'static str)>,
    audits: Vec<AuditDraft>,
}

impl CaseUpdates {
    fn new() -> Self {
        Self {
            cases: Vec::new(),
            audits: Vec::new(),
        }
    }

    /// Saves each case at the version it was read at.
    async fn save(
        &self,
        work: &mut dyn TransferWork,
        by: UserId,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        for (case, expected_version, change) in &self.cases {
            work.save(CaseChange {
                case,
                expected_version: *expected_version,
                change,
                by,
                at,
            })
            .await?;
        }
        Ok(())
    }
}

/// The plan's approval (or its absence) put on each covered case that does not have it yet,
/// read in the plan's work in id order (so two works never wait on each other's cases).
async fn follow_plan(
    caller: &Caller,
    work: &mut dyn TransferWork,
    plan: &TravelPlan,
) -> AppResult<CaseUpdates> {
    let desired = plan.case_plan();
    let covered: BTreeSet<CaseId> = plan.cases.iter().copied().collect();
    let mut updates = CaseUpdates::new();
    for case_id in covered {
        let current = work.case(case_id).await?.ok_or(AppError::NotFound)?;
        if current.case.state.is_terminal() || current.case.transfer_plan.as_ref() == Some(&desired)
        {
            continue;
        }
        let mut case = current.case;
        case.transfer_plan = Some(desired.clone());
        updates.audits.push(
            caller
                .audit(AuditAction::CaseTransferPlan)
                .target("case", case_id)
                .details(serde_json::json!({
                    "transfer_plan": plan.id,
                    "approved": desired.approved_at.is_some(),
                })),
        );
        updates.cases.push((case, current.version, "transfer_plan"));
    }
    Ok(updates)
}

/// The case's tracing request and custody record, when they were filed by the list's origin and
/// custody parties (read in the list's work).
async fn check_parties(
    work: &mut dyn TransferWork,
    case: &Case,
    list: &TransferList,
) -> AppResult<(RecordId, RecordId)> {
    let (Some(tracing_request), Some(custody_record)) = (case.tracing_request, case.custody_record)
    else {
        return Err(AppError::invalid(
            "case_id",
            "records_missing",
            "the case links no tracing request and custody record",
        ));
    };
    let parties = work
        .record_parties(&[tracing_request, custody_record])
        .await?;
    let party_of = |id: RecordId| parties.iter().find(|(r, _)| *r == id).map(|(_, p)| *p);
    if party_of(tracing_request) != Some(list.origin_party)
        || party_of(custody_record) != Some(list.custody_party)
    {
        return Err(AppError::invalid(
            "case_id",
            "other_parties",
            "the case's records were not filed by this list's origin and custody parties",
        ));
    }
    Ok((tracing_request, custody_record))
}

/// The one constraint a list's save can break that the person can act on.
fn on_another_list(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(homeward_store::Conflict::CaseOnAnotherList) => {
            AppError::TransferRefused(TransferRefused::OnAnotherList)
        }
        other => other.into(),
    }
}

impl App {
    fn transfer_list_audit(
        &self,
        caller: &Caller,
        action: AuditAction,
        id: TransferListId,
    ) -> AuditDraft {
        caller.audit(action).target("transfer_list", id)
    }

    /// The caller's party when it is the origin or custody side, `None` for the mediator. The one
    /// rule for every read of lists (exports too).
    pub(crate) fn list_reader(&self, caller: &Caller) -> AppResult<Option<PartyId>> {
        if caller.party().kind == PartyKind::Mediator {
            caller.require(Permission::CaseRead, &self.config)?;
            Ok(None)
        } else {
            caller.require(Permission::TransferListRead, &self.config)?;
            Ok(Some(caller.party().id))
        }
    }

    async fn load_list(
        &self,
        caller: &Caller,
        id: TransferListId,
        party: Option<PartyId>,
    ) -> AppResult<StoredTransferList> {
        self.store
            .get_transfer_list(
                id,
                party,
                self.transfer_list_audit(caller, AuditAction::TransferListRead, id),
            )
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Opens a unit of work on the list and reads it (as `party` may see it, `None` for the
    /// mediator); `expected_version` as in [`App::open_case`].
    async fn open_list(
        &self,
        id: TransferListId,
        party: Option<PartyId>,
        expected_version: Option<i64>,
    ) -> AppResult<(Box<dyn TransferWork>, StoredTransferList)> {
        let mut work = self.store.begin_transfer_work().await?;
        let stored = work
            .transfer_list(id, party)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Some(expected) = expected_version {
            check_version(stored.version, expected)?;
        }
        Ok((work, stored))
    }

    /// Who reads plans: they are the mediator's, read by those who read cases (exports too).
    pub(crate) fn plan_reader(&self, caller: &Caller) -> AppResult<()> {
        caller.require(Permission::CaseRead, &self.config)
    }

    pub(crate) fn side_view(
        list: &TransferList,
        party: PartyId,
        version: i64,
    ) -> AppResult<PartyListView> {
        let side = list.side_of(party).ok_or(AppError::NotFound)?;
        Ok(list.view_for(side, version))
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn create_transfer_list(
        &self,
        caller: &Caller,
        input: &ListCreateInput,
    ) -> AppResult<TransferListDetail> {
        caller.require(Permission::TransferListManage, &self.config)?;
        for (field, id, kind) in [
            ("origin_party", input.origin_party, PartyKind::Origin),
            ("custody_party", input.custody_party, PartyKind::Custody),
        ] {
            let party = self.store.get_party(id).await?;
            if party.is_none_or(|p| p.kind != kind) {
                return Err(AppError::invalid(
                    field,
                    "wrong_party",
                    format!("no {} party has this id", kind.as_str()),
                ));
            }
        }
        let list = TransferList::new(
            TransferListId::new(),
            &input.round,
            input.origin_party,
            input.custody_party,
            caller.user().id,
            self.now(),
        )?;
        let audit = self
            .transfer_list_audit(caller, AuditAction::TransferListCreate, list.id)
            .details(serde_json::json!({ "round": list.round }));
        Ok(self.store.insert_transfer_list(&list, audit).await?.into())
    }

    /// Stores the list's new version with the cases whose reference to it changes (read in the
    /// same work, in id order); at `fix`, moves the entries' cases to `listed`. One entry for
    /// the change, and one for each consequence on a case.
    async fn save_list(
        &self,
        caller: &Caller,
        mut work: Box<dyn TransferWork>,
        stored: &StoredTransferList,
        list: &TransferList,
        change: &'static str,
        details: serde_json::Value,
    ) -> AppResult<TransferListDetail> {
        let at = self.now();
        let by = caller.user().id;
        let touched: BTreeSet<CaseId> = stored
            .list
            .entries
            .iter()
            .chain(&list.entries)
            .map(|e| e.case_id)
            .collect();
        let mut updates = CaseUpdates::new();
        for case_id in touched {
            let current = work.case(case_id).await?.ok_or(AppError::NotFound)?;
            self.follow_list(caller, list, change, current, &mut updates, at)?;
        }
        let action = self
            .transfer_list_audit(caller, AuditAction::TransferListChange, list.id)
            .details(serde_json::json!({
                "change": change,
                "state": list.state,
                "hash": list.hash(),
                "details": details,
            }));
        let saved = work
            .save_list(TransferListChange {
                list,
                expected_version: stored.version,
                change,
                by,
                at,
            })
            .await
            .map_err(on_another_list)?;
        updates.save(&mut *work, by, at).await?;
        work.commit(action, updates.audits).await?;
        Ok(saved.into())
    }

    /// What a change of `list` does to one of its cases: the case's listing follows the list,
    /// a `listed` case whose listing no longer holds moves back, and at `fix` a case ready for
    /// it moves to `listed`. Once the child is on its way the listing is history, not a
    /// negotiable fact.
    fn follow_list(
        &self,
        caller: &Caller,
        list: &TransferList,
        change: &'static str,
        current: StoredCase,
        updates: &mut CaseUpdates,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        let by = caller.user().id;
        let policy = self.case_policy();
        let case_id = current.case.id;
        let mut case = current.case;
        if case.state.is_terminal() || case.on_its_way() {
            return Ok(());
        }
        let desired = list.case_listing(case_id);
        let mut what = None;
        if case.listing != desired {
            case.listing = desired;
            updates.audits.push(
                caller
                    .audit(AuditAction::CaseListing)
                    .target("case", case_id)
                    .details(serde_json::json!({
                        "transfer_list": list.id,
                        "listing": case.listing,
                    })),
            );
            what = Some("listing");
        }
        if case.state == CaseState::Listed
            && let Some(t) = case
                .fall_back(by, &policy, at)
                .map_err(|e| match e {
                    FallBackFailed::Refused(r) => AppError::TransitionRefused(r),
                    FallBackFailed::Stale(s) => s.into(),
                })?
                .and_then(|fb| fb.moved)
        {
            updates.audits.push(
                caller
                    .audit(AuditAction::CaseRevalidate)
                    .target("case", case_id)
                    .details(serde_json::json!({
                        "from": t.from, "to": t.to, "reason": t.reason,
                    })),
            );
            what = Some("listing");
        }
        let on_fixed_list = list.state == ListState::Fixed
            && change == "fix"
            && case.listing.is_some()
            && case.state == CaseState::ConsentObtained;
        if on_fixed_list {
            let t = case
                .transition(CaseState::Listed, None, by, &policy, at)
                .map_err(AppError::TransitionRefused)?;
            case.apply(&t)?;
            updates.audits.push(
                caller
                    .audit(AuditAction::CaseTransition)
                    .target("case", case_id)
                    .details(serde_json::json!({
                        "from": t.from, "to": t.to, "kind": t.kind,
                        "transfer_list": list.id,
                    })),
            );
            what = Some("transition");
        }
        if let Some(what) = what {
            updates.cases.push((case, current.version, what));
        }
        Ok(())
    }

    async fn change_list(
        &self,
        caller: &Caller,
        id: TransferListId,
        expected_version: i64,
        change: &'static str,
        details: serde_json::Value,
        edit: impl FnOnce(&mut TransferList, DateTime<Utc>) -> AppResult<()>,
    ) -> AppResult<TransferListDetail> {
        caller.require(Permission::TransferListManage, &self.config)?;
        let (work, stored) = self.open_list(id, None, Some(expected_version)).await?;
        let mut list = stored.list.clone();
        edit(&mut list, self.now())?;
        self.save_list(caller, work, &stored, &list, change, details)
            .await
    }

    /// Puts a case on the list (or changes its direction). Only a case whose guards allow
    /// listing but for the agreed list itself, whose records are the two parties', and which is
    /// on no other open list.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn add_list_entry(
        &self,
        caller: &Caller,
        id: TransferListId,
        input: &EntryInput,
    ) -> AppResult<TransferListDetail> {
        caller.require(Permission::TransferListManage, &self.config)?;
        let (mut work, stored) = self
            .open_list(id, None, Some(input.expected_version))
            .await?;
        let case = work
            .case(input.case_id)
            .await?
            .ok_or(AppError::NotFound)?
            .case;
        let at = self.now();
        self.check_listable(&case, at)?;
        let (tracing_request, custody_record) =
            check_parties(&mut *work, &case, &stored.list).await?;
        if let Some(other) = work.open_list_of_case(case.id).await?
            && other != id
        {
            return Err(AppError::TransferRefused(TransferRefused::OnAnotherList));
        }
        let entry = TransferListEntry {
            case_id: case.id,
            tracing_request,
            custody_record,
            direction: input.direction,
            added_at: at,
            added_by: caller.user().id,
            withdrawal: None,
        };
        let mut list = stored.list.clone();
        list.add_entry(entry, at)?;
        let details = serde_json::json!({ "case": case.id, "direction": input.direction });
        self.save_list(caller, work, &stored, &list, "entry_add", details)
            .await
    }

    /// Whether the case's guards allow listing but for the agreed list itself.
    fn check_listable(&self, case: &Case, at: DateTime<Utc>) -> AppResult<()> {
        let mut unmet: Vec<homeward_domain::Condition> = case
            .requirements(CaseState::Listed, &self.case_policy(), at)
            .into_iter()
            .filter(|c| !c.met && c.code != ConditionCode::NotOnAgreedList)
            .collect();
        if case.state != CaseState::ConsentObtained {
            unmet.insert(
                0,
                homeward_domain::Condition::unmet(
                    ConditionCode::IllegalTransition,
                    format!("the case is {}, not consent_obtained", case.state),
                ),
            );
        }
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(AppError::CaseNotListable(unmet))
        }
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn remove_list_entry(
        &self,
        caller: &Caller,
        id: TransferListId,
        case: CaseId,
        input: &VersionInput,
    ) -> AppResult<TransferListDetail> {
        self.change_list(
            caller,
            id,
            input.expected_version,
            "entry_remove",
            serde_json::json!({ "case": case }),
            |l, _| Ok(l.remove_entry(case)?),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn withdraw_list_entry(
        &self,
        caller: &Caller,
        id: TransferListId,
        case: CaseId,
        input: &EntryWithdrawInput,
    ) -> AppResult<TransferListDetail> {
        let by = caller.user().id;
        self.change_list(
            caller,
            id,
            input.expected_version,
            "entry_withdraw",
            serde_json::json!({ "case": case, "reason": input.reason.trim() }),
            |l, at| {
                l.withdraw_entry(case, &input.reason, by, at)?;
                Ok(())
            },
        )
        .await
    }

    /// propose, fix, start or complete.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn step_list(
        &self,
        caller: &Caller,
        id: TransferListId,
        step: ListStep,
        input: &VersionInput,
    ) -> AppResult<TransferListDetail> {
        self.change_list(
            caller,
            id,
            input.expected_version,
            step.change(),
            serde_json::Value::Null,
            |l, _| {
                match step {
                    ListStep::Propose => l.propose(),
                    ListStep::Fix => l.fix(),
                    ListStep::Start => l.start(),
                    ListStep::Complete => l.complete(),
                }?;
                Ok(())
            },
        )
        .await
    }

    /// The caller's party approves the content it saw, named by its hash. It sees the result in
    /// its own terms.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn approve_list(
        &self,
        caller: &Caller,
        id: TransferListId,
        input: &ApproveInput,
    ) -> AppResult<PartyListView> {
        caller.require(Permission::TransferListApprove, &self.config)?;
        let party = caller.party().id;
        let (work, stored) = self.open_list(id, Some(party), None).await?;
        let side = stored.list.side_of(party).ok_or(AppError::NotFound)?;
        let mut list = stored.list.clone();
        list.approve(side, &input.hash, caller.user().id, self.now())?;
        let details = serde_json::json!({ "side": side, "hash": input.hash.trim() });
        let saved = self
            .save_list(caller, work, &stored, &list, "approve", details)
            .await?;
        Self::side_view(&saved.list, party, saved.version)
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_transfer_list(
        &self,
        caller: &Caller,
        id: TransferListId,
    ) -> AppResult<ListView> {
        let party = self.list_reader(caller)?;
        let stored = self.load_list(caller, id, party).await?;
        Ok(match party {
            None => ListView::Mediator(stored.into()),
            Some(p) => ListView::Party(Self::side_view(&stored.list, p, stored.version)?),
        })
    }

    /// The names a list page shows for `view` and a `diff` of it, in the scope of
    /// [`Self::list_reader`]: a side is told only the names on its own records (those its view
    /// and its diff hold); the mediator the case numbers, the names on both records, and the
    /// display names of `users` (approvers and version authors). The reads are audited.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn transfer_list_people(
        &self,
        caller: &Caller,
        view: &ListView,
        diff: Option<&ListDiffView>,
        users: &[UserId],
    ) -> AppResult<ListPeople> {
        let party = self.list_reader(caller)?;
        let (list, diff) = match (party, view, diff.map(|d| &d.changes)) {
            (None, ListView::Mediator(d), None) => (&d.list, None),
            (None, ListView::Mediator(d), Some(DiffEntries::Mediator(c))) => (&d.list, Some(c)),
            (_, ListView::Party(p), None | Some(DiffEntries::Party(_))) => {
                let mut ids: Vec<RecordId> = p.entries.iter().map(|e| e.record_id).collect();
                if let Some(DiffEntries::Party(c)) = diff.map(|d| &d.changes) {
                    ids.extend(
                        c.added
                            .iter()
                            .chain(&c.removed)
                            .chain(&c.withdrawn)
                            .map(|e| e.record_id),
                    );
                    ids.extend(c.direction_changed.iter().map(|e| e.record_id));
                }
                let children = self.children_named(caller, &ids).await?;
                return Ok(ListPeople {
                    children,
                    ..ListPeople::default()
                });
            }
            _ => return Err(AppError::NotFound),
        };
        let mut entries: Vec<(CaseId, RecordId, RecordId)> = list
            .entries
            .iter()
            .map(|e| (e.case_id, e.tracing_request, e.custody_record))
            .collect();
        if let Some(c) = diff {
            let all = c.added.iter().chain(&c.removed).chain(&c.withdrawn);
            entries.extend(all.map(|e| (e.case_id, e.tracing_request, e.custody_record)));
            let turned = c.direction_changed.iter();
            entries.extend(turned.map(|e| (e.case_id, e.tracing_request, e.custody_record)));
        }
        self.mediator_people(caller, list.id, &entries, users).await
    }

    /// The plan page's names: the list's round, the plan's children by case number and the
    /// names on both their records, and the display names of `users`; the mediator's (a reader
    /// on another side is told nothing more than the plan itself).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn transfer_plan_people(
        &self,
        caller: &Caller,
        plan: &TravelPlan,
        users: &[UserId],
    ) -> AppResult<(String, ListPeople)> {
        self.plan_reader(caller)?;
        if caller.party().kind != PartyKind::Mediator {
            return Ok((String::new(), ListPeople::default()));
        }
        let stored = self.load_list(caller, plan.list_id, None).await?;
        let entries: Vec<(CaseId, RecordId, RecordId)> = stored
            .list
            .entries
            .iter()
            .filter(|e| plan.cases.contains(&e.case_id))
            .map(|e| (e.case_id, e.tracing_request, e.custody_record))
            .collect();
        let people = self
            .mediator_people(caller, plan.list_id, &entries, users)
            .await?;
        Ok((stored.list.round, people))
    }

    /// The cases among `ids` by number and the children on their records, for the mediator's
    /// pages that list cases without their list (the overdue visits); a reader on another side,
    /// or one who reads no cases, is told nothing. Audited as a case list and a record list.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn cases_named(&self, caller: &Caller, ids: &[CaseId]) -> AppResult<ListPeople> {
        let mediator = caller.party().kind == PartyKind::Mediator;
        if !mediator || !caller.may(Permission::CaseRead) || ids.is_empty() {
            return Ok(ListPeople::default());
        }
        let audit = caller
            .audit(AuditAction::CaseList)
            .details(serde_json::json!({ "numbered": true }));
        let cases = self.store.cases_by_ids(ids, audit).await?;
        let records_of: HashMap<CaseId, Vec<RecordId>> = cases
            .iter()
            .map(|c| {
                let records = [c.case.tracing_request, c.case.custody_record];
                (c.case.id, records.into_iter().flatten().collect())
            })
            .collect();
        let record_ids: Vec<RecordId> = records_of.values().flatten().copied().collect();
        Ok(ListPeople {
            numbers: cases.iter().map(|c| (c.case.id, c.number)).collect(),
            children: self.children_named(caller, &record_ids).await?,
            records_of,
            users: HashMap::new(),
        })
    }

    /// Case numbers, the children on both records of each case, and users' display names, for
    /// the mediator's pages of a list; each read audited.
    async fn mediator_people(
        &self,
        caller: &Caller,
        list: TransferListId,
        entries: &[(CaseId, RecordId, RecordId)],
        users: &[UserId],
    ) -> AppResult<ListPeople> {
        let mut case_ids: Vec<CaseId> = entries.iter().map(|e| e.0).collect();
        case_ids.sort();
        case_ids.dedup();
        let numbers = if case_ids.is_empty() {
            HashMap::new()
        } else {
            let audit = caller
                .audit(AuditAction::CaseList)
                .details(serde_json::json!({ "numbered": true, "list": list }));
            self.store
                .cases_by_ids(&case_ids, audit)
                .await?
                .into_iter()
                .map(|c| (c.case.id, c.number))
                .collect()
        };
        let record_ids: Vec<RecordId> = entries.iter().flat_map(|e| [e.1, e.2]).collect();
        let children = self.children_named(caller, &record_ids).await?;
        let mut names = HashMap::new();
        for id in users {
            if let std::collections::hash_map::Entry::Vacant(e) = names.entry(*id)
                && let Some(u) = self.store.get_user(*id).await?
            {
                e.insert(u.display_name);
            }
        }
        Ok(ListPeople {
            numbers,
            children,
            records_of: entries.iter().map(|e| (e.0, vec![e.1, e.2])).collect(),
            users: names,
        })
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_transfer_lists(
        &self,
        caller: &Caller,
        q: &ListQuery,
    ) -> AppResult<Vec<ListView>> {
        let party = self.list_reader(caller)?;
        let f = TransferListFilter {
            party,
            state: q.state,
            limit: 0,
        };
        let lists = self
            .store
            .list_transfer_lists(&f, caller.audit(AuditAction::TransferListList))
            .await?;
        lists
            .into_iter()
            .map(|s| {
                Ok(match party {
                    None => ListView::Mediator(s.into()),
                    Some(p) => ListView::Party(Self::side_view(&s.list, p, s.version)?),
                })
            })
            .collect()
    }

    /// Every version of a list, oldest first (the mediator's record of the negotiation).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn transfer_list_versions(
        &self,
        caller: &Caller,
        id: TransferListId,
    ) -> AppResult<Vec<ListVersionView>> {
        caller.require(Permission::CaseRead, &self.config)?;
        let audit = self.transfer_list_audit(caller, AuditAction::TransferListRead, id);
        let versions = self
            .store
            .transfer_list_versions(id, None, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(versions
            .into_iter()
            .map(|v| ListVersionView {
                version: v.version,
                change: v.change,
                changed_by: v.changed_by,
                changed_at: v.changed_at,
                state: v.list.state,
                hash: v.list.hash(),
                list: v.list,
            })
            .collect())
    }

    /// What changed between two versions: the mediator sees the cases and both records, a party
    /// only its own records.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn transfer_list_diff(
        &self,
        caller: &Caller,
        id: TransferListId,
        from: i64,
        to: i64,
    ) -> AppResult<ListDiffView> {
        let party = self.list_reader(caller)?;
        let audit = self
            .transfer_list_audit(caller, AuditAction::TransferListRead, id)
            .details(serde_json::json!({ "diff": [from, to] }));
        let versions = self
            .store
            .transfer_list_versions(id, party, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        let pick = |field: &str, n: i64| {
            versions
                .iter()
                .find(|v| v.version == n)
                .map(|v| &v.list)
                .ok_or_else(|| AppError::invalid(field, "unknown_version", "no such version"))
        };
        let (old, new) = (pick("from", from)?, pick("to", to)?);
        let diff = ListDiff::between(old, new);
        let changes = match party {
            None => DiffEntries::Mediator(diff),
            Some(p) => {
                let side: Side = new.side_of(p).ok_or(AppError::NotFound)?;
                DiffEntries::Party(diff.for_side(side))
            }
        };
        Ok(ListDiffView {
            from,
            to,
            from_hash: old.hash(),
            to_hash: new.hash(),
            changes,
        })
    }

    // ---- plans -----------------------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn create_transfer_plan(
        &self,
        caller: &Caller,
        input: &PlanCreateInput,
    ) -> AppResult<TransferPlanDetail> {
        caller.require(Permission::TransferPlanManage, &self.config)?;
        let (mut work, stored) = self.open_list(input.list_id, None, None).await?;
        let list = stored.list;
        if !matches!(list.state, ListState::Fixed | ListState::InProgress) {
            return Err(AppError::TransferRefused(TransferRefused::ListState {
                state: list.state,
                action: "planned (fix it first)",
            }));
        }
        for (i, c) in input.cases.iter().enumerate() {
            if !list.active_entries().any(|e| e.case_id == *c) {
                return Err(AppError::invalid(
                    format!("cases[{i}]").as_str(),
                    "not_on_list",
                    "the child is not on the list (or was withdrawn)",
                ));
            }
        }
        let plan = TravelPlan::new(
            TransferPlanId::new(),
            list.id,
            input.cases.clone(),
            caller.user().id,
            self.now(),
        )?;
        let audit = caller
            .audit(AuditAction::TransferPlanCreate)
            .target("transfer_plan", plan.id)
            .details(serde_json::json!({ "transfer_list": list.id, "cases": plan.cases }));
        let stored = work.insert_plan(&plan).await.map_err(|e| match e {
            StoreError::Conflict(homeward_store::Conflict::CaseOnAnotherPlan) => AppError::invalid(
                "cases",
                "on_another_plan",
                "a child already travels by another plan",
            ),
            other => other.into(),
        })?;
        work.commit(audit, vec![]).await?;
        Ok(stored.into())
    }

    async fn load_plan(
        &self,
        caller: &Caller,
        id: TransferPlanId,
    ) -> AppResult<StoredTransferPlan> {
        let audit = caller
            .audit(AuditAction::TransferPlanRead)
            .target("transfer_plan", id);
        self.store
            .get_transfer_plan(id, audit)
            .await?
            .ok_or(AppError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_transfer_plan(
        &self,
        caller: &Caller,
        id: TransferPlanId,
    ) -> AppResult<TransferPlanDetail> {
        self.plan_reader(caller)?;
        Ok(self.load_plan(caller, id).await?.into())
    }

    /// The plans made for one list (the mediator's, like each plan).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn transfer_plans_of_list(
        &self,
        caller: &Caller,
        list: TransferListId,
    ) -> AppResult<Vec<TransferPlanDetail>> {
        self.plan_reader(caller)?;
        // The list must exist: an unknown id answers 404, not an empty list.
        self.load_list(caller, list, None).await?;
        let audit = caller
            .audit(AuditAction::TransferPlanRead)
            .target("transfer_list", list);
        let plans = self.store.transfer_plans_of_list(list, audit).await?;
        Ok(plans.into_iter().map(Into::into).collect())
    }

    /// Applies `edit` (which says whether it voided the approval) and stores the plan; when the
    /// approval came or went, the covered cases' references change with it, in the same work.
    async fn change_plan(
        &self,
        caller: &Caller,
        id: TransferPlanId,
        expected_version: i64,
        what: PlanEdit,
        edit: impl FnOnce(&mut TravelPlan, DateTime<Utc>) -> AppResult<bool>,
    ) -> AppResult<TransferPlanDetail> {
        let PlanEdit {
            permission,
            change,
            details,
        } = what;
        caller.require(permission, &self.config)?;
        let mut work = self.store.begin_transfer_work().await?;
        let stored = work.transfer_plan(id).await?.ok_or(AppError::NotFound)?;
        check_version(stored.version, expected_version)?;
        let at = self.now();
        let by = caller.user().id;
        let mut plan = stored.plan.clone();
        let approval_changed = edit(&mut plan, at)?;
        let updates = if approval_changed {
            follow_plan(caller, &mut *work, &plan).await?
        } else {
            CaseUpdates::new()
        };
        let action = if change == "approve" {
            AuditAction::TransferPlanApprove
        } else {
            AuditAction::TransferPlanChange
        };
        let action = caller
            .audit(action)
            .target("transfer_plan", id)
            .details(serde_json::json!({
                "change": change,
                "voided_approval": approval_changed && plan.approval.is_none(),
                "details": details,
            }));
        let saved = work
            .save_plan(TransferPlanChange {
                plan: &plan,
                expected_version: stored.version,
                at,
            })
            .await?;
        updates.save(&mut *work, by, at).await?;
        work.commit(action, updates.audits).await?;
        Ok(saved.into())
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn add_plan_leg(
        &self,
        caller: &Caller,
        id: TransferPlanId,
        input: &LegInput,
    ) -> AppResult<TransferPlanDetail> {
        let leg = Leg {
            id: LegId::new(),
            from: input.from.trim().to_owned(),
            to: input.to.trim().to_owned(),
            mode: input.mode,
            planned_departure: input.planned_departure,
            planned_arrival: input.planned_arrival,
            actual_departure: None,
            actual_arrival: None,
            carrier: input
                .carrier
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            history: Vec::new(),
        };
        let details = serde_json::json!({ "leg": leg.id, "from": leg.from, "to": leg.to });
        self.change_plan(
            caller,
            id,
            input.expected_version,
            PlanEdit {
                permission: Permission::TransferPlanManage,
                change: "leg_add",
                details,
            },
            |p, at| Ok(p.add_leg(leg, at)?),
        )
        .await
    }

    /// Records a change to a leg (a delay, a new carrier, a diversion) in the leg's history.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn update_plan_leg(
        &self,
        caller: &Caller,
        id: TransferPlanId,
        leg: LegId,
        input: &LegUpdateInput,
    ) -> AppResult<TransferPlanDetail> {
        let by = caller.user().id;
        self.change_plan(
            caller,
            id,
            input.expected_version,
            PlanEdit {
                permission: Permission::TransferPlanManage,
                change: "leg_update",
                details: serde_json::json!({ "leg": leg, "reason": input.reason.trim() }),
            },
            |p, at| Ok(p.update_leg(leg, &input.changes, &input.reason, by, at)?),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn set_plan_escorts(
        &self,
        caller: &Caller,
        id: TransferPlanId,
        input: &EscortsInput,
    ) -> AppResult<TransferPlanDetail> {
        self.change_plan(
            caller,
            id,
            input.expected_version,
            PlanEdit {
                permission: Permission::TransferPlanManage,
                change: "escorts",
                details: serde_json::json!({ "escorts": input.escorts.len() }),
            },
            |p, at| Ok(p.set_escorts(input.escorts.clone(), at)?),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn set_plan_documents(
        &self,
        caller: &Caller,
        id: TransferPlanId,
        input: &DocumentsInput,
    ) -> AppResult<TransferPlanDetail> {
        self.change_plan(
            caller,
            id,
            input.expected_version,
            PlanEdit {
                permission: Permission::TransferPlanManage,
                change: "documents",
                details: serde_json::json!({ "documents": input.documents.len() }),
            },
            |p, at| Ok(p.set_documents(input.documents.clone(), at)?),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn set_plan_costs(
        &self,
        caller: &Caller,
        id: TransferPlanId,
        input: &CostsInput,
    ) -> AppResult<TransferPlanDetail> {
        self.change_plan(
            caller,
            id,
            input.expected_version,
            PlanEdit {
                permission: Permission::TransferPlanManage,
                change: "costs",
                details: serde_json::json!({ "costs": input.costs.len() }),
            },
            |p, _| {
                p.set_costs(input.costs.clone())?;
                Ok(false)
            },
        )
        .await
    }

    /// Approves the plan for travel: every document ready and an escort named. The covered cases
    /// may then move to `in_transit`.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn approve_transfer_plan(
        &self,
        caller: &Caller,
        id: TransferPlanId,
        input: &VersionInput,
    ) -> AppResult<TransferPlanDetail> {
        let by = caller.user().id;
        self.change_plan(
            caller,
            id,
            input.expected_version,
            PlanEdit {
                permission: Permission::TransferPlanApprove,
                change: "approve",
                details: serde_json::Value::Null,
            },
            |p, at| {
                p.approve(by, at)?;
                Ok(true)
            },
        )
        .await
    }
}

/// What a plan change is: who may make it, and how the plan's history and audit log name it.
struct PlanEdit {
    permission: Permission,
    change: &'static str,
    details: serde_json::Value,
}

/// The list's moves that need nothing but the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListStep {
    Propose,
    Fix,
    Start,
    Complete,
}

impl ListStep {
    fn change(self) -> &'static str {
        match self {
            Self::Propose => "propose",
            Self::Fix => "fix",
            Self::Start => "start",
            Self::Complete => "complete",
        }
    }
}
