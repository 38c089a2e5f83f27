//! Block-key lookups for matching many records at once (issue 13 §4): an import of 400,000
//! records has over a million distinct blocking keys, and asking for them 500 at a time (the
//! bound-parameter budget of one `IN (...)` list) cost thousands of round trips. Here a whole
//! slice of keys travels as one JSON array parameter and the database unpacks it.

use crate::Result;
use async_trait::async_trait;
use homeward_domain::{PartyId, RecordId, RecordKind};

/// Keys per lookup: one JSON parameter of about 20 bytes a key, far below any statement limit,
/// and few enough statements that their round trips do not count.
pub const KEYS_PER_LOOKUP: usize = 20_000;

#[async_trait]
pub trait BulkMatchStore: Send + Sync {
    /// The records of `kind` (of `party` only, when given), not deleted, sharing any of `keys`,
    /// each once. Scope-free like `blocked_records`: it serves the mediator's matching, and its
    /// ids go to the linkage engine, never to a caller.
    async fn records_sharing_keys(
        &self,
        kind: RecordKind,
        party: Option<PartyId>,
        keys: &[String],
    ) -> Result<Vec<RecordId>>;
}

/// Implements [`BulkMatchStore`] for `$store`; `$keys` is the subquery that unpacks the JSON
/// array bound at `$3` into one key per row (the backends spell it differently), `$records` the
/// records table as the join reads it (SQLite is told to use its covering index of live
/// records, migration 0025: without statistics it chose the primary key and read every record's
/// row, JSON and all, for its `deleted_at`).
macro_rules! impl_bulk_match {
    ($store:ident, $keys:literal, $records:literal) => {
        mod bulk_match_impl {
            use super::$store;
            use crate::Result;
            use crate::bulk_match::{BulkMatchStore, KEYS_PER_LOOKUP};
            use async_trait::async_trait;
            use homeward_domain::{PartyId, RecordId, RecordKind};
            use std::collections::BTreeSet;

            #[async_trait]
            impl BulkMatchStore for $store {
                async fn records_sharing_keys(
                    &self,
                    kind: RecordKind,
                    party: Option<PartyId>,
                    keys: &[String],
                ) -> Result<Vec<RecordId>> {
                    let mut out = BTreeSet::new();
                    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
                        // Serialising strings cannot fail; were it ever to, say so rather than panic.
                        let list = serde_json::to_string(chunk)
                            .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
                        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(concat!(
                            "SELECT DISTINCT k.record_id FROM record_block_keys k JOIN ",
                            $records,
                            " ON r.id = k.record_id \
                             WHERE r.deleted_at IS NULL AND k.kind = $1 AND ($2 IS NULL OR r.party_id = $2) \
                             AND k.key IN ",
                            $keys
                        ))
                        .bind(kind.as_str())
                        .bind(party.map(|p| p.0))
                        .bind(list)
                        .fetch_all(&self.pool)
                        .await?;
                        out.extend(ids.into_iter().map(RecordId::from));
                    }
                    Ok(out.into_iter().collect())
                }
            }
        }
    };
}
pub(crate) use impl_bulk_match;
