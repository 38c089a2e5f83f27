//! The unit of work of a transfer list or plan: the case's unit of work ([`CaseWork`]) that can
//! also read and hold a list or plan, save it, and create a plan. A list action reads the list
//! and the cases it touches inside one transaction, saves the list and the cases, and commits
//! with its audit entry (and one for each consequence on a case); nothing of it is written
//! when the work is dropped.
//!
//! On PostgreSQL a list's or plan's row is locked when it is read (like a case's), so two works
//! on one list take turns; on SQLite the work holds the write lock from the start.

use crate::backend::WriteTx;
use crate::case_work::{CaseWork, Work, WorkBackend};
use crate::{
    Result, StoredTransferList, StoredTransferPlan, TransferListChange, TransferPlanChange,
};
use async_trait::async_trait;
use homeward_domain::{CaseId, PartyId, TransferListId, TransferPlanId, TravelPlan};

/// A [`CaseWork`] that also reads and saves transfer lists and plans. Locks are taken in the
/// order list or plan first, then its cases by id, so two works cannot deadlock on them.
#[async_trait]
pub trait TransferWork: CaseWork {
    /// The list as it is now, held until commit; `None` when there is no such list or (when
    /// `party` is given) that party is not on it.
    async fn transfer_list(
        &mut self,
        id: TransferListId,
        party: Option<PartyId>,
    ) -> Result<Option<StoredTransferList>>;

    /// The list that is not completed the case is on (and not withdrawn from), if any.
    async fn open_list_of_case(&mut self, case: CaseId) -> Result<Option<TransferListId>>;

