//! Re-scoring after a model change (issue 19): a newly trained model is stored together with the
//! job that scores every pending candidate again with it, in one transaction; the job then pages
//! through the candidates still scored by another model version.

use crate::jobs::NewJob;
use crate::{Result, StoredModel};
use async_trait::async_trait;
use homeward_domain::{AuditDraft, MatchId, PartyId, RecordId, UserId};
use serde::{Deserialize, Serialize};

/// The kind of the job that scores pending candidates again after the model changed.
pub const RESCORE_CANDIDATES: &str = "candidates.rescore";

/// The payload of a [`RESCORE_CANDIDATES`] job: who trained the model, and its version label. The
/// job scores with the model stored when it runs (a newer model's job follows it anyway).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescoreJob {
    pub model_version: String,
    pub actor_user: Option<UserId>,
    pub actor_party: Option<PartyId>,
}

/// A pending candidate to score again: its id and its pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleCandidate {
    pub id: MatchId,
    pub tracing_record_id: RecordId,
    pub custody_record_id: RecordId,
}

#[async_trait]
pub trait RescoreStore: Send + Sync {
    /// Stores the model (as `put_linkage_model` does), enqueues `job` and appends `audit`, in one
    /// transaction.
    async fn put_linkage_model_rescoring(
        &self,
        model: &StoredModel,
        audit: AuditDraft,
        job: &NewJob,
    ) -> Result<()>;

    /// Pending candidates whose score is not from `model_version`, by id, after `after`.
    async fn stale_candidates(
        &self,
        model_version: &str,
        after: Option<MatchId>,
        limit: u32,
    ) -> Result<Vec<StaleCandidate>>;

    /// How many pending candidates are not scored by `model_version`.
    async fn count_stale_candidates(&self, model_version: &str) -> Result<i64>;

    /// Every pair a reviewer decided, as (tracing request, custody record, confirmed): the labels
    /// a retraining learns from (issue 13 §5). A pair with one confirmation of four eyes is still
    /// pending, not a label.
    async fn decided_pairs(&self) -> Result<Vec<(RecordId, RecordId, bool)>>;
}

/// Implements [`RescoreStore`] for `$store`.
macro_rules! impl_rescore {
    ($store:ident) => {
        mod rescore_impl {
            use super::$store;
            use crate::jobs::NewJob;
            use crate::rescore::{RescoreStore, StaleCandidate};
            use crate::rows::ts;
            use crate::{Result, StoredModel};
            use async_trait::async_trait;
            use homeward_domain::{AuditDraft, MatchId, RecordId};

            #[async_trait]
            impl RescoreStore for $store {
                async fn put_linkage_model_rescoring(
                    &self,
                    model: &StoredModel,
                    audit: AuditDraft,
                    job: &NewJob,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO linkage_model (id, model, trained_at) VALUES (1, $1, $2) \
                         ON CONFLICT (id) DO UPDATE SET model = excluded.model, trained_at = excluded.trained_at",
                    )
                    .bind(model.model.as_str())
                    .bind(ts(model.trained_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::enqueue_in(&mut tx, job).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn stale_candidates(
                    &self,
                    model_version: &str,
                    after: Option<MatchId>,
                    limit: u32,
                ) -> Result<Vec<StaleCandidate>> {
                    let rows: Vec<(uuid::Uuid, uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
                        "SELECT id, tracing_record_id, custody_record_id FROM match_candidates \
                         WHERE status = 'pending' AND model_version <> $1 AND ($2 IS NULL OR id > $2) \
                         ORDER BY id LIMIT $3",
                    )
                    .bind(model_version)
                    .bind(after.map(|a| a.0))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, t, c)| StaleCandidate {
                            id: MatchId(id),
                            tracing_record_id: RecordId(t),
                            custody_record_id: RecordId(c),
                        })
                        .collect())
                }

                async fn decided_pairs(&self) -> Result<Vec<(RecordId, RecordId, bool)>> {
                    let rows: Vec<(uuid::Uuid, uuid::Uuid, String)> = sqlx::query_as(
                        "SELECT tracing_record_id, custody_record_id, status FROM match_candidates \
                         WHERE status IN ('confirmed', 'rejected') ORDER BY id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(t, c, status)| (RecordId(t), RecordId(c), status == "confirmed"))
                        .collect())
                }

                async fn count_stale_candidates(&self, model_version: &str) -> Result<i64> {
                    Ok(sqlx::query_scalar(
                        "SELECT COUNT(*) FROM match_candidates WHERE status = 'pending' AND model_version <> $1",
                    )
                    .bind(model_version)
                    .fetch_one(&self.pool)
                    .await?)
                }
            }
        }
    };
}
pub(crate) use impl_rescore;
