//! Keeping the stored derived keys (each record's search key and blocking keys) in step with the
//! code that computes them. A record's keys are written when it is stored; when a new version of
//! Homeward folds names differently (a new transliteration, a new blocking rule), the records
//! stored before would no longer be found by a search or blocked with their matches. `homeward
//! migrate` therefore recomputes them whenever the way they are computed has changed.

use crate::matching::block_keys;
use crate::records::search_key;
use crate::synthetic::Synthetic;
use crate::{App, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use homeward_domain::{ChildRecord, PartyId, RecordId, RecordKind, UserId};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Records read and rewritten per store call.
const BATCH: u32 = 2_000;

/// What a refresh did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// The stored keys were computed the way this version computes them.
    UpToDate,
    /// This many records got new keys.
    Recomputed(usize),
}

/// A label of how this version of the code computes derived keys: a hash of the keys it gives a
/// fixed set of synthetic probe records. Any change to the folding, the transliteration tables
/// or the blocking rules changes the label, without anyone having to remember to bump a number.
pub fn derived_keys_version() -> AppResult<String> {
    let mut synth = Synthetic::new(0x5eed);
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let at = DateTime::<Utc>::UNIX_EPOCH;
    let mut probes = Vec::new();
    for i in 0..24u128 {
        let (input, kind) = if i % 2 == 0 {
            (synth.tracing_request(), RecordKind::TracingRequest)
        } else {
            (synth.custody_record(), RecordKind::CustodyRecord)
        };
        // The generator makes valid records; one it did not would simply not be a probe.
        let Ok(content) = input.parse(kind, today) else {
            continue;
        };
        probes.push(ChildRecord {
            id: RecordId(Uuid::from_u128(i + 1)),
            party_id: PartyId(Uuid::from_u128(1)),
            version: 1,
            content,
            created_at: at,
            created_by: UserId(Uuid::from_u128(1)),
            updated_at: at,
            updated_by: UserId(Uuid::from_u128(1)),
            deleted_at: None,
            deletion_reason: None,
            merged_into: None,
        });
    }
    let mut h = Sha256::new();
    for (r, keys) in probes.iter().zip(block_keys(&probes)?) {
        h.update(search_key(&r.content).as_bytes());
        h.update([0]);
        for k in keys {
            h.update(k.as_bytes());
            h.update([1]);
        }
        h.update([2]);
    }
    Ok(format!("keys-{}", &hex::encode(h.finalize())[..16]))
}

impl App {
    /// Recomputes every stored record's search key and blocking keys if they were computed
    /// differently from how this version computes them (or it is not known how). Derived data,
    /// like the keys written with each record: not audited on its own.
    pub async fn refresh_derived_keys(
        &self,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> AppResult<Refresh> {
        let version = derived_keys_version()?;
        if self.store.derived_keys_version().await?.as_deref() == Some(version.as_str()) {
            return Ok(Refresh::UpToDate);
        }
        let mut done = 0;
        for kind in [RecordKind::TracingRequest, RecordKind::CustodyRecord] {
            let mut after = None;
            loop {
                let page = self.store.records_of_kind(kind, after, BATCH).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                let searched: Vec<(RecordId, String)> = page
                    .iter()
                    .map(|r| (r.id, search_key(&r.content)))
                    .collect();
                let blocked: Vec<(RecordId, RecordKind, Vec<String>)> = page
                    .iter()
                    .zip(block_keys(&page)?)
                    .map(|(r, keys)| (r.id, kind, keys))
                    .collect();
                self.store.put_search_keys(&searched).await?;
                self.store.put_block_keys(&blocked).await?;
                done += page.len();
                progress(done);
                if page.len() < BATCH as usize {
                    break;
                }
            }
        }
        self.store.set_derived_keys_version(&version).await?;
        tracing::info!(records = done, %version, "derived keys recomputed");
        Ok(Refresh::Recomputed(done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_label_is_stable() {
        let a = derived_keys_version().expect("computes");
        assert_eq!(a, derived_keys_version().expect("computes"));
        assert!(a.starts_with("keys-") && a.len() == 21, "{a}");
    }
}