    /// Stores a new version of a list (keeping it in the list's history). `VersionConflict`
    /// when the list is no longer at `change.expected_version`, `NotFound` when there is no such
    /// list, `Conflict::CaseOnAnotherList` when an entry's case is on another list
    /// that is not completed.
    async fn save_list(&mut self, change: TransferListChange<'_>) -> Result<StoredTransferList>;

    /// The plan as it is now, held until commit; `None` when there is no such plan.
    async fn transfer_plan(&mut self, id: TransferPlanId) -> Result<Option<StoredTransferPlan>>;

    /// Stores a new plan (version 1). `NotFound` when its list does not exist;
    /// `Conflict::CaseOnAnotherPlan` when a covered case already travels by another plan.
    async fn insert_plan(&mut self, plan: &TravelPlan) -> Result<StoredTransferPlan>;

    /// Stores a new version of a plan. `VersionConflict` when the plan is no longer at
    /// `change.expected_version`, `NotFound` when there is no such plan.
    async fn save_plan(&mut self, change: TransferPlanChange<'_>) -> Result<StoredTransferPlan>;
}

/// Stores that can open a [`TransferWork`]; part of every [`Store`](crate::Store).
#[async_trait]
pub trait TransferWorkStore {
    /// Opens a write transaction for one list's or plan's use-case.
    async fn begin_transfer_work(&self) -> Result<Box<dyn TransferWork>>;
}

/// The SQL of a [`TransferWork`], per backend (see [`impl_transfer_work!`]).
#[async_trait]
pub(crate) trait TransferBackend: WorkBackend {
    async fn read_list(
        tx: &mut WriteTx<Self::Db>,
        id: TransferListId,
        party: Option<PartyId>,
    ) -> Result<Option<StoredTransferList>>;
    async fn list_of_case(
        tx: &mut WriteTx<Self::Db>,
        case: CaseId,
    ) -> Result<Option<TransferListId>>;
    async fn update_list(
        tx: &mut WriteTx<Self::Db>,
        change: TransferListChange<'_>,
    ) -> Result<StoredTransferList>;
    async fn read_plan(
        tx: &mut WriteTx<Self::Db>,
        id: TransferPlanId,
    ) -> Result<Option<StoredTransferPlan>>;
    async fn insert_plan(
        tx: &mut WriteTx<Self::Db>,
        plan: &TravelPlan,
    ) -> Result<StoredTransferPlan>;
    async fn update_plan(
        tx: &mut WriteTx<Self::Db>,
        change: TransferPlanChange<'_>,
    ) -> Result<StoredTransferPlan>;
}

#[async_trait]
impl<B> TransferWork for Work<B>
where
    B: TransferBackend,
    Self: CaseWork,
{
    async fn transfer_list(
        &mut self,
        id: TransferListId,
        party: Option<PartyId>,
    ) -> Result<Option<StoredTransferList>> {
        B::read_list(self.tx(), id, party).await
    }

    async fn open_list_of_case(&mut self, case: CaseId) -> Result<Option<TransferListId>> {
        B::list_of_case(self.tx(), case).await
    }

    async fn save_list(&mut self, change: TransferListChange<'_>) -> Result<StoredTransferList> {
        B::update_list(self.tx(), change).await
    }

    async fn transfer_plan(&mut self, id: TransferPlanId) -> Result<Option<StoredTransferPlan>> {
        B::read_plan(self.tx(), id).await
    }

    async fn insert_plan(&mut self, plan: &TravelPlan) -> Result<StoredTransferPlan> {
        B::insert_plan(self.tx(), plan).await
    }

    async fn save_plan(&mut self, change: TransferPlanChange<'_>) -> Result<StoredTransferPlan> {
        B::update_plan(self.tx(), change).await
    }
}

#[async_trait]
impl<B> TransferWorkStore for B
where
    B: TransferBackend,
    Work<B>: TransferWork,
{
    async fn begin_transfer_work(&self) -> Result<Box<dyn TransferWork>> {
        Ok(Box::new(Work::open(self).await?))
    }
}

/// Implements [`TransferBackend`] for `$store` (database `$db`), whose [`WorkBackend::HOLD_ROW`]
/// holds the list's or plan's row as it holds a case's.
macro_rules! impl_transfer_work {
    ($store:ident, $db:ty) => {
        mod transfer_work_impl {
            use super::$store;
            use crate::backend::WriteTx;
            use crate::case_work::WorkBackend;
            use crate::rows::{TransferListRow, TransferPlanRow, ts};
            use crate::transfer_work::TransferBackend;
            use crate::{
                Result, StoredTransferList, StoredTransferPlan, TransferListChange,
                TransferPlanChange,
            };
            use homeward_domain::{CaseId, PartyId, TransferListId, TransferPlanId, TravelPlan};
            use sqlx::types::Json;

            type Db = $db;

            #[async_trait::async_trait]
            impl TransferBackend for $store {
                async fn read_list(
                    tx: &mut WriteTx<Db>,
                    id: TransferListId,
                    party: Option<PartyId>,
                ) -> Result<Option<StoredTransferList>> {
                    let sql = format!(
                        "SELECT content, version, created_at, updated_at FROM transfer_lists \
                         WHERE id = $1 AND ($2 IS NULL OR origin_party = $2 OR custody_party = $2){}",
                        <$store as WorkBackend>::HOLD_ROW
                    );
                    let row = sqlx::query_as::<Db, TransferListRow>(&sql)
                        .bind(id.0)
                        .bind(party.map(|p| p.0))
                        .fetch_optional(&mut **tx)
                        .await?;
                    Ok(row.map(Into::into))
                }

                async fn list_of_case(
                    tx: &mut WriteTx<Db>,
                    case: CaseId,
                ) -> Result<Option<TransferListId>> {
                    let id: Option<uuid::Uuid> =
                        sqlx::query_scalar("SELECT list_id FROM transfer_list_cases WHERE case_id = $1")
                            .bind(case.0)
                            .fetch_optional(&mut **tx)
                            .await?;
                    Ok(id.map(TransferListId::from))
                }

                async fn update_list(
                    tx: &mut WriteTx<Db>,
                    change: TransferListChange<'_>,
                ) -> Result<StoredTransferList> {
                    let l = change.list;
                    let at = ts(change.at);
                    let row = sqlx::query_as::<Db, TransferListRow>(
                        "UPDATE transfer_lists SET state = $3, content = $4, version = version + 1, updated_at = $5 \
                         WHERE id = $1 AND version = $2 RETURNING content, version, created_at, updated_at",
                    )
                    .bind(l.id.0)
                    .bind(change.expected_version)
                    .bind(l.state.as_str())
                    .bind(Json(l))
                    .bind(at)
                    .fetch_optional(&mut **tx)
                    .await?;
                    let Some(row) = row else {
                        return Err($store::version_refused(&mut **tx, "transfer_lists", l.id.0).await);
                    };
                    let stored = StoredTransferList::from(row);
                    $store::list_version_in(&mut **tx, l, stored.version, change.change, change.by, at).await?;
                    $store::sync_list_cases(&mut **tx, l).await?;
                    Ok(stored)
                }

                async fn read_plan(
                    tx: &mut WriteTx<Db>,
                    id: TransferPlanId,
                ) -> Result<Option<StoredTransferPlan>> {
                    let sql = format!(
                        "SELECT content, version, created_at, updated_at FROM transfer_plans WHERE id = $1{}",
                        <$store as WorkBackend>::HOLD_ROW
                    );
                    let row = sqlx::query_as::<Db, TransferPlanRow>(&sql)
                        .bind(id.0)
                        .fetch_optional(&mut **tx)
                        .await?;
                    Ok(row.map(Into::into))
                }

                async fn insert_plan(
                    tx: &mut WriteTx<Db>,
                    plan: &TravelPlan,
                ) -> Result<StoredTransferPlan> {
                    let row = sqlx::query_as::<Db, TransferPlanRow>(
                        "INSERT INTO transfer_plans (id, list_id, content, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, 1, $4, $4) RETURNING content, version, created_at, updated_at",
                    )
                    .bind(plan.id.0)
                    .bind(plan.list_id.0)
                    .bind(Json(plan))
                    .bind(ts(plan.created_at))
                    .fetch_one(&mut **tx)
                    .await?;
                    for c in &plan.cases {
                        sqlx::query("INSERT INTO transfer_plan_cases (case_id, plan_id) VALUES ($1, $2)")
                            .bind(c.0)
                            .bind(plan.id.0)
                            .execute(&mut **tx)
                            .await?;
                    }
                    Ok(row.into())
                }

                async fn update_plan(
                    tx: &mut WriteTx<Db>,
                    change: TransferPlanChange<'_>,
                ) -> Result<StoredTransferPlan> {
                    let p = change.plan;
                    let row = sqlx::query_as::<Db, TransferPlanRow>(
                        "UPDATE transfer_plans SET content = $3, version = version + 1, updated_at = $4 \
                         WHERE id = $1 AND version = $2 RETURNING content, version, created_at, updated_at",
                    )
                    .bind(p.id.0)
                    .bind(change.expected_version)
                    .bind(Json(p))
                    .bind(ts(change.at))
                    .fetch_optional(&mut **tx)
                    .await?;
                    match row {
                        Some(row) => Ok(row.into()),
                        None => Err($store::version_refused(&mut **tx, "transfer_plans", p.id.0).await),
                    }
                }
            }
        }
    };
}
pub(crate) use impl_transfer_work;
