//! Privacy-preserving linkage: the sides' encoded lists, the mediator's runs over them, and the
//! pairs each run found (references only) with where each pair stands
//! ([`homeward_domain::pprl::PairState`]).
//!
//! A run is enqueued as a [`PPRL_LINK`] job in the run's own transaction, like the matching of an
//! import. A pair's changes carry the state they were decided on, so two answers at once cannot
//! both move it; the candidate a pair becomes is stored in the same transaction as the answer
//! that completed it.

use crate::jobs::NewJob;
use crate::{NewCandidate, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use homeward_domain::pprl::PairState;
use homeward_domain::{AuditDraft, MatchId, PartyId, RecordId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kind of job that links two encoded lists.
pub const PPRL_LINK: &str = "pprl.link";

/// The idempotency key of a run's job.
pub fn pprl_link_key(run: Uuid) -> String {
    format!("{PPRL_LINK}:run:{run}")
}

/// The payload of a [`PPRL_LINK`] job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PprlLinkJob {
    pub run: Uuid,
    pub actor_user: Option<UserId>,
    pub actor_party: Option<PartyId>,
}

/// An encoded list as stored, without its content.
#[derive(Clone, Debug, PartialEq)]
pub struct PprlList {
    pub id: Uuid,
    pub party_id: PartyId,
    pub round: String,
    pub spec: String,
    pub key_id: String,
    pub records: i64,
    /// SHA-256 of the uploaded file, hex.
    pub sha256: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// A linkage of one origin list with one custody list.
#[derive(Clone, Debug, PartialEq)]
pub struct PprlRun {
    pub id: Uuid,
    pub round: String,
    pub origin_list: Uuid,
    pub custody_list: Uuid,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How many pairs the linkage kept, once finished.
    pub pairs: Option<i64>,
}

/// A pair a run found: one reference of each side, and where the exchange of clear records stands.
#[derive(Clone, Debug, PartialEq)]
pub struct PprlPair {
    pub id: Uuid,
    pub run_id: Uuid,
    pub origin_ref: String,
    pub custody_ref: String,
    pub state: PairState,
    pub origin_record: Option<RecordId>,
    pub custody_record: Option<RecordId>,
    pub match_id: Option<MatchId>,
    pub updated_at: DateTime<Utc>,
}

/// A change of one pair, valid only while it is still in `expected`. A record given is set (one
/// not given is kept).
#[derive(Clone, Debug, PartialEq)]
pub struct PairChange {
    pub id: Uuid,
    pub expected: PairState,
    pub state: PairState,
    pub origin_record: Option<RecordId>,
    pub custody_record: Option<RecordId>,
    pub at: DateTime<Utc>,
}

impl PairChange {
    /// `pair` moving to `state` at `at`, no clear record attached.
    pub fn to(pair: &PprlPair, state: PairState, at: DateTime<Utc>) -> PairChange {
        PairChange {
            id: pair.id,
            expected: pair.state,
            state,
            origin_record: None,
            custody_record: None,
            at,
        }
    }
}

/// The candidate a pair becomes once both clear records exist, with the audit entry to append
/// when it is new (the review queue may hold the pair already, from the ordinary matching).
#[derive(Clone, Debug)]
pub struct PairCandidate {
    pub pair: Uuid,
    pub candidate: NewCandidate,
    pub audit: AuditDraft,
}

#[async_trait]
pub trait PprlStore: Send + Sync {
    /// Stores an encoded list and `audit`, unless the round already holds a list of another
    /// spec or key id: then nothing is written and the round's `(spec, key_id)` is returned.
    /// Checked inside the transaction, so two first lists of a round cannot disagree.
    async fn insert_pprl_list(
        &self,
        list: &PprlList,
        content: &str,
        audit: AuditDraft,
    ) -> Result<Option<(String, String)>>;
    async fn get_pprl_list(&self, id: Uuid) -> Result<Option<PprlList>>;
    /// The uploaded file, for the linkage job.
    async fn pprl_list_content(&self, id: Uuid) -> Result<Option<String>>;
    /// Lists, newest first (`party`: that party's only).
    async fn list_pprl_lists(&self, party: Option<PartyId>) -> Result<Vec<PprlList>>;

    /// Stores a run, its job and `audit` in one transaction.
    async fn insert_pprl_run(&self, run: &PprlRun, job: &NewJob, audit: AuditDraft) -> Result<()>;
    async fn get_pprl_run(&self, id: Uuid) -> Result<Option<PprlRun>>;
    /// Runs, newest first.
    async fn list_pprl_runs(&self) -> Result<Vec<PprlRun>>;
    /// Stores the pairs a run found (state `proposed`) and marks it finished at `at`, with
    /// `audit`; `false` (nothing written) when it was finished already, so a job run twice
    /// stores its pairs once.
    async fn finish_pprl_run(
        &self,
        run: Uuid,
        pairs: &[(String, String)],
        at: DateTime<Utc>,
        audit: AuditDraft,
    ) -> Result<bool>;

    /// The pairs of a run, by origin reference; `audit` is appended in the read's transaction.
    async fn pprl_pairs_of_run(&self, run: Uuid, audit: AuditDraft) -> Result<Vec<PprlPair>>;
    /// The pairs holding a reference of `list` (through the runs that linked it), by run then
    /// reference; `audit` is appended in the read's transaction.
    async fn pprl_pairs_of_list(&self, list: Uuid, audit: AuditDraft) -> Result<Vec<PprlPair>>;
    /// One pair (for deciding a change on it; not audited on its own).
    async fn get_pprl_pair(&self, id: Uuid) -> Result<Option<PprlPair>>;
    /// Applies every change (each only while its pair is still in its `expected` state, else
    /// `Conflict::PprlPairChanged` and nothing is written), stores `candidate` (once per
    /// record pair: kept out when the queue holds it already) and links the pair to it, and
    /// appends `audit` (and the candidate's own entry when it was new), in one transaction.
    /// Returns the candidate's id.
    async fn change_pprl_pairs(
        &self,
        changes: &[PairChange],
        candidate: Option<PairCandidate>,
        audit: Vec<AuditDraft>,
    ) -> Result<Option<MatchId>>;
}

/// Implements [`PprlStore`] for `$store` (database `$db`).
macro_rules! impl_pprl {
    ($store:ident, $db:ty) => {
        mod pprl_impl {
            use super::$store;
            use crate::jobs::NewJob;
            use crate::pprl::{PairCandidate, PairChange, PprlList, PprlPair, PprlRun, PprlStore};
            use crate::rows::ts;
            use crate::{Result, StoreError};
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use homeward_domain::pprl::PairState;
            use homeward_domain::{AuditDraft, MatchId, PartyId, RecordId, UserId};
            use uuid::Uuid;

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;

            const LIST_COLUMNS: &str =
                "id, party_id, round, spec, key_id, records, sha256, created_by, created_at";
            const RUN_COLUMNS: &str =
                "id, round, origin_list_id, custody_list_id, created_by, created_at, finished_at, pairs";
            const PAIR_COLUMNS: &str = "p.id, p.run_id, p.origin_ref, p.custody_ref, p.state, p.origin_record_id, \
                 p.custody_record_id, p.match_id, p.updated_at";

            type ListRow = (Uuid, Uuid, String, String, String, i64, String, Uuid, DateTime<Utc>);
            type RunRow = (Uuid, String, Uuid, Uuid, Uuid, DateTime<Utc>, Option<DateTime<Utc>>, Option<i64>);
            type PairRow = (Uuid, Uuid, String, String, String, Option<Uuid>, Option<Uuid>, Option<Uuid>, DateTime<Utc>);

            fn list_of(r: ListRow) -> PprlList {
                PprlList {
                    id: r.0,
                    party_id: PartyId::from(r.1),
                    round: r.2,
                    spec: r.3,
                    key_id: r.4,
                    records: r.5,
                    sha256: r.6,
                    created_by: UserId::from(r.7),
                    created_at: r.8,
                }
            }

            fn run_of(r: RunRow) -> PprlRun {
                PprlRun {
                    id: r.0,
                    round: r.1,
                    origin_list: r.2,
                    custody_list: r.3,
                    created_by: UserId::from(r.4),
                    created_at: r.5,
                    finished_at: r.6,
                    pairs: r.7,
                }
            }

            fn pair_of(r: PairRow) -> Result<PprlPair> {
                let state = PairState::parse(&r.4)
                    .ok_or_else(|| StoreError::Corrupt(format!("pprl pair state {:?}", r.4)))?;
                Ok(PprlPair {
                    id: r.0,
                    run_id: r.1,
                    origin_ref: r.2,
                    custody_ref: r.3,
                    state,
                    origin_record: r.5.map(RecordId::from),
                    custody_record: r.6.map(RecordId::from),
                    match_id: r.7.map(MatchId::from),
                    updated_at: r.8,
                })
            }

            fn pairs_of(rows: Vec<PairRow>) -> Result<Vec<PprlPair>> {
                rows.into_iter().map(pair_of).collect()
            }

            impl $store {
                async fn change_pair_in(conn: &mut Conn, c: &PairChange) -> Result<()> {
                    let n = sqlx::query(
                        "UPDATE pprl_pairs SET state = $3, origin_record_id = COALESCE($4, origin_record_id), \
                         custody_record_id = COALESCE($5, custody_record_id), updated_at = $6 \
                         WHERE id = $1 AND state = $2",
                    )
                    .bind(c.id)
                    .bind(c.expected.as_str())
                    .bind(c.state.as_str())
                    .bind(c.origin_record.map(|r| r.0))
                    .bind(c.custody_record.map(|r| r.0))
                    .bind(ts(c.at))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        Ok(())
                    } else {
                        Err(StoreError::Conflict(crate::Conflict::PprlPairChanged))
                    }
                }

                /// Stores the candidate unless its record pair is stored already; links the pair
                /// to whichever candidate holds the record pair now.
                async fn pair_candidate_in(conn: &mut Conn, pc: &PairCandidate) -> Result<(MatchId, bool)> {
                    let c = &pc.candidate;
                    let inserted = sqlx::query(
                        "INSERT INTO match_candidates (id, tracing_record_id, custody_record_id, probability, match_weight, \
                         explanation, model_version, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) \
                         ON CONFLICT (tracing_record_id, custody_record_id) DO NOTHING",
                    )
                    .bind(c.id.0)
                    .bind(c.tracing_record_id.0)
                    .bind(c.custody_record_id.0)
                    .bind(c.probability)
                    .bind(c.match_weight)
                    .bind(c.explanation.as_str())
                    .bind(c.model_version.as_str())
                    .bind(ts(c.created_at))
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                        == 1;
                    let id: Uuid = sqlx::query_scalar(
                        "SELECT id FROM match_candidates WHERE tracing_record_id = $1 AND custody_record_id = $2",
                    )
                    .bind(c.tracing_record_id.0)
                    .bind(c.custody_record_id.0)
                    .fetch_one(&mut *conn)
                    .await?;
                    sqlx::query("UPDATE pprl_pairs SET match_id = $2 WHERE id = $1")
                        .bind(pc.pair)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    Ok((MatchId::from(id), inserted))
                }
            }

            #[async_trait]
            impl PprlStore for $store {
                async fn insert_pprl_list(
                    &self,
                    list: &PprlList,
                    content: &str,
                    audit: AuditDraft,
                ) -> Result<Option<(String, String)>> {
                    let mut tx = self.begin_write().await?;
                    // The entry first: appending takes the chain head's lock, which serialises
                    // this check with every other upload (a refusal rolls the entry back).
                    Self::append(&mut tx, vec![audit]).await?;
                    let round: Option<(String, String)> = sqlx::query_as(
                        "SELECT spec, key_id FROM pprl_lists WHERE round = $1 ORDER BY created_at, id LIMIT 1",
                    )
                    .bind(list.round.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some((spec, key_id)) = round {
                        if spec != list.spec || key_id != list.key_id {
                            return Ok(Some((spec, key_id)));
                        }
                    }
                    sqlx::query(
                        "INSERT INTO pprl_lists (id, party_id, round, spec, key_id, records, sha256, content, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(list.id)
                    .bind(list.party_id.0)
                    .bind(list.round.as_str())
                    .bind(list.spec.as_str())
                    .bind(list.key_id.as_str())
                    .bind(list.records)
                    .bind(list.sha256.as_str())
                    .bind(content)
                    .bind(list.created_by.0)
                    .bind(ts(list.created_at))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(None)
                }

                async fn get_pprl_list(&self, id: Uuid) -> Result<Option<PprlList>> {
                    let row: Option<ListRow> =
                        sqlx::query_as(&format!("SELECT {LIST_COLUMNS} FROM pprl_lists WHERE id = $1"))
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(list_of))
                }

                async fn pprl_list_content(&self, id: Uuid) -> Result<Option<String>> {
                    Ok(sqlx::query_scalar("SELECT content FROM pprl_lists WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?)
                }

                async fn list_pprl_lists(&self, party: Option<PartyId>) -> Result<Vec<PprlList>> {
                    let rows: Vec<ListRow> = sqlx::query_as(&format!(
                        "SELECT {LIST_COLUMNS} FROM pprl_lists WHERE ($1 IS NULL OR party_id = $1) \
                         ORDER BY created_at DESC, id DESC LIMIT 1000"
                    ))
                    .bind(party.map(|p| p.0))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(list_of).collect())
                }

                async fn insert_pprl_run(&self, run: &PprlRun, job: &NewJob, audit: AuditDraft) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO pprl_runs (id, round, origin_list_id, custody_list_id, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(run.id)
                    .bind(run.round.as_str())
                    .bind(run.origin_list)
                    .bind(run.custody_list)
                    .bind(run.created_by.0)
                    .bind(ts(run.created_at))
                    .execute(&mut *tx)
                    .await?;
                    Self::enqueue_in(&mut tx, job).await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await
                }

                async fn get_pprl_run(&self, id: Uuid) -> Result<Option<PprlRun>> {
                    let row: Option<RunRow> =
                        sqlx::query_as(&format!("SELECT {RUN_COLUMNS} FROM pprl_runs WHERE id = $1"))
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(run_of))
                }

                async fn list_pprl_runs(&self) -> Result<Vec<PprlRun>> {
                    let rows: Vec<RunRow> = sqlx::query_as(&format!(
                        "SELECT {RUN_COLUMNS} FROM pprl_runs ORDER BY created_at DESC, id DESC LIMIT 1000"
                    ))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(run_of).collect())
                }

                async fn finish_pprl_run(
                    &self,
                    run: Uuid,
                    pairs: &[(String, String)],
                    at: DateTime<Utc>,
                    audit: AuditDraft,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE pprl_runs SET finished_at = $2, pairs = $3 WHERE id = $1 AND finished_at IS NULL",
                    )
                    .bind(run)
                    .bind(ts(at))
                    .bind(i64::try_from(pairs.len()).unwrap_or(i64::MAX))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    for (origin_ref, custody_ref) in pairs {
                        sqlx::query(
                            "INSERT INTO pprl_pairs (id, run_id, origin_ref, custody_ref, state, updated_at) \
                             VALUES ($1, $2, $3, $4, 'proposed', $5)",
                        )
                        .bind(Uuid::now_v7())
                        .bind(run)
                        .bind(origin_ref.as_str())
                        .bind(custody_ref.as_str())
                        .bind(ts(at))
                        .execute(&mut *tx)
                        .await?;
                    }
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn pprl_pairs_of_run(&self, run: Uuid, audit: AuditDraft) -> Result<Vec<PprlPair>> {
                    let mut tx = self.begin_write().await?;
                    let rows: Vec<PairRow> = sqlx::query_as(&format!(
                        "SELECT {PAIR_COLUMNS} FROM pprl_pairs p WHERE p.run_id = $1 ORDER BY p.origin_ref, p.id"
                    ))
                    .bind(run)
                    .fetch_all(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    pairs_of(rows)
                }

                async fn pprl_pairs_of_list(&self, list: Uuid, audit: AuditDraft) -> Result<Vec<PprlPair>> {
                    let mut tx = self.begin_write().await?;
                    let rows: Vec<PairRow> = sqlx::query_as(&format!(
                        "SELECT {PAIR_COLUMNS} FROM pprl_pairs p JOIN pprl_runs r ON r.id = p.run_id \
                         WHERE r.origin_list_id = $1 OR r.custody_list_id = $1 ORDER BY r.created_at, r.id, p.id"
                    ))
                    .bind(list)
                    .fetch_all(&mut *tx)
                    .await?;
                    Self::append(&mut tx, vec![audit]).await?;
                    tx.commit().await?;
                    pairs_of(rows)
                }

                async fn get_pprl_pair(&self, id: Uuid) -> Result<Option<PprlPair>> {
                    let row: Option<PairRow> =
                        sqlx::query_as(&format!("SELECT {PAIR_COLUMNS} FROM pprl_pairs p WHERE p.id = $1"))
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    row.map(pair_of).transpose()
                }

                async fn change_pprl_pairs(
                    &self,
                    changes: &[PairChange],
                    candidate: Option<PairCandidate>,
                    audit: Vec<AuditDraft>,
                ) -> Result<Option<MatchId>> {
                    let mut tx = self.begin_write().await?;
                    for c in changes {
                        Self::change_pair_in(&mut tx, c).await?;
                    }
                    let mut audit = audit;
                    let mut match_id = None;
                    if let Some(pc) = candidate {
                        let (id, inserted) = Self::pair_candidate_in(&mut tx, &pc).await?;
                        if inserted {
                            audit.push(pc.audit);
                        }
                        match_id = Some(id);
                    }
                    Self::append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(match_id)
                }
            }
        }
    };
}
pub(crate) use impl_pprl;
